/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "compiler.h"
#include "interrupt.h"

volatile sig_atomic_t cli_interrupted;

/* Which signal stopped us, for the way out; 0 while none did. */
static volatile sig_atomic_t stop_signal;

/*
 * A signal ends the run through the error path, so servers started with
 * "[ CMD ]" are killed and reaped.  Should that path itself get stuck,
 * the watchdog still ends the process within a bounded time: a tool
 * that ignores Ctrl-C is worse than one that skips its cleanup.
 */
#define WATCHDOG_SECONDS 3

/*
 * Dies by sig with its default action, so the parent sees "killed by
 * SIGINT" and not an exit status: a shell stops its loop only then.  The
 * signal may be blocked in this thread; the unblock delivers it.
 */
NORETURN static void
die_by(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	_exit(EXIT_FAILURE);
}

static void
on_watchdog(int sig UNUSED)
{
	static const char tail[] = ": interrupted; cleanup took too long\n";
	const char *name = program_invocation_short_name;

	if (write(STDERR_FILENO, name, strlen(name)) > 0)
		(void)!write(STDERR_FILENO, tail, sizeof(tail) - 1);
	die_by(stop_signal);
}

static void
on_signal(int sig)
{
	if (!cli_interrupted) {
		stop_signal = sig;
		alarm(WATCHDOG_SECONDS);
	}
	cli_interrupted = 1;
}

/* Runs last at exit, after every other cleanup. */
static void
exit_by_signal(void)
{
	if (stop_signal != 0)
		die_by(stop_signal);
}

void
interrupt_init(void)
{
	struct sigaction sa;

	if (atexit(exit_by_signal) != 0)
		errx(EXIT_FAILURE, "atexit failed");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_watchdog;
	sigaction(SIGALRM, &sa, NULL);
}

int
interrupt_signal(void)
{
	return stop_signal;
}

void
cli_check_interrupted(void)
{
	if (cli_interrupted)
		errx(EXIT_FAILURE, "interrupted");
}

bool
cli_grace_expired(void)
{
	static _Atomic int64_t end;
	int64_t now = clock_now_ns(), want = 0;

	/* The first thread to ask after the signal starts the clock. */
	atomic_compare_exchange_strong(&end, &want, now + CLI_GRACE_NS);
	return now >= atomic_load(&end);
}
