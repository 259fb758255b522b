/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sorted, merged byte ranges in one array.  The sets this serves are
 * small (a checkpoint's finished ranges, a bitmap's dirty runs), and
 * both lookups and edits start with a binary search, so an array beats
 * a tree here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rangeset.h"

static uint64_t
end_of(const struct range *r)
{
	return r->off + r->len;
}

/* Index of the first range that ends at or after off. */
static size_t
first_ending_from(const struct rangeset *s, uint64_t off)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (end_of(&s->r[mid]) < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
reserve(struct rangeset *s, size_t n)
{
	struct range *r;
	size_t cap;

	if (n <= s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	r = reallocarray(s->r, cap, sizeof *r);
	if (r == NULL)
		return -1;
	s->r = r;
	s->cap = cap;
	return 0;
}

/* Replaces ranges [i, j) with the n ranges in repl (n <= 2). */
static int
splice(struct rangeset *s, size_t i, size_t j, const struct range *repl,
    size_t n)
{
	if (n > j - i && reserve(s, s->n + n - (j - i)) == -1)
		return -1;
	memmove(&s->r[i + n], &s->r[j], (s->n - j) * sizeof *s->r);
	memcpy(&s->r[i], repl, n * sizeof *repl);
	s->n = s->n + n - (j - i);
	return 0;
}

int
rangeset_add(struct rangeset *s, uint64_t off, uint64_t len)
{
	struct range m = { off, len };
	size_t i, j;

	if (len == 0)
		return 0;
	if (off + len < off) {
		errno = EINVAL;
		return -1;
	}
	/* Ranges that overlap or touch [off, off+len) merge into m. */
	i = first_ending_from(s, off);
	for (j = i; j < s->n && s->r[j].off <= off + len; j++)
		;
	if (i < j) {
		uint64_t end = end_of(&m);

		if (s->r[i].off < m.off)
			m.off = s->r[i].off;
		if (end_of(&s->r[j - 1]) > end)
			end = end_of(&s->r[j - 1]);
		m.len = end - m.off;
	}
	return splice(s, i, j, &m, 1);
}

int
rangeset_remove(struct rangeset *s, uint64_t off, uint64_t len)
{
	struct range keep[2];
	uint64_t end = off + len;
	size_t i, j, n = 0;

	if (len == 0)
		return 0;
	if (end < off)
		end = UINT64_MAX;
	/* Touching is not overlapping here: skip ranges ending at off. */
	i = first_ending_from(s, off);
	if (i < s->n && end_of(&s->r[i]) == off)
		i++;
	for (j = i; j < s->n && s->r[j].off < end; j++)
		;
	if (i == j)
		return 0;
	if (s->r[i].off < off)
		keep[n++] = (struct range){ s->r[i].off, off - s->r[i].off };
	if (end_of(&s->r[j - 1]) > end)
		keep[n++] = (struct range){ end, end_of(&s->r[j - 1]) - end };
	return splice(s, i, j, keep, n);
}

bool
rangeset_covers(const struct rangeset *s, uint64_t off, uint64_t len)
{
	bool in;

	return len == 0 ||
	    (rangeset_run(s, off, off + len, &in) == len && in);
}

uint64_t
rangeset_bytes(const struct rangeset *s)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->r[i].len;
	return sum;
}

uint64_t
rangeset_run(const struct rangeset *s, uint64_t off, uint64_t end, bool *in)
{
	size_t i;

	if (off >= end)
		return 0;
	i = first_ending_from(s, off);
	if (i < s->n && end_of(&s->r[i]) == off)
		i++;
	if (i == s->n) {
		*in = false;
		return end - off;
	}
	if (s->r[i].off > off) {
		*in = false;
		return (s->r[i].off < end ? s->r[i].off : end) - off;
	}
	*in = true;
	return (end_of(&s->r[i]) < end ? end_of(&s->r[i]) : end) - off;
}

bool
rangeset_span(const struct rangeset *s, uint64_t off, uint64_t end,
    uint64_t *first, uint64_t *last_end)
{
	size_t i, lo, hi;

	if (off >= end)
		return false;
	i = first_ending_from(s, off);
	if (i < s->n && end_of(&s->r[i]) == off)
		i++;
	if (i == s->n || s->r[i].off >= end)
		return false;
	/* The last range that starts before end: at i or after. */
	lo = i;
	hi = s->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->r[mid].off < end)
			lo = mid;
		else
			hi = mid;
	}
	*first = s->r[i].off > off ? s->r[i].off : off;
	*last_end = end_of(&s->r[lo]) < end ? end_of(&s->r[lo]) : end;
	return true;
}

void
rangeset_truncate(struct rangeset *s, size_t max)
{
	if (s->n > max)
		s->n = max;
}

int
rangeset_copy(struct rangeset *dst, const struct rangeset *src)
{
	if (reserve(dst, src->n) == -1)
		return -1;
	if (src->n > 0)
		memcpy(dst->r, src->r, src->n * sizeof *src->r);
	dst->n = src->n;
	return 0;
}

void
rangeset_clear(struct rangeset *s)
{
	s->n = 0;
}

void
rangeset_free(struct rangeset *s)
{
	free(s->r);
	*s = (struct rangeset){ 0 };
}
