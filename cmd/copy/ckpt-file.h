/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The --checkpoint file: what a copy has made durable on its destination,
 * and what identifies the copy, so that the same command can resume it
 * and a different one is refused.  A small text file:
 *
 *	nbd-copy-checkpoint 1
 *	source nbd+unix:///?socket=/tmp/s
 *	destination disk.img
 *	source-size 1073741824
 *	destination-size 1073741824
 *	allocated 0
 *	sparse 4096
 *	blkhash none
 *	selection all
 *	done 0 67108864
 *	done 134217728 1048576
 *	sha256 <hex digest of every line above>
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

#include "rangeset.h"

#define CKPT_VERSION	2
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

/*
 * The selection field of a copy of only the ranges in set (NULL: all),
 * chosen with option: the option and a digest of the set, so that a
 * resume with another set (a bitmap that grew, another range list) is
 * refused rather than trusted.  -1 if out of memory.
 */
int ckpt_selection(struct ckpt_id *id, const char *option,
    const struct rangeset *set);

/*
 * Reads path: 1 and fills id and done, 0 if it does not exist, -1 with
 * a one-line reason in why (unreadable, not a checkpoint, corrupt).
 */
int ckpt_load(const char *path, struct ckpt_id *id, struct rangeset *done,
    char *why, size_t whylen);

/* The first field (its name as in the file) that differs, or NULL. */
const char *ckpt_mismatch(const struct ckpt_id *a, const struct ckpt_id *b);

/* Writes path atomically: 0, or -1 with errno set. */
int ckpt_save(const char *path, const struct ckpt_id *id,
    const struct rangeset *done);

/* Removes path and any temporary file of it: 0, or -1 with errno set. */
int ckpt_remove(const char *path);

#endif
