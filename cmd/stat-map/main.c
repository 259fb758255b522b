/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-stat-map: the allocation map of an NBD export, a local file or a
 * block device -- every extent, the totals per type, or a picture --
 * field for field as nbdinfo --map prints it.  Block-status requests are
 * pipelined (extents.c), and extents are printed as they arrive, so a
 * slow link or a map of millions of extents costs neither time nor
 * memory.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <popt.h>

#include "cli.h"
#include "color.h"
#include "conn.h"
#include "endpoint.h"
#include "ep-arg.h"
#include "extents.h"
#include "size.h"
#include "stat-map.h"

#define PICTURE_MAX_WIDTH	65536

static struct stat_map_opts opts = {
	.context = NULL,		/* --map=CONTEXT */
	.totals = 0,			/* --totals */
	.json = 0,			/* --json */
	.offset = 0,			/* --offset */
	.length = UINT64_MAX,		/* --length */
	.picture = 0,			/* --picture */
	.width = 0,			/* --picture=WIDTH */
};
static struct ep_arg source;

enum { OPT_LENGTH = 1, OPT_MAP, OPT_OFFSET, OPT_PICTURE };

static struct poptOption options[] = {
	{ "json", '\0', POPT_ARG_VAL, &opts.json, 1,
	  "Write JSON", NULL },
	{ "length", '\0', POPT_ARG_STRING, NULL, OPT_LENGTH,
	  "Map at most N bytes (default: to the end)", "N" },
	{ "map", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, OPT_MAP,
	  "Map this meta context (default: base:allocation)", "CONTEXT" },
	{ "offset", '\0', POPT_ARG_STRING, NULL, OPT_OFFSET,
	  "Start the map at byte N (default: 0)", "N" },
	{ "picture", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL,
	  OPT_PICTURE, "Draw the map as a bar WIDTH cells wide", "WIDTH" },
	{ "totals", '\0', POPT_ARG_VAL, &opts.totals, 1,
	  "Print the total of each type instead of each extent", NULL },
	/* nbdinfo's other spelling, so its scripts keep working. */
	{ "total", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN, &opts.totals,
	  1, NULL, NULL },
	CLI_COLOR_TABLE,
	CLI_TABLE_END
};

/* Kept to the end: source borrows the argument words they hold. */
static poptContext pc;
static const char **args_copy;
static char *context;		/* --map's value, owned */

static void parse_args(int argc, const char **argv);
static void check_context(struct endpoint *ep);
static uint64_t range_length(const struct endpoint *ep);
static void map(struct endpoint *ep, uint64_t len);
static unsigned terminal_width(void);
static bool locale_is_utf8(void);

int
main(int argc, const char **argv)
{
	struct ep_open_opts eo = { .mode = EP_READ, .side = "source" };
	struct endpoint *ep;

	cli_init();		/* atexit: close handles, check stdout */
	parse_args(argc, argv);	/* usage errors exit 1 */

	eo.context = opts.context;
	ep = ep_open(&source, &eo);
	check_context(ep);	/* a named context must be there */
	map(ep, range_length(ep));
	ep_close(ep);
	ep_arg_free(&source);
	poptFreeContext(pc);
	cli_rewrite_free(argc, argv, args_copy);
	free(context);
	return EXIT_SUCCESS;
}

/*
 * nbdinfo's getopt takes a value of --map or --picture only after "=":
 * a bare one becomes "--map=", which means the default.
 */
static const struct cli_rewrite rewrites[] = {
	{ "--map", "--map=" },
	{ "--picture", "--picture=" },
};

static void
parse_args(int argc, const char **argv)
{
	const char **args;
	char *arg;
	int rc, nargs = 0, i = 0;

	args_copy = cli_rewrite_args(argc, argv, rewrites,
	    ARRAY_SIZE(rewrites));
	pc = cli_context(argc, args_copy, options,
	    "[OPTION...] NBD-URI | [ CMD ARGS ... ] | FILE | DEVICE");
	while ((rc = cli_next(pc)) >= 0) {
		arg = poptGetOptArg(pc);
		switch (rc) {
		case OPT_LENGTH:
			opts.length = size_parse_or_die("--length", arg);
			break;
		case OPT_OFFSET:
			opts.offset = size_parse_or_die("--offset", arg);
			break;
		case OPT_MAP:
			free(context);
			context = NULL;
			if (arg != NULL && arg[0] != '\0') {
				context = arg;
				arg = NULL;
			}
			opts.context = context;
			break;
		case OPT_PICTURE:
			opts.picture = 1;
			opts.width = arg != NULL && arg[0] != '\0' ?
			    size_parse_range_or_die("--picture", arg, 1,
			    PICTURE_MAX_WIDTH) : 0;
			break;
		}
		free(arg);
	}

	args = poptGetArgs(pc);
	while (args != NULL && args[nargs] != NULL)
		nargs++;
	if (nargs == 0)
		cli_usage_error("missing NBD-URI, [ CMD ARGS ... ], FILE or "
		    "DEVICE");
	ep_arg_parse_or_die(args, nargs, &i, &source,
	    EP_ALLOW_NBD | EP_ALLOW(EP_ARG_PATH), "source");
	if (i < nargs)
		cli_usage_error("unexpected argument after the source: %s",
		    args[i]);
	if (opts.picture && opts.json)
		cli_usage_error("you cannot use --picture and --json together");
}

