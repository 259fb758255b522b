/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The map itself, one extent at a time as extents_next() yields them,
 * so a map of millions of extents never sits in memory.  Text columns
 * are nbdinfo --map's, coloured as it colours them when asked; JSON has
 * its fields (offset, length, type and, when known, description)
 * through the shared writer.
 */
#include <inttypes.h>
#include <stdio.h>

#include "color.h"

#include "stat-map.h"

void
map_begin(struct map_out *m, FILE *fp, const char *context, bool json)
{
	m->fp = fp;
	m->context = context;
	m->json = json;
	m->color = false;
	if (json) {
		json_begin(&m->j, fp);
		json_array_open(&m->j, NULL);
	}
}

void
map_extent(struct map_out *m, const struct extent *e)
{
	char buf[DESCRIBE_MAX];
	const char *d = describe(m->context, e->flags, buf);

	if (!m->json) {
		/* As nbdinfo: the colour ends before the newline. */
		const char *c = m->color ? describe_color(m->context,
		    e->flags) : "";

		fprintf(m->fp, "%s%10" PRIu64 "  %10" PRIu64 "  %3" PRIu32, c,
		    e->offset, e->length, e->flags);
		if (d != NULL)
			fprintf(m->fp, "  %s", d);
		if (c[0] != '\0')
			fputs(ANSI_RESET, m->fp);
		fputc('\n', m->fp);
		return;
	}
	json_object_open(&m->j, NULL);
	json_key_u64(&m->j, "offset", e->offset);
	json_key_u64(&m->j, "length", e->length);
	json_key_u64(&m->j, "type", e->flags);
	if (d != NULL)
		json_key_str(&m->j, "description", d);
	json_object_close(&m->j);
}

void
map_end(struct map_out *m)
{
	if (m->json) {
		json_array_close(&m->j);
		json_end(&m->j);
	}
}
