/* http_int.h - what the files of the HTTP transport share; not a public
 * interface (that is include/sesctl/aws/http.h).
 *
 *   http.c         the client: easy handles on one multi handle, the
 *                  callbacks, sending one request or several at once
 *   http_redact.c  the debug log's redaction (http_redact and the two
 *                  printers below)
 *   http_url.c     endpoint URLs, parsed by libcurl's URL API
 *   http_ca.c      the CA certificates TLS connections trust
 *
 * Only those files include it.
 */
#ifndef SESCTL_HTTP_INT_H
#define SESCTL_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

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

/* What a client's connections trust, or another module's easy handle's
 * (http_ca.c; http.h declares it for http_ca_new and http_ca_use). */
struct http_ca {
	struct ctx *ctx;  /* for the debug log */
	char *bundle;     /* PEM file (owned); NULL: the system's CAs */
	const char *unreadable; /* the file no certificate could be read
				   from, if one */
};

/* Set `curl` up to trust what `ca` says; `ca` must outlive the handle.
 * The certificates are read at the first TLS connection, once per
 * process. */
CURLcode http_ca_setopt(CURL *curl, struct http_ca *ca);

/* Free the process's CA store (http_global_cleanup). */
void http_ca_global_cleanup(void);

#endif
