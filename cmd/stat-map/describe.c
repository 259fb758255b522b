/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Descriptions of the extent types of the meta contexts nbdinfo knows,
 * spelled as nbdinfo spells them so scripts can match either tool, and
 * the colours nbdinfo --map gives them on a terminal.
 */
#include <stdio.h>
#include <string.h>

#include "stat-map.h"

#define DIRTY_BITMAP	"qemu:dirty-bitmap:"

/* nbdinfo's sequences, byte for byte (libnbd's ansi-colours.h). */
#define FG_BOLD_BLACK	"\033[1;30m"
#define FG_GREEN	"\033[22;32m"
#define FG_RED		"\033[22;31m"
#define FG_BRIGHT_WHITE	"\033[1;37m"
#define BG_BLACK	"\033[40m"
#define BG_LIGHT_GREY	"\033[47m"

const char *
describe(const char *context, uint32_t type, char *buf)
{
	static const char *const base[] = { "data", "hole", "zero",
	    "hole,zero" };

	if (context == NULL || strcmp(context, "base:allocation") == 0)
		return type < 4 ? base[type] : NULL;
	if (strncmp(context, DIRTY_BITMAP, strlen(DIRTY_BITMAP)) == 0) {
		if (type > 1)
			return NULL;
		return type == 0 ? "clean" : "dirty";
	}
	if (strcmp(context, "qemu:allocation-depth") == 0) {
		if (type == 0)
			return "absent";
		if (type == 1)
			return "local";
		snprintf(buf, DESCRIBE_MAX, "backing depth %u", type);
		return buf;
	}
	return NULL;
}

const char *
describe_color(const char *context, uint32_t type)
{
	if (context == NULL || strcmp(context, "base:allocation") == 0)
		return type == 0 ? FG_BOLD_BLACK : "";
	if (strncmp(context, DIRTY_BITMAP, strlen(DIRTY_BITMAP)) == 0) {
		if (type > 1)
			return "";
		return type == 0 ? FG_GREEN : FG_RED;
	}
	if (strcmp(context, "qemu:allocation-depth") == 0) {
		if (type == 0)
			return "";
		return type == 1 ? FG_BRIGHT_WHITE BG_BLACK : BG_LIGHT_GREY;
	}
	return "";
}
