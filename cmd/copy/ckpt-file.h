/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The --checkpoint file: what a copy has made durable on its destination,
 * and what identifies the copy, so that the same command can resume it
 * and a different one is refused.  A small text file:
 *
 *	nbd-copy-checkpoint 3
 *	source nbd+unix:///?socket=/tmp/s
 *	destination disk.img
 *	source-size 1073741824
 *	destination-size 1073741824
 *	allocated 0
 *	sparse 4096
 *	blkhash sha256/65536
 *	selection all
 *	blkhash-state 65536 6a09e667...
 *	done 0 67108864
 *	done 134217728 1048576
 *	sha256 <hex digest of every line above>
 *
 * blkhash-state, only with a blkhash, is the outer hash's state after
 * [0, OFF) (blkhash_state), OFF within the first done range: a resume
 * takes it up instead of hashing that part of the source again.
 * Version 2 files, which never have it, are read too.
 *
 * Names are percent-encoded where they hold spaces, controls or '%'.
 * The digest line makes a torn or edited file an error, not a wrong
 * resume.  Files are replaced atomically (temporary file PATH.tmp,
 * fsync, rename, fsync of the directory), so a reader sees the old or
 * the new one.
 */
#ifndef NBDU_CKPT_FILE_H
#define NBDU_CKPT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "blkhash.h"
#include "rangeset.h"

#define CKPT_VERSION	3
/*
 * At most this many "done" ranges are written; the rest are dropped,
 * which only makes a resume copy them again.  However out of order the
 * engines finish, the file stays a few hundred KiB at most.
 */
#define CKPT_MAX_RANGES	8192

/* Everything that must match for a resume to be correct. */
struct ckpt_id {
	char source[4096];	/* as given, password removed */
	char destination[4096];
	uint64_t source_size;
	uint64_t destination_size;
	int allocated;
	uint64_t sparse;
	char blkhash[64];	/* "sha256/65536", or "none" */
	char selection[128];	/* "all", or what ckpt_selection() says */
};

/* The blkhash's state after [0, off), or none. */
struct ckpt_hash {
	uint64_t off;
	char hex[BLKHASH_STATE_HEX_MAX];	/* "": none */
};

/*
 * The selection field of a copy of only the ranges in set (NULL: all),
 * chosen with option: the option and a digest of the set, so that a
 * resume with another set (a bitmap that grew, another range list) is
 * refused rather than trusted.  -1 if out of memory.
 */
int ckpt_selection(struct ckpt_id *id, const char *option,
    const struct rangeset *set);

/*
 * Reads path: 1 and fills id, done and hash, 0 if it does not exist, -1
 * with a one-line reason in why (unreadable, not a checkpoint, corrupt).
 */
int ckpt_load(const char *path, struct ckpt_id *id, struct rangeset *done,
    struct ckpt_hash *hash, char *why, size_t whylen);

/* The first field (its name as in the file) that differs, or NULL. */
const char *ckpt_mismatch(const struct ckpt_id *a, const struct ckpt_id *b);

/* Writes path atomically (hash may be NULL): 0, or -1 with errno set. */
int ckpt_save(const char *path, const struct ckpt_id *id,
    const struct rangeset *done, const struct ckpt_hash *hash);

/* Removes path and any temporary file of it: 0, or -1 with errno set. */
int ckpt_remove(const char *path);

#endif
