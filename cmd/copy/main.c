/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-copy copies SOURCE to DESTINATION, where each is an NBD export, a
 * "[ CMD ]" server, a local file or block device, or a pipe, and the
 * destination may be null: to only read.  It is nbdcopy with the same
 * options, meanings and defaults: holes the source reports and runs of
 * zeroes it reads become zeroing (or nothing, when the destination is
 * known to be zero), requests stay in flight on every connection, and
 * multi-conn with worker threads is used when both sides allow it.
 * Beyond nbdcopy, --check compares the blkhash of what was copied with
 * an expected digest, --verify reads the destination back,
 * --timeout and --retries let a copy outlive a bad link (the NBD
 * endpoints do the work: see ep-nbd.c), --dirty-bitmap and --ranges
 * copy only some ranges onto an existing destination, and
 * --destination-is-zero is checked before it is trusted.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libnbd.h>
#include <popt.h>

#include "blkhash.h"
#include "cli.h"
#include "endpoint.h"
#include "size.h"
#include "progress.h"
#include "copy.h"
#include "report.h"
#include "ranges.h"
#include "checkpoint.h"

static struct copy_opts opts = {
	.connections = 4,		/* -C */
	.progress_fd = -1,		/* --progress=FD */
	.progress_json_fd = -1,		/* --progress-json[=FD] */
	.queue_size = 16 << 20,		/* --queue-size */
	.request_size = 256 << 10,	/* --request-size */
	.requests = 64,			/* -R */
	.sparse = 4096,			/* -S */
	.threads = 0,			/* -T: one per core */
};

/* A selective copy and the zero check: main's alone. */
static struct {
	char *bitmap;		/* --dirty-bitmap=NAME */
	char *context;		/* its meta context */
	char *ranges;		/* --ranges=FILE */
	int64_t ranges_type;	/* --ranges-type=N, -1: every extent */
	bool trust_zero;	/* --destination-is-zero=trust */
	struct rangeset todo;	/* what either asks to copy */
} sel = { .ranges_type = -1 };

enum {
	OPT_BLKHASH = 1,
	OPT_BLKHASH_SPEC,
	OPT_BLKHASH_FILE,
	OPT_CHECK,
	OPT_CHECK_FILE,
	OPT_CONNECTIONS,
	OPT_DIRTY_BITMAP,
	OPT_DST_ZERO_MODE,
	OPT_PROGRESS,
	OPT_PROGRESS_FD,
	OPT_PROGRESS_JSON,
	OPT_PROGRESS_JSON_FD,
	OPT_QUEUE_SIZE,
	OPT_REPORT,
	OPT_REPORT_FILE,
	OPT_RANGES,
	OPT_RANGES_TYPE,
	OPT_REQUEST_SIZE,
	OPT_REQUESTS,
	OPT_RETRIES,
	OPT_RETRY_DELAY,
	OPT_SPARSE,
	OPT_THREADS,
	OPT_TIMEOUT,
};

/* --timeout, --retries, --retry-delay: what the NBD sides do on faults. */
static struct ep_retry retry = { .delay_ns = 1000000000 };

