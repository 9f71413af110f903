/* http_int.h - what the files of the HTTP transport share; not a public
 * interface (that is include/sesctl/aws/http.h).
 *
 *   http.c         the client: easy handles on one multi handle, the
 *                  callbacks, sending one request or several at once
 *   http_redact.c  the debug log's redaction (http_redact and the two
 *                  printers below)
 *   http_url.c     endpoint URLs, parsed by libcurl's URL API
 *
 * Only those files include it.
 */
#ifndef SESCTL_HTTP_INT_H
#define SESCTL_HTTP_INT_H

#include <stddef.h>

#include "sesctl/aws/http.h"
#include "sesctl/base/ctx.h"

/* Print libcurl's header or info lines `data` to the debug log, each
 * prefixed with `pfx` and `dir` ('>' out, '<' in, '*' libcurl's notes),
 * the Authorization signature and secret-named headers redacted. */
void debug_lines(struct ctx *ctx, const char *pfx, char dir, const char *data,
		 size_t size);

/* Print a whole request or response body, redacted, when ctx->debug. */
void debug_body(struct ctx *ctx, const char *pfx, char dir, const void *body,
		size_t len);

#endif
