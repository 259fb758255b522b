/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --ranges parsing: both formats give the merged set, and every bad
 * input is refused with the line it is on, so a test pins each message
 * a user would see.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ranges.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "test-ranges: %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

#define SIZE	(1ULL << 20)

/* Parses text with --ranges-type type; err is the message or "". */
static int
parse(const char *text, int64_t type, struct rangeset *s,
    char err[RANGES_ERR_MAX])
{
	struct ranges_opts o = { .name = "r.txt", .size = SIZE, .type = type };

	rangeset_clear(s);
	return ranges_parse(text, strlen(text), &o, s, err);
}

/* The set as "off+len,off+len", for comparing with one string. */
static const char *
show(const struct rangeset *s)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%" PRIu64 "+%"
		    PRIu64, i ? "," : "", s->r[i].off, s->r[i].len);
	return buf;
}

static void
expect_ok(const char *text, int64_t type, const char *want)
{
	struct rangeset s = { 0 };
	char err[RANGES_ERR_MAX];

	CHECK(parse(text, type, &s, err) == 0, "'%s': %s", text, err);
	CHECK(strcmp(show(&s), want) == 0, "'%s': got %s, want %s", text,
	    show(&s), want);
	rangeset_free(&s);
}

static void
expect_err(const char *text, int64_t type, const char *want)
{
	struct rangeset s = { 0 };
	char err[RANGES_ERR_MAX];

	CHECK(parse(text, type, &s, err) == -1, "'%s' accepted", text);
	CHECK(strcmp(err, want) == 0, "'%s': got '%s', want '%s'", text, err,
	    want);
	rangeset_free(&s);
}

static void
lines(void)
{
	expect_ok("", -1, "");
	expect_ok("0 4096\n", -1, "0+4096");
	expect_ok("# saved\n\n  4k 4k  # the second\n0 4k\n", -1, "0+8192");
	expect_ok("8k 8k\n0 12k\n", -1, "0+16384");
	expect_ok("1020k 4k", -1, "1044480+4096");
	expect_ok("64k\t4k\r\n0 1s\n", -1, "0+512,65536+4096");
	expect_ok("100 0\n", -1, "");
	expect_ok("0 1M\n", -1, "0+1048576");
	expect_err("0\n", -1, "r.txt:1: expected OFFSET LENGTH, got only '0'");
	expect_err("\n0 1 2\n", -1,
	    "r.txt:2: expected OFFSET LENGTH, got more: '2'");
	expect_err("# x\n\nfoo 1\n", -1, "r.txt:3: offset 'foo' is not a size");
	expect_err("0 -1\n", -1, "r.txt:1: length '-1' is not a size");
	expect_err("0 1M\n1 1M\n", -1, "r.txt:2: range 1+1048576 ends past "
	    "the end of the source (1048576 bytes)");
	expect_err("2M 0\n", -1, "r.txt:1: range 2097152+0 ends past the end "
	    "of the source (1048576 bytes)");
	expect_err("0 1\n", 1, "r.txt:1: --ranges-type needs the JSON of "
	    "nbd-stat-map --json, not OFFSET LENGTH lines");
}

static const char map[] =
    "[\n"
    "{\n"
    "  \"offset\": 0,\n"
    "  \"length\": 65536,\n"
    "  \"type\": 0,\n"
    "  \"description\": \"clean\"\n"
    "},\n"
    "{\n"
    "  \"offset\": 65536,\n"
    "  \"length\": 4096,\n"
    "  \"type\": 1,\n"
    "  \"description\": \"dirty \\\"x\\\"\"\n"
    "},\n"
    "{ \"offset\": 131072, \"length\": 8192, \"type\": 1, \"x\": null }\n"
    "]\n";

static void
json(void)
{
	expect_ok(map, -1, "0+69632,131072+8192");
	expect_ok(map, 1, "65536+4096,131072+8192");
	expect_ok(map, 3, "");
	expect_ok(" [ ] ", -1, "");
	expect_ok("[{\"length\":1,\"offset\":2,\"flags\":-1.5e3}]", -1, "2+1");
	expect_err("[\n{\"offset\": 0}\n]", -1,
	    "r.txt:2: an extent without \"offset\" and \"length\"");
	expect_err("[\n{\"offset\": 0,\n \"length\": 1}\n]", 1,
	    "r.txt:2: an extent without \"type\"");
	expect_err("[\n{\"offset\": 0, \"length\": 2M}\n]", -1,
	    "r.txt:2: expected '}' after a member, got 'M'");
	expect_err("[\n\n{\"offset\": 1048575,\n\"length\": 2}]", -1,
	    "r.txt:3: range 1048575+2 ends past the end of the source "
	    "(1048576 bytes)");
	expect_err("[{\"offset\": -1, \"length\": 1}]", -1,
	    "r.txt:1: \"offset\" is not a non-negative integer");
	expect_err("[{\"offset\": 99999999999999999999, \"length\": 1}]", -1,
	    "r.txt:1: \"offset\" is too large");
	expect_err("[{\"offset\": 0, \"length\": 1}", -1,
	    "r.txt:1: JSON ends after an extent");
	expect_err("[{\"offset\": 0, \"length\": 1}] x", -1,
	    "r.txt:1: unexpected 'x' after the array");
	expect_err("[{\"a\": [1]}]", -1, "r.txt:1: unexpected nested value");
	expect_err("[\n{\"a\n\": 1}]", -1,
	    "r.txt:2: a string runs past the end of the line");
}

int
main(void)
{
	lines();
	json();
	if (failures) {
		fprintf(stderr, "test-ranges: %d failures\n", failures);
		return 1;
	}
	printf("test-ranges: ok\n");
	return 0;
}
