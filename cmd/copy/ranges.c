/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --ranges=FILE parsing.  The two formats are told apart by their first
 * character that is not blank: "[" starts nbd-stat-map's JSON, anything
 * else is the line format.  Every error names the line it is on, so a
 * long list saved by a script can be fixed by hand.
 *
 * The JSON reader knows just the shape nbd-stat-map prints (an array of
 * flat objects); keys other than offset, length and type are skipped,
 * so a map with descriptions, or one from a newer version, still reads.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "size.h"
#include "ranges.h"

#define TOKEN_MAX	64	/* longest number with suffix we accept */

struct parser {
	const char *p, *end;
	unsigned line;
	const struct ranges_opts *o;
	struct rangeset *out;
	char *err;
};

static PRINTF(2, 3) int
fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ps->err, RANGES_ERR_MAX, "%s:%u: ", ps->o->name,
	    ps->line);
	if (n < 0 || n >= RANGES_ERR_MAX)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, RANGES_ERR_MAX - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A range must lie inside the source; len 0 adds nothing. */
static int
add_range(struct parser *ps, uint64_t off, uint64_t len)
{
	if (off > ps->o->size || len > ps->o->size - off)
		return fail(ps, "range %" PRIu64 "+%" PRIu64 " ends past the "
		    "end of the source (%" PRIu64 " bytes)", off, len,
		    ps->o->size);
	if (rangeset_add(ps->out, off, len) == -1)
		return fail(ps, "%s", strerror(errno));
	return 0;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* ---- the line format ---- */

/* The next word of the line into tok; false at the end of the line. */
static bool
next_word(const char **p, const char *eol, char tok[TOKEN_MAX + 1],
    bool *too_long)
{
	size_t n = 0;

	while (*p < eol && is_blank(**p))
		(*p)++;
	*too_long = false;
	if (*p == eol || **p == '#')
		return false;
	for (; *p < eol && !is_blank(**p) && **p != '#'; (*p)++) {
		if (n == TOKEN_MAX) {
			*too_long = true;
			continue;
		}
		tok[n++] = **p;
	}
	tok[n] = '\0';
	return true;
}

static int
parse_number(struct parser *ps, const char *what, const char *tok,
    bool too_long, uint64_t *v)
{
	if (too_long || size_parse(tok, v) == -1)
		return fail(ps, "%s '%s%s' is not a size", what, tok,
		    too_long ? "..." : "");
	return 0;
}

static int
parse_line(struct parser *ps, const char *eol)
{
	char a[TOKEN_MAX + 1], b[TOKEN_MAX + 1], c[TOKEN_MAX + 1];
	bool la, lb, lc;
	uint64_t off, len;

	if (!next_word(&ps->p, eol, a, &la))
		return 0;	/* blank or a comment */
	if (!next_word(&ps->p, eol, b, &lb))
		return fail(ps, "expected OFFSET LENGTH, got only '%s'", a);
	if (next_word(&ps->p, eol, c, &lc))
		return fail(ps, "expected OFFSET LENGTH, got more: '%s'", c);
	if (parse_number(ps, "offset", a, la, &off) == -1 ||
	    parse_number(ps, "length", b, lb, &len) == -1)
		return -1;
	return add_range(ps, off, len);
}

static int
parse_lines(struct parser *ps)
{
	if (ps->o->type >= 0)
		return fail(ps, "--ranges-type needs the JSON of "
		    "nbd-stat-map --json, not OFFSET LENGTH lines");
	while (ps->p < ps->end) {
		const char *eol = memchr(ps->p, '\n', ps->end - ps->p);

		if (eol == NULL)
			eol = ps->end;
		if (memchr(ps->p, '\0', eol - ps->p) != NULL)
			return fail(ps, "a NUL byte: not a text file");
		if (parse_line(ps, eol) == -1)
			return -1;
		ps->p = eol < ps->end ? eol + 1 : eol;
		ps->line++;
	}
	return 0;
}

/* ---- nbd-stat-map's JSON ---- */

static void
skip_space(struct parser *ps)
{
	for (; ps->p < ps->end; ps->p++) {
		if (*ps->p == '\n')
			ps->line++;
		else if (!is_blank(*ps->p))
			return;
	}
}

/* Consumes c after blanks; false (nothing consumed) if it is not next. */
static bool
accept(struct parser *ps, char c)
{
	skip_space(ps);
	if (ps->p == ps->end || *ps->p != c)
		return false;
	ps->p++;
	return true;
}

static int
expect(struct parser *ps, char c, const char *where)
{
	if (accept(ps, c))
		return 0;
	if (ps->p == ps->end)
		return fail(ps, "JSON ends %s", where);
	return fail(ps, "expected '%c' %s, got '%c'", c, where, *ps->p);
}

/*
 * A string (escapes skipped, not decoded): key receives its first
 * bytes, enough to tell offset, length and type from anything else.
 */
static int
parse_string(struct parser *ps, char key[16])
{
	size_t n = 0;

	if (expect(ps, '"', "where a string starts") == -1)
		return -1;
	for (; ps->p < ps->end && *ps->p != '"'; ps->p++) {
		if (*ps->p == '\n')
			return fail(ps, "a string runs past the end of the line");
		if (*ps->p == '\\' && ps->p + 1 < ps->end)
			ps->p++;
		if (n < 15)
			key[n++] = *ps->p;
	}
	key[n] = '\0';
	return expect(ps, '"', "inside a string");
}

/* A non-negative integer, the only numbers nbd-stat-map prints. */
static int
parse_u64(struct parser *ps, const char *key, uint64_t *v)
{
	const char *start;

	skip_space(ps);
	start = ps->p;
	*v = 0;
	for (; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++) {
		unsigned d = *ps->p - '0';

		if (*v > (UINT64_MAX - d) / 10)
			return fail(ps, "\"%s\" is too large", key);
		*v = *v * 10 + d;
	}
	if (ps->p == start)
		return fail(ps, "\"%s\" is not a non-negative integer", key);
	return 0;
}

/* Any other scalar: a string, a number, true, false or null. */
static int
skip_value(struct parser *ps)
{
	char ignored[16];

	skip_space(ps);
	if (ps->p < ps->end && *ps->p == '"')
		return parse_string(ps, ignored);
	if (ps->p < ps->end && (*ps->p == '{' || *ps->p == '['))
		return fail(ps, "unexpected nested value");
	while (ps->p < ps->end && strchr("+-.0123456789eEtrufalsn",
	    *ps->p) != NULL)
		ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p != ',' && *ps->p != '}')
		return fail(ps, "unexpected '%c'", *ps->p);
	return 0;
}

