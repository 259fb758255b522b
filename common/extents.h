/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Extents of a range of an endpoint, in order: clipped to the range,
 * adjacent extents of the same type merged, never empty, never
 * overlapping, covering the range exactly.
 *
 * For NBD this owns the protocol limits (32-bit request lengths, the
 * server's block size minimum and maximum, replies that cover less than
 * asked or start before or run past the request) and pipelines: up to a
 * window of block-status requests is in flight, results come out in
 * order, and memory is bounded by the window, not by the number of
 * extents.  Local files use SEEK_DATA/SEEK_HOLE.  Without structured
 * replies or the context (or for kinds without extents), the range is
 * one data extent (flags 0) and extents_fallback() says so.
 */
#ifndef NBDU_EXTENTS_H
#define NBDU_EXTENTS_H

#include <stdbool.h>
#include <stdint.h>

struct endpoint;
struct extent_iter;

/* base:allocation flags, as in the NBD protocol. */
#define EXTENT_HOLE	1u
#define EXTENT_ZERO	2u

struct extent {
	uint64_t offset;
	uint64_t length;
	uint32_t flags;		/* the context's raw value */
};

/*
 * Requests in flight by default: deep enough to keep a server with many
 * threads busy over a slow link when it answers a few extents at a time.
 */
#define EXTENTS_WINDOW	256

struct extents_opts {
	const char *context;	/* NULL: base:allocation */
	unsigned window;	/* requests in flight; 0: EXTENTS_WINDOW */
	bool errors_as_data;	/* a failed request is one data extent */
	/*
	 * On SIGINT/SIGTERM, end the range early instead of exiting: a
	 * copy worker thread must not exit under the others.  The caller
	 * then sees cli_interrupted.
	 */
	bool end_on_signal;
};

struct extent_iter *extents_begin(struct endpoint *ep, uint64_t off,
    uint64_t len, const struct extents_opts *opts);

/* Fills e and returns true, or returns false at the end of the range. */
bool extents_next(struct extent_iter *it, struct extent *e);

/* True when the endpoint could not give real extents (one data run). */
bool extents_fallback(const struct extent_iter *it);

void extents_end(struct extent_iter *it);

/*
 * The engine behind extents_next() for NBD, with no I/O, so unit tests
 * can feed it raw block-status replies.  The driver loops: it sends each
 * request extents_engine_request() hands out, passes every reply chunk
 * for the context to extents_engine_reply() and each completion to
 * extents_engine_done(), and pulls results with extents_engine_next(),
 * which says EXTENTS_WAIT when it needs more replies first.
 *
 * Requests start at multiples of block_min, end at one (or at size),
 * never exceed UINT32_MAX (nor block_max when the server set one), and
 * at most window are out at once.  A reply covering less than asked is
 * asked again for the rest, split into pieces the size of what it did
 * cover so the rest goes out in parallel too.  Extents outside the
 * request, already covered, or empty are dropped; a reply that covers
 * nothing is an error ("server did not return any extents").
 *
 * Once a reply has come back short, requests are as long as one reply
 * is expected to cover (the most extents the server sent in a reply,
 * times their typical length), within the memory budget, so every
 * request in the window is answered whole and the window stays full
 * however few extents the server gives per reply.
 */
struct extents_engine;
struct extents_req;

enum extents_status {
	EXTENTS_HAVE,		/* *e is the next extent */
	EXTENTS_END,		/* the range is done */
	EXTENTS_WAIT,		/* send requests, wait for replies, retry */
	EXTENTS_ERROR,		/* see extents_engine_error() */
};

struct extents_engine *extents_engine_new(uint64_t off, uint64_t len,
    uint64_t size, uint32_t block_min, uint32_t block_max, unsigned window,
    bool errors_as_data);

/* The next request to send, or NULL if none now. */
struct extents_req *extents_engine_request(struct extents_engine *eng,
    uint64_t *off, uint32_t *len);

/* One reply chunk: libnbd's entries, nr_entries 32-bit words from off. */
void extents_engine_reply(struct extents_req *r, uint64_t off,
    const uint32_t *entries, size_t nr_entries);

/* The request completed; err is 0 or an errno value. */
void extents_engine_done(struct extents_req *r, int err);

enum extents_status extents_engine_next(struct extents_engine *eng,
    struct extent *e);

/* After EXTENTS_ERROR: why, and the offset of the failed request. */
const char *extents_engine_error(const struct extents_engine *eng,
    uint64_t *off);

unsigned extents_engine_in_flight(const struct extents_engine *eng);

void extents_engine_free(struct extents_engine *eng);

#endif
