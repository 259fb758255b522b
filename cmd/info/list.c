/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --list: ask for the server's export list, then show each export as the
 * default mode would.  One export that cannot be opened (a server may
 * list names it then refuses) is reported on stderr and skipped, so the
 * rest are still shown and the exit status says something failed.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "json.h"
#include "info.h"

struct export_names {
	struct { char *name, *desc; } *v;
	size_t n;
};

static int
collect_export(void *opaque, const char *name, const char *desc)
{
	struct export_names *l = opaque;
	void *v;

	v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (v == NULL)
		err(EXIT_FAILURE, "realloc");
	l->v = v;
	l->v[l->n].name = strdup(name);
	l->v[l->n].desc = strdup(desc);
	if (l->v[l->n].name == NULL || l->v[l->n].desc == NULL)
		err(EXIT_FAILURE, "strdup");
	l->n++;
	return 0;
}

/* "PROG: export "NAME": why", the name escaped so it stays one line. */
static void
report(const char *name, const char *why)
{
	fprintf(stderr, "%s: export ", program_invocation_short_name);
	json_str(stderr, name, strlen(name));
	fprintf(stderr, ": %s\n", why);
}

/*
 * Shows one export.  The list's own connection is reused while it is
 * still negotiating; probing content must leave negotiation, so then
 * each export gets a connection of its own, as in nbdinfo.
 */
static bool
show_one(struct info_out *out, struct conn *c, const char *name,
    const char *desc, bool content)
{
	struct conn_want want = c->c_want;
	struct conn *ec = c;
	bool ok = true;

	if (content || !conn_is_negotiating(c)) {
		want.export_name = name;
		ec = conn_try_open(c->arg, &want);
		if (ec == NULL) {
			report(name, conn_last_error());
			return false;
		}
		name = NULL;		/* chosen at open */
	}
	if (conn_info(ec, name) == -1) {
		report(name != NULL ? name : want.export_name, conn_last_error());
		ok = false;
	} else
		info_show_export(out, ec, desc, content);
	if (ec != c)
		conn_close(ec);
	return ok;
}

bool
info_list(struct info_out *out, struct conn *c)
{
	struct export_names l = { NULL, 0 };
	bool content = out->opts->content == 1, ok = true;

	if (conn_list_exports(c, collect_export, &l) == -1)
		conn_die(c);
	/* Let a one-client-at-a-time server (qemu-nbd) take the probes. */
	if (content)
		conn_abort(c);

	info_show_begin(out, c);
	for (size_t i = 0; i < l.n; i++)
		if (!show_one(out, c, l.v[i].name, l.v[i].desc, content))
			ok = false;
	info_show_end(out);

	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].name);
		free(l.v[i].desc);
	}
	free(l.v);
	return ok;
}
