/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zero detection shared by both engines: a buffer read from the source
 * is cut into runs, each either data to write or whole -S units of
 * zeroes (aligned to the image, so the holes they become line up with
 * the destination's blocks) to turn into zeroing.
 */

#include <string.h>

#include "endpoint.h"
#include "copy.h"

bool
copy_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t head = len < 16 ? len : 16;

	/* Checking a few bytes first makes dense data cheap to reject. */
	for (size_t i = 0; i < head; i++)
		if (p[i] != 0)
			return false;
	return len == head || memcmp(p, p + 16, len - 16) == 0;
}

bool
copy_dst_discards(const struct endpoint *dst)
{
	return dst->discards;
}

static bool
unit_is_zero(const char *buf, uint64_t off, size_t len, size_t pos,
    uint64_t sparse, size_t *ulen)
{
	uint64_t abs = off + pos;
	uint64_t end = (abs / sparse + 1) * sparse;

	*ulen = MIN(end - abs, (uint64_t)(len - pos));
	return *ulen == sparse && copy_is_zero(buf + pos, *ulen);
}

size_t
copy_next_run(const void *buf, uint64_t off, size_t len, size_t pos,
    uint64_t sparse, bool *zero)
{
	size_t start = pos, ulen;

	if (sparse == 0) {
		*zero = false;
		return len - pos;
	}
	*zero = unit_is_zero(buf, off, len, pos, sparse, &ulen);
	pos += ulen;
	while (pos < len) {
		if (unit_is_zero(buf, off, len, pos, sparse, &ulen) != *zero)
			break;
		pos += ulen;
	}
	return pos - start;
}
