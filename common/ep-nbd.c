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
 *
 * Each command in flight keeps what it takes to send it again (kind,
 * offset, length, buffer, flags), in the order sent, so that with
 * --retries a fault is mended here and the caller never sees it: an
 * error reply is sent again on the same connection after the delay
 * (the connection itself is fine); a connection lost, or one whose
 * oldest command is older than --timeout, is dropped and made again
 * with the same URI and options, and everything that was in flight on
 * it is sent again.  Reads, writes and zeroes at fixed offsets are
 * idempotent; block status sent again hands the caller no extents it
 * already had.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "cli.h"
#include "clock.h"
#include "conn.h"
#include "cover.h"
#include "endpoint-internal.h"

/* Zeroing requests are not bound by the data maximum; 1 GiB is safe. */
#define ZERO_MAX	(1u << 30)

/*
 * qemu-nbd takes a fresh buffer for every read of 1 MiB or more and lets
 * it go after the reply: glibc maps and unmaps it each time, so the
 * server faults in every page of every such read, several times the CPU
 * of the read itself (qemu-nbd 7.2, 1 GiB read in 1 MiB requests: 260,000
 * page faults and 4.6 s of its CPU; in 512 KiB requests: 13,500 and
 * 0.55 s).  Its reads are kept to 512 KiB unless the caller says.
 */
#define QEMU_READ_CHEAP	(512u << 10)
/* The largest request qemu's server ever advertises (NBD_MAX_BUFFER_SIZE). */
#define QEMU_MAX_BUFFER	(32u << 20)

/* The longest wait between two retries. */
#define RETRY_DELAY_MAX_NS	(60 * 1000000000LL)

/* Every retry of every endpoint, for ep_retries(). */
static atomic_uint_fast64_t retries_made;

enum cmd_kind { CMD_READ, CMD_WRITE, CMD_ZERO, CMD_BLOCK_STATUS, CMD_FLUSH };

static const char *const kind_names[] = {
	[CMD_READ] = "read", [CMD_WRITE] = "write", [CMD_ZERO] = "zero",
	[CMD_BLOCK_STATUS] = "block status", [CMD_FLUSH] = "flush",
};

