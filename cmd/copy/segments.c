/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The source's extents as the engines consume them: data to read, or
 * ranges that read as zeroes and need not be read.  A zero extent whose
 * edges are not on the destination's minimum block size gives those
 * edges back as data, so zeroing never needs a read-modify-write.
 */
#include <stdlib.h>

#include "endpoint.h"
#include "extents.h"
#include "copy.h"

void
copy_segments_begin(struct copy_segments *s, struct endpoint *src,
    uint64_t off, uint64_t len, uint32_t align, bool use_extents)
{
	struct extents_opts eo = { .errors_as_data = true,
	    .end_on_signal = true };

	s->it = use_extents && len > 0 ? extents_begin(src, off, len, &eo) :
	    NULL;
	s->off = off;
	s->end = off + len;
	s->align = align > 0 ? align : 1;
	s->left = 0;
}

void
copy_segments_end(struct copy_segments *s)
{
	if (s->it != NULL)
		extents_end(s->it);
	s->it = NULL;
}

/* The next whole extent, or false at the end of the range. */
static bool
next_extent(struct copy_segments *s, struct extent *e)
{
	if (s->it != NULL)
		return extents_next(s->it, e);
	if (s->off >= s->end)
		return false;
	e->offset = s->off;
	e->length = s->end - s->off;
	e->flags = 0;
	return true;
}

bool
copy_segments_next(struct copy_segments *s, uint64_t *off, uint64_t *len,
    bool *zero)
{
	uint64_t start, end, a = s->align;

	if (s->left == 0) {
		struct extent e;

		if (!next_extent(s, &e))
			return false;
		s->cur_off = e.offset;
		s->left = e.length;
		s->cur_zero = (e.flags & EXTENT_ZERO) != 0;
		s->off = e.offset + e.length;
	}
	*off = s->cur_off;
	*zero = s->cur_zero;
	*len = s->left;
	if (*zero && a > 1) {
		start = (s->cur_off + a - 1) / a * a;
		end = (s->cur_off + s->left) / a * a;
		if (start >= end) {
			*zero = false;		/* too small to zero alone */
		} else if (start > s->cur_off) {
			*zero = false;		/* the unaligned head */
			*len = start - s->cur_off;
		} else {
			*len = end - s->cur_off;	/* the tail comes next */
		}
	}
	s->cur_off += *len;
	s->left -= *len;
	/* An unaligned tail of a zero extent is read as data. */
	if (s->left > 0 && *zero)
		s->cur_zero = false;
	return true;
}
