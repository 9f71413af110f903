/* err.c - the error table and err_set(). */
#include "sesctl/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
	const char *name;
	int exit_code;
	const char *kind;
	const char *desc;
};

#define SESCTL_ERR_X_ENTRY(n, e, k, d) { #n, e, k, d },
static const struct err_entry err_table[] = {
	SESCTL_ERR_LIST(SESCTL_ERR_X_ENTRY)
};

_Static_assert(sizeof(err_table) / sizeof(err_table[0]) == SESCTL_ERR_COUNT,
	       "error table and enum disagree");

static const struct err_entry *err_lookup(sesctl_err code)
{
	if ((unsigned)code >= SESCTL_ERR_COUNT)
		return NULL;
	return &err_table[code];
}

static sesctl_err err_vset(struct err_info *ei, sesctl_err code,
			   const char *fmt, va_list ap) PRINTF_LIKE(3, 0);

sesctl_err err_set(struct err_info *ei, sesctl_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(ei, code, fmt, ap);
	va_end(ap);
	return code;
}

sesctl_err err_setk(struct err_info *ei, sesctl_err code, const char *kind,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(ei, code, fmt, ap);
	va_end(ap);
	if (ei)
		(void)err_kind(ei, kind);
	return code;
}

static sesctl_err err_vset(struct err_info *ei, sesctl_err code,
			   const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX];
	int n;

	if (!ei)
		return code;
	/* Formatted aside first, so the current message may be one of the
	 * arguments ("%s: %s", action, ei->msg). */
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "%s", err_desc(code));
	else if ((size_t)n >= sizeof(msg))
		/* Truncated: say so rather than cut a word silently. */
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (ei->code != code)
		ei->kind[0] = '\0';
	ei->code = code;
	memcpy(ei->msg, msg, sizeof(msg));
	return code;
}

sesctl_err err_kind(struct err_info *ei, const char *kind)
{
	(void)str_copy(ei->kind, sizeof(ei->kind), kind);
	return ei->code;
}

const char *err_kind_of(const struct err_info *ei)
{
	const struct err_entry *e = err_lookup(ei->code);

	if (ei->kind[0])
		return ei->kind;
	return e ? e->kind : "failure";
}

int err_exit_code(sesctl_err code)
{
	const struct err_entry *e = err_lookup(code);

	return e ? e->exit_code : 1;
}

const char *err_name(sesctl_err code)
{
	const struct err_entry *e = err_lookup(code);

	return e ? e->name : "SESCTL_ERR_UNKNOWN";
}

const char *err_desc(sesctl_err code)
{
	const struct err_entry *e = err_lookup(code);

	return e ? e->desc : "unknown error";
}

bool str_copy(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (size == 0)
		return false;
	if (len >= size) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
	return true;
}
