/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Size parsing follows nbdkit_parse_size: digits only (no sign, no
 * fraction, no "0x"), so "-1" and "10abc" are rejected instead of being
 * wrapped or truncated as sscanf would.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

static int
suffix_shift(char c, unsigned *shift)
{
	switch (tolower((unsigned char)c)) {
	case 'b': *shift = 0; return 0;
	case 's': *shift = 9; return 0;
	case 'k': *shift = 10; return 0;
	case 'm': *shift = 20; return 0;
	case 'g': *shift = 30; return 0;
	case 't': *shift = 40; return 0;
	case 'p': *shift = 50; return 0;
	case 'e': *shift = 60; return 0;
	}
	return -1;
}

int
size_parse(const char *s, uint64_t *out)
{
	uint64_t n = 0;
	unsigned shift = 0;
	const char *p = s;

	if (*p == '\0' || !isdigit((unsigned char)*p)) {
		errno = EINVAL;
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = *p - '0';

		if (n > ((uint64_t)INT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + d;
	}
	if (*p != '\0') {
		if (suffix_shift(*p, &shift) == -1 || p[1] != '\0') {
			errno = EINVAL;
			return -1;
		}
	}
	if (shift > 0 && n > (uint64_t)INT64_MAX >> shift) {
		errno = ERANGE;
		return -1;
	}
	*out = n << shift;
	return 0;
}

uint64_t
size_parse_or_die(const char *opt, const char *s)
{
	uint64_t n;

	if (size_parse(s, &n) == 0)
		return n;
	if (errno == ERANGE)
		errx(EXIT_FAILURE, "%s: size too large: '%s'", opt, s);
	if (s[0] == '-')
		errx(EXIT_FAILURE, "%s: cannot be negative: '%s'", opt, s);
	errx(EXIT_FAILURE, "%s: could not parse size: '%s'", opt, s);
}

uint64_t
size_parse_range_or_die(const char *opt, const char *s, uint64_t min,
    uint64_t max)
{
	uint64_t n = size_parse_or_die(opt, s);

	if (n < min || n > max)
		errx(EXIT_FAILURE, "%s: '%s' out of range [%" PRIu64
		    "..%" PRIu64 "]", opt, s, min, max);
	return n;
}

char *
size_human(char *buf, uint64_t n)
{
	static const char units[] = "KMGTPE";
	unsigned i = 0;

	if (n == 0 || n % 1024 != 0) {
		snprintf(buf, SIZE_HUMAN_MAX, "%" PRIu64, n);
		return buf;
	}
	n /= 1024;
	while (n % 1024 == 0 && i < sizeof(units) - 2) {
		n /= 1024;
		i++;
	}
	snprintf(buf, SIZE_HUMAN_MAX, "%" PRIu64 "%c", n, units[i]);
	return buf;
}
