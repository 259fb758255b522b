/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libnbd.h>
#include <popt.h>

#include "cli.h"
#include "color.h"
#include "conn.h"

struct cli_opts cli_opts = { .verbose = 0, .color = COLOR_AUTO };

/* The tool's own table, for --long-options; set by cli_context(). */
static const struct poptOption *top_table;

/*
 * The callback sees every option of its table, -v too, whose
 * POPT_ARG_VAL val is 1: keep these clear of small numbers, or "-v"
 * would print the version.
 */
enum { OPT_VERSION = 0x1000, OPT_LONG_OPTIONS, OPT_SHORT_OPTIONS };

static void common_callback(poptContext, enum poptCallbackReason,
    const struct poptOption *, const char *, void *);

struct poptOption cli_common_options[] = {
	{ NULL, '\0', POPT_ARG_CALLBACK, (void *)common_callback, 0, NULL,
	  NULL },
	{ "verbose", 'v', POPT_ARG_VAL, &cli_opts.verbose, 1,
	  "Print libnbd debug messages on stderr", NULL },
	{ "version", 'V', POPT_ARG_NONE, NULL, OPT_VERSION,
	  "Print the version and exit", NULL },
	{ "long-options", '\0', POPT_ARG_NONE | POPT_ARGFLAG_DOC_HIDDEN, NULL,
	  OPT_LONG_OPTIONS, "List long options (for completion)", NULL },
	{ "short-options", '\0', POPT_ARG_NONE | POPT_ARGFLAG_DOC_HIDDEN, NULL,
	  OPT_SHORT_OPTIONS, "List short options (for completion)", NULL },
	POPT_TABLEEND
};

struct poptOption cli_color_options[] = {
	{ "color", '\0', POPT_ARG_VAL, &cli_opts.color, 1,
	  "Colour the output", NULL },
	{ "no-color", '\0', POPT_ARG_VAL, &cli_opts.color, 0,
	  "Do not colour the output", NULL },
	{ "colour", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN,
	  &cli_opts.color, 1, NULL, NULL },
	{ "colors", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN,
	  &cli_opts.color, 1, NULL, NULL },
	{ "colours", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN,
	  &cli_opts.color, 1, NULL, NULL },
	{ "no-colour", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN,
	  &cli_opts.color, 0, NULL, NULL },
	{ "no-colors", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN,
	  &cli_opts.color, 0, NULL, NULL },
	{ "no-colours", '\0', POPT_ARG_VAL | POPT_ARGFLAG_DOC_HIDDEN,
	  &cli_opts.color, 0, NULL, NULL },
	POPT_TABLEEND
};

static void
print_options(const struct poptOption *t, bool want_long)
{
	for (; t->longName != NULL || t->shortName != '\0' || t->argInfo != 0;
	    t++) {
		if ((t->argInfo & POPT_ARG_MASK) == POPT_ARG_INCLUDE_TABLE) {
			print_options(t->arg, want_long);
			continue;
		}
		if ((t->argInfo & POPT_ARG_MASK) == POPT_ARG_CALLBACK ||
		    (t->argInfo & POPT_ARGFLAG_DOC_HIDDEN))
			continue;
		if (want_long && t->longName != NULL)
			printf("--%s\n", t->longName);
		if (!want_long && t->shortName != '\0')
			printf("-%c\n", t->shortName);
	}
}

static void
print_version(void)
{
	struct nbd_handle *h;

	printf("%s %s\n", program_invocation_short_name, VERSION);
	h = nbd_create();
	if (h == NULL)
		errx(EXIT_FAILURE, "%s", nbd_get_error());
	printf("libnbd %s\n", nbd_get_version(h));
	nbd_close(h);
}

static void
common_callback(poptContext pc UNUSED, enum poptCallbackReason reason,
    const struct poptOption *opt, const char *arg UNUSED, void *data UNUSED)
{
	if (reason != POPT_CALLBACK_REASON_OPTION)
		return;
	switch (opt->val) {
	case OPT_VERSION:
		print_version();
		exit(EXIT_SUCCESS);
	case OPT_LONG_OPTIONS:
	case OPT_SHORT_OPTIONS:
		print_options(top_table, opt->val == OPT_LONG_OPTIONS);
		exit(EXIT_SUCCESS);
	}
}

NORETURN void
cli_stdout_failed(void)
{
	int e = errno;

	if (e == EPIPE) {
		conn_close_all();
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(EXIT_FAILURE);
	}
	fprintf(stderr, "%s: write error: %s\n", program_invocation_short_name,
	    strerror(e));
	conn_close_all();
	_exit(EXIT_FAILURE);
}

/* util-linux close_stdout: a failed flush or close is an error, exit 1. */
static void
close_stdout(void)
{
	bool failed = ferror(stdout) != 0;

	errno = 0;
	if (fclose(stdout) != 0)
		failed = true;
	if (failed) {
		if (errno == 0)
			errno = EIO;
		cli_stdout_failed();
	}
}

