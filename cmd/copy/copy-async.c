/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The asynchronous engine.  Each worker owns one connection (or file
 * descriptor) per side and keeps up to -R requests and --queue-size
 * bytes in flight on it through the endpoints' aio calls, driving both
 * sides from one poll loop: no thread per request.  Workers take the
 * image in chunks; inside a chunk the extents iterator is pipelined, and
 * the next chunk's extents are asked while the current one is copied,
 * so the next extents are already known when reads need them.
 *
 * Read buffers come from a per-worker pool bounded by --queue-size (the
 * bytes of every buffer held, in flight or idle), sized to the reads
 * and reused, so memory stays flat and the few buffers in use stay warm
 * in the cache.
 *
 * Completion callbacks only queue the finished command; the loop does
 * the follow-up work (zero detection, writes), so nothing runs nested
 * inside libnbd.  A failure is recorded, every worker drains what it has
 * in flight and stops, and the caller reports it from the main thread:
 * exit() while another thread is inside libnbd would close handles in
 * use.
 */
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "clock.h"
#include "cli.h"
#include "endpoint.h"
#include "copy.h"
#include "checkpoint.h"

#define CHUNK_SIZE	(128ULL << 20)	/* work unit when threads share */
/*
 * Unless -R or --request-size say otherwise, a worker starts with a few
 * large reads in flight: against a fast server that is as quick as many
 * small ones, costs less CPU per byte, and the buffers stay in cache.
 * If the first reads show a latency-bound source (remote, or a slow
 * disk), requests grow to SLOW_REQUEST and the depth to -R, and unless
 * --queue-size was given the bytes in flight follow, up to SLOW_QUEUE.
 * Measured behind nbdkit's delay filter (10 and 50 ms), 4 MiB requests
 * 64 deep beat both fewer and larger ones (8 and 16 MiB requests take
 * the server longer per byte than 4 MiB ones).
 *
 * The first window's reads are small probes (PROBE_REQUEST): a server
 * that allocates each request's buffer (nbdkit, in each of its threads)
 * pays the page faults of memory touched for the first time on a fresh
 * connection, 15 to 35 ms for a first 1 MiB read on a loaded virtual
 * machine, as slow as a 10 ms link, where a 64 KiB read costs a few
 * hundred microseconds; the bytes the probes leave of the budget go
 * out at once in requests of the usual size.
 */
#define FAST_REQUEST	(1u << 20)
#define PROBE_REQUEST	(64u << 10)	/* the first window's reads */
#define FAST_DEPTH	4u		/* reading into null: */
#define FAST_DEPTH_WRITE 8u		/* the loop also writes: more slack */
#define SLOW_NS		(2 * 1000000)	/* a read this slow: latency-bound */
#define SLOW_REQUEST	(4 << 20)	/* latency-bound: request size */
#define SLOW_QUEUE	(256ULL << 20)	/* most bytes in flight it grows to */
#define QUEUE_STEP	2		/* and by at most this factor a window */
#define SAMPLES		8		/* reads timed per window, at most */
#define MIN_SAMPLES	4u		/* and at least, whatever the depth */
#define WINDOWS		16		/* windows judged before settling */
#define RATE_NUM	8		/* a step of the pool must bring */
#define RATE_DEN	5		/* 8/5 the rate, or it stops */
#define BUF_MIN		(64u << 10)	/* smallest pooled buffer */

/* What every worker shares; the first failure wins. */
struct shared {
	struct copy_opts *o;
	struct endpoint *src, *dst;	/* the main thread's, for messages */
	uint64_t size;		/* the whole blocks of the source */
	uint64_t chunk;
	unsigned nworkers;
	_Atomic uint64_t next_chunk;
	atomic_bool stop;
	struct copy_plan plan;

	pthread_mutex_t lock;
	bool failed;
	const struct endpoint *err_ep;
	const char *err_what;
	uint64_t err_off;
	int err;
	char err_msg[512];	/* libnbd's text when a connection died */
};

enum op_kind { OP_READ, OP_WRITE, OP_ZERO };

/* A read buffer, in the worker's pool or held by one read. */
struct buf {
	struct buf *next;
	size_t size;
	char *data;
};

