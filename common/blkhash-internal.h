/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the blkhash files only: the one-line reasons the ALG/SIZE
 * parser and the check-file reader give back through *why.
 */
#ifndef NBDU_BLKHASH_INTERNAL_H
#define NBDU_BLKHASH_INTERNAL_H

#include "compiler.h"

/* The longest reason kept, with its NUL. */
#define BLKHASH_REASON_MAX	160

/*
 * Formats a reason into a per-thread buffer and points *why (if not
 * NULL) at it; sets errno to EINVAL and returns -1.
 */
PRINTF(2, 3) int blkhash_set_reason(const char **why, const char *fmt, ...);

#endif
