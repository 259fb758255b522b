/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The default mode and the per-export block --list repeats: the same
 * fields, in the same order and under the same names as nbdinfo (1.14,
 * with 1.20's human sizes beside the block size limits),
 * as text (one indented block per export) or JSON (the same keys and
 * value types; flags the server did not state are left out).
 */
#include <ctype.h>
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "cli.h"
#include "color.h"
#include "conn.h"
#include "json.h"
#include "size.h"
#include "utf8.h"
#include "info.h"

/* The export flags, in nbdinfo's order; libnbd says 1, 0 or -1. */
static const struct {
	const char *key;
	int (*get)(struct nbd_handle *);
} flags[] = {
	{ "is_rotational", nbd_is_rotational },
	{ "is_read_only", nbd_is_read_only },
	{ "can_cache", nbd_can_cache },
	{ "can_df", nbd_can_df },
	{ "can_fast_zero", nbd_can_fast_zero },
	{ "can_flush", nbd_can_flush },
	{ "can_fua", nbd_can_fua },
	{ "can_multi_conn", nbd_can_multi_conn },
	{ "can_trim", nbd_can_trim },
	{ "can_zero", nbd_can_zero },
};

/* Everything shown for one export, gathered before any is printed. */
struct export_info {
	char *name;		/* the server's canonical name if it gave one */
	char *desc;		/* NULL or "" when there is none */
	int64_t size;
	char *content;		/* NULL: not probed or unknown */
	char *uri;		/* NULL for "[ CMD ]": nobody else can reach it */
	bool has_contexts;	/* false: the server could not list them */
	char **contexts;
	size_t ncontexts;
	int flag[ARRAY_SIZE(flags)];
	uint32_t block[3];	/* minimum, preferred, maximum; 0: unknown */
};

static const char *const block_keys[3] = {
	"block_size_minimum", "block_size_preferred", "block_size_maximum",
};

static void
color_on(struct info_out *out, const char *code)
{
	if (out->opts->color)
		fputs(code, out->fp);
}

static void
color_off(struct info_out *out)
{
	if (out->opts->color)
		fputs(ANSI_RESET, out->fp);
}

static int
collect_context(void *opaque, const char *name)
{
	struct export_info *e = opaque;
	char **v;

	v = realloc(e->contexts, (e->ncontexts + 1) * sizeof(*v));
	if (v == NULL)
		err(EXIT_FAILURE, "realloc");
	e->contexts = v;
	e->contexts[e->ncontexts] = strdup(name);
	if (e->contexts[e->ncontexts] == NULL)
		err(EXIT_FAILURE, "strdup");
	e->ncontexts++;
	return 0;
}

/*
 * Reads what the server said about the export c has settled on (by
 * conn_info), asks for its contexts while still negotiating, and only
 * then probes the content, which has to leave negotiation.
 */
static void
gather(struct export_info *e, struct conn *c, const char *desc,
    bool content)
{
	struct nbd_handle *h = c->h;

	memset(e, 0, sizeof(*e));
	e->size = c->size;
	if (e->size < 0)
		conn_die(c);
	e->name = nbd_get_canonical_export_name(h);
	if (e->name == NULL)
		e->name = nbd_get_export_name(h);
	if (e->name == NULL)
		conn_die(c);
	/* The list's description is all a server may give; else ask. */
	if (desc != NULL && desc[0] != '\0') {
		e->desc = strdup(desc);
		if (e->desc == NULL)
			err(EXIT_FAILURE, "strdup");
	} else
		e->desc = nbd_get_export_description(h);
	if (c->arg->kind == EP_ARG_URI)
		e->uri = nbd_get_uri(h);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		e->flag[i] = flags[i].get(h);
	e->block[0] = c->block_min;
	e->block[1] = c->block_pref;
	e->block[2] = c->block_max;
	if (conn_is_negotiating(c))
		e->has_contexts = conn_list_contexts(c, collect_context, e) == 0;
	if (content) {
		if (conn_is_negotiating(c) && conn_go(c, NULL) == -1)
			conn_die(c);
		e->content = info_content(c);
	}
}

static void
export_free(struct export_info *e)
{
	for (size_t i = 0; i < e->ncontexts; i++)
		free(e->contexts[i]);
	free(e->contexts);
	free(e->name);
	free(e->desc);
	free(e->content);
	free(e->uri);
}

/*
 * "\tKEY: 4096 (4K)": the human form only when it has a unit, so 512
 * stays "512", as nbdinfo 1.20 prints sizes and block size limits.
 */
static void
print_size(FILE *fp, const char *key, uint64_t n)
{
	char human[SIZE_HUMAN_MAX];

	size_human(human, n);
	if (isalpha((unsigned char)human[strlen(human) - 1]))
		fprintf(fp, "\t%s: %" PRIu64 " (%s)\n", key, n, human);
	else
		fprintf(fp, "\t%s: %" PRIu64 "\n", key, n);
}

static void
print_text(struct info_out *out, const struct export_info *e)
{
	FILE *fp = out->fp;

	color_on(out, ANSI_BOLD);
	fputs("export=", fp);
	json_str(fp, e->name, strlen(e->name));	/* quoted and escaped */
	fputc(':', fp);
	color_off(out);
	fputc('\n', fp);
	if (e->desc != NULL && e->desc[0] != '\0') {
		fputs("\tdescription: ", fp);
		utf8_put_printable(fp, e->desc);
		fputc('\n', fp);
	}
	print_size(fp, "export-size", e->size);
	if (e->content != NULL) {
		fputs("\tcontent: ", fp);
		utf8_put_printable(fp, e->content);
		fputc('\n', fp);
	}
	if (e->uri != NULL) {
		fputs("\turi: ", fp);
		utf8_put_printable(fp, e->uri);
		fputc('\n', fp);
	}
	if (e->has_contexts) {
		color_on(out, ANSI_DIM);
		fputs("\tcontexts:\n", fp);
		for (size_t i = 0; i < e->ncontexts; i++) {
			fputs("\t\t", fp);
			utf8_put_printable(fp, e->contexts[i]);
			fputc('\n', fp);
		}
		color_off(out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		if (e->flag[i] < 0)
			continue;
		color_on(out, e->flag[i] ? ANSI_GREEN : ANSI_RED);
		fprintf(fp, "\t%s: %s", flags[i].key,
		    e->flag[i] ? "true" : "false");
		color_off(out);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < 3; i++)
		if (e->block[i] > 0)
			print_size(fp, block_keys[i], e->block[i]);
}

static void
print_json(struct info_out *out, const struct export_info *e)
{
	struct json *j = &out->json;
	char human[SIZE_HUMAN_MAX];

	json_object_open(j, NULL);
	json_key_str(j, "export-name", e->name);
	if (e->desc != NULL && e->desc[0] != '\0')
		json_key_str(j, "description", e->desc);
	if (e->content != NULL)
		json_key_str(j, "content", e->content);
	if (e->uri != NULL)
		json_key_str(j, "uri", e->uri);
	if (e->has_contexts) {
		json_array_open(j, "contexts");
		for (size_t i = 0; i < e->ncontexts; i++)
			json_key_str(j, NULL, e->contexts[i]);
		json_array_close(j);
	}
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (e->flag[i] >= 0)
			json_key_bool(j, flags[i].key, e->flag[i]);
	for (size_t i = 0; i < 3; i++)
		if (e->block[i] > 0)
			json_key_u64(j, block_keys[i], e->block[i]);
	json_key_i64(j, "export-size", e->size);
	json_key_str(j, "export-size-str", size_human(human, e->size));
	json_object_close(j);
}

void
info_show_begin(struct info_out *out, const struct conn *c)
{
	if (out->opts->json) {
		json_begin(&out->json, out->fp);
		json_object_open(&out->json, NULL);
		json_key_str(&out->json, "protocol", c->protocol);
		json_key_bool(&out->json, "TLS", c->tls);
		json_key_bool(&out->json, "structured", c->sr);
		json_array_open(&out->json, "exports");
		return;
	}
	color_on(out, ANSI_DIM);
	fprintf(out->fp, "protocol: %s %s TLS, using %s packets", c->protocol,
	    c->tls ? "with" : "without", c->sr ? "structured" : "simple");
	color_off(out);
	fputc('\n', out->fp);
}

void
info_show_export(struct info_out *out, struct conn *c, const char *desc,
    bool content)
{
	struct export_info e;

	gather(&e, c, desc, content);
	if (out->opts->json)
		print_json(out, &e);
	else
		print_text(out, &e);
	export_free(&e);
}

void
info_show_end(struct info_out *out)
{
	if (!out->opts->json)
		return;
	json_array_close(&out->json);
	json_object_close(&out->json);
	json_end(&out->json);
}

void
info_show(struct info_out *out, struct conn *c)
{
	if (conn_info(c, NULL) == -1)
		conn_die(c);
	info_show_begin(out, c);
	info_show_export(out, c, NULL, out->opts->content);
	info_show_end(out);
}

void
info_size(struct info_out *out, struct conn *c)
{
	if (c->size < 0)
		conn_die(c);
	fprintf(out->fp, "%" PRIi64 "\n", c->size);
}

void
info_uri(struct info_out *out, struct conn *c)
{
	char *uri = nbd_get_uri(c->h);

	if (uri == NULL)
		conn_die(c);
	if (out->opts->json)
		json_str(out->fp, uri, strlen(uri));
	else
		utf8_put_printable(out->fp, uri);
	fputc('\n', out->fp);
	free(uri);
}
