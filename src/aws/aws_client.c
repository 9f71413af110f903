/* aws_client.c - the AWS client core (see aws_client.h): the endpoint and
 * the client, signing an attempt in the service's protocol, judging what
 * it came to (answered, worth another try, or of unknown outcome),
 * backing off between attempts, and the service's errors into sesctl's.
 * The protocols' own pieces (the Query form, JSON 1.1 errors) are in
 * aws_proto.c.
 */
#include "sesctl/aws/aws_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sesctl/aws/region.h"
#include "sesctl/base/backoff.h"

static const char *env_get(aws_env_fn env, const char *name)
{
	const char *v = env ? env(name) : getenv(name);

	return (v && *v) ? v : NULL;
}

/* ---- the client ---------------------------------------------------- */

static int env_max_attempts(struct ctx *ctx, aws_env_fn env)
{
	const char *v = env_get(env, "AWS_MAX_ATTEMPTS");
	char *end = NULL;
	long n;

	if (!v)
		return AWS_DEFAULT_MAX_ATTEMPTS;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !end || *end || n < 1 || n > AWS_MAX_ATTEMPTS_LIMIT) {
		ctx_warn(ctx, "ignoring AWS_MAX_ATTEMPTS='%s': not a number from "
			      "1 to %d",
			 v, AWS_MAX_ATTEMPTS_LIMIT);
		return AWS_DEFAULT_MAX_ATTEMPTS;
	}
	return (int)n;
}

const char *aws_endpoint_override(const struct aws_service *svc,
				  const struct aws_config *cfg,
				  const char **source)
{
	const char *url;

	/* The AWS SDKs' order: flag, service-specific, then global. */
	if (cfg->endpoint_url && *cfg->endpoint_url) {
		*source = "--endpoint-url";
		return cfg->endpoint_url;
	}
	url = env_get(cfg->env, svc->endpoint_env);
	if (url) {
		*source = svc->endpoint_env;
		return url;
	}
	url = env_get(cfg->env, "AWS_ENDPOINT_URL");
	*source = "AWS_ENDPOINT_URL";
	return url;
}

sesctl_err aws_client_init(struct aws_client *c, struct ctx *ctx,
			   const struct aws_service *svc,
			   const struct aws_config *cfg)
{
	const char *source = NULL;
	const char *url = aws_endpoint_override(svc, cfg, &source);
	const char *ca = cfg->ca_bundle;
	struct http_options ho = { NULL, cfg->connect_timeout_ms,
				   cfg->timeout_ms };
	sesctl_err rc = SESCTL_OK;
	int n;

	if (!url) {
		url = cfg->default_url;
		source = cfg->default_source;
	}
	if (!ca)
		ca = env_get(cfg->env, "AWS_CA_BUNDLE");
	ho.ca_bundle = ca;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->svc = svc;
	c->url_source = source;
	c->access_key_id = cfg->access_key_id;
	c->secret_key = cfg->secret_key;
	c->session_token = cfg->session_token && cfg->session_token->len > 0 ?
				   cfg->session_token :
				   NULL;
	c->max_attempts = cfg->max_attempts > 0 ?
				  cfg->max_attempts :
				  env_max_attempts(ctx, cfg->env);
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
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "the %s endpoint URL from %s is too long", svc->name,
		       source));
	TRY(http_url_parts(ctx, url, c->host, sizeof(c->host), c->path,
			   sizeof(c->path)));
	n = snprintf(c->signing_region, sizeof(c->signing_region), "%s",
		     cfg->signing_region);
	ENSURE(n > 0 && (size_t)n < sizeof(c->signing_region),
	       err_set(&ctx->err, SESCTL_ERR_FAIL, "signing region too long"));
	if (ca)
		ctx_debug(ctx, "trusting the CAs in '%s'", ca);
	TRY(http_client_new(ctx, &ho, &c->http));
out:
	return rc;
}

sesctl_err aws_regional_init(struct aws_client *c, struct ctx *ctx,
			     const struct aws_service *svc,
			     const char *host_prefix,
			     const struct aws_regional_config *cfg)
{
	char url[HTTP_URL_MAX];
	struct aws_config ac = {
		NULL, url, "the regional endpoint", cfg->region,
		cfg->ca_bundle, cfg->access_key_id, cfg->secret_key,
		cfg->session_token, 0, cfg->connect_timeout_ms,
		cfg->timeout_ms, NULL,
	};
	sesctl_err rc = SESCTL_OK;
	int n;

	memset(c, 0, sizeof(*c));
	ENSURE(cfg->region && region_is_well_formed(cfg->region),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "cannot reach %s in region '%s': not a region name "
		       "(like 'eu-west-1')",
		       svc->name, cfg->region ? cfg->region : ""));
	n = snprintf(url, sizeof(url), "https://%s.%s.%s", host_prefix,
		     cfg->region, region_partition(cfg->region)->dns_suffix);
	ENSURE(n > 0 && (size_t)n < sizeof(url),
	       err_set(&ctx->err, SESCTL_ERR_USAGE, "region name too long"));
	TRY(aws_client_init(c, ctx, svc, &ac));
	ctx_debug(ctx, "%s endpoint %s (from %s), signed for %s", svc->name,
		  c->url, c->url_source, c->signing_region);
