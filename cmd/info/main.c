/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-info: what an NBD server says about its exports -- protocol, size,
 * flags, block size limits, meta contexts, description, a guess at the
 * content -- as text or JSON, or one answer for a script (--size, --uri,
 * and --can, --is, --has and their negations, whose exit status is the
 * answer).  Compatible with nbdinfo.
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
	.can = -1,		/* --can / --is / --cannot / --isnt */
	.context = NULL,	/* --has / --hasnt */
	.negate = false,	/* --cannot / --isnt / --hasnt */
};

enum { OPT_CAN = 1, OPT_CANNOT, OPT_CONTENT, OPT_HAS, OPT_HASNT, OPT_IS,
    OPT_ISNT, OPT_LIST, OPT_NO_CONTENT, OPT_SIZE, OPT_URI };

static struct poptOption options[] = {
	{ "can", '\0', POPT_ARG_STRING, NULL, OPT_CAN,
	  "Exit 0 if the export can do FLAG, 2 if not", "FLAG" },
	{ "cannot", '\0', POPT_ARG_STRING, NULL, OPT_CANNOT,
	  "Exit 0 if the export cannot do FLAG, 2 if it can", "FLAG" },
	{ "content", '\0', POPT_ARG_NONE, NULL, OPT_CONTENT,
	  "Probe the content of the first bytes (default unless --list)",
	  NULL },
	{ "has", '\0', POPT_ARG_STRING, NULL, OPT_HAS,
	  "Exit 0 if the server offers meta context CONTEXT, 2 if not",
	  "CONTEXT" },
	{ "hasnt", '\0', POPT_ARG_STRING, NULL, OPT_HASNT,
	  "Exit 0 if the server does not offer CONTEXT, 2 if it does",
	  "CONTEXT" },
	{ "is", '\0', POPT_ARG_STRING, NULL, OPT_IS,
	  "Exit 0 if the export is FLAG, 2 if not", "FLAG" },
	{ "isnt", '\0', POPT_ARG_STRING, NULL, OPT_ISNT,
	  "Exit 0 if the export is not FLAG, 2 if it is", "FLAG" },
	{ "json", '\0', POPT_ARG_VAL, &opts.json, 1,
	  "Write JSON", NULL },
	{ "list", 'L', POPT_ARG_NONE, NULL, OPT_LIST,
	  "List every export the server offers", NULL },
	{ "no-content", '\0', POPT_ARG_NONE, NULL, OPT_NO_CONTENT,
	  "Do not probe the content", NULL },
	{ "size", '\0', POPT_ARG_NONE, NULL, OPT_SIZE,
	  "Print only the size in bytes", NULL },
	{ "uri", '\0', POPT_ARG_NONE, NULL, OPT_URI,
	  "Print only the URI of the export", NULL },
	CLI_COLOR_TABLE,
	CLI_TABLE_END
};

/* Kept to the end: opts.ep borrows the argument words it holds. */
static poptContext pc;
static char *context;		/* --has's value, owned */

/* The spool; written to stdout only when the job succeeded. */
static char *spool;
static size_t spool_len;

static void parse_args(int argc, const char **argv);
static void check_words(int argc, const char **argv);
static void set_question(int rc);
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
	case INFO_HAS:
		status = info_has(c, opts.context);
		break;
	case INFO_URI:
		info_uri(&out, c);
		break;
	}
	if (opts.negate)
		status = status == EXIT_SUCCESS ? EXIT_FALSE : EXIT_SUCCESS;

	conn_close(c);
	write_spool(out.fp);
	ep_arg_free(&opts.ep);
	poptFreeContext(pc);
	free(context);
	return status;
}

