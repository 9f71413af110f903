/* iam.c - the IAM Query API client (see iam.h). */
#include "sesctl/aws/iam.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sesctl/base/backoff.h"
#include "sesctl/aws/region.h"
#include "sesctl/aws/sigv4.h"

#define FORM_MAX ((size_t)256 << 10)

/* How safe it is to send an action again when its first try may or may
 * not have been applied. */
#define IAM_READ       0x1 /* reads only: repeat freely */
#define IAM_IDEMPOTENT 0x2 /* a change whose effect can be read back: its
			      typed call resolves an unknown outcome that
			      way, and sends it again only if not applied */
#define IAM_CREATES    0x4 /* a repeat would create a second thing: the
			      caller resolves an unknown outcome */
#define IAM_IN_STATUS  0x8 /* 'sesctl smtp status' shows its effect */

struct iam_action;
struct list_desc;

/* Read back whether change `a`, sent with `p`, shows in IAM's state. */
typedef sesctl_err (*resolve_fn)(struct iam_client *c,
				 const struct iam_action *a,
				 const struct iam_param *p, size_t n,
				 bool *applied);

struct iam_action {
	const char *name;
	unsigned flags;
	/* Changes only. */
	resolve_fn resolve;           /* NULL: an unknown outcome stays so */
	const struct list_desc *list; /* the listing `resolve` reads, if any */
	const char *id_param;         /* the parameter naming the list item */
	size_t id_off;                /* where an item's name is in the item */
	const char *shows;            /* the aws CLI command showing the state */
};

static const struct iam_action *find_action(const char *name);

/* ---- form body ----------------------------------------------------- */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static sesctl_err form_append(char **buf, size_t *len, size_t *cap,
			      const char *s, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		size_t need = encode && !unreserved(*p) ? 3 : 1;

		if (*len + need + 1 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			char *nb;

			while (ncap < *len + need + 1)
				ncap *= 2;
			if (ncap > FORM_MAX)
				return SESCTL_ERR_INPUT;
			nb = realloc(*buf, ncap);
			if (!nb)
				return SESCTL_ERR_NOMEM;
			*buf = nb;
			*cap = ncap;
		}
		if (need == 3) {
			(*buf)[(*len)++] = '%';
			(*buf)[(*len)++] = hex[*p >> 4];
			(*buf)[(*len)++] = hex[*p & 0xf];
		} else {
			(*buf)[(*len)++] = (char)*p;
		}
	}
	if (*buf)
		(*buf)[*len] = '\0';
	return SESCTL_OK;
}

sesctl_err iam_form_body(const char *action, const struct iam_param *params,
			 size_t n_params, char **out)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, i;
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	TRY(form_append(&buf, &len, &cap, "Action=", false));
	TRY(form_append(&buf, &len, &cap, action, true));
	TRY(form_append(&buf, &len, &cap, "&Version=" IAM_API_VERSION, false));
	for (i = 0; i < n_params; i++) {
		if (!params[i].value)
			continue;
		TRY(form_append(&buf, &len, &cap, "&", false));
		TRY(form_append(&buf, &len, &cap, params[i].name, true));
		TRY(form_append(&buf, &len, &cap, "=", false));
		TRY(form_append(&buf, &len, &cap, params[i].value, true));
	}
	*out = buf;
	buf = NULL;
out:
	free(buf);
	return rc;
}

/* ---- client -------------------------------------------------------- */

static int env_max_attempts(struct ctx *ctx)
{
	const char *v = getenv("AWS_MAX_ATTEMPTS");
	char *end = NULL;
	long n;

	if (!v || !*v)
		return IAM_DEFAULT_MAX_ATTEMPTS;
	n = strtol(v, &end, 10);
	if (!end || *end || n < 1 || n > IAM_MAX_ATTEMPTS_LIMIT) {
		ctx_warn(ctx, "ignoring AWS_MAX_ATTEMPTS='%s': not a number from "
			      "1 to %d",
			 v, IAM_MAX_ATTEMPTS_LIMIT);
		return IAM_DEFAULT_MAX_ATTEMPTS;
	}
	return (int)n;
}

sesctl_err iam_client_init(struct iam_client *c, struct ctx *ctx,
			   const struct iam_config *cfg)
{
	const struct partition_info *part = region_partition(cfg->region);
	const char *url = cfg->endpoint_url, *url_source = "--endpoint-url";
	const char *ca = cfg->ca_bundle;
	struct http_options ho = { NULL, cfg->connect_timeout_ms,
				   cfg->timeout_ms };
	sesctl_err rc = SESCTL_OK;
	int n;

	/* The AWS SDKs' order: flag, service-specific, then global. */
	if (!url && getenv("AWS_ENDPOINT_URL_IAM") &&
	    *getenv("AWS_ENDPOINT_URL_IAM")) {
		url = getenv("AWS_ENDPOINT_URL_IAM");
		url_source = "AWS_ENDPOINT_URL_IAM";
	}
	if (!url && getenv("AWS_ENDPOINT_URL") && *getenv("AWS_ENDPOINT_URL")) {
		url = getenv("AWS_ENDPOINT_URL");
		url_source = "AWS_ENDPOINT_URL";
	}
	if (!url) {
		url = part->iam_endpoint;
		url_source = "the partition's IAM endpoint";
	}
	if (!ca && getenv("AWS_CA_BUNDLE") && *getenv("AWS_CA_BUNDLE"))
		ca = getenv("AWS_CA_BUNDLE");
	ho.ca_bundle = ca;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->access_key_id = cfg->access_key_id;
	c->secret_key = cfg->secret_key;
	c->session_token = cfg->session_token;
	c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts :
						  env_max_attempts(ctx);
	c->retry_base_ms = backoff_base_ms();
#if SESCTL_TEST_HOOKS
	/* Fault tests shorten the request timeout. */
	if (getenv("SESCTL_TEST_TIMEOUT_MS") && !ho.timeout_ms)
		ho.timeout_ms = strtol(getenv("SESCTL_TEST_TIMEOUT_MS"), NULL,
				       10);
#endif
	TRY(http_check_url(ctx, url));
	n = snprintf(c->url, sizeof(c->url), "%s", url);
	ENSURE(n > 0 && (size_t)n < sizeof(c->url),
	       err_set(&ctx->err, SESCTL_ERR_USAGE, "endpoint URL too long"));
	TRY(http_url_parts(ctx, url, c->host, sizeof(c->host), c->path,
			   sizeof(c->path)));
	/* IAM is global per partition: always signed for the partition's
	 * own region, whatever region the SMTP user is for. */
	n = snprintf(c->signing_region, sizeof(c->signing_region), "%s",
		     part->iam_region);
	ENSURE(n > 0 && (size_t)n < sizeof(c->signing_region),
	       err_set(&ctx->err, SESCTL_ERR_FAIL, "signing region too long"));
	ctx_debug(ctx, "IAM endpoint %s (from %s), signed for %s (partition %s)",
		  c->url, url_source, c->signing_region, part->name);
	if (ca)
		ctx_debug(ctx, "trusting the CAs in '%s'", ca);
	TRY(http_client_new(ctx, &ho, &c->http));
out:
	return rc;
}

void iam_client_release(struct iam_client *c)
{
	if (!c)
		return;
	http_client_free(c->http);
	c->http = NULL;
}

/* ---- errors -------------------------------------------------------- */

static bool code_is(const char *code, const char *a, const char *b)
{
	return strcmp(code, a) == 0 || (b && strcmp(code, b) == 0);
}

/* Turn IAM's error `e` into a sesctl error (iam_xml_error_err decides the
 * exit code) with a message in `ei` that says what to do about it. */
static sesctl_err map_iam_error(const struct iam_client *c,
				const struct iam_error *e,
				struct err_info *ei, const char *action,
				long status)
{
	const char *code = e->code;
	sesctl_err rc = iam_xml_error_err(e, status);
	char rid[160] = "";

	if (e->request_id[0])
		snprintf(rid, sizeof(rid), " (request id %s)", e->request_id);

	if (code_is(code, "AccessDenied", "AccessDeniedException"))
		return err_set(ei, rc,
			       "IAM refused %s (%s): %s%s\nthe caller needs "
			       "permission 'iam:%s'",
			       action, code, e->message, rid, action);
	if (code_is(code, "InvalidClientTokenId", "UnrecognizedClientException"))
		return err_set(ei, rc,
			       "IAM does not know access key '%s': %s%s\ncheck "
			       "the credentials (a deleted key, or one of "
			       "another partition?)",
			       c->access_key_id, e->message, rid);
	if (code_is(code, "ExpiredToken", "ExpiredTokenException"))
		return err_set(ei, rc,
			       "the session token has expired: %s%s\nrefresh "
			       "the credentials and run again",
			       e->message, rid);
	if (code_is(code, "RequestExpired", "RequestTimeTooSkewed") ||
	    (code_is(code, "SignatureDoesNotMatch", NULL) &&
	     strstr(e->message, "expired")))
		return err_set(ei, rc,
			       "IAM rejected the request time: %s%s\nthis "
			       "machine's clock is probably wrong; sync it "
			       "(e.g. with NTP) and run again",
			       e->message, rid);
	if (code_is(code, "SignatureDoesNotMatch", NULL))
		return err_set(ei, rc,
			       "IAM says the signature does not match: %s%s\n"
			       "the secret access key does not belong to "
			       "access key '%s'",
			       e->message, rid, c->access_key_id);
	return err_set(ei, rc, "%s: %s: %s%s", action, code, e->message, rid);
}

