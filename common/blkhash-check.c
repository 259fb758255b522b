/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Digests as text: writing one (--blkhash-file) and reading the expected
 * one back (--check, --check-file; sha256sum's line format).
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkhash.h"
#include "blkhash-internal.h"
#include "compiler.h"

int
blkhash_write(const char *hex, const char *file)
{
	FILE *fp;

	if (file == NULL || strcmp(file, "-") == 0)
		return printf("%s\n", hex) < 0 ? -1 : 0;
	fp = fopen(file, "w");
	if (fp == NULL)
		return -1;
	if (fprintf(fp, "%s\n", hex) < 0) {
		int e = errno;

		fclose(fp);
		errno = e;
		return -1;
	}
	return fclose(fp) == 0 ? 0 : -1;
}

void
blkhash_write_or_die(const char *hex, const char *file)
{
	if (blkhash_write(hex, file) == -1)
		err(EXIT_FAILURE, "%s", file != NULL ? file : "stdout");
}

int
blkhash_check_parse(const char *text, const struct blkhash_params *p,
    char out[BLKHASH_HEX_MAX], const char **why)
{
	size_t len = 0;

	while (isspace((unsigned char)*text))
		text++;
	if (*text == '\\')
		text++;
	while (text[len] != '\0' && !isspace((unsigned char)text[len]))
		len++;
	if (len == 0)
		return blkhash_set_reason(why, "no digest found");
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			len = 0;	/* not hex: fails the length test */
	if (len != 2 * p->digest_len)
		return blkhash_set_reason(why, "'%.*s' is not a %s digest "
		    "(%zu hex digits)", (int)MIN(strcspn(text, " \t\r\n\v\f"),
		    (size_t)80), text, p->name, 2 * p->digest_len);
	for (size_t i = 0; i < len; i++)
		out[i] = tolower((unsigned char)text[i]);
	out[len] = '\0';
	return 0;
}

void
blkhash_check_parse_or_die(const char *opt, const char *text,
    const struct blkhash_params *p, char out[BLKHASH_HEX_MAX])
{
	const char *why;

	if (blkhash_check_parse(text, p, out, &why) == -1)
		errx(EXIT_FAILURE, "%s: %s", opt, why);
}

void
blkhash_check_file_or_die(const char *opt, const char *file,
    const struct blkhash_params *p, char out[BLKHASH_HEX_MAX])
{
	/* Enough for the first token however the line goes on. */
	char buf[4096];
	const char *why;
	size_t n;
	FILE *fp;

	fp = fopen(file, "r");
	if (fp == NULL)
		err(EXIT_FAILURE, "%s: %s", opt, file);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	if (ferror(fp))
		err(EXIT_FAILURE, "%s: %s", opt, file);
	fclose(fp);
	buf[n] = '\0';
	if (blkhash_check_parse(buf, p, out, &why) == -1)
		errx(EXIT_FAILURE, "%s: %s: %s", opt, file, why);
}

bool
blkhash_check_equal(const char *expected, const char *actual)
{
	return strcmp(expected, actual) == 0;
}
