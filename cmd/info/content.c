/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The content probe: what libmagic (the library behind file(1)) makes
 * of the first bytes of the export.  It is a guess, so anything that
 * goes wrong here means "no content line", never an error.
 *
 * libmagic is opened with dlopen() only when a content line is wanted:
 * linked in, it and its own libraries would be loaded and relocated by
 * every run of every tool, --size included (issue 18).
 */
#include <dlfcn.h>
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

/* The soname of libmagic's ABI that magic.h describes. */
#define LIBMAGIC	"libmagic.so.1"

/* The four calls the probe makes, typed by magic.h's own prototypes. */
struct libmagic {
	void *dl;
	__typeof__(magic_open) *open;
	__typeof__(magic_load) *load;
	__typeof__(magic_buffer) *buffer;
	__typeof__(magic_close) *close;
};

static bool
libmagic_open(struct libmagic *lm)
{
	lm->dl = dlopen(LIBMAGIC, RTLD_NOW | RTLD_LOCAL);
	if (lm->dl == NULL)
		return false;
	lm->open = (__typeof__(lm->open))dlsym(lm->dl, "magic_open");
	lm->load = (__typeof__(lm->load))dlsym(lm->dl, "magic_load");
	lm->buffer = (__typeof__(lm->buffer))dlsym(lm->dl, "magic_buffer");
	lm->close = (__typeof__(lm->close))dlsym(lm->dl, "magic_close");
	if (lm->open && lm->load && lm->buffer && lm->close)
		return true;
	dlclose(lm->dl);
	return false;
}

/* libmagic's description of len bytes of buf, or NULL. */
static char *
describe(const void *buf, size_t len)
{
	struct libmagic lm;
	magic_t m;
	const char *what;
	char *ret = NULL;

	if (!libmagic_open(&lm))
		return NULL;
	m = lm.open(MAGIC_NONE);
	if (m != NULL) {
		if (lm.load(m, NULL) == 0) {
			what = lm.buffer(m, buf, len);
			if (what != NULL)
				ret = strdup(what);
		}
		lm.close(m);
	}
	dlclose(lm.dl);
	return ret;
}

char *
info_content(struct conn *c)
{
	static char buf[PROBE_BYTES];
	size_t len = MIN((uint64_t)c->size, (uint64_t)PROBE_BYTES), got;
	struct endpoint *ep;
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
	return describe(buf, len);
}
