/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The readers that feed the formatter.  A random-access endpoint is
 * walked extent by extent: runs known to read as zeroes go to
 * hexdump_zero() and are never read, data is read ahead asynchronously
 * in a ring of slots (several requests in flight, memory bounded by the
 * ring) and formatted in order.  A stream is read in order, its -s
 * offset read and thrown away.  Output collects in one large buffer
 * written with write(2), so a dense dump costs formatting, not syscalls.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "cli.h"
#include "compiler.h"
#include "endpoint.h"
#include "extents.h"
#include "dump.h"

#define OUT_SIZE	(4u << 20)	/* output buffer */
#define PIECE		(64u << 10)	/* bytes formatted per call */
#define CHUNK		(256u << 10)	/* one read-ahead request */
#define SLOTS		16		/* read-ahead ring: 4 MiB */
#define STREAM_BUF	(1u << 20)

static char *obuf;
static size_t olen;

static void
out_flush(void)
{
	size_t done = 0;

	while (done < olen) {
		ssize_t r = write(STDOUT_FILENO, obuf + done, olen - done);

		if (r == -1) {
			if (errno == EINTR) {
				cli_check_interrupted();
				continue;
			}
			cli_stdout_failed();
		}
		done += r;
	}
	olen = 0;
}

/* Where the formatter may write need bytes. */
static char *
out_room(size_t need)
{
	if (obuf == NULL) {
		obuf = malloc(OUT_SIZE);
		if (obuf == NULL)
			err(EXIT_FAILURE, "malloc");
	}
	if (OUT_SIZE - olen < need)
		out_flush();
	return obuf + olen;
}

static void
out_data(struct hexdump *h, const char *buf, size_t len)
{
	while (len > 0) {
		size_t n = MIN(len, (size_t)PIECE);

		olen += hexdump_data(h, buf, n, out_room(HEXDUMP_DATA_MAX(n)));
		buf += n;
		len -= n;
	}
}

static void
out_end(struct hexdump *h)
{
	olen += hexdump_end(h, out_room(HEXDUMP_END_MAX));
	out_flush();
	free(obuf);
	obuf = NULL;
}

/* One entry of the read-ahead ring: a zero run, or a read in flight. */
struct slot {
	uint64_t off, len;
	bool zero;
	bool done;		/* the read completed */
	int err;		/* its errno value, 0 if it worked */
	char *buf;		/* CHUNK bytes, reused */
};

struct reader {
	struct endpoint *ep;
	struct extent_iter *it;
	struct extent cur;	/* what is left of the current extent */
	bool have_cur;
	bool eof;		/* extents_next() said the range is done */
	struct slot slot[SLOTS];
	unsigned head, count;
};

static void
slot_done(void *opaque, int e)
{
	struct slot *s = opaque;

	s->done = true;
	s->err = e;
}

/*
 * Queues work until the ring is full: zero extents whole, data extents
 * in reads that end on CHUNK boundaries, so requests stay aligned to the
 * server's blocks after an unaligned -s.
 */
static void
reader_fill(struct reader *r)
{
	while (r->count < SLOTS) {
		struct slot *s = &r->slot[(r->head + r->count) % SLOTS];

		if (!r->have_cur) {
			if (r->eof || !extents_next(r->it, &r->cur)) {
				r->eof = true;
				return;
			}
			r->have_cur = true;
		}
		s->off = r->cur.offset;
		s->zero = (r->cur.flags & EXTENT_ZERO) != 0;
		if (s->zero)
			s->len = r->cur.length;
		else
			s->len = MIN(r->cur.length, CHUNK - s->off % CHUNK);
		r->cur.offset += s->len;
		r->cur.length -= s->len;
		r->have_cur = r->cur.length > 0;
		r->count++;
		if (!s->zero) {
			s->done = false;
			s->err = 0;
			ep_aio_read(r->ep, s->buf, s->len, s->off, slot_done, s);
		}
	}
}

void
dump_range(struct endpoint *ep, const struct dump_opts *opts)
{
	/*
	 * Extents only let us skip holes: where block status fails, read
	 * (and check) the bytes instead, as nbd-copy does.
	 */
	struct extents_opts eopts = { .errors_as_data = true };
	struct reader r = { .ep = ep };
	struct hexdump h;
	uint64_t size = ep->size, start, len;

	/* As hexdump: an offset past the end stops at the end. */
	start = MIN(opts->offset, size);
	len = MIN(opts->length, size - start);
	hexdump_begin(&h, start, opts->color);
	if (len > 0) {
		for (unsigned i = 0; i < SLOTS; i++) {
			r.slot[i].buf = malloc(CHUNK);
			if (r.slot[i].buf == NULL)
				err(EXIT_FAILURE, "malloc");
		}
		r.it = extents_begin(ep, start, len, &eopts);
		for (reader_fill(&r); r.count > 0; reader_fill(&r)) {
			struct slot *s = &r.slot[r.head];

			cli_check_interrupted();
			if (s->zero) {
				olen += hexdump_zero(&h, s->len,
				    out_room(HEXDUMP_ZERO_MAX));
			} else {
				while (!s->done) {
					ep_poll(ep);
					cli_check_interrupted();
				}
				if (s->err != 0)
					ep_die(ep, "read", s->off, s->err);
				out_data(&h, s->buf, s->len);
			}
			r.head = (r.head + 1) % SLOTS;
			r.count--;
		}
		extents_end(r.it);
		for (unsigned i = 0; i < SLOTS; i++)
			free(r.slot[i].buf);
	}
	out_end(&h);
}

void
dump_stream(struct endpoint *ep, const struct dump_opts *opts)
{
	struct hexdump h;
	uint64_t pos = 0, left = opts->length;
	char *buf = malloc(STREAM_BUF);
	size_t got = 1;

	if (buf == NULL)
		err(EXIT_FAILURE, "malloc");
	/* Like an offset past the end of a file, EOF here ends the dump. */
	while (pos < opts->offset && got > 0) {
		got = ep_read(ep, buf, MIN(opts->offset - pos,
		    (uint64_t)STREAM_BUF), pos);
		pos += got;
		cli_check_interrupted();
	}
	hexdump_begin(&h, pos, opts->color);
	while (left > 0 && got > 0) {
		got = ep_read(ep, buf, MIN(left, (uint64_t)STREAM_BUF), pos);
		out_data(&h, buf, got);
		pos += got;
		left -= got;
		cli_check_interrupted();
	}
	out_end(&h);
	free(buf);
}
