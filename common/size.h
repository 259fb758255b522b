/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sizes and offsets as users type them (SPEC 1.3): a number of bytes with
 * an optional suffix b, s (512), k, M, G, T, P, E (powers of 1024), any
 * case.  The result never exceeds INT64_MAX so it fits an off_t and
 * libnbd's int64_t sizes.
 */
#ifndef NBDU_SIZE_H
#define NBDU_SIZE_H

#include <stdint.h>

#define SIZE_HUMAN_MAX	32

/* 0 on success; -1 with errno EINVAL (syntax) or ERANGE (too large). */
int size_parse(const char *s, uint64_t *out);

/* Exits 1 with "PROG: OPT: ..." naming the option on bad input. */
uint64_t size_parse_or_die(const char *opt, const char *s);

/* Like size_parse_or_die, for counts that must fit [min, max]. */
uint64_t size_parse_range_or_die(const char *opt, const char *s,
    uint64_t min, uint64_t max);

/* "1.5G", "512", "4K": the shortest exact-enough form, as nbdinfo prints. */
char *size_human(char *buf, uint64_t n);

#endif
