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

struct extents_opts {
	const char *context;	/* NULL: base:allocation */
	unsigned window;	/* requests in flight; 0: default */
	bool errors_as_data;	/* a failed request is one data extent */
};

struct extent_iter *extents_begin(struct endpoint *ep, uint64_t off,
    uint64_t len, const struct extents_opts *opts);

/* Fills e and returns true, or returns false at the end of the range. */
bool extents_next(struct extent_iter *it, struct extent *e);

/* True when the endpoint could not give real extents (one data run). */
bool extents_fallback(const struct extent_iter *it);

void extents_end(struct extent_iter *it);

#endif
