/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether to colour output: an explicit --color/--no-color (any spelling
 * nbdinfo accepts) wins; otherwise colour only when the stream is a
 * terminal and NO_COLOR is unset or empty (no-color.org).
 */
#ifndef NBDU_COLOR_H
#define NBDU_COLOR_H

#include <stdbool.h>
#include <stdio.h>

#define COLOR_AUTO	(-1)

#define ANSI_RESET	"\033[0m"
#define ANSI_BOLD	"\033[1m"
#define ANSI_DIM	"\033[2m"
#define ANSI_RED	"\033[31m"
#define ANSI_GREEN	"\033[32m"
#define ANSI_YELLOW	"\033[33m"
#define ANSI_BLUE	"\033[34m"
#define ANSI_MAGENTA	"\033[35m"
#define ANSI_CYAN	"\033[36m"

/* setting is COLOR_AUTO, 0 or 1 (cli_opts.color). */
bool color_enabled(int setting, FILE *fp);

#endif
