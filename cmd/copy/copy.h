/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbd-copy's cross-file declarations: its options and its two engines. */
#ifndef NBDU_COPY_H
#define NBDU_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkhash.h"
#include "ep-arg.h"
#include "extents.h"
#include "progress.h"
#include "rangeset.h"

struct checkpoint;
struct endpoint;

#define COPY_MAX_REQUEST	(32 * 1024 * 1024)	/* NBD's payload limit */
#define COPY_MIN_REQUEST	4096

/*
 * Called for every piece of the source as it is copied, with its offset:
 * buf holds len bytes of data, or is NULL for a range known to read as
 * zeroes (a hole that was not read).  Pieces do not overlap and together
 * cover the source once; the async engine calls it from its workers in
 * any order, the sync engine in offset order.  This is where --blkhash
 * plugs in.
 */
typedef void (*copy_hook_fn)(void *opaque, uint64_t off, const void *buf,
    size_t len);

struct copy_opts {
	struct ep_arg src, dst;
	int allocated;		/* --allocated */
	unsigned connections;	/* -C: most connections per side */
	int dst_is_zero;	/* --destination-is-zero, --target-is-zero */
	int flush;		/* --flush */
	int no_extents;		/* --no-extents */
	int progress_bar;	/* -p, --progress */
	int progress_fd;	/* --progress=FD, or -1 */
	int progress_json_fd;	/* --progress-json[=FD], or -1 */
	int report;		/* --report[=FILE] */
	char *report_file;	/* --report=FILE, NULL: stdout */
	uint64_t queue_size;	/* --queue-size: bytes in flight per worker */
	bool queue_size_set;	/* given: never adapted to latency */
	uint64_t request_size;	/* --request-size */
	bool request_size_set;	/* given: never adapted to latency */
	uint64_t request_max;	/* largest request both sides take */
	unsigned requests;	/* -R: requests in flight per connection */
	bool requests_set;	/* given: never adapted to latency */
	uint64_t sparse;	/* -S: zero-run detection unit, 0 = off */
	bool sparse_set;
	int synchronous;	/* --synchronous */
	unsigned threads;	/* -T, 0 = one per core */
	int blkhash;		/* --blkhash: print the digest */
	struct blkhash_params hash;	/* --blkhash=ALG/SIZE, or sha256/64k */
	char *blkhash_file;	/* --blkhash-file, NULL: stdout */
	char *check_text;	/* --check=HEX (popt's string) */
	char *check_file;	/* --check-file */
	char check[BLKHASH_HEX_MAX];	/* expected digest, "" if none */
	int verify;		/* --verify */
	char *checkpoint;	/* --checkpoint=FILE, or NULL */

	/*
	 * NULL: copy the whole source.  Otherwise only these ranges are
	 * read and written (a resumed or an incremental copy), each made
	 * whole blocks of the destination by copy_todo_align(); the rest of
	 * the destination is left as it is.
	 */
	const struct rangeset *todo;
	const char *selection;	/* the option that chose todo, if any */

	/* Settled by main's tune(), read by the engines. */
	unsigned workers;
	struct progress progress;
	copy_hook_fn hook;	/* NULL: nothing watches the data */
	void *hook_opaque;
	struct checkpoint *ckpt;	/* --checkpoint, or NULL */
};

/* In order, one request at a time: streams and --synchronous. */
void copy_sync(struct endpoint *src, struct endpoint *dst,
    struct copy_opts *opts);

/* Requests in flight on every connection, opts->workers threads. */
void copy_async(struct endpoint *src, struct endpoint *dst,
    struct copy_opts *opts);

/*
 * What both engines do the same way (plan.c), settled once per copy:
 * the destination's block (every write and zero starts on one and
 * covers whole ones, except at the end of the source), whether zero
 * ranges need anything written, and the zero-detection unit.
 */
#define COPY_ZERO_MAX	(1ULL << 30)	/* one zeroing request, at most */

struct copy_plan {
	uint32_t align;		/* the destination's minimum block size */
	uint64_t sparse;	/* zero detection unit, 0: off */
	bool skip_zeroes;	/* zero ranges need nothing written */
};

/* o->sparse is already whole blocks of dst (main's tune()). */
void copy_plan_init(struct copy_plan *p, const struct endpoint *dst,
    const struct copy_opts *o);
/* A request size n made whole blocks: at least one. */
uint64_t copy_plan_request(const struct copy_plan *p, uint64_t n);
/*
 * The bytes of a segment at off the engines copy as one piece: data
 * pieces end on request-size (rs) boundaries, zero pieces stop at
 * COPY_ZERO_MAX.
 */
uint64_t copy_plan_piece(uint64_t off, uint64_t len, uint64_t rs, bool zero);
/* Where the source's whole blocks end; the bytes after are its tail. */
uint64_t copy_plan_body_end(const struct copy_plan *p, uint64_t size);
/* True if any byte of [off, off+len) is to be copied (o->todo). */
bool copy_plan_wanted(const struct copy_opts *o, uint64_t off, uint64_t len);
/*
 * Rounds every range of todo out to whole blocks of align, within size
 * (the source's): a block the destination takes whole is copied whole.
 * -1 (ENOMEM) or 0.
 */
