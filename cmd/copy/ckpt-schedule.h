/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When the --checkpoint saver saves.  A save flushes the destination
 * first, and for a fast local copy that flush is the write-out of
 * everything copied since the last one (in a VM, out of the host's
 * cache too): a cost the same copy without --checkpoint never pays.
 * So, within the bounds (saves at least 1 s and at most 5 s
 * apart, the first within 5 s of the start):
 *
 *  - saves are further apart when the last flush took long, keeping
 *    flushes to about 3% of the time;
 *  - a save is put off while the copy is expected to end before the
 *    latest time it could be put off to: a kill then loses no more
 *    than 5 s of copying, as with saves 5 s apart, and a copy that
 *    ends within 5 s never waits for the disk.
 *
 * Putting a save off only delays a claim; what is claimed is flushed
 * first all the same.  Pure, so tests/unit can check it.
 */
#ifndef NBDU_CKPT_SCHEDULE_H
#define NBDU_CKPT_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define CKPT_SAVE_MIN_NS	(1000 * 1000 * 1000LL)
#define CKPT_SAVE_MAX_NS	(5 * CKPT_SAVE_MIN_NS)

struct ckpt_clock {
	int64_t start_ns;	/* the copy began */
	int64_t last_ns;	/* the last save ended (start_ns before one) */
	int64_t flush_ns;	/* the longest flush of the last save */
	uint64_t done;		/* bytes this run copied so far */
	uint64_t left;		/* bytes this run copies in all */
};

/* When a save is next due, if it is worth making then. */
int64_t ckpt_next_ns(const struct ckpt_clock *k);

/* Whether to save at now, or put it off by a second. */
bool ckpt_save_now(const struct ckpt_clock *k, int64_t now);

#endif
