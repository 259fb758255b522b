/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-copy copies SOURCE to DESTINATION, where each is an NBD export, a
 * "[ CMD ]" server, a local file or block device, or a pipe, and the
 * destination may be null: to only read.  It is nbdcopy with the same
 * options, meanings and defaults: holes the source reports and runs of
 * zeroes it reads become zeroing (or nothing, when the destination is
 * known to be zero), requests stay in flight on every connection, and
 * multi-conn with worker threads is used when both sides allow it.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libnbd.h>
#include <popt.h>

#include "cli.h"
#include "endpoint.h"
#include "size.h"
#include "progress.h"
#include "copy.h"

static struct copy_opts opts = {
	.connections = 4,		/* -C */
	.progress_fd = -1,		/* --progress=FD */
	.queue_size = 16 << 20,		/* --queue-size */
	.request_size = 256 << 10,	/* --request-size */
	.requests = 64,			/* -R */
	.sparse = 4096,			/* -S */
	.threads = 0,			/* -T: one per core */
};

enum {
	OPT_CONNECTIONS = 1,
	OPT_PROGRESS,
	OPT_PROGRESS_FD,
	OPT_QUEUE_SIZE,
	OPT_REQUEST_SIZE,
	OPT_REQUESTS,
	OPT_SPARSE,
	OPT_THREADS,
};

static struct poptOption options[] = {
	{ "allocated", '\0', POPT_ARG_VAL, &opts.allocated, 1,
	  "Make the destination fully allocated", NULL },
	{ "connections", 'C', POPT_ARG_STRING, NULL, OPT_CONNECTIONS,
	  "Use up to N connections per NBD side (multi-conn, default 4)",
	  "N" },
	{ "destination-is-zero", '\0', POPT_ARG_VAL, &opts.dst_is_zero, 1,
	  "Assume the destination already reads as zeroes", NULL },
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
	{ "queue-size", '\0', POPT_ARG_STRING, NULL, OPT_QUEUE_SIZE,
	  "Bytes in flight per connection (default 16M)", "N" },
	{ "request-size", '\0', POPT_ARG_STRING, NULL, OPT_REQUEST_SIZE,
	  "Largest request, a power of 2 up to 32M (default 256k)", "N" },
	{ "requests", 'R', POPT_ARG_STRING, NULL, OPT_REQUESTS,
	  "Requests in flight per connection (default 64)", "N" },
	{ "sparse", 'S', POPT_ARG_STRING, NULL, OPT_SPARSE,
	  "Turn runs of N zero bytes into holes, 0 = off (default 4096)",
	  "N" },
	{ "synchronous", '\0', POPT_ARG_VAL, &opts.synchronous, 1,
	  "Copy in order, one request at a time", NULL },
	{ "target-is-zero", '\0', POPT_ARG_VAL, &opts.dst_is_zero, 1,
	  "Same as --destination-is-zero", NULL },
	{ "threads", 'T', POPT_ARG_STRING, NULL, OPT_THREADS,
	  "Use up to N worker threads, 0 = one per core (default)", "N" },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, cli_common_options, 0,
	  "Common options:", NULL },
	POPT_AUTOHELP
	POPT_TABLEEND
};

/* Freed at the end of main: the ep_args point into popt's argv. */
static poptContext pc;
static const char **argv_renamed;

static void parse_args(int argc, const char **argv, struct copy_opts *o);
static void check_compatible(const struct endpoint *src,
    const struct endpoint *dst, const struct copy_opts *o);
static void tune(const struct endpoint *src, const struct endpoint *dst,
    struct copy_opts *o);