int copy_todo_align(struct rangeset *todo, uint32_t align, uint64_t size);
/*
 * The tail: len bytes at off (a block boundary), less than a block, at
 * the end of the source.  The destination's bytes past them in the same
 * block are read and written back with them, so they stay as they were.
 * data holds the source's bytes, or is NULL to read them from src.
 * Exits 1 on error: only the main thread may call it.
 */
void copy_plan_tail(const struct copy_plan *p, struct endpoint *src,
    struct endpoint *dst, struct copy_opts *o, uint64_t off, size_t len,
    const void *data);

/*
 * The source range as the engines consume it (segments.c): each call
 * gives the next segment, data to read or a range that reads as zeroes.
 * Segments start on align; zero segments are whole blocks of holes, and
 * a block that is not all hole is part of a data segment.  With a todo
 * set, only its parts of the range are given, and the extents are asked
 * only from its first byte in the range to its last.
 */
struct copy_segments {
	const struct rangeset *todo;	/* NULL: all of the range */
	uint64_t clip_off, clip_len;	/* a segment not yet clipped to todo */
	bool clip_zero;
	struct extent_iter *it;	/* NULL: the range is all data */
	uint64_t off;		/* without it: the part not yet fetched */
	uint64_t pos, end;	/* the part not yet handed out */
	uint32_t align;
	struct extent cur;	/* the extent that holds pos, once have */
	bool have;
};

void copy_segments_begin(struct copy_segments *s, struct endpoint *src,
    uint64_t off, uint64_t len, uint32_t align, bool use_extents,
    const struct rangeset *todo);
bool copy_segments_next(struct copy_segments *s, uint64_t *off,
    uint64_t *len, bool *zero);
void copy_segments_end(struct copy_segments *s);

/* True if the destination throws away what it is given (null:). */
bool copy_dst_discards(const struct endpoint *dst);

bool copy_is_zero(const void *buf, size_t len);

/*
 * --blkhash and --check (checksum.c): checksum_begin installs the hook
 * that hashes every piece the engines copy; called after
 * checkpoint_begin, it starts a resume's hash from the checkpoint's
 * state and hashes from src what of the done part that leaves.
 * checksum_end, after a successful copy, gives the digest of the image
 * as copied (length: the source's size, or what a stream gave), exiting
 * 1 if the hook did not see every byte exactly once.
 */
struct checksum;
struct checksum *checksum_begin(struct copy_opts *opts,
    struct endpoint *src);
/*
 * Hashes ranges of ep that the copy does not pass through the hook: the
 * done part of a resumed copy (from the source), the clean part of an
 * incremental one (from the destination).  Main thread only.
 */
void checksum_fill(struct checksum *cs, struct endpoint *ep,
    const struct rangeset *ranges, const struct copy_opts *o);
void checksum_end(struct checksum *cs, const struct endpoint *src,
    char hex[BLKHASH_HEX_MAX]);

/*
 * --verify (verify.c): verify_possible exits 1 before the copy when
 * either side cannot be read again (dst NULL: only the source, checked
 * before opening the destination truncates it); verify_copy reads the
 * destination back and compares it with the source, and returns false
 * after a message listing the first differing byte ranges.
 */
void verify_possible(const struct endpoint *src, const struct endpoint *dst);
/* Compares only the todo ranges; NULL: the whole source. */
bool verify_copy(struct endpoint *src, struct endpoint *dst,
    const struct rangeset *todo);

/*
 * --dirty-bitmap (dirty.c): dirty_context gives the meta context of
 * bitmap NAME (the caller frees it); dirty_ranges adds what it marks
 * dirty in src to todo, or exits 1 naming the contexts the server
 * offers when it lacks ctx (arg: src's, to ask again).
 */
char *dirty_context(const char *name);
void dirty_ranges(struct endpoint *src, const struct ep_arg *arg,
    const char *ctx, struct rangeset *todo);

/*
 * --destination-is-zero (zero-check.c): exits 1 naming the first offset
 * of the todo ranges (NULL: [0, size)) that dst does not report as
 * reading zero, before anything is written.  A destination that cannot
 * report extents is trusted, with a note.
 */
void zero_check(struct endpoint *dst, uint64_t size,
    const struct rangeset *todo);

/*
 * The run of buf (len bytes read at image offset off) that starts at
 * pos: returns its length (> 0 while pos < len) and sets *zero when it
 * is whole -S units, aligned to the image, that read as zeroes.  With
 * sparse 0 everything is one data run.
 */
size_t copy_next_run(const void *buf, uint64_t off, size_t len, size_t pos,
    uint64_t sparse, bool *zero);

#endif
