/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The synchronous engine: strictly in offset order, one request at a
 * time, for streams (a pipe can only be read or written in order) and
 * --synchronous (servers that cannot take more than one request).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "endpoint.h"
#include "copy.h"

#define ZERO_MAX	(1ULL << 30)	/* one zeroing request, at most */

struct sync {
	struct endpoint *src, *dst;
	struct copy_opts *o;
	char *buf;
	uint64_t sparse;	/* 0 when detection would gain nothing */
	bool skip_zeroes;	/* the destination already reads as zeroes */
	uint64_t written_end;	/* end of the last byte put on dst */
};

/* Makes [off, off+len) of the destination read as zeroes. */
static void
put_zeroes(struct sync *s, uint64_t off, uint64_t len)
{
	if (s->skip_zeroes) {
		progress_add(&s->o->progress, len);
		return;
	}
	while (len > 0) {
		uint64_t n = MIN(len, ZERO_MAX);

		ep_zero(s->dst, off, n, s->o->allocated);
		progress_add(&s->o->progress, n);
		off += n;
		len -= n;
		s->written_end = off;
	}
}

/* A range of the source that reads as zeroes and was not read. */
static void
zero_range(struct sync *s, uint64_t off, uint64_t len)
{
	if (s->o->hook != NULL)
		s->o->hook(s->o->hook_opaque, off, NULL, len);
	put_zeroes(s, off, len);
}

/* Writes len bytes read at off, runs of zeroes as zeroing. */
static void
put_data(struct sync *s, uint64_t off, size_t len)
{
	bool zero;

	if (s->o->hook != NULL)
		s->o->hook(s->o->hook_opaque, off, s->buf, len);
	for (size_t pos = 0, n; pos < len; pos += n) {
		n = copy_next_run(s->buf, off, len, pos, s->sparse, &zero);
		if (zero) {
			put_zeroes(s, off + pos, n);
			continue;
		}
		ep_write(s->dst, s->buf + pos, n, off + pos);
		progress_add(&s->o->progress, n);
		s->written_end = off + pos + n;
	}
}

/*
 * A stream's size is known only at EOF.  A regular file destination
 * started empty, and holes at its end were never written, so the last
 * byte is written to give it the source's length.
 */
static void
copy_from_stream(struct sync *s)
{
	uint64_t off = 0;
	size_t n;

	for (;;) {
		cli_check_interrupted();
		n = ep_read(s->src, s->buf, s->o->request_size, off);
		if (n == 0)
			break;
		put_data(s, off, n);
		off += n;
	}
	if (off > s->written_end && strcmp(ep_kind(s->dst), "file") == 0)
		ep_write(s->dst, "", 1, off - 1);
}

static void
copy_extents(struct sync *s)
{
	struct copy_segments segs;
	uint64_t off, len, rs = s->o->request_size;
	bool zero;

	copy_segments_begin(&segs, s->src, 0, s->src->size,
	    s->dst->block_min, !s->o->no_extents);
	while (copy_segments_next(&segs, &off, &len, &zero)) {
		cli_check_interrupted();
		if (zero) {
			zero_range(s, off, len);
			continue;
		}
		while (len > 0) {
			/* Pieces end on request-size boundaries. */
			uint64_t n = MIN(len, rs - off % rs);

			cli_check_interrupted();
			ep_read(s->src, s->buf, n, off);
			put_data(s, off, n);
			off += n;
			len -= n;
		}
	}
	cli_check_interrupted();	/* the walk ends early on a signal */
	copy_segments_end(&segs);
}

void
copy_sync(struct endpoint *src, struct endpoint *dst, struct copy_opts *o)
{
	struct sync s = { .src = src, .dst = dst, .o = o };

	s.buf = malloc(o->request_size);
	if (s.buf == NULL)
		err(EXIT_FAILURE, "malloc");
	s.skip_zeroes = (dst->known_zero || o->dst_is_zero) &&
	    !o->allocated && !dst->is_stream;
	/* A stream or null: takes zeroes as they are, nothing to gain. */
	s.sparse = dst->is_stream || copy_dst_discards(dst) ? 0 : o->sparse;
	if (src->is_stream || src->size < 0)
		copy_from_stream(&s);
	else
		copy_extents(&s);
	free(s.buf);
}
