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

#define MIN(a, b) ({ __auto_type _a = (a); __auto_type _b = (b); _a < _b ? _a : _b; })
#define MAX(a, b) ({ __auto_type _a = (a); __auto_type _b = (b); _a > _b ? _a : _b; })

#endif
