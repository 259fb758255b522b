/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NBD exports, over the connection module.  Every command is issued with
 * libnbd's asynchronous API; the synchronous ops issue one and run the
 * event loop until it is done, so there is one code path.
 *
 * Reads go through nbd_aio_pread_structured so that each chunk of a
 * structured reply passes through check_chunk(): a chunk outside the
 * request or an offset covered twice fails the read, and so does a
 * successful end with bytes never covered.  A server breaking those rules
 * gets an error naming the offset, never zero-filled bytes passed off as
 * data (SPEC 1.2).
 *
 * Block status is a command like the others: counted in flight, reaped
 * by the same poll, its reply chunks for the context asked handed to the
 * caller (extents.c) unchecked, since the engine there judges them.  So
 * this is the one file that issues commands on the handle, polls it and
 * records why it failed.
 *
 * Requests longer than the server's maximum are split, and unaligned
 * reads are widened to the server's minimum block size through a bounce
 * buffer, so callers may ask for any range.
 *
 * Per-command bookkeeping (struct req, struct cmd and its cover) is kept
 * on free lists of the endpoint and reused, so a copy at several GB/s
 * does no malloc per command.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "cli.h"
#include "conn.h"
#include "cover.h"
#include "endpoint-internal.h"

/* Zeroing requests are not bound by the data maximum; 1 GiB is safe. */
#define ZERO_MAX	(1u << 30)

struct ep_nbd {
	struct endpoint ep;
	struct conn *c;
	const struct ep_arg *arg;
	struct conn_want want;
	bool can_zero;
	bool can_flush;
	bool borrowed;		/* c belongs to the caller (ep_nbd_adopt) */
	unsigned in_flight;	/* requests not yet reported done */
	unsigned long completed;/* requests reported done, ever */
	struct req *free_reqs;
	struct cmd *free_cmds;
	/*
	 * Every cmd ever allocated, so that commands abandoned in flight
	 * (a signal, a dead server) are still freed and never reported as
	 * leaks: libnbd drops its pointers to them when it closes.
	 */
	struct cmd *all_cmds;
};

/* One caller request, split into one or more NBD commands. */
struct req {
	struct ep_nbd *e;
	ep_done_fn done;
	ep_extent_fn extent;	/* block status: the caller's chunks */
	const char *context;	/* block status: which chunks those are */
	void *opaque;
	unsigned pending;	/* commands not yet completed */
	int err;		/* first error */
	/* Bounce read: the caller's buffer and where its bytes start. */
	char *user_buf;
	char *bounce;
	size_t user_len;
	size_t skip;
	struct req *next_free;
};

struct cmd {
	struct req *r;
	uint64_t off;
	uint64_t len;
	struct cover cov;	/* its array is kept across reuses */
	struct cmd *next_free;
	struct cmd *next_all;
};

static const struct endpoint_ops ep_nbd_ops;

static struct req *
req_new(struct ep_nbd *e, ep_done_fn done, void *opaque)
{
	struct req *r = e->free_reqs;

	if (r != NULL)
		e->free_reqs = r->next_free;
	else if ((r = malloc(sizeof(*r))) == NULL)
		err(EXIT_FAILURE, "malloc");
	*r = (struct req){ .e = e, .done = done, .opaque = opaque,
	    .pending = 1 };	/* held until every command is issued */
	e->in_flight++;
	return r;
}

/* Drops one reference; the last one reports the request done. */
static void
req_put(struct req *r, int e)
{
	if (e != 0 && r->err == 0)
		r->err = e;
	if (--r->pending > 0)
		return;
	if (r->bounce != NULL) {
		if (r->err == 0)
			memcpy(r->user_buf, r->bounce + r->skip, r->user_len);
		free(r->bounce);
	}
	r->e->in_flight--;
	r->e->completed++;
	r->done(r->opaque, r->err);
	r->next_free = r->e->free_reqs;
	r->e->free_reqs = r;
}

/* Keeps the first broken rule for ep_die() to print instead of EPROTO. */
static void
protocol_error(struct cmd *c, const char *what, uint64_t off)
{
	struct endpoint *ep = &c->r->e->ep;

	if (ep->error_detail[0] == '\0')
		snprintf(ep->error_detail, sizeof(ep->error_detail),
		    "%s %" PRIu64, what, off);
}

