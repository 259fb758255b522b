/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

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

void
json_str(FILE *fp, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	uint32_t cp;

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
		len = utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			fputs("\\ufffd", fp);
			i++;
			continue;
		}
		/* C1 controls: valid JSON either way, but escaped they cannot
		 * reach a terminal that would obey them. */
		if (cp >= 0x80 && cp <= 0x9f) {
			fprintf(fp, "\\u%04x", cp);
			i += len;
			continue;
		}
		fwrite(s + i, 1, len, fp);
		i += len;
	}
	fputc('"', fp);
}