static struct poptOption options[] = {
	{ "allocated", '\0', POPT_ARG_VAL, &opts.allocated, 1,
	  "Make the destination fully allocated", NULL },
	{ "blkhash", '\0', POPT_ARG_NONE, NULL, OPT_BLKHASH,
	  "Print the blkhash of the data; --blkhash=ALG[/SIZE] picks the "
	  "digest (sha256) and block size (64k)", NULL },
	/* What --blkhash=ALG becomes before popt sees it; see parse_args. */
	{ "blkhash-spec", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN,
	  NULL, OPT_BLKHASH_SPEC, NULL, "ALG[/SIZE]" },
	{ "blkhash-file", '\0', POPT_ARG_STRING, NULL, OPT_BLKHASH_FILE,
	  "Write the blkhash to FILE instead of stdout", "FILE" },
	{ "check", '\0', POPT_ARG_STRING, NULL, OPT_CHECK,
	  "Fail unless the blkhash of the data is HEX", "HEX" },
	{ "check-file", '\0', POPT_ARG_STRING, NULL, OPT_CHECK_FILE,
	  "Fail unless the blkhash is the digest in FILE (blksum output)",
	  "FILE" },
	{ "checkpoint", '\0', POPT_ARG_STRING, &opts.checkpoint, 0,
	  "Record durable progress in FILE; the same command resumes from it",
	  "FILE" },
	{ "connections", 'C', POPT_ARG_STRING, NULL, OPT_CONNECTIONS,
	  "Use up to N connections per NBD side (multi-conn, default 4)",
	  "N" },
	{ "destination-is-zero", '\0', POPT_ARG_VAL, &opts.dst_is_zero, 1,
	  "Skip zeroing: the destination reads as zeroes (checked first; "
	  "--destination-is-zero=trust does not check)", NULL },
	/* What --destination-is-zero=trust becomes; see parse_args. */
	{ "destination-is-zero-mode", '\0',
	  POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, NULL, OPT_DST_ZERO_MODE,
	  NULL, "trust" },
	{ "dirty-bitmap", '\0', POPT_ARG_STRING, NULL, OPT_DIRTY_BITMAP,
	  "Copy only what the source's qemu:dirty-bitmap:NAME marks dirty, "
	  "onto an existing destination", "NAME" },
	{ "flush", '\0', POPT_ARG_VAL, &opts.flush, 1,
	  "Make the destination durable before exiting", NULL },
	{ "no-extents", '\0', POPT_ARG_VAL, &opts.no_extents, 1,
	  "Ignore the source's extents and read everything", NULL },
	{ "progress", 'p', POPT_ARG_NONE, NULL, OPT_PROGRESS,
	  "Show a progress bar; --progress=FD writes N/100 lines to FD",
	  NULL },
	/* What --progress=FD becomes before popt sees it; see parse_args. */
	{ "progress-fd", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN,
	  NULL, OPT_PROGRESS_FD, NULL, "FD" },
	{ "progress-json", '\0', POPT_ARG_NONE, NULL, OPT_PROGRESS_JSON,
	  "Write progress as JSON lines to stderr; --progress-json=FD to FD",
	  NULL },
	/* What --progress-json=FD becomes before popt sees it. */
	{ "progress-json-fd", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN,
	  NULL, OPT_PROGRESS_JSON_FD, NULL, "FD" },
	{ "queue-size", '\0', POPT_ARG_STRING, NULL, OPT_QUEUE_SIZE,
	  "Bytes in flight per connection (default 16M)", "N" },
	{ "report", '\0', POPT_ARG_NONE, NULL, OPT_REPORT,
	  "At exit, write a JSON report of the run to stdout; --report=FILE "
	  "to FILE", NULL },
	/* What --report=FILE becomes before popt sees it. */
	{ "report-file", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN,
	  NULL, OPT_REPORT_FILE, NULL, "FILE" },
	{ "request-size", '\0', POPT_ARG_STRING, NULL, OPT_REQUEST_SIZE,
	  "Largest request, a power of 2 up to 32M (default 256k)", "N" },
	{ "ranges", '\0', POPT_ARG_STRING, NULL, OPT_RANGES,
	  "Copy only the ranges in FILE (- for stdin): OFFSET LENGTH lines "
	  "or nbd-stat-map --json, onto an existing destination", "FILE" },
	{ "ranges-type", '\0', POPT_ARG_STRING, NULL, OPT_RANGES_TYPE,
	  "With --ranges JSON: only the extents of type N", "N" },
	{ "requests", 'R', POPT_ARG_STRING, NULL, OPT_REQUESTS,
	  "Requests in flight per connection (default 64)", "N" },
	{ "retries", '\0', POPT_ARG_STRING, NULL, OPT_RETRIES,
	  "Reconnect and retry up to N times after a fault (default 0)",
	  "N" },
	{ "retry-delay", '\0', POPT_ARG_STRING, NULL, OPT_RETRY_DELAY,
	  "Wait SECONDS before the first retry, doubled each time "
	  "(default 1)", "SECONDS" },
	{ "sparse", 'S', POPT_ARG_STRING, NULL, OPT_SPARSE,
	  "Turn runs of N zero bytes into holes, 0 = off (default 4096 or "
	  "the destination's preferred block size, whichever is larger)",
	  "N" },
	{ "synchronous", '\0', POPT_ARG_VAL, &opts.synchronous, 1,
	  "Copy in order, one request at a time", NULL },
	{ "target-is-zero", '\0', POPT_ARG_VAL, &opts.dst_is_zero, 1,
	  "Same as --destination-is-zero", NULL },
	{ "threads", 'T', POPT_ARG_STRING, NULL, OPT_THREADS,
	  "Use up to N worker threads, 0 = one per core (default)", "N" },
	{ "timeout", '\0', POPT_ARG_STRING, NULL, OPT_TIMEOUT,
	  "Fail a connect or request not answered in SECONDS, 0 = never "
	  "(default)", "SECONDS" },
	{ "verify", '\0', POPT_ARG_VAL, &opts.verify, 1,
	  "Read the destination back and compare it with the source", NULL },
	CLI_TABLE_END
};

