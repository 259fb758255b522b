/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Regular files.  Holes come from SEEK_DATA/SEEK_HOLE, zeroing punches
 * holes (or zeroes a range in place when it must stay allocated), and I/O
 * is plain pread/pwrite: the page cache makes it as fast as anything
 * asynchronous would be, so this kind has no aio ops.  Writes are pushed
 * to the disk and dropped from the cache behind the writer
 * (write-behind.c), so a large copy does not fill memory with new pages.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "endpoint-internal.h"
#include "extents-engine.h"
#include "write-behind.h"

struct ep_file {
	struct endpoint ep;
	int fd;			/* first after ep, as in struct ep_block */
	bool seek_ok;		/* SEEK_DATA works on this file system */
	struct write_behind wb;	/* this fd's writes, pushed to disk behind */
};

static const struct endpoint_ops file_ops;

int
ep_fd_pread(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = pread(fd, p, len, off);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			return EIO;	/* the file shrank under us */
		p += r;
		len -= r;
		off += r;
	}
	return 0;
}

int
ep_fd_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t r = pwrite(fd, p, len, off);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += r;
		len -= r;
		off += r;
	}
	return 0;
}

int
ep_fd_write_zeroes(int fd, uint64_t len, int64_t off)
{
	static const char zeroes[65536];

	while (len > 0) {
		size_t n = MIN(len, (uint64_t)sizeof(zeroes));
		ssize_t r;

		r = off >= 0 ? pwrite(fd, zeroes, n, off) : write(fd, zeroes, n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		len -= r;
		if (off >= 0)
			off += r;
	}
	return 0;
}

/* struct ep_block starts the same way, so the cast serves both. */
int
ep_local_fd(const struct endpoint *ep)
{
	const struct ep_file *f = (const struct ep_file *)ep;

	if (strcmp(ep->ops->kind, "file") != 0 &&
	    strcmp(ep->ops->kind, "block") != 0)
		return -1;
	return f->fd;
}

static int
file_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    size_t *got)
{
	struct ep_file *f = (struct ep_file *)ep;
	int e = ep_fd_pread(f->fd, buf, len, off);

	*got = e == 0 ? len : 0;
	return e;
}

static int
file_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off)
{
	struct ep_file *f = (struct ep_file *)ep;
	int e = ep_fd_pwrite(f->fd, buf, len, off);

	if (e != 0)
		return e;
	return wb_wrote(&f->wb, off, len, ep->error_detail,
	    sizeof(ep->error_detail));
}

/*
 * Punching a hole leaves the range reading as zeroes and frees it;
 * zero-range keeps it allocated.  Either may be unsupported by the file
 * system, and then writing zeroes is the only correct way left.
 */
static int
file_zero(struct endpoint *ep, uint64_t off, uint64_t len, bool allocate)
{
	struct ep_file *f = (struct ep_file *)ep;

	if (!allocate && fallocate(f->fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
	    len) == 0)
		return 0;
	return ep_fd_write_zeroes(f->fd, len, off);
}

static int
file_flush(struct endpoint *ep)
{
	return fdatasync(((struct ep_file *)ep)->fd) == 0 ? 0 : errno;
}

static bool
file_local_extent(struct endpoint *ep, uint64_t off, uint64_t end,
    uint64_t *len)
{
	struct ep_file *f = (struct ep_file *)ep;
	off_t data, hole;

	if (!f->seek_ok)
		goto all_data;
	data = lseek(f->fd, off, SEEK_DATA);
	if (data == -1) {
		if (errno != ENXIO)
			goto all_data;
		/* No data after off: the rest of the file is a hole. */
		*len = end - off;
		return false;
	}
	if ((uint64_t)data > off) {
		*len = MIN((uint64_t)data, end) - off;
		return false;
	}
	hole = lseek(f->fd, off, SEEK_HOLE);
	if (hole == -1 || (uint64_t)hole <= off)
		goto all_data;
	*len = MIN((uint64_t)hole, end) - off;
	return true;
all_data:
	*len = end - off;
	return true;
}