static int
check_chunk(void *user, const void *subbuf, size_t count, uint64_t offset,
    unsigned status, int *error)
{
	struct cmd *c = user;
	uint64_t lo, hi;

	(void)subbuf;
	if (status == LIBNBD_READ_ERROR)
		return 0;	/* libnbd fails the command with it */
	if (offset < c->off || count > c->len || offset - c->off > c->len - count) {
		protocol_error(c, "server sent a read chunk outside the "
		    "request, at offset", offset);
		*error = EPROTO;
		return -1;
	}
	lo = offset - c->off;
	hi = lo + count;
	if (count > 0 && !cover_add(&c->cov, lo, hi)) {
		protocol_error(c, "server sent overlapping read chunks, at "
		    "offset", offset);
		*error = EPROTO;
		return -1;
	}
	return 0;
}

static void
cmd_finish(struct cmd *c, int e)
{
	struct req *r = c->r;

	c->next_free = r->e->free_cmds;
	r->e->free_cmds = c;
	req_put(r, e);
}

static int
read_done(void *user, int *error)
{
	struct cmd *c = user;
	int e = *error;
	uint64_t gap;

	if (e == 0 && !cover_complete(&c->cov, c->len, &gap)) {
		protocol_error(c, "server did not send the bytes at offset",
		    c->off + gap);
		e = EPROTO;
	}
	cmd_finish(c, e);
	return 1;
}

static int
cmd_done(void *user, int *error)
{
	cmd_finish(user, *error);
	return 1;
}

static struct cmd *
cmd_new(struct req *r, uint64_t off, uint64_t len)
{
	struct cmd *c = r->e->free_cmds;

	if (c != NULL)
		r->e->free_cmds = c->next_free;
	else {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			err(EXIT_FAILURE, "calloc");
		c->next_all = r->e->all_cmds;
		r->e->all_cmds = c;
	}
	c->r = r;
	c->off = off;
	c->len = len;
	c->cov.n = 0;	/* emptied, its array kept */
	r->pending++;
	return c;
}

/* A command libnbd refused to issue: its callbacks will never run. */
static void
cmd_refused(struct cmd *c)
{
	int e = nbd_get_errno();

	cmd_finish(c, e != 0 ? e : EIO);
}

/*
 * libnbd may see the server break the protocol while it issues a
 * command and still return success for the queued command; the reason
 * is then only in this thread's last error, which the next call would
 * overwrite with "invalid state: DEAD".
 */
static void
cmd_issued(struct ep_nbd *e, struct cmd *c, int64_t rc)
{
	const char *why;

	if (rc == -1) {
		cmd_refused(c);
		return;
	}
	if (e->ep.error_detail[0] == '\0' && nbd_aio_is_dead(e->c->h) == 1 &&
	    (why = nbd_get_error()) != NULL)
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail), "%s",
		    why);
}

static void
issue_reads(struct req *r, char *buf, uint64_t len, uint64_t off)
{
	struct ep_nbd *e = r->e;

	while (len > 0) {
		uint64_t n = MIN(len, (uint64_t)e->ep.block_max);
		struct cmd *c = cmd_new(r, off, n);
		nbd_chunk_callback chunk = { .callback = check_chunk,
		    .user_data = c };
		nbd_completion_callback done = { .callback = read_done,
		    .user_data = c };

		cmd_issued(e, c, nbd_aio_pread_structured(e->c->h, buf, n, off,
		    chunk, done, 0));
		buf += n;
		len -= n;
		off += n;
	}
}

static void
ep_nbd_aio_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    ep_done_fn done, void *opaque)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct req *r = req_new(e, done, opaque);
	uint64_t min = ep->block_min, lo, hi;

	if (off % min == 0 && len % min == 0) {
		issue_reads(r, buf, len, off);
		req_put(r, 0);
		return;
	}
	lo = off - off % min;
	hi = off + len;
	if (hi % min != 0)
		hi += min - hi % min;
	r->bounce = malloc(hi - lo);
	if (r->bounce == NULL) {
		req_put(r, ENOMEM);
		return;
	}
	r->user_buf = buf;
	r->user_len = len;
	r->skip = off - lo;
	issue_reads(r, r->bounce, hi - lo, lo);
	req_put(r, 0);
}

