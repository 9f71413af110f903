/* http.c - the libcurl transport (see http.h).
 *
 * Every transfer of a client runs on one multi handle, so they all share
 * its connection cache: http_send drives one transfer to its end on the
 * client's own easy handle, http_start/http_poll drive several at once on
 * a small pool of further easy handles.  A CURLSH shares TLS sessions and
 * the DNS cache between the handles, so a second connection to IAM
 * resumes the first one's TLS session. */
#include "sesctl/aws/http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"
#include "http_int.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L

/* One transfer: an easy handle and the request it is busy with. */
struct xfer {
	struct http_client *c;
	CURL *curl;
	char prefix[16];            /* "#N " in the debug log; "" for http_send */
	/* per request */
	struct http_response *resp;
	struct err_info *err;
	struct curl_slist *hdrs;
	char url[HTTP_URL_MAX];
	void *tag;
	bool busy;                  /* started and not yet reported */
	bool done;                  /* finished; rc is its outcome */
	bool too_large;
	sesctl_err write_rc;
	sesctl_err rc;
	struct xfer *next_done;
};

struct http_client {
	struct ctx *ctx;
	CURLM *multi;
	CURLSH *share;
	struct xfer *own;                     /* http_send's handle */
	struct xfer *pool[HTTP_MAX_PARALLEL]; /* http_start's handles */
	size_t n_pool;
	struct xfer *done_head, *done_tail;   /* finished, not yet reported */
	unsigned pending;                     /* started, not yet reported */
	unsigned next_id;
	long connections;
	long connect_ms, total_ms;
	struct http_ca ca;
};

static bool curl_ready;

/* ---- callbacks ----------------------------------------------------- */

/* The debug log (http_redact.c); also counts how often a request went
 * out. */
static int on_debug(CURL *handle, curl_infotype type, char *data, size_t size,
		    void *userp)
{
	struct xfer *x = userp;
	struct ctx *ctx = x->c->ctx;

	(void)handle;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		if (x->resp)
			x->resp->sends++;
		if (ctx->debug)
			debug_lines(ctx, x->prefix, '>', data, size);
		break;
	case CURLINFO_HEADER_IN:
		if (ctx->debug)
			debug_lines(ctx, x->prefix, '<', data, size);
		break;
	case CURLINFO_TEXT:
		if (ctx->debug)
			debug_lines(ctx, x->prefix, '*', data, size);
		break;
	case CURLINFO_DATA_IN:
	case CURLINFO_DATA_OUT:
	case CURLINFO_SSL_DATA_IN:
	case CURLINFO_SSL_DATA_OUT:
	case CURLINFO_END:
	default:
		/* Bodies are printed whole, redacted, when the transfer
		 * starts and ends. */
		break;
	}
	return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;

	if (x->resp->body.len + n > HTTP_MAX_BODY) {
		x->too_large = true;
		return 0;
	}
	x->write_rc = secret_append(&x->resp->body, data, n);
	return x->write_rc == SESCTL_OK ? n : 0;
}

static void copy_header_value(char *dst, size_t dst_size, const char *v,
			      size_t n)
{
	while (n > 0 && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= dst_size)
		n = dst_size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;
	const char *colon = memchr(data, ':', n);
	size_t name_len;

	if (!colon)
		return n;
	name_len = (size_t)(colon - data);
	if (name_len == 16 && strncasecmp(data, "x-amzn-requestid", 16) == 0)
		copy_header_value(x->resp->request_id,
				  sizeof(x->resp->request_id), colon + 1,
				  n - name_len - 1);
	else if (name_len == 12 && strncasecmp(data, "content-type", 12) == 0)
		copy_header_value(x->resp->content_type,
				  sizeof(x->resp->content_type), colon + 1,
				  n - name_len - 1);
	return n;
}

/* ---- transfers ----------------------------------------------------- */

static void xfer_reset(struct xfer *x)
{
	if (x->busy && !x->done)
		curl_multi_remove_handle(x->c->multi, x->curl);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	x->resp = NULL;
	x->err = NULL;
	x->tag = NULL;
	x->next_done = NULL;
	x->busy = false;
	x->done = false;
}

