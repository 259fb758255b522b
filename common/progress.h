/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Progress of a long copy: a bar on stderr when it is a terminal
 * (percent, bytes done and total, rate, time left), and/or nbdcopy's
 * machine-readable "N/100" lines on a file descriptor.  Redrawn at most
 * a few times a second; progress_end() always leaves a finished bar and
 * a last "100/100" line.  progress_add() may be called from any thread.
 */
#ifndef NBDU_PROGRESS_H
#define NBDU_PROGRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool bar;		/* draw on stderr (only if it is a terminal) */
	int fd;			/* "N/100" lines to this fd, or -1 */
	uint64_t total;		/* 0: unknown (a stream) */
	_Atomic uint64_t done;
	_Atomic int64_t next_ns;	/* no redraw before this time */
	pthread_mutex_t lock;	/* one drawer at a time */
	int64_t start_ns;
	int last_percent;	/* last N written to fd, -1 for none */
	bool drawn;		/* a bar is on the screen */
	bool active;		/* begun and not ended */
};

/*
 * Starts reporting.  bar is honoured only when stderr is a terminal;
 * fd < 0 means no "N/100" lines; total < 0 means unknown.
 */
void progress_begin(struct progress *p, bool bar, int fd, int64_t total);

/* Counts n more bytes done; redraws if it is time to. */
void progress_add(struct progress *p, uint64_t n);

/* Final 100% bar with a newline, and "100/100". */
void progress_end(struct progress *p);

#endif