/* Freed at the end of main: the ep_args point into popt's argv. */
static poptContext pc;
static const char **argv_renamed;
/* Counted by the endpoint layer for --report; reopened sides share. */
static struct ep_stats src_stats, dst_stats;

static void parse_args(int argc, const char **argv, struct copy_opts *o);
static void refuse_same(const struct ep_arg *src, const struct ep_arg *dst);
static void check_compatible(const struct endpoint *src,
    const struct endpoint *dst, const struct copy_opts *o);
static void tune(const struct endpoint *src, const struct endpoint *dst,
    struct copy_opts *o);
static bool check_digest(struct checksum *cs, const struct endpoint *src,
    char hex[BLKHASH_HEX_MAX]);
static bool selective(void);
static void select_ranges(struct endpoint *src);
static void check_selective(const struct endpoint *src,
    const struct endpoint *dst);
static void hash_clean(struct checksum *cs, struct endpoint *src,
    struct endpoint *dst);

int
main(int argc, const char **argv)
{
	struct endpoint *src, *dst;
	struct ep_open_opts src_open = { .mode = EP_READ, .side = "source",
	    .stats = &src_stats };
	struct ep_open_opts dst_open = { .mode = EP_WRITE,
	    .side = "destination", .create = true, .resize = true,
	    .stats = &dst_stats };
	const struct rangeset *chosen;
	struct checksum *cs = NULL;
	bool ok = true, resume = false;
	char hex[BLKHASH_HEX_MAX];

	cli_init();		/* atexit: close handles, check stdout */
	parse_args(argc, argv, &opts);	/* usage errors exit 1 */
	if (opts.report)		/* from here on, every exit reports */
		report_begin(opts.report_file, &opts, &src_stats, &dst_stats);

	/* Before anything is opened, so nothing is truncated or written. */
	refuse_same(&opts.src, &opts.dst);
	/* A resumed copy opens its destination as it is. */
	if (opts.checkpoint != NULL)
		resume = checkpoint_load(opts.checkpoint, &opts.src, &opts.dst);
	dst_open.create = dst_open.resize = !resume;
	src_open.no_context = opts.no_extents;
	src_open.retry = dst_open.retry = retry;
	if (sel.bitmap != NULL) {
		sel.context = dirty_context(sel.bitmap);
		src_open.also_context = sel.context;
		/* The bitmap is still needed without base:allocation. */
		if (opts.no_extents) {
			src_open.no_context = false;
			src_open.context = sel.context;
			src_open.also_context = NULL;
		}
	}
	src = ep_open(&opts.src, &src_open);
	if (selective()) {
		select_ranges(src);	/* before dst: errors leave it alone */
		/* An existing copy is updated in place, never resized. */
		dst_open.create = dst_open.resize = false;
	}
	if (opts.verify)
		verify_possible(src, NULL);	/* before dst is truncated */
	/* Opening the destination truncates a regular file: not the source. */
	if (ep_same_file(src, &opts.dst)) {
		ep_close(src);
		errx(EXIT_FAILURE, "%s: source and destination are the same "
		    "file", opts.dst.display);
	}
	/* A regular file becomes the source's size; a stream's is unknown. */
	dst_open.resize_to = src->size >= 0 ? src->size : 0;
	dst = ep_open(&opts.dst, &dst_open);
	report_endpoints(src, dst);
	check_compatible(src, dst, &opts);	/* fail before writing */
	if (opts.verify)
		verify_possible(src, dst);
	tune(src, dst, &opts);		/* block sizes, multi-conn, threads */
	if (selective())
		check_selective(src, dst);	/* sets opts.todo */
	chosen = opts.todo;	/* what the whole copy writes, NULL: all */
	if (opts.checkpoint != NULL)
		checkpoint_begin(&opts, src, dst);	/* resume: opts.todo */
	if (opts.dst_is_zero && !sel.trust_zero &&
	    checkpoint_skipped(opts.ckpt) == NULL)
		zero_check(dst, src->size, chosen);

	if (opts.blkhash || opts.check[0] != '\0')
		cs = checksum_begin(&opts, src);	/* hashes beside the copy */
	opts.progress.retries = ep_retries;	/* the JSON lines count them */
	/* A resume counts the done part as copied: the bar starts there. */
	progress_begin(&opts.progress, opts.progress_bar, opts.progress_fd,
	    opts.progress_json_fd, chosen != NULL ?
	    (int64_t)rangeset_bytes(chosen) : src->size,
	    checkpoint_skipped(opts.ckpt) != NULL ?
	    rangeset_bytes(checkpoint_skipped(opts.ckpt)) : 0);
	if (opts.workers == 0)
		copy_sync(src, dst, &opts);
	else
		copy_async(src, dst, &opts);
	cli_check_interrupted();
	/* A checkpoint claims nothing once removed: no flush for it. */
	if (opts.flush) {
		progress_phase(&opts.progress, "flush");
		ep_flush(dst);
	}
	if (opts.ckpt != NULL)
		checkpoint_remove(opts.ckpt);	/* all durable: done */
	/* Both run even if one fails: each says something different. */
	if (cs != NULL) {
		progress_phase(&opts.progress, "checksum");
		if (selective())
			hash_clean(cs, src, dst);
		ok = check_digest(cs, src, hex);
	}
	if (opts.verify) {
		progress_phase(&opts.progress, "verify");
		if (!verify_copy(src, dst, chosen))
			ok = false;
	}
	/* Only now is the run finished: 100% must not come before that. */
	progress_end(&opts.progress);

	ep_close(dst);
	ep_close(src);
	ep_arg_free(&opts.dst);
	ep_arg_free(&opts.src);
	free(opts.blkhash_file);
	free(opts.check_text);
	free(opts.check_file);
	free(opts.report_file);
	free(sel.context);
	free(sel.bitmap);
	free(sel.ranges);
	rangeset_free(&sel.todo);
	free(opts.checkpoint);
	poptFreeContext(pc);
	cli_rewrite_free(argc, argv, argv_renamed);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

static unsigned
parse_count(const char *opt, const char *arg, unsigned min, unsigned max)
{
	return size_parse_range_or_die(opt, arg, min, max);
}

static bool
is_power_of_2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/*
 * -p, --progress, --progress-json, --blkhash and --destination-is-zero
 * take nothing (see
 * cli_rewrite_args); the spellings with a value go to hidden options.
 */
static const struct cli_rewrite rewrites[] = {
	{ "--progress=", "--progress-fd=" },
	{ "--progress-json=", "--progress-json-fd=" },
	{ "--report=", "--report-file=" },
	{ "--blkhash=", "--blkhash-spec=" },
	{ "--destination-is-zero=", "--destination-is-zero-mode=" },
};

/*
 * SECONDS for --timeout and --retry-delay: a decimal number, fractions
 * allowed, up to a day, as nanoseconds.
 */
static int64_t
parse_seconds(const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= 0) ||
	    v > 86400)
		errx(EXIT_FAILURE, "%s: '%s' is not a number of seconds from "
		    "0 to 86400", opt, arg);
	return (int64_t)(v * 1e9);
}

