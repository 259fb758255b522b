/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --report: the document is built at exit, in an on_exit() handler, so
 * every way out produces it without the copy code knowing: errx() deep
 * in an endpoint, a verify mismatch returned from main, a signal (whose
 * handler only sets a flag; the run then exits through the same path).
 * The handler is registered after cli_init()'s, so it runs before
 * stdout is checked and closed and before the signal is re-raised, and
 * after conn.c has closed the connections and reaped the servers.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "endpoint.h"
#include "fdio.h"
#include "json.h"
#include "copy.h"
#include "report.h"

enum { SRC, DST };

static const char *const side_keys[] = { "source", "destination" };
static const char *const request_keys[EP_REQ_KINDS] = {
	[EP_REQ_READ] = "reads",
	[EP_REQ_WRITE] = "writes",
	[EP_REQ_ZERO] = "zeroes",
	[EP_REQ_BLOCK_STATUS] = "block_status",
	[EP_REQ_FLUSH] = "flushes",
};

static struct {
	const struct copy_opts *o;
	const struct ep_stats *stats[2];
	char *name[2];		/* copies: main frees the ep_args first */
	const char *kind[2];	/* NULL until the side is open */
	int64_t size;		/* the source's, -1: a stream or not open */
	char digest[BLKHASH_HEX_MAX];	/* "" if none was computed */
	char *file, *tmp;	/* NULL: stdout */
	int fd;			/* tmp, open from the start */
	int64_t start_ns;
} rep;

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		err(EXIT_FAILURE, "strdup");
	return d;
}

static void
write_side(struct json *j, int side)
{
	const struct ep_stats *s = rep.stats[side];

	json_object_open(j, side_keys[side]);
	json_key_str(j, "name", rep.name[side]);
	if (rep.kind[side] != NULL)
		json_key_str(j, "kind", rep.kind[side]);
	else
		json_key_null(j, "kind");
	json_key_u64(j, "connections", atomic_load(&s->connections));
	json_object_open(j, "requests");
	for (int k = 0; k < EP_REQ_KINDS; k++)
		json_key_u64(j, request_keys[k], atomic_load(&s->requests[k]));
	json_object_close(j);
	json_object_close(j);
}

/* What reached the destination or was skipped: the progress count. */
static uint64_t
bytes_copied(void)
{
	uint64_t done = atomic_load(&rep.o->progress.done);

	return rep.size >= 0 && done > (uint64_t)rep.size ? (uint64_t)rep.size :
	    done;
}

static void
write_bytes(struct json *j)
{
	uint64_t copied = bytes_copied();
	uint64_t written = atomic_load(&rep.stats[DST]->bytes[EP_REQ_WRITE]);
	uint64_t zeroed = atomic_load(&rep.stats[DST]->bytes[EP_REQ_ZERO]);
	uint64_t put = written + zeroed;

	if (rep.size >= 0)
		json_key_i64(j, "size", rep.size);
	else
		json_key_null(j, "size");
	json_key_u64(j, "bytes_copied", copied);
	json_key_u64(j, "bytes_read",
	    atomic_load(&rep.stats[SRC]->bytes[EP_REQ_READ]));
	json_key_u64(j, "bytes_written", written);
	json_key_u64(j, "bytes_zeroed", zeroed);
	/* Whole destination blocks may be written for a short tail. */
	json_key_u64(j, "bytes_skipped", copied > put ? copied - put : 0);
}

static void
write_timing(struct json *j)
{
	double secs = (clock_now_ns() - rep.start_ns) / 1e9;
	char buf[32];

	json_key_u64(j, "threads", rep.o->workers > 0 ? rep.o->workers : 1);
	snprintf(buf, sizeof(buf), "%.3f", secs);
	json_key_raw(j, "seconds", buf);
	snprintf(buf, sizeof(buf), "%.0f", secs > 0 ?
	    bytes_copied() / secs : 0);
	json_key_raw(j, "rate", buf);
}