/*
 * A closed standard descriptor would be reused by the next open or
 * socket, and printing would then send bytes into an NBD connection.
 * Fill the hole with something that fails loudly instead: writes to
 * /dev/full fail with ENOSPC, reads of a directory fail with EISDIR.
 */
static void
reserve_std_fds(void)
{
	static const struct { const char *path; int flags; } fill[] = {
		{ "/", O_RDONLY | O_DIRECTORY },
		{ "/dev/full", O_WRONLY },
		{ "/dev/full", O_WRONLY },
	};

	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		nfd = open(fill[fd].path, fill[fd].flags);
		if (nfd != fd)
			_exit(EXIT_FAILURE);
	}
}

void
cli_init(void)
{
	reserve_std_fds();
	interrupt_init();
	/* conn.c registers its own handler later, so it runs before this. */
	if (atexit(close_stdout) != 0)
		errx(EXIT_FAILURE, "atexit failed");
	signal(SIGPIPE, SIG_IGN);
}

/* The line being written to stderr, and the last "PROG: " line. */
static struct {
	char cur[1024], last[1024];
	size_t len;		/* a longer line keeps only its start */
} captured;

/* A whole line came: keep it if it is one of ours. */
static void
capture_line(void)
{
	size_t n = strlen(program_invocation_short_name);
	const char *s = captured.cur;

	captured.cur[captured.len] = '\0';
	if (strncmp(s, program_invocation_short_name, n) == 0 &&
	    strncmp(s + n, ": ", 2) == 0)
		snprintf(captured.last, sizeof(captured.last), "%s", s + n + 2);
	captured.len = 0;
}

/*
 * stdio calls this with the stream locked, so lines from two threads do
 * not mix here.  A failed write to stderr is not worth stopping for: the
 * error being written is what matters, and it is kept.
 */
static ssize_t
capture_write(void *cookie UNUSED, const char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			capture_line();
		else if (captured.len < sizeof(captured.cur) - 1)
			captured.cur[captured.len++] = buf[i];
	}
	for (size_t off = 0; off < size;) {
		ssize_t r = write(STDERR_FILENO, buf + off, size - off);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += r;
	}
	return size;
}

void
cli_capture_errors(void)
{
	cookie_io_functions_t io = { .write = capture_write };
	FILE *fp = fopencookie(NULL, "w", io);

	if (fp == NULL)
		err(EXIT_FAILURE, "fopencookie");
	/* Unbuffered as stderr is: an exit by a signal must lose nothing. */
	setvbuf(fp, NULL, _IONBF, 0);
	stderr = fp;
}

const char *
cli_last_error(void)
{
	return captured.last;
}

/* rule applied to word, or NULL if it does not apply. */
static char *
rewrite_word(const char *word, const struct cli_rewrite *rule)
{
	size_t n = strlen(rule->from);
	char *s;

	if (strncmp(word, rule->from, n) != 0 ||
	    (rule->from[n - 1] != '=' && word[n] != '\0'))
		return NULL;
	if (asprintf(&s, "%s%s", rule->to, word + n) == -1)
		err(EXIT_FAILURE, "asprintf");
	return s;
}

const char **
cli_rewrite_args(int argc, const char **argv, const struct cli_rewrite *rules,
    size_t nrules)
{
	const char **v = calloc(argc + 1, sizeof(*v));
	bool in_cmd = false;

	if (v == NULL)
		err(EXIT_FAILURE, "calloc");
	for (int i = 0; i < argc; i++) {
		v[i] = argv[i];
		if (i == 0)
			continue;
		if (!in_cmd && strcmp(argv[i], "--") == 0) {
			memcpy(v + i, argv + i, (argc - i) * sizeof(*v));
			break;
		}
		if (strcmp(argv[i], "[") == 0 || strcmp(argv[i], "]") == 0) {
			in_cmd = argv[i][0] == '[';
			continue;
		}
		for (size_t r = 0; r < nrules && !in_cmd && v[i] == argv[i];
		    r++) {
			char *s = rewrite_word(argv[i], &rules[r]);

			if (s != NULL)
				v[i] = s;
		}
	}
	return v;
}

void
cli_rewrite_free(int argc, const char **argv, const char **v)
{
	for (int i = 0; i < argc; i++)
		if (v[i] != argv[i])
			free((char *)v[i]);
	free(v);
}

poptContext
cli_context(int argc, const char **argv, const struct poptOption *options,
    const char *other_help)
{
	poptContext pc;

	top_table = options;
	pc = poptGetContext(NULL, argc, argv, options, 0);
	if (pc == NULL)
		errx(EXIT_FAILURE, "poptGetContext failed");
	poptSetOtherOptionHelp(pc, other_help);
	return pc;
}

int
cli_next(poptContext pc)
{
	int rc = poptGetNextOpt(pc);

	if (rc < -1)
		cli_usage_error("%s: %s",
		    poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
	if (rc == -1)
		conn_set_debug(cli_opts.verbose);
	return rc;
}

void
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try '%s --help')\n", program_invocation_short_name);
	exit(EXIT_FAILURE);
}
