/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streaming JSON writer.  It owns the comma, indent and escaping
 * bookkeeping so no tool writes JSON by hand.  Every string goes through
 * json_str(), which escapes control characters and replaces invalid UTF-8
 * with U+FFFD, so the document is valid RFC 8259 whatever a server sends.
 * Output is pretty-printed with two-space indents, as nbdinfo does.
 */
#ifndef NBDU_JSON_H
#define NBDU_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json {
	FILE *fp;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this depth */
	bool in_array[JSON_MAX_DEPTH];
};

void json_begin(struct json *j, FILE *fp);
void json_end(struct json *j);		/* closes nothing; writes "\n" */

/* key is NULL inside arrays and for the top-level value. */
void json_object_open(struct json *j, const char *key);
void json_object_close(struct json *j);
void json_array_open(struct json *j, const char *key);
void json_array_close(struct json *j);

void json_key_str(struct json *j, const char *key, const char *s);
void json_key_strn(struct json *j, const char *key, const char *s, size_t n);
void json_key_u64(struct json *j, const char *key, uint64_t v);
void json_key_i64(struct json *j, const char *key, int64_t v);
void json_key_bool(struct json *j, const char *key, bool v);
void json_key_null(struct json *j, const char *key);
/* A number already formatted by the caller (e.g. "%g" percentages). */
void json_key_raw(struct json *j, const char *key, const char *number);

/* Writes s as a quoted, escaped JSON string. */
void json_str(FILE *fp, const char *s, size_t n);

#endif
