/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Endpoint arguments (SPEC 1.1): what a word (or a "[ CMD ... ]" group) on
 * the command line names, decided from its text alone.  Opening is the
 * job of conn.c (NBD) and endpoint.c (everything).
 */
#ifndef NBDU_EP_ARG_H
#define NBDU_EP_ARG_H

#include <stdbool.h>
#include <stddef.h>

enum ep_arg_kind {
	EP_ARG_URI,		/* nbd://, nbds://, nbd+unix://, ... */
	EP_ARG_CMD,		/* [ CMD ARGS ... ]: socket-activated server */
	EP_ARG_PATH,		/* local file or block device */
	EP_ARG_STDIO,		/* "-" */
	EP_ARG_NULL,		/* "null:" */
};

/* Which kinds a tool accepts in a position, as a bit mask. */
#define EP_ALLOW(k)	(1u << (k))
#define EP_ALLOW_NBD	(EP_ALLOW(EP_ARG_URI) | EP_ALLOW(EP_ARG_CMD))

struct ep_arg {
	enum ep_arg_kind kind;
	const char *str;	/* the URI, path, "-" or "null:"; CMD: argv[0] */
	const char **cmd;	/* CMD only: NULL-terminated argv (owned) */
	char *display;		/* for messages: URI without its password */
};

/*
 * Parses one endpoint starting at args[*i] and advances *i past it.
 * Returns 0, or -1 with a one-line reason in err (errlen bytes).
 */
int ep_arg_parse(const char **args, int nargs, int *i, struct ep_arg *out,
    char *err, size_t errlen);

/* ep_arg_parse that exits 1 with the reason; checks kind against allow. */
void ep_arg_parse_or_die(const char **args, int nargs, int *i,
    struct ep_arg *out, unsigned allow, const char *role);

void ep_arg_free(struct ep_arg *a);

#endif