/* A non-2xx answer: an IAM error (into `e`), or something else (a proxy's
 * HTML page, a wrong endpoint).  *retryable says whether the AWS SDKs'
 * standard retry mode would try again. */
static sesctl_err error_from_response(const struct iam_client *c,
				      const char *action,
				      const struct http_response *resp,
				      struct iam_error *e, struct err_info *ei,
				      bool *retryable)
{
	sesctl_err rc;

	*retryable = false;
	rc = iam_xml_parse_error(&resp->body, action, e, ei);
	if (rc == SESCTL_OK) {
		*retryable = iam_xml_error_retryable(e, resp->status);
		return map_iam_error(c, e, ei, action, resp->status);
	}
	if (rc == SESCTL_ERR_NOMEM)
		return err_set(ei, rc, "out of memory");
	/* Not an AWS error document. */
	*retryable = resp->status >= 500;
	if (resp->status >= 500)
		return err_set(ei, SESCTL_ERR_NETWORK,
			       "%s: IAM answered HTTP %ld without an AWS error "
			       "(%s)",
			       action, resp->status,
			       resp->content_type[0] ? resp->content_type :
						       "no content type");
	return err_set(ei, SESCTL_ERR_FAIL,
		       "%s: unexpected HTTP %ld from '%s' that is not an IAM "
		       "error (%s); is the endpoint URL right?",
		       action, resp->status, c->url,
		       resp->content_type[0] ? resp->content_type :
					       "no content type");
}

/* ---- sending ------------------------------------------------------- */

/* One signed request: the headers point into `auth` and `c`. */
struct signed_request {
	struct sigv4_auth auth;
	struct http_header hh[6];
	struct http_request req;
};

/* Sign `body` for this client, now.  Release sr->auth afterwards. */
static sesctl_err sign_request(struct iam_client *c, const char *body,
			       struct signed_request *sr, struct err_info *ei)
{
	static const char content_type[] =
		"application/x-www-form-urlencoded; charset=utf-8";
	struct sigv4_header sh[2] = { { "Host", c->host },
				      { "Content-Type", content_type } };
	struct sigv4_request sreq = { "POST", c->path, NULL, sh, 2, body,
				      strlen(body), true };
	struct sigv4_params sp = { c->access_key_id, c->secret_key,
				   c->session_token, c->signing_region, "iam",
				   ctx_now(c->ctx), false, false, 0 };
	size_t n = 0;
	sesctl_err rc = SESCTL_OK;

	rc = sigv4_sign(&sreq, &sp, &sr->auth);
	ENSURE(rc == SESCTL_OK,
	       err_set(ei, rc, "could not sign the IAM request"));
	sr->hh[n++] = (struct http_header){ "Host", c->host };
	sr->hh[n++] = (struct http_header){ "Content-Type", content_type };
	sr->hh[n++] = (struct http_header){ "X-Amz-Date", sr->auth.amz_date };
	if (sr->auth.send_security_token)
		sr->hh[n++] = (struct http_header){
			"X-Amz-Security-Token", secret_str(c->session_token)
		};
	sr->hh[n++] = (struct http_header){ "Authorization",
					    sr->auth.authorization };
	sr->req = (struct http_request){ "POST", c->url, sr->hh, n, body,
					 strlen(body) };
out:
	return rc;
}

/* Sign and send one attempt. */
static sesctl_err send_once(struct iam_client *c, const char *body,
			    struct http_response *resp)
{
	struct signed_request sr = { SIGV4_AUTH_INIT, { { NULL, NULL } },
				     { NULL, NULL, NULL, 0, NULL, 0 } };
	sesctl_err rc = SESCTL_OK;

	TRY(sign_request(c, body, &sr, &c->ctx->err));
	c->requests++;
	rc = http_send(c->http, &sr.req, resp);
out:
	sigv4_auth_release(&sr.auth);
	return rc;
}

/* Where one call's outcome goes, and what its last attempt came to. */
struct outcome {
	struct err_info *ei;  /* the call's message */
	struct iam_error *ie; /* IAM's error, if it sent one */
	bool answered;        /* a 2xx answer arrived; its body is in `body` */
	bool retry;           /* safe to send again, and worth it */
	bool unknown;         /* a change may or may not have been applied */
};

/* The errors AWS documents as refusals of a request it did not apply
 * (throttling), so that a change may be sent again after them. */
static bool not_applied_error(const struct iam_error *e, long status)
{
	static const char *const codes[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottled", "RequestThrottledException",
		"TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
	};
	size_t i;

	if (status >= 500)
		return false;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(e->code, codes[i]) == 0)
			return true;
	return false;
}

/* Judge one attempt of action `a`: `rc` and `resp` are what the transport
 * said.  Returns the call's error, or SESCTL_OK with o->answered.
 *
 * Reads are retried as the AWS SDKs' standard mode does: throttling, 5xx
 * and connection errors.  A change is sent again only when it surely was
 * not applied: it never went out, or IAM throttled it.  After anything
 * else that may follow an applied request (the connection died once it
 * was sent, a timeout, a 5xx, an answer too large to read, or libcurl
 * re-sending it on its own) its outcome is unknown: the typed call reads
 * the state back (call_change), or the caller does. */
static sesctl_err judge(const struct iam_client *c, const struct iam_action *a,
			sesctl_err rc, const struct http_response *resp,
			struct secret *body, struct outcome *o)
{
	bool change = !(a->flags & IAM_READ);

	o->retry = false;
	o->answered = false;
	o->unknown = false;
	if (rc != SESCTL_OK) {
		/* Say which call it was: the transport cannot. */
		if (resp->failure != HTTP_OK)
			err_set(o->ei, rc, "%s: %s", a->name, o->ei->msg);
		if (resp->failure == HTTP_NOT_SENT)
			o->retry = true;
		else if (resp->failure == HTTP_NO_ANSWER && !change)
			o->retry = true;
		else if (change && (resp->failure == HTTP_NO_ANSWER ||
				    resp->failure == HTTP_TOO_LARGE))
			o->unknown = true;
		return rc;
	}
	if (resp->status >= 200 && resp->status < 300) {
		/* libcurl re-sends on a reused connection that died before
		 * answering: the first may have been applied.  A repeated
		 * idempotent change that IAM accepted is where it should be;
		 * a repeated creation may have made two things. */
		if (resp->sends > 1 && (a->flags & IAM_CREATES))
			o->unknown = true;
		o->answered = true;
		rc = secret_set(body, resp->body.p, resp->body.len);
		if (rc != SESCTL_OK)
			return err_set(o->ei, rc, "out of memory");
		return SESCTL_OK;
	}
	/* An error answer.  Only a change that IAM throttled on its only
	 * send is surely not applied: a 5xx may follow an applied request,
	 * and an error after a re-send may answer the repeat of one
	 * (NoSuchEntity, EntityAlreadyExists, LimitExceeded). */
	rc = error_from_response(c, a->name, resp, o->ie, o->ei, &o->retry);
	if (change && (resp->status >= 500 || resp->sends > 1)) {
		o->unknown = true;
		o->retry = false;
	} else if (change && o->retry) {
		o->retry = not_applied_error(o->ie, resp->status);
	}
	return rc;
}

/* The message of a call that failed for good after `attempt` attempts. */
static sesctl_err give_up(const struct iam_client *c, const char *action,
			  sesctl_err rc, int attempt, const struct outcome *o)
{
	if (o->retry && c->max_attempts > 1)
		rc = err_set(o->ei, rc, "gave up after %d attempts: %s",
			     attempt, o->ei->msg);
	if (o->unknown)
		rc = err_set(o->ei, SESCTL_ERR_NETWORK,
			     "%s may or may not have been applied (%s)",
			     action, o->ei->msg);
	return rc;
}

/* Send `form` (action `a`) until it is answered or fails for good, with
 * at most *left attempts (counted down; *attempt counts up), backing off
 * between them. */