/* An open file descriptor for opt (--progress, --progress-json). */
static int
parse_fd(const char *opt, const char *arg)
{
	int fd = parse_count(opt, arg, 0, INT32_MAX);

	if (fcntl(fd, F_GETFL) == -1)
		errx(EXIT_FAILURE, "%s=%s: %s", opt, arg, strerror(errno));
	return fd;
}

/*
 * After every option: --check's digest must fit the final --blkhash=ALG,
 * and a digest for stdout cannot share it with the data, so both fail
 * before anything is opened.
 */
static void
parse_hash_args(struct copy_opts *o)
{
	if (o->hash.name == NULL)
		blkhash_parse_or_die("--blkhash", NULL, &o->hash);
	if (o->check_text != NULL && o->check_file != NULL)
		cli_usage_error("--check and --check-file cannot be used "
		    "together");
	if (o->check_text != NULL)
		blkhash_check_parse_or_die("--check", o->check_text, &o->hash,
		    o->check);
	if (o->check_file != NULL)
		blkhash_check_file_or_die("--check-file", o->check_file,
		    &o->hash, o->check);
	if (o->blkhash && o->dst.kind == EP_ARG_STDIO &&
	    (o->blkhash_file == NULL || strcmp(o->blkhash_file, "-") == 0))
		errx(EXIT_FAILURE, "--blkhash: the destination is stdout: "
		    "write the digest elsewhere with --blkhash-file=FILE");
}

