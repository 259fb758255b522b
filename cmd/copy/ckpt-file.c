/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The --checkpoint file format: see ckpt-file.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "compiler.h"
#include "ckpt-file.h"
#include "fdio.h"

#define MAGIC		"nbd-copy-checkpoint"
#define DIGEST_KEY	"sha256 "
#define DIGEST_LEN	32
#define FILE_MAX	(4 * 1024 * 1024)

/* Percent-encodes what would break a "key value" line. */
static void
put_name(FILE *f, const char *key, const char *name)
{
	fprintf(f, "%s ", key);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p <= ' ' || *p == '%' || *p >= 0x7f)
			fprintf(f, "%%%02X", *p);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
get_name(const char *v, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *v; v++) {
		int c = (unsigned char)*v;

		if (c == '%') {
			int hi = hexval(v[1]), lo = hi < 0 ? -1 : hexval(v[2]);

			if (lo < 0)
				return -1;
			c = hi << 4 | lo;
			v += 2;
		}
		if (c == 0 || n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* A decimal uint64 with nothing else: 0, or -1. */
static int
get_u64(const char *v, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static void
digest_hex(const void *buf, size_t len, char hex[2 * DIGEST_LEN + 1])
{
	unsigned char d[DIGEST_LEN];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, d) < 0)
		memset(d, 0, sizeof d);
	for (size_t i = 0; i < DIGEST_LEN; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

/* The file's text without its digest line, in a malloc'd buffer. */
static char *
render(const struct ckpt_id *id, const struct rangeset *done,
    const struct ckpt_hash *hash, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	size_t n;

	if (f == NULL)
		return NULL;
	fprintf(f, "%s %d\n", MAGIC, CKPT_VERSION);
	put_name(f, "source", id->source);
	put_name(f, "destination", id->destination);
	fprintf(f, "source-size %" PRIu64 "\n", id->source_size);
	fprintf(f, "destination-size %" PRIu64 "\n", id->destination_size);
	fprintf(f, "allocated %d\n", id->allocated);
	fprintf(f, "sparse %" PRIu64 "\n", id->sparse);
	fprintf(f, "blkhash %s\n", id->blkhash);
	put_name(f, "selection", id->selection);
	if (hash != NULL && hash->hex[0] != '\0')
		fprintf(f, "blkhash-state %" PRIu64 " %s\n", hash->off,
		    hash->hex);
	n = done->n < CKPT_MAX_RANGES ? done->n : CKPT_MAX_RANGES;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "done %" PRIu64 " %" PRIu64 "\n", done->r[i].off,
		    done->r[i].len);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, r = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		r = fsync(fd);
		close(fd);
	}
	free(copy);
	return r;
}

/*
 * The temporary file has a fixed name beside path, so one left by a
 * copy killed while saving is reused by the next save and removed with
 * path (ckpt_remove), never piling up.
 */
static char *
tmp_name(const char *path)
{
	char *tmp;

	return asprintf(&tmp, "%s.tmp", path) < 0 ? NULL : tmp;
}

int
ckpt_save(const char *path, const struct ckpt_id *id,
    const struct rangeset *done, const struct ckpt_hash *hash)
{
	char hex[2 * DIGEST_LEN + 1], *text, *tmp = NULL;
	size_t len;
	int fd = -1, r = -1, saved;

	text = render(id, done, hash, &len);
	if (text == NULL)
		return -1;
	digest_hex(text, len, hex);
	tmp = tmp_name(path);
	if (tmp == NULL)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (fd_write_all(fd, text, len) == -1 ||
	    fd_write_all(fd, DIGEST_KEY, strlen(DIGEST_KEY)) == -1 ||
	    fd_write_all(fd, hex, strlen(hex)) == -1 ||
	    fd_write_all(fd, "\n", 1) == -1 || fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto out;
	free(tmp);
	tmp = NULL;
	r = fsync_dir_of(path);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(text);
	errno = saved;
	return r;
}

int
ckpt_remove(const char *path)
{
	char *tmp = tmp_name(path);

	if (tmp == NULL)
		return -1;
	/* A temporary file exists only if a save was cut short. */
	if (unlink(tmp) == -1 && errno != ENOENT) {
		free(tmp);
		return -1;
	}
	free(tmp);
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* Reads the whole file: 1, 0 if missing, -1 with why set. */
static int
slurp(const char *path, char **buf, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	*buf = malloc(FILE_MAX + 1);
	if (*buf == NULL) {
		fclose(f);
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		return -1;
	}
	n = fread(*buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		snprintf(why, whylen, "%s", ferror(f) ? strerror(errno) :
		    "too large to be a checkpoint");
		fclose(f);
		free(*buf);
		return -1;
	}
	fclose(f);
	(*buf)[n] = '\0';
	*len = n;
	return 1;
}

/* Splits off the digest line and checks it: the body's length or -1. */
static ssize_t
check_digest(const char *buf, size_t len)
{
	char hex[2 * DIGEST_LEN + 1];
	const char *last;
	size_t body;

	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return -1;
	last = memrchr(buf, '\n', len - 1);
	body = last == NULL ? 0 : (size_t)(last - buf) + 1;
	if (len - body != strlen(DIGEST_KEY) + 2 * DIGEST_LEN + 1 ||
	    strncmp(buf + body, DIGEST_KEY, strlen(DIGEST_KEY)) != 0)
		return -1;
	digest_hex(buf, body, hex);
	if (memcmp(buf + body + strlen(DIGEST_KEY), hex, 2 * DIGEST_LEN) != 0)
		return -1;
	return (ssize_t)body;
}

/* "OFF HEX" of a blkhash-state line, of a copy with a blkhash: 0, or -1. */
static int
get_hash(char *v, const struct ckpt_id *id, struct ckpt_hash *hash)
{
	char *sp = strchr(v, ' ');
	size_t n;

	if (sp == NULL || strcmp(id->blkhash, "none") == 0)
		return -1;
	*sp++ = '\0';
	n = strspn(sp, "0123456789abcdef");
	if (get_u64(v, &hash->off) == -1 || hash->off > id->source_size ||
	    n == 0 || sp[n] != '\0' || n >= sizeof(hash->hex))
		return -1;
	memcpy(hash->hex, sp, n + 1);
	return 0;
}

/* One "key value" line into id, hash or done: 0, or -1. */
static int
parse_line(int lineno, char *key, char *v, struct ckpt_id *id,
    struct rangeset *done, struct ckpt_hash *hash)
{
	static const char *const order[] = { MAGIC, "source", "destination",
	    "source-size", "destination-size", "allocated", "sparse",
	    "blkhash", "selection" };
	uint64_t a, b;
	char *sp;

	if (lineno < (int)ARRAY_SIZE(order)) {
		if (strcmp(key, order[lineno]) != 0)
			return -1;
		switch (lineno) {
		case 0:
			return get_u64(v, &a) == -1 || a < 2 ||
			    a > CKPT_VERSION ? -1 : 0;
		case 1:
			return get_name(v, id->source, sizeof id->source);
		case 2:
			return get_name(v, id->destination,
			    sizeof id->destination);
		case 3:
			return get_u64(v, &id->source_size);
		case 4:
			return get_u64(v, &id->destination_size);
		case 5:
			if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
				return -1;
			id->allocated = *v == '1';
			return 0;
		case 6:
			return get_u64(v, &id->sparse);
		case 7:
			return get_name(v, id->blkhash, sizeof id->blkhash);
		default:
			return get_name(v, id->selection,
			    sizeof id->selection);
		}
	}
	if (lineno == (int)ARRAY_SIZE(order) && strcmp(key, "blkhash-state") == 0)
		return get_hash(v, id, hash);
	if (strcmp(key, "done") != 0 || (sp = strchr(v, ' ')) == NULL)
		return -1;
	*sp = '\0';
	if (get_u64(v, &a) == -1 || get_u64(sp + 1, &b) == -1 || b == 0 ||
	    a + b < a || a + b > id->source_size)
		return -1;
	return rangeset_add(done, a, b);
}

/* A state claims the hash of bytes [0, off): they must be done. */
static bool
hash_within(const struct ckpt_hash *hash, const struct rangeset *done)
{
	return hash->hex[0] == '\0' || hash->off == 0 ||
	    (done->n > 0 && done->r[0].off == 0 && hash->off <= done->r[0].len);
}

int
ckpt_load(const char *path, struct ckpt_id *id, struct rangeset *done,
    struct ckpt_hash *hash, char *why, size_t whylen)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	ssize_t body;
	int r, lineno = 0;

	r = slurp(path, &buf, &len, why, whylen);
	if (r <= 0)
		return r;
	body = check_digest(buf, len);
	if (body < 0) {
		snprintf(why, whylen, "not a checkpoint, or corrupt");
		free(buf);
		return -1;
	}
	buf[body] = '\0';
	*id = (struct ckpt_id){ 0 };
	*hash = (struct ckpt_hash){ 0 };
	rangeset_clear(done);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lineno++) {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			break;
		*sp = '\0';
		if (parse_line(lineno, line, sp + 1, id, done, hash) == -1)
			break;
	}
	free(buf);
	if (line != NULL || lineno < 9) {
		snprintf(why, whylen, "corrupt at line %d", lineno + 1);
		rangeset_clear(done);
		return -1;
	}
	if (!hash_within(hash, done)) {
		snprintf(why, whylen, "corrupt: blkhash-state past what is done");
		rangeset_clear(done);
		return -1;
	}
	return 1;
}

const char *
ckpt_mismatch(const struct ckpt_id *a, const struct ckpt_id *b)
{
	if (strcmp(a->source, b->source) != 0)
		return "source";
	if (strcmp(a->destination, b->destination) != 0)
		return "destination";
	if (a->source_size != b->source_size)
		return "source-size";
	if (a->destination_size != b->destination_size)
		return "destination-size";
	if (a->allocated != b->allocated)
		return "allocated";
	if (a->sparse != b->sparse)
		return "sparse";
	if (strcmp(a->blkhash, b->blkhash) != 0)
		return "blkhash";
	if (strcmp(a->selection, b->selection) != 0)
		return "selection";
	return NULL;
}

int
ckpt_selection(struct ckpt_id *id, const char *option,
    const struct rangeset *set)
{
	char *buf = NULL, hex[2 * DIGEST_LEN + 1];
	size_t len = 0;
	FILE *f;

	if (set == NULL) {
		snprintf(id->selection, sizeof id->selection, "all");
		return 0;
	}
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return -1;
	for (size_t i = 0; i < set->n; i++)
		fprintf(f, "%" PRIu64 " %" PRIu64 "\n", set->r[i].off,
		    set->r[i].len);
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	digest_hex(buf, len, hex);
	free(buf);
	snprintf(id->selection, sizeof id->selection, "%s sha256:%s",
	    option, hex);
	return 0;
}