static void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->curl) {
		xfer_reset(x);
		curl_easy_cleanup(x->curl);
	}
	free(x);
}

/* A new easy handle with the client's settings. */
static sesctl_err xfer_new(struct http_client *c, struct err_info *err,
			   struct xfer **out)
{
	struct xfer *x = NULL;
	CURLcode cc = CURLE_OK;
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	ENSURE(x, err_set(err, SESCTL_ERR_NOMEM, "out of memory"));
	x->c = c;
	x->curl = curl_easy_init();
	ENSURE(x->curl, err_set(err, SESCTL_ERR_NOMEM,
				"libcurl could not create a handle"));

#define SETOPT(o, v)                                                         \
	do {                                                                 \
		if (cc == CURLE_OK)                                          \
			cc = curl_easy_setopt(x->curl, o, v);                \
	} while (0)
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, c->total_ms);
	SETOPT(CURLOPT_USERAGENT, "sesctl/" SESCTL_VERSION);
	SETOPT(CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, x);
	/* VERBOSE only routes libcurl's trace into on_debug, which prints
	 * (redacted) with --debug and otherwise just counts sends. */
	SETOPT(CURLOPT_DEBUGFUNCTION, on_debug);
	SETOPT(CURLOPT_DEBUGDATA, x);
	SETOPT(CURLOPT_VERBOSE, 1L);
	SETOPT(CURLOPT_PRIVATE, x);
	SETOPT(CURLOPT_SHARE, c->share);
#undef SETOPT
	if (cc == CURLE_OK)
		cc = http_ca_setopt(x->curl, &c->ca);
	ENSURE(cc == CURLE_OK,
	       err_set(err, SESCTL_ERR_FAIL, "libcurl setup failed: %s",
		       curl_easy_strerror(cc)));
	*out = x;
	x = NULL;
out:
	xfer_free(x);
	return rc;
}

/* Set `x` up for `req` and hand it to the multi handle. */
static sesctl_err xfer_start(struct xfer *x, const struct http_request *req,
			     struct http_response *resp, struct err_info *err)
{
	struct secret line = SECRET_INIT;
	struct curl_slist *tmp;
	CURLMcode mc;
	sesctl_err rc = SESCTL_OK;
	size_t i;
	int n;

	http_response_release(resp);
	x->resp = resp;
	x->err = err;
	x->too_large = false;
	x->write_rc = SESCTL_OK;
	x->rc = SESCTL_OK;
	x->busy = true;
	x->done = false;
	n = snprintf(x->url, sizeof(x->url), "%s", req->url);
	ENSURE(n >= 0 && (size_t)n < sizeof(x->url),
	       err_set(err, SESCTL_ERR_USAGE, "URL too long"));

	/* Header lines can hold the session token: build them in a wiping
	 * buffer; libcurl's own copy in the slist is a documented residual
	 * (freed through secret_lib_free, which wipes). */
	for (i = 0; i < req->n_headers; i++) {
		secret_clear(&line);
		TRY(secret_append(&line, req->headers[i].name,
				  strlen(req->headers[i].name)));
		TRY(secret_append(&line, ": ", 2));
		TRY(secret_append(&line, req->headers[i].value,
				  strlen(req->headers[i].value)));
		tmp = curl_slist_append(x->hdrs, secret_str(&line));
		ENSURE(tmp, err_set(err, SESCTL_ERR_NOMEM, "out of memory"));
		x->hdrs = tmp;
	}
	/* libcurl adds these unless told not to; IAM does not want them. */
	tmp = curl_slist_append(x->hdrs, "Expect:");
	ENSURE(tmp, err_set(err, SESCTL_ERR_NOMEM, "out of memory"));
	x->hdrs = tmp;
	tmp = curl_slist_append(x->hdrs, "Accept:");
	ENSURE(tmp, err_set(err, SESCTL_ERR_NOMEM, "out of memory"));
	x->hdrs = tmp;

