/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Monotonic time in nanoseconds, for rates and latencies (the progress
 * bar, nbd-copy's latency probe): wall-clock jumps must not show there.
 */
#ifndef NBDU_CLOCK_H
#define NBDU_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
