/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ALG[/SIZE] spec of --blkhash: which digest, which block size.
 */
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "blkhash.h"
#include "blkhash-internal.h"
#include "compiler.h"
#include "size.h"

static const struct {
	const char *name;
	gnutls_digest_algorithm_t alg;
} algs[] = {
	{ "md5", GNUTLS_DIG_MD5 },
	{ "sha1", GNUTLS_DIG_SHA1 },
	{ "sha224", GNUTLS_DIG_SHA224 },
	{ "sha256", GNUTLS_DIG_SHA256 },
	{ "sha384", GNUTLS_DIG_SHA384 },
	{ "sha512", GNUTLS_DIG_SHA512 },
};

/* Messages for *why; per thread so parsing is thread-safe. */
static __thread char reason[BLKHASH_REASON_MAX];

int
blkhash_set_reason(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (why != NULL)
		*why = reason;
	errno = EINVAL;
	return -1;
}

int
blkhash_parse(const char *spec, struct blkhash_params *p, const char **why)
{
	const char *slash;
	size_t namelen;
	uint64_t size = BLKHASH_DEFAULT_BLOCK;

	if (spec == NULL || *spec == '\0')
		spec = BLKHASH_DEFAULT_ALG;
	slash = strchr(spec, '/');
	namelen = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		if (strlen(algs[i].name) != namelen ||
		    strncmp(algs[i].name, spec, namelen) != 0)
			continue;
		if (slash != NULL) {
			if (size_parse(slash + 1, &size) == -1)
				return blkhash_set_reason(why,
				    "bad block size '%s'", slash + 1);
			if (size == 0 || (size & (size - 1)) != 0)
				return blkhash_set_reason(why, "block size must be a "
				    "power of two: '%s'", slash + 1);
			if (size > BLKHASH_MAX_BLOCK)
				return blkhash_set_reason(why, "block size too large: "
				    "'%s' (at most 1G)", slash + 1);
		}
		p->name = algs[i].name;
		p->alg = algs[i].alg;
		p->digest_len = gnutls_hash_get_len(algs[i].alg);
		p->block_size = size;
		return 0;
	}
	return blkhash_set_reason(why, "unknown algorithm '%.*s' (valid: %s)",
	    (int)MIN(namelen, (size_t)40), spec, BLKHASH_NAMES);
}

void
blkhash_parse_or_die(const char *opt, const char *spec,
    struct blkhash_params *p)
{
	const char *why;

	if (blkhash_parse(spec, p, &why) == -1)
		errx(EXIT_FAILURE, "%s: %s", opt, why);
}
