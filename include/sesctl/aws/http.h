/* http.h - HTTPS transport over libcurl.
 *
 * With smtp_login (SMTP logins), the only module that includes
 * <curl/curl.h>.  One client per run: its transfers share one connection
 * cache (a libcurl multi handle), so http_send's requests, one after the
 * other, reuse one TLS connection, and
 * requests started together with http_start run at once, each on a
 * connection of its own (HTTP/1.1), which later requests reuse.  TLS
 * verification is always on; plain http is refused unless the host is a
 * loopback address.  The CAs trusted (--ca-bundle's file, else the
 * system's hashed CA directory, else its bundle file) are read once per
 * process, not per connection, for these clients and smtp_login's SMTP
 * logins alike (http_ca_use), and a new connection resumes the TLS
 * session of an earlier one of its client.  Response bodies land in a struct secret (they can hold
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
 * The lines of a request started with http_start carry a "#N " prefix (N
 * as http_start returns it), so that transfers running at once can be
 * told apart; http_send's lines have none.
 */
#ifndef SESCTL_HTTP_H
#define SESCTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#define HTTP_MAX_BODY ((size_t)1 << 20)
#define HTTP_URL_MAX 2048
#define HTTP_MAX_PARALLEL 16 /* requests started and not yet reported */

struct http_client;

struct http_options {
	const char *ca_bundle;   /* PEM file of trusted CAs, besides the
				    system's CA directory; NULL: the system's */
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

/* Whether libcurl parses `url` as http:// or https:// (*https says which)
 * with a host and without a user name or password; the host, without an
 * IPv6 address's brackets and without the port, into host[size].  For
 * callers that decide where plain http may go: the host they check is the
 * one libcurl will connect to. */
bool http_url_host(const char *url, bool *https, char *host, size_t size);

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

/* ---- several requests at once --------------------------------------
 * http_start() hands a request to libcurl and returns at once;
 * http_poll() lets every started request progress and reports them one
 * at a time as they finish.  Same rules as http_send: one send each, no
 * retries, the caller decides.
 *
 *	TRY(http_start(c, &req_a, &resp_a, &err_a, &a, NULL));
 *	TRY(http_start(c, &req_b, &resp_b, &err_b, &b, NULL));
 *	while (http_pending(c) > 0) {
 *		TRY(http_poll(c, 1000, &tag, &result));
 *		if (tag) ... result, resp and err of the request `tag` ...
 *	}
 */

/* Start `req` (at most HTTP_MAX_PARALLEL at a time).  Its URL and headers
 * are copied; req->body, `resp` and `err` must stay valid until http_poll
 * has reported it (or http_cancel).  `resp` is replaced as by http_send;
 * `err` receives the request's error message, `tag` identifies it to
 * http_poll, and *id (if `id` is not NULL) is its "#N" in the debug log.
 * An error here (out of memory, too many at once) is in `err`, with
 * resp->failure HTTP_NOT_SENT: nothing went out. */
MUST_USE sesctl_err http_start(struct http_client *c,
			       const struct http_request *req,
			       struct http_response *resp,
			       struct err_info *err, void *tag, unsigned *id);

/* Let the started requests progress for up to timeout_ms (0: only what
 * can be done without waiting) or until one has finished.  When one has,
 * *tag is its tag and *result what http_send would have returned for it
 * (its answer in its resp, the detail of a failure in its err); *tag is
 * NULL when none finished in that time.  The return value is an error
 * only when libcurl itself failed (message in ctx->err); then call
 * http_cancel. */
MUST_USE sesctl_err http_poll(struct http_client *c, long timeout_ms,
			      void **tag, sesctl_err *result);

/* Requests started and not yet reported by http_poll. */
unsigned http_pending(const struct http_client *c);

/* Abandon every started request not yet reported (their resp and err are
 * no longer touched; whether they reached the server is unknown). */
void http_cancel(struct http_client *c);

/* libcurl's global set-up, once per run, with the wiping allocator (the
 * clients do it; smtp_login, the other libcurl user, too). */
MUST_USE sesctl_err http_global_init(struct ctx *ctx);

/* Undo libcurl's global set-up (main calls it last, so that what libcurl
 * frees is wiped while sesctl can still scrub the stack after it). */
void http_global_cleanup(void);

/* ---- the same trust for another module's libcurl handle -----------
 * smtp_login makes easy handles of its own; these set them up to trust
 * what the clients' connections trust (see the top), through the same
 * process-wide CA store, built at the first TLS connection of the run,
 * whoever makes it, and read again only for another bundle:
 *
 *	TRY(http_ca_new(ctx, ca_bundle, &ca));
 *	TRY(http_ca_use(ca, curl));
 *	... curl_easy_perform(curl) ...; curl_easy_cleanup(curl);
 *	http_ca_free(ca);
 */
struct http_ca;

/* What to trust: `ca_bundle`, a PEM file (copied), besides the system's
 * CA directory; NULL: the system's CAs.  The debug log's "CA store:" line
 * goes to `ctx`. */
MUST_USE sesctl_err http_ca_new(struct ctx *ctx, const char *ca_bundle,
				struct http_ca **out);

/* Set up `curl` (a libcurl easy handle, CURL *) to trust what `ca` says;
 * `ca` must outlive the handle.  A libcurl on another TLS library or
 * OpenSSL major version than sesctl's gets CURLOPT_CAINFO (the bundle)
 * instead.  SESCTL_ERR_FAIL, with a message in ctx->err, when libcurl
 * refuses an option. */
MUST_USE sesctl_err http_ca_use(struct http_ca *ca, void *curl);

/* The file no CA certificate could be read from, once a connection
 * failed with that (CURLE_SSL_CACERT_BADFILE); NULL otherwise. */
const char *http_ca_unreadable(const struct http_ca *ca);

void http_ca_free(struct http_ca *ca);

/* Connections opened by this client so far (by all its requests). */
long http_client_connections(const struct http_client *c);

/* Copy `in` into `out` with the secrets a debug log must not show
 * replaced by "<redacted>": the contents of XML elements whose name
 * contains SecretAccessKey, SessionToken, Password or Token, form fields of
 * the same names, and the Signature of an Authorization value.  Returns
 * a malloc'd NUL-terminated string (NULL on allocation failure). */
char *http_redact(const char *in, size_t len);

#endif
