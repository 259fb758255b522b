/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --checkpoint: recording, while the engines copy, which ranges of the
 * destination are done and durable, and resuming from that record.
 *
 * Every worker of an engine has a struct ckpt_worker.  It notes each
 * range whose destination commands completed (checkpoint_done) in its
 * own pending set, without a lock.  When ckpt-schedule.c says, a saver
 * thread asks for the ranges; each worker, at its next turn
 * (checkpoint_poll), flushes its own destination endpoint (an NBD flush
 * covers only the writes of its own connection, and only those that
 * completed before it was sent) and merges the set into the durable
 * one.  The saver then writes FILE (ckpt_save).  A local file
 * or device is flushed by the saver instead, once for all workers
 * (fdatasync covers every write to it), so the copy never waits for the
 * disk.  Either way FILE never claims a byte that a crash could still
 * lose.
 */
#ifndef NBDU_CHECKPOINT_H
#define NBDU_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "ckpt-file.h"
#include "rangeset.h"

struct blkhash;
struct checkpoint;
struct copy_opts;
struct endpoint;
struct ep_arg;

struct ckpt_worker {
	struct checkpoint *ck;		/* NULL: no --checkpoint */
	struct rangeset pending;	/* completed, not yet flushed */
	unsigned answered;		/* the last request answered */
};

/*
 * Before the destination is opened: refuses what cannot be resumed
 * (streams, null:), and loads path.  True if it holds a checkpoint to
 * resume from (then the destination must be opened as it is), false
 * for a new copy.  Exits 1 if path is unreadable or corrupt.
 */
bool checkpoint_load(const char *path, const struct ep_arg *src,
    const struct ep_arg *dst);

/*
 * After tune() and after o->todo holds the selection of a selective
 * copy: checks that a resumed copy is the same copy, selection included
 * (exits 1 naming the field otherwise), sets o->todo to what is left of
 * it (or of the whole source), and starts
 * the saver.  o->ckpt is set.  From then on, any exit (an error, a
 * signal) stops the saver and writes the last checkpoint: the engines
 * only have to hand their last ranges over first (checkpoint_leave).
 */
void checkpoint_begin(struct copy_opts *o, const struct endpoint *src,
    struct endpoint *dst);

/*
 * The copy's blkhash, new, after checkpoint_begin: from now on FILE
 * keeps its state (the outer hash after a prefix of the done part), and
 * a resume first takes up the state FILE kept.  Returns what of the
 * done part h must still be given from the source, or NULL.
 */
const struct rangeset *checkpoint_hash(struct checkpoint *ck,
    struct blkhash *h);

/* What a resume skips (the done part, whole blocks), or NULL. */
const struct rangeset *checkpoint_skipped(const struct checkpoint *ck);

/* A worker starts (ck may be NULL: then every call does nothing). */
void checkpoint_join(struct checkpoint *ck, struct ckpt_worker *cw);

/* [off, off+len) of the destination was written and completed. */
void checkpoint_done(struct ckpt_worker *cw, uint64_t off, uint64_t len);

/* If the saver asked: flush dst, then hand over what it made durable. */
void checkpoint_poll(struct ckpt_worker *cw, struct endpoint *dst);

/*
 * The worker ends: with flush, its last ranges are flushed and handed
 * over; without (commands still in flight), they are dropped.
 */
void checkpoint_leave(struct ckpt_worker *cw, struct endpoint *dst,
    bool flush);

/* The copy is complete and flushed: FILE goes. */
void checkpoint_remove(struct checkpoint *ck);

#endif
