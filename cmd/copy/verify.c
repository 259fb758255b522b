/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --verify: after the copy, the destination is read back and compared
 * with the source, read again.  Both sides' extents are walked together:
 * a range both say is zero is not read at all, a range one side says is
 * zero is read only on the other side and must be all zeroes there, and
 * the rest is read on both sides (at the same time) and compared.
 *
 * A mismatch is not just "differs": the differing bytes are gathered
 * into ranges (bytes less than MERGE_GAP apart share a range, so random
 * garbage that happens to match a byte here and there stays one range),
 * the whole image is still compared so the totals are right, and the
 * first SHOW_RANGES ranges are listed with their byte offsets.
 *
 * A selective copy (--dirty-bitmap, --ranges) is compared only where it
 * wrote: the rest of the destination is older data, on purpose.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "endpoint.h"
#include "extents.h"
#include "copy.h"

#define CHUNK		(4u << 20)	/* bytes compared per step */
#define PIECE		(1u << 20)	/* reads in flight: CHUNK / PIECE */
#define SUB		4096u		/* memcmp unit before byte search */
#define MERGE_GAP	512		/* closer differing bytes: one range */
#define SHOW_RANGES	5

struct vside {
	struct endpoint *ep;
	struct extent_iter *it;
	struct extent e;	/* the extent holding the current offset */
	char *buf;
	unsigned busy;		/* reads in flight */
	int err;		/* the first failure */
	uint64_t err_off;
};

struct diffs {
	uint64_t ranges, bytes;	/* closed ranges, differing bytes */
	bool open;
	uint64_t start, end;	/* the open range [start, end) */
	uint64_t shown[SHOW_RANGES][2];
};

void
verify_possible(const struct endpoint *src, const struct endpoint *dst)
{
	if (src->is_stream || src->size < 0)
		errx(EXIT_FAILURE, "--verify: source %s is a stream and cannot "
		    "be read again (--check can check its digest)", src->name);
	if (dst == NULL)
		return;
	if (dst->discards)
		errx(EXIT_FAILURE, "--verify: destination %s keeps nothing to "
		    "read back", dst->name);
	if (dst->is_stream)
		errx(EXIT_FAILURE, "--verify: destination %s is a stream and "
		    "cannot be read back", dst->name);
}

static void
vside_begin(struct vside *s, struct endpoint *ep)
{
	s->ep = ep;
	s->buf = malloc(CHUNK);
	if (s->buf == NULL)
		err(EXIT_FAILURE, "malloc");
}

/* The extents of one range to compare: [off, off+len). */
static void
vside_range(struct vside *s, uint64_t off, uint64_t len)
{
	struct extents_opts eo = { .errors_as_data = true };

	s->it = extents_begin(s->ep, off, len, &eo);
	s->e.offset = s->e.length = 0;
}

static void
vside_end(struct vside *s)
{
	free(s->buf);
}

/* Moves to the extent holding off (< the size: extents cover it all). */
static void
vside_seek(struct vside *s, uint64_t off)
{
	while (off >= s->e.offset + s->e.length)
		if (!extents_next(s->it, &s->e))
			errx(EXIT_FAILURE, "--verify: %s: %s: extents end "
			    "before offset %" PRIu64, s->ep->side, s->ep->name,
			    off);
}

static bool
vside_zero(const struct vside *s)
{
	return (s->e.flags & EXTENT_ZERO) != 0;
}

struct piece {
	struct vside *s;
	uint64_t off;
};

/* Runs from ep_try_poll, or inside ep_aio_read for local kinds. */
static void
read_done(void *opaque, int err)
{
	struct piece *p = opaque;

	p->s->busy--;
	if (err != 0 && p->s->err == 0) {
		p->s->err = err;
		p->s->err_off = p->off;
	}
}

/*
 * Reads [off, off + n) of the sides given (NULL: not read), both at
 * once and in pieces, so a server can work on several at a time.
 */
static void
read_both(struct vside *a, struct vside *b, uint64_t off, size_t n)
{
	struct endpoint *eps[2] = { a ? a->ep : NULL, b ? b->ep : NULL };
	struct vside *sides[2] = { a, b };
	struct piece pieces[2][CHUNK / PIECE];

	for (int i = 0; i < 2; i++) {
		if (sides[i] == NULL)
			continue;
		sides[i]->err = 0;
		for (size_t pos = 0, k = 0; pos < n; pos += PIECE, k++) {
			pieces[i][k] = (struct piece){ sides[i], off + pos };
			sides[i]->busy++;
			ep_aio_read(sides[i]->ep, sides[i]->buf + pos,
			    MIN((size_t)PIECE, n - pos), off + pos, read_done,
			    &pieces[i][k]);
		}
	}
	while ((a != NULL && a->busy > 0) || (b != NULL && b->busy > 0)) {
		struct endpoint *failed = NULL;
		int e = ep_try_poll(eps, 2, 1000, &failed);

		if (e != 0)
			ep_die(failed, "verify: read", off, e);
		cli_check_interrupted();
	}
	for (int i = 0; i < 2; i++)
		if (sides[i] != NULL && sides[i]->err != 0)
			ep_die(sides[i]->ep, "verify: read",
			    sides[i]->err_off, sides[i]->err);
}

