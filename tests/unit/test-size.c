/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * size_parse and size_human against tables (SPEC 1.3): every suffix in
 * both cases, the INT64_MAX edge, overflow by digits and by suffix,
 * negatives, fractions, signs, hex, garbage and the empty string.  Any
 * size_human output must parse back to the same number.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

#define OK(s, v)	{ s, 0, v }
#define BAD(s, e)	{ s, e, 0 }

static const struct {
	const char *in;
	int err;		/* 0: parses to want; else the errno */
	uint64_t want;
} parse_cases[] = {
	OK("0", 0),
	OK("1", 1),
	OK("007", 7),
	OK("1024", 1024),
	OK("1b", 1), OK("1B", 1),
	OK("1s", 512), OK("1S", 512), OK("3s", 1536),
	OK("1k", 1024), OK("1K", 1024),
	OK("1m", 1048576), OK("1M", 1048576),
	OK("1g", UINT64_C(1) << 30), OK("1G", UINT64_C(1) << 30),
	OK("1t", UINT64_C(1) << 40), OK("1T", UINT64_C(1) << 40),
	OK("1p", UINT64_C(1) << 50), OK("1P", UINT64_C(1) << 50),
	OK("1e", UINT64_C(1) << 60), OK("1E", UINT64_C(1) << 60),
	OK("7E", UINT64_C(7) << 60),
	OK("0E", 0),
	OK("9223372036854775807", INT64_MAX),
	OK("8191P", UINT64_C(8191) << 50),
	OK("18014398509481983s", UINT64_C(18014398509481983) << 9),
	BAD("9223372036854775808", ERANGE),
	BAD("18446744073709551615", ERANGE),
	BAD("18446744073709551616", ERANGE),
	BAD("99999999999999999999999", ERANGE),
	BAD("8E", ERANGE),
	BAD("8192P", ERANGE),
	BAD("18014398509481984s", ERANGE),
	BAD("9223372036854775807k", ERANGE),
	BAD("", EINVAL),
	BAD("-1", EINVAL),
	BAD("-0", EINVAL),
	BAD("+1", EINVAL),
	BAD(" 1", EINVAL),
	BAD("1 ", EINVAL),
	BAD("1 k", EINVAL),
	BAD("1.5", EINVAL),
	BAD("1.5M", EINVAL),
	BAD("0x10", EINVAL),
	BAD("k", EINVAL),
	BAD("M1", EINVAL),
	BAD("1kb", EINVAL),
	BAD("1KiB", EINVAL),
	BAD("1x", EINVAL),
	BAD("1Z", EINVAL),
	BAD("10abc", EINVAL),
	BAD("abc", EINVAL),
	BAD("1\n", EINVAL),
};

static const struct {
	uint64_t in;
	const char *want;	/* as nbdinfo's export-size-str */
} human_cases[] = {
	{ 0, "0" },
	{ 1, "1" },
	{ 512, "512" },
	{ 1000, "1000" },
	{ 1023, "1023" },
	{ 1024, "1K" },
	{ 1536, "1536" },
	{ 2048, "2K" },
	{ 1048575, "1048575" },
	{ 1048576, "1M" },
	{ 1049600, "1025K" },
	{ UINT64_C(3) << 30, "3G" },
	{ UINT64_C(1) << 40, "1T" },
	{ UINT64_C(1) << 50, "1P" },
	{ UINT64_C(1) << 60, "1E" },
	{ UINT64_C(7) << 60, "7E" },
	{ UINT64_C(1) << 63, "8E" },
	{ INT64_MAX, "9223372036854775807" },
	{ UINT64_MAX, "18446744073709551615" },
};

int
main(void)
{
	char buf[SIZE_HUMAN_MAX];
	unsigned failed = 0;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	    i++) {
		uint64_t got = UINT64_C(0xdeadbeef);
		int r;

		errno = 0;
		r = size_parse(parse_cases[i].in, &got);
		if (parse_cases[i].err == 0 &&
		    (r != 0 || got != parse_cases[i].want)) {
			printf("FAIL size_parse(\"%s\"): r=%d got %" PRIu64
			    ", want %" PRIu64 "\n", parse_cases[i].in, r, got,
			    parse_cases[i].want);
			failed++;
		}
		if (parse_cases[i].err != 0 &&
		    (r != -1 || errno != parse_cases[i].err ||
		    got != UINT64_C(0xdeadbeef))) {
			printf("FAIL size_parse(\"%s\"): r=%d errno=%d, "
			    "want -1 errno=%d, output untouched\n",
			    parse_cases[i].in, r, errno, parse_cases[i].err);
			failed++;
		}
	}

	for (size_t i = 0; i < sizeof(human_cases) / sizeof(human_cases[0]);
	    i++) {
		uint64_t back;

		if (size_human(buf, human_cases[i].in) != buf ||
		    strcmp(buf, human_cases[i].want) != 0) {
			printf("FAIL size_human(%" PRIu64 "): \"%s\", want "
			    "\"%s\"\n", human_cases[i].in, buf,
			    human_cases[i].want);
			failed++;
		}
		if (human_cases[i].in <= INT64_MAX &&
		    (size_parse(buf, &back) != 0 ||
		    back != human_cases[i].in)) {
			printf("FAIL size_human(%" PRIu64 ") = \"%s\" does not "
			    "parse back\n", human_cases[i].in, buf);
			failed++;
		}
	}

	if (failed > 0) {
		printf("test-size: %u failures\n", failed);
		return EXIT_FAILURE;
	}
	printf("test-size: %zu cases passed\n",
	    sizeof(parse_cases) / sizeof(parse_cases[0]) +
	    sizeof(human_cases) / sizeof(human_cases[0]));
	return EXIT_SUCCESS;
}
