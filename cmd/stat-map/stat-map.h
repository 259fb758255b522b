/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-stat-map's cross-file declarations.  Everything here but main.c is
 * pure (extents and numbers in, text out to a FILE), so the unit tests
 * compare it with nbdinfo's formats directly.
 */
#ifndef NBDU_STAT_MAP_H
#define NBDU_STAT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "extents.h"
#include "json.h"

#define DESCRIBE_MAX	32	/* "backing depth 4294967295" fits */

struct stat_map_opts {
	const char *context;	/* --map=CONTEXT; NULL: base:allocation */
	int totals;		/* --totals */
	int json;		/* --json */
	uint64_t offset;	/* --offset */
	uint64_t length;	/* --length; UINT64_MAX: to the end */
	int picture;		/* --picture */
	unsigned width;		/* --picture=WIDTH; 0: terminal width */
};

/*
 * describe.c: nbdinfo's description of a type in a context ("data",
 * "hole,zero", "dirty", "backing depth 2"), written to buf; NULL when
 * the context or type has none, and the field is then left out.
 */
const char *describe(const char *context, uint32_t type, char *buf);

/*
 * The ANSI sequence nbdinfo --map colours a type's line with ("" for
 * none): data bold, dirty red, clean green, local and backing shaded.
 */
const char *describe_color(const char *context, uint32_t type);

/* map.c: one extent per line (or JSON array element), as it comes. */
struct map_out {
	FILE *fp;
	const char *context;
	bool json;
	bool color;		/* text lines in colour; map_begin clears it */
	struct json j;
};

void map_begin(struct map_out *m, FILE *fp, const char *context, bool json);
void map_extent(struct map_out *m, const struct extent *e);
void map_end(struct map_out *m);

/* totals.c: bytes per type over a range, printed in type order. */
struct totals {
	const char *context;
	struct totals_row { uint32_t type; uint64_t bytes; } *rows;
	size_t n, cap;
};

void totals_init(struct totals *t, const char *context);
void totals_add(struct totals *t, const struct extent *e);
/* Percentages are of range_len, the length of the mapped range. */
void totals_print(const struct totals *t, FILE *fp, uint64_t range_len,
    bool json);
void totals_free(struct totals *t);

/*
 * picture.c: the range as a bar of width cells, each showing the class
 * (say data, zero, hole) covering most of the cell's bytes.
 */
#define PICTURE_CLASSES	3

struct picture {
	const char *context;
	uint64_t off, len;
	unsigned width;			/* cells; <= len */
	uint64_t (*bytes)[PICTURE_CLASSES];	/* per cell, per class */
};

void picture_init(struct picture *p, const char *context, uint64_t off,
    uint64_t len, unsigned width);
void picture_add(struct picture *p, const struct extent *e);
/* The bar, then a one-line legend. */
void picture_print(const struct picture *p, FILE *fp, bool utf8, bool color);
void picture_free(struct picture *p);

#endif