static sesctl_err send_until(struct iam_client *c, const struct iam_action *a,
			     const char *form, struct secret *body,
			     struct outcome *o, int *left, int *attempt)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	sesctl_err rc = SESCTL_OK;
	long ms;

	for (;;) {
		++*attempt;
		--*left;
		rc = send_once(c, form, &resp);
		rc = judge(c, a, rc, &resp, body, o);
		if (o->answered || !o->retry || *left <= 0)
			break;
		ms = backoff_jitter_ms(c->retry_base_ms, *attempt);
		ctx_debug(c->ctx, "%s: attempt %d of %d failed; retrying in %ld "
				  "ms",
			  a->name, *attempt, c->max_attempts, ms);
		backoff_sleep_ms(ms);
	}
	http_response_release(&resp);
	return rc;
}

/* Check `action`, build its form body into *form. */
static sesctl_err call_start(struct iam_client *c, const char *action,
			     const struct iam_param *params, size_t n_params,
			     const struct iam_action **a, char **form)
{
	sesctl_err rc = SESCTL_OK;

	memset(&c->last_error, 0, sizeof(c->last_error));
	c->outcome_unknown = false;
	*a = find_action(action);
	ENSURE(*a, err_set(&c->ctx->err, SESCTL_ERR_FAIL,
			   "unknown IAM action '%s'", action));
	rc = iam_form_body(action, params, n_params, form);
	ENSURE(rc == SESCTL_OK,
	       err_set(&c->ctx->err, rc, "%s: request too large", action));
	ctx_debug(c->ctx, "IAM %s", action);
out:
	return rc;
}

sesctl_err iam_call(struct iam_client *c, const char *action,
		    const struct iam_param *params, size_t n_params,
		    struct secret *body)
{
	const struct iam_action *a = NULL;
	struct outcome o = { &c->ctx->err, &c->last_error, false, false,
			     false };
	char *form = NULL;
	sesctl_err rc = SESCTL_OK;
	int left = c->max_attempts, attempt = 0;

	TRY(call_start(c, action, params, n_params, &a, &form));
	rc = send_until(c, a, form, body, &o, &left, &attempt);
	if (!o.answered)
		rc = give_up(c, action, rc, attempt, &o);
	c->outcome_unknown = o.unknown;
out:
	free(form);
	return rc;
}

/* ---- several calls at once ------------------------------------------ */

/* The state of one call of iam_call_many. */
struct flight {
	const struct iam_action *a;
	char *form;
	struct http_response resp;
	struct outcome o;
	int attempt;   /* attempts started */
	long due;      /* backoff_now_ms() at which the next attempt may start */
	unsigned id;   /* "#N" of the current attempt in the debug log */
	enum { F_WAITING, F_FLYING, F_DONE } state;
};

/* Start the next attempt of call `it`.  Failing here (signing, out of
 * memory) ends the call: nothing went out, and trying again would fail
 * the same way. */
static void flight_start(struct iam_client *c, struct iam_call_item *it,
			 struct flight *f)
{
	struct signed_request sr = { SIGV4_AUTH_INIT, { { NULL, NULL } },
				     { NULL, NULL, NULL, 0, NULL, 0 } };
	sesctl_err rc = SESCTL_OK;

	f->attempt++;
	it->attempts = (unsigned)f->attempt;
	TRY(sign_request(c, f->form, &sr, &it->err));
	c->requests++;
	rc = http_start(c->http, &sr.req, &f->resp, &it->err, f, &f->id);
	if (rc == SESCTL_OK)
		ctx_debug(c->ctx, "IAM %s (#%u)", it->action, f->id);
out:
	sigv4_auth_release(&sr.auth);
	if (rc == SESCTL_OK) {
		f->state = F_FLYING;
	} else {
		it->rc = rc;
		f->state = F_DONE;
	}
}

/* An attempt of call `it` has finished with `rc`: done, or wait and
 * retry. */
static void flight_land(struct iam_client *c, struct iam_call_item *it,
			struct flight *f, sesctl_err rc)
{
	long ms;

	rc = judge(c, f->a, rc, &f->resp, &it->body, &f->o);
	http_response_release(&f->resp);
	if (f->o.answered || !f->o.retry || f->attempt >= c->max_attempts) {
		it->rc = f->o.answered ? rc : give_up(c, it->action, rc,
						       f->attempt, &f->o);
		f->state = F_DONE;
		return;
	}
	ms = backoff_jitter_ms(c->retry_base_ms, f->attempt);
	ctx_debug(c->ctx, "%s (#%u): attempt %d of %d failed; retrying in %ld "
			  "ms",
		  it->action, f->id, f->attempt, c->max_attempts, ms);
	f->due = backoff_now_ms() + ms;
	f->state = F_WAITING;
}

/* Give every call not yet done the error in ctx->err. */
static void fail_rest(struct iam_client *c, struct iam_call_item *calls,
		      struct flight *f, size_t n, sesctl_err rc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (f && f[i].state == F_DONE)
			continue;
		calls[i].rc = rc;
		err_set(&calls[i].err, rc, "%s", c->ctx->err.msg);
		if (f)
			f[i].state = F_DONE;
	}
}