struct ep_nbd {
	struct endpoint ep;
	struct conn *c;
	const struct ep_arg *arg;
	struct conn_want want;
	bool can_zero;
	bool can_flush;
	bool borrowed;		/* c belongs to the caller (ep_nbd_adopt) */
	struct ep_retry retry;
	unsigned attempt;	/* faults since the last command succeeded */
	/* The connection is gone or hung: reconnect before sending. */
	int lost;
	/* Retries are over: every command fails at once with this errno. */
	int dead;
	unsigned nwaiting;	/* commands waiting to be sent again */
	/* Commands not yet reported done, oldest sent first. */
	struct cmd *oldest, *newest;
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
	enum cmd_kind kind;
	void *buf;		/* read into or written from */
	uint64_t off;
	uint64_t len;
	uint32_t flags;
	int64_t t0;		/* when sent, with --timeout */
	int err;		/* the fault it waits to be sent again for */
	bool waiting;		/* not on the current connection: send again */
	bool delivered;		/* block status: the caller had extents */
	bool mute;		/* block status: so this reply's go nowhere */
	struct cover cov;	/* its array is kept across reuses */
	struct cmd *prev, *next;	/* in flight, oldest sent first */
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
unlink_cmd(struct ep_nbd *e, struct cmd *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		e->oldest = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		e->newest = c->prev;
	c->prev = c->next = NULL;
}

static void
append_cmd(struct ep_nbd *e, struct cmd *c)
{
	c->prev = e->newest;
	c->next = NULL;
	if (e->newest != NULL)
		e->newest->next = c;
	else
		e->oldest = c;
	e->newest = c;
}

static void
cmd_finish(struct cmd *c, int e)
{
	struct req *r = c->r;

	unlink_cmd(r->e, c);
	c->next_free = r->e->free_cmds;
	r->e->free_cmds = c;
	req_put(r, e);
}

/*
 * With --retries, a fault is kept for another try: ENOSPC and the like
 * would only fail again, and a broken rule (EPROTO) is the server's
 * nature, not an accident.
 */
static bool
retryable(const struct ep_nbd *e, int err)
{
	if (e->retry.retries == 0)
		return false;
	switch (err) {
	case ENOSPC: case EDQUOT: case EROFS: case EFBIG: case EINVAL:
	case EPERM: case EPROTO: case ENOMEM: case EOVERFLOW:
		return false;
	}
	return true;
}

static void
wait_again(struct ep_nbd *e, struct cmd *c, int err)
{
	c->err = err;
	c->waiting = true;
	e->nwaiting++;
}

/* A command came back: done, or kept to be sent again. */
static void
cmd_back(struct cmd *c, int err)
{
	struct ep_nbd *e = c->r->e;

	if (err == 0)
		e->attempt = 0;
	else if (retryable(e, err)) {
		wait_again(e, c, err);
		return;
	}
	cmd_finish(c, err);
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
	cmd_back(c, e);
	return 1;
}

static int
cmd_done(void *user, int *error)
{
	cmd_back(user, *error);
	return 1;
}

/* Only the chunks for the context asked reach the caller, and once. */
static int
status_extent(void *user, const char *metacontext, uint64_t offset,
    uint32_t *entries, size_t nr_entries, int *error UNUSED)
{
	struct cmd *c = user;
	struct req *r = c->r;

	if (c->mute || strcmp(metacontext, r->context) != 0)
		return 0;
	c->delivered = true;
	r->extent(r->opaque, offset, entries, nr_entries);
	return 0;
}

static bool
conn_gone(const struct ep_nbd *e)
{
	return nbd_aio_is_dead(e->c->h) == 1 || nbd_aio_is_closed(e->c->h) == 1;
}

static void
lose(struct ep_nbd *e, int err)
{
	if (e->lost == 0)
		e->lost = err;
}

/*
 * libnbd may see the server break the protocol while it issues a
 * command and still return success for the queued command; the reason
 * is then only in this thread's last error, which the next call would
 * overwrite with "invalid state: DEAD".  A command it refused never
 * calls back.
 */
static void
cmd_issued(struct ep_nbd *e, struct cmd *c, int64_t rc)
{
	const char *why;
	int err;

	if (rc == -1) {
		err = nbd_get_errno() != 0 ? nbd_get_errno() : EIO;
		if (!retryable(e, err)) {
			cmd_finish(c, err);
			return;
		}
		wait_again(e, c, err);
		if (conn_gone(e))
			lose(e, err);
		return;
	}
	if (nbd_aio_is_dead(e->c->h) != 1)
		return;
	if (e->ep.error_detail[0] == '\0' && (why = nbd_get_error()) != NULL)
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail), "%s",
		    why);
	/*
	 * Lost now, not at the next recover(): the caller may send more
	 * before it waits, and a send on a dead handle fails with EINVAL,
	 * which is no fault to retry (seen under ASan: a copy ended after
	 * "retry 1").
	 */
	if (e->retry.retries > 0)
		lose(e, nbd_get_errno() != 0 ? nbd_get_errno() : ECONNRESET);
}

/*
 * Sends c on the current connection, as the newest command in flight;
 * one waiting for a reconnect only joins the queue.
 */
static void
send_cmd(struct ep_nbd *e, struct cmd *c)
{
	struct nbd_handle *h = e->c->h;
	nbd_completion_callback done = { .callback = cmd_done,
	    .user_data = c };
	int64_t rc = -1;

	append_cmd(e, c);
	if (e->dead != 0) {
		cmd_finish(c, e->dead);
		return;
	}
	if (e->lost != 0) {
		wait_again(e, c, e->lost);
		return;
	}
	if (e->retry.timeout_ns > 0)
		c->t0 = clock_now_ns();
	switch (c->kind) {
	case CMD_READ:
		c->cov.n = 0;	/* emptied, its array kept */
		rc = nbd_aio_pread_structured(h, c->buf, c->len, c->off,
		    (nbd_chunk_callback){ .callback = check_chunk,
		    .user_data = c }, (nbd_completion_callback){
		    .callback = read_done, .user_data = c }, 0);
		break;
	case CMD_WRITE:
		rc = nbd_aio_pwrite(h, c->buf, c->len, c->off, done, c->flags);
		break;
	case CMD_ZERO:
		rc = nbd_aio_zero(h, c->len, c->off, done, c->flags);
		break;
	case CMD_BLOCK_STATUS:
		c->mute = c->delivered;
		rc = nbd_aio_block_status(h, c->len, c->off,
		    (nbd_extent_callback){ .callback = status_extent,
		    .user_data = c }, done, 0);
		break;
	case CMD_FLUSH:
		rc = nbd_aio_flush(h, done, 0);
		break;
	}
	cmd_issued(e, c, rc);
}

