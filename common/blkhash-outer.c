/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The outer hash of a blkhash: see blkhash-outer.h. */
#include <string.h>

#include "compiler.h"
#include "blkhash-outer.h"

enum family { F_MD5, F_SHA1, F_SHA256, F_SHA512 };

struct outer_alg {
	const char *name;
	enum family family;
	size_t digest_len;
	void (*init)(void *ctx);
	void (*update)(void *ctx, size_t len, const uint8_t *data);
	void (*digest)(void *ctx, size_t len, uint8_t *out);
};

/* nettle's functions take their own context types: these fit the table. */
#define WRAP(alg, ctx)							\
static void alg##_i(void *c) { alg##_init((struct ctx *)c); }		\
static void alg##_u(void *c, size_t n, const uint8_t *d)		\
	{ alg##_update((struct ctx *)c, n, d); }			\
static void alg##_d(void *c, size_t n, uint8_t *o)			\
	{ alg##_digest((struct ctx *)c, n, o); }
WRAP(md5, md5_ctx)
WRAP(sha1, sha1_ctx)
WRAP(sha224, sha256_ctx)
WRAP(sha256, sha256_ctx)
WRAP(sha384, sha512_ctx)
WRAP(sha512, sha512_ctx)
#undef WRAP

static const struct outer_alg algs[] = {
#define ALG(n, f, len) { #n, f, len, n##_i, n##_u, n##_d }
	ALG(md5, F_MD5, MD5_DIGEST_SIZE),
	ALG(sha1, F_SHA1, SHA1_DIGEST_SIZE),
	ALG(sha224, F_SHA256, SHA224_DIGEST_SIZE),
	ALG(sha256, F_SHA256, SHA256_DIGEST_SIZE),
	ALG(sha384, F_SHA512, SHA384_DIGEST_SIZE),
	ALG(sha512, F_SHA512, SHA512_DIGEST_SIZE),
#undef ALG
};

/* Where a context keeps what the state text holds. */
struct view {
	uint32_t *w32;		/* chaining words: 32-bit ones, */
	uint64_t *w64;		/* or 64-bit ones */
	unsigned nwords;
	size_t block_size;	/* compression function input */
	unsigned *index;	/* bytes buffered */
	uint8_t *block;
};

#define VIEW(ctx, bits, bsz) (struct view){			\
	.w##bits = (ctx)->state, .nwords = ARRAY_SIZE((ctx)->state),	\
	.block_size = (bsz), .index = &(ctx)->index, .block = (ctx)->block }

static struct view
view(struct outer *o)
{
	switch (o->a->family) {
	case F_MD5:
		return VIEW(&o->u.md5, 32, MD5_BLOCK_SIZE);
	case F_SHA1:
		return VIEW(&o->u.sha1, 32, SHA1_BLOCK_SIZE);
	case F_SHA256:
		return VIEW(&o->u.sha256, 32, SHA256_BLOCK_SIZE);
	default:
		return VIEW(&o->u.sha512, 64, SHA512_BLOCK_SIZE);
	}
}

/* The count of compressed blocks, which nettle keeps beside the words. */
static void
set_count(struct outer *o, uint64_t blocks)
{
	switch (o->a->family) {
	case F_MD5:
		o->u.md5.count = blocks;
		break;
	case F_SHA1:
		o->u.sha1.count = blocks;
		break;
	case F_SHA256:
		o->u.sha256.count = blocks;
		break;
	default:
		o->u.sha512.count_low = blocks;
		o->u.sha512.count_high = 0;
		break;
	}
}

int
outer_init(struct outer *o, const char *name)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		if (strcmp(algs[i].name, name) == 0) {
			o->a = &algs[i];
			o->a->init(&o->u);
			return 0;
		}
	}
	return -1;
}

void
outer_update(struct outer *o, const void *data, size_t len)
{
	o->a->update(&o->u, len, data);
}

void
outer_digest(struct outer *o, unsigned char *md)
{
	o->a->digest(&o->u, o->a->digest_len, md);
}

static const char xdigits[] = "0123456789abcdef";

static char *
put_hex(char *p, uint64_t v, unsigned digits)
{
	while (digits-- > 0)
		*p++ = xdigits[(v >> (4 * digits)) & 0xf];
	return p;
}

void
outer_save(const struct outer *o, char hex[OUTER_STATE_HEX_MAX])
{
	struct outer copy = *o;
	struct view v = view(&copy);
	char *p = hex;

	for (unsigned i = 0; i < v.nwords; i++)
		p = v.w32 != NULL ? put_hex(p, v.w32[i], 8) :
		    put_hex(p, v.w64[i], 16);
	for (unsigned i = 0; i < *v.index; i++)
		p = put_hex(p, v.block[i], 2);
	*p = '\0';
}

/* digits hex digits at p as a number: 0, or -1. */
static int
get_hex(const char *p, unsigned digits, uint64_t *v)
{
	*v = 0;
	for (unsigned i = 0; i < digits; i++) {
		const char *x = p[i] != '\0' ? strchr(xdigits, p[i]) : NULL;

		if (x == NULL)
			return -1;
		*v = *v << 4 | (uint64_t)(x - xdigits);
	}
	return 0;
}

int
outer_load(struct outer *o, uint64_t bytes, const char *hex)
{
	struct outer t = *o;
	struct view v = view(&t);
	unsigned wdigits = v.w32 != NULL ? 8 : 16;
	size_t buffered = bytes % v.block_size;
	uint64_t x;

	if (strlen(hex) != v.nwords * wdigits + 2 * buffered)
		return -1;
	for (unsigned i = 0; i < v.nwords; i++, hex += wdigits) {
		if (get_hex(hex, wdigits, &x) == -1)
			return -1;
		if (v.w32 != NULL)
			v.w32[i] = (uint32_t)x;
		else
			v.w64[i] = x;
	}
	for (size_t i = 0; i < buffered; i++, hex += 2) {
		if (get_hex(hex, 2, &x) == -1)
			return -1;
		v.block[i] = (uint8_t)x;
	}
	*v.index = (unsigned)buffered;
	set_count(&t, bytes / v.block_size);
	*o = t;
	return 0;
}
