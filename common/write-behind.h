/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Write-behind for local files and devices: what was written is pushed
 * to the disk soon after, and dropped from the page cache once it is
 * there, so a large copy recycles a few MiB of cache instead of filling
 * memory with dirty pages (see write-behind.c for why that is faster).
 * Nothing here makes data durable: only flush (fdatasync) does.
 */
#ifndef NBDU_WRITE_BEHIND_H
#define NBDU_WRITE_BEHIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_SLOTS	32

/* One per fd user (worker thread), between wb_begin and wb_end. */
struct write_behind {
	int fd;			/* our own open file description; -1: off */
	unsigned first, n;	/* ring of windows written, oldest first */
	uint64_t bytes;		/* their total */
	struct { uint64_t off, len; } win[WB_SLOTS];
};

/*
 * Starts write-behind for the file or device open as fd (when on is
 * false, or it cannot be had, writes are left to the kernel).
 */
void wb_begin(struct write_behind *wb, int fd, bool on);
void wb_end(struct write_behind *wb);

/*
 * [off, off+len) of the file was just written.  Returns 0 or the errno of a
 * failed writeback, with what failed (the range written back) in detail.
 */
int wb_wrote(struct write_behind *wb, uint64_t off, uint64_t len,
    char *detail, size_t detail_size);

#endif