static void
send_new(struct req *r, enum cmd_kind kind, void *buf, uint64_t off,
    uint64_t len, uint32_t flags)
{
	struct ep_nbd *e = r->e;
	struct cmd *c = e->free_cmds;

	if (c != NULL)
		e->free_cmds = c->next_free;
	else {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			err(EXIT_FAILURE, "calloc");
		c->next_all = e->all_cmds;
		e->all_cmds = c;
	}
	c->r = r;
	c->kind = kind;
	c->buf = buf;
	c->off = off;
	c->len = len;
	c->flags = flags;
	c->err = 0;
	c->waiting = c->delivered = false;
	r->pending++;
	send_cmd(e, c);
}

static void
issue_reads(struct req *r, char *buf, uint64_t len, uint64_t off)
{
	struct ep_nbd *e = r->e;

	while (len > 0) {
		uint64_t n = MIN(len, (uint64_t)e->ep.block_max);

		send_new(r, CMD_READ, buf, off, n, 0);
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

		/* libnbd only reads from a write's buffer. */
		send_new(r, CMD_WRITE, (void *)p, off, n, 0);
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

		if (e->can_zero)
			send_new(r, CMD_ZERO, NULL, off, n, flags);
		else
			send_new(r, CMD_WRITE, (void *)zero_buf, off, n, 0);
		len -= n;
		off += n;
	}
	req_put(r, 0);
}

/* One command, never split: the caller keeps to the server's limits. */
static void
ep_nbd_aio_block_status(struct endpoint *ep, const char *context,
    uint64_t off, uint32_t len, ep_extent_fn extent, ep_done_fn done,
    void *opaque)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct req *r = req_new(e, done, opaque);

	r->extent = extent;
	r->context = context;
	send_new(r, CMD_BLOCK_STATUS, NULL, off, len, 0);
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

/*
 * The delay before retry number n: the user's, doubled each time,
 * capped at a minute.
 */
static int64_t
retry_delay(const struct ep_nbd *e, unsigned n)
{
	int64_t d = e->retry.delay_ns;

	while (--n > 0 && d < RETRY_DELAY_MAX_NS)
		d *= 2;
	return MIN(d, RETRY_DELAY_MAX_NS);
}

/* Sleeps ns; false as soon as a signal came. */
static bool
nap(int64_t ns)
{
	int64_t end = clock_now_ns() + ns;

	for (int64_t left = ns; left > 0; left = end - clock_now_ns()) {
		if (cli_interrupted)
			return false;
		(void)poll(NULL, 0, (int)MIN(left / 1000000 + 1, 50));
	}
	return !cli_interrupted;
}

/* The command a retry names: the first waiting, else the oldest. */
static struct cmd *
first_fault(const struct ep_nbd *e)
{
	for (struct cmd *c = e->oldest; c != NULL; c = c->next)
		if (c->waiting)
			return c;
	return e->oldest;
}

/*
 * Says the fault of c on stderr with the retry it gets and waits for
 * it; false when there is none to give: out of retries, a "[ CMD ]"
 * server to reconnect to, or a signal.
 */
static bool
another_try(struct ep_nbd *e, const struct cmd *c, int err)
{
	char why[sizeof(e->ep.error_detail)];
	int64_t delay;

	snprintf(why, sizeof(why), "%s", e->ep.error_detail[0] != '\0' ?
	    e->ep.error_detail : strerror(err));
	if (e->attempt >= e->retry.retries)
		return false;
	if (e->lost != 0 && e->arg->kind != EP_ARG_URI) {
		/* Cut to leave room for what follows. */
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail),
		    "%.200s; a [ CMD ] server cannot be reconnected", why);
		return false;
	}
	delay = retry_delay(e, ++e->attempt);
	warnx("%s: %s at offset %" PRIu64 ": %s; retry %u of %u in %g s",
	    e->ep.side, kind_names[c->kind], c->off, why, e->attempt,
	    e->retry.retries, delay / 1e9);
	atomic_fetch_add(&retries_made, 1);
	e->ep.error_detail[0] = '\0';
	return nap(delay);
}

/*
 * No more tries: the waiting commands fail with their faults, and all
 * of them when the connection is lost, which then stays lost.
 */
static void
give_up(struct ep_nbd *e, int err)
{
	struct cmd *c = e->oldest, *next;

	if (cli_interrupted)
		err = EINTR;
	if (e->lost != 0) {
		e->dead = err;
		e->c->unresponsive = true;
	}
	if (e->ep.error_detail[0] == '\0')
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail), "%s",
		    strerror(err));
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->waiting) {
			c->waiting = false;
			e->nwaiting--;
			cmd_finish(c, cli_interrupted || c->err == 0 ? err :
			    c->err);
		} else if (e->dead != 0)
			cmd_finish(c, err);
	}
}