static void
ep_nbd_aio_write(struct endpoint *ep, const void *buf, size_t len,
    uint64_t off, ep_done_fn done, void *opaque)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct req *r = req_new(e, done, opaque);
	const char *p = buf;

	while (len > 0) {
		uint64_t n = MIN((uint64_t)len, (uint64_t)ep->block_max);
		struct cmd *c = cmd_new(r, off, n);
		nbd_completion_callback cb = { .callback = cmd_done,
		    .user_data = c };

		cmd_issued(e, c, nbd_aio_pwrite(e->c->h, p, n, off, cb, 0));
		p += n;
		len -= n;
		off += n;
	}
	req_put(r, 0);
}

static const char zero_buf[1 << 20];

/*
 * Servers without write-zeroes get zero bytes written; with allocate,
 * NO_HOLE keeps the range allocated as --allocated asks.
 */
static void
ep_nbd_aio_zero(struct endpoint *ep, uint64_t off, uint64_t len,
    bool allocate, ep_done_fn done, void *opaque)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct req *r = req_new(e, done, opaque);
	uint32_t flags = allocate ? LIBNBD_CMD_FLAG_NO_HOLE : 0;
	uint64_t max = e->can_zero ? ZERO_MAX - ZERO_MAX % ep->block_min :
	    MIN((uint64_t)sizeof(zero_buf), (uint64_t)ep->block_max);

	while (len > 0) {
		uint64_t n = MIN(len, max);
		struct cmd *c = cmd_new(r, off, n);
		nbd_completion_callback cb = { .callback = cmd_done,
		    .user_data = c };
		int64_t rc;

		if (e->can_zero)
			rc = nbd_aio_zero(e->c->h, n, off, cb, flags);
		else
			rc = nbd_aio_pwrite(e->c->h, zero_buf, n, off, cb, 0);
		cmd_issued(e, c, rc);
		len -= n;
		off += n;
	}
	req_put(r, 0);
}

/* Only the chunks for the context asked reach the caller. */
static int
status_extent(void *user, const char *metacontext, uint64_t offset,
    uint32_t *entries, size_t nr_entries, int *error UNUSED)
{
	struct req *r = ((struct cmd *)user)->r;

	if (strcmp(metacontext, r->context) == 0)
		r->extent(r->opaque, offset, entries, nr_entries);
	return 0;
}

/* One command, never split: the caller keeps to the server's limits. */
static void
ep_nbd_aio_block_status(struct endpoint *ep, const char *context,
    uint64_t off, uint32_t len, ep_extent_fn extent, ep_done_fn done,
    void *opaque)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct req *r = req_new(e, done, opaque);
	struct cmd *c;

	r->extent = extent;
	r->context = context;
	c = cmd_new(r, off, len);
	cmd_issued(e, c, nbd_aio_block_status(e->c->h, len, off,
	    (nbd_extent_callback){ .callback = status_extent, .user_data = c },
	    (nbd_completion_callback){ .callback = cmd_done, .user_data = c },
	    0));
	req_put(r, 0);
}

static bool
ep_nbd_has_context(const struct endpoint *ep, const char *context)
{
	const struct conn *c = ((const struct ep_nbd *)ep)->c;

	return c->sr && conn_has_context(c, context);
}

static void
ep_nbd_free_later(struct endpoint *ep, void (*fn)(void *), void *arg)
{
	conn_free_after_close(((struct ep_nbd *)ep)->c, fn, arg);
}

static int
ep_nbd_poll_fd(struct endpoint *ep, short *events)
{
	struct nbd_handle *h = ((struct ep_nbd *)ep)->c->h;
	unsigned dir = nbd_aio_get_direction(h);

	*events = 0;
	if (dir & LIBNBD_AIO_DIRECTION_READ)
		*events |= POLLIN;
	if (dir & LIBNBD_AIO_DIRECTION_WRITE)
		*events |= POLLOUT;
	return nbd_aio_get_fd(h);
}

/*
 * A dead connection makes libnbd fail every command in flight through
 * its callbacks, so the caller learns of each one; the errno returned
 * here only says the connection is gone.
 */