static void
diffs_close(struct diffs *d)
{
	if (!d->open)
		return;
	if (d->ranges < SHOW_RANGES) {
		d->shown[d->ranges][0] = d->start;
		d->shown[d->ranges][1] = d->end;
	}
	d->ranges++;
	d->open = false;
}

static void
diffs_add(struct diffs *d, uint64_t off)
{
	d->bytes++;
	if (d->open && off - d->end < MERGE_GAP) {
		d->end = off + 1;
		return;
	}
	diffs_close(d);
	d->open = true;
	d->start = off;
	d->end = off + 1;
}

static bool
same(const char *a, const char *b, size_t n)
{
	if (a == NULL)
		return copy_is_zero(b, n);
	if (b == NULL)
		return copy_is_zero(a, n);
	return memcmp(a, b, n) == 0;
}

/* Compares n bytes read at off; NULL stands for zeroes. */
static void
compare(struct diffs *d, const char *a, const char *b, uint64_t off,
    size_t n)
{
	for (size_t pos = 0; pos < n; pos += SUB) {
		size_t m = MIN((size_t)SUB, n - pos);

		if (same(a ? a + pos : NULL, b ? b + pos : NULL, m))
			continue;
		for (size_t i = pos; i < pos + m; i++)
			if ((a ? a[i] : 0) != (b ? b[i] : 0))
				diffs_add(d, off + i);
	}
}

static void
report(struct diffs *d, const struct endpoint *src,
    const struct endpoint *dst)
{
	warnx("--verify: destination %s differs from source %s: %" PRIu64
	    " byte%s in %" PRIu64 " range%s", dst->name, src->name, d->bytes,
	    d->bytes == 1 ? "" : "s", d->ranges, d->ranges == 1 ? "" : "s");
	for (uint64_t i = 0; i < MIN(d->ranges, (uint64_t)SHOW_RANGES); i++)
		fprintf(stderr, "  bytes %" PRIu64 "-%" PRIu64 " (%" PRIu64
		    " byte%s)\n", d->shown[i][0], d->shown[i][1] - 1,
		    d->shown[i][1] - d->shown[i][0],
		    d->shown[i][1] - d->shown[i][0] == 1 ? "" : "s");
	if (d->ranges > SHOW_RANGES)
		fprintf(stderr, "  ... and %" PRIu64 " more range%s\n",
		    d->ranges - SHOW_RANGES,
		    d->ranges - SHOW_RANGES == 1 ? "" : "s");
}

/* Compares [off, off+len) of both sides, counting the bytes read. */
static void
verify_range(struct vside *s, struct vside *d, struct diffs *diffs,
    uint64_t off, uint64_t len, uint64_t *nread)
{
	uint64_t end = off + len;

	vside_range(s, off, len);
	vside_range(d, off, len);
	while (off < end) {
		uint64_t stop;
		size_t n;
		bool sz, dz;

		cli_check_interrupted();
		vside_seek(s, off);
		vside_seek(d, off);
		stop = MIN(s->e.offset + s->e.length, d->e.offset + d->e.length);
		stop = MIN(stop, end);
		n = MIN(stop - off, (uint64_t)(CHUNK - off % CHUNK));
		sz = vside_zero(s);
		dz = vside_zero(d);
		if (!(sz && dz)) {
			read_both(sz ? NULL : s, dz ? NULL : d, off, n);
			compare(diffs, sz ? NULL : s->buf, dz ? NULL : d->buf,
			    off, n);
			*nread += n;
		}
		off += n;
	}
	extents_end(d->it);
	extents_end(s->it);
}

bool
verify_copy(struct endpoint *src, struct endpoint *dst,
    const struct rangeset *todo)
{
	struct range whole = { 0, src->size };
	const struct rangeset all = { .r = &whole, .n = 1, .cap = 1 };
	struct vside s = { 0 }, d = { 0 };
	struct diffs diffs = { 0 };
	uint64_t nread = 0;

	if (todo == NULL)
		todo = &all;
	vside_begin(&s, src);
	vside_begin(&d, dst);
	for (size_t i = 0; i < todo->n; i++)
		if (todo->r[i].len > 0)
			verify_range(&s, &d, &diffs, todo->r[i].off,
			    todo->r[i].len, &nread);
	vside_end(&d);
	vside_end(&s);
	diffs_close(&diffs);
	if (diffs.ranges > 0) {
		report(&diffs, src, dst);
		return false;
	}
	if (cli_opts.verbose)
		fprintf(stderr, "%s: verify: %" PRIu64 " bytes equal, %" PRIu64
		    " read back, the rest zero on both sides\n",
		    program_invocation_short_name, rangeset_bytes(todo), nread);
	return true;
}