/*
 * After every option.  Both selections at once could mean a union or an
 * intersection; neither is obviously what was meant, so neither is
 * guessed.
 */
static void
parse_selective_args(const struct copy_opts *o)
{
	if (sel.bitmap != NULL && sel.ranges != NULL)
		cli_usage_error("--dirty-bitmap and --ranges cannot be used "
		    "together");
	if (sel.ranges_type >= 0 && sel.ranges == NULL)
		cli_usage_error("--ranges-type needs --ranges");
	if (sel.bitmap != NULL && o->src.kind != EP_ARG_URI &&
	    o->src.kind != EP_ARG_CMD)
		cli_usage_error("--dirty-bitmap: the source must be an NBD "
		    "export");
}

/* stdout can carry the report only if nothing else goes there. */
static void
parse_report_args(const struct copy_opts *o)
{
	if (!o->report || o->report_file != NULL)
		return;
	if (o->dst.kind == EP_ARG_STDIO)
		errx(EXIT_FAILURE, "--report: the destination is stdout: write "
		    "the report elsewhere with --report=FILE");
	if (o->blkhash && (o->blkhash_file == NULL ||
	    strcmp(o->blkhash_file, "-") == 0))
		errx(EXIT_FAILURE, "--report: the digest goes to stdout (and "
		    "into the report): use --report=FILE or --blkhash-file=FILE");
}

/* Every option popt finds in ctx, into o. */
static void
parse_options(poptContext ctx, struct copy_opts *o)
{
	int rc;

	while ((rc = cli_next(ctx)) > 0) {
		char *arg = poptGetOptArg(ctx);

		switch (rc) {
		case OPT_BLKHASH:
			o->blkhash = 1;
			break;
		case OPT_BLKHASH_SPEC:
			blkhash_parse_or_die("--blkhash", arg, &o->hash);
			o->blkhash = 1;
			break;
		case OPT_BLKHASH_FILE:
			free(o->blkhash_file);
			o->blkhash_file = arg;
			arg = NULL;
			o->blkhash = 1;
			break;
		case OPT_CHECK:
			free(o->check_text);
			o->check_text = arg;
			arg = NULL;
			break;
		case OPT_CHECK_FILE:
			free(o->check_file);
			o->check_file = arg;
			arg = NULL;
			break;
		case OPT_CONNECTIONS:
			o->connections = parse_count("--connections", arg, 1,
			    1024);
			break;
		case OPT_DIRTY_BITMAP:
			free(sel.bitmap);
			sel.bitmap = arg;
			arg = NULL;
			break;
		case OPT_DST_ZERO_MODE:
			if (strcmp(arg, "trust") != 0)
				cli_usage_error("--destination-is-zero: '%s' is "
				    "not 'trust'", arg);
			o->dst_is_zero = 1;
			sel.trust_zero = true;
			break;
		case OPT_PROGRESS:
			o->progress_bar = 1;
			break;
		case OPT_PROGRESS_FD:
			o->progress_fd = parse_fd("--progress", arg);
			break;
		case OPT_PROGRESS_JSON:
			o->progress_json_fd = STDERR_FILENO;
			break;
		case OPT_PROGRESS_JSON_FD:
			o->progress_json_fd = parse_fd("--progress-json", arg);
			break;
		case OPT_REPORT:
			o->report = 1;
			break;
		case OPT_REPORT_FILE:
			free(o->report_file);
			o->report_file = arg;
			arg = NULL;
			o->report = 1;
			break;
		case OPT_QUEUE_SIZE:
			o->queue_size = size_parse_range_or_die("--queue-size",
			    arg, COPY_MIN_REQUEST, UINT32_MAX);
			o->queue_size_set = true;
			break;
		case OPT_REQUEST_SIZE:
			o->request_size = size_parse_range_or_die(
			    "--request-size", arg, COPY_MIN_REQUEST,
			    COPY_MAX_REQUEST);
			if (!is_power_of_2(o->request_size))
				errx(EXIT_FAILURE, "--request-size: '%s' is "
				    "not a power of 2", arg);
			o->request_size_set = true;
			break;
		case OPT_RANGES:
			free(sel.ranges);
			sel.ranges = arg;
			arg = NULL;
			break;
		case OPT_RANGES_TYPE:
			sel.ranges_type = parse_count("--ranges-type", arg, 0,
			    UINT32_MAX);
			break;
		case OPT_REQUESTS:
			o->requests = parse_count("--requests", arg, 1, 65536);
			o->requests_set = true;
			break;
		case OPT_RETRIES:
			retry.retries = parse_count("--retries", arg, 0,
			    1000000);
			break;
		case OPT_RETRY_DELAY:
			retry.delay_ns = parse_seconds("--retry-delay", arg);
			break;
		case OPT_TIMEOUT:
			retry.timeout_ns = parse_seconds("--timeout", arg);
			break;
		case OPT_SPARSE:
			o->sparse = size_parse_range_or_die("--sparse", arg, 0,
			    COPY_MAX_REQUEST);
			if (o->sparse != 0 && (o->sparse < 512 ||
			    !is_power_of_2(o->sparse)))
				errx(EXIT_FAILURE, "--sparse: '%s' is not 0 or "
				    "a power of 2 from 512 to 32M", arg);
			o->sparse_set = true;
			break;
		case OPT_THREADS:
			o->threads = parse_count("--threads", arg, 0, 1024);
			break;
		}
		free(arg);
	}
}

