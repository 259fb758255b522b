/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-stat-map's pure formatters: descriptions, map lines, totals and
 * the picture, compared with nbdinfo's formats as goldens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stat-map.h"

static unsigned failures;

static void
check_str(const char *name, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) ||
	    (got != NULL && strcmp(got, want) != 0)) {
		fprintf(stderr, "FAIL %s:\n got: %s\nwant: %s\n", name,
		    got ? got : "(null)", want ? want : "(null)");
		failures++;
	}
}

static void
test_describe(void)
{
	static const struct {
		const char *context;
		uint32_t type;
		const char *want;
	} cases[] = {
		{ NULL, 0, "data" },
		{ "base:allocation", 1, "hole" },
		{ "base:allocation", 2, "zero" },
		{ "base:allocation", 3, "hole,zero" },
		{ "base:allocation", 4, NULL },
		{ "qemu:dirty-bitmap:b0", 0, "clean" },
		{ "qemu:dirty-bitmap:", 1, "dirty" },
		{ "qemu:dirty-bitmap:x", 2, NULL },
		{ "qemu:allocation-depth", 0, "absent" },
		{ "qemu:allocation-depth", 1, "local" },
		{ "qemu:allocation-depth", 2, "backing depth 2" },
		{ "qemu:allocation-depth", 4294967295u,
		  "backing depth 4294967295" },
		{ "x-vendor:thing", 0, NULL },
		{ "qemu:dirty-bitmap", 0, NULL },
	};
	char buf[DESCRIBE_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_str("describe", describe(cases[i].context, cases[i].type,
		    buf), cases[i].want);
}

/* Runs fn into a memory stream and returns what it wrote. */
static char *
capture(void (*fn)(FILE *, void *), void *arg)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	if (fp == NULL)
		abort();
	fn(fp, arg);
	fclose(fp);
	return s;
}

struct map_case {
	const char *context;
	bool json;
	const struct extent *e;
	size_t n;
};

static void
do_map(FILE *fp, void *arg)
{
	struct map_case *c = arg;
	struct map_out m;

	map_begin(&m, fp, c->context, c->json);
	for (size_t i = 0; i < c->n; i++)
		map_extent(&m, &c->e[i]);
	map_end(&m);
}

static void
test_map(void)
{
	static const struct extent e[] = {
		{ 0, 32768, 0 }, { 32768, 4294967296ull, 3 },
		{ 4295000064ull, 1, 7 },
	};
	struct map_case c = { NULL, false, e, 3 };
	char *s;

	s = capture(do_map, &c);
	check_str("map text", s,
	    "         0       32768    0  data\n"
	    "     32768  4294967296    3  hole,zero\n"
	    "4295000064           1    7\n");
	free(s);
	c.json = true;
	c.n = 2;
	c.context = "x-raw";
	s = capture(do_map, &c);
	check_str("map json", s,
	    "[\n"
	    "  {\n    \"offset\": 0,\n    \"length\": 32768,\n"
	    "    \"type\": 0\n  },\n"
	    "  {\n    \"offset\": 32768,\n    \"length\": 4294967296,\n"
	    "    \"type\": 3\n  }\n"
	    "]\n");
	free(s);
	c.n = 0;
	s = capture(do_map, &c);
	check_str("map json empty", s, "[]\n");
	free(s);
}

struct totals_case {
	struct totals *t;
	uint64_t len;
	bool json;
};

static void
do_totals(FILE *fp, void *arg)
{
	struct totals_case *c = arg;

	totals_print(c->t, fp, c->len, c->json);
}

static void
test_totals(void)
{
	static const struct extent e[] = {
		{ 0, 1, 3 }, { 1, 2, 0 }, { 3, 1, 3 }, { 4, 2, 2 },
	};
	struct totals t;
	struct totals_case c = { &t, 6, false };
	char *s;

	totals_init(&t, NULL);
	for (size_t i = 0; i < 4; i++)
		totals_add(&t, &e[i]);
	s = capture(do_totals, &c);
	check_str("totals text", s,
	    "         2  33.3%   0 data\n"
	    "         2  33.3%   2 zero\n"
	    "         2  33.3%   3 hole,zero\n");
	free(s);
	c.json = true;
	s = capture(do_totals, &c);
	check_str("totals json", s,
	    "[\n"
	    "  {\n    \"size\": 2,\n    \"percent\": 33.3333,\n"
	    "    \"type\": 0,\n    \"description\": \"data\"\n  },\n"
	    "  {\n    \"size\": 2,\n    \"percent\": 33.3333,\n"
	    "    \"type\": 2,\n    \"description\": \"zero\"\n  },\n"
	    "  {\n    \"size\": 2,\n    \"percent\": 33.3333,\n"
	    "    \"type\": 3,\n    \"description\": \"hole,zero\"\n  }\n"
	    "]\n");
	free(s);
	totals_free(&t);
	totals_init(&t, NULL);
	s = capture(do_totals, &c);
	check_str("totals json empty", s, "[]\n");
	free(s);
	totals_free(&t);
}

struct picture_case {
	struct picture *p;
	bool utf8, color;
};

static void
do_picture(FILE *fp, void *arg)
{
	struct picture_case *c = arg;

	picture_print(c->p, fp, c->utf8, c->color);
}

static void
test_picture(void)
{
	/* 10 bytes in 4 cells: [0,2) [2,5) [5,7) [7,10). */
	static const struct extent e[] = {
		{ 0, 3, 0 }, { 3, 2, 2 }, { 5, 1, 3 }, { 6, 1, 0 },
		{ 7, 3, 3 },
	};
	struct picture p;
	struct picture_case c = { &p, false, false };
	char *s;

	picture_init(&p, NULL, 0, 10, 4);
	for (size_t i = 0; i < 5; i++)
		picture_add(&p, &e[i]);
	s = capture(do_picture, &c);
	/* Cell 2 is a tie, one data and one hole byte: data wins. */
	check_str("picture ascii", s, "#=#.\n# data  = zero  . hole\n");
	free(s);
	c.utf8 = true;
	s = capture(do_picture, &c);
	check_str("picture utf8", s,
	    "\u2588\u2592\u2588\u2591\n"
	    "\u2588 data  \u2592 zero  \u2591 hole\n");
	free(s);
	picture_free(&p);

	picture_init(&p, "qemu:dirty-bitmap:b", 100, 4, 8);
	picture_add(&p, &(struct extent){ 100, 2, 1 });
	picture_add(&p, &(struct extent){ 102, 2, 0 });
	c.utf8 = false;
	c.color = true;
	s = capture(do_picture, &c);
	check_str("picture colour", s,
	    "\033[34m##\033[0m\033[2m..\033[0m\n"
	    "\033[34m#\033[0m dirty  \033[2m.\033[0m clean\n");
	free(s);
	picture_free(&p);
}

int
main(void)
{
	test_describe();
	test_map();
	test_totals();
	test_picture();
	if (failures > 0) {
		fprintf(stderr, "test-stat-map: %u failures\n", failures);
		return EXIT_FAILURE;
	}
	printf("test-stat-map: ok\n");
	return EXIT_SUCCESS;
}
