/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a piece travels: the parts of it that cover whole blocks become
 * jobs for the worker threads, which hash each block (or notice that it
 * is all zero and copy the zero-block digest) and hand back a run of
 * block digests.  The parts that cover only some of a block are gathered
 * in a per-block buffer (struct partial) until the block is complete, then
 * hashed like any other block.  Known-zero ranges become runs without
 * digests.  Runs wait in a min-heap keyed by block number until every
 * block before them is folded into the outer hash; so memory is bounded
 * by how far out of order the caller is, and a zero run of a million
 * blocks is one heap entry.
 *
 * One mutex guards all shared state.  Hashing and copying data happen
 * outside it; under it there is only bookkeeping and the outer hash, which
 * sees one digest (32 bytes for sha256) per block.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "compiler.h"
#include "blkhash.h"
#include "blkhash-internal.h"
#include "blkhash-outer.h"

#define JOB_BYTES	(1024 * 1024)	/* amortises a wakeup */
#define COPY_LIMIT	(64 * 1024 * 1024) /* blkhash_update copies queued */
#define ZERO_BATCH	128		/* zero digests per outer update */
#define INLINE_MAX	(16 * 1024)	/* hashed by the caller */
#define MAX_THREADS	8
/*
 * The outer hash's state is kept every SNAP_BYTES of image folded, the
 * last SNAPS of them, so blkhash_state finds one at or before a given
 * offset however far the fold has run ahead of it (reads run ahead of
 * durable writes by the engine's window, well under SNAPS * SNAP_BYTES).
 */
#define SNAP_BYTES	(16 * 1024 * 1024)
#define SNAPS		64

/* Enough zeroes to hash a zero block of any size in a few updates. */
static const unsigned char zeroes[64 * 1024];

/* One blkhash_update_async call: done runs when the last job drops it. */
struct piece {
	unsigned refs;
	void (*done)(void *opaque);
	void *opaque;
};

/* count whole blocks starting at block, read from data. */
struct job {
	struct job *next;
	uint64_t block;
	uint64_t count;
	const unsigned char *data;
	unsigned char *owned;	/* freed after hashing (copy, partial) */
	size_t copied;		/* bytes counted against COPY_LIMIT */
	struct piece *piece;	/* unreferenced after hashing, or NULL */
};

/* The outer hash after the first `next` blocks. */
struct snap {
	uint64_t next;
	struct outer outer;
};

/* Blocks [block, block + count) waiting to be folded in order. */
struct run {
	uint64_t block;
	uint64_t count;
	unsigned char *digests;	/* count digests; NULL: zero blocks */
};

/* Bytes [lo, hi) of a block. */
struct span {
	uint32_t lo, hi;
};

/*
 * A block being assembled from pieces smaller than a block.  The claimed
 * spans catch a byte given twice, which the byte count alone would not.
 */
struct partial {
	struct partial *next;	/* in its hash bucket */
	uint64_t block;
	uint32_t filled;	/* bytes in place; complete at block_size */
	unsigned char *buf;	/* NULL while only zeroes arrived */
	struct span *spans;	/* claimed by callers: sorted, merged */
	size_t nspans, span_cap;
};

struct blkhash {
	struct blkhash_params p;
	gnutls_digest_algorithm_t alg;
	size_t dlen;
	unsigned char zero_digest[BLKHASH_MAX_DIGEST];
	unsigned char zero_batch[ZERO_BATCH * BLKHASH_MAX_DIGEST];

	pthread_mutex_t lock;
	pthread_cond_t work;	/* to workers: a job is queued, or stop */
	pthread_cond_t idle;	/* from workers: a job finished */
	struct job *head, *tail;
	size_t pending;		/* jobs queued or being hashed */
	size_t copied;		/* bytes of blkhash_update copies */
	bool stop;

	struct outer outer;
	uint64_t next;		/* first block not folded yet */
	struct snap snaps[SNAPS];	/* a ring, oldest first from snap0 */
	unsigned nsnaps, snap0;
	uint64_t snap_every;	/* blocks between snapshots */
	struct run *heap;
	size_t nheap, heap_cap;
	struct partial **buckets;	/* partials by block number */
	size_t nbuckets, npartials;