/*
 * popt stops at "--", which a "[ CMD -opts ]" group needs, so in
 * "nbd-copy -- [ qemu-nbd ... ] null: --blkhash" the --blkhash is left
 * among the arguments.  Nothing may follow the destination, so what does
 * is parsed as options, as the README writes them last.
 */
static void
parse_trailing_options(const char **rest, int n, struct copy_opts *o)
{
	const char **v = calloc(n + 2, sizeof(*v)), **renamed, **left;
	poptContext ctx;

	if (v == NULL)
		err(EXIT_FAILURE, "calloc");
	v[0] = program_invocation_name;
	memcpy(v + 1, rest, n * sizeof(*v));
	renamed = cli_rewrite_args(n + 1, v, rewrites, ARRAY_SIZE(rewrites));
	ctx = cli_context(n + 1, renamed, options,
	    "[OPTION...] SOURCE DESTINATION");
	parse_options(ctx, o);
	left = poptGetArgs(ctx);
	if (left != NULL && left[0] != NULL)
		cli_usage_error("unexpected argument '%s' after the destination",
		    left[0]);
	poptFreeContext(ctx);
	cli_rewrite_free(n + 1, v, renamed);
	free(v);
}

static void
parse_args(int argc, const char **argv, struct copy_opts *o)
{
	const char **args;
	int nargs = 0, i = 0;

	argv_renamed = cli_rewrite_args(argc, argv, rewrites,
	    ARRAY_SIZE(rewrites));
	pc = cli_context(argc, argv_renamed, options,
	    "[OPTION...] SOURCE DESTINATION");
	parse_options(pc, o);
	args = poptGetArgs(pc);
	while (args != NULL && args[nargs] != NULL)
		nargs++;
	if (nargs < 2)
		cli_usage_error("expected SOURCE and DESTINATION");
	ep_arg_parse_or_die(args, nargs, &i, &o->src,
	    EP_ALLOW_NBD | EP_ALLOW(EP_ARG_PATH) | EP_ALLOW(EP_ARG_STDIO),
	    "source");
	if (i >= nargs)
		cli_usage_error("expected a DESTINATION after the source");
	ep_arg_parse_or_die(args, nargs, &i, &o->dst,
	    EP_ALLOW_NBD | EP_ALLOW(EP_ARG_PATH) | EP_ALLOW(EP_ARG_STDIO) |
	    EP_ALLOW(EP_ARG_NULL), "destination");
	if (i < nargs)
		parse_trailing_options(args + i, nargs - i, o);
	parse_hash_args(o);
	parse_report_args(o);
	parse_selective_args(o);
}

/*
 * The file behind "-": stdin for the source, stdout for the destination
 * (a shell redirection from or to a file).  False for anything else.
 */
static bool
stdio_stat(const struct ep_arg *a, int fd, struct stat *st)
{
	return a->kind == EP_ARG_STDIO && fstat(fd, st) == 0;
}