static void
parse_args(int argc, const char **argv)
{
	const char **args;
	int rc, nargs = 0, i = 0;

	check_words(argc, argv);
	pc = cli_context(argc, argv, options,
	    "[OPTION...] NBD-URI | [ CMD ARGS ... ]");
	while ((rc = cli_next(pc)) >= 0) {
		switch (rc) {
		case OPT_CAN:
		case OPT_CANNOT:
		case OPT_HAS:
		case OPT_HASNT:
		case OPT_IS:
		case OPT_ISNT:
			set_question(rc);
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
		case OPT_URI:
			set_mode(INFO_URI, "--uri");
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
	if (opts.mode == INFO_URI && opts.ep.kind == EP_ARG_CMD)
		cli_usage_error("--uri: a [ CMD ] server ends with nbd-info, "
		    "so it has no URI to print");

	if (opts.content == -1)		/* as nbdinfo: probe unless listing */
		opts.content = opts.mode == INFO_SHOW;
	opts.color = !opts.json && color_enabled(cli_opts.color, stdout);
}

/*
 * Words popt would misread, caught before it sees them: nbdinfo's --map
 * and --totals (maps are a tool of their own here), and options of a
 * "[ CMD ]" server that has
 * no "--" before it, which popt would take as nbd-info's own (-r) or
 * refuse (--filter=...).
 */
static void
check_words(int argc, const char **argv)
{
	bool in_cmd = false;

	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0)
			return;
		if (strcmp(w, "[") == 0 || strcmp(w, "]") == 0) {
			in_cmd = w[0] == '[';
			continue;
		}
		if (w[0] != '-' || w[1] == '\0')
			continue;
		if (in_cmd)
			cli_usage_error("%s is an option of the server command: "
			    "put \"--\" before \"[\", as in "
			    "nbd-info -- [ CMD ARGS ... ]", w);
		if (strcmp(w, "--map") == 0 || strncmp(w, "--map=", 6) == 0)
			cli_usage_error("--map: allocation maps are "
			    "nbd-stat-map's job: nbd-stat-map %s NBD", w);
		if (strcmp(w, "--totals") == 0 || strcmp(w, "--total") == 0)
			cli_usage_error("%s: allocation maps are nbd-stat-map's "
			    "job: nbd-stat-map --totals NBD", w);
	}
}

/*
 * --can, --is, --has and their negations: one yes/no question.  As in
 * nbdinfo, --can and --is (and --cannot and --isnt) take the same words.
 */
static void
set_question(int rc)
{
	static const char *const name[] = {
		[OPT_CAN] = "--can", [OPT_CANNOT] = "--cannot",
		[OPT_HAS] = "--has", [OPT_HASNT] = "--hasnt",
		[OPT_IS] = "--is", [OPT_ISNT] = "--isnt",
	};
	bool has = rc == OPT_HAS || rc == OPT_HASNT;
	char *arg;

	/* Usage errors before the value is ours to free. */
	set_mode(has ? INFO_HAS : INFO_CAN, name[rc]);
	opts.negate = rc == OPT_CANNOT || rc == OPT_HASNT || rc == OPT_ISNT;
	arg = poptGetOptArg(pc);
	if (has) {
		free(context);
		context = arg;		/* kept for the connection */
		opts.context = context;
		if (context[0] == '\0')
			cli_usage_error("%s: the meta context name is empty",
			    name[rc]);
		return;
	}
	opts.can = info_can_lookup(arg);
	if (opts.can == -1)
		cli_usage_error("unknown %s option: %s", opts.negate ?
		    "--cannot or --isnt" : "--can or --is", arg);
	free(arg);
}

/*
 * --list, --size, --uri, --can (--is, ...) and --has (--hasnt) each pick
 * a mode: only one may.
 */
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
 * lists every one); the others connect straight through, --can asking
 * for base:allocation so block-status can be answered, --has for the
 * context it asks about.  --size and --uri need nothing but NBD_OPT_GO:
 * one option round trip, as few as a newstyle handshake allows.
 */
static struct conn_want
want_for(enum info_mode mode)
{
	struct conn_want want = { .no_contexts = true, .query_only = true };

	switch (mode) {
	case INFO_SHOW:
	case INFO_LIST:
		want.opt_mode = true;
		want.full_info = true;
		break;
	case INFO_SIZE:
	case INFO_URI:
		want.no_sr = true;
		break;
	case INFO_CAN:
		want.no_contexts = false;
		break;
	case INFO_HAS:
		want.no_contexts = false;
		want.contexts[0] = opts.context;
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
