/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NBD URIs as text: which words are one, their query parameters, and
 * the password of the userinfo, which NBD has no use for and which must
 * never reach a message or libnbd.  Connecting is conn.c's job.
 */
#ifndef NBDU_URI_H
#define NBDU_URI_H

#include <stdbool.h>
#include <stddef.h>

/* True if s starts with one of the NBD URI schemes libnbd reads. */
bool uri_is_nbd(const char *s);

/*
 * The value of query parameter name in uri, still %-escaped, or NULL;
 * *len gets its length.
 */
const char *uri_param(const char *uri, const char *name, size_t *len);

/*
 * A copy of uri with any password in the userinfo replaced by "***",
 * for error messages and display.  NULL when out of memory; the caller
 * frees it.
 */
char *uri_redact(const char *uri);

/* A copy of uri without the password (nor its ':'); as uri_redact. */
char *uri_drop_password(const char *uri);

/*
 * "nbd+unix:///?socket=PATH" with PATH %-escaped where a URI needs it,
 * for suggesting to a user who gave a socket's path.  NULL when out of
 * memory; the caller frees it.
 */
char *uri_unix_socket(const char *path);

/* True for "HOST:PORT" or "[ADDR]:PORT", what "nbd://" would complete. */
bool uri_is_host_port(const char *s);

#endif
