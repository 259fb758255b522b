/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --checkpoint: see checkpoint.h; the file format is ckpt-file.c's. */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blkhash.h"
#include "clock.h"
#include "endpoint.h"
#include "uri.h"
#include "copy.h"
#include "checkpoint.h"
#include "ckpt-schedule.h"

/*
 * The saver asks for the workers' ranges when ckpt-schedule.c says,
 * then gives them at most ANSWER_NS to answer: a worker blocked on a
 * slow command answers at the next save.
 */
#define ANSWER_NS	(1000 * 1000 * 1000LL)

struct checkpoint {
	const char *path;
	bool resume;		/* path held a checkpoint of this copy */
	struct ckpt_id loaded;	/* its identity */
	struct ckpt_id id;	/* this copy's */
	struct rangeset todo;	/* resuming: what is left to copy */
	struct rangeset skipped;	/* resuming: the rest, whole blocks */
	struct rangeset rehash;	/* resuming: skipped less the kept hash */

	pthread_mutex_t lock;
	pthread_cond_t cond;	/* answers, leaves and stop wake the saver */
	pthread_t saver;
	bool running, stopping;
	struct rangeset durable;	/* flushed: what FILE may claim */
	/*
	 * The blkhash's state that FILE keeps: loaded, then moved on by
	 * each save to what blkhash (the copy's, once checkpoint_hash gave
	 * it) kept at or before the end of durable's first range.  Every
	 * byte before its offset was hashed and is durable.
	 */
	struct ckpt_hash hash;
	struct blkhash *blkhash;
	/*
	 * A local destination (file, device): fdatasync covers every write
	 * to it, whichever descriptor made it, so the saver flushes its own
	 * (flusher) and the workers never wait for the disk.  What they
	 * handed over waits in written for that flush.
	 */
	struct endpoint *flusher;
	struct rangeset written;
	bool dirty;		/* durable grew since the last save */
	bool warned;		/* a save failed and was reported */
	_Atomic unsigned asked;	/* the saver's last request */
	unsigned members;	/* workers joined and not left */
	unsigned answers;	/* to the last request */
	struct ckpt_clock clock;	/* done is copied's, when read */
	_Atomic uint64_t copied;	/* bytes completed, all workers */
};

/* One copy per process: main's. */
static struct checkpoint the;

static NORETURN void
refuse_kind(const char *side, const char *what)
{
	errx(EXIT_FAILURE, "--checkpoint: the %s must be %s", side, what);
}

#define DST_KINDS	"a file, device or NBD export"
#define SRC_KINDS	"a file, device or NBD export, not a stream"

/* An endpoint as given, password removed; exits 1 if it does not fit. */
static void
arg_name(const struct ep_arg *a, char *out, size_t len)
{
	char *s = a->kind == EP_ARG_URI ? uri_drop_password(a->str) :
	    strdup(a->str);
	size_t n;

	if (s == NULL)
		err(EXIT_FAILURE, "--checkpoint");
	n = (size_t)snprintf(out, len, "%s", a->kind == EP_ARG_CMD ? "[" : s);
	/* A server's whole command line: another one is another source. */
	for (const char **w = a->cmd; a->kind == EP_ARG_CMD && *w; w++)
		n += (size_t)snprintf(out + MIN(n, len), len - MIN(n, len),
		    " %s", *w);
	if (a->kind == EP_ARG_CMD)
		n += (size_t)snprintf(out + MIN(n, len), len - MIN(n, len),
		    " ]");
	free(s);
	if (n >= len)
		errx(EXIT_FAILURE, "--checkpoint: %s: name too long to record",
		    a->display);
}

/*
 * A checkpoint of another copy is refused with the field named; the
 * names are compared before the destination is opened, so that another
 * destination is named as such, not as missing.
 */
static void
refuse_other(const struct checkpoint *ck)
{
	const char *field = ckpt_mismatch(&ck->id, &ck->loaded);

	if (field != NULL)
		errx(EXIT_FAILURE, "--checkpoint: %s: not this copy's "
		    "checkpoint: %s differs", ck->path, field);
}

