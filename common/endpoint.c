/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening an endpoint (deciding its kind from the argument and, for
 * paths, from what the path is), and the ep_* wrappers that turn the ops'
 * error codes into one-line messages naming side, object and offset.
 */
#include <err.h>
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "endpoint-internal.h"

void
ep_die(const struct endpoint *ep, const char *what, uint64_t off, int e)
{
	const char *why = strerror(e);

	if (ep->error_detail[0] != '\0')
		why = ep->error_detail;
	else if (ep->conn != NULL && conn_dead_reason(ep->conn) != NULL)
		why = conn_dead_reason(ep->conn);
	errx(EXIT_FAILURE, "%s: %s: %s at offset %" PRIu64 ": %s", ep->side,
	    ep->name, what, off, why);
}

/*
 * Opens a path for writing.  O_EXCL first, so we know whether this run
 * created the file (and so that it reads as zeroes).
 */
static int
open_for_write(const char *path, const struct ep_open_opts *opts,
    bool *created)
{
	int fd;

	*created = false;
	if (opts->create) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			*created = true;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return open(path, O_RDWR | O_CLOEXEC);
}

static struct endpoint *
open_path(const struct ep_arg *arg, const struct ep_open_opts *opts)
{
	struct stat st;
	bool created = false;
	int fd;

	if (opts->mode == EP_READ)
		fd = open(arg->str, O_RDONLY | O_CLOEXEC);
	else
		fd = open_for_write(arg->str, opts, &created);
	if (fd == -1)
		err(EXIT_FAILURE, "%s: %s", opts->side, arg->display);
	if (fstat(fd, &st) == -1)
		err(EXIT_FAILURE, "%s: %s: fstat", opts->side, arg->display);
	if (S_ISREG(st.st_mode))
		return ep_file_open(arg, opts, fd, created);
	if (S_ISBLK(st.st_mode))
		return ep_block_open(arg, opts, fd);
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode))
		return ep_pipe_open(arg, opts, fd, true);
	errx(EXIT_FAILURE, "%s: %s: not a regular file, block device or pipe",
	    opts->side, arg->display);
}

static struct endpoint *
open_kind(const struct ep_arg *arg, const struct ep_open_opts *opts)
{
	switch (arg->kind) {
	case EP_ARG_URI:
	case EP_ARG_CMD:
		return ep_nbd_open(arg, opts);
	case EP_ARG_PATH:
		return open_path(arg, opts);
	case EP_ARG_STDIO:
		return ep_pipe_open(arg, opts,
		    opts->mode == EP_READ ? STDIN_FILENO : STDOUT_FILENO, false);
	case EP_ARG_NULL:
		if (opts->mode == EP_READ)
			errx(EXIT_FAILURE, "%s: null: can only be written",
			    opts->side);
		return ep_null_open(arg, opts);
	}
	errx(EXIT_FAILURE, "%s: %s: unknown endpoint", opts->side,
	    arg->display);
}

/* The stats are set here, not by each kind, so no kind can forget them. */
struct endpoint *
ep_open(const struct ep_arg *arg, const struct ep_open_opts *opts)
{
	struct endpoint *ep = open_kind(arg, opts);

	ep->stats = opts->stats;
	if (ep->stats != NULL)
		atomic_fetch_add(&ep->stats->connections, 1);
	return ep;
}

/* One more request of kind for len bytes, if ep is counted. */
static void
count(const struct endpoint *ep, enum ep_request kind, uint64_t len)
{
	if (ep->stats == NULL)
		return;
	atomic_fetch_add(&ep->stats->requests[kind], 1);
	atomic_fetch_add(&ep->stats->bytes[kind], len);
}

int
ep_try_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    size_t *got)
{
	count(ep, EP_REQ_READ, len);
	return ep->ops->read(ep, buf, len, off, got);
}

int
ep_try_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off)
{
	count(ep, EP_REQ_WRITE, len);
	return ep->ops->write(ep, buf, len, off);
}

int
ep_try_zero(struct endpoint *ep, uint64_t off, uint64_t len, bool allocate)
{
	count(ep, EP_REQ_ZERO, len);
	return ep->ops->zero(ep, off, len, allocate);
}

int
ep_try_flush(struct endpoint *ep)
{
	count(ep, EP_REQ_FLUSH, 0);
	return ep->ops->flush(ep);
}

size_t
ep_read(struct endpoint *ep, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	int e = ep_try_read(ep, buf, len, off, &got);

	if (e != 0)
		ep_die(ep, "read", off, e);
	return got;
}

void
ep_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off)
{
	int e = ep_try_write(ep, buf, len, off);

	if (e != 0)
		ep_die(ep, "write", off, e);
}

void
ep_zero(struct endpoint *ep, uint64_t off, uint64_t len, bool allocate)
{
	int e = ep_try_zero(ep, off, len, allocate);

	if (e != 0)
		ep_die(ep, "zero", off, e);
}

