/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void
json_begin(struct json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
	j->first[0] = true;
}

void
json_end(struct json *j)
{
	fputc('\n', j->fp);
}

static void
indent(struct json *j)
{
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->fp);
}

/* Writes the separator, indent and key that precede any value. */
static void
member(struct json *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->first[j->depth] ? "\n" : ",\n", j->fp);
		indent(j);
	}
	j->first[j->depth] = false;
	if (key != NULL) {
		json_str(j->fp, key, strlen(key));
		fputs(": ", j->fp);
	}
}

static void
open_container(struct json *j, const char *key, char c, bool array)
{
	member(j, key);
	fputc(c, j->fp);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
	j->in_array[j->depth] = array;
}

static void
close_container(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty) {
		fputc('\n', j->fp);
		indent(j);
	}
	fputc(c, j->fp);
}

void
json_object_open(struct json *j, const char *key)
{
	open_container(j, key, '{', false);
}

void
json_object_close(struct json *j)
{
	close_container(j, '}');
}

void
json_array_open(struct json *j, const char *key)
{
	open_container(j, key, '[', true);
}

void
json_array_close(struct json *j)
{
	close_container(j, ']');
}

void
json_key_str(struct json *j, const char *key, const char *s)
{
	json_key_strn(j, key, s, strlen(s));
}

void
json_key_strn(struct json *j, const char *key, const char *s, size_t n)
{
	member(j, key);
	json_str(j->fp, s, n);
}

void
json_key_u64(struct json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->fp, "%" PRIu64, v);
}

void
json_key_i64(struct json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->fp, "%" PRIi64, v);
}

void
json_key_bool(struct json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->fp);
}

void
json_key_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->fp);
}

void
json_key_raw(struct json *j, const char *key, const char *number)
{
	member(j, key);
	fputs(number, j->fp);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one: overlong forms, surrogates and code points
 * above U+10FFFF are invalid too, as RFC 3629 says.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; cp = s[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
json_str(FILE *fp, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	fputc('"', fp);
	while (i < n) {
		unsigned char c = s[i];

		switch (c) {
		case '"': fputs("\\\"", fp); i++; continue;
		case '\\': fputs("\\\\", fp); i++; continue;
		case '\b': fputs("\\b", fp); i++; continue;
		case '\f': fputs("\\f", fp); i++; continue;
		case '\n': fputs("\\n", fp); i++; continue;
		case '\r': fputs("\\r", fp); i++; continue;
		case '\t': fputs("\\t", fp); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
			i++;
			continue;
		}
		len = utf8_len(s + i, n - i);
		if (len == 0) {
			fputs("\\ufffd", fp);
			i++;
			continue;
		}
		fwrite(s + i, 1, len, fp);
		i += len;
	}
	fputc('"', fp);
}