	bool failed, finished;
	char error[BLKHASH_REASON_MAX];

	unsigned nthreads;
	pthread_t threads[MAX_THREADS];
};

/* Records the first failure; the lock is held or no worker runs. */
PRINTF(2, 3) static int
fail(struct blkhash *h, const char *fmt, ...)
{
	va_list ap;

	if (!h->failed) {
		h->failed = true;
		va_start(ap, fmt);
		vsnprintf(h->error, sizeof(h->error), fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

/* The digest of len zero bytes, in pieces so no block-sized buffer. */
static int
hash_zeroes(gnutls_digest_algorithm_t alg, uint64_t len, unsigned char *out)
{
	gnutls_hash_hd_t hd;

	if (gnutls_hash_init(&hd, alg) < 0)
		return -1;
	while (len > 0) {
		size_t n = MIN(len, (uint64_t)sizeof(zeroes));

		if (gnutls_hash(hd, zeroes, n) < 0) {
			gnutls_hash_deinit(hd, NULL);
			return -1;
		}
		len -= n;
	}
	gnutls_hash_deinit(hd, out);
	return 0;
}

/* nbdkit's is_zero: after the first 16 bytes, memcmp against itself. */
static bool
is_zero(const unsigned char *buf, size_t len)
{
	size_t head = MIN(len, (size_t)16);

	for (size_t i = 0; i < head; i++)
		if (buf[i] != 0)
			return false;
	return len <= 16 || memcmp(buf, buf + 16, len - 16) == 0;
}

/* The digest of one block, the zero digest without hashing if it is zero. */
static int
hash_block(struct blkhash *h, const unsigned char *buf, size_t len,
    unsigned char *out)
{
	if (is_zero(buf, len)) {
		if (len == h->p.block_size) {
			memcpy(out, h->zero_digest, h->dlen);
			return 0;
		}
		return hash_zeroes(h->alg, len, out);
	}
	return gnutls_hash_fast(h->alg, buf, len, out) < 0 ? -1 : 0;
}

static void
heap_swap(struct run *a, struct run *b)
{
	struct run t = *a;

	*a = *b;
	*b = t;
}

static int
heap_push(struct blkhash *h, struct run r)
{
	size_t i;

	if (h->nheap == h->heap_cap) {
		size_t cap = h->heap_cap ? 2 * h->heap_cap : 64;
		struct run *n = reallocarray(h->heap, cap, sizeof(*n));

		if (n == NULL)
			return -1;
		h->heap = n;
		h->heap_cap = cap;
	}
	i = h->nheap++;
	h->heap[i] = r;
	while (i > 0 && h->heap[(i - 1) / 2].block > h->heap[i].block) {
		heap_swap(&h->heap[(i - 1) / 2], &h->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct run
heap_pop(struct blkhash *h)
{
	struct run top = h->heap[0];
	size_t i = 0;

	h->heap[0] = h->heap[--h->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->nheap && h->heap[l].block < h->heap[m].block)
			m = l;
		if (r < h->nheap && h->heap[r].block < h->heap[m].block)
			m = r;
		if (m == i)
			break;
		heap_swap(&h->heap[i], &h->heap[m]);
		i = m;
	}
	return top;
}

static void
fold_zeroes(struct blkhash *h, uint64_t count)
{
	while (count > 0) {
		uint64_t n = MIN(count, (uint64_t)ZERO_BATCH);

		outer_update(&h->outer, h->zero_batch, n * h->dlen);
		count -= n;
	}
}

/* The snapshot taken last.  Lock held. */
static struct snap *
newest(struct blkhash *h)
{
	return &h->snaps[(h->snap0 + h->nsnaps - 1) % SNAPS];
}

/* Keeps the outer hash as it is now, dropping the oldest kept.  Lock held. */
static void
snapshot(struct blkhash *h)
{
	if (h->nsnaps == SNAPS)
		h->snap0 = (h->snap0 + 1) % SNAPS;
	else
		h->nsnaps++;
	*newest(h) = (struct snap){ .next = h->next, .outer = h->outer };
}

/*
 * Folds every run that continues the in-order prefix.  A run that starts
 * before h->next covers blocks given twice.  Lock held.
 */
static void
fold(struct blkhash *h)
{
	while (h->nheap > 0 && h->heap[0].block <= h->next) {
		struct run r = heap_pop(h);

		if (r.block < h->next) {
			fail(h, "bytes at offset %" PRIu64 " given twice",
			    r.block * h->p.block_size);
			free(r.digests);
			continue;
		}
		if (r.digests != NULL)
			outer_update(&h->outer, r.digests, r.count * h->dlen);
		else
			fold_zeroes(h, r.count);
		h->next += r.count;
		free(r.digests);
		if (h->next - newest(h)->next >= h->snap_every)
			snapshot(h);
	}
}

/* Adds a run (taking digests) and folds what it completes.  Lock held. */
static int
add_run(struct blkhash *h, uint64_t block, uint64_t count,
    unsigned char *digests)
{
	struct run r = { .block = block, .count = count, .digests = digests };

	if (heap_push(h, r) == -1) {
		free(digests);
		return fail(h, "out of memory");
	}
	fold(h);
	return 0;
}

/* Lock held. */
static void
enqueue(struct blkhash *h, struct job *j)
{
	j->next = NULL;
	if (h->tail != NULL)
		h->tail->next = j;
	else
		h->head = j;
	h->tail = j;
	h->pending++;
	pthread_cond_signal(&h->work);
}

/* Drops one reference; the caller runs done outside the lock. */
static bool
piece_unref(struct piece *pc)
{
	return pc != NULL && --pc->refs == 0;
}

static void
piece_done(struct piece *pc)
{
	if (pc->done != NULL)
		pc->done(pc->opaque);
	free(pc);
}

static void *
worker(void *arg)
{
	struct blkhash *h = arg;
	size_t bs = h->p.block_size;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct job *j;
		unsigned char *digests;
		bool ok = true, last;

		while (h->head == NULL && !h->stop)
			pthread_cond_wait(&h->work, &h->lock);
		if (h->head == NULL)
			break;
		j = h->head;
		h->head = j->next;
		if (h->head == NULL)
			h->tail = NULL;
		pthread_mutex_unlock(&h->lock);

		digests = malloc(j->count * h->dlen);
		if (digests == NULL)
			ok = false;
		for (uint64_t i = 0; ok && i < j->count; i++)
			ok = hash_block(h, j->data + i * bs, bs,
			    digests + i * h->dlen) == 0;
		free(j->owned);

		pthread_mutex_lock(&h->lock);
		if (ok)
			add_run(h, j->block, j->count, digests);
		else {
			free(digests);
			fail(h, "hashing block at offset %" PRIu64 " failed",
			    j->block * bs);
		}
		h->copied -= j->copied;
		h->pending--;
		pthread_cond_broadcast(&h->idle);
		last = piece_unref(j->piece);
		if (last) {
			pthread_mutex_unlock(&h->lock);
			piece_done(j->piece);
			pthread_mutex_lock(&h->lock);
		}
		free(j);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static unsigned
default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (unsigned)MIN(n, (long)MAX_THREADS);
}

struct blkhash *
blkhash_new(const struct blkhash_params *p, unsigned threads)
{
	struct blkhash *h;
	int e;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->p = *p;
	h->alg = p->alg;
	h->dlen = p->digest_len;
	if (h->dlen == 0 || h->dlen > BLKHASH_MAX_DIGEST ||
	    hash_zeroes(h->alg, p->block_size, h->zero_digest) == -1 ||
	    outer_init(&h->outer, p->name) == -1) {
		free(h);
		errno = ENOTSUP;	/* e.g. md5 in FIPS mode */
		return NULL;
	}
	for (size_t i = 0; i < ZERO_BATCH; i++)
		memcpy(h->zero_batch + i * h->dlen, h->zero_digest, h->dlen);
	h->snap_every = MAX(SNAP_BYTES / p->block_size, 1u);
	snapshot(h);
	h->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	h->work = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	h->idle = (pthread_cond_t)PTHREAD_COND_INITIALIZER;

	if (threads == 0)
		threads = default_threads();
	threads = MIN(threads, (unsigned)MAX_THREADS);
	for (; h->nthreads < threads; h->nthreads++) {
		e = pthread_create(&h->threads[h->nthreads], NULL, worker, h);
		if (e != 0) {
			blkhash_free(h);
			errno = e;
			return NULL;
		}
	}
	return h;
}

/*
 * Partials live in a hash table: a caller far out of order (or pieces
 * far smaller than blocks) may leave thousands open.  Block numbers are
 * consecutive, so the low bits spread them well.  Lock held.
 */
static struct partial **
bucket(struct blkhash *h, uint64_t block)
{
	return &h->buckets[block & (h->nbuckets - 1)];
}

/* Lock held. */
static struct partial *
find_partial(struct blkhash *h, uint64_t block)
{
	struct partial *pt;

	if (h->nbuckets == 0)
		return NULL;
	for (pt = *bucket(h, block); pt != NULL; pt = pt->next)
		if (pt->block == block)
			return pt;
	return NULL;
}

/* Doubles the table to keep chains short.  Lock held. */
static int
grow_buckets(struct blkhash *h)
{
	size_t old = h->nbuckets, n = old ? 2 * old : 64;
	struct partial **prev = h->buckets, *pt, *next;

	h->buckets = calloc(n, sizeof(*h->buckets));
	if (h->buckets == NULL) {
		h->buckets = prev;
		return -1;
	}
	h->nbuckets = n;
	for (size_t i = 0; i < old; i++) {
		for (pt = prev[i]; pt != NULL; pt = next) {
			next = pt->next;
			pt->next = *bucket(h, pt->block);
			*bucket(h, pt->block) = pt;
		}
	}
	free(prev);
	return 0;
}

/* Lock held. */
static struct partial *
new_partial(struct blkhash *h, uint64_t block)
{
	struct partial *pt;

	if (h->npartials >= h->nbuckets && grow_buckets(h) == -1)
		return NULL;
	pt = calloc(1, sizeof(*pt));
	if (pt == NULL)
		return NULL;
	pt->block = block;
	pt->next = *bucket(h, block);
	*bucket(h, block) = pt;
	h->npartials++;
	return pt;
}

/* Lock held; frees pt but not its buffer, which is the caller's now. */
static void
remove_partial(struct blkhash *h, struct partial *pt)
{
	struct partial **pp = bucket(h, pt->block);

	while (*pp != pt)
		pp = &(*pp)->next;
	*pp = pt->next;
	h->npartials--;
	free(pt->spans);
	free(pt);
}

/*
 * Claims [lo, hi) of the block: 0, or -1 with *overlap at the first byte
 * already claimed, or -1 with errno ENOMEM.  Pieces mostly arrive next to
 * each other, so spans merge and the list stays short.  Lock held.
 */
static int
claim_span(struct partial *pt, uint32_t lo, uint32_t hi, uint32_t *overlap)
{
	size_t i = 0;
	struct span *sp;

	*overlap = UINT32_MAX;
	while (i < pt->nspans && pt->spans[i].hi <= lo)
		i++;
	if (i < pt->nspans && pt->spans[i].lo < hi) {
		*overlap = MAX(lo, pt->spans[i].lo);
		errno = EINVAL;
		return -1;
	}
	if (i > 0 && pt->spans[i - 1].hi == lo) {
		pt->spans[i - 1].hi = hi;
		if (i < pt->nspans && pt->spans[i].lo == hi) {
			pt->spans[i - 1].hi = pt->spans[i].hi;
			memmove(&pt->spans[i], &pt->spans[i + 1],
			    (pt->nspans - i - 1) * sizeof(*sp));
			pt->nspans--;
		}
		return 0;
	}
	if (i < pt->nspans && pt->spans[i].lo == hi) {
		pt->spans[i].lo = lo;
		return 0;
	}
	if (pt->nspans == pt->span_cap) {
		size_t cap = pt->span_cap ? 2 * pt->span_cap : 4;

		sp = reallocarray(pt->spans, cap, sizeof(*sp));
		if (sp == NULL)
			return -1;
		pt->spans = sp;
		pt->span_cap = cap;
	}
	memmove(&pt->spans[i + 1], &pt->spans[i],
	    (pt->nspans - i) * sizeof(*sp));
	pt->spans[i] = (struct span){ lo, hi };
	pt->nspans++;
	return 0;
}

/*
 * Hashes a completed small block in the calling thread and frees buf.
 * Called and returns with the lock held; drops it while hashing.
 */
static void
hash_inline(struct blkhash *h, uint64_t block, unsigned char *buf)
{
	unsigned char *digest = malloc(h->dlen);
	int rc = -1;

	pthread_mutex_unlock(&h->lock);
	if (digest != NULL)
		rc = hash_block(h, buf, h->p.block_size, digest);
	free(buf);
	pthread_mutex_lock(&h->lock);
	if (rc == 0)
		add_run(h, block, 1, digest);
	else {
		free(digest);
		fail(h, "hashing block at offset %" PRIu64 " failed",
		    block * h->p.block_size);
	}
}

/*
 * Puts n bytes (data, or zeroes when data is NULL) at byte `inner` of
 * block `block`, and hands the block to the workers once complete.  The
 * copy happens outside the lock: bytes are claimed first and counted as
 * filled only once in place, so the block cannot be hashed (and its
 * buffer freed) while a copy into it is still running.
 */
static int
add_partial(struct blkhash *h, uint64_t block, uint32_t inner,
    const unsigned char *data, uint32_t n)
{
	uint32_t bs = h->p.block_size;
	struct partial *pt;
	unsigned char *buf;
	struct job *j;
	uint32_t overlap;
	int rc;

	pthread_mutex_lock(&h->lock);
	pt = find_partial(h, block);
	if (pt == NULL && (pt = new_partial(h, block)) == NULL)
		goto oom;
	if (data != NULL && pt->buf == NULL &&
	    (pt->buf = calloc(1, bs)) == NULL)
		goto oom;
	if (claim_span(pt, inner, inner + n, &overlap) == -1) {
		if (overlap == UINT32_MAX)
			goto oom;
		fail(h, "bytes at offset %" PRIu64 " given twice",
		    block * bs + overlap);
		goto out;
	}
	buf = pt->buf;
	if (data != NULL) {
		pthread_mutex_unlock(&h->lock);
		memcpy(buf + inner, data, n);
		pthread_mutex_lock(&h->lock);
		/* pt stays: our unfilled bytes keep it from completing */
	}
	pt->filled += n;
	if (pt->filled == bs) {
		buf = pt->buf;
		remove_partial(h, pt);
		if (buf == NULL)
			add_run(h, block, 1, NULL);
		else if (bs <= INLINE_MAX)
			hash_inline(h, block, buf);
		else if ((j = calloc(1, sizeof(*j))) == NULL) {
			free(buf);
			goto oom;
		} else {
			*j = (struct job){ .block = block, .count = 1,
			    .data = buf, .owned = buf };
			enqueue(h, j);
		}
	}
out:
	rc = h->failed ? -1 : 0;
	pthread_mutex_unlock(&h->lock);
	if (rc == -1)
		errno = EINVAL;
	return rc;
oom:
	fail(h, "out of memory");
	goto out;
}

/*
 * Queues count whole blocks of buf from block on.  With pc, the workers
 * read buf in place and drop a reference on pc when done; without, they
 * get a copy (bounded by COPY_LIMIT, waiting for them if needed).
 */
static int
add_blocks(struct blkhash *h, uint64_t block, uint64_t count,
    const unsigned char *buf, struct piece *pc)
{
	uint64_t bs = h->p.block_size;
	uint64_t per_job = MAX((uint64_t)1, JOB_BYTES / bs);

	while (count > 0) {
		uint64_t n = MIN(count, per_job);
		size_t len = n * bs;
		struct job *j = calloc(1, sizeof(*j));

		if (j == NULL)
			goto oom;
		*j = (struct job){ .block = block, .count = n, .data = buf };
		if (pc == NULL) {
			pthread_mutex_lock(&h->lock);
			while (h->copied > 0 && h->copied + len > COPY_LIMIT)
				pthread_cond_wait(&h->idle, &h->lock);
			h->copied += len;
			pthread_mutex_unlock(&h->lock);
			j->copied = len;
			j->owned = malloc(len);
			if (j->owned == NULL) {
				pthread_mutex_lock(&h->lock);
				h->copied -= len;
				pthread_mutex_unlock(&h->lock);
				free(j);
				goto oom;
			}
			memcpy(j->owned, buf, len);
			j->data = j->owned;
		}
		pthread_mutex_lock(&h->lock);
		if (pc != NULL) {
			pc->refs++;
			j->piece = pc;
		}
		enqueue(h, j);
		pthread_mutex_unlock(&h->lock);
		block += n;
		count -= n;
		buf += len;
	}
	return 0;
oom:
	pthread_mutex_lock(&h->lock);
	fail(h, "out of memory");
	pthread_mutex_unlock(&h->lock);
	return -1;
}

/* Common to data and zeroes (buf NULL): head partial, blocks, tail. */
static int
add_range(struct blkhash *h, uint64_t off, const unsigned char *buf,
    uint64_t len, struct piece *pc)
{
	uint64_t bs = h->p.block_size;
	uint64_t inner = off % bs, count;

	if (off > INT64_MAX || len > INT64_MAX - off) {
		pthread_mutex_lock(&h->lock);
		fail(h, "range at offset %" PRIu64 " is too large", off);
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	if (len == 0)
		return 0;
	if (inner != 0 || len < bs) {
		uint64_t n = MIN(len, bs - inner);

		if (add_partial(h, off / bs, inner, buf, n) == -1)
			return -1;
		off += n;
		len -= n;
		if (buf != NULL)
			buf += n;
	}
	count = len / bs;
	if (count > 0) {
		int rc;

		if (buf != NULL)
			rc = add_blocks(h, off / bs, count, buf, pc);
		else {
			pthread_mutex_lock(&h->lock);
			rc = add_run(h, off / bs, count, NULL);
			pthread_mutex_unlock(&h->lock);
		}
		if (rc == -1)
			return -1;
		off += count * bs;
		len -= count * bs;
		if (buf != NULL)
			buf += count * bs;
	}
	if (len > 0)
		return add_partial(h, off / bs, 0, buf, len);
	return 0;
}

int
blkhash_update(struct blkhash *h, uint64_t off, const void *buf, size_t len)
{
	return add_range(h, off, buf, len, NULL);
}

int
blkhash_update_async(struct blkhash *h, uint64_t off, const void *buf,
    size_t len, void (*done)(void *opaque), void *opaque)
{
	struct piece *pc = malloc(sizeof(*pc));
	bool last;
	int rc;

	if (pc == NULL) {
		if (done != NULL)
			done(opaque);
		pthread_mutex_lock(&h->lock);
		fail(h, "out of memory");
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	/* Our own reference keeps done from running before we finish. */
	*pc = (struct piece){ .refs = 1, .done = done, .opaque = opaque };
	rc = add_range(h, off, buf, len, pc);
	pthread_mutex_lock(&h->lock);
	last = piece_unref(pc);
	pthread_mutex_unlock(&h->lock);
	if (last)
		piece_done(pc);
	return rc;
}

int
blkhash_zero(struct blkhash *h, uint64_t off, uint64_t len)
{
	return add_range(h, off, NULL, len, NULL);
}

static void
to_hex(const unsigned char *md, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * len] = '\0';
}

/* The short last block, which only the final length reveals.  Lock held. */
static void
finish_short_block(struct blkhash *h, uint64_t length)
{
	uint64_t bs = h->p.block_size;
	uint64_t block = length / bs, len = length % bs;
	struct partial *pt = find_partial(h, block);
	unsigned char *digest, *buf;
	int rc;

	if (len == 0 || pt == NULL || pt->filled != len ||
	    pt->nspans != 1 || pt->spans[0].hi != len)
		return;
	buf = pt->buf;
	remove_partial(h, pt);
	digest = malloc(h->dlen);
	if (digest == NULL) {
		free(buf);
		fail(h, "out of memory");
		return;
	}
	rc = buf != NULL ? hash_block(h, buf, len, digest) :
	    hash_zeroes(h->alg, len, digest);
	free(buf);
	if (rc == -1) {
		free(digest);
		fail(h, "hashing block at offset %" PRIu64 " failed",
		    block * bs);
		return;
	}
	add_run(h, block, 1, digest);
}

int
blkhash_final(struct blkhash *h, uint64_t length, char hex[BLKHASH_HEX_MAX])
{
	uint64_t bs = h->p.block_size;
	uint64_t nblocks = length / bs + (length % bs != 0);
	unsigned char md[BLKHASH_MAX_DIGEST], le[8];
	int rc = -1;

	pthread_mutex_lock(&h->lock);
	while (h->pending > 0)
		pthread_cond_wait(&h->idle, &h->lock);
	if (h->finished) {
		fail(h, "blkhash_final called twice");
		goto out;
	}
	h->finished = true;
	if (h->failed)
		goto out;
	finish_short_block(h, length);
	if (h->failed)
		goto out;
	if (h->next < nblocks) {
		fail(h, "block at offset %" PRIu64 " is incomplete",
		    h->next * bs);
		goto out;
	}
	if (h->next > nblocks || h->nheap > 0 || h->npartials > 0) {
		fail(h, "data past the image length %" PRIu64, length);
		goto out;
	}
	for (int i = 0; i < 8; i++)
		le[i] = length >> (8 * i);
	outer_update(&h->outer, le, sizeof(le));
	outer_digest(&h->outer, md);
	to_hex(md, h->dlen, hex);
	rc = 0;
out:
	pthread_mutex_unlock(&h->lock);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

_Static_assert(BLKHASH_STATE_HEX_MAX == OUTER_STATE_HEX_MAX,
    "blkhash.h and blkhash-outer.h disagree on the state's size");

int
blkhash_state(struct blkhash *h, uint64_t limit, uint64_t *off,
    char hex[BLKHASH_STATE_HEX_MAX])
{
	uint64_t bs = h->p.block_size, max = limit / bs, next = 0;
	const struct outer *o = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->failed || h->finished)
		goto out;
	if (h->next <= max) {
		o = &h->outer;
		next = h->next;
		goto out;
	}
	for (unsigned i = h->nsnaps; i-- > 0;) {
		const struct snap *s = &h->snaps[(h->snap0 + i) % SNAPS];

		if (s->next <= max) {
			o = &s->outer;
			next = s->next;
			break;
		}
	}
out:
	if (o != NULL)
		outer_save(o, hex);
	pthread_mutex_unlock(&h->lock);
	if (o == NULL) {
		errno = ENOENT;
		return -1;
	}
	*off = next * bs;
	return 0;
}

int
blkhash_restore(struct blkhash *h, uint64_t off, const char *hex)
{
	uint64_t bs = h->p.block_size;
	int rc = -1;

	pthread_mutex_lock(&h->lock);
	if (h->next == 0 && h->nheap == 0 && h->npartials == 0 &&
	    h->pending == 0 && !h->failed && !h->finished && off % bs == 0 &&
	    off / bs <= UINT64_MAX / h->dlen &&
	    outer_load(&h->outer, off / bs * h->dlen, hex) == 0) {
		h->next = off / bs;
		h->nsnaps = h->snap0 = 0;
		snapshot(h);
		rc = 0;
	}
	pthread_mutex_unlock(&h->lock);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

const char *
blkhash_error(struct blkhash *h)
{
	const char *e;

	pthread_mutex_lock(&h->lock);
	e = h->error;
	pthread_mutex_unlock(&h->lock);
	return e;
}

void
blkhash_free(struct blkhash *h)
{
	if (h == NULL)
		return;
	/* Workers drain the queue before they stop, so every done runs. */
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->lock);
	for (unsigned i = 0; i < h->nthreads; i++)
		pthread_join(h->threads[i], NULL);
	for (size_t i = 0; i < h->nheap; i++)
		free(h->heap[i].digests);
	free(h->heap);
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct partial *pt, *next;

		for (pt = h->buckets[i]; pt != NULL; pt = next) {
			next = pt->next;
			free(pt->buf);
			free(pt->spans);
			free(pt);
		}
	}
	free(h->buckets);
	free(h);
}
