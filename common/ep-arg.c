/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compiler.h"
#include "ep-arg.h"
#include "uri.h"

PRINTF(3, 4) static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* Words may hold anything; the message stays one printable line. */
	for (char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* Takes the words between "[" at args[*i] and its "]" as a command. */
static int
parse_cmd(const char **args, int nargs, int *i, struct ep_arg *out,
    char *err, size_t errlen)
{
	int start = *i + 1, end;

	for (end = start; end < nargs; end++)
		if (strcmp(args[end], "]") == 0)
			break;
	if (end == nargs)
		return fail(err, errlen, "'%s' without a matching ']'", "[");
	if (end == start)
		return fail(err, errlen, "empty command between '%s' and ']'",
		    "[");
	out->cmd = calloc(end - start + 1, sizeof(*out->cmd));
	if (out->cmd == NULL)
		return fail(err, errlen, "%s", "out of memory");
	memcpy(out->cmd, args + start, (end - start) * sizeof(*out->cmd));
	out->kind = EP_ARG_CMD;
	out->str = out->cmd[0];
	*i = end + 1;
	return 0;
}

static int
unknown_scheme(char *err, size_t errlen, const char *w)
{
	char *shown = uri_redact(w);

	fail(err, errlen, "'%s': unknown URI scheme", shown ? shown : "?");
	free(shown);
	return -1;
}

int
ep_arg_parse(const char **args, int nargs, int *i, struct ep_arg *out,
    char *err, size_t errlen)
{
	const char *w;

	memset(out, 0, sizeof(*out));
	if (*i >= nargs)
		return fail(err, errlen, "%s", "missing endpoint argument");
	w = args[*i];
	if (strcmp(w, "]") == 0)
		return fail(err, errlen, "'%s' without a matching '['", w);
	if (strcmp(w, "[") == 0) {
		if (parse_cmd(args, nargs, i, out, err, errlen) == -1)
			return -1;
		out->display = strdup(out->str);
		return 0;
	}
	if (w[0] == '\0')
		return fail(err, errlen, "%s", "empty endpoint argument");
	out->str = w;
	if (uri_is_nbd(w))
		out->kind = EP_ARG_URI;
	else if (strcmp(w, "-") == 0)
		out->kind = EP_ARG_STDIO;
	else if (strcmp(w, "null:") == 0)
		out->kind = EP_ARG_NULL;
	else if (strstr(w, "://") != NULL &&
	    strcspn(w, "/") > strcspn(w, ":"))
		return unknown_scheme(err, errlen, w);
	else
		out->kind = EP_ARG_PATH;
	out->display = out->kind == EP_ARG_URI ? uri_redact(w) : strdup(w);
	(*i)++;
	return 0;
}

static const char *
kind_name(enum ep_arg_kind k)
{
	switch (k) {
	case EP_ARG_URI: return "an NBD URI";
	case EP_ARG_CMD: return "a '[ CMD ]' server";
	case EP_ARG_PATH: return "a local file";
	case EP_ARG_STDIO: return "'-'";
	case EP_ARG_NULL: return "'null:'";
	}
	return "?";
}

/*
 * A path that names an NBD server the way other tools spell one: a Unix
 * socket (no tool can open it as a file) or HOST:PORT where no file may
 * go.  The error says which URI was meant.
 */
static void
suggest_uri(const struct ep_arg *a, unsigned allow, const char *role)
{
	struct stat st;
	char *uri;

	if (stat(a->str, &st) == 0 && S_ISSOCK(st.st_mode)) {
		uri = uri_unix_socket(a->str);
		if (uri == NULL)
			err(EXIT_FAILURE, "malloc");
		errx(EXIT_FAILURE, "%s: %s is a Unix socket, not a file: "
		    "did you mean '%s'?", role, a->display, uri);
	}
	if (!(allow & EP_ALLOW(EP_ARG_PATH)) && uri_is_host_port(a->str))
		errx(EXIT_FAILURE, "%s: %s cannot be a local file: did you "
		    "mean 'nbd://%s'?", role, a->display, a->str);
}

void
ep_arg_parse_or_die(const char **args, int nargs, int *i, struct ep_arg *out,
    unsigned allow, const char *role)
{
	char msg[256];

	if (ep_arg_parse(args, nargs, i, out, msg, sizeof(msg)) == -1)
		errx(EXIT_FAILURE, "%s: %s", role, msg);
	if (out->kind == EP_ARG_PATH)
		suggest_uri(out, allow, role);
	if (!(allow & EP_ALLOW(out->kind)))
		errx(EXIT_FAILURE, "%s: %s cannot be %s", role, out->display,
		    kind_name(out->kind));
}

void
ep_arg_free(struct ep_arg *a)
{
	free(a->cmd);
	free(a->display);
	memset(a, 0, sizeof(*a));
}