/* SEEK_DATA/SEEK_HOLE runs, one reply chunk each, in base:allocation terms. */
static void
file_block_status(struct endpoint *ep, const char *context UNUSED,
    uint64_t off, uint32_t len, ep_extent_fn extent, ep_done_fn done,
    void *opaque)
{
	uint64_t end = off + len;

	while (off < end) {
		uint64_t n;
		uint32_t ent[2];

		ent[1] = file_local_extent(ep, off, end, &n) ? 0 :
		    EXTENT_HOLE | EXTENT_ZERO;
		ent[0] = n;
		extent(opaque, off, ent, 2);
		off += n;
	}
	done(opaque, 0);
}

static bool
file_has_context(const struct endpoint *ep, const char *context)
{
	return ep->has_extents && strcmp(context, "base:allocation") == 0;
}

/* struct ep_block starts the same way, so these serve both. */
struct endpoint *
ep_fd_reopen(struct endpoint *ep, size_t size)
{
	struct ep_file *f = (struct ep_file *)ep, *n;

	n = malloc(size);
	if (n == NULL)
		return NULL;
	memcpy(n, f, size);
	n->fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (n->fd == -1) {
		free(n);
		return NULL;
	}
	return &n->ep;
}

void
ep_fd_close(struct endpoint *ep)
{
	struct ep_file *f = (struct ep_file *)ep;

	if (close(f->fd) == -1)
		warn("%s: %s: close", ep->side, ep->name);
	free(f);
}

static struct endpoint *
file_reopen(struct endpoint *ep)
{
	struct ep_file *f = (struct ep_file *)ep_fd_reopen(ep,
	    sizeof(struct ep_file));

	if (f == NULL)
		return NULL;
	wb_begin(&f->wb, f->fd, ((struct ep_file *)ep)->wb.fd != -1);
	return &f->ep;
}

static void
file_close(struct endpoint *ep)
{
	wb_end(&((struct ep_file *)ep)->wb);
	ep_fd_close(ep);
}

static const struct endpoint_ops file_ops = {
	.kind = "file",
	.read = file_read,
	.write = file_write,
	.zero = file_zero,
	.flush = file_flush,
	.aio_block_status = file_block_status,
	.has_context = file_has_context,
	.reopen = file_reopen,
	.close = file_close,
};

struct endpoint *
ep_file_open(const struct ep_arg *arg, const struct ep_open_opts *opts,
    int fd, bool created)
{
	struct ep_file *f;
	struct stat st;

	if (opts->mode == EP_WRITE && opts->resize) {
		/*
		 * A file this run created is empty already, and truncating
		 * to 0 makes ext4 write the whole file back at close.
		 */
		if ((!created && ftruncate(fd, 0) == -1) ||
		    ftruncate(fd, opts->resize_to) == -1)
			err(EXIT_FAILURE, "%s: %s: truncate", opts->side,
			    arg->display);
		created = true;
	}
	if (fstat(fd, &st) == -1)
		err(EXIT_FAILURE, "%s: %s: fstat", opts->side, arg->display);
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		err(EXIT_FAILURE, "calloc");
	f->fd = fd;
	f->seek_ok = lseek(fd, 0, SEEK_DATA) != -1 || errno == ENXIO;
	wb_begin(&f->wb, fd, opts->mode == EP_WRITE);
	f->ep = (struct endpoint){
		.ops = &file_ops,
		.name = arg->display,
		.side = opts->side,
		.size = st.st_size,
		.block_min = 1,
		.block_pref = st.st_blksize > 0 ? st.st_blksize : 4096,
		.block_max = EP_DEFAULT_MAX,
		.known_zero = created,
		.can_zero_fast = true,
		.can_multi_conn = true,
		.has_extents = f->seek_ok,
	};
	return &f->ep;
}
