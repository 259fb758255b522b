/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Extents of a range of an endpoint, in order: clipped to the range,
 * adjacent extents of the same type merged, never empty, never
 * overlapping, covering the range exactly.
 *
 * Extents come from the endpoint's block-status op (NBD block status,
 * SEEK_DATA/SEEK_HOLE for files) through the engine in extents-engine.h,
 * which owns the protocol limits (32-bit request lengths, the server's
 * block size minimum and maximum, replies that cover less than asked or
 * start before or run past the request, malformed replies) and
 * pipelines: up to a window of block-status requests is in flight,
 * results come out in order, and memory is bounded by the window, not by
 * the number of extents.  Without structured replies or the context (or
 * for kinds without extents), the range is one data extent (flags 0) and
 * extents_fallback() says so.
 */
#ifndef NBDU_EXTENTS_H
#define NBDU_EXTENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "extents-engine.h"

struct endpoint;
struct extent_iter;

struct extents_opts {
	const char *context;	/* NULL: base:allocation */
	unsigned window;	/* requests in flight; 0: EXTENTS_WINDOW */
	/*
	 * A failed request is one data extent, and so is a malformed
	 * reply, with a warning naming its offset on stderr.  Otherwise
	 * both exit 1 naming the offset.
	 */
	bool errors_as_data;
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

#endif