out:
	return rc;
}

void aws_client_release(struct aws_client *c)
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

/* The service's error `e` as a sesctl error (iam_xml_error_err decides
 * the exit code) with a message in `ei` that says what to do about it. */
static sesctl_err map_error(const struct aws_client *c, const char *action,
			    const struct iam_error *e, struct err_info *ei,
			    long status)
{
	const struct aws_service *svc = c->svc;
	const char *code = e->code;
	sesctl_err rc = iam_xml_error_err(e, status);
	char rid[160] = "";

	if (e->request_id[0])
		snprintf(rid, sizeof(rid), " (request id %s)", e->request_id);
	if (svc->map && svc->map(c, action, e, rid, &rc, ei))
		return rc;
	if (code_is(code, "AccessDenied", "AccessDeniedException"))
		return err_set(ei, rc,
			       "%s refused %s (%s): %s%s\nthe caller needs "
			       "permission '%s:%s'",
			       svc->name, action, code, e->message, rid,
			       svc->signing_name, action);
	if (code_is(code, "InvalidClientTokenId", "UnrecognizedClientException"))
		return err_set(ei, rc,
			       "%s does not know access key '%s' (%s): %s%s\n"
			       "check the credentials (a deleted key, or one "
			       "of another partition?)",
			       svc->name, c->access_key_id, code, e->message,
			       rid);
	if (code_is(code, "ExpiredToken", "ExpiredTokenException"))
		return err_set(ei, rc,
			       "the session token has expired (%s says %s for "
			       "access key '%s'): %s%s\nrefresh the "
			       "credentials and run again",
			       svc->name, code, c->access_key_id, e->message,
			       rid);
	if (code_is(code, "RequestExpired", "RequestTimeTooSkewed") ||
	    (code_is(code, "SignatureDoesNotMatch", NULL) &&
	     strstr(e->message, "expired")))
		return err_set(ei, rc,
			       "%s rejected the request time: %s%s\nthis "
			       "machine's clock is probably wrong; sync it "
			       "(e.g. with NTP) and run again",
			       svc->name, e->message, rid);
	if (code_is(code, "SignatureDoesNotMatch", NULL))
		return err_set(ei, rc,
			       "%s says the signature does not match: %s%s\n"
			       "the secret access key does not belong to "
			       "access key '%s'",
			       svc->name, e->message, rid, c->access_key_id);
	return err_set(ei, rc, "%s%s: %s: %s%s", svc->msg_prefix, action, code,
		       e->message, rid);
}

/* A non-2xx answer: the service's error (into `e`), or something else (a
 * proxy's HTML page, a wrong endpoint).  *retryable says whether the AWS
 * SDKs' standard retry mode would try again. */
static sesctl_err error_answer(const struct aws_client *c, const char *action,
			       const struct http_response *resp,
			       struct iam_error *e, struct err_info *ei,
			       bool *retryable)
{
	const char *ct = resp->content_type[0] ? resp->content_type :
						 "no content type";
	sesctl_err rc;

	*retryable = false;
	if (c->svc->protocol == AWS_JSON_11)
		rc = aws_json_parse_error(resp, action, e, ei);
	else
		rc = iam_xml_parse_error(&resp->body, action, e, ei);
	if (rc == SESCTL_OK) {
		*retryable = iam_xml_error_retryable(e, resp->status);
		return map_error(c, action, e, ei, resp->status);
	}
	if (rc == SESCTL_ERR_NOMEM)
		return err_set(ei, rc, "out of memory");
	/* Not an AWS error document. */
	*retryable = resp->status >= 500;
	if (resp->status >= 500)
		return err_set(ei, SESCTL_ERR_NETWORK,
			       "%s: %s answered HTTP %ld without an AWS error "
			       "(%s)",
			       action, c->svc->name, resp->status, ct);
	return err_set(ei, SESCTL_ERR_FAIL,
		       "%s: unexpected HTTP %ld from '%s' that is not an %s "
		       "error (%s); is the endpoint URL (from %s) right?",
		       action, resp->status, c->url, c->svc->name, ct,
		       c->url_source);
}

/* ---- sending ------------------------------------------------------- */

sesctl_err aws_sign(struct aws_client *c, const char *action,
		    const char *body, struct aws_signed *sr,
		    struct err_info *ei)
{
	static const char form_type[] =
		"application/x-www-form-urlencoded; charset=utf-8";
	static const char json_type[] = "application/x-amz-json-1.1";
	bool json = c->svc->protocol == AWS_JSON_11;
	const char *ctype = json ? json_type : form_type;
	struct sigv4_header sh[3] = { { "Host", c->host },
				      { "Content-Type", ctype },
				      { "X-Amz-Target", sr->target } };
	struct sigv4_request sreq = { "POST", c->path, NULL, sh, json ? 3 : 2,
				      body, strlen(body), true };
	struct sigv4_params sp = { c->access_key_id, c->secret_key,
				   c->session_token, c->signing_region,
				   c->svc->signing_name, ctx_now(c->ctx),
				   false, false, 0 };
	size_t n = 0;
	int m;
	sesctl_err rc = SESCTL_OK;