bool
checkpoint_load(const char *path, const struct ep_arg *src,
    const struct ep_arg *dst)
{
	char why[256];
	int r;

	if (src->kind == EP_ARG_STDIO)
		refuse_kind("source", SRC_KINDS);
	if (dst->kind == EP_ARG_STDIO || dst->kind == EP_ARG_NULL)
		refuse_kind("destination", DST_KINDS);
	the.path = path;
	r = ckpt_load(path, &the.loaded, &the.durable, &the.hash, why,
	    sizeof(why));
	if (r == -1)
		errx(EXIT_FAILURE, "--checkpoint: %s: %s", path, why);
	the.resume = r == 1;
	if (the.resume) {
		the.id = the.loaded;
		arg_name(src, the.id.source, sizeof(the.id.source));
		arg_name(dst, the.id.destination, sizeof(the.id.destination));
		refuse_other(&the);
	}
	return the.resume;
}

static void
make_id(struct ckpt_id *id, const struct copy_opts *o,
    const struct endpoint *src, const struct endpoint *dst)
{
	memset(id, 0, sizeof(*id));
	arg_name(&o->src, id->source, sizeof(id->source));
	arg_name(&o->dst, id->destination, sizeof(id->destination));
	id->source_size = (uint64_t)src->size;
	id->destination_size = (uint64_t)dst->size;
	id->allocated = o->allocated;
	id->sparse = o->sparse;
	if (o->blkhash || o->check[0] != '\0')
		snprintf(id->blkhash, sizeof(id->blkhash), "%s/%" PRIu32,
		    o->hash.name, o->hash.block_size);
	else
		snprintf(id->blkhash, sizeof(id->blkhash), "none");
	if (ckpt_selection(id, o->selection, o->todo) == -1)
		err(EXIT_FAILURE, "--checkpoint");
}

/* out = what the copy writes: the selection in, or [0, size). */
static void
whole(struct rangeset *out, const struct rangeset *in, uint64_t size)
{
	int r = 0;

	rangeset_clear(out);
	if (in != NULL)
		r = rangeset_copy(out, in);
	else if (size > 0)
		r = rangeset_add(out, 0, size);
	if (r == -1)
		err(EXIT_FAILURE, "--checkpoint");
}

/* Takes every range of what out of s. */
static void
subtract(struct rangeset *s, const struct rangeset *what)
{
	for (size_t i = 0; i < what->n; i++)
		if (rangeset_remove(s, what->r[i].off, what->r[i].len) == -1)
			err(EXIT_FAILURE, "--checkpoint");
}

/*
 * What is left: what the copy writes (all of it, or the selection)
 * less what the checkpoint claims, made whole blocks of the destination
 * as the engines write them (the selection is whole blocks already, so
 * this stays inside it).  What is skipped is then exactly the rest of
 * what the copy writes, so the blkhash sees every byte once.
 */
static void
plan_resume(struct checkpoint *ck, struct copy_opts *o, uint64_t size,
    uint32_t align)
{
	whole(&ck->todo, o->todo, size);
	subtract(&ck->todo, &ck->durable);
	if (copy_todo_align(&ck->todo, align, size) == -1)
		err(EXIT_FAILURE, "--checkpoint");
	whole(&ck->skipped, o->todo, size);
	subtract(&ck->skipped, &ck->todo);
	o->todo = &ck->todo;
	/*
	 * What the killed run wrote after its last checkpoint is still in
	 * the destination: holes left must be zeroed, whatever the first
	 * run was told.
	 */
	o->dst_is_zero = 0;
}

static void *saver_thread(void *arg);
static void stop_at_exit(void);

void
checkpoint_begin(struct copy_opts *o, const struct endpoint *src,
    struct endpoint *dst)
{
	struct checkpoint *ck = &the;
	pthread_condattr_t ca;

