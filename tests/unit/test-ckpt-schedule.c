/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When the --checkpoint saver saves: never more often than once a
 * second nor less than every 5 s; further apart after slow flushes; put
 * off only while the copy is expected to end before the latest save.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ckpt-schedule.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "test-ckpt-schedule: %s:%d: ", __FILE__, \
		    __LINE__);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

#define S	CKPT_SAVE_MIN_NS	/* a second */
#define GiB	(1024ULL * 1024 * 1024)

static void
test_next(void)
{
	struct ckpt_clock k = { .start_ns = 7 * S, .last_ns = 10 * S };

	CHECK(ckpt_next_ns(&k) == 11 * S, "a quick flush: a second");
	k.flush_ns = S / 100;	/* 10 ms: 330 ms of copying */
	CHECK(ckpt_next_ns(&k) == 11 * S, "never under a second");
	k.flush_ns = S / 10;	/* 100 ms: 3.3 s */
	CHECK(ckpt_next_ns(&k) == 10 * S + 33 * (S / 10),
	    "flushes kept to 1/33 of the time");
	k.flush_ns = 2 * S;
	CHECK(ckpt_next_ns(&k) == 15 * S, "never over 5 s");
}

static void
test_save_now(void)
{
	/* 1 GiB a second since 0. */
	struct ckpt_clock k = { .start_ns = 0, .last_ns = 0,
	    .done = GiB, .left = 100 * GiB };

	CHECK(ckpt_save_now(&k, S), "a long copy saves every second");
	k.left = 4 * GiB;	/* ends at 4 s, before the latest save at 5 s */
	CHECK(!ckpt_save_now(&k, S), "a copy ending within 5 s puts it off");
	k.left = 6 * GiB;	/* ends at 6 s */
	CHECK(ckpt_save_now(&k, S), "one ending after the latest save saves");
	k.left = 4 * GiB;
	CHECK(ckpt_save_now(&k, 5 * S), "5 s after the last: saved anyway");
	k.done = k.left;
	CHECK(!ckpt_save_now(&k, 4 * S), "all copied: the end is near");
	CHECK(ckpt_save_now(&k, 5 * S), "... but not later than 5 s");
	k.done = 0;
	CHECK(ckpt_save_now(&k, S), "nothing copied yet: no rate to judge");
	/* After a save at 3 s, the window is from there. */
	k = (struct ckpt_clock){ .start_ns = 0, .last_ns = 3 * S,
	    .done = 4 * GiB, .left = 7 * GiB };
	CHECK(!ckpt_save_now(&k, 4 * S), "ends at 7 s, before 3 + 5 s");
	k.left = 9 * GiB;
	CHECK(ckpt_save_now(&k, 4 * S), "ends at 9 s, after 8 s");
}

int
main(void)
{
	test_next();
	test_save_now();
	if (failures > 0) {
		fprintf(stderr, "test-ckpt-schedule: %d failures\n", failures);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
