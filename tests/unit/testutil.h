/* testutil.h - small helpers shared by the unit tests (header-only). */
#ifndef SESCTL_TESTUTIL_H
#define SESCTL_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* $SESCTL_TEST_VECTORS/<rel>; fails the test when the variable is unset. */
static inline void vector_path(char *out, size_t size, const char *rel)
{
	const char *dir = getenv("SESCTL_TEST_VECTORS");
	int n;

	if (!dir)
		fail_msg("SESCTL_TEST_VECTORS is not set (run through meson test)");
	n = snprintf(out, size, "%s/%s", dir, rel);
	assert_true(n > 0 && (size_t)n < size);
}

/* Read a whole file into a NUL-terminated malloc'd buffer. */
static inline char *read_text_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		fail_msg("cannot open '%s'", path);
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

/* Split `line` (modified in place) at tabs into at most `max` fields. */
static inline size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

#endif