struct jextent {
	uint64_t offset, length, type;
	bool has_offset, has_length, has_type;
};

static int
parse_member(struct parser *ps, struct jextent *e)
{
	char key[16];

	if (parse_string(ps, key) == -1 ||
	    expect(ps, ':', "after a key") == -1)
		return -1;
	if (strcmp(key, "offset") == 0) {
		e->has_offset = true;
		return parse_u64(ps, key, &e->offset);
	}
	if (strcmp(key, "length") == 0) {
		e->has_length = true;
		return parse_u64(ps, key, &e->length);
	}
	if (strcmp(key, "type") == 0) {
		e->has_type = true;
		return parse_u64(ps, key, &e->type);
	}
	return skip_value(ps);
}

static int
parse_object(struct parser *ps)
{
	struct jextent e = { 0 };
	unsigned line, here;
	int rc = 0;

	if (expect(ps, '{', "where an extent starts") == -1)
		return -1;
	line = ps->line;
	if (!accept(ps, '}')) {
		do {
			if (parse_member(ps, &e) == -1)
				return -1;
		} while (accept(ps, ','));
		if (expect(ps, '}', "after a member") == -1)
			return -1;
	}
	/* Errors about the extent as a whole name the line it starts on. */
	here = ps->line;
	ps->line = line;
	if (!e.has_offset || !e.has_length)
		rc = fail(ps, "an extent without \"offset\" and \"length\"");
	else if (ps->o->type >= 0 && !e.has_type)
		rc = fail(ps, "an extent without \"type\"");
	else if (ps->o->type < 0 || e.type == (uint64_t)ps->o->type)
		rc = add_range(ps, e.offset, e.length);
	ps->line = here;
	return rc;
}

static int
parse_json(struct parser *ps)
{
	if (expect(ps, '[', "where the array starts") == -1)
		return -1;
	if (!accept(ps, ']')) {
		do {
			if (parse_object(ps) == -1)
				return -1;
		} while (accept(ps, ','));
		if (expect(ps, ']', "after an extent") == -1)
			return -1;
	}
	skip_space(ps);
	if (ps->p != ps->end)
		return fail(ps, "unexpected '%c' after the array", *ps->p);
	return 0;
}

int
ranges_parse(const char *text, size_t len, const struct ranges_opts *o,
    struct rangeset *out, char err[RANGES_ERR_MAX])
{
	struct parser ps = { .p = text, .end = text + len, .line = 1, .o = o,
	    .out = out, .err = err };
	struct parser probe = ps;

	err[0] = '\0';
	skip_space(&probe);
	if (probe.p < probe.end && *probe.p == '[')
		return parse_json(&ps);
	return parse_lines(&ps);
}

/* The whole of fp into a buffer; NULL with errno set. */
static char *
slurp(FILE *fp, size_t *len)
{
	size_t cap = 0, n = 0, got;
	char *buf = NULL;

	do {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp)) {
		free(buf);
		errno = errno ? errno : EIO;
		return NULL;
	}
	*len = n;
	return buf;
}

void
ranges_load_or_die(const char *path, const struct ranges_opts *o,
    struct rangeset *out)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "r");
	char msg[RANGES_ERR_MAX];
	size_t len;
	char *text;
	int rc;

	if (fp == NULL)
		err(EXIT_FAILURE, "--ranges: %s", path);
	errno = 0;
	text = slurp(fp, &len);
	if (text == NULL)
		err(EXIT_FAILURE, "--ranges: %s", o->name);
	if (!is_stdin)
		fclose(fp);
	rc = ranges_parse(text, len, o, out, msg);
	free(text);
	if (rc == -1)
		errx(EXIT_FAILURE, "%s", msg);
}
