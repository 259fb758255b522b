/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The source's extents as the engines consume them, in the
 * destination's blocks (its minimum block size): a block that holes
 * cover whole reads as zeroes and need not be read; any other block,
 * one that mixes data and hole included, is read and written whole, so
 * no write or zero is ever shorter than what the destination accepts.
 * Segments start on a block; each extent is fetched once, and only the
 * extents that start inside a data segment's last block are looked at
 * ahead of time.
 */
#include <stdlib.h>

#include "endpoint.h"
#include "extents.h"
#include "copy.h"

void
copy_segments_begin(struct copy_segments *s, struct endpoint *src,
    uint64_t off, uint64_t len, uint32_t align, bool use_extents,
    const struct rangeset *todo)
{
	struct extents_opts eo = { .errors_as_data = true,
	    .end_on_signal = true };
	uint64_t first, last_end;

	s->todo = todo;
	s->clip_len = 0;
	/* Extents outside the todo ranges would be asked for nothing. */
	if (todo != NULL) {
		if (rangeset_span(todo, off, off + len, &first, &last_end)) {
			off = first;
			len = last_end - first;
		} else
			len = 0;
	}
	s->it = use_extents && len > 0 ? extents_begin(src, off, len, &eo) :
	    NULL;
	s->off = off;
	s->pos = off;
	s->end = off + len;
	s->align = align > 0 ? align : 1;
	s->have = false;
}

void
copy_segments_end(struct copy_segments *s)
{
	if (s->it != NULL)
		extents_end(s->it);
	s->it = NULL;
}

/* The next whole extent into s->cur, or false at the end of the range. */
static bool
next_extent(struct copy_segments *s)
{
	struct extent e;

	if (s->it != NULL) {
		if (!extents_next(s->it, &e))
			return false;
	} else {
		if (s->off >= s->end)
			return false;
		e.offset = s->off;
		e.length = s->end - s->off;
		e.flags = 0;
		s->off = s->end;
	}
	s->cur = e;
	s->have = true;
	return true;
}

static uint64_t
cur_end(const struct copy_segments *s)
{
	return MIN(s->cur.offset + s->cur.length, s->end);
}

static bool
cur_zero(const struct copy_segments *s)
{
	return (s->cur.flags & EXTENT_ZERO) != 0;
}

/* The block boundary at or after x, within the range. */
static uint64_t
block_up(const struct copy_segments *s, uint64_t x)
{
	uint64_t a = s->align;

	return MIN((x + a - 1) / a * a, s->end);
}

static uint64_t
block_down(const struct copy_segments *s, uint64_t x)
{
	return x / s->align * s->align;
}

/*
 * A data segment from s->pos runs to the end of the block holding the
 * current extent's end.  The extents that start inside that block decide
 * whether data goes on: it does unless one is a hole that covers at
 * least a whole block past it.
 */
static uint64_t
data_end(struct copy_segments *s)
{
	uint64_t end = block_up(s, cur_end(s));

	while (end > cur_end(s) && next_extent(s)) {
		if (cur_zero(s) && block_down(s, cur_end(s)) > end)
			break;
		end = block_up(s, cur_end(s));
	}
	return end;
}

static bool
next_segment(struct copy_segments *s, uint64_t *off, uint64_t *len,
    bool *zero)
{
	uint64_t end;

	if (s->pos >= s->end)
		return false;
	while (!s->have || cur_end(s) <= s->pos)
		if (!next_extent(s))
			return false;
	*off = s->pos;
	end = block_down(s, cur_end(s));
	*zero = cur_zero(s) && end > s->pos;
	if (!*zero)
		end = data_end(s);
	*len = end - s->pos;
	s->pos = end;
	return true;
}

/* The segments, less what is outside the todo ranges. */
bool
copy_segments_next(struct copy_segments *s, uint64_t *off, uint64_t *len,
    bool *zero)
{
	bool in;

	if (s->todo == NULL)
		return next_segment(s, off, len, zero);
	do {
		if (s->clip_len == 0 && !next_segment(s, &s->clip_off,
		    &s->clip_len, &s->clip_zero))
			return false;
		*off = s->clip_off;
		*len = rangeset_run(s->todo, s->clip_off,
		    s->clip_off + s->clip_len, &in);
		*zero = s->clip_zero;
		s->clip_off += *len;
		s->clip_len -= *len;
	} while (!in);
	return true;
}
