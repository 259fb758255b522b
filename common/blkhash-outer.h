/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The outer hash of a blkhash (the digest of the block digests), in
 * nettle rather than gnutls, because its state can be written down and
 * taken up again: a --checkpoint keeps it, so a resumed copy does not
 * hash the part already done from the source a second time.  The outer
 * hash sees one digest per block, so its speed does not matter.
 *
 * The state is the algorithm's chaining words and the input not yet
 * compressed, which FIPS 180 and RFC 1321 define; its text is those
 * words (big-endian, fixed width) then those bytes, in lowercase hex.
 * How many bytes are buffered follows from how many were hashed, so
 * the text's length is checked, not trusted.
 */
#ifndef NBDU_BLKHASH_OUTER_H
#define NBDU_BLKHASH_OUTER_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

/* 64 bytes of words and 127 buffered, as hex, and a NUL. */
#define OUTER_STATE_HEX_MAX	(2 * (64 + 127) + 1)

struct outer_alg;

struct outer {
	const struct outer_alg *a;
	union {
		struct md5_ctx md5;
		struct sha1_ctx sha1;
		struct sha256_ctx sha256;
		struct sha512_ctx sha512;
	} u;
};

/* A new hash of name ("sha256", as blkhash_parse gives): 0, or -1. */
int outer_init(struct outer *o, const char *name);

void outer_update(struct outer *o, const void *data, size_t len);

/* The digest, of the algorithm's length, into md; o is spent. */
void outer_digest(struct outer *o, unsigned char *md);

/* The state as text (see above) into hex. */
void outer_save(const struct outer *o, char hex[OUTER_STATE_HEX_MAX]);

/*
 * Takes up a state saved after bytes bytes of input into o, which
 * outer_init made with the same algorithm: 0, or -1 if the text is not
 * such a state (o is then unchanged).
 */
int outer_load(struct outer *o, uint64_t bytes, const char *hex);

#endif