/* A path (if it exists) or "-" as stdin/stdout, for the same-file check. */
static bool
local_stat(const struct ep_arg *a, int fd, struct stat *st)
{
	if (a->kind == EP_ARG_PATH)
		return stat(a->str, st) == 0;
	return stdio_stat(a, fd, st);
}

/*
 * "nbd-copy - F <F" would truncate F before reading it, and
 * "nbd-copy F - >>F" would read its own output.  Two paths are left to
 * ep_same_file(), which also looks through hard links and symlinks.
 */
static bool
same_stdio_file(const struct ep_arg *src, const struct ep_arg *dst)
{
	struct stat s, d;

	if (src->kind != EP_ARG_STDIO && dst->kind != EP_ARG_STDIO)
		return false;
	if (!local_stat(src, STDIN_FILENO, &s) ||
	    !local_stat(dst, STDOUT_FILENO, &d))
		return false;
	if (S_ISBLK(s.st_mode) && S_ISBLK(d.st_mode))
		return s.st_rdev == d.st_rdev;
	return S_ISREG(s.st_mode) && s.st_dev == d.st_dev &&
	    s.st_ino == d.st_ino;
}

/*
 * Only a local file can be the same on both sides: the same NBD export
 * is allowed (SPEC 2), since nothing truncates it and every byte is
 * written back where it was read.
 */
static void
refuse_same(const struct ep_arg *src, const struct ep_arg *dst)
{
	if (same_stdio_file(src, dst))
		errx(EXIT_FAILURE, "%s: source and destination are the same "
		    "file", dst->kind == EP_ARG_STDIO ? "stdout" : dst->display);
}

/*
 * Everything that can make the copy fail for a reason known up front is
 * checked before a byte is written.  A destination smaller than the
 * source would truncate (lose) data, as nbdcopy says.
 */
static void
check_compatible(const struct endpoint *src, const struct endpoint *dst,
    const struct copy_opts *o UNUSED)
{
	if (dst->read_only)
		errx(EXIT_FAILURE, "destination: %s: read-only", dst->name);
	if (src->size >= 0 && dst->size >= 0 && !dst->is_stream &&
	    dst->size < src->size)
		errx(EXIT_FAILURE, "destination: %s: size %" PRId64 " is "
		    "smaller than the source's %" PRId64 " and would lose data",
		    dst->name, dst->size, src->size);
}

/*
 * The digest of what was copied: printed for --blkhash, compared for
 * --check.  It is printed even when the check fails, since it was asked
 * for.  Returns false after the message when the digests differ.
 */
static bool
check_digest(struct checksum *cs, const struct endpoint *src,
    char hex[BLKHASH_HEX_MAX])
{
	const struct blkhash_params *p = &opts.hash;
	uint32_t bs = p->block_size;
	const char *unit = "";

	checksum_end(cs, src, hex);
	report_digest(hex);
	if (opts.blkhash)
		blkhash_write_or_die(hex, opts.blkhash_file);
	if (opts.check[0] == '\0' || blkhash_check_equal(opts.check, hex))
		return true;
	/* ALG/SIZE as --blkhash takes it, so it can be pasted back. */
	if (bs % (1024 * 1024) == 0) {
		bs >>= 20;
		unit = "M";
	} else if (bs % 1024 == 0) {
		bs >>= 10;
		unit = "k";
	}
	warnx("--check: %s: blkhash %s/%" PRIu32 "%s mismatch: expected %s, "
	    "got %s", src->name, p->name, bs, unit, opts.check, hex);
	return false;
}

static uint64_t
round_down_pow2(uint64_t n)
{
	while (n & (n - 1))
		n &= n - 1;
	return n;
}

/*
 * Fits the options to the two sides: requests and the zero-detection
 * unit become multiples of the destination's preferred block size (so
 * writes never straddle its blocks) and respect both sides' maximum;
 * multi-conn and worker threads only when both sides allow another
 * connection.  workers == 0 selects the synchronous engine.
 */
static void
tune(const struct endpoint *src, const struct endpoint *dst,
    struct copy_opts *o)
{
	uint64_t rmax = MIN(src->block_max, dst->block_max);
	unsigned conns, threads;