/*
 * Sends again the commands waiting (all, after a reconnect), in the
 * order they were first sent; a send that faults waits once more.
 */
static void
send_again(struct ep_nbd *e, bool all)
{
	struct cmd *c = e->oldest, *last = e->newest, *next;

	for (bool end = c == NULL; !end; c = next) {
		end = c == last;
		next = c->next;
		if (!all && !c->waiting)
			continue;
		if (c->waiting) {
			c->waiting = false;
			e->nwaiting--;
		}
		unlink_cmd(e, c);
		send_cmd(e, c);
	}
}

/*
 * A new connection to the same export; a size that changed means
 * another disk, which is no retry's business.  False if not made.
 */
static bool
reconnect(struct ep_nbd *e)
{
	if (conn_reconnect(e->c) == -1) {
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail), "%s",
		    conn_last_error());
		return false;
	}
	skip_pread_init(e->c);
	if (e->c->size != e->ep.size) {
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail),
		    "not the same disk: its size is now %" PRId64 ", was %"
		    PRId64, e->c->size, e->ep.size);
		give_up(e, ESTALE);
		return false;
	}
	e->lost = 0;
	return true;
}

/*
 * Mends what faulted (--retries): waits, reconnects if the connection
 * is lost, sends again; until nothing waits or there are no tries
 * left.  A lost connection with nothing on it is mended by the next
 * command.  May call back into the caller, as a poll does.
 */
static void
recover(struct ep_nbd *e)
{
	while ((e->lost != 0 || e->nwaiting > 0) && e->dead == 0 &&
	    e->oldest != NULL) {
		struct cmd *c = first_fault(e);
		bool lost;

		/*
		 * libnbd may accept a command and die sending it: the command
		 * comes back with ENOTCONN and nothing else says the handle is
		 * dead, where sending again only fails with EINVAL.
		 */
		if (e->lost == 0 && conn_gone(e))
			lose(e, c->err != 0 ? c->err : ENOTCONN);
		lost = e->lost != 0;

		if (!another_try(e, c, lost ? e->lost : c->err)) {
			give_up(e, lost ? e->lost : c->err);
			return;
		}
		if (lost && !reconnect(e))
			continue;
		send_again(e, lost);
	}
}

/*
 * One step of libnbd's state machine for what poll(2) saw: 0, or an
 * errno value when the connection died.
 */
static int
notify(struct ep_nbd *e, short revents)
{
	struct nbd_handle *h = e->c->h;
	int r = 0;

	if (revents & (POLLIN | POLLHUP))
		r = nbd_aio_notify_read(h);
	else if (revents & POLLOUT)
		r = nbd_aio_notify_write(h);
	else if (revents & (POLLERR | POLLNVAL))
		return ECONNRESET;
	if (r == -1) {
		/* libnbd's reason is better than the ENOTCONN the commands get. */
		if (nbd_get_error() != NULL && e->ep.error_detail[0] == '\0')
			snprintf(e->ep.error_detail,
			    sizeof(e->ep.error_detail), "%s", nbd_get_error());
		return nbd_get_errno() != 0 ? nbd_get_errno() : ECONNRESET;
	}
	/*
	 * EOF between replies is a clean close to libnbd: no error, but
	 * the commands in flight fail with ENOTCONN, which says less.
	 */
	if (nbd_aio_is_closed(h) == 1 && e->ep.error_detail[0] == '\0')
		snprintf(e->ep.error_detail, sizeof(e->ep.error_detail),
		    "server closed the connection");
	return 0;
}

static short
wanted_events(struct nbd_handle *h)
{
	unsigned dir = nbd_aio_get_direction(h);
	short events = 0;

	if (dir & LIBNBD_AIO_DIRECTION_READ)
		events |= POLLIN;
	if (dir & LIBNBD_AIO_DIRECTION_WRITE)
		events |= POLLOUT;
	return events;
}

/*
 * Runs notify(); with --retries a dead connection is marked lost so
 * that recover() makes another, and its errno is kept from the caller.
 */
static int
pump(struct ep_nbd *e, short revents)
{
	int err = notify(e, revents);

	if (e->retry.retries == 0)
		return err;
	if (err != 0 || conn_gone(e))
		lose(e, err != 0 ? err : ENOTCONN);
	return 0;
}

