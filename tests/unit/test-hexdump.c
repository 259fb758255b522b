/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hexdump -C formatter against goldens from util-linux hexdump
 * (test-hexdump-goldens.h, made by gen-hexdump-goldens.py).  Each case is
 * fed several ways, since the dump's state must not depend on how the
 * bytes arrive: whole segments; data a byte at a time and zero runs in
 * odd pieces; zero runs as real zero bytes; and with colour, which must
 * give the golden back once its SGR sequences are stripped.
 */
#include <err.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

struct hexdump_seg {
	const char *data;	/* NULL: a run of len zero bytes */
	uint64_t len;
};

struct hexdump_case {
	const char *name;
	uint64_t start;
	unsigned nsegs;
	struct hexdump_seg segs[4];
	const char *golden;
};

#include "test-hexdump-goldens.h"

enum feed { FEED_WHOLE, FEED_PIECES, FEED_ZERO_AS_DATA, FEED_COLOR };
static const char *const feed_name[] = {
	"whole", "pieces", "zero runs as data", "colour",
};

/* Zero runs fed as bytes only up to this size. */
#define ZERO_AS_DATA_MAX	(1u << 20)

struct out {
	char *buf;
	size_t len, cap;
};

static char *
out_room(struct out *o, size_t need)
{
	if (o->cap - o->len < need) {
		o->cap = (o->len + need) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (o->buf == NULL)
			err(EXIT_FAILURE, "realloc");
	}
	return o->buf + o->len;
}

static void
feed_data(struct hexdump *h, struct out *o, const void *p, size_t len)
{
	o->len += hexdump_data(h, p, len, out_room(o, HEXDUMP_DATA_MAX(len)));
}

static void
feed_zero(struct hexdump *h, struct out *o, uint64_t len)
{
	o->len += hexdump_zero(h, len, out_room(o, HEXDUMP_ZERO_MAX));
}

static void
feed_seg(struct hexdump *h, struct out *o, const struct hexdump_seg *s,
    enum feed how)
{
	static const uint64_t pieces[] = { 1, 7, 16, 33, 15 };
	static char zeros[ZERO_AS_DATA_MAX];
	uint64_t left = s->len;

	if (s->data != NULL && how == FEED_PIECES) {
		for (uint64_t i = 0; i < s->len; i++)
			feed_data(h, o, s->data + i, 1);
	} else if (s->data != NULL) {
		feed_data(h, o, s->data, s->len);
	} else if (how == FEED_ZERO_AS_DATA && s->len <= ZERO_AS_DATA_MAX) {
		feed_data(h, o, zeros, s->len);
	} else if (how == FEED_PIECES) {
		for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]) &&
		    left > 0; i++) {
			uint64_t n = pieces[i] < left ? pieces[i] : left;

			feed_zero(h, o, n);
			left -= n;
		}
		feed_zero(h, o, left);
	} else {
		feed_zero(h, o, s->len);
	}
}

/* Removes "ESC [ params m" sequences in place; returns the new length. */
static size_t
strip_sgr(char *s, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\033' && i + 1 < len && s[i + 1] == '[') {
			i += 2;
			while (i < len && s[i] != 'm')
				i++;
			continue;
		}
		s[j++] = s[i];
	}
	return j;
}

static bool
run_case(const struct hexdump_case *c, enum feed how)
{
	struct hexdump h;
	struct out o = { NULL, 0, 0 };
	size_t glen = strlen(c->golden);
	bool ok;

	hexdump_begin(&h, c->start, how == FEED_COLOR);
	for (unsigned i = 0; i < c->nsegs; i++)
		feed_seg(&h, &o, &c->segs[i], how);
	o.len += hexdump_end(&h, out_room(&o, HEXDUMP_END_MAX));
	if (how == FEED_COLOR)
		o.len = strip_sgr(o.buf, o.len);
	ok = o.len == glen && memcmp(o.buf, c->golden, glen) == 0;
	if (!ok)
		fprintf(stderr, "FAIL: %s (%s)\n--- expected\n%s--- got\n%.*s---\n",
		    c->name, feed_name[how], c->golden, (int)o.len,
		    o.buf == NULL ? "" : o.buf);
	free(o.buf);
	return ok;
}

/* The colours themselves: offsets cyan, zero dim, printable vs not. */
static bool
check_color(void)
{
	static const char want[] =
	    "\033[36m00000000\033[0m  \033[0;2m00 \033[0;32m41 "
	    "\033[0;33m0a \033[0m"
	    "                                         |"
	    "\033[0;2m.\033[0;32mA\033[0;33m.\033[0m|\n"
	    "\033[36m00000003\033[0m\n";
	struct hexdump h;
	char buf[HEXDUMP_DATA_MAX(3) + HEXDUMP_END_MAX];
	size_t n;

	hexdump_begin(&h, 0, true);
	n = hexdump_data(&h, "\0A\n", 3, buf);
	n += hexdump_end(&h, buf + n);
	if (n != strlen(want) || memcmp(buf, want, n) != 0) {
		fprintf(stderr, "FAIL: colour sequences: got\n%.*s", (int)n,
		    buf);
		return false;
	}
	return true;
}

int
main(void)
{
	unsigned failed = 0, total = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int how = FEED_WHOLE; how <= FEED_COLOR; how++) {
			total++;
			if (!run_case(&cases[i], how))
				failed++;
		}
	}
	total++;
	if (!check_color())
		failed++;
	printf("test-hexdump: %u/%u passed\n", total - failed, total);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
