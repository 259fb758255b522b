/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "cover.h"

/* Index of the first interval starting after lo (binary search). */
static size_t
upper(const struct cover *cv, uint64_t lo)
{
	size_t a = 0, b = cv->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (cv->iv[m][0] <= lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static bool
grow(struct cover *cv)
{
	size_t cap = cv->cap ? cv->cap * 2 : 4;
	void *p;

	if (cap > SIZE_MAX / sizeof(cv->iv[0]))
		return false;
	p = realloc(cv->iv, cap * sizeof(cv->iv[0]));
	if (p == NULL)
		return false;
	cv->iv = p;
	cv->cap = cap;
	return true;
}

bool
cover_add(struct cover *cv, uint64_t lo, uint64_t hi)
{
	size_t i;
	bool join_prev, join_next;

	if (lo >= hi)
		return lo == hi;
	i = upper(cv, lo);
	if (i > 0 && cv->iv[i - 1][1] > lo)
		return false;
	if (i < cv->n && cv->iv[i][0] < hi)
		return false;
	join_prev = i > 0 && cv->iv[i - 1][1] == lo;
	join_next = i < cv->n && cv->iv[i][0] == hi;
	if (join_prev && join_next) {
		cv->iv[i - 1][1] = cv->iv[i][1];
		memmove(&cv->iv[i], &cv->iv[i + 1],
		    (cv->n - i - 1) * sizeof(cv->iv[0]));
		cv->n--;
		return true;
	}
	if (join_prev) {
		cv->iv[i - 1][1] = hi;
		return true;
	}
	if (join_next) {
		cv->iv[i][0] = lo;
		return true;
	}
	if (cv->n == cv->cap && !grow(cv))
		return false;
	memmove(&cv->iv[i + 1], &cv->iv[i], (cv->n - i) * sizeof(cv->iv[0]));
	cv->iv[i][0] = lo;
	cv->iv[i][1] = hi;
	cv->n++;
	return true;
}

bool
cover_complete(const struct cover *cv, uint64_t len, uint64_t *first_gap)
{
	if (len == 0)
		return cv->n == 0;
	if (cv->n == 1 && cv->iv[0][0] == 0 && cv->iv[0][1] == len)
		return true;
	*first_gap = cv->n > 0 && cv->iv[0][0] == 0 ? cv->iv[0][1] : 0;
	return false;
}

void
cover_free(struct cover *cv)
{
	free(cv->iv);
	memset(cv, 0, sizeof(*cv));
}
