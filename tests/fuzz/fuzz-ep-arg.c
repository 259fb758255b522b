/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ep_arg_parse over NUL-separated words, as a command line gives them:
 * every call either fails with a one-line reason or consumes at least
 * one word and names a valid kind; and the password of a URI-looking
 * word ("scheme://user:PASSWORD@host...") appears neither in the
 * display form nor in the error text (issue 8: secrets).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-arg.h"

#define MAX_WORDS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/*
 * The password in w, if w looks like a URI with one: from the first ':'
 * of the authority's userinfo up to the authority's last '@'.  Only
 * passwords of 4+ bytes found nowhere else in w and without a byte the
 * output adds ('*' of the redaction, the quotes around a word, '?' for
 * a control byte) are checked, so a match in the output is the password
 * itself: user "ab" with password "ab:*" is spelled by the redacted
 * "ab:***", password "'xyz" by the quoted "'xyz://...".
 */
static char *
password(const char *w)
{
	const char *auth = strstr(w, "://"), *end, *at = NULL, *colon;
	char *p;

	if (auth == NULL)
		return NULL;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL)
		return NULL;
	colon = memchr(auth, ':', at - auth);
	if (colon == NULL || at - colon - 1 < 4)
		return NULL;
	for (const char *q = colon + 1; q < at; q++)
		if (*q == '*' || *q == '\'' || *q == '?')
			return NULL;
	p = strndup(colon + 1, at - colon - 1);
	if (p == NULL)
		abort();
	/* Also present outside the userinfo: a match would prove nothing. */
	if (strstr(w, p) != colon + 1 || strstr(colon + 2, p) != NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static void
check_secret(const char *w, const char *display, const char *err)
{
	char *p = password(w);

	if (p == NULL)
		return;
	if ((display != NULL && strstr(display, p) != NULL) ||
	    (err != NULL && strstr(err, p) != NULL))
		abort();
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf = malloc(len + 1);
	const char *words[MAX_WORDS];
	int nwords = 0, i = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, len);
	buf[len] = '\0';
	for (size_t s = 0; s <= len && nwords < MAX_WORDS; ) {
		words[nwords++] = buf + s;
		s += strlen(buf + s) + 1;
	}
	while (i < nwords) {
		struct ep_arg a;
		char err[256] = "";
		int before = i;

		if (ep_arg_parse(words, nwords, &i, &a, err, sizeof(err)) == -1) {
			if (err[0] == '\0' || strchr(err, '\n') != NULL)
				abort();
			check_secret(words[before], NULL, err);
			break;
		}
		if (i <= before || i > nwords || a.display == NULL)
			abort();
		switch (a.kind) {
		case EP_ARG_CMD:
			if (a.cmd == NULL || a.cmd[0] == NULL)
				abort();
			break;
		case EP_ARG_URI:
			check_secret(a.str, a.display, NULL);
			break;
		case EP_ARG_PATH:
		case EP_ARG_STDIO:
		case EP_ARG_NULL:
			break;
		default:
			abort();
		}
		ep_arg_free(&a);
	}
	free(buf);
	return 0;
}