	curl_easy_setopt(x->curl, CURLOPT_URL, req->url);
	/* Plain http goes only to loopback (http_check_url) or to the
	 * container and instance metadata addresses (aws/creds/): never
	 * through a proxy from http_proxy/ALL_PROXY, which would see the
	 * signed requests and the answers, CreateAccessKey's secret among
	 * them, in the clear.  https keeps the environment's proxy. */
	curl_easy_setopt(x->curl, CURLOPT_NOPROXY,
			 strncasecmp(req->url, "http://", 7) == 0 ? "*" :
								    NULL);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->hdrs);
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(x->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(x->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
		curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST,
				 strcmp(req->method, "POST") == 0 ? NULL :
								    req->method);
	}
	debug_body(x->c->ctx, x->prefix, '>', req->body, req->body_len);
	mc = curl_multi_add_handle(x->c->multi, x->curl);
	ENSURE(mc == CURLM_OK,
	       err_set(err, mc == CURLM_OUT_OF_MEMORY ? SESCTL_ERR_NOMEM :
							 SESCTL_ERR_FAIL,
		       "libcurl could not start a request: %s",
		       curl_multi_strerror(mc)));
out:
	secret_free(&line);
	if (rc != SESCTL_OK) {
		/* Nothing went out. */
		x->done = true; /* not in the multi handle */
		xfer_reset(x);
		resp->failure = HTTP_NOT_SENT;
	}
	return rc;
}

static enum http_failure classify(CURLcode cc, bool sent)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return HTTP_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return HTTP_NOT_SENT;
	default:
		return sent ? HTTP_NO_ANSWER : HTTP_NOT_SENT;
	}
}

/* What a finished transfer came to: http_send's return value, with the
 * detail in x->err and x->resp. */
static sesctl_err xfer_result(struct xfer *x, CURLcode cc)
{
	struct http_response *resp = x->resp;
	struct http_client *c = x->c;
	long status = 0, conns = 0, req_size = 0;
	sesctl_err rc = SESCTL_OK;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->curl, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(x->curl, CURLINFO_REQUEST_SIZE, &req_size);
	resp->new_connections = conns;
	c->connections += conns;
	resp->status = status;

	if (cc == CURLE_OK) {
		resp->failure = HTTP_OK;
		debug_body(c->ctx, x->prefix, '<', resp->body.p, resp->body.len);
		goto out;
	}
	secret_clear(&resp->body);
	if (x->too_large) {
		resp->failure = HTTP_TOO_LARGE;
		rc = err_set(x->err, SESCTL_ERR_NETWORK,
			     "the answer from '%s' is larger than %zu bytes",
			     x->url, HTTP_MAX_BODY);
		goto out;
	}
	if (x->write_rc != SESCTL_OK) {
		rc = err_set(x->err, x->write_rc,
			     "could not store the answer from '%s'", x->url);
		goto out;
	}
	resp->failure = classify(cc, resp->sends > 0 || req_size > 0);
	switch (resp->failure) {
	case HTTP_TLS:
		if (c->ca.unreadable) {
			rc = err_set(x->err, SESCTL_ERR_NETWORK,
				     "no CA certificates could be read from "
				     "'%s' (%s)",
				     c->ca.unreadable,
				     c->ca.bundle ? "--ca-bundle or "
						    "AWS_CA_BUNDLE" :
						    "the system's CA bundle");
			break;
		}
		rc = err_set(x->err, SESCTL_ERR_NETWORK,
			     "TLS verification of '%s' failed: %s; for a "
			     "private CA pass --ca-bundle or set AWS_CA_BUNDLE",
			     x->url, curl_easy_strerror(cc));
		break;
	case HTTP_NOT_SENT:
		rc = err_set(x->err, SESCTL_ERR_NETWORK,
			     "cannot reach '%s': %s", x->url,
			     curl_easy_strerror(cc));
		break;
	case HTTP_NO_ANSWER:
	case HTTP_OK:
	case HTTP_TOO_LARGE:
	default:
		resp->failure = HTTP_NO_ANSWER;
		rc = err_set(x->err, SESCTL_ERR_NETWORK,
			     "no complete answer from '%s': %s", x->url,
			     curl_easy_strerror(cc));
		break;
	}
out:
	return rc;
}

