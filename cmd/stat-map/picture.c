/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --picture: the mapped range as one bar of cells for people who would
 * rather look than read.  Each type falls in one of three classes --
 * full, partial, empty (base:allocation: data, zero, hole) -- and each
 * cell shows the class that covers most of its bytes (the fuller class
 * wins a tie, so a lone data block in a hole still shows).  Extents are
 * added as they stream in; only the per-cell counts are kept.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "compiler.h"
#include "stat-map.h"

#define DIRTY_BITMAP	"qemu:dirty-bitmap:"

/* What the classes are called in a context; NULL: the class is unused. */
static void
labels(const char *context, const char *label[PICTURE_CLASSES])
{
	static const char *const base[] = { "data", "zero", "hole" };
	static const char *const dirty[] = { "dirty", NULL, "clean" };
	static const char *const depth[] = { "local", "backing", "absent" };
	static const char *const raw[] = { "non-zero", NULL, "zero" };
	const char *const *l = raw;

	if (context == NULL || strcmp(context, "base:allocation") == 0)
		l = base;
	else if (strncmp(context, DIRTY_BITMAP, strlen(DIRTY_BITMAP)) == 0)
		l = dirty;
	else if (strcmp(context, "qemu:allocation-depth") == 0)
		l = depth;
	memcpy(label, l, PICTURE_CLASSES * sizeof(*label));
}

static unsigned
classify(const char *context, uint32_t type)
{
	if (context == NULL || strcmp(context, "base:allocation") == 0) {
		if (type & EXTENT_HOLE)
			return 2;
		return type & EXTENT_ZERO ? 1 : 0;
	}
	if (strcmp(context, "qemu:allocation-depth") == 0)
		return type == 0 ? 2 : type == 1 ? 0 : 1;
	return type == 0 ? 2 : 0;
}

/* Where cell i starts: cells split the range as evenly as integers can. */
static uint64_t
cell_start(const struct picture *p, uint64_t i)
{
	return p->off + (uint64_t)((unsigned __int128)p->len * i / p->width);
}

void
picture_init(struct picture *p, const char *context, uint64_t off,
    uint64_t len, unsigned width)
{
	memset(p, 0, sizeof(*p));
	p->context = context;
	p->off = off;
	p->len = len;
	/* A cell holds at least one byte. */
	p->width = len < width ? (unsigned)len : width;
	if (p->width > 0) {
		p->bytes = calloc(p->width, sizeof(*p->bytes));
		if (p->bytes == NULL)
			err(EXIT_FAILURE, "calloc");
	}
}

void
picture_add(struct picture *p, const struct extent *e)
{
	uint64_t pos = MAX(e->offset, p->off);
	uint64_t end = MIN(e->offset + e->length, p->off + p->len);
	unsigned cls = classify(p->context, e->flags);
	uint64_t c;

	if (pos >= end)
		return;
	c = (uint64_t)((unsigned __int128)(pos - p->off) * p->width / p->len);
	while (c + 1 < p->width && cell_start(p, c + 1) <= pos)
		c++;
	while (pos < end && c < p->width) {
		uint64_t ce = c + 1 < p->width ? cell_start(p, c + 1) :
		    p->off + p->len;
		uint64_t take = MIN(end, ce) - pos;

		p->bytes[c][cls] += take;
		pos += take;
		c++;
	}
}

static unsigned
winner(const uint64_t bytes[PICTURE_CLASSES])
{
	unsigned best = 0;

	for (unsigned k = 1; k < PICTURE_CLASSES; k++)
		if (bytes[k] > bytes[best])
			best = k;
	return best;
}

void
picture_print(const struct picture *p, FILE *fp, bool utf8, bool color)
{
	static const char *const glyph_utf8[] = { "\u2588", "\u2592", "\u2591" };
	static const char *const glyph_ascii[] = { "#", "=", "." };
	static const char *const ansi[] = { ANSI_BLUE, ANSI_CYAN, ANSI_DIM };
	const char *const *glyph = utf8 ? glyph_utf8 : glyph_ascii;
	const char *label[PICTURE_CLASSES];
	unsigned prev = PICTURE_CLASSES;
	bool first = true;

	for (unsigned i = 0; i < p->width; i++) {
		unsigned k = winner(p->bytes[i]);

		/* One escape per run of a class, not per cell. */
		if (color && k != prev)
			fputs(ansi[k], fp);
		fputs(glyph[k], fp);
		prev = k;
		if (color && (i + 1 == p->width || winner(p->bytes[i + 1]) != k))
			fputs(ANSI_RESET, fp);
	}
	fputc('\n', fp);

	labels(p->context, label);
	for (unsigned k = 0; k < PICTURE_CLASSES; k++) {
		if (label[k] == NULL)
			continue;
		fprintf(fp, "%s%s%s%s %s", first ? "" : "  ",
		    color ? ansi[k] : "", glyph[k], color ? ANSI_RESET : "",
		    label[k]);
		first = false;
	}
	fputc('\n', fp);
}

void
picture_free(struct picture *p)
{
	free(p->bytes);
	p->bytes = NULL;
}
