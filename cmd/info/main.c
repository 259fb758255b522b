/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-info: what an NBD server says about its exports -- protocol, size,
 * flags, block size limits, meta contexts, description, a guess at the
 * content -- as text or JSON, or one answer for a script (--size, --can,
 * --is, whose exit status is the answer).  Compatible with nbdinfo.
 *
 * Output is all-or-nothing: it is spooled in memory and written once at
 * the end, so an error leaves stdout empty.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <popt.h>

#include "cli.h"
#include "color.h"
#include "conn.h"
#include "ep-arg.h"
#include "info.h"

static struct info_opts opts = {
	.mode = INFO_SHOW,
	.json = 0,		/* --json */
	.content = -1,		/* --content / --no-content; -1: by mode */
	.can = -1,		/* --can / --is */
};

enum { OPT_CAN = 1, OPT_CONTENT, OPT_IS, OPT_LIST, OPT_NO_CONTENT,
    OPT_SIZE };

static struct poptOption options[] = {
	{ "can", '\0', POPT_ARG_STRING, NULL, OPT_CAN,
	  "Exit 0 if the export can do FLAG, 2 if not", "FLAG" },
	{ "content", '\0', POPT_ARG_NONE, NULL, OPT_CONTENT,
	  "Probe the content of the first bytes (default unless --list)",
	  NULL },
	{ "is", '\0', POPT_ARG_STRING, NULL, OPT_IS,
	  "Exit 0 if the export is FLAG, 2 if not", "FLAG" },
	{ "json", '\0', POPT_ARG_VAL, &opts.json, 1,
	  "Write JSON", NULL },
	{ "list", 'L', POPT_ARG_NONE, NULL, OPT_LIST,
	  "List every export the server offers", NULL },
	{ "no-content", '\0', POPT_ARG_NONE, NULL, OPT_NO_CONTENT,
	  "Do not probe the content", NULL },
	{ "size", '\0', POPT_ARG_NONE, NULL, OPT_SIZE,
	  "Print only the size in bytes", NULL },
	CLI_COLOR_TABLE,
	CLI_TABLE_END
};

/* Kept to the end: opts.ep borrows the argument words it holds. */
static poptContext pc;

/* The spool; written to stdout only when the job succeeded. */
static char *spool;
static size_t spool_len;

static void parse_args(int argc, const char **argv);
static void set_mode(enum info_mode mode, const char *option);
static struct conn_want want_for(enum info_mode mode);
static void write_spool(FILE *fp);

int
main(int argc, const char **argv)
{
	struct info_out out = { .opts = &opts };
	struct conn_want want;
	struct conn *c;
	int status = EXIT_SUCCESS;

	cli_init();		/* atexit: close handles, check stdout */
	parse_args(argc, argv);	/* usage errors exit 1 */

	out.fp = open_memstream(&spool, &spool_len);
	if (out.fp == NULL)
		err(EXIT_FAILURE, "open_memstream");
	want = want_for(opts.mode);
	c = conn_open(&opts.ep, &want);	/* unreachable: exit 1, any mode */

	switch (opts.mode) {
	case INFO_SHOW:
		info_show(&out, c);
		break;
	case INFO_SIZE:
		info_size(&out, c);
		break;
	case INFO_CAN:
		status = info_can(c, opts.can);
		break;
	case INFO_LIST:
		if (!info_list(&out, c))
			status = EXIT_FAILURE;	/* the others are shown */
		break;
	}

	conn_close(c);
	write_spool(out.fp);
	ep_arg_free(&opts.ep);
	poptFreeContext(pc);
	return status;
}

static void
parse_args(int argc, const char **argv)
{
	const char **args;
	char *arg;
	int rc, nargs = 0, i = 0;

	pc = cli_context(argc, argv, options,
	    "[OPTION...] NBD-URI | [ CMD ARGS ... ]");
	while ((rc = cli_next(pc)) >= 0) {
		switch (rc) {
		case OPT_CAN:
		case OPT_IS:
			arg = poptGetOptArg(pc);
			set_mode(INFO_CAN, rc == OPT_CAN ? "--can" : "--is");
			opts.can = info_can_lookup(arg);
			if (opts.can == -1)
				cli_usage_error("unknown --can or --is option: %s",
				    arg);
			free(arg);
			break;
		case OPT_CONTENT:
		case OPT_NO_CONTENT:
			if (opts.content != -1 &&
			    opts.content != (rc == OPT_CONTENT))
				cli_usage_error("you cannot use --content and "
				    "--no-content together");
			opts.content = rc == OPT_CONTENT;
			break;
		case OPT_LIST:
			set_mode(INFO_LIST, "--list");
			break;
		case OPT_SIZE:
			set_mode(INFO_SIZE, "--size");
			break;
		}
	}

	args = poptGetArgs(pc);
	while (args != NULL && args[nargs] != NULL)
		nargs++;
	if (nargs == 0)
		cli_usage_error("missing NBD-URI or [ CMD ARGS ... ]");
	ep_arg_parse_or_die(args, nargs, &i, &opts.ep, EP_ALLOW_NBD, "server");
	if (i < nargs)
		cli_usage_error("unexpected argument after the server: %s",
		    args[i]);


	if (opts.content == -1)		/* as nbdinfo: probe unless listing */
		opts.content = opts.mode == INFO_SHOW;
	opts.color = !opts.json && color_enabled(cli_opts.color, stdout);
}

/* --list, --size, --can and --is each pick a mode: only one may. */
static void
set_mode(enum info_mode mode, const char *option)
{
	static const char *first;

	if (first != NULL && opts.mode != mode)
		cli_usage_error("you cannot use %s and %s together", first,
		    option);
	first = option;
	opts.mode = mode;
}

/*
 * The default and --list stay in negotiation to ask for the export's
 * details and the contexts offered (requesting none, so the server
 * lists every one); --size and --can connect straight through, --can
 * asking for base:allocation so block-status can be answered.
 */
static struct conn_want
want_for(enum info_mode mode)
{
	struct conn_want want = { .no_contexts = true };

	switch (mode) {
	case INFO_SHOW:
	case INFO_LIST:
		want.opt_mode = true;
		want.full_info = true;
		break;
	case INFO_SIZE:
		break;
	case INFO_CAN:
		want.no_contexts = false;
		break;
	}
	return want;
}

/* Copies the spool to stdout; write errors are caught at exit. */
static void
write_spool(FILE *fp)
{
	if (fclose(fp) != 0)
		err(EXIT_FAILURE, "open_memstream");
	if (spool_len > 0 && fwrite(spool, 1, spool_len, stdout) != spool_len)
		cli_stdout_failed();
	free(spool);
	spool = NULL;
}
