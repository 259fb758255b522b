/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <unistd.h>

#include "color.h"

bool
color_enabled(int setting, FILE *fp)
{
	const char *no_color;

	if (setting != COLOR_AUTO)
		return setting != 0;
	no_color = getenv("NO_COLOR");
	if (no_color != NULL && no_color[0] != '\0')
		return false;
	return isatty(fileno(fp));
}
