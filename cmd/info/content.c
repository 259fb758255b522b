/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The content probe: what libmagic (the library behind file(1)) makes
 * of the first bytes of the export.  It is a guess, so anything that
 * goes wrong here means "no content line", never an error.
 */
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>
#include <magic.h>

#include "compiler.h"
#include "conn.h"
#include "info.h"

/* As much as nbdinfo gives file(1): enough for partition tables and
 * the headers of disk image and filesystem formats. */
#define PROBE_BYTES	8192

char *
info_content(struct conn *c)
{
	static char buf[PROBE_BYTES];
	size_t len = MIN((uint64_t)c->size, (uint64_t)PROBE_BYTES);
	magic_t m;
	const char *what;
	char *ret = NULL;

	if (c->size < 0 ||
	    (len > 0 && nbd_pread(c->h, buf, len, 0, 0) == -1))
		return NULL;
	m = magic_open(MAGIC_NONE);
	if (m == NULL)
		return NULL;
	if (magic_load(m, NULL) == 0) {
		what = magic_buffer(m, buf, len);
		if (what != NULL)
			ret = strdup(what);
	}
	magic_close(m);
	return ret;
}
