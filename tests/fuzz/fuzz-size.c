/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * size_parse over arbitrary text: never above INT64_MAX, errno EINVAL or
 * ERANGE on failure, plain digit strings agree with strtoull, and
 * size_human of any result fits its buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = strndup((const char *)data, len);
	char human[SIZE_HUMAN_MAX];
	uint64_t v = 0;
	size_t n;

	if (s == NULL)
		return 0;
	errno = 0;
	if (size_parse(s, &v) == 0) {
		if (v > INT64_MAX)
			abort();
		n = strspn(s, "0123456789");
		if (n > 0 && s[n] == '\0' && strtoull(s, NULL, 10) != v)
			abort();
	} else if (errno != EINVAL && errno != ERANGE)
		abort();
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	if (strlen(size_human(human, v)) >= SIZE_HUMAN_MAX)
		abort();
	free(s);
	return 0;
}