/*
 * Without --map=CONTEXT a missing base:allocation is only a note (the
 * map is then one data extent); a context asked for by name must be
 * there, as in nbdinfo.  Local files have base:allocation only.
 */
static void
check_context(struct endpoint *ep)
{
	char *offered;

	if (opts.context == NULL)
		return;
	if (strcmp(ep_kind(ep), "nbd") != 0) {
		if (strcmp(opts.context, "base:allocation") != 0)
			errx(EXIT_FAILURE, "%s: --map: a local file or device "
			    "has only base:allocation", ep->name);
		return;
	}
	if (ep_has_context(ep, opts.context))
		return;
	/* Closed first: a server may take one client at a time. */
	ep_close(ep);
	offered = conn_offered_contexts(&source);
	if (offered == NULL)
		errx(EXIT_FAILURE, "--map: server does not support metadata "
		    "context \"%s\"", opts.context);
	errx(EXIT_FAILURE, "--map: server does not support metadata context "
	    "\"%s\"; it offers: %s", opts.context, offered);
}

/* --offset past the end is an error; --length past it stops at the end. */
static uint64_t
range_length(const struct endpoint *ep)
{
	uint64_t size = ep->size;

	if (opts.offset > size)
		errx(EXIT_FAILURE, "--offset %" PRIu64 " is past the end of "
		    "%s (size %" PRIu64 ")", opts.offset, ep->name, size);
	return MIN(opts.length, size - opts.offset);
}

/* Streams the extents of [offset, offset+len) to every output asked. */
static void
map(struct endpoint *ep, uint64_t len)
{
	const struct extents_opts xo = { .context = opts.context };
	struct extent_iter *it;
	struct extent e;
	struct map_out m;
	struct totals t;
	struct picture p;
	bool each = !opts.totals && !opts.picture;
	bool color = color_enabled(cli_opts.color, stdout);

	it = extents_begin(ep, opts.offset, len, &xo);
	if (extents_fallback(it) && len > 0)
		fprintf(stderr, "%s: %s: no allocation information (%s); "
		    "showing the range as data\n",
		    program_invocation_short_name, ep->name,
		    strcmp(ep_kind(ep), "nbd") == 0 ? "server without structured replies or "
		    "base:allocation" : "not supported by this file or device");
	totals_init(&t, opts.context);
	if (each) {
		map_begin(&m, stdout, opts.context, opts.json);
		m.color = color && !opts.json;
	}
	if (opts.picture)
		picture_init(&p, opts.context, opts.offset, len,
		    opts.width > 0 ? opts.width : terminal_width());
	while (extents_next(it, &e)) {
		if (each)
			map_extent(&m, &e);
		else
			totals_add(&t, &e);
		if (opts.picture)
			picture_add(&p, &e);
		/*
		 * Stop at a closed pipe instead of mapping to the end, once
		 * the requests in flight are answered: nbdkit 1.32 aborts
		 * (an assertion in raw_send_socket) when a client leaves
		 * with several replies still to write.
		 */
		if (ferror(stdout)) {
			int werr = errno;	/* the write's: polling clobbers it */

			extents_end(it);
			errno = werr;
			cli_stdout_failed();
		}
	}
	extents_end(it);
	if (each)
		map_end(&m);
	if (opts.picture) {
		picture_print(&p, stdout, locale_is_utf8(), color);
		picture_free(&p);
	}
	if (opts.totals || opts.picture)
		totals_print(&t, stdout, len, opts.json);
	totals_free(&t);
}

static unsigned
terminal_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Only LC_CTYPE: LC_NUMERIC must stay "C" for nbdinfo's "%5.1f". */
static bool
locale_is_utf8(void)
{
	return setlocale(LC_CTYPE, "") != NULL &&
	    strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}
