/* ctx.c - messages on stderr and result output on stdout. */
#include "sesctl/base/ctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

void ctx_init(struct ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->in_fd = STDIN_FILENO;
	ctx->out_fd = STDOUT_FILENO;
	ctx->err_fd = STDERR_FILENO;
}

static void vmessage(struct ctx *ctx, const char *prefix, const char *fmt,
		     va_list ap) PRINTF_LIKE(3, 0);

static void vmessage(struct ctx *ctx, const char *prefix, const char *fmt,
		     va_list ap)
{
	char line[ERR_MSG_MAX + 64];
	int n, m;

	n = snprintf(line, sizeof(line), "sesctl: %s", prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	if ((size_t)m >= sizeof(line) - (size_t)n - 1)
		m = (int)(sizeof(line) - (size_t)n - 2);
	line[n + m] = '\n';
	/* One write(2) per message keeps lines whole when stderr is shared. */
	if (write(ctx->err_fd, line, (size_t)(n + m + 1)) < 0)
		return;
}

void ctx_warn(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vmessage(ctx, "warning: ", fmt, ap);
	va_end(ap);
}

void ctx_info(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vmessage(ctx, "", fmt, ap);
	va_end(ap);
}

void ctx_debug(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->debug)
		return;
	va_start(ap, fmt);
	vmessage(ctx, "debug: ", fmt, ap);
	va_end(ap);
}

sesctl_err ctx_write_out(struct ctx *ctx, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	if (ctx->stdout_was_closed && ctx->out_fd == STDOUT_FILENO)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "standard output is closed, so the result "
			       "would be lost; run without '>&-' or use "
			       "'>FILE'");
	while (len > 0) {
		n = write(ctx->out_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot write to standard output: %s",
				       strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return SESCTL_OK;
}

time_t ctx_now(const struct ctx *ctx)
{
#if SESCTL_TEST_HOOKS
	const char *forced = getenv("SESCTL_TEST_NOW");

	if (forced && *forced) {
		char *end = NULL;
		long long v = strtoll(forced, &end, 10);

		if (end && *end == '\0' && v >= 0)
			return (time_t)v;
	}
#endif
	(void)ctx;
	return time(NULL);
}
