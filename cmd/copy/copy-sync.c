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
#include "checkpoint.h"

struct sync {
	struct endpoint *src, *dst;
	struct copy_opts *o;
	char *buf;
	uint64_t rs;		/* request size, whole blocks of dst */
	struct copy_plan plan;
	uint64_t written_end;	/* end of the last byte put on dst */
	struct ckpt_worker cw;	/* --checkpoint: what it completed */
};

/* Makes [off, off+len) of the destination read as zeroes. */
static void
put_zeroes(struct sync *s, uint64_t off, uint64_t len)
{
	if (s->plan.skip_zeroes) {
		checkpoint_done(&s->cw, off, len);
		progress_add(&s->o->progress, len);
		return;
	}
	while (len > 0) {
		uint64_t n = copy_plan_piece(off, len, s->rs, true);

		ep_zero(s->dst, off, n, s->o->allocated);
		checkpoint_done(&s->cw, off, n);
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
		n = copy_next_run(s->buf, off, len, pos, s->plan.sparse,
		    &zero);
		if (zero) {
			put_zeroes(s, off + pos, n);
			continue;
		}
		ep_write(s->dst, s->buf + pos, n, off + pos);
		checkpoint_done(&s->cw, off + pos, n);
		progress_add(&s->o->progress, n);
		s->written_end = off + pos + n;
	}
}

/*
 * A stream's size is known only at EOF, where a read comes back short.
 * A regular file destination started empty, and holes at its end were
 * never written, so the last byte is written to give it the source's
 * length.
 */
static void
copy_from_stream(struct sync *s)
{
	uint64_t off = 0;
	size_t n, body;

	do {
		cli_check_interrupted();
		n = ep_read(s->src, s->buf, s->rs, off);
		body = copy_plan_body_end(&s->plan, n);
		put_data(s, off, body);
		if (body < n)
			copy_plan_tail(&s->plan, s->src, s->dst, s->o,
			    off + body, n - body, s->buf + body);
		off += n;
	} while (n == s->rs);
	if (off > s->written_end && strcmp(ep_kind(s->dst), "file") == 0)
		ep_write(s->dst, "", 1, off - 1);
}

/*
 * Between requests: the checkpoint's turn, and on a signal its last
 * ranges before the tool ends (by exit, which writes the checkpoint).
 */
static void
between(struct sync *s)
{
	if (cli_interrupted)
		checkpoint_leave(&s->cw, s->dst, true);
	cli_check_interrupted();
	checkpoint_poll(&s->cw, s->dst);
}

static void
copy_extents(struct sync *s)
{
	struct copy_segments segs;
	uint64_t off, len, n, size = s->src->size;
	uint64_t body = copy_plan_body_end(&s->plan, size);
	bool zero;

	copy_segments_begin(&segs, s->src, 0, body, s->plan.align,
	    !s->o->no_extents, s->o->todo);
	while (copy_segments_next(&segs, &off, &len, &zero)) {
		between(s);
		if (zero) {
			zero_range(s, off, len);
			continue;
		}
		for (; len > 0; off += n, len -= n) {
			between(s);
			n = copy_plan_piece(off, len, s->rs, false);
			ep_read(s->src, s->buf, n, off);
			put_data(s, off, n);
		}
	}
	between(s);	/* the walk ends early on a signal */
	checkpoint_leave(&s->cw, s->dst, true);
	copy_segments_end(&segs);
	if (body < size && copy_plan_wanted(s->o, body, size - body))
		copy_plan_tail(&s->plan, s->src, s->dst, s->o, body,
		    size - body, NULL);
}

void
copy_sync(struct endpoint *src, struct endpoint *dst, struct copy_opts *o)
{
	struct sync s = { .src = src, .dst = dst, .o = o };

	checkpoint_join(o->ckpt, &s.cw);
	copy_plan_init(&s.plan, dst, o);
	s.rs = copy_plan_request(&s.plan, o->request_size);
	s.buf = malloc(s.rs);
	if (s.buf == NULL)
		err(EXIT_FAILURE, "malloc");
	if (src->is_stream || src->size < 0)
		copy_from_stream(&s);
	else
		copy_extents(&s);
	free(s.buf);
}