void
ep_flush(struct endpoint *ep)
{
	int e = ep_try_flush(ep);

	if (e != 0)
		ep_die(ep, "flush", 0, e);
}

void
ep_aio_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    ep_done_fn done, void *opaque)
{
	size_t got;

	count(ep, EP_REQ_READ, len);
	if (ep->ops->aio_read != NULL) {
		ep->ops->aio_read(ep, buf, len, off, done, opaque);
		return;
	}
	done(opaque, ep->ops->read(ep, buf, len, off, &got));
}

void
ep_aio_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off,
    ep_done_fn done, void *opaque)
{
	count(ep, EP_REQ_WRITE, len);
	if (ep->ops->aio_write != NULL) {
		ep->ops->aio_write(ep, buf, len, off, done, opaque);
		return;
	}
	done(opaque, ep->ops->write(ep, buf, len, off));
}

void
ep_aio_zero(struct endpoint *ep, uint64_t off, uint64_t len, bool allocate,
    ep_done_fn done, void *opaque)
{
	count(ep, EP_REQ_ZERO, len);
	if (ep->ops->aio_zero != NULL) {
		ep->ops->aio_zero(ep, off, len, allocate, done, opaque);
		return;
	}
	done(opaque, ep->ops->zero(ep, off, len, allocate));
}

void
ep_aio_block_status(struct endpoint *ep, const char *context, uint64_t off,
    uint32_t len, ep_extent_fn extent, ep_done_fn done, void *opaque)
{
	const uint32_t all_data[2] = { len, 0 };

	if (ep->ops->aio_block_status != NULL) {
		count(ep, EP_REQ_BLOCK_STATUS, len);
		ep->ops->aio_block_status(ep, context, off, len, extent, done,
		    opaque);
		return;
	}
	extent(opaque, off, all_data, 2);
	done(opaque, 0);
}

void
ep_poll(struct endpoint *ep)
{
	if (ep->ops->poll != NULL)
		ep->ops->poll(ep);
}

int
ep_try_poll(struct endpoint *const *eps, size_t n, int timeout_ms,
    struct endpoint **failed)
{
	struct pollfd pfd[8];
	struct endpoint *who[8];
	size_t k = 0;

	for (size_t i = 0; i < n && k < 8; i++) {
		short events = 0;
		int fd;

		if (eps[i] == NULL || eps[i]->ops->poll_fd == NULL ||
		    ep_in_flight(eps[i]) == 0)
			continue;
		fd = eps[i]->ops->poll_fd(eps[i], &events);
		if (fd == -1)
			continue;
		pfd[k] = (struct pollfd){ .fd = fd, .events = events };
		who[k++] = eps[i];
	}
	if (k == 0)
		return 0;
	if (poll(pfd, k, timeout_ms) == -1)
		return errno == EINTR ? 0 : errno;
	for (size_t i = 0; i < k; i++) {
		int e;

		if (pfd[i].revents == 0)
			continue;
		e = who[i]->ops->poll_notify(who[i], pfd[i].revents);
		if (e != 0) {
			*failed = who[i];
			return e;
		}
	}
	return 0;
}

unsigned
ep_in_flight(struct endpoint *ep)
{
	return ep->ops->in_flight != NULL ? ep->ops->in_flight(ep) : 0;
}

struct endpoint *
ep_reopen(struct endpoint *ep)
{
	struct endpoint *r = ep->ops->reopen != NULL ? ep->ops->reopen(ep) :
	    NULL;

	if (r == NULL)
		return NULL;
	r->stats = ep->stats;
	if (r->stats != NULL)
		atomic_fetch_add(&r->stats->connections, 1);
	return r;
}

void
ep_close(struct endpoint *ep)
{
	if (ep != NULL)
		ep->ops->close(ep);
}

const char *
ep_kind(const struct endpoint *ep)
{
	return ep->ops->kind;
}

bool
ep_has_context(const struct endpoint *ep, const char *context)
{
	return ep->ops->has_context != NULL &&
	    ep->ops->has_context(ep, context);
}

void
ep_free_later(struct endpoint *ep, void (*fn)(void *), void *arg)
{
	if (ep->ops->free_later != NULL) {
		ep->ops->free_later(ep, fn, arg);
		return;
	}
	fn(arg);
}

bool
ep_same_file(const struct endpoint *a, const struct ep_arg *b)
{
	struct stat sa, sb;
	int fd = ep_local_fd(a);

	if (fd == -1 || b->kind != EP_ARG_PATH)
		return false;
	if (fstat(fd, &sa) == -1 || stat(b->str, &sb) == -1)
		return false;
	/* Two device nodes may name one disk. */
	if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode))
		return sa.st_rdev == sb.st_rdev;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
