/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --can, --is and --has: one yes/no question, answered by the exit
 * status so scripts need not parse anything.  --can and --is share one
 * table, as in nbdinfo, so "--can read-only" and "--is rotational" work
 * too; --cannot, --isnt and --hasnt only swap the answer (main.c).
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "cli.h"
#include "conn.h"
#include "info.h"

/* Every spelling nbdinfo 1.14 accepts, after normalising separators. */
static const struct {
	const char *word;
	int question;
} words[] = {
	{ "block-status", INFO_CAN_BLOCK_STATUS },
	{ "cache", INFO_CAN_CACHE },
	{ "connect", INFO_CAN_CONNECT },
	{ "df", INFO_CAN_DF },
	{ "fast-zero", INFO_CAN_FAST_ZERO },
	{ "fastzero", INFO_CAN_FAST_ZERO },
	{ "flush", INFO_CAN_FLUSH },
	{ "fua", INFO_CAN_FUA },
	{ "multi-conn", INFO_CAN_MULTI_CONN },
	{ "multiconn", INFO_CAN_MULTI_CONN },
	{ "read", INFO_CAN_CONNECT },
	{ "read-only", INFO_CAN_READ_ONLY },
	{ "readonly", INFO_CAN_READ_ONLY },
	{ "rotational", INFO_CAN_ROTATIONAL },
	{ "sr", INFO_CAN_SR },
	{ "structured", INFO_CAN_SR },
	{ "structured-replies", INFO_CAN_SR },
	{ "structured-reply", INFO_CAN_SR },
	{ "tls", INFO_CAN_TLS },
	{ "trim", INFO_CAN_TRIM },
	{ "write", INFO_CAN_WRITE },
	{ "zero", INFO_CAN_ZERO },
};

int
info_can_lookup(const char *word)
{
	char norm[32];
	size_t n = strlen(word);

	if (n >= sizeof(norm))
		return -1;
	for (size_t i = 0; i <= n; i++)
		norm[i] = word[i] == '_' || word[i] == ' ' ? '-' :
		    tolower((unsigned char)word[i]);
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcmp(norm, words[i].word) == 0)
			return words[i].question;
	return -1;
}

/* libnbd's answer: 1 yes, 0 no, -1 error (the server did not say). */
static int
ask(struct conn *c, int question)
{
	struct nbd_handle *h = c->h;
	int r;

	switch (question) {
	case INFO_CAN_CONNECT:	return 1;	/* conn_open got this far */
	case INFO_CAN_TLS:	return c->tls;
	case INFO_CAN_SR:	return c->sr;
	case INFO_CAN_READ_ONLY: return nbd_is_read_only(h);
	case INFO_CAN_WRITE:
		r = nbd_is_read_only(h);
		return r == -1 ? -1 : !r;
	case INFO_CAN_ROTATIONAL: return nbd_is_rotational(h);
	case INFO_CAN_CACHE:	return nbd_can_cache(h);
	case INFO_CAN_DF:	return nbd_can_df(h);
	case INFO_CAN_FAST_ZERO: return nbd_can_fast_zero(h);
	case INFO_CAN_FLUSH:	return nbd_can_flush(h);
	case INFO_CAN_FUA:	return nbd_can_fua(h);
	case INFO_CAN_MULTI_CONN: return nbd_can_multi_conn(h);
	case INFO_CAN_TRIM:	return nbd_can_trim(h);
	case INFO_CAN_ZERO:	return nbd_can_zero(h);
	case INFO_CAN_BLOCK_STATUS: return conn_can_extents(c);
	}
	errx(EXIT_FAILURE, "unknown question %d", question);
}

int
info_can(struct conn *c, int question)
{
	int r = ask(c, question);

	if (r == -1)
		conn_die(c);
	return r ? EXIT_SUCCESS : EXIT_FALSE;
}

int
info_has(struct conn *c, const char *context)
{
	return c->sr && conn_has_context(c, context) ? EXIT_SUCCESS :
	    EXIT_FALSE;
}
