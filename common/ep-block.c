/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block devices.  I/O is the same pread/pwrite as files, written behind
 * the same way (write-behind.c); what differs is the size
 * (BLKGETSIZE64), the preferred I/O size (BLKIOOPT) and zeroing:
 * BLKZEROOUT, which the kernel turns into the device's own write-zeroes
 * or unmap where that reads back as zeroes.  There is no SEEK_DATA on
 * devices, so a device is all data.
 */
#include <err.h>
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "endpoint-internal.h"
#include "write-behind.h"

struct ep_block {
	struct endpoint ep;
	int fd;			/* first, as in struct ep_file: ep_fd_* */
	struct write_behind wb;	/* a device's page cache, as a file's */
};

static int
block_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    size_t *got)
{
	int e = ep_fd_pread(((struct ep_block *)ep)->fd, buf, len, off);

	*got = e == 0 ? len : 0;
	return e;
}

static int
block_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off)
{
	struct ep_block *b = (struct ep_block *)ep;
	int e = ep_fd_pwrite(b->fd, buf, len, off);

	if (e != 0)
		return e;
	return wb_wrote(&b->wb, off, len, ep->error_detail,
	    sizeof(ep->error_detail));
}

static int
block_zero(struct endpoint *ep, uint64_t off, uint64_t len,
    bool allocate UNUSED)
{
	struct ep_block *b = (struct ep_block *)ep;
	uint64_t range[2] = { off, len };

	if (ioctl(b->fd, BLKZEROOUT, range) == 0)
		return 0;
	return ep_fd_write_zeroes(b->fd, len, off);
}

static int
block_flush(struct endpoint *ep)
{
	return fdatasync(((struct ep_block *)ep)->fd) == 0 ? 0 : errno;
}

static struct endpoint *
block_reopen(struct endpoint *ep)
{
	struct ep_block *b = (struct ep_block *)ep_fd_reopen(ep,
	    sizeof(struct ep_block));

	if (b == NULL)
		return NULL;
	wb_begin(&b->wb, b->fd, ((struct ep_block *)ep)->wb.fd != -1);
	return &b->ep;
}

static void
block_close(struct endpoint *ep)
{
	wb_end(&((struct ep_block *)ep)->wb);
	ep_fd_close(ep);
}

static const struct endpoint_ops block_ops = {
	.kind = "block",
	.read = block_read,
	.write = block_write,
	.zero = block_zero,
	.flush = block_flush,
	.reopen = block_reopen,
	.close = block_close,
};

struct endpoint *
ep_block_open(const struct ep_arg *arg, const struct ep_open_opts *opts,
    int fd)
{
	struct ep_block *b;
	uint64_t size;
	unsigned int opt = 0;
	int ssz = 512;

	if (ioctl(fd, BLKGETSIZE64, &size) == -1)
		err(EXIT_FAILURE, "%s: %s: BLKGETSIZE64", opts->side,
		    arg->display);
	if (ioctl(fd, BLKIOOPT, &opt) == -1 || opt == 0)
		opt = 4096;
	if (ioctl(fd, BLKSSZGET, &ssz) == -1 || ssz <= 0)
		ssz = 512;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		err(EXIT_FAILURE, "calloc");
	b->fd = fd;
	wb_begin(&b->wb, fd, opts->mode == EP_WRITE);
	b->ep = (struct endpoint){
		.ops = &block_ops,
		.name = arg->display,
		.side = opts->side,
		.size = size,
		.block_min = 1,
		.block_pref = opt >= (unsigned)ssz ? opt : (unsigned)ssz,
		.block_max = EP_DEFAULT_MAX,
		.can_zero_fast = true,
		.can_multi_conn = true,
	};
	return &b->ep;
}
