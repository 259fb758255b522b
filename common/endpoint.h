/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Endpoints: one small ops table over every kind of thing the tools read
 * or write (NBD, regular file, block device, pipe/stdio, null), one file
 * per kind (ep-nbd.c, ep-file.c, ep-block.c, ep-pipe.c, ep-null.c).
 * copy, dump and stat-map use only this table and extents.h; they never
 * touch ep->ops (nor an NBD endpoint's connection) directly, only the
 * ep_* functions below.
 *
 * Contract for every op: it either succeeds or exits 1 with a one-line
 * message naming the side ("source"/"destination"), the offset and the
 * error, so callers stay linear.  Asynchronous ops report errors through
 * their callback instead, so the caller can name what failed.
 */
#ifndef NBDU_ENDPOINT_H
#define NBDU_ENDPOINT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "ep-arg.h"

struct conn;
struct endpoint;

enum ep_mode { EP_READ, EP_WRITE };

/*
 * Completion of an asynchronous command: err is 0 or an errno value.
 * It runs inside ep_poll() or an ep_aio_* call on the same endpoint
 * (local kinds: before the aio call returns), in the calling thread.
 *
 * An endpoint is used by one thread at a time, extents iterators
 * included: one that runs while another thread does I/O needs an
 * endpoint of its own (ep_reopen()).
 */
typedef void (*ep_done_fn)(void *opaque, int err);

/*
 * One block-status reply chunk for the context asked: nr_entries 32-bit
 * words, (length, flags) pairs describing the bytes from off on, as the
 * server sent them (extents-engine.c checks them).
 */
typedef void (*ep_extent_fn)(void *opaque, uint64_t off,
    const uint32_t *entries, size_t nr_entries);

struct endpoint_ops {
	const char *kind;	/* "nbd", "file", "block", "pipe", "null" */

	/*
	 * The ops return 0 or an errno value and never exit; the ep_*
	 * wrappers below turn errors into ep_die().
	 *
	 * read: reads len bytes at off into buf and sets *got to len;
	 * on a stream off is ignored and *got may be short (0 at EOF).
	 */
	int (*read)(struct endpoint *, void *buf, size_t len, uint64_t off,
	    size_t *got);
	int (*write)(struct endpoint *, const void *buf, size_t len,
	    uint64_t off);
	/*
	 * Makes [off, off+len) read as zeroes the cheapest correct way for
	 * the kind; with allocate, the range must end up allocated.
	 */
	int (*zero)(struct endpoint *, uint64_t off, uint64_t len,
	    bool allocate);
	int (*flush)(struct endpoint *);

	/*
	 * Asynchronous forms (NBD); NULL means the wrapper runs the
	 * synchronous op and calls done before returning.  Any length is
	 * accepted: the kind splits requests to its limits.
	 */
	void (*aio_read)(struct endpoint *, void *buf, size_t len,
	    uint64_t off, ep_done_fn, void *opaque);
	void (*aio_write)(struct endpoint *, const void *buf, size_t len,
	    uint64_t off, ep_done_fn, void *opaque);
	void (*aio_zero)(struct endpoint *, uint64_t off, uint64_t len,
	    bool allocate, ep_done_fn, void *opaque);
	/* Blocks until a command in flight completes (or a signal came). */
	void (*poll)(struct endpoint *);
	unsigned (*in_flight)(struct endpoint *);
	/*
	 * For ep_try_poll(): the fd to wait on and the poll(2) events it
	 * needs (-1 if none), and the hook to run when it is ready (0 or an
	 * errno value: the connection is dead, its commands failed).  With
	 * ep_retry set, either may first mend a fault (wait, reconnect,
	 * send again), so it may block up to the retry delay.
	 */
	int (*poll_fd)(struct endpoint *, short *events);
	int (*poll_notify)(struct endpoint *, short revents);

	/*
	 * Block status of [off, off+len) in the meta context: extent runs
	 * for each reply chunk, then done once.  Asynchronous for NBD (the
	 * command counts in in_flight and completes in poll, like a read);
	 * files answer from SEEK_DATA/SEEK_HOLE before returning.  NULL:
	 * the range is all data.  The caller keeps to the server's limits
	 * (block_min alignment, 32 bits): the op never splits.
	 */
	void (*aio_block_status)(struct endpoint *, const char *context,
	    uint64_t off, uint32_t len, ep_extent_fn extent, ep_done_fn done,
	    void *opaque);
	/* True if block status knows context (NULL: never). */
	bool (*has_context)(const struct endpoint *, const char *context);
	/*
	 * Runs fn(arg) once nothing in flight can call back into arg any
	 * more (NBD: after the handle is closed); NULL: at once.
	 */
	void (*free_later)(struct endpoint *, void (*fn)(void *), void *arg);

	/*
	 * Another endpoint on the same data for a worker thread (a new NBD
	 * connection, a dup'd fd); NULL when that is not possible.
	 */
	struct endpoint *(*reopen)(struct endpoint *);
	void (*close)(struct endpoint *);
};

/*
 * What was asked of an endpoint and of every endpoint reopened from it,
 * counted by the ep_* wrappers as requests are issued (failed ones
 * included), so nbd-copy --report needs nothing from the engines.
 */
enum ep_request {
	EP_REQ_READ, EP_REQ_WRITE, EP_REQ_ZERO, EP_REQ_BLOCK_STATUS,
	EP_REQ_FLUSH, EP_REQ_KINDS
};

struct ep_stats {
	_Atomic uint64_t requests[EP_REQ_KINDS];
	_Atomic uint64_t bytes[EP_REQ_KINDS];	/* the lengths asked */
	_Atomic uint64_t connections;	/* ep_open and each ep_reopen */
};

struct endpoint {
	const struct endpoint_ops *ops;
	const char *name;	/* for messages: never holds a password */
	const char *side;	/* "source", "destination", or the tool's word */
	int64_t size;		/* -1: streams (unknown), null: (unbounded) */
	uint32_t block_min;	/* smallest unit of I/O (1 if none) */
	uint32_t block_pref;	/* preferred request size */
	uint32_t block_max;	/* largest request (>= block_min) */
	/* The server's minimum and maximum as advertised; 0: none (NBD). */
	uint32_t advertised_min, advertised_max;
	/*
	 * Longest read the server serves at the cost per byte of shorter
	 * ones; 0: none known.  A limit of its cost, not of the protocol:
	 * longer reads are still correct.
	 */
	uint32_t read_cheap_max;
	bool is_stream;		/* in-order I/O only: pipes, stdio */
	bool known_zero;	/* reads as zeroes now (a file just created) */
	bool read_only;
	bool can_zero_fast;	/* zeroing is cheaper than writing zeroes */
	bool can_multi_conn;	/* reopen() gives a consistent view */
	bool has_extents;	/* block status can tell real holes */
	bool discards;		/* null: what is written is thrown away */
	struct conn *conn;	/* NBD kinds only, for ep_die() */
	struct ep_stats *stats;	/* the caller's, or NULL: not counted */
	/*
	 * Why the last command failed, when the kind knows better than
	 * errno: the rule a server broke (EPROTO), or libnbd's reason a
	 * connection died.  Only the kind writes it.
	 */
	char error_detail[256];
};

/*
 * What an NBD endpoint does about a server that fails (nbd-copy's
 * --timeout, --retries, --retry-delay); all zero: nothing, as before.
 */
struct ep_retry {
	int64_t timeout_ns;	/* connect, and oldest command in flight */
	unsigned retries;	/* consecutive faults survived */
	int64_t delay_ns;	/* before the first retry, then doubled */
};

struct ep_open_opts {
	enum ep_mode mode;
	const char *side;		/* for error messages */
	const char *context;		/* meta context (NULL: base:allocation) */
	const char *also_context;	/* NBD: one more, asked beside it */
	bool no_context;		/* do not ask for any meta context */
	bool create;			/* EP_WRITE file: create if missing */
	/*
	 * EP_WRITE regular file: discard its old contents (truncate to 0,
	 * then extend to resize_to), so it is known_zero afterwards.
	 */
	bool resize;
	uint64_t resize_to;
	struct ep_retry retry;		/* NBD kinds only */
	struct ep_stats *stats;		/* counts requests if not NULL */
};

/*
 * Opens what arg names, exiting 1 with a message if it cannot be opened
 * for mode or is not allowed for it (stdout that is a terminal, a
 * directory, ...).
 */
struct endpoint *ep_open(const struct ep_arg *arg,
    const struct ep_open_opts *opts);

/*
 * An endpoint over a connection the caller opened with conn.h and keeps:
 * ep_close() leaves the connection open.  (nbd-info reads through it.)
 */
struct endpoint *ep_nbd_adopt(struct conn *c, const char *side);

/* The wrappers tools call.  These exit 1 on error via ep_die(). */
size_t ep_read(struct endpoint *ep, void *buf, size_t len, uint64_t off);
void ep_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off);
void ep_zero(struct endpoint *ep, uint64_t off, uint64_t len, bool allocate);
void ep_flush(struct endpoint *ep);
void ep_aio_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    ep_done_fn done, void *opaque);
void ep_aio_write(struct endpoint *ep, const void *buf, size_t len,
    uint64_t off, ep_done_fn done, void *opaque);
