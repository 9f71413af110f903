/* lc_plan.c - the plan of a --dry-run (see lifecycle.h): each IAM call
 * the real run would make, and notes on what it does in between, printed
 * a line each, or (--format json) kept and printed as one JSON object by
 * lc_plan_done. */
#include "sesctl/cli/lifecycle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/smtp/output.h"

sesctl_err lc_plan(struct lc *lc, const char *fmt, ...)
{
	char line[4096], **more;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SESCTL_ERR_FAIL;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	if (lc->plan_json) {
		more = realloc(lc->plan, (lc->n_plan + 1) * sizeof(*more));
		if (!more)
			return err_set(&lc->ctx->err, SESCTL_ERR_NOMEM,
				       "out of memory");
		lc->plan = more;
		lc->plan[lc->n_plan] = strdup(line);
		if (!lc->plan[lc->n_plan])
			return err_set(&lc->ctx->err, SESCTL_ERR_NOMEM,
				       "out of memory");
		lc->n_plan++;
		return SESCTL_OK;
	}
	line[n++] = '\n';
	return ctx_write_out(lc->ctx, line, (size_t)n);
}

sesctl_err lc_plan_done(struct lc *lc, const char *command)
{
	char *doc = NULL;
	sesctl_err rc = SESCTL_OK;

	if (!lc->plan_json)
		return SESCTL_OK;
	ENSURE(output_plan_json(command, lc->user,
				(const char *const *)lc->plan, lc->n_plan,
				&doc) == SESCTL_OK,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(ctx_write_out(lc->ctx, doc, strlen(doc)));
out:
	free(doc);
	return rc;
}

const char *lc_tags_text(const struct iam_tag_in *tags, size_t n, char *buf,
			 size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s=%s",
					i ? "," : "", tags[i].key,
					tags[i].value);
	return buf;
}