	if (src->is_stream || src->size < 0)
		refuse_kind("source", SRC_KINDS);
	if (dst->is_stream || dst->discards || dst->size < 0)
		refuse_kind("destination", DST_KINDS);
	make_id(&ck->id, o, src, dst);
	if (ck->resume) {
		refuse_other(ck);
		plan_resume(ck, o, (uint64_t)src->size,
		    dst->block_min > 0 ? dst->block_min : 1);
	}
	ck->clock.start_ns = ck->clock.last_ns = clock_now_ns();
	ck->clock.left = o->todo != NULL ? rangeset_bytes(o->todo) :
	    (uint64_t)src->size;
	atomic_init(&ck->copied, 0);
	/*
	 * A local destination gets the saver's own descriptor (see
	 * flusher); should that fail, each worker flushes its own.
	 */
	if (strcmp(ep_kind(dst), "file") == 0 ||
	    strcmp(ep_kind(dst), "block") == 0)
		ck->flusher = ep_reopen(dst);
	pthread_mutex_init(&ck->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ck->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&ck->asked, 0);
	if (atexit(stop_at_exit) != 0)
		errx(EXIT_FAILURE, "--checkpoint: atexit failed");
	errno = pthread_create(&ck->saver, NULL, saver_thread, ck);
	if (errno != 0)
		err(EXIT_FAILURE, "--checkpoint: pthread_create");
	ck->running = true;
	o->ckpt = ck;
}

/* The saver's view of the copy's blkhash, from now on. */
static void
give_hash(struct checkpoint *ck, struct blkhash *h)
{
	pthread_mutex_lock(&ck->lock);
	ck->blkhash = h;
	pthread_mutex_unlock(&ck->lock);
}

const struct rangeset *
checkpoint_hash(struct checkpoint *ck, struct blkhash *h)
{
	struct ckpt_hash kept;
	bool fits;

	if (!ck->resume) {
		give_hash(ck, h);
		return NULL;
	}
	pthread_mutex_lock(&ck->lock);
	kept = ck->hash;
	pthread_mutex_unlock(&ck->lock);
	/*
	 * What the resume copies must all lie past the state, or the hash
	 * would be given those bytes twice: aligning what is left to the
	 * destination's blocks may have moved it back.
	 */
	fits = kept.hex[0] != '\0' &&
	    (ck->todo.n == 0 || ck->todo.r[0].off >= kept.off);
	if (fits && blkhash_restore(h, kept.off, kept.hex) == -1)
		errx(EXIT_FAILURE, "--checkpoint: %s: corrupt: its "
		    "blkhash-state is not a state of %s", ck->path,
		    ck->id.blkhash);
	give_hash(ck, h);
	if (rangeset_copy(&ck->rehash, &ck->skipped) == -1 ||
	    (fits && kept.off > 0 &&
	    rangeset_remove(&ck->rehash, 0, kept.off) == -1))
		err(EXIT_FAILURE, "--checkpoint");
	return ck->rehash.n > 0 ? &ck->rehash : NULL;
}

const struct rangeset *
checkpoint_skipped(const struct checkpoint *ck)
{
	return ck != NULL && ck->resume ? &ck->skipped : NULL;
}

/* Waits on the saver's condition, until the monotonic time until at most. */
static void
wait_for(struct checkpoint *ck, int64_t until)
{
	struct timespec ts = { .tv_sec = until / 1000000000,
	    .tv_nsec = until % 1000000000 };

	pthread_cond_timedwait(&ck->cond, &ck->lock, &ts);
}

/*
 * Adds the ranges of from to into, kept bounded however out of order
 * the workers finish; true if any was added.
 */
static bool
merge(struct rangeset *into, const struct rangeset *from)
{
	bool added = false;

	for (size_t i = 0; i < from->n; i++) {
		/* A range lost to ENOMEM is copied again by a resume. */
		if (rangeset_add(into, from->r[i].off, from->r[i].len) == -1)
			break;
		added = true;
	}
	rangeset_truncate(into, CKPT_MAX_RANGES);
	return added;
}

