/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which bytes of one read request the server's reply chunks have covered.
 * The Structured Reply extension lets a server answer a read in chunks in
 * any order; a client must reject an offset covered twice and a
 * successful reply that leaves bytes uncovered (SPEC 1.2).  Pure, so the
 * fuzzer can drive it.
 */
#ifndef NBDU_COVER_H
#define NBDU_COVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cover {
	uint64_t (*iv)[2];	/* [start, end), sorted, adjacent ones merged */
	size_t n, cap;
};

/*
 * Records [lo, hi) (lo < hi) as covered.  Returns false if any byte of it
 * was covered before (or memory ran out); the cover is then unchanged.
 */
bool cover_add(struct cover *cv, uint64_t lo, uint64_t hi);

/*
 * True if exactly [0, len) is covered.  Otherwise *first_gap is the
 * first byte not covered.
 */
bool cover_complete(const struct cover *cv, uint64_t len, uint64_t *first_gap);

void cover_free(struct cover *cv);

#endif