/* One command in flight, or a read's buffer waiting for its writes. */
struct op {
	struct worker *w;
	struct op *next;	/* free list or done queue */
	enum op_kind kind;
	int err;
	uint64_t off;
	size_t len;
	struct buf *buf;	/* OP_READ: its buffer */
	struct op *parent;	/* the read a write or zero came from */
	unsigned pending;	/* OP_READ: destination commands outstanding */
	int64_t t0;		/* OP_READ: when issued, for latency */
};

struct worker {
	struct shared *sh;
	pthread_t tid;
	bool running;		/* tid is a thread to join */
	struct endpoint *src, *dst;
	struct op *free_ops;
	struct op *done, **done_tail;	/* completed, in order */
	unsigned src_busy, dst_busy;	/* commands in flight per side */
	uint64_t src_bytes, dst_bytes;	/* payload bytes in flight */
	struct buf *bufs;	/* the pool: idle buffers */
	struct buf *sink;	/* null: without a hook: every read's */
	uint64_t held;		/* bytes of all buffers, idle or in use */
	uint64_t queue;		/* held at most: --queue-size, may grow */
	uint64_t queue_goal;	/* latency-bound: what queue may grow to */
	size_t rs;		/* request size, may grow once */
	unsigned depth;		/* requests of rs in flight, may grow once */
	unsigned probes;	/* first reads still to send small */
	size_t probe;		/* their size */
	unsigned samples;	/* of the current window */
	unsigned windows;	/* left to judge; 0: settled */
	int64_t min_lat, last_done;	/* ns: shortest read, last done */
	uint64_t win_bytes, last_rate;	/* growing: read, bytes/s before */
	int64_t win_t0;		/* ns: when the growth window began */
	bool warm;		/* that window is the first: not measured */
	int64_t gaps[SAMPLES];	/* ns before each read's completion */

	/* The chunk being copied and the next one, its extents asked. */
	struct copy_segments segs, next_segs;
	bool segs_open, next_open, exhausted, dead;
	struct endpoint *died;	/* the side whose connection died */
	int64_t drain_end;	/* ns: when stopped, how long to drain */
	bool abandoned;		/* left with commands in flight */
	uint64_t seg_off, seg_len;	/* what is left of the segment */
	bool seg_zero;
	struct ckpt_worker cw;	/* --checkpoint: what it completed */
};

static void
fail(struct shared *sh, const struct endpoint *ep, const char *what,
    uint64_t off, int err, const char *msg)
{
	pthread_mutex_lock(&sh->lock);
	if (!sh->failed) {
		sh->failed = true;
		sh->err_ep = ep;
		sh->err_what = what;
		sh->err_off = off;
		sh->err = err != 0 ? err : EIO;
		if (msg != NULL)
			snprintf(sh->err_msg, sizeof(sh->err_msg), "%s", msg);
	}
	pthread_mutex_unlock(&sh->lock);
	atomic_store(&sh->stop, true);
}

static bool
stopping(const struct worker *w)
{
	return w->dead || cli_interrupted || atomic_load(&w->sh->stop);
}

static struct op *
op_get(struct worker *w, enum op_kind kind, uint64_t off, size_t len)
{
	struct op *op = w->free_ops;

	if (op != NULL) {
		w->free_ops = op->next;
	} else {
		op = calloc(1, sizeof(*op));
		if (op == NULL)
			err(EXIT_FAILURE, "calloc");
		op->w = w;
	}
	op->next = NULL;
	op->kind = kind;
	op->err = 0;
	op->off = off;
	op->len = len;
	op->parent = NULL;
	op->pending = 0;
	op->buf = NULL;
	return op;
}

static struct buf *
buf_new(size_t size)
{
	struct buf *b = malloc(sizeof(*b));

	if (b == NULL)
		err(EXIT_FAILURE, "malloc");
	/* Page-aligned: the kernel copies into whole pages. */
	if (posix_memalign((void **)&b->data, 4096, size) != 0)
		err(EXIT_FAILURE, "posix_memalign");
	b->size = size;
	return b;
}

