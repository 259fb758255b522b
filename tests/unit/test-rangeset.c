/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rangeset against a byte map: random adds and removes on a small image,
 * after each one the set must hold exactly the marked bytes, sorted,
 * merged (no two ranges touching) and answer runs and coverage as the
 * map does.  A few fixed cases pin the edges (touching ranges merge,
 * removing a middle splits, truncate keeps the lowest).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "rangeset.h"

#define SPACE	200
#define MIN(a, b)	((a) < (b) ? (a) : (b))

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "test-rangeset: %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

/* rangeset_span over a few windows, against the first and last bytes. */
static void
check_span(const struct rangeset *s, const bool *map, int step)
{
	for (uint64_t off = 0; off < SPACE; off += 37) {
		for (uint64_t end = off; end <= SPACE; end += 29) {
			uint64_t first = 0, last_end = 0, f = end, l = off;
			bool found = rangeset_span(s, off, end, &first,
			    &last_end);

			for (uint64_t b = off; b < end; b++)
				if (map[b]) {
					f = MIN(f, b);
					l = b + 1;
				}
			CHECK(found == (f < end), "step %d: span [%" PRIu64
			    ", %" PRIu64 ") found", step, off, end);
			if (found)
				CHECK(first == f && last_end == l, "step %d: "
				    "span [%" PRIu64 ", %" PRIu64 ")", step,
				    off, end);
		}
	}
}

static void
check_against(const struct rangeset *s, const bool *map, int step)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < s->n; i++) {
		CHECK(s->r[i].len > 0, "step %d: empty range", step);
		if (i > 0)
			CHECK(s->r[i - 1].off + s->r[i - 1].len < s->r[i].off,
			    "step %d: ranges %zu and %zu touch or overlap",
			    step, i - 1, i);
	}
	for (uint64_t b = 0; b < SPACE; b++) {
		bool in;
		uint64_t run = rangeset_run(s, b, SPACE, &in);

		bytes += map[b];
		CHECK(in == map[b], "step %d: byte %" PRIu64, step, b);
		for (uint64_t k = b; k < b + run; k++)
			CHECK(map[k] == in, "step %d: run at %" PRIu64
			    " crosses %" PRIu64, step, b, k);
		CHECK(b + run == SPACE || map[b + run] != in,
		    "step %d: run at %" PRIu64 " stops early", step, b);
		CHECK(rangeset_covers(s, b, 1) == map[b], "step %d", step);
	}
	CHECK(rangeset_bytes(s) == bytes, "step %d: bytes", step);
	check_span(s, map, step);
}

static void
random_ops(void)
{
	struct rangeset s = { 0 };
	bool map[SPACE] = { false };

	srand(42);
	for (int step = 0; step < 20000; step++) {
		uint64_t off = (uint64_t)rand() % SPACE;
		uint64_t len = (uint64_t)rand() % (SPACE - off + 1) / 4;
		bool add = rand() % 3 != 0;

		if (add)
			CHECK(rangeset_add(&s, off, len) == 0, "add");
		else
			CHECK(rangeset_remove(&s, off, len) == 0, "remove");
		for (uint64_t b = off; b < off + len; b++)
			map[b] = add;
		check_against(&s, map, step);
		if (step % 1000 == 999) {
			rangeset_clear(&s);
			for (int b = 0; b < SPACE; b++)
				map[b] = false;
		}
	}
	rangeset_free(&s);
}

static void
fixed_cases(void)
{
	struct rangeset s = { 0 }, t = { 0 };
	bool in;

	rangeset_add(&s, 10, 10);
	rangeset_add(&s, 20, 5);	/* touches: one range */
	CHECK(s.n == 1 && s.r[0].off == 10 && s.r[0].len == 15, "merge");
	rangeset_remove(&s, 12, 3);	/* splits */
	CHECK(s.n == 2 && s.r[0].len == 2 && s.r[1].off == 15, "split");
	CHECK(rangeset_covers(&s, 15, 10) && !rangeset_covers(&s, 11, 3),
	    "covers");
	CHECK(rangeset_run(&s, 0, 100, &in) == 10 && !in, "leading gap");
	rangeset_add(&s, 50, 1);
	CHECK(rangeset_copy(&t, &s) == 0 && t.n == 3, "copy");
	rangeset_truncate(&t, 2);
	CHECK(t.n == 2 && t.r[1].off == 15, "truncate keeps the lowest");
	CHECK(rangeset_add(&s, UINT64_MAX - 1, 5) == -1, "overflow refused");
	rangeset_free(&s);
	rangeset_free(&t);
}

int
main(void)
{
	fixed_cases();
	random_ops();
	if (failures) {
		fprintf(stderr, "test-rangeset: %d failures\n", failures);
		return 1;
	}
	printf("test-rangeset: ok\n");
	return 0;
}