/*
 * The blkhash's state at or before the end of done's first range, if h
 * kept one past hash's.  Bytes before it were hashed (from the source,
 * as the copy read them) and are durable, so a resume may take them as
 * hashed.
 */
static void
move_hash(struct blkhash *h, const struct rangeset *done,
    struct ckpt_hash *hash)
{
	uint64_t prefix = done->n > 0 && done->r[0].off == 0 ?
	    done->r[0].len : 0, off;
	char hex[BLKHASH_STATE_HEX_MAX];

	if (h == NULL || blkhash_state(h, prefix, &off, hex) == -1)
		return;
	if (off > hash->off || hash->hex[0] == '\0') {
		hash->off = off;
		memcpy(hash->hex, hex, sizeof(hex));
	}
}

/*
 * Writes what is durable if it grew, without the lock held (workers
 * hand over meanwhile).  Called and returns with the lock held.
 */
static void
save(struct checkpoint *ck)
{
	struct rangeset snap = { 0 };
	struct ckpt_hash hash = ck->hash;
	struct blkhash *h = ck->blkhash;
	int r;

	if (!ck->dirty)
		return;
	if (rangeset_copy(&snap, &ck->durable) == -1)
		return;		/* the next save tries again */
	ck->dirty = false;
	pthread_mutex_unlock(&ck->lock);
	move_hash(h, &snap, &hash);
	r = ckpt_save(ck->path, &ck->id, &snap, &hash);
	if (r == -1 && !ck->warned)
		warn("--checkpoint: %s", ck->path);
	pthread_mutex_lock(&ck->lock);
	if (r == -1) {
		ck->warned = true;
		ck->dirty = true;
	}
	ck->hash = hash;
	rangeset_free(&snap);
}

/* Flushes ep, noting how long it took for the schedule. */
static bool
timed_flush(struct checkpoint *ck, struct endpoint *ep)
{
	int64_t t0 = clock_now_ns();
	bool ok = ep_try_flush(ep) == 0;
	int64_t took = clock_now_ns() - t0;

	pthread_mutex_lock(&ck->lock);
	if (took > ck->clock.flush_ns)
		ck->clock.flush_ns = took;
	pthread_mutex_unlock(&ck->lock);
	return ok;
}

/*
 * A local destination: what the workers handed over becomes durable
 * with the saver's flush.  Called and returns with the lock held.
 */
static void
flush_written(struct checkpoint *ck)
{
	struct rangeset w = ck->written;
	bool ok;

	if (ck->flusher == NULL || w.n == 0)
		return;
	ck->written = (struct rangeset){ 0 };
	pthread_mutex_unlock(&ck->lock);
	ok = timed_flush(ck, ck->flusher);
	pthread_mutex_lock(&ck->lock);
	if (ok && merge(&ck->durable, &w))
		ck->dirty = true;
	rangeset_free(&w);
}

static void *
saver_thread(void *arg)
{
	struct checkpoint *ck = arg;

	pthread_mutex_lock(&ck->lock);
	for (int64_t until = ckpt_next_ns(&ck->clock); !ck->stopping;) {
		while (!ck->stopping && clock_now_ns() < until)
			wait_for(ck, until);
		if (ck->stopping)
			break;
		ck->clock.done = atomic_load(&ck->copied);
		if (!ckpt_save_now(&ck->clock, clock_now_ns())) {
			until = MIN(until + CKPT_SAVE_MIN_NS,
			    ck->clock.last_ns + CKPT_SAVE_MAX_NS);
			continue;
		}
		ck->clock.flush_ns = 0;
		ck->answers = 0;
		atomic_fetch_add(&ck->asked, 1);
		until = clock_now_ns() + ANSWER_NS;
		while (!ck->stopping && ck->answers < ck->members &&
		    clock_now_ns() < until)
			wait_for(ck, until);
		flush_written(ck);
		save(ck);
		ck->clock.last_ns = clock_now_ns();
		until = ckpt_next_ns(&ck->clock);
	}
	pthread_mutex_unlock(&ck->lock);
	return NULL;
}

