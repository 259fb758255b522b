/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read-chunk validator (cover.c) against a byte map of a small
 * request: every chunk is accepted exactly when none of its bytes was
 * covered before, and cover_complete agrees with the map, first gap
 * included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cover.h"

#define LEN	256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cover cv = { 0 };
	bool map[LEN] = { false };
	uint64_t gap = UINT64_MAX, want_gap = LEN;

	for (size_t i = 0; i + 1 < len; i += 2) {
		/* Chunks may reach past the request: only [0, LEN) is mapped. */
		uint64_t lo = data[i], hi = lo + data[i + 1] % 64;
		bool clash = false, ok;

		if (hi > LEN)
			hi = LEN;
		for (uint64_t b = lo; b < hi; b++)
			clash |= map[b];
		ok = cover_add(&cv, lo, hi);
		if (ok == clash)
			abort();
		if (ok)
			for (uint64_t b = lo; b < hi; b++)
				map[b] = true;
	}
	for (size_t b = 0; b < LEN; b++)
		if (!map[b]) {
			want_gap = b;
			break;
		}
	if (cover_complete(&cv, LEN, &gap) != (want_gap == LEN))
		abort();
	if (want_gap != LEN && gap != want_gap)
		abort();
	/* Intervals sorted, disjoint, never adjacent (merged), non-empty. */
	for (size_t k = 0; k < cv.n; k++) {
		if (cv.iv[k][0] >= cv.iv[k][1])
			abort();
		if (k > 0 && cv.iv[k - 1][1] >= cv.iv[k][0])
			abort();
	}
	cover_free(&cv);
	return 0;
}