static void
buf_delete(struct buf *b)
{
	free(b->data);
	free(b);
}

static void
buf_free(struct worker *w, struct buf *b)
{
	w->held -= b->size;
	buf_delete(b);
}

/*
 * A buffer for a read of len bytes: the smallest idle one that fits, or
 * a new one if the pool's bytes stay within the limit (idle buffers too
 * small are dropped to make room).  NULL: wait for one to come back.
 * The limit is the worker's queue (--queue-size, unless latency grew
 * it), or the depth's worth of requests when that is less: against a
 * fast server a few buffers in turn keep it as busy as many would, and
 * stay in the cache.  With nothing held at all, one is made whatever
 * its size, so a tiny --queue-size still progresses.
 */
static struct buf *
buf_get(struct worker *w, size_t len)
{
	uint64_t limit = MIN(w->queue, (uint64_t)w->depth * w->rs);
	struct buf **best = NULL, *b;
	size_t want = BUF_MIN;

	for (struct buf **pp = &w->bufs; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->size >= len &&
		    (best == NULL || (*pp)->size < (*best)->size))
			best = pp;
	if (best != NULL) {
		b = *best;
		*best = b->next;
		return b;
	}
	/* Short reads (extent edges) take a power of two up to rs. */
	while (want < len)
		want *= 2;
	want = MAX(MIN(want, w->rs), len);
	while (w->held + want > limit && w->bufs != NULL) {
		b = w->bufs;
		w->bufs = b->next;
		buf_free(w, b);
	}
	if (w->held > 0 && w->held + want > limit)
		return NULL;
	w->held += want;
	return buf_new(want);
}

/* A read's buffer goes back to the pool, to be reused. */
static void
op_put(struct worker *w, struct op *op)
{
	if (op->buf != NULL) {
		op->buf->next = w->bufs;
		w->bufs = op->buf;
		op->buf = NULL;
	}
	op->next = w->free_ops;
	w->free_ops = op;
}

/* Runs from ep_poll or inside the aio call: only queue the op. */
static void
op_done(void *opaque, int err)
{
	struct op *op = opaque;
	struct worker *w = op->w;

	op->err = err;
	op->next = NULL;
	*w->done_tail = op;
	w->done_tail = &op->next;
}

static void
piece_put(struct worker *w, struct op *rd)
{
	if (--rd->pending > 0)
		return;
	if (rd->err == 0)
		checkpoint_done(&w->cw, rd->off, rd->len);
	progress_add(&w->sh->o->progress, rd->len);
	op_put(w, rd);
}

static void
issue_dst(struct worker *w, enum op_kind kind, struct op *parent,
    uint64_t off, size_t len)
{
	struct op *op = op_get(w, kind, off, len);

	op->parent = parent;
	if (parent != NULL)
		parent->pending++;
	w->dst_busy++;
	if (kind == OP_WRITE) {
		w->dst_bytes += len;
		ep_aio_write(w->dst, parent->buf->data + (off - parent->off),
		    len, off, op_done, op);
	} else
		ep_aio_zero(w->dst, off, len, w->sh->o->allocated, op_done,
		    op);
}

/*
 * The first reads tell whether the source is latency-bound (a remote
 * or slow server): then larger requests keep more bytes in flight with
 * far more throughput.  A depth's worth of reads (at least MIN_SAMPLES,
 * at most SAMPLES) makes a window, one round trip; the first window
 * that looks latency-bound decides, and the worker goes straight to
 * its largest requests and depth (its buffers follow more slowly).
 *
 * A slow read alone does not say so: against a busy server (an NBD
 * destination on the same cores) reads are slow because each waits for
 * the ones ahead of it, and more in flight would only queue longer.
 * Such reads complete evenly spaced, the gaps of one depth's worth of
 * reads making about one latency; latency-bound reads complete in
 * bursts, a depth's worth in far less than the latency.  So the
 * shortest time a depth's worth took to complete decides, not their
 * average.  Each read's gap is timed from the completion before it,
 * even across windows, and the largest is left out: a window that
 * straddles two bursts has one gap that is the latency itself, and
 * since windows of a steady pipeline fall on the bursts at the same
 * phase every time, counting it would call every window even.
 *
 * The first window is judged more loosely when all its reads were sent
 * before any reply (the depth holds a window): nothing of ours queued
 * ahead of the first, so a busy server answers it after about one
 * read's service time, one gap, not after the whole window's.  A first
 * reply slower than all the gaps after it is latency, and that window
 * decides although a fresh connection's replies are paced by the page
 * faults of buffers touched for the first time on both ends (the
 * probes keep that cost small, but not on the reads sent beside them).
 * In later windows each read queued behind depth - 1 others, so the
 * margin is twice that.
 *
 * One window of quick reads settles it the other way, as the server
 * can be fast, so later windows of a busy one cannot mislead; after
 * WINDOWS even ones the worker settles as it is.
 */
