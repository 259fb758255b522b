/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The --checkpoint file reader over arbitrary text, sealed with the
 * digest line a real file carries (so the parser, not the digest check,
 * sees the input): it loads, is missing or is corrupt, never more; what
 * loads has ranges inside the source and a hash state inside the first
 * done range, and saves and loads back the same; a state the outer hash
 * takes up is written back exactly as it was read.
 */
#include <gnutls/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkhash.h"
#include "blkhash-outer.h"
#include "ckpt-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static char path[] = "/tmp/fuzz-ckpt.XXXXXX";
static char path2[sizeof(path) + 8];

static void
seal(const uint8_t *data, size_t len)
{
	unsigned char md[32];
	FILE *f;

	gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, md);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fwrite(data, 1, len, f);
	fputs("sha256 ", f);
	for (size_t i = 0; i < sizeof(md); i++)
		fprintf(f, "%02x", md[i]);
	fputc('\n', f);
	if (fclose(f) != 0)
		abort();
}

static bool
same(const struct ckpt_id *a, const struct rangeset *da,
    const struct ckpt_hash *ha, const struct ckpt_id *b,
    const struct rangeset *db, const struct ckpt_hash *hb)
{
	if (ckpt_mismatch(a, b) != NULL || da->n != db->n ||
	    ha->off != hb->off || strcmp(ha->hex, hb->hex) != 0)
		return false;
	for (size_t i = 0; i < da->n; i++)
		if (da->r[i].off != db->r[i].off || da->r[i].len != db->r[i].len)
			return false;
	return true;
}

/* A state that outer_load takes is one outer_save writes back as is. */
static void
check_state(const struct ckpt_id *id, const struct ckpt_hash *h)
{
	struct blkhash_params p;
	struct outer o;
	char back[OUTER_STATE_HEX_MAX];

	if (h->hex[0] == '\0' || blkhash_parse(id->blkhash, &p, NULL) == -1 ||
	    outer_init(&o, p.name) == -1)
		return;
	if (outer_load(&o, h->off / p.block_size * p.digest_len, h->hex) == 0) {
		outer_save(&o, back);
		if (strcmp(back, h->hex) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static bool made;
	struct rangeset done = { 0 }, done2 = { 0 };
	struct ckpt_id id, id2;
	struct ckpt_hash h, h2;
	char why[256];
	int r;

	if (!made) {
		int fd = mkstemp(path);

		if (fd < 0)
			abort();
		close(fd);
		snprintf(path2, sizeof(path2), "%s.2", path);
		made = true;
	}
	seal(data, len);
	r = ckpt_load(path, &id, &done, &h, why, sizeof(why));
	if (r != 1 && r != -1)
		abort();
	if (r == 1) {
		for (size_t i = 0; i < done.n; i++)
			if (done.r[i].off + done.r[i].len > id.source_size)
				abort();
		if (h.hex[0] != '\0' && h.off > 0 &&
		    (done.n == 0 || done.r[0].off != 0 || h.off > done.r[0].len))
			abort();
		check_state(&id, &h);
		/* A save writes at most CKPT_MAX_RANGES: more don't come back. */
		if (done.n <= CKPT_MAX_RANGES && (ckpt_save(path2, &id, &done, &h) != 0 ||
		    ckpt_load(path2, &id2, &done2, &h2, why, sizeof(why)) != 1 ||
		    !same(&id, &done, &h, &id2, &done2, &h2)))
			abort();
		unlink(path2);
	}
	rangeset_free(&done);
	rangeset_free(&done2);
	return 0;
}
