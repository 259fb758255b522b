/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Why: a copy into a file through the page cache touches a new page for
 * every 4 KiB written.  Each one must be allocated, charged and (in a VM
 * that hands free memory back to the host) faulted in by the host, and
 * copying into such cold pages cost four times the copy out of the
 * socket (perf: copy_folio_from_iter_atomic).  Pages that were written
 * back and dropped go to the allocator's free lists and come straight
 * back warm for the next writes.
 *
 * How, as nbdcopy does (after Linus's advice, linked from libnbd's
 * copy/file-ops.c): sync_file_range(WRITE) starts writeback of each
 * write at once, and a window WB_BEHIND bytes later waits for it and
 * drops it (POSIX_FADV_DONTNEED drops only clean pages, so nothing
 * unwritten is lost).  The newest window is never waited for, so a
 * writer blocks only on I/O started long enough ago.
 *
 * Errors: waiting for writeback reports a failed one and marks it seen
 * for the open file description that waited.  So the waits go through
 * a description of our own (opened again from /proc/self/fd): the
 * copy's own descriptors, and the fdatasync of --flush and
 * --checkpoint through them, still see the error.  It is also returned
 * here as a write error.  It may be another worker's range: a failed
 * writeback is reported once for the whole file, so the message names
 * the range whose wait saw it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "write-behind.h"

/*
 * Bytes written but not yet dropped, besides the newest window: enough
 * for writeback to finish before it is waited for (4 to 64 MiB measured
 * the same on a virtio disk), small enough to stay a few MiB of cache.
 */
#define WB_BEHIND	(8u << 20)
/* Contiguous writes share one window up to this size. */
#define WB_WINDOW	(4u << 20)

void
wb_begin(struct write_behind *wb, int fd, bool on)
{
	char path[64];

	*wb = (struct write_behind){ .fd = -1 };
	if (!on)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wb->fd = open(path, O_RDONLY | O_CLOEXEC);
}

void
wb_end(struct write_behind *wb)
{
	if (wb->fd != -1)
		close(wb->fd);	/* read-only: nothing to lose */
	wb->fd = -1;
}

/* Errors that say the kernel or file system cannot do write-behind. */
static bool
unsupported(int e)
{
	return e == EINVAL || e == ESPIPE || e == ENOSYS || e == EOPNOTSUPP;
}

static int
failed(struct write_behind *wb, int e, uint64_t off, uint64_t len,
    char *detail, size_t detail_size)
{
	if (unsupported(e)) {
		wb_end(wb);
		return 0;
	}
	snprintf(detail, detail_size, "a writeback failed (seen waiting for "
	    "%" PRIu64 " bytes at offset %" PRIu64 "): %s", len, off,
	    strerror(e));
	return e;
}

/* Waits for the oldest window to reach the disk, then drops it. */
static int
drop_oldest(struct write_behind *wb, char *detail, size_t detail_size)
{
	uint64_t off = wb->win[wb->first].off, len = wb->win[wb->first].len;

	wb->first = (wb->first + 1) % WB_SLOTS;
	wb->n--;
	wb->bytes -= len;
	if (sync_file_range(wb->fd, off, len, SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) == -1)
		return failed(wb, errno, off, len, detail, detail_size);
	/* Only advice: if it cannot be taken, the data is on its way. */
	if (posix_fadvise(wb->fd, off, len, POSIX_FADV_DONTNEED) != 0)
		wb_end(wb);
	return 0;
}

/* Records the write, extending the newest window when it continues it. */
static void
remember(struct write_behind *wb, uint64_t off, uint64_t len)
{
	unsigned last = (wb->first + wb->n - 1) % WB_SLOTS;

	wb->bytes += len;
	if (wb->n > 0 && wb->win[last].off + wb->win[last].len == off &&
	    wb->win[last].len + len <= WB_WINDOW) {
		wb->win[last].len += len;
		return;
	}
	last = (wb->first + wb->n) % WB_SLOTS;
	wb->win[last].off = off;
	wb->win[last].len = len;
	wb->n++;
}

static uint64_t
newest_len(const struct write_behind *wb)
{
	return wb->win[(wb->first + wb->n - 1) % WB_SLOTS].len;
}

int
wb_wrote(struct write_behind *wb, uint64_t off, uint64_t len,
    char *detail, size_t detail_size)
{
	int e;

	if (wb->fd == -1 || len == 0)
		return 0;
	if (sync_file_range(wb->fd, off, len, SYNC_FILE_RANGE_WRITE) == -1)
		return failed(wb, errno, off, len, detail, detail_size);
	if (wb->n == WB_SLOTS) {
		e = drop_oldest(wb, detail, detail_size);
		if (e != 0 || wb->fd == -1)
			return e;
	}
	remember(wb, off, len);
	while (wb->n > 1 && wb->bytes - newest_len(wb) > WB_BEHIND) {
		e = drop_oldest(wb, detail, detail_size);
		if (e != 0 || wb->fd == -1)
			return e;
	}
	return 0;
}