sesctl_err iam_call_many(struct iam_client *c, struct iam_call_item *calls,
			 size_t n, size_t max_in_flight)
{
	struct flight *f = NULL;
	size_t i, flying = 0, left = n;
	sesctl_err rc = SESCTL_OK, res;
	void *tag;

	if (max_in_flight == 0)
		max_in_flight = IAM_MAX_IN_FLIGHT;
	if (max_in_flight > HTTP_MAX_PARALLEL)
		max_in_flight = HTTP_MAX_PARALLEL;
	memset(&c->last_error, 0, sizeof(c->last_error));
	c->outcome_unknown = false;
	for (i = 0; i < n; i++) {
		calls[i].rc = SESCTL_OK;
		secret_free(&calls[i].body);
		memset(&calls[i].err, 0, sizeof(calls[i].err));
		memset(&calls[i].error, 0, sizeof(calls[i].error));
		calls[i].attempts = 0;
	}
	f = calloc(n ? n : 1, sizeof(*f));
	if (!f) {
		rc = err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory");
		fail_rest(c, calls, NULL, n, rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		f[i].a = find_action(calls[i].action);
		f[i].resp = (struct http_response)HTTP_RESPONSE_INIT;
		f[i].o = (struct outcome){ &calls[i].err, &calls[i].error,
					   false, false, false };
		/* Only calls that change nothing may overlap: the order of
		 * changes matters, and a lost answer to a change is resolved
		 * by reading state back, one step at a time. */
		if (!f[i].a || !(f[i].a->flags & IAM_READ)) {
			rc = err_set(&c->ctx->err, SESCTL_ERR_FAIL,
				     "IAM action '%s' %s", calls[i].action,
				     f[i].a ? "changes something and may not "
					      "run concurrently" :
					      "is unknown");
			fail_rest(c, calls, NULL, n, rc);
			goto out;
		}
		rc = iam_form_body(calls[i].action, calls[i].params,
				   calls[i].n_params, &f[i].form);
		if (rc != SESCTL_OK) {
			rc = err_set(&c->ctx->err, rc, "%s: request too large",
				     calls[i].action);
			fail_rest(c, calls, NULL, n, rc);
			goto out;
		}
	}

	while (left > 0) {
		long now = backoff_now_ms(), wait = -1;

		/* Start what is due, in order, up to the cap. */
		for (i = 0; i < n && flying < max_in_flight; i++) {
			if (f[i].state != F_WAITING || f[i].due > now)
				continue;
			flight_start(c, &calls[i], &f[i]);
			if (f[i].state == F_FLYING)
				flying++;
			else
				left--;
		}
		/* The nearest retry still to start. */
		for (i = 0; i < n; i++)
			if (f[i].state == F_WAITING &&
			    (wait < 0 || f[i].due - now < wait))
				wait = f[i].due - now > 0 ? f[i].due - now : 0;
		if (flying == 0) {
			if (wait < 0)
				break; /* cannot happen: nothing left to wait for */
			if (wait > 0)
				backoff_sleep_ms(wait);
			continue;
		}
		if (wait < 0 || wait > 1000 || flying >= max_in_flight)
			wait = 1000;
		rc = http_poll(c->http, wait, &tag, &res);
		while (rc == SESCTL_OK && tag) {
			struct flight *done = tag;

			i = (size_t)(done - f);
			flying--;
			flight_land(c, &calls[i], done, res);
			if (done->state == F_DONE)
				left--;
			rc = http_poll(c->http, 0, &tag, &res);
		}
		if (rc != SESCTL_OK) {
			/* libcurl itself failed: nothing more will come. */
			http_cancel(c->http);
			fail_rest(c, calls, f, n, rc);
			goto out;
		}
	}
	rc = SESCTL_OK;
out:
	/* The result is that of the first call that failed, in the order
	 * given: what calling them one after the other would have said. */
	for (i = 0; i < n; i++)
		if (calls[i].rc != SESCTL_OK) {
			rc = err_set(&c->ctx->err, calls[i].rc, "%s",
				     calls[i].err.msg);
			c->last_error = calls[i].error;
			break;
		}
	for (i = 0; f && i < n; i++) {
		http_response_release(&f[i].resp);
		free(f[i].form);
	}
	free(f);
	return rc;
}

/* ---- typed calls --------------------------------------------------- */

#define MAX_PAGES 1000
#define MAX_LIST_ITEMS ((size_t)100000)

/* The value of parameter `name` in `p`, or NULL. */
static const char *param(const struct iam_param *p, size_t n,
			 const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

/* Where the user sees the state change `a` was to make: "'aws iam
 * list-access-keys --user-name u' or 'sesctl smtp status'". */
static void state_hint(const struct iam_client *c, const struct iam_action *a,
		       const struct iam_param *p, size_t n, char *buf,
		       size_t size)
{
	const char *user = param(p, n, "UserName");
	bool in_status = a->flags & IAM_IN_STATUS;

	snprintf(buf, size, "'aws iam %s%s%s'%s%s%s", a->shows ? a->shows : "",
		 user ? " --user-name " : "", user ? user : "",
		 in_status ? " or '" : "",
		 in_status ? (c->status_cmd ? c->status_cmd :
					      "sesctl smtp status") :
			     "",
		 in_status ? "'" : "");
}

/* Make change `action` (its answer is only ResponseMetadata).  When its
 * outcome is unknown (see judge) and the action has a resolver, read the
 * state back: applied is success; not applied sends it once more, now
 * known to be safe, and resolves that attempt the same way, within
 * max_attempts sends in all.  Fails with c->outcome_unknown set when the
 * outcome stays unknown. */
static sesctl_err call_change(struct iam_client *c, const char *action,
			      const struct iam_param *p, size_t n)
{
	const struct iam_action *a = NULL;
	struct secret body = SECRET_INIT;
	struct iam_metadata meta;
	struct outcome o = { &c->ctx->err, &c->last_error, false, false,
			     false };
	struct iam_error sent_error;
	char why[ERR_MSG_MAX], hint[512];
	char *form = NULL;
	int left = c->max_attempts, attempt = 0;
	bool applied = false;
	sesctl_err rc = SESCTL_OK, sent_rc;

	memset(&meta, 0, sizeof(meta));
	TRY(call_start(c, action, p, n, &a, &form));
	for (;;) {
		rc = send_until(c, a, form, &body, &o, &left, &attempt);
		if (o.answered) {
			rc = iam_xml_parse_ack(&body, action, &meta,
					       &c->ctx->err);
			if (rc == SESCTL_OK || rc == SESCTL_ERR_NOMEM)
				goto out;
			/* IAM said 2xx, but what came cannot be read. */
			o.unknown = true;
		}
		if (!o.unknown) {
			rc = give_up(c, action, rc, attempt, &o);
			goto out;
		}
		state_hint(c, a, p, n, hint, sizeof(hint));
		if (!a->resolve) {
			rc = give_up(c, action, rc, attempt, &o);
			rc = err_set(&c->ctx->err, rc, "%s\n%s shows what IAM has",
				     c->ctx->err.msg, hint);
			goto out;
		}
		/* Read back; the reads' own errors must not be taken for the
		 * change's. */
		snprintf(why, sizeof(why), "%s", c->ctx->err.msg);
		sent_rc = rc;
		sent_error = c->last_error;
		ctx_debug(c->ctx, "%s may or may not have been applied (%s); "
				  "reading the state back",
			  action, why);
		rc = a->resolve(c, a, p, n, &applied);
		c->last_error = sent_error;
		if (rc != SESCTL_OK) {
			rc = err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
				     "%s may or may not have been applied (%s), "
				     "and reading the state back failed (%s); "
				     "the outcome is unknown: %s shows what "
				     "IAM has",
				     action, why, c->ctx->err.msg, hint);
			goto out;
		}
		o.unknown = false;
		if (applied) {
			ctx_debug(c->ctx, "%s was applied; its answer was lost",
				  action);
			memset(&c->last_error, 0, sizeof(c->last_error));
			goto out;
		}
		if (left <= 0) {
			rc = err_set(&c->ctx->err, sent_rc,
				     "%s was not applied after %d attempts: %s",
				     action, attempt, why);
			goto out;
		}
		{
			long ms = backoff_jitter_ms(c->retry_base_ms, attempt);

			ctx_debug(c->ctx, "%s was not applied; sending it again "
					  "in %ld ms",
				  action, ms);
			backoff_sleep_ms(ms);
		}
		secret_free(&body);
		memset(&c->last_error, 0, sizeof(c->last_error));
	}
out:
	c->outcome_unknown = o.unknown;
	iam_metadata_release(&meta);
	secret_free(&body);
	free(form);
	return rc;
}

/* Actions with one result struct. */
typedef sesctl_err (*parse_fn)(const struct secret *body, void *out,
			       struct err_info *ei);

static sesctl_err call_one(struct iam_client *c, const char *action,
			   const struct iam_param *p, size_t n, parse_fn parse,
			   void *out)
{
	struct secret body = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;

	TRY(iam_call(c, action, p, n, &body));
	rc = parse(&body, out, &c->ctx->err);
	if (rc != SESCTL_OK && (find_action(action)->flags & IAM_CREATES)) {
		/* IAM said 2xx, so it made the thing, but what it made (a
		 * new key's secret) cannot be read: as good as lost. */
		c->outcome_unknown = true;
		rc = err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
			     "%s was applied but its answer cannot be read (%s)",
			     action, c->ctx->err.msg);
	}
out:
	secret_free(&body);
	return rc;
}

/* The paginated lists all share one shape: items, count, is_truncated,
 * marker.  One description per list type lets call_list() follow the
 * pages for all of them. */
struct list_desc {
	const char *action;
	parse_fn parse;
	void (*release)(void *list);
	size_t list_size, item_size;
	size_t items_off, count_off, truncated_off, marker_off;
};

#define LIST_DESC(act, type, item_type, parse_name, release_name)            \
	{ act, parse_name, release_name, sizeof(type), sizeof(item_type),     \
	  offsetof(type, items), offsetof(type, count),                       \
	  offsetof(type, is_truncated), offsetof(type, marker) }

#define LIST_ADAPTERS(name, type, parse, release)                            \
	static sesctl_err parse_##name(const struct secret *b, void *o,      \
				       struct err_info *ei)                  \
	{                                                                    \
		return parse(b, o, ei);                                      \
	}                                                                    \
	static void release_##name(void *l)                                  \
	{                                                                    \
		release(l);                                                  \
	}

LIST_ADAPTERS(users, struct iam_user_list, iam_xml_list_users,
	      iam_user_list_release)
LIST_ADAPTERS(tags, struct iam_tag_list, iam_xml_list_user_tags,
	      iam_tag_list_release)
LIST_ADAPTERS(attached, struct iam_attached_policy_list,
	      iam_xml_list_attached_user_policies,
	      iam_attached_policy_list_release)
LIST_ADAPTERS(keys, struct iam_access_key_list, iam_xml_list_access_keys,
	      iam_access_key_list_release)
LIST_ADAPTERS(policies, struct iam_id_list, iam_xml_list_user_policies,
	      iam_id_list_release)
LIST_ADAPTERS(groups, struct iam_id_list, iam_xml_list_groups_for_user,
	      iam_id_list_release)
LIST_ADAPTERS(certs, struct iam_id_list, iam_xml_list_signing_certificates,
	      iam_id_list_release)
LIST_ADAPTERS(ssh, struct iam_id_list, iam_xml_list_ssh_public_keys,
	      iam_id_list_release)
LIST_ADAPTERS(svc, struct iam_id_list,
	      iam_xml_list_service_specific_credentials, iam_id_list_release)
LIST_ADAPTERS(mfa, struct iam_id_list, iam_xml_list_mfa_devices,
	      iam_id_list_release)

static const struct list_desc list_users = LIST_DESC(
	"ListUsers", struct iam_user_list, struct iam_user, parse_users,
	release_users);
static const struct list_desc list_tags = LIST_DESC(
	"ListUserTags", struct iam_tag_list, struct iam_tag, parse_tags,
	release_tags);
