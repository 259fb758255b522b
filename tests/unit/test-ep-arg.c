/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Endpoint classification (SPEC 1.1) from the words alone: each URI
 * scheme, "[ CMD ... ]" groups with what follows them, paths, "-",
 * "null:", and every error (unmatched or empty brackets, unknown
 * schemes, empty words, nothing left).  Then password redaction, which
 * must hide the password and keep everything else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "ep-arg.h"
#include "uri.h"

#define MAXW	8

static const struct {
	const char *words[MAXW];	/* NULL-terminated */
	int start;			/* parse from this word */
	int err;			/* 1: must fail */
	enum ep_arg_kind kind;
	int next;			/* *i afterwards */
	const char *str;		/* ->str, or the reason on failure */
	const char *cmd;		/* CMD: words joined by "|" */
	const char *display;
} cases[] = {
	{ { "nbd://localhost", NULL }, 0, 0, EP_ARG_URI, 1,
	  "nbd://localhost", NULL, "nbd://localhost" },
	{ { "nbds://h:10810/exp", NULL }, 0, 0, EP_ARG_URI, 1,
	  "nbds://h:10810/exp", NULL, "nbds://h:10810/exp" },
	{ { "nbd+unix:///?socket=/tmp/s", NULL }, 0, 0, EP_ARG_URI, 1,
	  "nbd+unix:///?socket=/tmp/s", NULL, "nbd+unix:///?socket=/tmp/s" },
	{ { "nbds+unix://alice@/?socket=s&tls-psk-file=k", NULL }, 0, 0,
	  EP_ARG_URI, 1, "nbds+unix://alice@/?socket=s&tls-psk-file=k", NULL,
	  "nbds+unix://alice@/?socket=s&tls-psk-file=k" },
	{ { "nbd+vsock://2:10809", NULL }, 0, 0, EP_ARG_URI, 1,
	  "nbd+vsock://2:10809", NULL, "nbd+vsock://2:10809" },
	{ { "nbds+vsock://2", NULL }, 0, 0, EP_ARG_URI, 1,
	  "nbds+vsock://2", NULL, "nbds+vsock://2" },
	{ { "nbd://u:secret@h/e", NULL }, 0, 0, EP_ARG_URI, 1,
	  "nbd://u:secret@h/e", NULL, "nbd://u:***@h/e" },
	{ { "[", "nbdkit", "memory", "1M", "]", NULL }, 0, 0, EP_ARG_CMD, 5,
	  "nbdkit", "nbdkit|memory|1M", "nbdkit" },
	{ { "[", "qemu-nbd", "-f", "raw", "x y.img", "]", "out", NULL }, 0, 0,
	  EP_ARG_CMD, 6, "qemu-nbd", "qemu-nbd|-f|raw|x y.img", "qemu-nbd" },
	{ { "src", "[", "nbdkit", "null", "]", NULL }, 1, 0, EP_ARG_CMD, 5,
	  "nbdkit", "nbdkit|null", "nbdkit" },
	{ { "disk.img", NULL }, 0, 0, EP_ARG_PATH, 1, "disk.img", NULL,
	  "disk.img" },
	{ { "/dev/sda", "x", NULL }, 0, 0, EP_ARG_PATH, 1, "/dev/sda", NULL,
	  "/dev/sda" },
	{ { "a:b", NULL }, 0, 0, EP_ARG_PATH, 1, "a:b", NULL, "a:b" },
	{ { "./nbd://x", NULL }, 0, 0, EP_ARG_PATH, 1, "./nbd://x", NULL,
	  "./nbd://x" },
	{ { "nbd:", NULL }, 0, 0, EP_ARG_PATH, 1, "nbd:", NULL, "nbd:" },
	{ { "-", NULL }, 0, 0, EP_ARG_STDIO, 1, "-", NULL, "-" },
	{ { "null:", NULL }, 0, 0, EP_ARG_NULL, 1, "null:", NULL, "null:" },
	{ { "[", "nbdkit", "memory", NULL }, 0, 1, 0, 0,
	  "'[' without a matching ']'", NULL, NULL },
	{ { "[", NULL }, 0, 1, 0, 0, "'[' without a matching ']'", NULL,
	  NULL },
	{ { "[", "]", NULL }, 0, 1, 0, 0, "empty command", NULL, NULL },
	{ { "]", NULL }, 0, 1, 0, 0, "']' without a matching '['", NULL,
	  NULL },
	{ { "", NULL }, 0, 1, 0, 0, "empty endpoint argument", NULL, NULL },
	{ { NULL }, 0, 1, 0, 0, "missing endpoint argument", NULL, NULL },
	{ { "a", NULL }, 1, 1, 0, 0, "missing endpoint argument", NULL, NULL },
	{ { "http://example.com/x", NULL }, 0, 1, 0, 0,
	  "'http://example.com/x': unknown URI scheme", NULL, NULL },
	{ { "NBD://localhost", NULL }, 0, 1, 0, 0, "unknown URI scheme", NULL,
	  NULL },
};

