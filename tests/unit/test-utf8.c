/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8_put_printable(): what a server's strings may show on a terminal. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static const struct {
	const char *in, *want;
} cases[] = {
	{ "", "" },
	{ "plain text", "plain text" },
	{ "tab\tnl\ncr\r", "tab?nl?cr?" },
	{ "esc\x1b[31mred", "esc?[31mred" },
	{ "del\x7f", "del?" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "csi\xc2\x9b" "31m", "csi?31m" },		/* C1 CSI, one '?' */
	{ "\xc2\x80\xc2\x9f\xc2\xa0", "??\xc2\xa0" },	/* C1 edges; NBSP kept */
	{ "raw\x9b" "31m", "raw?31m" },			/* a lone C1 byte */
	{ "\xff\xfe", "??" },
	{ "\xc3", "?" },				/* truncated */
	{ "\xe2\x82x", "??x" },				/* truncated 3 */
	{ "\xc0\xaf", "??" },				/* overlong */
	{ "\xed\xa0\x80", "???" },			/* surrogate */
};

int
main(void)
{
	unsigned failed = 0;
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++) {
		char *got = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&got, &len);

		if (fp == NULL)
			err(EXIT_FAILURE, "open_memstream");
		utf8_put_printable(fp, cases[i].in);
		if (fclose(fp) != 0)
			err(EXIT_FAILURE, "fclose");
		if (strcmp(got, cases[i].want) != 0) {
			printf("FAIL case %zu: got \"%s\", want \"%s\"\n", i,
			    got, cases[i].want);
			failed++;
		}
		free(got);
	}
	if (failed > 0) {
		printf("test-utf8: %u failures\n", failed);
		return EXIT_FAILURE;
	}
	printf("test-utf8: %zu cases passed\n", n);
	return EXIT_SUCCESS;
}
