/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Endpoints: one small ops table over every kind of thing the tools read
 * or write (NBD, regular file, block device, pipe/stdio, null), one file
 * per kind (ep-nbd.c, ep-file.c, ep-block.c, ep-pipe.c, ep-null.c).
 * copy, dump and stat-map use only this table and extents.h; they never
 * touch ep->ops directly, only the ep_* wrappers below.
 *
 * Contract for every op: it either succeeds or exits 1 with a one-line
 * message naming the side ("source"/"destination"), the offset and the
 * error, so callers stay linear.  Asynchronous ops report errors through
 * their callback instead, so the caller can name what failed.
 */
#ifndef NBDU_ENDPOINT_H
#define NBDU_ENDPOINT_H

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
 * It runs from ep_poll() (NBD) or before the aio call returns (local
 * kinds), never from another thread.
 */
typedef void (*ep_done_fn)(void *opaque, int err);

struct endpoint_ops {
	const char *kind;	/* "nbd", "file", "block", "pipe", "null" */

	/*
	 * Reads len bytes at off.  Returns len, except on a stream, where
	 * it returns what it could read before EOF (0 at EOF; off is
	 * ignored).
	 */
	size_t (*read)(struct endpoint *, void *buf, size_t len, uint64_t off);
	void (*write)(struct endpoint *, const void *buf, size_t len,
	    uint64_t off);
	/*
	 * Makes [off, off+len) read as zeroes the cheapest correct way for
	 * the kind; with allocate, the range must end up allocated.
	 */
	void (*zero)(struct endpoint *, uint64_t off, uint64_t len,
	    bool allocate);
	void (*flush)(struct endpoint *);

	/* Asynchronous forms; NULL means use the synchronous op. */
	void (*aio_read)(struct endpoint *, void *buf, size_t len,
	    uint64_t off, ep_done_fn, void *opaque);
	void (*aio_write)(struct endpoint *, const void *buf, size_t len,
	    uint64_t off, ep_done_fn, void *opaque);
	void (*aio_zero)(struct endpoint *, uint64_t off, uint64_t len,
	    bool allocate, ep_done_fn, void *opaque);
	/* Blocks until at least one command in flight completes. */
	void (*poll)(struct endpoint *);
	unsigned (*in_flight)(struct endpoint *);

	/*
	 * Local kinds only (file, block): the allocation at off, one extent
	 * at a time from SEEK_DATA/SEEK_HOLE: sets *len (> 0, within
	 * [off, end)) and returns true for data, false for a hole.  NBD
	 * extents come from extents.c over the connection.
	 */
	bool (*local_extent)(struct endpoint *, uint64_t off, uint64_t end,
	    uint64_t *len);

	/*
	 * Another endpoint on the same data for a worker thread (a new NBD
	 * connection, a dup'd fd); NULL when that is not possible.
	 */
	struct endpoint *(*reopen)(struct endpoint *);
	void (*close)(struct endpoint *);
};

struct endpoint {
	const struct endpoint_ops *ops;
	const char *name;	/* for messages: never holds a password */
	const char *side;	/* "source", "destination", or the tool's word */
	int64_t size;		/* -1 for streams */
	uint32_t block_min;	/* smallest unit of I/O (1 if none) */
	uint32_t block_pref;	/* preferred request size */
	uint32_t block_max;	/* largest request (>= block_min) */
	bool is_stream;		/* in-order I/O only: pipes, stdio */
	bool known_zero;	/* reads as zeroes now (a file just created) */
	bool read_only;
	bool can_zero_fast;	/* zeroing is cheaper than writing zeroes */
	bool can_multi_conn;	/* reopen() gives a consistent view */
	bool has_extents;	/* extents.c can learn real holes */
	struct conn *conn;	/* NBD kinds only */
};

struct ep_open_opts {
	enum ep_mode mode;
	const char *side;		/* for error messages */
	const char *context;		/* meta context (NULL: base:allocation) */
	bool no_context;		/* do not ask for any meta context */
	bool create;			/* EP_WRITE file: create if missing */
	int64_t set_size;		/* >= 0: resize a regular file to it */
};

/*
 * Opens what arg names, exiting 1 with a message if it cannot be opened
 * for mode or is not allowed for it (stdout that is a terminal, a
 * directory, ...).
 */
struct endpoint *ep_open(const struct ep_arg *arg,
    const struct ep_open_opts *opts);

/* The wrappers tools call.  All exit on error as the table says. */
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
void ep_poll(struct endpoint *ep);
unsigned ep_in_flight(struct endpoint *ep);
struct endpoint *ep_reopen(struct endpoint *ep);
void ep_close(struct endpoint *ep);

/* "PROG: SIDE: NAME: what at offset N: strerror(err)", exit 1. */
NORETURN void ep_die(const struct endpoint *ep, const char *what,
    uint64_t off, int err);

#endif