	if (!o->sparse_set)
		o->sparse = MAX(o->sparse, (uint64_t)dst->block_pref);
	if (o->sparse != 0)
		o->sparse = MAX(o->sparse, (uint64_t)dst->block_min);
	if (o->sparse > COPY_MAX_REQUEST)
		o->sparse = COPY_MAX_REQUEST;
	o->request_max = COPY_MAX_REQUEST;
	if (rmax > 0 && rmax < o->request_max)
		o->request_max = round_down_pow2(rmax);
	/* Requests as large as the source reads cheaply, unless told. */
	if (!o->request_size_set && src->read_cheap_max > 0)
		o->request_max = MIN(o->request_max,
		    round_down_pow2(src->read_cheap_max));
	o->request_max = MAX(o->request_max,
	    (uint64_t)MAX(src->block_min, dst->block_min));
	o->request_size = MAX(o->request_size, (uint64_t)dst->block_pref);
	o->request_size = MIN(o->request_size, o->request_max);

	if (o->synchronous || src->is_stream || dst->is_stream) {
		o->workers = 0;
		return;
	}
	conns = src->can_multi_conn && dst->can_multi_conn ?
	    o->connections : 1;
	threads = o->threads;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? n : 1;
	}
	o->workers = MIN(conns, threads);
	if (cli_opts.verbose)
		fprintf(stderr, "%s: %s (%s) -> %s (%s): %u worker(s), "
		    "request size %" PRIu64 ", %u requests, queue %" PRIu64
		    ", sparse %" PRIu64 "\n", program_invocation_short_name,
		    src->name, ep_kind(src), dst->name, ep_kind(dst),
		    o->workers, o->request_size, o->requests, o->queue_size,
		    o->sparse);
}

static bool
selective(void)
{
	return sel.bitmap != NULL || sel.ranges != NULL;
}

static const char *
selective_option(void)
{
	return sel.bitmap != NULL ? "--dirty-bitmap" : "--ranges";
}

/* The ranges asked for, in sel.todo: the source must have a size. */
static void
select_ranges(struct endpoint *src)
{
	struct ranges_opts ro = { .name = sel.ranges, .size = src->size,
	    .type = sel.ranges_type };

	if (src->is_stream || src->size < 0) {
		warnx("%s: source %s is a stream: it has no ranges to select",
		    selective_option(), src->name);
		ep_close(src);
		exit(EXIT_FAILURE);
	}
	if (sel.bitmap != NULL) {
		dirty_ranges(src, &opts.src, sel.context, &sel.todo);
		return;
	}
	if (strcmp(sel.ranges, "-") == 0)
		ro.name = "stdin";
	ranges_load_or_die(sel.ranges, &ro, &sel.todo);
}

/*
 * The destination is an older copy brought up to date: it must be there
 * to hold the clean ranges.  The todo set then becomes whole blocks of
 * it, the unit it is written in.
 */
static void
check_selective(const struct endpoint *src, const struct endpoint *dst)
{
	if (dst->discards || dst->is_stream)
		errx(EXIT_FAILURE, "%s: destination %s must be an existing "
		    "image to update, not a stream or null:",
		    selective_option(), dst->name);
	if (copy_todo_align(&sel.todo, dst->block_min, src->size) == -1)
		err(EXIT_FAILURE, "%s", selective_option());
	opts.todo = &sel.todo;
	opts.selection = selective_option();
	if (cli_opts.verbose)
		fprintf(stderr, "%s: %s: %zu range(s), %" PRIu64 " of %" PRId64
		    " bytes\n", program_invocation_short_name,
		    selective_option(), sel.todo.n, rangeset_bytes(&sel.todo),
		    src->size);
}

/*
 * --blkhash of a selective copy is the digest of the whole destination
 * afterwards, so it can be compared with the source's: the ranges not
 * copied are hashed as the destination holds them (its holes free).
 */
static void
hash_clean(struct checksum *cs, struct endpoint *src, struct endpoint *dst)
{
	struct rangeset clean = { 0 };
	uint64_t off = 0;

	for (size_t i = 0; i <= sel.todo.n; i++) {
		uint64_t end = i < sel.todo.n ? sel.todo.r[i].off :
		    (uint64_t)src->size;

		if (rangeset_add(&clean, off, end - off) == -1)
			err(EXIT_FAILURE, "--blkhash");
		if (i < sel.todo.n)
			off = end + sel.todo.r[i].len;
	}
	checksum_fill(cs, dst, &clean, &opts);
	rangeset_free(&clean);
}