static const struct list_desc list_attached = LIST_DESC(
	"ListAttachedUserPolicies", struct iam_attached_policy_list,
	struct iam_attached_policy, parse_attached, release_attached);
static const struct list_desc list_keys = LIST_DESC(
	"ListAccessKeys", struct iam_access_key_list,
	struct iam_access_key_meta, parse_keys, release_keys);
static const struct list_desc list_policies = LIST_DESC(
	"ListUserPolicies", struct iam_id_list, struct iam_id, parse_policies,
	release_policies);
static const struct list_desc list_groups = LIST_DESC(
	"ListGroupsForUser", struct iam_id_list, struct iam_id, parse_groups,
	release_groups);
static const struct list_desc list_certs = LIST_DESC(
	"ListSigningCertificates", struct iam_id_list, struct iam_id,
	parse_certs, release_certs);
static const struct list_desc list_ssh = LIST_DESC(
	"ListSSHPublicKeys", struct iam_id_list, struct iam_id, parse_ssh,
	release_ssh);
static const struct list_desc list_svc = LIST_DESC(
	"ListServiceSpecificCredentials", struct iam_id_list, struct iam_id,
	parse_svc, release_svc);
static const struct list_desc list_mfa = LIST_DESC(
	"ListMFADevices", struct iam_id_list, struct iam_id, parse_mfa,
	release_mfa);

#define FIELD(base, off, type) ((type *)((char *)(base) + (off)))

/* Page size to ask for: IAM's default unless a test asks for small pages
 * to exercise pagination. */
static const char *max_items(void)
{
#if SESCTL_TEST_HOOKS
	const char *v = getenv("SESCTL_TEST_MAX_ITEMS");

	if (v && *v)
		return v;
#endif
	return NULL;
}

/* Move the items of `page` (a page of list `d` just parsed) to the end of
 * `out`'s and empty it; *more says whether another page follows, and then
 * `marker` (IAM_XML_MARKER_MAX + 1 bytes) is where it starts.  `pages`
 * counts the pages so far. */
static sesctl_err list_merge(const struct list_desc *d, void *out, void *page,
			     char *marker, size_t *pages, bool *more,
			     struct err_info *ei)
{
	void **items = FIELD(out, d->items_off, void *);
	size_t *count = FIELD(out, d->count_off, size_t);
	void **page_items = FIELD(page, d->items_off, void *);
	size_t *page_count = FIELD(page, d->count_off, size_t);
	void *grown;
	sesctl_err rc = SESCTL_OK;

	*more = false;
	ENSURE(*count + *page_count <= MAX_LIST_ITEMS,
	       err_set(ei, SESCTL_ERR_NETWORK, "%s: more than %zu entries",
		       d->action, MAX_LIST_ITEMS));
	if (*page_count) {
		grown = realloc(*items, (*count + *page_count) * d->item_size);
		ENSURE(grown, err_set(ei, SESCTL_ERR_NOMEM, "out of memory"));
		*items = grown;
		/* Move the items: what they own now belongs to out. */
		memcpy((char *)grown + *count * d->item_size, *page_items,
		       *page_count * d->item_size);
		*count += *page_count;
		*page_count = 0;
	}
	if (!*FIELD(page, d->truncated_off, bool))
		goto out;
	ENSURE(++*pages < MAX_PAGES &&
		       *FIELD(page, d->marker_off, char) != '\0' &&
		       strcmp(marker, FIELD(page, d->marker_off, char)) != 0,
	       err_set(ei, SESCTL_ERR_NETWORK,
		       "%s: IAM's pagination does not advance (marker "
		       "missing or repeated)",
		       d->action));
	snprintf(marker, IAM_XML_MARKER_MAX + 1, "%s",
		 FIELD(page, d->marker_off, char));
	d->release(page);
	memset(page, 0, d->list_size);
	*more = true;
out:
	return rc;
}

