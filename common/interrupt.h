/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIGINT and SIGTERM (SPEC 1.3): the flag long loops poll, the moment
 * replies still due get before a connection is cut, how long a wait on
 * the network may block, and the way out: after cleaning up, a tool
 * stopped by a signal ends by that signal (status 130, 143), so a
 * shell loop around it stops too.  Below both cli.c and conn.c.
 */
#ifndef NBDU_INTERRUPT_H
#define NBDU_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Set (never cleared) by SIGINT/SIGTERM; long loops poll it. */
extern volatile sig_atomic_t cli_interrupted;

/*
 * Installs the SIGINT/SIGTERM handlers and the 3 s watchdog, and
 * registers the exit handler that re-raises the signal.  Call it before
 * any other atexit(): handlers run in reverse, so every cleanup
 * registered later (closing connections, checking stdout) runs first.
 */
void interrupt_init(void);

/* The signal that stops the run (SIGINT, SIGTERM), or 0 if none came. */
int interrupt_signal(void);

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

#endif
