/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every tool shares at the command line: the common popt options,
 * the parse loop with its one-line usage errors, --version, the hidden
 * --long-options/--short-options the bash completion asks, exit codes,
 * signal flags and the check that stdout was written and closed.
 */
#ifndef NBDU_CLI_H
#define NBDU_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <popt.h>

#include "compiler.h"

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

/* Set (never cleared) by SIGINT/SIGTERM; long loops poll it. */
extern volatile sig_atomic_t cli_interrupted;

/*
 * Registers the exit handlers (close NBD handles and reap their
 * subprocesses, then check stdout), ignores SIGPIPE so a closed pipe is
 * an EPIPE we can clean up after, and installs SIGINT/SIGTERM handlers.
 */
void cli_init(void);

/* A popt context over the tool's table, with its positional-args help. */
poptContext cli_context(int argc, const char **argv,
    const struct poptOption *options, const char *other_help);

/*
 * poptGetNextOpt() that exits 1 with "PROG: OPTION: reason" on a bad
 * option; returns the option's val, or -1 when options are done.
 */
int cli_next(poptContext pc);

/* Exits 1 after "PROG: message" and a "Try 'PROG --help'" line. */
NORETURN PRINTF(1, 2) void cli_usage_error(const char *fmt, ...);

/* Exits 1 after "PROG: interrupted" if a signal arrived. */
void cli_check_interrupted(void);

/*
 * After a signal, commands already sent may still come back for a
 * moment, so the server is not cut off in the middle of its replies
 * (nbdkit 1.32 aborts when that happens): true once that moment is over.
 */
bool cli_grace_expired(void);

/* That moment, also how long a copy drains after a failure. */
#define CLI_GRACE_NS	(1000 * 1000 * 1000LL)

/* How long to block in poll(2) while waiting for commands in flight. */
#define CLI_POLL_MS	(cli_interrupted ? 50 : 1000)

/*
 * Called when a write to stdout failed: EPIPE ends the program the way
 * SIGPIPE would (quietly) after closing handles; anything else is
 * "PROG: write error: ...", exit 1.
 */
NORETURN void cli_stdout_failed(void);

#endif
