/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON writer: json_str against a table of hostile strings (quotes,
 * backslashes, every kind of control character, NUL inside the length,
 * valid UTF-8 of each length, and each kind of invalid UTF-8, which must
 * become U+FFFD), then whole documents whose exact text is known, so
 * commas, indents and empty containers are checked too.
 */
#include <err.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* len 0 means strlen(in). */
static const struct {
	const char *in;
	size_t len;
	const char *want;
} str_cases[] = {
	{ "", 0, "\"\"" },
	{ "plain", 0, "\"plain\"" },
	{ "with space", 0, "\"with space\"" },
	{ "q\"uote", 0, "\"q\\\"uote\"" },
	{ "back\\slash", 0, "\"back\\\\slash\"" },
	{ "/slash", 0, "\"/slash\"" },
	{ "new\nline", 0, "\"new\\nline\"" },
	{ "tab\there", 0, "\"tab\\there\"" },
	{ "cr\rlf\n", 0, "\"cr\\rlf\\n\"" },
	{ "\b\f", 0, "\"\\b\\f\"" },
	{ "\x01\x1f", 0, "\"\\u0001\\u001f\"" },
	{ "esc\x1b[31m", 0, "\"esc\\u001b[31m\"" },
	{ "del\x7f", 0, "\"del\\u007f\"" },
	{ "nul\0in", 6, "\"nul\\u0000in\"" },
	{ "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"" },			/* 2 bytes */
	{ "\xe2\x82\xac", 0, "\"\xe2\x82\xac\"" },			/* 3: euro */
	{ "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\"" },		/* 4: emoji */
	{ "\xef\xbf\xbf", 0, "\"\xef\xbf\xbf\"" },			/* U+FFFF */
	{ "\xf4\x8f\xbf\xbf", 0, "\"\xf4\x8f\xbf\xbf\"" },		/* U+10FFFF */
	{ "\xff", 0, "\"\\ufffd\"" },				/* never valid */
	{ "\x80x", 0, "\"\\ufffdx\"" },				/* lone continuation */
	{ "\xc3", 0, "\"\\ufffd\"" },				/* truncated at end */
	{ "\xc3x", 0, "\"\\ufffdx\"" },				/* truncated */
	{ "\xe2\x82", 0, "\"\\ufffd\\ufffd\"" },		/* truncated 3 */
	{ "\xc0\xaf", 0, "\"\\ufffd\\ufffd\"" },		/* overlong '/' */
	{ "\xe0\x80\xaf", 0, "\"\\ufffd\\ufffd\\ufffd\"" },	/* overlong */
	{ "\xed\xa0\x80", 0, "\"\\ufffd\\ufffd\\ufffd\"" },	/* surrogate */
	{ "\xf4\x90\x80\x80", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* >10FFFF */
	{ "\xf8\x88\x80\x80\x80", 0,
	  "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },		/* 5-byte form */
	{ "a\xc3\xa9\xff\"\n", 0, "\"a\xc3\xa9\\ufffd\\\"\\n\"" },
	{ "\xc2\x80\xc2\x9b[m\xc2\x9f", 0,
	  "\"\\u0080\\u009b[m\\u009f\"" },			/* C1 */
	{ "\xc2\xa0\xc2\x7f", 0, "\"\xc2\xa0\\ufffd\\u007f\"" },	/* not C1 */
};

/* Builds one document into a memstream; returns its text. */
typedef void (*doc_fn)(struct json *j);

static void
doc_empty_object(struct json *j)
{
	json_object_open(j, NULL);
	json_object_close(j);
}

static void
doc_scalars(struct json *j)
{
	json_object_open(j, NULL);
	json_key_str(j, "s", "v");
	json_key_strn(j, "n", "ab\0c", 4);
	json_key_u64(j, "u", UINT64_MAX);
	json_key_i64(j, "i", INT64_MIN);
	json_key_bool(j, "t", true);
	json_key_bool(j, "f", false);
	json_key_null(j, "z");
	json_key_raw(j, "r", "1.5");
	json_key_str(j, "k\"ey\n", "");
	json_object_close(j);
}

static void
doc_nested(struct json *j)
{
	json_object_open(j, NULL);
	json_key_str(j, "protocol", "newstyle-fixed");
	json_array_open(j, "exports");
	json_object_open(j, NULL);
	json_key_str(j, "export-name", "a");
	json_array_open(j, "contexts");
	json_key_str(j, NULL, "base:allocation");
	json_key_str(j, NULL, "qemu:dirty-bitmap:b");
	json_array_close(j);
	json_object_close(j);
	json_object_open(j, NULL);
	json_array_open(j, "contexts");
	json_array_close(j);
	json_object_close(j);
	json_array_close(j);
	json_array_open(j, "empty");
	json_array_close(j);
	json_object_close(j);
}

static void
doc_top_array(struct json *j)
{
	json_array_open(j, NULL);
	json_key_u64(j, NULL, 1);
	json_array_open(j, NULL);
	json_array_close(j);
	json_object_open(j, NULL);
	json_object_close(j);
	json_array_close(j);
}

static void
doc_top_scalar(struct json *j)
{
	json_key_u64(j, NULL, 1048576);
}

static const struct {
	const char *name;
	doc_fn fn;
	const char *want;
} doc_cases[] = {
	{ "empty object", doc_empty_object, "{}\n" },
	{ "scalars", doc_scalars,
	  "{\n"
	  "  \"s\": \"v\",\n"
	  "  \"n\": \"ab\\u0000c\",\n"
	  "  \"u\": 18446744073709551615,\n"
	  "  \"i\": -9223372036854775808,\n"
	  "  \"t\": true,\n"
	  "  \"f\": false,\n"
	  "  \"z\": null,\n"
	  "  \"r\": 1.5,\n"
	  "  \"k\\\"ey\\n\": \"\"\n"
	  "}\n" },
	{ "nested", doc_nested,
	  "{\n"
	  "  \"protocol\": \"newstyle-fixed\",\n"
	  "  \"exports\": [\n"
	  "    {\n"
	  "      \"export-name\": \"a\",\n"
	  "      \"contexts\": [\n"
	  "        \"base:allocation\",\n"
	  "        \"qemu:dirty-bitmap:b\"\n"
	  "      ]\n"
	  "    },\n"
	  "    {\n"
	  "      \"contexts\": []\n"
	  "    }\n"
	  "  ],\n"
	  "  \"empty\": []\n"
	  "}\n" },
	{ "top-level array", doc_top_array,
	  "[\n"
	  "  1,\n"
	  "  [],\n"
	  "  {}\n"
	  "]\n" },
	{ "top-level scalar", doc_top_scalar, "1048576\n" },
};

/* Runs fn (or json_str on s/n) into memory; the caller frees. */
static char *
capture(doc_fn fn, const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct json j;

	if (fp == NULL)
		err(EXIT_FAILURE, "open_memstream");
	if (fn != NULL) {
		json_begin(&j, fp);
		fn(&j);
		json_end(&j);
	} else
		json_str(fp, s, n);
	if (fclose(fp) != 0)
		err(EXIT_FAILURE, "fclose");
	return buf;
}

int
main(void)
{
	unsigned failed = 0;
	size_t nstr = sizeof(str_cases) / sizeof(str_cases[0]);
	size_t ndoc = sizeof(doc_cases) / sizeof(doc_cases[0]);

	for (size_t i = 0; i < nstr; i++) {
		size_t n = str_cases[i].len ? str_cases[i].len :
		    strlen(str_cases[i].in);
		char *got = capture(NULL, str_cases[i].in, n);

		if (strcmp(got, str_cases[i].want) != 0) {
			printf("FAIL json_str case %zu: got %s, want %s\n",
			    i, got, str_cases[i].want);
			failed++;
		}
		free(got);
	}
	for (size_t i = 0; i < ndoc; i++) {
		char *got = capture(doc_cases[i].fn, NULL, 0);

		if (strcmp(got, doc_cases[i].want) != 0) {
			printf("FAIL document \"%s\":\n--- got\n%s--- want\n%s",
			    doc_cases[i].name, got, doc_cases[i].want);
			failed++;
		}
		free(got);
	}
	if (failed > 0) {
		printf("test-json: %u failures\n", failed);
		return EXIT_FAILURE;
	}
	printf("test-json: %zu cases passed\n", nstr + ndoc);
	return EXIT_SUCCESS;
}