void
checkpoint_join(struct checkpoint *ck, struct ckpt_worker *cw)
{
	*cw = (struct ckpt_worker){ .ck = ck };
	if (ck == NULL)
		return;
	pthread_mutex_lock(&ck->lock);
	ck->members++;
	cw->answered = atomic_load(&ck->asked);
	pthread_mutex_unlock(&ck->lock);
}

void
checkpoint_done(struct ckpt_worker *cw, uint64_t off, uint64_t len)
{
	if (cw->ck == NULL)
		return;
	atomic_fetch_add_explicit(&cw->ck->copied, len, memory_order_relaxed);
	/* Out of memory, the claim is lost: a resume copies it again. */
	if (rangeset_add(&cw->pending, off, len) == -1)
		return;
}

/*
 * Only what completed before the flush was sent is in pending (this
 * thread sends both), so the flush makes all of it durable; with a
 * flusher, the saver's later flush does.  A flush that fails claims
 * nothing: the copy fails on its own.
 */
static void
hand_over(struct ckpt_worker *cw, struct endpoint *dst)
{
	struct checkpoint *ck = cw->ck;
	unsigned asked = atomic_load(&ck->asked);
	bool own = ck->flusher == NULL;
	bool ok = cw->pending.n > 0 && (!own || timed_flush(ck, dst));

	pthread_mutex_lock(&ck->lock);
	if (ok && merge(own ? &ck->durable : &ck->written, &cw->pending))
		ck->dirty |= own;
	if (asked != cw->answered && asked == atomic_load(&ck->asked))
		ck->answers++;
	cw->answered = asked;
	pthread_cond_signal(&ck->cond);
	pthread_mutex_unlock(&ck->lock);
	rangeset_clear(&cw->pending);
}

void
checkpoint_poll(struct ckpt_worker *cw, struct endpoint *dst)
{
	if (cw->ck == NULL ||
	    atomic_load_explicit(&cw->ck->asked, memory_order_relaxed) ==
	    cw->answered)
		return;
	hand_over(cw, dst);
}

void
checkpoint_leave(struct ckpt_worker *cw, struct endpoint *dst, bool flush)
{
	struct checkpoint *ck = cw->ck;

	if (ck == NULL)
		return;
	if (flush)
		hand_over(cw, dst);
	pthread_mutex_lock(&ck->lock);
	ck->members--;
	pthread_cond_signal(&ck->cond);
	pthread_mutex_unlock(&ck->lock);
	rangeset_free(&cw->pending);
	cw->ck = NULL;
}

static void
close_flusher(struct checkpoint *ck)
{
	if (ck->flusher != NULL)
		ep_close(ck->flusher);
	ck->flusher = NULL;
}

/* False if it was not running. */
static bool
stop_saver(struct checkpoint *ck)
{
	if (!ck->running)
		return false;
	pthread_mutex_lock(&ck->lock);
	ck->stopping = true;
	pthread_cond_signal(&ck->cond);
	pthread_mutex_unlock(&ck->lock);
	pthread_join(ck->saver, NULL);
	ck->running = false;
	return true;
}

/*
 * Every way out of a copy that did not complete (an error, a signal)
 * goes through exit(), after the workers handed over their last ranges:
 * the last checkpoint is written here.
 */
static void
stop_at_exit(void)
{
	struct checkpoint *ck = &the;

	if (!stop_saver(ck))
		return;
	pthread_mutex_lock(&ck->lock);
	flush_written(ck);
	save(ck);
	pthread_mutex_unlock(&ck->lock);
	close_flusher(ck);
}

void
checkpoint_remove(struct checkpoint *ck)
{
	stop_saver(ck);
	close_flusher(ck);
	if (ckpt_remove(ck->path) == -1)
		err(EXIT_FAILURE, "--checkpoint: %s", ck->path);
	rangeset_free(&ck->durable);
	rangeset_free(&ck->todo);
	rangeset_free(&ck->skipped);
	rangeset_free(&ck->rehash);
	rangeset_free(&ck->written);
}
