/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams: "-" (stdin or stdout), pipes, FIFOs and character devices.
 * They have no size and no offsets: the copy runs strictly in order, and
 * zeroing is writing zero bytes.  A terminal is refused as a destination,
 * because a disk image on a terminal is never what anyone wanted.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "compiler.h"
#include "endpoint-internal.h"

struct ep_pipe {
	struct endpoint ep;
	int fd;
	bool owned;		/* close fd at the end (not stdin/stdout) */
};

static int
pipe_read(struct endpoint *ep, void *buf, size_t len, uint64_t off UNUSED,
    size_t *got)
{
	struct ep_pipe *p = (struct ep_pipe *)ep;
	char *b = buf;

	*got = 0;
	while (*got < len) {
		ssize_t r = read(p->fd, b + *got, len - *got);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			break;
		*got += r;
	}
	return 0;
}

static int
pipe_write(struct endpoint *ep, const void *buf, size_t len,
    uint64_t off UNUSED)
{
	struct ep_pipe *p = (struct ep_pipe *)ep;
	const char *b = buf;

	while (len > 0) {
		ssize_t r = write(p->fd, b, len);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		b += r;
		len -= r;
	}
	return 0;
}

static int
pipe_zero(struct endpoint *ep, uint64_t off UNUSED, uint64_t len,
    bool allocate UNUSED)
{
	return ep_fd_write_zeroes(((struct ep_pipe *)ep)->fd, len, -1);
}

/* Pipes have nothing to make durable; a character device might. */
static int
pipe_flush(struct endpoint *ep)
{
	if (fdatasync(((struct ep_pipe *)ep)->fd) == -1 && errno != EINVAL &&
	    errno != EROFS)
		return errno;
	return 0;
}

static void
pipe_close(struct endpoint *ep)
{
	struct ep_pipe *p = (struct ep_pipe *)ep;

	if (p->owned && close(p->fd) == -1)
		warn("%s: %s: close", ep->side, ep->name);
	free(p);
}

static const struct endpoint_ops pipe_ops = {
	.kind = "pipe",
	.read = pipe_read,
	.write = pipe_write,
	.zero = pipe_zero,
	.flush = pipe_flush,
	.close = pipe_close,
};

struct endpoint *
ep_pipe_open(const struct ep_arg *arg, const struct ep_open_opts *opts,
    int fd, bool owned)
{
	struct ep_pipe *p;

	if (opts->mode == EP_WRITE && isatty(fd))
		errx(EXIT_FAILURE, "%s: %s: refusing to write to a terminal",
		    opts->side, arg->display);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		err(EXIT_FAILURE, "calloc");
	p->fd = fd;
	p->owned = owned;
	p->ep = (struct endpoint){
		.ops = &pipe_ops,
		.name = arg->kind == EP_ARG_STDIO ?
		    (opts->mode == EP_READ ? "stdin" : "stdout") : arg->display,
		.side = opts->side,
		.size = -1,
		.block_min = 1,
		.block_pref = 65536,
		.block_max = EP_DEFAULT_MAX,
		.is_stream = true,
	};
	return &p->ep;
}