static unsigned
window_reads(const struct worker *w)
{
	return MAX(MIN_SAMPLES, MIN(w->depth, (unsigned)SAMPLES));
}

static int
cmp_ns(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Sizes a latency-bound worker: larger requests, -R of them, and as
 * many bytes of buffers as that takes (within SLOW_QUEUE), each option
 * given keeping its value.  Reads into null: need no buffers at all.
 * The buffers are not all taken at once: a stall of a local server's
 * first replies (a fresh thread, a busy core) can look like a burst of
 * latency, and they would then be held for nothing.  The pool starts
 * at QUEUE_STEP times what was in flight and grows from there while
 * that brings more (sample_growth).
 */
static void
size_for_latency(struct worker *w)
{
	const struct copy_opts *o = w->sh->o;
	uint64_t big, inflight = MIN(w->queue, (uint64_t)w->depth * w->rs);

	if (!o->requests_set)
		w->depth = o->requests;
	w->queue_goal = w->queue;
	if (!o->queue_size_set)
		w->queue_goal = MAX(w->queue, MIN((uint64_t)w->depth *
		    SLOW_REQUEST, SLOW_QUEUE));
	big = MIN((uint64_t)SLOW_REQUEST, MAX(w->queue_goal / 4,
	    (uint64_t)FAST_REQUEST));
	big = copy_plan_request(&w->sh->plan, MIN(big, o->request_max));
	/* Smaller pooled buffers give way as larger ones need room. */
	if (!o->request_size_set && big > w->rs)
		w->rs = big;
	w->queue = MAX(w->queue, MIN(w->queue_goal, QUEUE_STEP * inflight));
}

/*
 * A window's reads came back in a burst: its gaps but the largest sum
 * to far less than the shortest latency (see above for the first).
 */
static bool
bursty(struct worker *w, unsigned n, bool first)
{
	int64_t spread = 0;

	qsort(w->gaps, n, sizeof(w->gaps[0]), cmp_ns);
	for (unsigned i = 0; i + 1 < n; i++)
		spread += w->gaps[i];
	return w->min_lat >= (first ? spread : 2 * spread);
}

/* Undecided: a window of latency decides, one of quick replies settles. */
static void
judge(struct worker *w, unsigned n, bool first, int64_t now)
{
	if (w->min_lat < SLOW_NS) {
		w->windows = 0;
		return;
	}
	if (!bursty(w, n, first)) {
		w->windows--;
		return;
	}
	/* Decided: from here only the pool may grow (sample_growth). */
	size_for_latency(w);
	w->win_t0 = now;
	w->warm = true;
	w->windows = w->queue < w->queue_goal ? 1 : 0;
}

/*
 * Latency-bound, the pool growing: a window is the pool's worth of
 * reads, about one round trip, and its rate must have grown with the
 * pool for the pool to grow again.  Against a link, twice the bytes in
 * flight bring twice the rate; against a server that is slow because
 * it is busy (shared with other connections, on busy cores: a case the
 * first window can mistake for a link) the replies only wait longer.
 */
static void
sample_growth(struct worker *w, const struct op *rd, int64_t now)
{
	uint64_t rate;

	w->win_bytes += rd->len;
	if (w->win_bytes < w->queue)
		return;
	rate = w->win_bytes * 1000000000 / (uint64_t)MAX(now - w->win_t0, 1);
	w->win_t0 = now;
	w->win_bytes = 0;
	/* Smaller reads sent before the decision finish in the first. */
	if (w->warm) {
		w->warm = false;
		return;
	}
	if (w->last_rate != 0 && rate * RATE_DEN < w->last_rate * RATE_NUM) {
		w->windows = 0;
		return;
	}
	w->last_rate = rate;
	w->queue = MIN(w->queue_goal, QUEUE_STEP * w->queue);
	w->windows = w->queue < w->queue_goal ? 1 : 0;
}

static void
sample_latency(struct worker *w, const struct op *rd)
{
	int64_t now = clock_now_ns(), lat = now - rd->t0;
	unsigned n = window_reads(w);
	bool first = w->windows == WINDOWS && w->depth >= n;

	if (w->windows == 0)
		return;
	if (w->queue_goal != 0) {
		sample_growth(w, rd, now);
		return;
	}
	if (w->samples == 0)
		w->min_lat = lat;
	/* The first read of all waited from when it was sent. */
	w->gaps[w->samples] = now - (w->last_done != 0 ? w->last_done :
	    rd->t0);
	w->last_done = now;
	w->min_lat = MIN(w->min_lat, lat);
	if (++w->samples < n)
		return;
	w->samples = 0;
	judge(w, n, first, now);
}

static struct endpoint *
side_of(const struct worker *w, const struct endpoint *ep)
{
	return ep == w->src ? w->sh->src : w->sh->dst;
}

/*
 * libnbd's reason for a failure goes with the endpoint the report names,
 * which may be another worker's connection to the same server.
 */
static void
keep_reason(struct worker *w, const struct endpoint *dead)
{
	struct endpoint *named = side_of(w, dead);

	pthread_mutex_lock(&w->sh->lock);
	if (named != dead && named->error_detail[0] == '\0')
		snprintf(named->error_detail, sizeof(named->error_detail),
		    "%s", dead->error_detail);
	pthread_mutex_unlock(&w->sh->lock);
}

/* A command failed at off: the report names its side and offset. */
static void
op_failed(struct worker *w, const struct endpoint *mine, const char *what,
    uint64_t off, int err)
{
	keep_reason(w, mine);
	fail(w->sh, side_of(w, mine), what, off, err, NULL);
}

static void
read_done(struct worker *w, struct op *rd)
{
	struct shared *sh = w->sh;
	bool zero;

	w->src_busy--;
	w->src_bytes -= rd->len;
	if (rd->err != 0) {
		op_failed(w, w->src, "read", rd->off, rd->err);
		op_put(w, rd);
		return;
	}
	sample_latency(w, rd);
	if (stopping(w)) {
		op_put(w, rd);
		return;
	}
	if (sh->o->hook != NULL)
		sh->o->hook(sh->o->hook_opaque, rd->off, rd->buf->data,
		    rd->len);
	rd->pending = 1;	/* held until every run is issued */
	if (copy_dst_discards(w->dst)) {
		piece_put(w, rd);
		return;
	}
	for (size_t pos = 0, n; pos < rd->len; pos += n) {
		n = copy_next_run(rd->buf->data, rd->off, rd->len, pos,
		    sh->plan.sparse, &zero);
		if (!zero)
			issue_dst(w, OP_WRITE, rd, rd->off + pos, n);
		else if (!sh->plan.skip_zeroes)
			issue_dst(w, OP_ZERO, rd, rd->off + pos, n);
	}
	piece_put(w, rd);
}

static void
dst_done(struct worker *w, struct op *op)
{
	w->dst_busy--;
	if (op->kind == OP_WRITE)
		w->dst_bytes -= op->len;
	if (op->err != 0) {
		op_failed(w, w->dst, op->kind == OP_WRITE ? "write" : "zero",
		    op->off, op->err);
		if (op->parent != NULL)
			op->parent->err = op->err;	/* not done */
	}
	if (op->parent != NULL)
		piece_put(w, op->parent);
	else if (op->err == 0) {
		checkpoint_done(&w->cw, op->off, op->len);
		progress_add(&w->sh->o->progress, op->len);
	}
	op_put(w, op);
}

/* Returns true if anything was done. */
static bool
process_done(struct worker *w)
{
	struct op *op = w->done;

	if (op == NULL)
		return false;
	w->done = NULL;
	w->done_tail = &w->done;
	while (op != NULL) {
		struct op *next = op->next;

		if (op->kind == OP_READ)
			read_done(w, op);
		else
			dst_done(w, op);
		op = next;
	}
	return true;
}

/* Takes the next chunk of the image and asks for its extents. */
static bool
claim_chunk(struct worker *w, struct copy_segments *segs)
{
	struct shared *sh = w->sh;
	uint64_t c;

	if (stopping(w))
		return false;
	c = atomic_fetch_add(&sh->next_chunk, sh->chunk);
	if (c >= sh->size)
		return false;
	copy_segments_begin(segs, w->src, c, MIN(sh->chunk, sh->size - c),
	    sh->plan.align, !sh->o->no_extents, sh->o->todo);
	return true;
}

/*
 * Claims the next chunk while the current one is still being copied, so
 * its block-status replies are back before its reads are needed (a hole
 * chunk would otherwise cost the worker a round trip with nothing else
 * to do).  Not near the end: a chunk held ahead by a busy worker could
 * be copied sooner by one that has run out.
 */
static void
prefetch_chunk(struct worker *w)
{
	struct shared *sh = w->sh;

	if (w->next_open || !w->segs_open || sh->nworkers < 2 ||
	    atomic_load(&sh->next_chunk) + sh->nworkers * sh->chunk >=
	    sh->size)
		return;
	w->next_open = claim_chunk(w, &w->next_segs);
}

/* The current segment, refilled from the extents; false when done. */
static bool
current_segment(struct worker *w)
{
	while (w->seg_len == 0) {
		if (w->segs_open && copy_segments_next(&w->segs, &w->seg_off,
		    &w->seg_len, &w->seg_zero))
			break;
		if (w->segs_open) {
			copy_segments_end(&w->segs);
			w->segs_open = false;
		}
		if (w->next_open) {
			w->segs = w->next_segs;
			w->next_open = false;
			w->segs_open = true;
		} else if (claim_chunk(w, &w->segs)) {
			w->segs_open = true;
		} else {
			w->exhausted = true;
			return false;
		}
		prefetch_chunk(w);
	}
	return true;
}

static void
consume(struct worker *w, uint64_t n)
{
	w->seg_off += n;
	w->seg_len -= n;
}

/* Starts one more command if the limits allow; true if it did. */
static bool
issue_one(struct worker *w)
{
	struct shared *sh = w->sh;
	const struct copy_opts *o = sh->o;
	uint64_t off, len, budget;
	struct op *rd;
	struct buf *b;

	if (stopping(w) || w->exhausted || !current_segment(w))
		return false;
	off = w->seg_off;
	len = copy_plan_piece(off, w->seg_len, w->rs, w->seg_zero);
	if (!w->seg_zero && w->probes > 0)
		len = MIN(len, w->probe);
	if (w->seg_zero) {
		if (!sh->plan.skip_zeroes && w->dst_busy >= o->requests)
			return false;
		if (o->hook != NULL)
			o->hook(o->hook_opaque, off, NULL, len);
		if (sh->plan.skip_zeroes) {
			/* Already zero (this run created it): done. */
			checkpoint_done(&w->cw, off, len);
			progress_add(&sh->o->progress, len);
		} else
			issue_dst(w, OP_ZERO, NULL, off, len);
		consume(w, len);
		return true;
	}
	/*
	 * The depth counts bytes (requests of rs), so short reads at extent
	 * edges do not starve the pipeline; -R still caps the commands.
	 */
	budget = (uint64_t)w->depth * w->rs;
	if (w->src_busy >= o->requests || w->dst_busy >= o->requests ||
	    (w->src_bytes > 0 && w->src_bytes + len > budget) ||
	    (w->dst_bytes > 0 && w->dst_bytes + len > budget))
		return false;
	/* Nothing looks at what null: is given: every read shares one. */
	b = w->sink != NULL && len <= w->sink->size ? NULL : buf_get(w, len);
	if (b == NULL && (w->sink == NULL || len > w->sink->size))
		return false;
	rd = op_get(w, OP_READ, off, len);
	rd->buf = b;
	w->src_bytes += len;
	w->src_busy++;
	rd->t0 = w->windows > 0 ? clock_now_ns() : 0;
	if (w->probes > 0)
		w->probes--;
	consume(w, len);
	ep_aio_read(w->src, b != NULL ? b->data : w->sink->data, len, off,
	    op_done, rd);
	return true;
}

/*
 * Waits for a command on either side.  Both sides of an NBD-to-NBD copy
 * have commands in flight at once, so one poll(2) drives both handles;
 * local kinds complete inside their aio calls and are never waited for.
 */
static void
wait_some(struct worker *w)
{
	struct endpoint *eps[2] = { w->src, w->dst }, *failed = NULL;
	int e;

	/* A timeout, so a signal taken by another thread is noticed. */
	e = ep_try_poll(eps, 2, CLI_POLL_MS, &failed);
	if (e == 0)
		return;
	w->died = failed;
}

/*
 * libnbd fails each command in flight on a handle that dies, and those
 * failures name an offset, so they are reported first; this names only
 * the connection, for when none was in flight.  Nothing more will come.
 */
static void
connection_died(struct worker *w)
{
	const char *why = w->died->error_detail;

	fail(w->sh, side_of(w, w->died), "connection", 0, ENOTCONN,
	    why[0] != '\0' ? why : "server closed the connection");
	w->dead = true;
}

/*
 * After a failure or a signal nothing new is sent, and what is in flight
 * gets a moment to come back: its callbacks point into this worker, and
 * a server cut off mid-reply may abort (nbdkit 1.32).  A hung server is
 * not waited for longer; the worker is then left allocated.
 */
static bool
drain_over(struct worker *w)
{
	int64_t now = clock_now_ns();

	if (cli_interrupted)
		return cli_grace_expired();
	if (w->drain_end == 0)
		w->drain_end = now + CLI_GRACE_NS;
	return now >= w->drain_end;
}

static void
worker_run(struct worker *w)
{
	w->done_tail = &w->done;
	checkpoint_join(w->sh->o->ckpt, &w->cw);
	for (;;) {
		bool busy = true;

		/* A local copy can stay busy to its end: ask here. */
		while (busy) {
			busy = process_done(w) | issue_one(w);
			checkpoint_poll(&w->cw, w->dst);
		}
		/* Waiting for extents may have completed reads meanwhile. */
		if (w->done != NULL)
			continue;
		if (w->died != NULL)
			connection_died(w);
		if (w->src_busy == 0 && w->dst_busy == 0)
			break;
		if (stopping(w) && drain_over(w)) {
			w->abandoned = true;
			break;
		}
		wait_some(w);
	}
	/* Commands still in flight may yet fail: claim nothing then. */
	checkpoint_leave(&w->cw, w->dst, !w->abandoned);
	if (w->segs_open && !w->abandoned)
		copy_segments_end(&w->segs);
	if (w->next_open && !w->abandoned)
		copy_segments_end(&w->next_segs);
	while (w->free_ops != NULL) {
		struct op *op = w->free_ops;

		w->free_ops = op->next;
		free(op);
	}
	while (w->bufs != NULL) {
		struct buf *b = w->bufs;

		w->bufs = b->next;
		buf_free(w, b);
	}
	if (w->sink != NULL && !w->abandoned)
		buf_delete(w->sink);
}

static void *
worker_thread(void *arg)
{
	worker_run(arg);
	return NULL;
}

static NORETURN void
report(const struct shared *sh)
{
	if (sh->err_msg[0] != '\0')
		errx(EXIT_FAILURE, "%s: %s: %s", sh->err_ep->side,
		    sh->err_ep->name, sh->err_msg);
	ep_die(sh->err_ep, sh->err_what, sh->err_off, sh->err);
}

/* Connections are made here, before any thread touches libnbd. */
static unsigned
open_workers(struct shared *sh, struct worker *ws, unsigned n)
{
	const struct copy_opts *o = sh->o;
	unsigned started;

	for (started = 0; started < n; started++) {
		struct worker *w = &ws[started];

		w->sh = sh;
		w->queue = o->queue_size;
		w->windows = WINDOWS;
		w->rs = copy_plan_request(&sh->plan, o->request_size_set ?
		    o->request_size : MIN((uint64_t)MAX(o->request_size,
		    FAST_REQUEST), o->request_max));
		w->depth = o->requests_set ? o->requests :
		    MIN(o->requests, copy_dst_discards(sh->dst) ? FAST_DEPTH :
		    FAST_DEPTH_WRITE);
		w->probes = o->request_size_set ? 0 : window_reads(w);
		w->probe = copy_plan_request(&sh->plan, MIN(PROBE_REQUEST,
		    w->rs));
		w->src = started == 0 ? sh->src : ep_reopen(sh->src);
		w->dst = started == 0 ? sh->dst : ep_reopen(sh->dst);
		if (w->src == NULL || w->dst == NULL) {
			if (w->src != NULL)
				ep_close(w->src);
			if (w->dst != NULL)
				ep_close(w->dst);
			break;
		}
	}
	return started;
}

/* Copies the source's whole blocks, sh->size bytes (> 0). */
static void
run_workers(struct shared *sh)
{
	struct worker *ws;
	unsigned n = sh->o->workers;
	bool abandoned = false;

	/* One worker walks the whole image with one extents pipeline. */
	sh->chunk = n > 1 ? CHUNK_SIZE : sh->size;
	n = MIN((uint64_t)n, (sh->size + sh->chunk - 1) / sh->chunk);
	atomic_init(&sh->next_chunk, 0);
	atomic_init(&sh->stop, false);
	pthread_mutex_init(&sh->lock, NULL);
	ws = calloc(n, sizeof(*ws));
	if (ws == NULL)
		err(EXIT_FAILURE, "calloc");
	n = open_workers(sh, ws, n);
	sh->nworkers = n;
	/*
	 * Reads into null: all land in one buffer per worker: what they
	 * bring is thrown away, and a buffer the size of one request stays
	 * in the cache, where many in turn would not.  It is made as large
	 * as requests may grow (latency-bound), but only the pages reads
	 * touch are ever memory, and it is not counted in the pool.
	 */
	if (copy_dst_discards(sh->dst) && sh->o->hook == NULL)
		for (unsigned i = 0; i < n; i++)
			ws[i].sink = buf_new(sh->o->request_size_set ?
			    ws[i].rs : sh->o->request_max);
	/* Without a thread, a worker's share goes to the others. */
	for (unsigned i = 1; i < n; i++)
		ws[i].running = pthread_create(&ws[i].tid, NULL, worker_thread,
		    &ws[i]) == 0;
	worker_run(&ws[0]);
	for (unsigned i = 1; i < n; i++) {
		if (ws[i].running)
			pthread_join(ws[i].tid, NULL);
		abandoned |= ws[i].abandoned;
		/* Left to the exit path, which closes what is registered. */
		if (ws[i].abandoned)
			continue;
		ep_close(ws[i].dst);
		ep_close(ws[i].src);
	}
	/* Callbacks still due point into ws: the exit path may run them. */
	if (!abandoned && !ws[0].abandoned)
		free(ws);
	cli_check_interrupted();
	if (sh->failed)
		report(sh);
}

/*
 * The workers copy the whole blocks; a tail shorter than a block, which
 * needs the destination's bytes after it, is left to the main thread.
 */
void
copy_async(struct endpoint *src, struct endpoint *dst, struct copy_opts *o)
{
	struct shared sh = { .o = o, .src = src, .dst = dst };

	copy_plan_init(&sh.plan, dst, o);
	sh.size = copy_plan_body_end(&sh.plan, src->size);
	if (sh.size > 0)
		run_workers(&sh);
	if (sh.size < (uint64_t)src->size &&
	    copy_plan_wanted(o, sh.size, src->size - sh.size))
		copy_plan_tail(&sh.plan, src, dst, o, sh.size,
		    src->size - sh.size, NULL);
}
