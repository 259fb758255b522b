/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small compiler helpers shared by every file, so attributes are spelled
 * one way across the tree.
 */
#ifndef NBDU_COMPILER_H
#define NBDU_COMPILER_H

#define NORETURN	__attribute__((noreturn))
#define PRINTF(a, b)	__attribute__((format(printf, a, b)))
#define UNUSED		__attribute__((unused))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Unique local names (via __COUNTER__) so MIN(MIN(a, b), c) does not shadow. */
#define NBDU_CAT_(x, y)	x##y
#define NBDU_CAT(x, y)	NBDU_CAT_(x, y)
#define NBDU_MINMAX(a, b, op, n) ({					\
	__auto_type NBDU_CAT(_a, n) = (a);				\
	__auto_type NBDU_CAT(_b, n) = (b);				\
	NBDU_CAT(_a, n) op NBDU_CAT(_b, n) ? NBDU_CAT(_a, n) : NBDU_CAT(_b, n); })
#define MIN(a, b)	NBDU_MINMAX(a, b, <, __COUNTER__)
#define MAX(a, b)	NBDU_MINMAX(a, b, >, __COUNTER__)

#endif
