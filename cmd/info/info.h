/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-info's cross-file declarations: the options main.c fills in, and
 * one entry point per mode (show.c, list.c, can.c), each writing into
 * the spool main.c copies to stdout once everything has succeeded.
 */
#ifndef NBDU_INFO_H
#define NBDU_INFO_H

#include <stdbool.h>
#include <stdio.h>

#include "conn.h"
#include "ep-arg.h"
#include "json.h"

enum info_mode {
	INFO_SHOW,		/* default: one export in full */
	INFO_SIZE,		/* --size */
	INFO_CAN,		/* --can / --is / --cannot / --isnt */
	INFO_LIST,		/* -L, --list */
	INFO_HAS,		/* --has / --hasnt */
	INFO_URI,		/* --uri */
};

struct info_opts {
	enum info_mode mode;
	int json;		/* --json */
	int content;		/* --content 1, --no-content 0, else -1 */
	int can;		/* --can/--is: an INFO_CAN_* question */
	const char *context;	/* --has/--hasnt: a meta context name */
	bool negate;		/* --cannot/--isnt/--hasnt: swap 0 and 2 */
	bool color;		/* text output in colour */
	struct ep_arg ep;	/* the server */
};

/* Where a mode writes: the spool, and the JSON writer over it. */
struct info_out {
	FILE *fp;
	struct json json;
	const struct info_opts *opts;
};

/* The yes/no questions of --can and --is (can.c). */
enum {
	INFO_CAN_CONNECT, INFO_CAN_TLS, INFO_CAN_SR, INFO_CAN_READ_ONLY,
	INFO_CAN_WRITE, INFO_CAN_ROTATIONAL, INFO_CAN_CACHE, INFO_CAN_DF,
	INFO_CAN_FAST_ZERO, INFO_CAN_FLUSH, INFO_CAN_FUA, INFO_CAN_MULTI_CONN,
	INFO_CAN_TRIM, INFO_CAN_ZERO, INFO_CAN_BLOCK_STATUS,
};

/*
 * The question a --can/--is word names, in any case, with "-", "_" or
 * " " between words as nbdinfo accepts them; -1 if it names none.
 */
int info_can_lookup(const char *word);

/* Answers the question on c: EXIT_SUCCESS (yes) or EXIT_FALSE (no). */
int info_can(struct conn *c, int question);

/* --size: the export's size in bytes (a number is valid JSON too). */
void info_size(struct info_out *out, struct conn *c);

/*
 * --has: EXIT_SUCCESS if the server agreed to the meta context c was
 * opened asking for, EXIT_FALSE if not.
 */
int info_has(struct conn *c, const char *context);

/* --uri: the URI libnbd would use to reach the export again. */
void info_uri(struct info_out *out, struct conn *c);

/*
 * The default mode: the protocol line (or JSON object) and one export.
 * c is in opt mode; exits 1 if the export cannot be reached.
 */
void info_show(struct info_out *out, struct conn *c);

/*
 * --list: every export the server lists.  A failing export gets a
 * message on stderr and is left out; returns false if any did.
 */
bool info_list(struct info_out *out, struct conn *c);

/* show.c parts that list.c repeats per export. */
void info_show_begin(struct info_out *out, const struct conn *c);
void info_show_export(struct info_out *out, struct conn *c,
    const char *desc, bool content);
void info_show_end(struct info_out *out);

/*
 * libmagic's description of the first bytes of the export (the handle
 * must be ready), or NULL when it cannot tell; the caller frees it.
 */
char *info_content(struct conn *c);

#endif
