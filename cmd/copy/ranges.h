/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --ranges=FILE: the list of byte ranges a selective copy is limited
 * to, either one "OFFSET LENGTH" pair a line (size suffixes allowed,
 * "#" comments, blank lines) or the JSON array nbd-stat-map --json
 * prints.  Parsing is pure (no I/O) so it can be unit-tested.
 */
#ifndef NBDU_COPY_RANGES_H
#define NBDU_COPY_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "rangeset.h"

#define RANGES_ERR_MAX	512

struct ranges_opts {
	const char *name;	/* the file, as messages name it */
	uint64_t size;		/* the source's: no range may pass it */
	int64_t type;		/* JSON: only extents of this type; -1: all */
};

/*
 * Adds the ranges of text (len bytes, not NUL-terminated) to out,
 * overlapping and unsorted ones merged.  Returns 0, or -1 with
 * "NAME:LINE: why" in err.
 */
int ranges_parse(const char *text, size_t len, const struct ranges_opts *o,
    struct rangeset *out, char err[RANGES_ERR_MAX]);

/*
 * Reads path ("-": stdin) and parses it into out; exits 1 with
 * "PROG: NAME:LINE: why" on any error.
 */
void ranges_load_or_die(const char *path, const struct ranges_opts *o,
    struct rangeset *out);

#endif
