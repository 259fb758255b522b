/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The --checkpoint file: a save loads back as the same identity and
 * ranges (names with spaces, '%' and newlines included); a missing file
 * is "no checkpoint"; every single-byte change, a truncation at any
 * length and a wrong version are refused as corrupt, never loaded; the
 * identity fields are compared one by one and named; a blkhash state
 * loads back, and one past the done prefix, or without a blkhash, is
 * corrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt-file.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "test-ckpt-file: %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

static char path[] = "/tmp/test-ckpt-XXXXXX";

static const struct ckpt_id base = {
	.source = "nbd+unix:///?socket=/tmp/a b%c\nd",
	.destination = "out.img",
	.source_size = 1 << 30,
	.destination_size = 1 << 30,
	.allocated = 1,
	.sparse = 4096,
	.blkhash = "sha256/65536",
};

static char *
read_file(size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(1 << 20);

	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void
write_file(const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	fwrite(buf, 1, len, f);
	fclose(f);
}

static const struct ckpt_hash state = { 65536, "0123456789abcdef" };

static void
round_trip(void)
{
	struct rangeset done = { 0 }, got = { 0 };
	struct ckpt_id id;
	struct ckpt_hash hash;
	char why[256];

	rangeset_add(&done, 0, 65536);
	rangeset_add(&done, 1 << 20, 4096);
	CHECK(ckpt_save(path, &base, &done, &state) == 0, "save: %s",
	    strerror(errno));
	CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == 1,
	    "load: %s", why);
	CHECK(ckpt_mismatch(&id, &base) == NULL, "identity changed");
	CHECK(got.n == 2 && got.r[1].off == 1 << 20 && got.r[1].len == 4096,
	    "ranges changed");
	CHECK(hash.off == state.off && strcmp(hash.hex, state.hex) == 0,
	    "blkhash-state changed: %s", hash.hex);
	rangeset_free(&done);
	rangeset_free(&got);
}

/* A state is the hash of bytes the file says are done, with a blkhash. */
static void
state_checks(void)
{
	struct rangeset done = { 0 }, got = { 0 };
	struct ckpt_hash hash, past = state;
	struct ckpt_id id, none = base;
	char why[256];

	rangeset_add(&done, 0, 65536);
	past.off = 65536 + 4096;
	CHECK(ckpt_save(path, &base, &done, &past) == 0, "save");
	CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == -1 &&
	    strstr(why, "blkhash-state") != NULL, "state past done: %s", why);
	strcpy(none.blkhash, "none");
	CHECK(ckpt_save(path, &none, &done, &state) == 0, "save");
	CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == -1,
	    "state without blkhash accepted");
	CHECK(ckpt_save(path, &base, &done, NULL) == 0, "save");
	CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == 1 &&
	    hash.hex[0] == '\0', "no state: %s", why);
	rangeset_free(&done);
	rangeset_free(&got);
}

static void
corruption(void)
{
	struct rangeset got = { 0 };
	struct ckpt_id id;
	struct ckpt_hash hash;
	char why[256], *buf;
	size_t len;

	buf = read_file(&len);
	for (size_t i = 0; i < len; i++) {
		char *bad = malloc(len);

		memcpy(bad, buf, len);
		bad[i] ^= 0x01;
		write_file(bad, len);
		CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == -1,
		    "byte %zu flipped was accepted", i);
		write_file(bad, i);
		CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == -1,
		    "truncation to %zu was accepted", i);
		free(bad);
	}
	free(buf);
	rangeset_free(&got);
}

static void
missing_and_mismatch(void)
{
	struct rangeset got = { 0 };
	struct ckpt_id id, other = base;
	struct ckpt_hash hash;
	char why[256];

	unlink(path);
	CHECK(ckpt_load(path, &id, &got, &hash, why, sizeof why) == 0,
	    "missing");
	other.sparse = 0;
	CHECK(ckpt_mismatch(&base, &other) != NULL &&
	    strcmp(ckpt_mismatch(&base, &other), "sparse") == 0, "sparse");
	other = base;
	other.destination_size++;
	CHECK(strcmp(ckpt_mismatch(&base, &other), "destination-size") == 0,
	    "destination-size");
	other = base;
	strcpy(other.blkhash, "none");
	CHECK(strcmp(ckpt_mismatch(&base, &other), "blkhash") == 0, "blkhash");
	rangeset_free(&got);
}

/* A temporary file left by a save cut short goes with the checkpoint. */
static void
removal(void)
{
	struct rangeset done = { 0 };
	char tmp[sizeof(path) + 4];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CHECK(ckpt_save(path, &base, &done, NULL) == 0, "save");
	CHECK(access(tmp, F_OK) == -1, "temporary file left after a save");
	f = fopen(tmp, "w");
	CHECK(f != NULL && fputs("half a checkpoint", f) >= 0 &&
	    fclose(f) == 0, "stale temporary file");
	CHECK(ckpt_save(path, &base, &done, NULL) == 0,
	    "save over a stale one");
	CHECK(access(tmp, F_OK) == -1, "stale temporary file kept");
	f = fopen(tmp, "w");
	CHECK(f != NULL && fclose(f) == 0, "stale temporary file");
	CHECK(ckpt_remove(path) == 0, "remove");
	CHECK(access(path, F_OK) == -1 && access(tmp, F_OK) == -1,
	    "left after remove");
	CHECK(ckpt_remove(path) == 0, "remove of nothing");
}

int
main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	round_trip();
	corruption();
	missing_and_mismatch();
	state_checks();
	removal();
	unlink(path);
	if (failures) {
		fprintf(stderr, "test-ckpt-file: %d failures\n", failures);
		return 1;
	}
	printf("test-ckpt-file: ok\n");
	return 0;
}
