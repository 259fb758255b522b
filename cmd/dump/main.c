/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-dump: hexdump a range of an NBD export, a local file, a block
 * device or stdin, byte-identical to util-linux "hexdump -C -s OFFSET
 * -n LENGTH" on the same bytes.  Runs the server reports as zeroes are
 * printed without being read, so a 1 TiB sparse export dumps at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <popt.h>

#include "cli.h"
#include "color.h"
#include "endpoint.h"
#include "ep-arg.h"
#include "size.h"
#include "dump.h"

static struct dump_opts opts = {
	.offset = 0,			/* -s, -o, --offset, --skip */
	.length = UINT64_MAX,		/* -n, --length, --limit */
	.color = false,			/* --color, --no-color, tty */
};
static struct ep_arg source;

enum { OPT_LENGTH = 1, OPT_LIMIT, OPT_OFFSET, OPT_SKIP };

static struct poptOption options[] = {
	{ "length", 'n', POPT_ARG_STRING, NULL, OPT_LENGTH,
	  "Dump at most N bytes (default: to the end)", "N" },
	{ "limit", '\0', POPT_ARG_STRING, NULL, OPT_LIMIT,
	  "Same as --length", "N" },
	{ "offset", 's', POPT_ARG_STRING, NULL, OPT_OFFSET,
	  "Start at byte N (default: 0)", "N" },
	{ "skip", '\0', POPT_ARG_STRING, NULL, OPT_SKIP,
	  "Same as --offset", "N" },
	/* popt has one short name per option: nbddump 1.22's -o is a row. */
	{ NULL, 'o', POPT_ARG_STRING, NULL, OPT_OFFSET,
	  "Same as --offset", "N" },
	CLI_COLOR_TABLE,
	CLI_TABLE_END
};

/* Kept to the end: source borrows the argument words it holds. */
static poptContext pc;

static void parse_args(int argc, const char **argv);

int
main(int argc, const char **argv)
{
	struct ep_open_opts eo = { .mode = EP_READ, .side = "source" };
	struct endpoint *ep;

	cli_init();		/* atexit: close handles, check stdout */
	parse_args(argc, argv);	/* usage errors exit 1 */

	ep = ep_open(&source, &eo);
	/* hexdump -n 0 prints nothing at all, not even an offset. */
	if (opts.length > 0) {
		if (ep->is_stream)
			dump_stream(ep, &opts);
		else
			dump_range(ep, &opts);
	}
	ep_close(ep);
	ep_arg_free(&source);
	poptFreeContext(pc);
	return EXIT_SUCCESS;
}

static void
parse_args(int argc, const char **argv)
{
	static const char *const name[] = {
		[OPT_LENGTH] = "--length", [OPT_LIMIT] = "--limit",
		[OPT_OFFSET] = "--offset", [OPT_SKIP] = "--skip",
	};
	const char **args;
	char *arg;
	int rc, nargs = 0, i = 0;

	pc = cli_context(argc, argv, options,
	    "[OPTION...] NBD-URI | [ CMD ARGS ... ] | FILE | DEVICE | -");
	while ((rc = cli_next(pc)) >= 0) {
		switch (rc) {
		case OPT_LENGTH:
		case OPT_LIMIT:
		case OPT_OFFSET:
		case OPT_SKIP:
			arg = poptGetOptArg(pc);
			if (rc == OPT_LENGTH || rc == OPT_LIMIT)
				opts.length = size_parse_or_die(name[rc], arg);
			else
				opts.offset = size_parse_or_die(name[rc], arg);
			free(arg);
			break;
		}
	}

	args = poptGetArgs(pc);
	while (args != NULL && args[nargs] != NULL)
		nargs++;
	if (nargs == 0)
		cli_usage_error("missing NBD-URI, [ CMD ARGS ... ], FILE or -");
	ep_arg_parse_or_die(args, nargs, &i, &source,
	    EP_ALLOW_NBD | EP_ALLOW(EP_ARG_PATH) | EP_ALLOW(EP_ARG_STDIO),
	    "source");
	if (i < nargs)
		cli_usage_error("unexpected argument after the source: %s",
		    args[i]);

	opts.color = color_enabled(cli_opts.color, stdout);
}