/* Take every finished transfer off the multi handle: http_send's is
 * marked done, the others queue up for http_poll in the order they
 * finished. */
static void collect(struct http_client *c)
{
	CURLMsg *m;
	int left = 0;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		CURL *easy = m->easy_handle;
		CURLcode cc = m->data.result;
		char *priv = NULL;
		struct xfer *x;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)(void *)priv;
		curl_multi_remove_handle(c->multi, easy);
		if (!x || !x->busy || x->done)
			continue;
		x->done = true;
		x->rc = xfer_result(x, cc);
		if (x == c->own)
			continue;
		if (c->done_tail)
			c->done_tail->next_done = x;
		else
			c->done_head = x;
		c->done_tail = x;
	}
}

/* Let libcurl work, waiting up to timeout_ms for something to happen. */
static sesctl_err drive(struct http_client *c, long timeout_ms,
			struct err_info *err)
{
	CURLMcode mc;
	int running = 0;

	mc = curl_multi_perform(c->multi, &running);
	if (mc == CURLM_OK)
		collect(c);
	if (mc == CURLM_OK && running > 0 && timeout_ms > 0 &&
	    !c->done_head && !c->own->done) {
		mc = curl_multi_poll(c->multi, NULL, 0,
				     timeout_ms > 60000 ? 60000 :
							  (int)timeout_ms,
				     NULL);
		if (mc == CURLM_OK)
			mc = curl_multi_perform(c->multi, &running);
		if (mc == CURLM_OK)
			collect(c);
	}
	if (mc != CURLM_OK)
		return err_set(err,
			       mc == CURLM_OUT_OF_MEMORY ? SESCTL_ERR_NOMEM :
							   SESCTL_ERR_FAIL,
			       "libcurl failed: %s", curl_multi_strerror(mc));
	return SESCTL_OK;
}

/* ---- client -------------------------------------------------------- */

sesctl_err http_client_new(struct ctx *ctx, const struct http_options *opts,
			   struct http_client **out)
{
	struct http_client *c = NULL;
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	TRY(http_global_init(ctx));
	c = calloc(1, sizeof(*c));
	ENSURE(c, err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	c->ctx = ctx;
	c->connect_ms = opts && opts->connect_timeout_ms > 0 ?
				opts->connect_timeout_ms :
				DEFAULT_CONNECT_TIMEOUT_MS;
	c->total_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms :
						     DEFAULT_TIMEOUT_MS;
	c->ca.ctx = ctx;
	if (opts && opts->ca_bundle) {
		c->ca.bundle = strdup(opts->ca_bundle);
		ENSURE(c->ca.bundle, err_set(&ctx->err, SESCTL_ERR_NOMEM,
					     "out of memory"));
	}
	c->share = curl_share_init();
	c->multi = curl_multi_init();
	ENSURE(c->share && c->multi,
	       err_set(&ctx->err, SESCTL_ERR_NOMEM,
		       "libcurl could not create a handle"));
	/* TLS sessions and DNS answers are shared by every handle; the
	 * connections themselves live in the multi handle's cache. */
	ENSURE(curl_share_setopt(c->share, CURLSHOPT_SHARE,
				 CURL_LOCK_DATA_SSL_SESSION) == CURLSHE_OK &&
		       curl_share_setopt(c->share, CURLSHOPT_SHARE,
					 CURL_LOCK_DATA_DNS) == CURLSHE_OK &&
		       curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
					 (long)HTTP_MAX_PARALLEL) == CURLM_OK,
	       err_set(&ctx->err, SESCTL_ERR_FAIL, "libcurl setup failed"));
	TRY(xfer_new(c, &ctx->err, &c->own));
	*out = c;
	c = NULL;
out:
	http_client_free(c);
	return rc;
}

void http_client_free(struct http_client *c)
{
	size_t i;

	if (!c)
		return;
	/* Every easy handle leaves the multi handle first; the multi
	 * handle closes the cached connections; the share goes last,
	 * when no handle uses it any more. */
	if (c->own)
		xfer_reset(c->own);
	for (i = 0; i < c->n_pool; i++)
		xfer_reset(c->pool[i]);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	xfer_free(c->own);
	for (i = 0; i < c->n_pool; i++)
		xfer_free(c->pool[i]);
	if (c->share)
		curl_share_cleanup(c->share);
	free(c->ca.bundle);
	free(c);
}

