/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every tool shares at the command line: the common popt options,
 * the parse loop with its one-line usage errors, --version, the hidden
 * --long-options/--short-options the bash completion asks, exit codes
 * and the check that stdout was written and closed.  Signals are
 * interrupt.h's, included here for the tools.
 */
#ifndef NBDU_CLI_H
#define NBDU_CLI_H

#include <stdbool.h>
#include <popt.h>

#include "compiler.h"
#include "interrupt.h"

#define EXIT_FALSE	2	/* "no" from nbd-info --can/--is */

/* Set by the shared options; the only global state besides each tool's. */
struct cli_opts {
	int verbose;		/* -v: libnbd debug on stderr */
	int color;		/* COLOR_AUTO, 0 or 1 */
};
extern struct cli_opts cli_opts;

/* -v, -V and the hidden --long-options/--short-options. */
extern struct poptOption cli_common_options[];
/* --color/--colour(s) and --no-color/--no-colour(s). */
extern struct poptOption cli_color_options[];

/*
 * The last rows of every tool's table: the colour options (for tools
 * that colour), the common ones, --help/--usage, the end.
 */
#define CLI_COLOR_TABLE							\
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, cli_color_options, 0,	\
	  "Colour options:", NULL }
#define CLI_TABLE_END							\
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, cli_common_options, 0,	\
	  "Common options:", NULL },					\
	POPT_AUTOHELP							\
	POPT_TABLEEND

/*
 * Installs the signal handlers (interrupt_init), registers the check of
 * stdout at exit, and ignores SIGPIPE so a closed pipe is an EPIPE we
 * can clean up after.
 */
void cli_init(void);

/*
 * popt's optional arguments take the next word ("--map URI" would make
 * the URI the context), unlike getopt's, which the tools we replace use.
 * So before popt sees them, words are rewritten: a word starting with
 * from (from ends with '=') or equal to it (otherwise) becomes to
 * followed by the rest of the word.  The tool's own words only: not
 * after "--", nor inside "[ CMD ]".
 */
struct cli_rewrite {
	const char *from, *to;
};

/* A copy of argv (NULL-terminated) with the rules applied. */
const char **cli_rewrite_args(int argc, const char **argv,
    const struct cli_rewrite *rules, size_t nrules);

/* Frees what cli_rewrite_args() returned. */
void cli_rewrite_free(int argc, const char **argv, const char **v);

/* A popt context over the tool's table, with its positional-args help. */
poptContext cli_context(int argc, const char **argv,
    const struct poptOption *options, const char *other_help);

/*
 * poptGetNextOpt() that exits 1 with "PROG: OPTION: reason" on a bad
 * option; returns the option's val, or -1 when options are done (and
 * then hands -v to the connection module).
 */
int cli_next(poptContext pc);

/* Exits 1 after "PROG: message" and a "Try 'PROG --help'" line. */
NORETURN PRINTF(1, 2) void cli_usage_error(const char *fmt, ...);

/*
 * Called when a write to stdout failed: EPIPE ends the program the way
 * SIGPIPE would (quietly) after closing handles; anything else is
 * "PROG: write error: ...", exit 1.
 */
NORETURN void cli_stdout_failed(void);

/*
 * From now on, what stdio writes to stderr (err(), warnx(), ...) still
 * goes to file descriptor 2 at once, and the last line that starts with
 * "PROG: " is kept, for a report of why the run failed.
 */
void cli_capture_errors(void);

/* That line without "PROG: " and its newline, or "" if none came. */
const char *cli_last_error(void);

#endif