static int
ep_nbd_poll_notify(struct endpoint *ep, short revents)
{
	struct nbd_handle *h = ((struct ep_nbd *)ep)->c->h;
	int r = 0;

	if (revents & (POLLIN | POLLHUP))
		r = nbd_aio_notify_read(h);
	else if (revents & POLLOUT)
		r = nbd_aio_notify_write(h);
	else if (revents & (POLLERR | POLLNVAL))
		return ECONNRESET;
	if (r == -1) {
		/* libnbd's reason is better than the ENOTCONN the commands get. */
		if (nbd_get_error() != NULL && ep->error_detail[0] == '\0')
			snprintf(ep->error_detail, sizeof(ep->error_detail),
			    "%s", nbd_get_error());
		return nbd_get_errno() != 0 ? nbd_get_errno() : ECONNRESET;
	}
	/*
	 * EOF between replies is a clean close to libnbd: no error, but
	 * the commands in flight fail with ENOTCONN, which says less.
	 */
	if (nbd_aio_is_closed(h) == 1 && ep->error_detail[0] == '\0')
		snprintf(ep->error_detail, sizeof(ep->error_detail),
		    "server closed the connection");
	return 0;
}

/*
 * One poll(2) on the handle: 0 (also on a timeout or a signal), or an
 * errno value when the connection died.  endpoint.c's ep_try_poll()
 * does the same over several endpoints through the ops.
 */
static int
wait_once(struct endpoint *ep, int timeout_ms)
{
	struct pollfd pfd = { .fd = -1 };

	pfd.fd = ep_nbd_poll_fd(ep, &pfd.events);
	if (pfd.fd == -1)
		return 0;
	if (poll(&pfd, 1, timeout_ms) == -1)
		return errno == EINTR ? 0 : errno;
	if (pfd.revents == 0)
		return 0;
	return ep_nbd_poll_notify(ep, pfd.revents);
}

static void
ep_nbd_poll(struct endpoint *ep)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	unsigned long start = e->completed;
	int err;

	while (e->in_flight > 0 && e->completed == start &&
	    !(cli_interrupted && cli_grace_expired())) {
		/* A timeout, so a signal taken by another thread is seen. */
		err = wait_once(ep, CLI_POLL_MS);
		if (err == 0 || e->completed != start)
			continue;
		errx(EXIT_FAILURE, "%s: %s: %s", ep->side, ep->name,
		    nbd_get_error() ? nbd_get_error() : strerror(err));
	}
}

static unsigned
ep_nbd_in_flight(struct endpoint *ep)
{
	return ((struct ep_nbd *)ep)->in_flight;
}

struct sync_wait {
	bool done;
	int err;
};

static void
sync_done(void *opaque, int e)
{
	struct sync_wait *w = opaque;

	w->done = true;
	w->err = e;
}

static int
sync_wait(struct endpoint *ep, struct sync_wait *w)
{
	while (!w->done) {
		cli_check_interrupted();
		ep_nbd_poll(ep);
	}
	return w->err;
}

static int
ep_nbd_read(struct endpoint *ep, void *buf, size_t len, uint64_t off,
    size_t *got)
{
	struct sync_wait w = { false, 0 };

	ep_nbd_aio_read(ep, buf, len, off, sync_done, &w);
	*got = sync_wait(ep, &w) == 0 ? len : 0;
	return w.err;
}

static int
ep_nbd_write(struct endpoint *ep, const void *buf, size_t len, uint64_t off)
{
	struct sync_wait w = { false, 0 };

	ep_nbd_aio_write(ep, buf, len, off, sync_done, &w);
	return sync_wait(ep, &w);
}

static int
ep_nbd_zero(struct endpoint *ep, uint64_t off, uint64_t len, bool allocate)
{
	struct sync_wait w = { false, 0 };

	ep_nbd_aio_zero(ep, off, len, allocate, sync_done, &w);
	return sync_wait(ep, &w);
}

static int
ep_nbd_flush(struct endpoint *ep)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;

	if (!e->can_flush)
		return 0;
	if (nbd_flush(e->c->h, 0) == -1)
		return nbd_get_errno() != 0 ? nbd_get_errno() : EIO;
	return 0;
}

/*
 * libnbd zeroes every read buffer before the reply comes, in case the
 * caller ignores errors: a memset of everything copied.  Here a read
 * succeeds only when check_chunk() and read_done() saw every byte
 * covered by the server, so nothing unread is ever used.  Only for the
 * connections this file opens: an adopted one keeps its owner's setting.
 */
static void
skip_pread_init(struct conn *c)
{
	/* Should it fail, libnbd keeps zeroing: slower, still correct. */
	(void)nbd_set_pread_initialize(c->h, false);
}

