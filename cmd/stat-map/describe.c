/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Descriptions of the extent types of the meta contexts nbdinfo knows,
 * spelled as nbdinfo spells them so scripts can match either tool.
 */
#include <stdio.h>
#include <string.h>

#include "stat-map.h"

#define DIRTY_BITMAP	"qemu:dirty-bitmap:"

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
