/* iam.c - the IAM Query API client (see iam.h): the form body, the
 * client, IAM's error documents into sesctl errors, and sending one call:
 * signing an attempt, judging what it came to (answered, worth another
 * try, or of unknown outcome), backing off between attempts (iam_call).
 * The typed calls are in iam_calls.c, several calls at once in
 * iam_many.c, the table of actions and reading back a change of unknown
 * outcome in iam_resolve.c; iam_int.h is what they share.
 */
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

#include "iam_int.h"

#define FORM_MAX ((size_t)256 << 10)

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

/* Sign `body` for this client, now.  Release sr->auth afterwards. */
sesctl_err sign_request(struct iam_client *c, const char *body,
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
sesctl_err judge(const struct iam_client *c, const struct iam_action *a,
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
sesctl_err give_up(const struct iam_client *c, const char *action,
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
sesctl_err send_until(struct iam_client *c, const struct iam_action *a,
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
sesctl_err call_start(struct iam_client *c, const char *action,
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