static const struct {
	const char *in, *want;
} redact_cases[] = {
	{ "nbd://localhost/x", "nbd://localhost/x" },
	{ "nbd://user@host/x", "nbd://user@host/x" },
	{ "nbd://user:pw@host/x", "nbd://user:***@host/x" },
	{ "nbds://user:p:w@host:10809/x?tls-psk-file=f",
	  "nbds://user:***@host:10809/x?tls-psk-file=f" },
	{ "nbd://host:10809/x@y", "nbd://host:10809/x@y" },
	{ "nbd://host?a=b:c@d", "nbd://host?a=b:c@d" },
	{ "nbd+unix:///?socket=/tmp/a:b@c", "nbd+unix:///?socket=/tmp/a:b@c" },
	{ "nbd://:pw@host", "nbd://:***@host" },
	{ "no-scheme", "no-scheme" },
};

/* What a user gave where a URI was meant, and the URI to suggest. */
static const struct {
	const char *in;
	bool host_port;
} host_port_cases[] = {
	{ "localhost:10809", true },
	{ "example.com:1", true },
	{ "[::1]:10809", true },
	{ "10.0.0.1:10809", true },
	{ "localhost", false },
	{ "localhost:", false },
	{ ":10809", false },
	{ "host:port", false },
	{ "a/b:10809", false },
	{ "[]:10809", false },
	{ "[::1]10809", false },
	{ "c:\\x:1", false },
};

static const struct {
	const char *path, *want;
} socket_cases[] = {
	{ "/tmp/q.sock", "nbd+unix:///?socket=/tmp/q.sock" },
	{ "rel/a b&c=d#e%", "nbd+unix:///?socket=rel/a%20b%26c%3Dd%23e%25" },
	{ "~x_y-z", "nbd+unix:///?socket=~x_y-z" },
};

static void
join(char *buf, size_t len, const char **cmd)
{
	buf[0] = '\0';
	for (size_t k = 0; cmd != NULL && cmd[k] != NULL; k++) {
		if (k > 0)
			strncat(buf, "|", len - strlen(buf) - 1);
		strncat(buf, cmd[k], len - strlen(buf) - 1);
	}
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
main(void)
{
	unsigned failed = 0;
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	size_t nredact = sizeof(redact_cases) / sizeof(redact_cases[0]);

	for (size_t c = 0; c < ncases; c++) {
		struct ep_arg a;
		char msg[256] = "", joined[256];
		int nwords = 0, i = cases[c].start, r;

		while (cases[c].words[nwords] != NULL)
			nwords++;
		r = ep_arg_parse((const char **)cases[c].words, nwords, &i, &a,
		    msg, sizeof(msg));
		if (cases[c].err) {
			if (r != -1 || strstr(msg, cases[c].str) == NULL) {
				printf("FAIL case %zu: r=%d msg \"%s\", want "
				    "failure \"%s\"\n", c, r, msg,
				    cases[c].str);
				failed++;
			}
			continue;
		}
		join(joined, sizeof(joined), a.cmd);
		if (r != 0 || a.kind != cases[c].kind || i != cases[c].next ||
		    !same(a.str, cases[c].str) ||
		    !same(cases[c].cmd ? joined : NULL, cases[c].cmd) ||
		    (a.cmd != NULL) != (cases[c].cmd != NULL) ||
		    !same(a.display, cases[c].display)) {
			printf("FAIL case %zu (%s): r=%d kind=%d next=%d "
			    "str=%s cmd=%s display=%s (%s)\n", c,
			    cases[c].words[cases[c].start], r, a.kind, i,
			    a.str, joined, a.display, msg);
			failed++;
		}
		if (r == 0 && uri_is_nbd(cases[c].words[cases[c].start]) !=
		    (cases[c].kind == EP_ARG_URI)) {
			printf("FAIL case %zu: uri_is_nbd disagrees\n", c);
			failed++;
		}
		ep_arg_free(&a);
	}

	for (size_t c = 0; c < nredact; c++) {
		char *got = uri_redact(redact_cases[c].in);

		if (!same(got, redact_cases[c].want)) {
			printf("FAIL uri_redact(\"%s\") = \"%s\", want "
			    "\"%s\"\n", redact_cases[c].in, got,
			    redact_cases[c].want);
			failed++;
		}
		free(got);
	}

	for (size_t c = 0; c < ARRAY_SIZE(host_port_cases); c++)
		if (uri_is_host_port(host_port_cases[c].in) !=
		    host_port_cases[c].host_port) {
			printf("FAIL uri_is_host_port(\"%s\")\n",
			    host_port_cases[c].in);
			failed++;
		}
	for (size_t c = 0; c < ARRAY_SIZE(socket_cases); c++) {
		char *got = uri_unix_socket(socket_cases[c].path);

		if (!same(got, socket_cases[c].want)) {
			printf("FAIL uri_unix_socket(\"%s\") = \"%s\"\n",
			    socket_cases[c].path, got);
			failed++;
		}
		free(got);
	}

	if (failed > 0) {
		printf("test-ep-arg: %u failures\n", failed);
		return EXIT_FAILURE;
	}
	printf("test-ep-arg: %zu cases passed\n", ncases + nredact +
	    ARRAY_SIZE(host_port_cases) + ARRAY_SIZE(socket_cases));
	return EXIT_SUCCESS;
}
