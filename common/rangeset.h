/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A set of byte ranges of an image, kept sorted and merged: what a
 * checkpoint claims is done, what --ranges and a dirty bitmap ask to copy.
 * Adding a range that touches or overlaps others merges them, so the set
 * stays as small as the ranges' layout allows.
 */
#ifndef NBDU_RANGESET_H
#define NBDU_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct range {
	uint64_t off;
	uint64_t len;
};

struct rangeset {
	struct range *r;	/* sorted by off, disjoint, never touching */
	size_t n, cap;
};

/* Adds [off, off+len); len 0 is ignored.  -1 (ENOMEM) or 0. */
int rangeset_add(struct rangeset *s, uint64_t off, uint64_t len);

/* Removes every byte of [off, off+len).  -1 (ENOMEM) or 0. */
int rangeset_remove(struct rangeset *s, uint64_t off, uint64_t len);

/* True if every byte of [off, off+len) is in the set (len 0: true). */
bool rangeset_covers(const struct rangeset *s, uint64_t off, uint64_t len);

/* Bytes in the set. */
uint64_t rangeset_bytes(const struct rangeset *s);

/*
 * The part of [off, end) that starts at off and is all in the set
 * (*in true) or all outside it (*in false): returns its length, > 0
 * while off < end.
 */
uint64_t rangeset_run(const struct rangeset *s, uint64_t off, uint64_t end,
    bool *in);

/*
 * Where the set's bytes in [off, end) begin and end: false if it has
 * none there.
 */
bool rangeset_span(const struct rangeset *s, uint64_t off, uint64_t end,
    uint64_t *first, uint64_t *last_end);

/* Keeps the first max ranges (lowest offsets) and drops the rest. */
void rangeset_truncate(struct rangeset *s, size_t max);

/* -1 (ENOMEM) or 0: dst becomes a copy of src. */
int rangeset_copy(struct rangeset *dst, const struct rangeset *src);

void rangeset_clear(struct rangeset *s);
void rangeset_free(struct rangeset *s);

#endif