	sr->target[0] = '\0';
	if (json) {
		m = snprintf(sr->target, sizeof(sr->target), "%s.%s",
			     c->svc->target_prefix, action);
		ENSURE(m > 0 && (size_t)m < sizeof(sr->target),
		       err_set(ei, SESCTL_ERR_FAIL, "action name too long"));
	}
	rc = sigv4_sign(&sreq, &sp, &sr->auth);
	ENSURE(rc == SESCTL_OK,
	       err_set(ei, rc, "could not sign the %s request with access "
			       "key '%s'",
		       c->svc->name, c->access_key_id));
	sr->hh[n++] = (struct http_header){ "Host", c->host };
	sr->hh[n++] = (struct http_header){ "Content-Type", ctype };
	if (json)
		sr->hh[n++] = (struct http_header){ "X-Amz-Target",
						    sr->target };
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
static sesctl_err send_once(struct aws_client *c, const char *action,
			    const char *body, struct http_response *resp)
{
	struct aws_signed sr;
	sesctl_err rc = SESCTL_OK;

	memset(&sr, 0, sizeof(sr));
	sr.auth = (struct sigv4_auth)SIGV4_AUTH_INIT;
	TRY(aws_sign(c, action, body, &sr, &c->ctx->err));
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

/* Reads are retried as the AWS SDKs' standard mode does: throttling, 5xx
 * and connection errors.  A change is sent again only when it surely was
 * not applied: it never went out, or the service throttled it.  After
 * anything else that may follow an applied request (the connection died
 * once it was sent, a timeout, a 5xx, an answer too large to read, or
 * libcurl re-sending it on its own) its outcome is unknown: the caller
 * reads the state back. */
sesctl_err aws_judge(const struct aws_client *c, const char *action,
		     unsigned flags, sesctl_err rc,
		     const struct http_response *resp, struct secret *body,
		     struct aws_outcome *o)
{
	bool change = !(flags & AWS_READ);

	o->retry = false;
	o->answered = false;
	o->unknown = false;
	if (rc != SESCTL_OK) {
		/* Say which call it was: the transport cannot. */
		if (resp->failure != HTTP_OK)
			err_set(o->ei, rc, "%s: %s", action, o->ei->msg);
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
		 * idempotent change that was accepted is where it should be;
		 * a repeated creation may have made two things. */
		if (resp->sends > 1 && (flags & AWS_CREATES))
			o->unknown = true;
		o->answered = true;
		rc = secret_set(body, resp->body.p, resp->body.len);
		if (rc != SESCTL_OK)
			return err_set(o->ei, rc, "out of memory");
		return SESCTL_OK;
	}
	/* An error answer.  Only a change that was throttled on its only
	 * send is surely not applied: a 5xx may follow an applied request,
	 * and an error after a re-send may answer the repeat of one
	 * (NoSuchEntity, EntityAlreadyExists, LimitExceeded). */
	rc = error_answer(c, action, resp, o->ie, o->ei, &o->retry);
	if (change && (resp->status >= 500 || resp->sends > 1)) {
		o->unknown = true;
		o->retry = false;
	} else if (change && o->retry) {
		o->retry = not_applied_error(o->ie, resp->status);
	}
	return rc;
}

sesctl_err aws_give_up(const struct aws_client *c, const char *action,
		       sesctl_err rc, int attempt, const struct aws_outcome *o)
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

sesctl_err aws_send_until(struct aws_client *c, const char *action,
			  unsigned flags, const char *body,
			  struct secret *answer, struct aws_outcome *o,
			  int *left, int *attempt)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	sesctl_err rc = SESCTL_OK;
	long ms;

	for (;;) {
		++*attempt;
		--*left;
		rc = send_once(c, action, body, &resp);
		rc = aws_judge(c, action, flags, rc, &resp, answer, o);
		if (o->answered || !o->retry || *left <= 0)
			break;
		ms = backoff_jitter_ms(c->retry_base_ms, *attempt);
		ctx_debug(c->ctx, "%s: attempt %d of %d failed; retrying in %ld "
				  "ms",
			  action, *attempt, c->max_attempts, ms);
		backoff_sleep_ms(ms);
	}
	http_response_release(&resp);
	return rc;
}

sesctl_err aws_call(struct aws_client *c, const char *action, unsigned flags,
		    const char *body, struct secret *answer,
		    struct iam_error *ie, bool *unknown)
{
	struct iam_error scratch;
	struct aws_outcome o = { &c->ctx->err, ie ? ie : &scratch, false,
				 false, false };
	int left = c->max_attempts, attempt = 0;
	sesctl_err rc;

	memset(o.ie, 0, sizeof(*o.ie));
	rc = aws_send_until(c, action, flags, body, answer, &o, &left,
			    &attempt);
	if (!o.answered)
		rc = aws_give_up(c, action, rc, attempt, &o);
	if (unknown)
		*unknown = o.unknown;
	return rc;
}