sesctl_err http_global_init(struct ctx *ctx)
{
	if (curl_ready)
		return SESCTL_OK;
	/* libcurl's buffers hold IAM answers (secret keys) and SMTP
	 * passwords: they are wiped when freed. */
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, secret_lib_malloc,
				 secret_lib_free, secret_lib_realloc,
				 secret_lib_strdup,
				 secret_lib_calloc) != CURLE_OK)
		return err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "libcurl failed to initialise");
	curl_ready = true;
	return SESCTL_OK;
}

void http_global_cleanup(void)
{
	http_ca_global_cleanup();
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = false;
}

long http_client_connections(const struct http_client *c)
{
	return c ? c->connections : 0;
}

void http_response_release(struct http_response *resp)
{
	if (!resp)
		return;
	secret_free(&resp->body);
	resp->status = 0;
	resp->request_id[0] = '\0';
	resp->content_type[0] = '\0';
	resp->failure = HTTP_OK;
	resp->sends = 0;
	resp->new_connections = 0;
}

sesctl_err http_send(struct http_client *c, const struct http_request *req,
		     struct http_response *resp)
{
	struct xfer *x = c->own;
	sesctl_err rc = SESCTL_OK;

	TRY(xfer_start(x, req, resp, &c->ctx->err));
	while (!x->done) {
		rc = drive(c, 1000, &c->ctx->err);
		if (rc != SESCTL_OK) {
			/* libcurl itself failed: whether the request went
			 * out is not known for sure. */
			resp->failure = resp->sends ? HTTP_NO_ANSWER :
						      HTTP_NOT_SENT;
			goto out;
		}
	}
	rc = x->rc;
out:
	if (x->busy)
		xfer_reset(x);
	return rc;
}

/* ---- several at once ----------------------------------------------- */

sesctl_err http_start(struct http_client *c, const struct http_request *req,
		      struct http_response *resp, struct err_info *err,
		      void *tag, unsigned *id)
{
	struct xfer *x = NULL;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; i < c->n_pool && !x; i++)
		if (!c->pool[i]->busy)
			x = c->pool[i];
	if (!x) {
		if (c->n_pool >= HTTP_MAX_PARALLEL) {
			http_response_release(resp);
			resp->failure = HTTP_NOT_SENT;
			rc = err_set(err, SESCTL_ERR_FAIL,
				     "more than %d HTTP requests at once",
				     HTTP_MAX_PARALLEL);
			goto out;
		}
		rc = xfer_new(c, err, &x);
		if (rc != SESCTL_OK) {
			http_response_release(resp);
			resp->failure = HTTP_NOT_SENT;
			goto out;
		}
		c->pool[c->n_pool++] = x;
	}
	c->next_id++;
	snprintf(x->prefix, sizeof(x->prefix), "#%u ", c->next_id);
	if (id)
		*id = c->next_id;
	x->tag = tag;
	TRY(xfer_start(x, req, resp, err));
	c->pending++;
out:
	return rc;
}

sesctl_err http_poll(struct http_client *c, long timeout_ms, void **tag,
		     sesctl_err *result)
{
	struct xfer *x;
	sesctl_err rc = SESCTL_OK;

	*tag = NULL;
	*result = SESCTL_OK;
	if (!c->done_head && c->pending > 0)
		TRY(drive(c, timeout_ms, &c->ctx->err));
	x = c->done_head;
	if (!x)
		goto out;
	c->done_head = x->next_done;
	if (!c->done_head)
		c->done_tail = NULL;
	*tag = x->tag;
	*result = x->rc;
	xfer_reset(x);
	c->pending--;
out:
	return rc;
}

unsigned http_pending(const struct http_client *c)
{
	return c ? c->pending : 0;
}

void http_cancel(struct http_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_pool; i++)
		if (c->pool[i]->busy)
			xfer_reset(c->pool[i]);
	c->done_head = c->done_tail = NULL;
	c->pending = 0;
}