static struct endpoint *
make(struct conn *c, const struct ep_arg *arg, const struct conn_want *want,
    const char *side)
{
	struct ep_nbd *e = calloc(1, sizeof(*e));
	uint32_t max;

	if (e == NULL)
		err(EXIT_FAILURE, "calloc");
	e->c = c;
	e->arg = arg;
	e->want = *want;
	e->can_zero = nbd_can_zero(c->h) == 1;
	e->can_flush = nbd_can_flush(c->h) == 1;
	max = c->block_max ? MIN(c->block_max, EP_DEFAULT_MAX) : EP_DEFAULT_MAX;
	if (c->block_min > 1)
		max -= max % c->block_min;
	e->ep = (struct endpoint){
		.ops = &ep_nbd_ops,
		.name = c->name,
		.side = side,
		.size = c->size,
		.block_min = c->block_min ? c->block_min : 1,
		.block_pref = c->block_pref ? c->block_pref : 4096,
		.block_max = max ? max : EP_DEFAULT_MAX,
		.advertised_min = c->block_min,
		.advertised_max = c->block_max,
		.read_only = c->read_only,
		.can_zero_fast = e->can_zero,
		.can_multi_conn = c->multi_conn || c->read_only,
		.has_extents = c->sr && c->ncontexts > 0,
		.conn = c,
	};
	return &e->ep;
}

static struct endpoint *
ep_nbd_reopen(struct endpoint *ep)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct conn *c;

	if (e->arg->kind != EP_ARG_URI)
		return NULL;
	c = conn_try_open(e->arg, &e->want);
	if (c == NULL)
		return NULL;
	skip_pread_init(c);
	return make(c, e->arg, &e->want, ep->side);
}

static void
ep_nbd_close(struct endpoint *ep)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;

	while (e->in_flight > 0 && !(cli_interrupted && cli_grace_expired()))
		ep_nbd_poll(ep);
	if (!e->borrowed)
		conn_close(e->c);
	while (e->free_reqs != NULL) {
		struct req *r = e->free_reqs;

		e->free_reqs = r->next_free;
		free(r);
	}
	while (e->all_cmds != NULL) {
		struct cmd *c = e->all_cmds;

		e->all_cmds = c->next_all;
		cover_free(&c->cov);
		free(c);
	}
	free(e);
}

static const struct endpoint_ops ep_nbd_ops = {
	.kind = "nbd",
	.read = ep_nbd_read,
	.write = ep_nbd_write,
	.zero = ep_nbd_zero,
	.flush = ep_nbd_flush,
	.aio_read = ep_nbd_aio_read,
	.aio_write = ep_nbd_aio_write,
	.aio_zero = ep_nbd_aio_zero,
	.poll = ep_nbd_poll,
	.in_flight = ep_nbd_in_flight,
	.poll_fd = ep_nbd_poll_fd,
	.poll_notify = ep_nbd_poll_notify,
	.aio_block_status = ep_nbd_aio_block_status,
	.has_context = ep_nbd_has_context,
	.free_later = ep_nbd_free_later,
	.reopen = ep_nbd_reopen,
	.close = ep_nbd_close,
};

struct endpoint *
ep_nbd_adopt(struct conn *c, const char *side)
{
	struct ep_nbd *e = (struct ep_nbd *)make(c, c->arg, &c->c_want, side);

	e->borrowed = true;
	return &e->ep;
}

struct endpoint *
ep_nbd_open(const struct ep_arg *arg, const struct ep_open_opts *opts)
{
	struct conn_want want = { .no_contexts = opts->no_context };
	struct conn *c;

	want.contexts[0] = opts->context;
	/* Naming a second context means the first must be named too. */
	if (opts->also_context != NULL) {
		if (want.contexts[0] == NULL)
			want.contexts[0] = LIBNBD_CONTEXT_BASE_ALLOCATION;
		want.contexts[1] = opts->also_context;
	}
	c = conn_open(arg, &want);
	if (opts->mode == EP_WRITE && c->read_only)
		errx(EXIT_FAILURE, "%s: %s: export is read-only", opts->side,
		    c->name);
	if (c->size < 0)
		errx(EXIT_FAILURE, "%s: %s: %s", opts->side, c->name,
		    conn_last_error());
	skip_pread_init(c);
	return make(c, arg, &want, opts->side);
}
