/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "uri.h"

static const char *const schemes[] = {
	"nbd://", "nbds://", "nbd+unix://", "nbds+unix://",
	"nbd+vsock://", "nbds+vsock://",
};

bool
uri_is_nbd(const char *s)
{
	for (size_t k = 0; k < ARRAY_SIZE(schemes); k++)
		if (strncmp(s, schemes[k], strlen(schemes[k])) == 0)
			return true;
	return false;
}

const char *
uri_param(const char *uri, const char *name, size_t *len)
{
	const char *q = strchr(uri, '?');
	size_t n = strlen(name);

	while (q != NULL && (*q == '?' || *q == '&' || *q == ';')) {
		q++;
		*len = strcspn(q, "&;#");
		if (strncmp(q, name, n) == 0 && q[n] == '=') {
			*len -= n + 1;
			return q + n + 1;
		}
		q += *len;
	}
	return NULL;
}

/*
 * uri with the password of its userinfo replaced by ":" with, or dropped
 * with its ':' when with is NULL.  The last '@' before the path ends the
 * userinfo: a password may hold '@' too.
 */
static char *
rewrite_password(const char *uri, const char *with)
{
	const char *auth, *end, *at, *colon;
	char *out;

	auth = strstr(uri, "://");
	if (auth == NULL)
		return strdup(uri);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = memrchr(auth, '@', end - auth);
	colon = at != NULL ? memchr(auth, ':', at - auth) : NULL;
	if (colon == NULL)
		return strdup(uri);
	if (asprintf(&out, "%.*s%s%s%s", (int)(colon - uri), uri,
	    with != NULL ? ":" : "", with != NULL ? with : "", at) == -1)
		return NULL;
	return out;
}

char *
uri_redact(const char *uri)
{
	return rewrite_password(uri, "***");
}

char *
uri_drop_password(const char *uri)
{
	return rewrite_password(uri, NULL);
}

char *
uri_unix_socket(const char *path)
{
	static const char prefix[] = "nbd+unix:///?socket=";
	static const char keep[] = "-._~/";
	char *out = malloc(sizeof(prefix) + 3 * strlen(path));
	char *w;

	if (out == NULL)
		return NULL;
	w = stpcpy(out, prefix);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (isalnum(*p) || strchr(keep, *p) != NULL)
			*w++ = *p;
		else
			w += sprintf(w, "%%%02X", *p);
	}
	*w = '\0';
	return out;
}

bool
uri_is_host_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t host = colon != NULL ? (size_t)(colon - s) : 0;

	if (host == 0 || colon[1] == '\0' ||
	    colon[1 + strspn(colon + 1, "0123456789")] != '\0')
		return false;
	if (s[0] == '[')
		return s[host - 1] == ']' && host > 2 &&
		    strspn(s + 1, "0123456789abcdefABCDEF:.") == host - 2;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-") == host;
}