/*
 * --timeout: the oldest command sent is older than that.  Replies may
 * be waiting unread while this thread did other work (the other side's
 * retry, say), so those are taken first and the question asked again
 * at the next wait.
 */
static bool
timed_out(struct ep_nbd *e)
{
	struct cmd *c = e->oldest;
	struct pollfd pfd = { .fd = -1 };

	if (e->retry.timeout_ns == 0 || c == NULL || c->waiting ||
	    e->lost != 0 || e->dead != 0 ||
	    clock_now_ns() - c->t0 < e->retry.timeout_ns)
		return false;
	pfd.fd = nbd_aio_get_fd(e->c->h);
	pfd.events = wanted_events(e->c->h);
	if (pfd.fd == -1 || poll(&pfd, 1, 0) != 1)
		return true;
	/* Without retries, the callbacks have told the caller already. */
	(void)pump(e, pfd.revents);
	return false;
}

/*
 * Before every wait: faults are mended (or given up), and a server
 * that stopped answering becomes one.  -1: nothing to wait for.
 */
static int
ep_nbd_poll_fd(struct endpoint *ep, short *events)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;

	recover(e);
	if (timed_out(e)) {
		lose(e, ETIMEDOUT);
		recover(e);
	}
	*events = 0;
	if (e->dead != 0 || e->lost != 0)
		return -1;
	*events = wanted_events(e->c->h);
	return nbd_aio_get_fd(e->c->h);
}

/*
 * A dead connection makes libnbd fail every command in flight through
 * its callbacks, so the caller learns of each one; the errno returned
 * here only says the connection is gone.  With --retries the commands
 * are sent again instead, on a new connection, and the caller learns
 * nothing unless the tries run out.
 */
static int
ep_nbd_poll_notify(struct endpoint *ep, short revents)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	int err = pump(e, revents);

	if (e->retry.retries == 0)
		return err;
	recover(e);
	return e->dead;
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

/*
 * A flush goes on after a signal, for the grace time: nbd-copy's
 * --checkpoint makes its last claims on a signal, and only once the
 * flush before them is done (ending at the signal claimed nothing).
 */
static int
ep_nbd_flush(struct endpoint *ep)
{
	struct ep_nbd *e = (struct ep_nbd *)ep;
	struct sync_wait w = { false, 0 };
	struct req *r;

	if (!e->can_flush)
		return 0;
	r = req_new(e, sync_done, &w);
	send_new(r, CMD_FLUSH, NULL, 0, 0, 0);
	req_put(r, 0);
	while (!w.done) {
		if (cli_interrupted && cli_grace_expired())
			return EINTR;
		ep_nbd_poll(ep);
	}
	return w.err;
}

/*
 * qemu's NBD server always advertises its block sizes, with the
 * preferred one fixed at 4096 (or the minimum, when larger) and the
 * maximum at most 32 MiB.  nbdkit and nbd-server advertise none unless
 * told; a server that only looks like qemu gets reads of 512 KiB, which
 * costs it little.
 */
static bool
looks_like_qemu(const struct conn *c)
{
	return c->block_max != 0 && c->block_max <= QEMU_MAX_BUFFER &&
	    c->block_pref == MAX(4096u, c->block_min);
}

static struct endpoint *
make(struct conn *c, const struct ep_arg *arg, const struct conn_want *want,
    const char *side, const struct ep_retry *retry)
{
	struct ep_nbd *e = calloc(1, sizeof(*e));
	uint32_t max;

	if (e == NULL)
		err(EXIT_FAILURE, "calloc");
	e->c = c;
	e->arg = arg;
	e->want = *want;
	e->retry = *retry;
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
		.read_cheap_max = looks_like_qemu(c) ? QEMU_READ_CHEAP : 0,
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
	return make(c, e->arg, &e->want, ep->side, &e->retry);
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

uint64_t
ep_retries(void)
{
	return atomic_load(&retries_made);
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
	struct ep_nbd *e = (struct ep_nbd *)make(c, c->arg, &c->c_want, side,
	    &(struct ep_retry){ 0 });

	e->borrowed = true;
	return &e->ep;
}

struct endpoint *
ep_nbd_open(const struct ep_arg *arg, const struct ep_open_opts *opts)
{
	struct conn_want want = { .no_contexts = opts->no_context,
	    .timeout_ns = opts->retry.timeout_ns };
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
	return make(c, arg, &want, opts->side, &opts->retry);
}
