/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Progress of a long copy: a bar on stderr when it is a terminal
 * (percent, bytes done and total, rate, time left), nbdcopy's
 * machine-readable "N/100" lines on a file descriptor, and/or one JSON
 * object a line for programs (--progress-json):
 *
 *   {"phase":"copy","bytes_done":N,"bytes_total":N,"percent":12.5,
 *    "rate":N,"eta_seconds":N,"elapsed_seconds":1.25,"retries":0,
 *    "resumed_bytes":0}
 *
 * bytes_total is null for a stream, whose size is known only at its
 * end; percent is null there until the last line, which says 100.
 * eta_seconds is null while there is no rate to guess from.
 * bytes_done counts what reached the destination or was skipped as a
 * hole, never goes backwards, and stays at the copy's total through
 * the later phases (flush, verify, checksum).  rate is over the last
 * few seconds, not the whole run, so a stall shows at once.
 *
 * Redrawn at most five times a second; progress_end() always leaves a
 * finished bar, a last "100/100" line and a last JSON line.
 * progress_add() may be called from any thread.
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
	int json_fd;		/* JSON lines to this fd, or -1 */
	bool sized;		/* total is known (not a stream) */
	uint64_t total;
	_Atomic uint64_t done;
	uint64_t (*retries)(void);	/* retries so far, if set */
	uint64_t resumed;	/* counted in done from the start */
	const char *phase;	/* "copy", "flush", "verify", "checksum" */
	struct {
		int64_t ns;
		uint64_t done;
	} window[10];		/* recent redraws, for the rate */
	unsigned nwindow;
	_Atomic int64_t next_ns;	/* no redraw before this time */
	pthread_mutex_t lock;	/* one drawer at a time */
	int64_t start_ns;
	int last_percent;	/* last N written to fd, -1 for none */
	bool drawn;		/* a bar is on the screen */
	bool active;		/* begun and not ended */
};

/*
 * Starts reporting.  bar is honoured only when stderr is a terminal;
 * fd < 0 means no "N/100" lines, json_fd < 0 no JSON lines; total < 0
 * means unknown.  resumed bytes are already done (a resumed copy).
 */
void progress_begin(struct progress *p, bool bar, int fd, int json_fd,
    int64_t total, uint64_t resumed);

/* A new phase ("flush", "verify", "checksum"): one JSON line says so. */
void progress_phase(struct progress *p, const char *phase);


/* Counts n more bytes done; redraws if it is time to. */
void progress_add(struct progress *p, uint64_t n);

/* Final 100% bar with a newline, "100/100" and the last JSON line. */
void progress_end(struct progress *p);

#endif
