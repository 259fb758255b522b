/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blkhash: the block hash of SPEC 2, compatible with blksum (0.10 and
 * later) and nbdcopy --blkhash.  The image is cut into blocks of SIZE
 * bytes (a power of two; the last block may be short) and the digest is
 *
 *	H( H(block 1) || ... || H(block N) || le64(image length) )
 *
 * with H one of md5, sha1, sha224, sha256, sha384, sha512.
 *
 * The copy engine finishes reads out of order and on several threads, so
 * a struct blkhash takes pieces of the image (data or known zeroes) at any
 * offset, in any order, from any thread.  Every byte of [0, length) must
 * be given exactly once, either as data or as zeroes.  Whole blocks are
 * hashed by a small pool of worker threads; block digests are folded into
 * the outer hash in order as soon as the prefix before them is complete,
 * so memory follows the engine's in-flight window, not the image size.
 * Zero blocks cost one digest update each, never a hash of the zeroes.
 *
 * Errors: functions return -1 (errno set) and blkhash_error() says what
 * went wrong in one line; the _or_die variants exit 1 with
 * "PROG: OPT: message", like size_parse_or_die.
 *
 * blkhash.c is the hashing engine, blkhash-outer.c the outer hash (in
 * nettle, whose state can be saved), blkhash-spec.c the ALG/SIZE parser,
 * blkhash-check.c the digest as text (written out, or read back to check).
 */
#ifndef NBDU_BLKHASH_H
#define NBDU_BLKHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLKHASH_DEFAULT_ALG	"sha256"
#define BLKHASH_DEFAULT_BLOCK	(64 * 1024)
#define BLKHASH_MAX_BLOCK	(1024 * 1024 * 1024)	/* 1 GiB */
#define BLKHASH_MAX_DIGEST	64			/* sha512 */
#define BLKHASH_HEX_MAX		(2 * BLKHASH_MAX_DIGEST + 1) /* + NUL */
#define BLKHASH_NAMES		"md5, sha1, sha224, sha256, sha384, sha512"

/* What --blkhash=ALG/SIZE selects; plain data, copy it freely. */
struct blkhash_params {
	const char *name;	/* "sha256": static, lower case */
	int alg;		/* gnutls_digest_algorithm_t */
	size_t digest_len;	/* bytes; hex is twice that */
	uint32_t block_size;	/* power of two, 1 .. BLKHASH_MAX_BLOCK */
};

/*
 * Parses "ALG[/SIZE]" (SIZE with size_parse suffixes: "sha256/64k").
 * NULL or "" gives the default sha256/64k.  Returns 0, or -1 with errno
 * EINVAL and, when why is not NULL, a one-line reason in *why (valid
 * until the thread's next call): an unknown ALG lists BLKHASH_NAMES.
 */
int blkhash_parse(const char *spec, struct blkhash_params *p,
    const char **why);

/* Exits 1 with "PROG: OPT: reason" on a bad spec. */
void blkhash_parse_or_die(const char *opt, const char *spec,
    struct blkhash_params *p);

/*
 * A new hash with `threads` worker threads (0: one per online CPU, at
 * most 8).  Returns NULL with errno on failure.
 */
struct blkhash *blkhash_new(const struct blkhash_params *p, unsigned threads);

/*
 * Adds len bytes of image data at off.  buf is copied where needed, so
 * the caller may reuse it on return.  May block for a while when the
 * workers are behind by more than a few tens of MiB (memory stays
 * bounded).  Thread-safe.  Returns 0, or -1 (EINVAL on a range past
 * INT64_MAX or on bytes given twice, or an earlier failure).
 */
int blkhash_update(struct blkhash *h, uint64_t off, const void *buf,
    size_t len);

/*
 * Zero-copy variant for the copy engine: the workers hash whole blocks
 * straight from buf, so buf must stay valid and unchanged until
 * done(opaque) is called, exactly once, from a worker or (when nothing
 * was left for the workers) from the calling thread before this returns.
 * done may be NULL.  On -1, done has been called already if it will be
 * called at all: it is called exactly once whatever the result.
 */
int blkhash_update_async(struct blkhash *h, uint64_t off, const void *buf,
    size_t len, void (*done)(void *opaque), void *opaque);

/* Adds len bytes known to be zero at off, without reading or hashing them. */
int blkhash_zero(struct blkhash *h, uint64_t off, uint64_t len);

/*
 * Waits for the workers, checks that [0, length) was given exactly once
 * (length need not be known before: a streamed source passes what it
 * read), and writes the lowercase hex digest and NUL to hex.  Returns 0,
 * or -1 with blkhash_error() naming the first offset missing or the
 * failure.  Call it once; only blkhash_free may follow.
 */
int blkhash_final(struct blkhash *h, uint64_t length,
    char hex[BLKHASH_HEX_MAX]);

/*
 * The state of the outer hash, for a --checkpoint: blkhash_state
 * writes to hex (lowercase, NUL-terminated) the state after the
 * longest in-order prefix [0, *off) of whole blocks that it still
 * knows, with *off <= limit, and returns 0; -1 (ENOENT) if it kept
 * none that short, or after a failure or blkhash_final.  It knows the
 * prefix folded so far and snapshots of it every 16 MiB, the last 64.
 * Thread-safe.
 */
#define BLKHASH_STATE_HEX_MAX	(2 * (64 + 127) + 1)
int blkhash_state(struct blkhash *h, uint64_t limit, uint64_t *off,
    char hex[BLKHASH_STATE_HEX_MAX]);

/*
 * Before anything is given to a new h: takes up a state blkhash_state
 * gave for [0, off) of the same image with the same parameters, as if
 * those bytes had been given.  Returns 0, or -1 (EINVAL) if hex is not
 * such a state.  Then every byte of [off, length) must be given.
 */
int blkhash_restore(struct blkhash *h, uint64_t off, const char *hex);

/* The first failure, one line without program name; "" if none. */
const char *blkhash_error(struct blkhash *h);

/* Stops the workers and frees everything.  NULL is fine. */
void blkhash_free(struct blkhash *h);

/*
 * Writes hex and a newline to file (created or truncated), or to stdout
 * when file is NULL or "-" (cli's exit check catches stdout errors).
 * Returns 0, or -1 with errno.
 */
int blkhash_write(const char *hex, const char *file);

/* Exits 1 with "PROG: FILE: strerror" on failure. */
void blkhash_write_or_die(const char *hex, const char *file);

/*
 * Reads an expected digest the way blksum and sha256sum print it: the
 * first whitespace-separated token of text (a leading '\' as sha256sum
 * adds for odd file names is skipped), hex in any case, exactly
 * 2 * p->digest_len digits.  Writes it in lower case to out.  Returns 0,
 * or -1 with errno EINVAL and a reason in *why as blkhash_parse gives.
 */
int blkhash_check_parse(const char *text, const struct blkhash_params *p,
    char out[BLKHASH_HEX_MAX], const char **why);

/* --check=HEX: exits 1 with "PROG: OPT: reason" on a bad digest. */
void blkhash_check_parse_or_die(const char *opt, const char *text,
    const struct blkhash_params *p, char out[BLKHASH_HEX_MAX]);

/* --check-file=FILE: the first line of FILE, parsed as above; exits 1. */
void blkhash_check_file_or_die(const char *opt, const char *file,
    const struct blkhash_params *p, char out[BLKHASH_HEX_MAX]);

/* true when the computed digest equals the expected one (both from above). */
bool blkhash_check_equal(const char *expected, const char *actual);

#endif
