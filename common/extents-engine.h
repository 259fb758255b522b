/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine behind extents_next() (extents.h), with no I/O, so unit
 * tests and the fuzz target can feed it raw block-status replies.  The
 * driver loops: it sends each request extents_engine_request() hands
 * out, passes every reply chunk for the context to extents_engine_reply()
 * and each completion to extents_engine_done(), and pulls results with
 * extents_engine_next(), which says EXTENTS_WAIT when it needs more
 * replies first.
 *
 * Requests start at multiples of block_min, end at one (or at size),
 * never exceed UINT32_MAX (nor block_max when the server set one), and
 * at most window are out at once.  A reply covering less than asked is
 * asked again for the rest, split into pieces the size of what it did
 * cover so the rest goes out in parallel too.  Extents before the
 * request or already covered by an earlier chunk are dropped, and only
 * the last extent of a chunk may run past the request: it is clipped.
 *
 * A malformed reply (SPEC 1.2: an extent other than the last ending past
 * the request, a zero-length extent, no extents) is trusted in no part.
 * With errors_as_data its whole range is one data extent and
 * extents_engine_next() says EXTENTS_WARN once before it; otherwise it
 * is an error.
 *
 * Requests grow from what replies cover (a last extent running past the
 * request counts too: it says where the next data is) up to the 32-bit
 * limit, aligned down to block_min, so a sparse map costs a few round
 * trips of ~4 GiB requests.  While they still grow, only a server's
 * worth of them (16) is out at once; then the whole window.  Once a
 * reply has come back short, requests are as long as one reply is
 * expected to cover (the most extents the server sent in a reply, times
 * their typical length), within the memory budget, so every request in
 * the window is answered whole and the window stays full however few
 * extents the server gives per reply.
 */
#ifndef NBDU_EXTENTS_ENGINE_H
#define NBDU_EXTENTS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

struct extents_engine;
struct extents_req;

enum extents_status {
	EXTENTS_HAVE,		/* *e is the next extent */
	EXTENTS_END,		/* the range is done */
	EXTENTS_WAIT,		/* send requests, wait for replies, retry */
	EXTENTS_WARN,		/* a malformed reply, read as data: see error */
	EXTENTS_ERROR,		/* see extents_engine_error() */
};

struct extents_engine *extents_engine_new(uint64_t off, uint64_t len,
    uint64_t size, uint32_t block_min, uint32_t block_max, unsigned window,
    bool errors_as_data);

/* The next request to send, or NULL if none now. */
struct extents_req *extents_engine_request(struct extents_engine *eng,
    uint64_t *off, uint32_t *len);

/* One reply chunk: entries, nr_entries 32-bit words from off. */
void extents_engine_reply(struct extents_req *r, uint64_t off,
    const uint32_t *entries, size_t nr_entries);

/* The request completed; err is 0 or an errno value. */
void extents_engine_done(struct extents_req *r, int err);

enum extents_status extents_engine_next(struct extents_engine *eng,
    struct extent *e);

/*
 * After EXTENTS_ERROR or EXTENTS_WARN: the errno value (EPROTO for a
 * malformed reply), the offset of the request that failed or was
 * malformed, and *why, "malformed reply (...)" or NULL for a failure.
 */
int extents_engine_error(const struct extents_engine *eng, uint64_t *off,
    const char **why);

unsigned extents_engine_in_flight(const struct extents_engine *eng);

/* Half-empty: worth sending more before the results buffered run out. */
bool extents_engine_hungry(const struct extents_engine *eng);

void extents_engine_free(struct extents_engine *eng);

#endif