int
main(int argc, const char **argv)
{
	struct endpoint *src, *dst;
	struct ep_open_opts src_open = { .mode = EP_READ, .side = "source" };
	struct ep_open_opts dst_open = { .mode = EP_WRITE,
	    .side = "destination", .create = true, .resize = true };

	cli_init();		/* atexit: close handles, check stdout */
	parse_args(argc, argv, &opts);	/* usage errors exit 1 */

	src_open.no_context = opts.no_extents;
	src = ep_open(&opts.src, &src_open);
	/* Opening the destination truncates a regular file: not the source. */
	if (ep_same_file(src, &opts.dst))
		errx(EXIT_FAILURE, "%s: source and destination are the same "
		    "file", opts.dst.display);
	/* A regular file becomes the source's size; a stream's is unknown. */
	dst_open.resize_to = src->size >= 0 ? src->size : 0;
	dst = ep_open(&opts.dst, &dst_open);
	check_compatible(src, dst, &opts);	/* fail before writing */
	tune(src, dst, &opts);		/* block sizes, multi-conn, threads */

	progress_begin(&opts.progress, opts.progress_bar, opts.progress_fd,
	    src->size);
	if (opts.workers == 0)
		copy_sync(src, dst, &opts);
	else
		copy_async(src, dst, &opts);
	cli_check_interrupted();
	if (opts.flush)
		ep_flush(dst);
	progress_end(&opts.progress);

	ep_close(dst);
	ep_close(src);
	ep_arg_free(&opts.dst);
	ep_arg_free(&opts.src);
	poptFreeContext(pc);
	for (int i = 0; i < argc; i++)
		if (argv_renamed[i] != argv[i])
			free((char *)argv_renamed[i]);
	free(argv_renamed);
	return EXIT_SUCCESS;
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
 * popt's optional arguments take the next word ("-p SRC DST" would make
 * SRC the descriptor), unlike getopt's, which nbdcopy uses.  So -p and
 * --progress take nothing, and the one spelling with a descriptor,
 * "--progress=FD", is renamed to a hidden option before popt sees it.
 */
static const char **
rename_progress_fd(int argc, const char **argv)
{
	const char **v = calloc(argc + 1, sizeof(*v));

	if (v == NULL)
		err(EXIT_FAILURE, "calloc");
	for (int i = 0; i < argc; i++) {
		char *s;

		v[i] = argv[i];
		if (i == 0 || strncmp(argv[i], "--progress=", 11) != 0)
			continue;
		if (asprintf(&s, "--progress-fd=%s", argv[i] + 11) == -1)
			err(EXIT_FAILURE, "asprintf");
		v[i] = s;
	}
	return v;
}

static int
parse_fd(const char *arg)
{
	int fd = parse_count("--progress", arg, 0, INT32_MAX);

	if (fcntl(fd, F_GETFL) == -1)
		errx(EXIT_FAILURE, "--progress=%s: %s", arg, strerror(errno));
	return fd;
}

static void
parse_args(int argc, const char **argv, struct copy_opts *o)
{
	const char **args;
	int rc, nargs = 0, i = 0;

	argv_renamed = rename_progress_fd(argc, argv);
	pc = cli_context(argc, argv_renamed, options,
	    "[OPTION...] SOURCE DESTINATION");
	while ((rc = cli_next(pc)) > 0) {
		char *arg = poptGetOptArg(pc);

		switch (rc) {
		case OPT_CONNECTIONS:
			o->connections = parse_count("--connections", arg, 1,
			    1024);
			break;
		case OPT_PROGRESS:
			o->progress_bar = 1;
			break;
		case OPT_PROGRESS_FD:
			o->progress_fd = parse_fd(arg);
			break;
		case OPT_QUEUE_SIZE:
			o->queue_size = size_parse_range_or_die("--queue-size",
			    arg, COPY_MIN_REQUEST, UINT32_MAX);
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
		case OPT_REQUESTS:
			o->requests = parse_count("--requests", arg, 1, 65536);
			o->requests_set = true;
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
		cli_usage_error("unexpected argument '%s'", args[i]);
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
		    src->name, src->ops->kind, dst->name, dst->ops->kind,
		    o->workers, o->request_size, o->requests, o->queue_size,
		    o->sparse);
}