void ep_aio_zero(struct endpoint *ep, uint64_t off, uint64_t len,
    bool allocate, ep_done_fn done, void *opaque);
void ep_aio_block_status(struct endpoint *ep, const char *context,
    uint64_t off, uint32_t len, ep_extent_fn extent, ep_done_fn done,
    void *opaque);
void ep_poll(struct endpoint *ep);
unsigned ep_in_flight(struct endpoint *ep);
struct endpoint *ep_reopen(struct endpoint *ep);
void ep_close(struct endpoint *ep);

/* "nbd", "file", "block", "pipe" or "null". */
const char *ep_kind(const struct endpoint *ep);

/* True if block status can answer for the meta context. */
bool ep_has_context(const struct endpoint *ep, const char *context);

/* See endpoint_ops.free_later. */
void ep_free_later(struct endpoint *ep, void (*fn)(void *), void *arg);

/* Non-exiting forms for worker threads: 0 or an errno value. */
int ep_try_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    size_t *got);
int ep_try_write(struct endpoint *ep, const void *buf, size_t len,
    uint64_t off);
int ep_try_zero(struct endpoint *ep, uint64_t off, uint64_t len,
    bool allocate);
int ep_try_flush(struct endpoint *ep);

/*
 * Waits up to timeout_ms for any of the n endpoints (NBD ones with
 * commands in flight; others are skipped) and runs their completions,
 * so one thread can drive a source and a destination at once.  Returns
 * 0 (also on timeout and on a signal), or an errno value with *failed
 * set to the endpoint whose connection died.
 */
int ep_try_poll(struct endpoint *const *eps, size_t n, int timeout_ms,
    struct endpoint **failed);

/*
 * Retries made so far by every NBD endpoint of the process (each one
 * printed on stderr), for a report.  Safe from any thread.
 */
uint64_t ep_retries(void);

/* True if both name the same local file (inode), hard links included. */
bool ep_same_file(const struct endpoint *a, const struct ep_arg *b);

/*
 * "PROG: SIDE: NAME: what at offset N: strerror(err)", exit 1;
 * error_detail replaces strerror when the kind left one.
 */
NORETURN void ep_die(const struct endpoint *ep, const char *what,
    uint64_t off, int err);

#endif
