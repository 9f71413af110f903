/* http.h - HTTPS transport over libcurl.
 *
 * The only module that includes <curl/curl.h>.  One client (one easy
 * handle) per run, so every request reuses one TLS connection.  TLS
 * verification is always on; plain http is refused unless the host is a
 * loopback address.  Response bodies land in a struct secret (they can hold
 * a SecretAccessKey) capped at HTTP_MAX_BODY.
 *
 * --debug: request and response lines and headers go to stderr through a
 * CURLOPT_DEBUGFUNCTION that redacts Authorization signatures and session
 * tokens; bodies are printed whole, after the transfer, with secret XML
 * elements and form fields redacted (a secret split across two received
 * chunks could slip past a per-chunk filter, so nothing is printed per
 * chunk).  libcurl itself never prints: CURLOPT_VERBOSE only feeds our
 * debug function, which also counts how often a request went out (libcurl
 * silently re-sends on a reused connection that died before any answer).
 */
#ifndef SESCTL_HTTP_H
#define SESCTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/ctx.h"
#include "sesctl/err.h"
#include "sesctl/secret.h"

#define HTTP_MAX_BODY ((size_t)1 << 20)
#define HTTP_URL_MAX 2048

struct http_client;

struct http_options {
	const char *ca_bundle;   /* PEM file of trusted CAs; NULL: the system's */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;         /* whole request; 0: 60 s */
};

struct http_header {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method; /* "POST", "GET", ... */
	const char *url;
	const struct http_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
};

/* How a request failed below HTTP. */
enum http_failure {
	HTTP_OK,           /* a complete HTTP response arrived */
	HTTP_NOT_SENT,     /* failed before the request went out: safe to retry */
	HTTP_NO_ANSWER,    /* sent, then the connection died or timed out:
			      the server may or may not have acted on it */
	HTTP_TOO_LARGE,    /* answer over HTTP_MAX_BODY */
	HTTP_TLS,          /* certificate or handshake failure: not retried */
};

struct http_response {
	long status;                /* HTTP status, 0 if none */
	struct secret body;         /* the response body */
	char request_id[128];       /* x-amzn-RequestId, if any */
	char content_type[128];
	enum http_failure failure;
	unsigned sends;             /* times libcurl sent the request (>1: it
				       re-sent on its own) */
	long new_connections;       /* connections opened for this request */
};

#define HTTP_RESPONSE_INIT { 0, SECRET_INIT, "", "", HTTP_OK, 0, 0 }

/* Check that `url` is https, or http to a loopback host; parse errors and
 * refusals are SESCTL_ERR_USAGE with a message in ctx->err. */
MUST_USE sesctl_err http_check_url(struct ctx *ctx, const char *url);

/* The Host header value ("host" or "host:port" when the URL names a port
 * that is not the scheme's default, as libcurl would send it) and the path
 * ("/" when empty) of `url`.  SESCTL_ERR_USAGE for an unparsable URL or
 * one with a query, user name or fragment. */
MUST_USE sesctl_err http_url_parts(struct ctx *ctx, const char *url,
				   char *host, size_t host_size, char *path,
				   size_t path_size);

/* A client for this run.  Debug output follows ctx->debug. */
MUST_USE sesctl_err http_client_new(struct ctx *ctx,
				    const struct http_options *opts,
				    struct http_client **out);
void http_client_free(struct http_client *c);

/* Send `req` once (no retries here: the caller decides, because only it
 * knows whether the request may be repeated).  Returns SESCTL_OK when an
 * HTTP response of any status arrived (see resp->status), else
 * SESCTL_ERR_NETWORK with resp->failure saying how far it got and a
 * message in ctx->err.  `resp` is replaced; release it with
 * http_response_release(). */
MUST_USE sesctl_err http_send(struct http_client *c,
			      const struct http_request *req,
			      struct http_response *resp);

void http_response_release(struct http_response *resp);

/* Undo libcurl's global set-up (main calls it last, so that what libcurl
 * frees is wiped while sesctl can still scrub the stack after it). */
void http_global_cleanup(void);

/* Connections opened by this client so far. */
long http_client_connections(const struct http_client *c);

/* Copy `in` into `out` with the secrets a debug log must not show
 * replaced by "<redacted>": the contents of XML elements whose name
 * contains SecretAccessKey, SessionToken, Password or Token, form fields of
 * the same names, and the Signature of an Authorization value.  Returns
 * a malloc'd NUL-terminated string (NULL on allocation failure). */
char *http_redact(const char *in, size_t len);

#endif
