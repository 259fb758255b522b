/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The content probe: what libmagic (the library behind file(1)) makes
 * of the first bytes of the export.  It is a guess, so anything that
 * goes wrong here means "no content line", never an error.
 */
#include <stdlib.h>
#include <string.h>

#include <magic.h>

#include "cli.h"
#include "compiler.h"
#include "conn.h"
#include "endpoint.h"
#include "info.h"

/* As much as nbdinfo gives file(1): enough for partition tables and
 * the headers of disk image and filesystem formats. */
#define PROBE_BYTES	8192

char *
info_content(struct conn *c)
{
	static char buf[PROBE_BYTES];
	size_t len = MIN((uint64_t)c->size, (uint64_t)PROBE_BYTES), got;
	struct endpoint *ep;
	magic_t m;
	const char *what;
	char *ret = NULL;
	int e = 0;

	if (c->size < 0)
		return NULL;
	/* Through the endpoint, so broken read replies are caught. */
	ep = ep_nbd_adopt(c, "export");
	if (len > 0)
		e = ep_try_read(ep, buf, len, 0, &got);
	ep_close(ep);
	cli_check_interrupted();
	if (e != 0)
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