static void
write_digest(struct json *j)
{
	if (rep.digest[0] == '\0') {
		json_key_null(j, "digest");
		return;
	}
	json_object_open(j, "digest");
	json_key_str(j, "algorithm", rep.o->hash.name);
	json_key_u64(j, "block_size", rep.o->hash.block_size);
	json_key_str(j, "hex", rep.digest);
	json_object_close(j);
}

static void
write_outcome(struct json *j, int status, int sig)
{
	char name[32];

	json_key_i64(j, "status", status);
	if (sig != 0) {
		snprintf(name, sizeof(name), "SIG%s", sigabbrev_np(sig));
		json_key_str(j, "signal", name);
	} else {
		json_key_null(j, "signal");
	}
	if (status != 0 && cli_last_error()[0] != '\0')
		json_key_str(j, "error", cli_last_error());
	else
		json_key_null(j, "error");
}

/* The whole document in memory, or NULL. */
static char *
build(int status, int sig, size_t *len)
{
	char *doc = NULL;
	FILE *fp = open_memstream(&doc, len);
	struct json j;

	if (fp == NULL)
		return NULL;
	json_begin(&j, fp);
	json_object_open(&j, NULL);
	write_side(&j, SRC);
	write_side(&j, DST);
	write_bytes(&j);
	write_timing(&j);
	write_digest(&j);
	write_outcome(&j, status, sig);
	json_object_close(&j);
	json_end(&j);
	if (fclose(fp) != 0) {
		free(doc);
		return NULL;
	}
	return doc;
}

/* FILE gets the document by a rename: an old FILE or nothing until then. */
static bool
publish(const char *doc, size_t len)
{
	bool ok = fd_write_all(rep.fd, doc, len) == 0;

	if (close(rep.fd) != 0)
		ok = false;
	if (ok && rename(rep.tmp, rep.file) == 0)
		return true;
	unlink(rep.tmp);
	return false;
}

/*
 * A report that was asked for and not written is an error: a run that
 * was going to succeed exits 1 (stdout flushed first, as close_stdout
 * would have); one that failed keeps its status.
 */
static void
report_failed(int status)
{
	warn("--report: %s", rep.file != NULL ? rep.file : "stdout");
	if (status != 0)
		return;
	fflush(stdout);
	_exit(EXIT_FAILURE);
}

static void
report_at_exit(int status, void *arg UNUSED)
{
	int sig = interrupt_signal();
	size_t len = 0;
	char *doc;

	if (sig != 0)
		status = 128 + sig;	/* what the caller will see */
	doc = build(status, sig, &len);
	if (doc == NULL && rep.file != NULL)
		unlink(rep.tmp);
	if (doc == NULL)
		report_failed(status);
	else if (rep.file == NULL)
		fwrite(doc, 1, len, stdout);	/* close_stdout checks it */
	else if (!publish(doc, len))
		report_failed(status);
	free(doc);
}

void
report_begin(const char *file, const struct copy_opts *opts,
    const struct ep_stats *src, const struct ep_stats *dst)
{
	rep.o = opts;
	rep.stats[SRC] = src;
	rep.stats[DST] = dst;
	rep.name[SRC] = xstrdup(opts->src.display);
	rep.name[DST] = xstrdup(opts->dst.display);
	rep.size = -1;
	rep.start_ns = clock_now_ns();
	if (file != NULL) {
		rep.file = xstrdup(file);
		if (asprintf(&rep.tmp, "%s.XXXXXX", file) == -1)
			err(EXIT_FAILURE, "asprintf");
		rep.fd = mkostemp(rep.tmp, O_CLOEXEC);
		if (rep.fd == -1)
			err(EXIT_FAILURE, "--report: %s", file);
	}
	cli_capture_errors();
	if (on_exit(report_at_exit, NULL) != 0)
		errx(EXIT_FAILURE, "on_exit failed");
}

void
report_endpoints(const struct endpoint *src, const struct endpoint *dst)
{
	rep.kind[SRC] = ep_kind(src);
	rep.kind[DST] = ep_kind(dst);
	rep.size = src->size;
}

void
report_digest(const char *hex)
{
	snprintf(rep.digest, sizeof(rep.digest), "%s", hex);
}
