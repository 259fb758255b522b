/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --totals: bytes of each type, in increasing type order, with their
 * share of the mapped range, as nbdinfo --map --totals prints them
 * (text "%5.1f%%", JSON "%g").  Types are few, so a sorted array does.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stat-map.h"

void
totals_init(struct totals *t, const char *context)
{
	memset(t, 0, sizeof(*t));
	t->context = context;
}

void
totals_add(struct totals *t, const struct extent *e)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].type < e->flags)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->n && t->rows[lo].type == e->flags) {
		t->rows[lo].bytes += e->length;
		return;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 8;
		struct totals_row *r = realloc(t->rows, ncap * sizeof(*r));

		if (r == NULL)
			err(EXIT_FAILURE, "realloc");
		t->rows = r;
		t->cap = ncap;
	}
	memmove(&t->rows[lo + 1], &t->rows[lo], (t->n - lo) * sizeof(*t->rows));
	t->rows[lo] = (struct totals_row){ e->flags, e->length };
	t->n++;
}

void
totals_print(const struct totals *t, FILE *fp, uint64_t range_len, bool json)
{
	struct json j;

	if (json) {
		json_begin(&j, fp);
		json_array_open(&j, NULL);
	}
	/* An empty range has no types, so nothing divides by zero. */
	for (size_t i = 0; i < t->n; i++) {
		const struct totals_row *r = &t->rows[i];
		double percent = 100.0 * r->bytes / range_len;
		char buf[DESCRIBE_MAX], num[64];
		const char *d = describe(t->context, r->type, buf);

		if (!json) {
			fprintf(fp, "%10" PRIu64 " %5.1f%% %3" PRIu32, r->bytes,
			    percent, r->type);
			if (d != NULL)
				fprintf(fp, " %s", d);
			fputc('\n', fp);
			continue;
		}
		snprintf(num, sizeof(num), "%g", percent);
		json_object_open(&j, NULL);
		json_key_u64(&j, "size", r->bytes);
		json_key_raw(&j, "percent", num);
		json_key_u64(&j, "type", r->type);
		if (d != NULL)
			json_key_str(&j, "description", d);
		json_object_close(&j);
	}
	if (json) {
		json_array_close(&j);
		json_end(&j);
	}
}

void
totals_free(struct totals *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}