static sesctl_err call_list(struct iam_client *c, const struct list_desc *d,
			    const char *user, const char *path_prefix,
			    void *out)
{
	struct iam_param p[4];
	char marker[IAM_XML_MARKER_MAX + 1] = "";
	void *page = NULL;
	size_t n, pages = 0;
	sesctl_err rc = SESCTL_OK;
	bool more = true;

	memset(out, 0, d->list_size);
	page = calloc(1, d->list_size);
	ENSURE(page, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	while (more) {
		n = 0;
		if (user)
			p[n++] = (struct iam_param){ "UserName", user };
		if (path_prefix)
			p[n++] = (struct iam_param){ "PathPrefix", path_prefix };
		if (marker[0])
			p[n++] = (struct iam_param){ "Marker", marker };
		if (max_items())
			p[n++] = (struct iam_param){ "MaxItems", max_items() };
		TRY(call_one(c, d->action, p, n, d->parse, page));
		TRY(list_merge(d, out, page, marker, &pages, &more,
			       &c->ctx->err));
	}
out:
	if (page) {
		d->release(page);
		free(page);
	}
	if (rc != SESCTL_OK)
		d->release(out);
	return rc;
}

/* Tags.member.N.Key / .Value parameters; `names` holds their names. */
static sesctl_err tag_params(struct iam_client *c, const struct iam_tag_in *tags,
			     size_t n_tags, struct iam_param *p, size_t *n,
			     char (*names)[40])
{
	size_t i;

	if (n_tags > 50)
		return err_set(&c->ctx->err, SESCTL_ERR_INPUT,
			       "at most 50 tags, not %zu", n_tags);
	for (i = 0; i < n_tags; i++) {
		snprintf(names[2 * i], 40, "Tags.member.%zu.Key", i + 1);
		snprintf(names[2 * i + 1], 40, "Tags.member.%zu.Value", i + 1);
		p[(*n)++] = (struct iam_param){ names[2 * i], tags[i].key };
		p[(*n)++] = (struct iam_param){ names[2 * i + 1],
						tags[i].value };
	}
	return SESCTL_OK;
}

static sesctl_err parse_user(const struct secret *b, void *o,
			     struct err_info *ei)
{
	return iam_xml_get_user(b, o, ei);
}

static sesctl_err parse_created_user(const struct secret *b, void *o,
				     struct err_info *ei)
{
	return iam_xml_create_user(b, o, ei);
}

sesctl_err iam_create_user(struct iam_client *c, const char *user,
			   const char *path, const struct iam_tag_in *tags,
			   size_t n_tags, struct iam_user_result *out)
{
	struct iam_param p[104];
	char names[100][40];
	size_t n = 0;
	sesctl_err rc = SESCTL_OK;

	p[n++] = (struct iam_param){ "UserName", user };
	if (path)
		p[n++] = (struct iam_param){ "Path", path };
	TRY(tag_params(c, tags, n_tags, p, &n, names));
	TRY(call_one(c, "CreateUser", p, n, parse_created_user, out));
out:
	return rc;
}

sesctl_err iam_get_user(struct iam_client *c, const char *user,
			struct iam_user_result *out)
{
	struct iam_param p[1] = { { "UserName", user } };

	return call_one(c, "GetUser", p, user ? 1 : 0, parse_user, out);
}

sesctl_err iam_tag_user(struct iam_client *c, const char *user,
			const struct iam_tag_in *tags, size_t n_tags)
{
	struct iam_param p[101];
	char names[100][40];
	size_t n = 0;
	sesctl_err rc = SESCTL_OK;

	p[n++] = (struct iam_param){ "UserName", user };
	TRY(tag_params(c, tags, n_tags, p, &n, names));
	TRY(call_change(c, "TagUser", p, n));
out:
	return rc;
}

sesctl_err iam_list_user_tags(struct iam_client *c, const char *user,
			      struct iam_tag_list *out)
{
	return call_list(c, &list_tags, user, NULL, out);
}

sesctl_err iam_list_users(struct iam_client *c, const char *path_prefix,
			  struct iam_user_list *out)
{
	return call_list(c, &list_users, NULL, path_prefix, out);
}

sesctl_err iam_delete_user(struct iam_client *c, const char *user)
{
	struct iam_param p[] = { { "UserName", user } };

	return call_change(c, "DeleteUser", p, 1);
}

sesctl_err iam_put_user_policy(struct iam_client *c, const char *user,
			       const char *policy_name, const char *document)
{
	struct iam_param p[] = { { "UserName", user },
				 { "PolicyName", policy_name },
				 { "PolicyDocument", document } };

	return call_change(c, "PutUserPolicy", p, 3);
}

static sesctl_err parse_user_policy(const struct secret *b, void *o,
				    struct err_info *ei)
{
	return iam_xml_get_user_policy(b, o, ei);
}

sesctl_err iam_get_user_policy(struct iam_client *c, const char *user,
			       const char *policy_name,
			       struct iam_user_policy *out)
{
	struct iam_param p[] = { { "UserName", user },
				 { "PolicyName", policy_name } };

	return call_one(c, "GetUserPolicy", p, 2, parse_user_policy, out);
}

sesctl_err iam_list_user_policies(struct iam_client *c, const char *user,
				  struct iam_id_list *out)
{
	return call_list(c, &list_policies, user, NULL, out);
}

sesctl_err iam_delete_user_policy(struct iam_client *c, const char *user,
				  const char *policy_name)
{
	struct iam_param p[] = { { "UserName", user },
				 { "PolicyName", policy_name } };

	return call_change(c, "DeleteUserPolicy", p, 2);
}

sesctl_err iam_attach_user_policy(struct iam_client *c, const char *user,
				  const char *policy_arn)
{
	struct iam_param p[] = { { "UserName", user },
				 { "PolicyArn", policy_arn } };

	return call_change(c, "AttachUserPolicy", p, 2);
}

sesctl_err iam_detach_user_policy(struct iam_client *c, const char *user,
				  const char *policy_arn)
{
	struct iam_param p[] = { { "UserName", user },
				 { "PolicyArn", policy_arn } };

	return call_change(c, "DetachUserPolicy", p, 2);
}

sesctl_err iam_list_attached_user_policies(struct iam_client *c,
					   const char *user,
					   struct iam_attached_policy_list *out)
{
	return call_list(c, &list_attached, user, NULL, out);
}

static sesctl_err parse_new_key(const struct secret *b, void *o,
				struct err_info *ei)
{
	return iam_xml_create_access_key(b, o, ei);
}

sesctl_err iam_create_access_key(struct iam_client *c, const char *user,
				 struct iam_access_key *out)
{
	struct iam_param p[] = { { "UserName", user } };
	sesctl_err rc = call_one(c, "CreateAccessKey", p, 1, parse_new_key, out);

	/* The answer held the new secret; the parse left pieces of it on
	 * the stack below us. */
	secret_scrub_stack();
	return rc;
}

sesctl_err iam_list_access_keys(struct iam_client *c, const char *user,
				struct iam_access_key_list *out)
{
	return call_list(c, &list_keys, user, NULL, out);
}

sesctl_err iam_update_access_key(struct iam_client *c, const char *user,
				 const char *key_id, const char *status)
{
	struct iam_param p[] = { { "UserName", user },
				 { "AccessKeyId", key_id },
				 { "Status", status } };

	return call_change(c, "UpdateAccessKey", p, 3);
}

sesctl_err iam_delete_access_key(struct iam_client *c, const char *user,
				 const char *key_id)
{
	struct iam_param p[] = { { "UserName", user },
				 { "AccessKeyId", key_id } };

	return call_change(c, "DeleteAccessKey", p, 2);
}

static sesctl_err parse_last_used(const struct secret *b, void *o,
				  struct err_info *ei)
{
	return iam_xml_get_access_key_last_used(b, o, ei);
}

sesctl_err iam_get_access_key_last_used(struct iam_client *c,
					const char *key_id,
					struct iam_access_key_last_used *out)
{
	struct iam_param p[] = { { "AccessKeyId", key_id } };

	return call_one(c, "GetAccessKeyLastUsed", p, 1, parse_last_used, out);
}

sesctl_err iam_list_groups_for_user(struct iam_client *c, const char *user,
				    struct iam_id_list *out)
{
	return call_list(c, &list_groups, user, NULL, out);
}

sesctl_err iam_remove_user_from_group(struct iam_client *c, const char *user,
				      const char *group)
{
	struct iam_param p[] = { { "GroupName", group },
				 { "UserName", user } };

	return call_change(c, "RemoveUserFromGroup", p, 2);
}

static sesctl_err parse_login_profile(const struct secret *b, void *o,
				      struct err_info *ei)
{
	return iam_xml_get_login_profile(b, o, ei);
}

sesctl_err iam_get_login_profile(struct iam_client *c, const char *user,
				 struct iam_login_profile *out)
{
	struct iam_param p[] = { { "UserName", user } };

	return call_one(c, "GetLoginProfile", p, 1, parse_login_profile, out);
}

sesctl_err iam_delete_login_profile(struct iam_client *c, const char *user)
{
	struct iam_param p[] = { { "UserName", user } };

	return call_change(c, "DeleteLoginProfile", p, 1);
}

sesctl_err iam_list_signing_certificates(struct iam_client *c,
					 const char *user,
					 struct iam_id_list *out)
{
	return call_list(c, &list_certs, user, NULL, out);
}

sesctl_err iam_delete_signing_certificate(struct iam_client *c,
					  const char *user, const char *cert_id)
{
	struct iam_param p[] = { { "UserName", user },
				 { "CertificateId", cert_id } };

	return call_change(c, "DeleteSigningCertificate", p, 2);
}

sesctl_err iam_list_ssh_public_keys(struct iam_client *c, const char *user,
				    struct iam_id_list *out)
{
	return call_list(c, &list_ssh, user, NULL, out);
}

sesctl_err iam_delete_ssh_public_key(struct iam_client *c, const char *user,
				     const char *key_id)
{
	struct iam_param p[] = { { "UserName", user },
				 { "SSHPublicKeyId", key_id } };

	return call_change(c, "DeleteSSHPublicKey", p, 2);
}

sesctl_err iam_list_service_specific_credentials(struct iam_client *c,
						 const char *user,
						 struct iam_id_list *out)
{
	return call_list(c, &list_svc, user, NULL, out);
}

sesctl_err iam_delete_service_specific_credential(struct iam_client *c,
						  const char *user,
						  const char *cred_id)
{
	struct iam_param p[] = { { "UserName", user },
				 { "ServiceSpecificCredentialId", cred_id } };

	return call_change(c, "DeleteServiceSpecificCredential", p, 2);
}

sesctl_err iam_list_mfa_devices(struct iam_client *c, const char *user,
				struct iam_id_list *out)
{
	return call_list(c, &list_mfa, user, NULL, out);
}

sesctl_err iam_deactivate_mfa_device(struct iam_client *c, const char *user,
				     const char *serial)
{
	struct iam_param p[] = { { "UserName", user },
				 { "SerialNumber", serial } };

	return call_change(c, "DeactivateMFADevice", p, 2);
}

sesctl_err iam_delete_virtual_mfa_device(struct iam_client *c,
					 const char *serial)
{
	struct iam_param p[] = { { "SerialNumber", serial } };

	return call_change(c, "DeleteVirtualMFADevice", p, 1);
}

sesctl_err iam_untag_user(struct iam_client *c, const char *user,
			  const char *const *keys, size_t n_keys)
{
	struct iam_param p[51];
	char names[50][32];
	size_t i, n = 0;
	sesctl_err rc = SESCTL_OK;

	ENSURE(n_keys <= 50, err_set(&c->ctx->err, SESCTL_ERR_INPUT,
				     "at most 50 tag keys, not %zu", n_keys));
	p[n++] = (struct iam_param){ "UserName", user };
	for (i = 0; i < n_keys; i++) {
		snprintf(names[i], sizeof(names[i]), "TagKeys.member.%zu",
			 i + 1);
		p[n++] = (struct iam_param){ names[i], keys[i] };
	}
	TRY(call_change(c, "UntagUser", p, n));
out:
	return rc;
}

/* ---- reading back a change whose outcome is unknown ------------------
 * Each resolver reads the state the change was to make and says whether
 * it is there.  The user being gone (NoSuchEntity on the read) counts as
 * applied for a removal and as not applied for anything else: sent again,
 * that one then fails with IAM's own NoSuchEntity. */

/* Whether list a->list of `user` holds an item named `id`. */
static sesctl_err list_holds(struct iam_client *c, const struct iam_action *a,
			     const char *user, const char *id, bool *holds)
{
	const struct list_desc *d = a->list;
	void *l = NULL;
	char *items;
	size_t i, count;
	sesctl_err rc = SESCTL_OK;

	*holds = false;
	l = calloc(1, d->list_size);
	ENSURE(l, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(call_list(c, d, user, NULL, l));
	items = *FIELD(l, d->items_off, char *);
	count = *FIELD(l, d->count_off, size_t);
	for (i = 0; i < count && !*holds; i++)
		*holds = strcmp(items + i * d->item_size + a->id_off, id) == 0;
	d->release(l);
out:
	free(l);
	return rc;
}

/* A removal of the list item named by a->id_param. */
static sesctl_err resolve_gone(struct iam_client *c, const struct iam_action *a,
			       const struct iam_param *p, size_t n,
			       bool *applied)
{
	bool holds = false;
	sesctl_err rc;

	rc = list_holds(c, a, param(p, n, "UserName"),
			param(p, n, a->id_param), &holds);
	*applied = rc == SESCTL_ERR_NOT_FOUND || (rc == SESCTL_OK && !holds);
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* An addition of the list item named by a->id_param. */
static sesctl_err resolve_there(struct iam_client *c,
				const struct iam_action *a,
				const struct iam_param *p, size_t n,
				bool *applied)
{
	sesctl_err rc;

	rc = list_holds(c, a, param(p, n, "UserName"),
			param(p, n, a->id_param), applied);
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* UpdateAccessKey: the key has the status sent. */
static sesctl_err resolve_key_status(struct iam_client *c,
				     const struct iam_action *a,
				     const struct iam_param *p, size_t n,
				     bool *applied)
{
	struct iam_access_key_list keys;
	const char *id = param(p, n, "AccessKeyId");
	const char *status = param(p, n, "Status");
	size_t i;
	sesctl_err rc;

	(void)a;
	*applied = false;
	rc = iam_list_access_keys(c, param(p, n, "UserName"), &keys);
	if (rc != SESCTL_OK)
		return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
	for (i = 0; i < keys.count; i++)
		if (strcmp(keys.items[i].access_key_id, id) == 0)
			*applied = strcmp(keys.items[i].status_text,
					  status) == 0;
	iam_access_key_list_release(&keys);
	return SESCTL_OK;
}

/* The value of tag `key` (IAM's tag keys are case-insensitive), or
 * NULL. */
static const char *tag_value(const struct iam_tag_list *tags, const char *key)
{
	size_t i;

	for (i = 0; i < tags->count; i++)
		if (strcasecmp(tags->items[i].key, key) == 0)
			return tags->items[i].value;
	return NULL;
}

/* TagUser: every tag is there with its value; UntagUser: none of the
 * keys is there. */
static sesctl_err resolve_tags(struct iam_client *c, const struct iam_action *a,
			       const struct iam_param *p, size_t n,
			       bool *applied)
{
	struct iam_tag_list tags;
	bool untag = strcmp(a->name, "UntagUser") == 0;
	const char *v;
	size_t i, len;
	sesctl_err rc;

	*applied = false;
	rc = iam_list_user_tags(c, param(p, n, "UserName"), &tags);
	if (rc == SESCTL_ERR_NOT_FOUND)
		*applied = untag;
	if (rc != SESCTL_OK)
		return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
	*applied = true;
	for (i = 0; i < n; i++) {
		len = strlen(p[i].name);
		if (untag && strncmp(p[i].name, "TagKeys.member.", 15) == 0) {
			if (tag_value(&tags, p[i].value))
				*applied = false;
		} else if (!untag && len > 4 &&
			   strcmp(p[i].name + len - 4, ".Key") == 0 &&
			   i + 1 < n) {
			/* tag_params puts each Value right after its Key. */
			v = tag_value(&tags, p[i].value);
			if (!v || strcmp(v, p[i + 1].value) != 0)
				*applied = false;
		}
	}
	iam_tag_list_release(&tags);
	return SESCTL_OK;
}

/* Whether JSON texts `x` and `y` are the same but for whitespace outside
 * strings (IAM hands back the policy document it stored, URL-encoded;
 * iam_xml decodes it). */
static bool same_json_text(const char *x, const char *y)
{
	bool in_str = false;

	for (;;) {
		if (!in_str) {
			while (*x == ' ' || *x == '\t' || *x == '\n' ||
			       *x == '\r')
				x++;
			while (*y == ' ' || *y == '\t' || *y == '\n' ||
			       *y == '\r')
				y++;
		}
		if (*x != *y)
			return false;
		if (!*x)
			return true;
		if (in_str && *x == '\\') {
			x++;
			y++;
			if (*x != *y)
				return false;
			if (!*x)
				return true;
		} else if (*x == '"') {
			in_str = !in_str;
		}
		x++;
		y++;
	}
}

/* PutUserPolicy: the policy holds the document sent; DeleteUserPolicy:
 * there is no such policy. */
static sesctl_err resolve_policy(struct iam_client *c,
				 const struct iam_action *a,
				 const struct iam_param *p, size_t n,
				 bool *applied)
{
	struct iam_user_policy pol;
	bool put = strcmp(a->name, "PutUserPolicy") == 0;
	sesctl_err rc;

	memset(&pol, 0, sizeof(pol));
	rc = iam_get_user_policy(c, param(p, n, "UserName"),
				 param(p, n, "PolicyName"), &pol);
	if (rc == SESCTL_OK)
		*applied = put && pol.policy_document &&
			   same_json_text(pol.policy_document,
					  param(p, n, "PolicyDocument"));
	else if (rc == SESCTL_ERR_NOT_FOUND)
		*applied = !put;
	iam_user_policy_release(&pol);
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* DeleteUser: no such user. */
static sesctl_err resolve_user_gone(struct iam_client *c,
				    const struct iam_action *a,
				    const struct iam_param *p, size_t n,
				    bool *applied)
{
	struct iam_user_result u;
	sesctl_err rc;

	(void)a;
	memset(&u, 0, sizeof(u));
	rc = iam_get_user(c, param(p, n, "UserName"), &u);
	iam_user_result_release(&u);
	*applied = rc == SESCTL_ERR_NOT_FOUND;
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* DeleteLoginProfile: no login profile (or no user). */
static sesctl_err resolve_login_gone(struct iam_client *c,
				     const struct iam_action *a,
				     const struct iam_param *p, size_t n,
				     bool *applied)
{
	struct iam_login_profile lp;
	sesctl_err rc;

	(void)a;
	memset(&lp, 0, sizeof(lp));
	rc = iam_get_login_profile(c, param(p, n, "UserName"), &lp);
	iam_login_profile_release(&lp);
	*applied = rc == SESCTL_ERR_NOT_FOUND;
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

#define NO_RESOLVE NULL, NULL, NULL, 0, NULL
#define BY_LIST(fn, list, param, type, field, shows)                        \
	fn, &list, param, offsetof(type, field), shows
#define BY_READ(fn, shows) fn, NULL, NULL, 0, shows

/* Sorted by name. */
static const struct iam_action actions[] = {
	{ "AttachUserPolicy", IAM_IDEMPOTENT,
	  BY_LIST(resolve_there, list_attached, "PolicyArn",
		  struct iam_attached_policy, policy_arn,
		  "list-attached-user-policies") },
	{ "CreateAccessKey", IAM_CREATES | IAM_IN_STATUS,
	  BY_READ(NULL, "list-access-keys") },
	{ "CreateUser", IAM_CREATES | IAM_IN_STATUS,
	  BY_READ(NULL, "get-user") },
	{ "DeactivateMFADevice", IAM_IDEMPOTENT,
	  BY_LIST(resolve_gone, list_mfa, "SerialNumber", struct iam_id, id,
		  "list-mfa-devices") },
	{ "DeleteAccessKey", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_LIST(resolve_gone, list_keys, "AccessKeyId",
		  struct iam_access_key_meta, access_key_id,
		  "list-access-keys") },
	{ "DeleteLoginProfile", IAM_IDEMPOTENT,
	  BY_READ(resolve_login_gone, "get-login-profile") },
	{ "DeleteSSHPublicKey", IAM_IDEMPOTENT,
	  BY_LIST(resolve_gone, list_ssh, "SSHPublicKeyId", struct iam_id, id,
		  "list-ssh-public-keys") },
	{ "DeleteServiceSpecificCredential", IAM_IDEMPOTENT,
	  BY_LIST(resolve_gone, list_svc, "ServiceSpecificCredentialId",
		  struct iam_id, id, "list-service-specific-credentials") },
	{ "DeleteSigningCertificate", IAM_IDEMPOTENT,
	  BY_LIST(resolve_gone, list_certs, "CertificateId", struct iam_id, id,
		  "list-signing-certificates") },
	{ "DeleteUser", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_user_gone, "get-user") },
	{ "DeleteUserPolicy", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_policy, "list-user-policies") },
	/* IAM lists virtual MFA devices only account-wide (and the
	 * stand-in not at all): left to the user. */
	{ "DeleteVirtualMFADevice", IAM_IDEMPOTENT,
	  BY_READ(NULL, "list-virtual-mfa-devices") },
	{ "DetachUserPolicy", IAM_IDEMPOTENT,
	  BY_LIST(resolve_gone, list_attached, "PolicyArn",
		  struct iam_attached_policy, policy_arn,
		  "list-attached-user-policies") },
	{ "GetAccessKeyLastUsed", IAM_READ, NO_RESOLVE },
	{ "GetLoginProfile", IAM_READ, NO_RESOLVE },
	{ "GetUser", IAM_READ, NO_RESOLVE },
	{ "GetUserPolicy", IAM_READ, NO_RESOLVE },
	{ "ListAccessKeys", IAM_READ, NO_RESOLVE },
	{ "ListAttachedUserPolicies", IAM_READ, NO_RESOLVE },
	{ "ListGroupsForUser", IAM_READ, NO_RESOLVE },
	{ "ListMFADevices", IAM_READ, NO_RESOLVE },
	{ "ListSSHPublicKeys", IAM_READ, NO_RESOLVE },
	{ "ListServiceSpecificCredentials", IAM_READ, NO_RESOLVE },
	{ "ListSigningCertificates", IAM_READ, NO_RESOLVE },
	{ "ListUserPolicies", IAM_READ, NO_RESOLVE },
	{ "ListUserTags", IAM_READ, NO_RESOLVE },
	{ "ListUsers", IAM_READ, NO_RESOLVE },
	{ "PutUserPolicy", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_policy, "list-user-policies") },
	{ "RemoveUserFromGroup", IAM_IDEMPOTENT,
	  BY_LIST(resolve_gone, list_groups, "GroupName", struct iam_id, id,
		  "list-groups-for-user") },
	{ "TagUser", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_tags, "list-user-tags") },
	{ "UntagUser", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_tags, "list-user-tags") },
	{ "UpdateAccessKey", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_key_status, "list-access-keys") },
};

static const struct iam_action *find_action(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

/* ---- typed reads, several at once ----------------------------------- */

static void release_user_result(void *o)
{
	iam_user_result_release(o);
}

static void release_user_policy(void *o)
{
	iam_user_policy_release(o);
}

static void release_last_used(void *o)
{
	iam_access_key_last_used_release(o);
}

/* What each kind of read sends and how its answer is read: a single
 * answer (parse) or a paginated list (list). */
struct read_desc {
	const char *action;
	bool user_param;      /* sends UserName */
	const char *arg_name; /* the parameter iam_read.arg fills, or NULL */
	parse_fn parse;
	void (*release)(void *out);
	size_t out_size;
	const struct list_desc *list;
};

static const struct read_desc read_descs[] = {
	[IAM_READ_GET_USER] = { "GetUser", true, NULL, parse_user,
				release_user_result,
				sizeof(struct iam_user_result), NULL },
	[IAM_READ_LIST_USER_TAGS] = { "ListUserTags", true, NULL, NULL, NULL,
				      0, &list_tags },
	[IAM_READ_GET_USER_POLICY] = { "GetUserPolicy", true, "PolicyName",
				       parse_user_policy, release_user_policy,
				       sizeof(struct iam_user_policy), NULL },
	[IAM_READ_LIST_USER_POLICIES] = { "ListUserPolicies", true, NULL, NULL,
					  NULL, 0, &list_policies },
	[IAM_READ_LIST_ATTACHED_USER_POLICIES] = { "ListAttachedUserPolicies",
						   true, NULL, NULL, NULL, 0,
						   &list_attached },
	[IAM_READ_LIST_ACCESS_KEYS] = { "ListAccessKeys", true, NULL, NULL,
					NULL, 0, &list_keys },
	[IAM_READ_GET_ACCESS_KEY_LAST_USED] = {
		"GetAccessKeyLastUsed", false, "AccessKeyId", parse_last_used,
		release_last_used, sizeof(struct iam_access_key_last_used),
		NULL },
	[IAM_READ_LIST_GROUPS_FOR_USER] = { "ListGroupsForUser", true, NULL,
					    NULL, NULL, 0, &list_groups },
};

/* Where one read of iam_read_many stands. */
struct read_state {
	const struct read_desc *d;
	struct iam_param p[4];
	char marker[IAM_XML_MARKER_MAX + 1];
	void *page; /* lists: the page being read */
	size_t pages;
	bool done;
};

sesctl_err iam_read_result(struct iam_client *c, const struct iam_read *r)
{
	if (r->rc == SESCTL_OK)
		return SESCTL_OK;
	c->last_error = r->error;
	return err_set(&c->ctx->err, r->rc, "%s", r->err.msg);
}

sesctl_err iam_read_many(struct iam_client *c, struct iam_read *reads,
			 size_t n, size_t max_in_flight)
{
	struct read_state *st = NULL;
	struct iam_call_item *calls = NULL;
	size_t *which = NULL, i, j, m;
	sesctl_err rc = SESCTL_OK, r2;

	for (i = 0; i < n; i++) {
		reads[i].rc = SESCTL_OK;
		memset(&reads[i].err, 0, sizeof(reads[i].err));
		memset(&reads[i].error, 0, sizeof(reads[i].error));
	}
	/* A caller's mistake is caught before anything is touched. */
	for (i = 0; i < n; i++) {
		const struct read_desc *d =
			(size_t)reads[i].kind <
					sizeof(read_descs) / sizeof(read_descs[0]) ?
				&read_descs[reads[i].kind] :
				NULL;

		ENSURE(d && d->action && (!d->arg_name || reads[i].arg) &&
			       reads[i].out,
		       err_set(&c->ctx->err, SESCTL_ERR_FAIL,
			       "bad IAM read %zu (kind %d)", i,
			       (int)reads[i].kind));
	}
	for (i = 0; i < n; i++) {
		const struct read_desc *d = &read_descs[reads[i].kind];

		memset(reads[i].out, 0,
		       d->list ? d->list->list_size : d->out_size);
	}
	st = calloc(n ? n : 1, sizeof(*st));
	calls = calloc(n ? n : 1, sizeof(*calls));
	which = calloc(n ? n : 1, sizeof(*which));
	ENSURE(st && calls && which,
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		st[i].d = &read_descs[reads[i].kind];
		if (st[i].d->list) {
			st[i].page = calloc(1, st[i].d->list->list_size);
			ENSURE(st[i].page, err_set(&c->ctx->err,
						   SESCTL_ERR_NOMEM,
						   "out of memory"));
		}
	}

	/* One round per page: most reads need one; a list IAM cut short
	 * goes on with its marker in the next round. */
	for (;;) {
		m = 0;
		for (i = 0; i < n; i++) {
			struct read_state *s = &st[i];
			size_t k = 0;

			if (s->done)
				continue;
			if (s->d->user_param && reads[i].user)
				s->p[k++] = (struct iam_param){ "UserName",
								reads[i].user };
			if (s->d->arg_name)
				s->p[k++] = (struct iam_param){
					s->d->arg_name, reads[i].arg
				};
			if (s->d->list && s->marker[0])
				s->p[k++] = (struct iam_param){ "Marker",
								s->marker };
			if (s->d->list && max_items())
				s->p[k++] = (struct iam_param){ "MaxItems",
								max_items() };
			calls[m] = (struct iam_call_item){
				s->d->action, s->p, k, SESCTL_OK, SECRET_INIT,
				{ SESCTL_OK, "", "" }, { "", "", "", "" }, 0
			};
			which[m++] = i;
		}
		if (m == 0)
			break;
		/* r2 is the first failure; each call's own outcome is
		 * looked at below. */
		r2 = iam_call_many(c, calls, m, max_in_flight);
		for (j = 0; j < m; j++) {
			struct iam_read *r = &reads[which[j]];
			struct read_state *s = &st[which[j]];
			bool more = false;

			if (calls[j].rc != SESCTL_OK) {
				r->rc = calls[j].rc;
				r->err = calls[j].err;
				r->error = calls[j].error;
			} else if (!s->d->list) {
				r->rc = s->d->parse(&calls[j].body, r->out,
						    &r->err);
			} else {
				r2 = s->d->list->parse(&calls[j].body, s->page,
						       &r->err);
				if (r2 == SESCTL_OK)
					r2 = list_merge(s->d->list, r->out,
							s->page, s->marker,
							&s->pages, &more,
							&r->err);
				r->rc = r2;
			}
			secret_free(&calls[j].body);
			if (r->rc != SESCTL_OK && s->d->list)
				s->d->list->release(r->out);
			s->done = r->rc != SESCTL_OK || !more;
		}
	}
out:
	if (rc != SESCTL_OK)
		for (i = 0; i < n; i++)
			if (reads[i].rc == SESCTL_OK) {
				reads[i].rc = rc;
				reads[i].err = c->ctx->err;
			}
	/* The first read that failed, in the order given. */
	for (i = 0; i < n; i++)
		if (reads[i].rc != SESCTL_OK) {
			rc = iam_read_result(c, &reads[i]);
			break;
		}
	for (i = 0; st && i < n; i++)
		if (st[i].page) {
			st[i].d->list->release(st[i].page);
			free(st[i].page);
		}
	if (calls)
		for (i = 0; i < n; i++)
			secret_free(&calls[i].body);
	free(which);
	free(calls);
	free(st);
	return rc;
}
