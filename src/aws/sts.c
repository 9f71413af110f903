/* sts.c - the STS client for assume-role profiles (see sts.h). */
#include "sesctl/aws/sts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sesctl/base/backoff.h"
#include "sesctl/aws/region.h"
#include "sesctl/aws/sigv4.h"

#define DEFAULT_MAX_ATTEMPTS 3
#define MAX_ATTEMPTS_LIMIT 10
#define FORM_MAX ((size_t)16 << 10)

static const char content_type[] =
	"application/x-www-form-urlencoded; charset=utf-8";

static const char *env_get(sts_env_fn env, const char *name)
{
	const char *v = env ? env(name) : getenv(name);

	return (v && *v) ? v : NULL;
}

/* ---- endpoint ------------------------------------------------------ */

sesctl_err sts_endpoint(struct ctx *ctx, const struct sts_config *cfg,
			char *url, size_t url_size, char *region,
			size_t region_size, const char **source)
{
	const char *over = env_get(cfg->env, "AWS_ENDPOINT_URL_STS");
	const char *reg = cfg->region && *cfg->region ? cfg->region : NULL;
	sesctl_err rc = SESCTL_OK;
	int n, m;

	*source = "AWS_ENDPOINT_URL_STS";
	if (!over) {
		over = env_get(cfg->env, "AWS_ENDPOINT_URL");
		*source = "AWS_ENDPOINT_URL";
	}
	if (over) {
		n = snprintf(url, url_size, "%s", over);
	} else if (reg) {
		ENSURE(region_is_well_formed(reg),
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "cannot reach STS in region '%s': not a region "
			       "name (like 'eu-west-1')",
			       reg));
		n = snprintf(url, url_size, "https://sts.%s.%s", reg,
			     region_partition(reg)->dns_suffix);
		*source = "the regional endpoint";
	} else {
		n = snprintf(url, url_size, "%s", STS_GLOBAL_ENDPOINT);
		*source = "the global endpoint";
	}
	m = snprintf(region, region_size, "%s", reg ? reg : STS_GLOBAL_REGION);
	ENSURE(n > 0 && (size_t)n < url_size && m > 0 &&
		       (size_t)m < region_size,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "the STS endpoint URL from %s is too long", *source));
	TRY(http_check_url(ctx, url));
out:
	return rc;
}

/* ---- form body ----------------------------------------------------- */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* Append `s`, percent-encoded (RFC 3986) when `encode`. */
static sesctl_err form_add(char *buf, size_t size, size_t *len, const char *s,
			   bool encode)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		bool esc = encode && !unreserved(*p);

		if (*len + (esc ? 3 : 1) >= size)
			return SESCTL_ERR_INPUT;
		if (esc) {
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[*p >> 4];
			buf[(*len)++] = hex[*p & 0xf];
		} else {
			buf[(*len)++] = (char)*p;
		}
	}
	buf[*len] = '\0';
	return SESCTL_OK;
}

static sesctl_err form_param(char *buf, size_t size, size_t *len,
			     const char *name, const char *value)
{
	sesctl_err rc = SESCTL_OK;

	TRY(form_add(buf, size, len, "&", false));
	TRY(form_add(buf, size, len, name, false));
	TRY(form_add(buf, size, len, "=", false));
	TRY(form_add(buf, size, len, value, true));
out:
	return rc;
}

static sesctl_err assume_role_body(const struct sts_assume_role_in *in,
				   char *buf, size_t size)
{
	char dur[32];
	size_t len = 0;
	sesctl_err rc = SESCTL_OK;

	buf[0] = '\0';
	TRY(form_add(buf, size, &len,
		     "Action=AssumeRole&Version=" STS_API_VERSION, false));
	TRY(form_param(buf, size, &len, "RoleArn", in->role_arn));
	TRY(form_param(buf, size, &len, "RoleSessionName",
		       in->role_session_name));
	if (in->external_id)
		TRY(form_param(buf, size, &len, "ExternalId", in->external_id));
	if (in->duration_seconds > 0) {
		snprintf(dur, sizeof(dur), "%ld", in->duration_seconds);
		TRY(form_param(buf, size, &len, "DurationSeconds", dur));
	}
out:
	return rc;
}

/* ---- sending ------------------------------------------------------- */

struct call {
	struct ctx *ctx;
	const struct sts_config *cfg;
	const char *action; /* "AssumeRole", "GetCallerIdentity" */
	struct http_client *http;
	char url[HTTP_URL_MAX];
	char host[256];
	char path[256];
	char region[64];
};

static sesctl_err send_once(struct call *c, const char *body,
			    struct http_response *resp)
{
	struct sigv4_header sh[2] = { { "Host", c->host },
				      { "Content-Type", content_type } };
	struct sigv4_request sreq = { "POST", c->path, NULL, sh, 2, body,
				      strlen(body), true };
	struct sigv4_params sp = { c->cfg->access_key_id, c->cfg->secret_key,
				   c->cfg->session_token, c->region, "sts",
				   ctx_now(c->ctx), false, false, 0 };
	struct sigv4_auth auth = SIGV4_AUTH_INIT;
	struct http_header hh[5];
	struct http_request hreq;
	size_t n = 0;
	sesctl_err rc;

	if (sp.session_token && sp.session_token->len == 0)
		sp.session_token = NULL;
	rc = sigv4_sign(&sreq, &sp, &auth);
	ENSURE(rc == SESCTL_OK,
	       err_set(&c->ctx->err, rc,
		       "could not sign the STS request with access key '%s'",
		       c->cfg->access_key_id));
	hh[n++] = (struct http_header){ "Host", c->host };
	hh[n++] = (struct http_header){ "Content-Type", content_type };
	hh[n++] = (struct http_header){ "X-Amz-Date", auth.amz_date };
	if (auth.send_security_token)
		hh[n++] = (struct http_header){
			"X-Amz-Security-Token", secret_str(sp.session_token)
		};
	hh[n++] = (struct http_header){ "Authorization", auth.authorization };
	hreq = (struct http_request){ "POST", c->url, hh, n, body,
				      strlen(body) };
	rc = http_send(c->http, &hreq, resp);
out:
	sigv4_auth_release(&auth);
	return rc;
}

static int max_attempts(struct ctx *ctx, sts_env_fn env)
{
	const char *v = env_get(env, "AWS_MAX_ATTEMPTS");
	char *end = NULL;
	long n;

	if (!v)
		return DEFAULT_MAX_ATTEMPTS;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !end || *end || n < 1 || n > MAX_ATTEMPTS_LIMIT) {
		ctx_warn(ctx, "ignoring AWS_MAX_ATTEMPTS='%s': not a number from "
			      "1 to %d",
			 v, MAX_ATTEMPTS_LIMIT);
		return DEFAULT_MAX_ATTEMPTS;
	}
	return (int)n;
}

/* STS's error answer as a sesctl error with what to do about it. */
static sesctl_err map_error(struct call *c, const struct iam_error *e,
			    long status)
{
	struct err_info *ei = &c->ctx->err;
	sesctl_err rc = iam_xml_error_err(e, status);
	const char *code = e->code;
	char rid[160] = "";

	if (e->request_id[0])
		snprintf(rid, sizeof(rid), " (request id %s)", e->request_id);
	if (strcmp(code, "AccessDenied") == 0 &&
	    strcmp(c->action, "AssumeRole") == 0)
		return err_set(ei, rc,
			       "STS refused (AccessDenied): %s%s\nthe role "
			       "must exist, its trust policy must name the "
			       "caller, and 'external_id' must match if the "
			       "role asks for one",
			       e->message, rid);
	if (strcmp(code, "ExpiredToken") == 0 ||
	    strcmp(code, "ExpiredTokenException") == 0)
		return err_set(ei, rc,
			       "the credentials of access key '%s' have "
			       "expired (ExpiredToken): %s%s\nrefresh them and "
			       "run again",
			       c->cfg->access_key_id, e->message, rid);
	if (strcmp(code, "InvalidClientTokenId") == 0)
		return err_set(ei, rc,
			       "STS does not know access key '%s' "
			       "(InvalidClientTokenId): %s%s\ncheck the source "
			       "credentials (a deleted key, or one of another "
			       "partition?)",
			       c->cfg->access_key_id, e->message, rid);
	if (strcmp(code, "SignatureDoesNotMatch") == 0 &&
	    strstr(e->message, "expired"))
		return err_set(ei, rc,
			       "STS rejected the request time: %s%s\nthis "
			       "machine's clock is probably wrong; sync it "
			       "(e.g. with NTP) and run again",
			       e->message, rid);
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		return err_set(ei, rc,
			       "STS says the signature does not match: %s%s\n"
			       "the secret access key does not belong to "
			       "access key '%s'",
			       e->message, rid, c->cfg->access_key_id);
	if (strcmp(code, "RegionDisabledException") == 0)
		return err_set(ei, rc,
			       "STS is not activated in region '%s' "
			       "(RegionDisabledException): %s%s\nactivate it "
			       "in the account settings, or set "
			       "AWS_ENDPOINT_URL_STS=%s",
			       c->region, e->message, rid,
			       STS_GLOBAL_ENDPOINT);
	return err_set(ei, rc, "STS %s: %s: %s%s", c->action, code, e->message,
		       rid);
}

/* A non-2xx answer into ctx->err; *retryable as the SDKs decide. */
static sesctl_err error_answer(struct call *c,
			       const struct http_response *resp,
			       bool *retryable)
{
	struct iam_error e;
	sesctl_err rc;

	*retryable = false;
	rc = iam_xml_parse_error(&resp->body, c->action, &e, &c->ctx->err);
	if (rc == SESCTL_OK) {
		*retryable = iam_xml_error_retryable(&e, resp->status);
		return map_error(c, &e, resp->status);
	}
	if (rc == SESCTL_ERR_NOMEM)
		return err_set(&c->ctx->err, rc, "out of memory");
	*retryable = resp->status >= 500;
	return err_set(&c->ctx->err,
		       resp->status >= 500 ? SESCTL_ERR_NETWORK :
					     SESCTL_ERR_FAIL,
		       "%s: unexpected HTTP %ld from '%s' that is not an STS "
		       "error (%s); is AWS_ENDPOINT_URL_STS right?",
		       c->action, resp->status, c->url,
		       resp->content_type[0] ? resp->content_type :
					       "no content type");
}

typedef sesctl_err (*parse_fn)(const struct secret *body, void *out,
			       struct err_info *ei);

/* Send `body` for c->action with the SDKs' standard-mode retries (both
 * actions are safe to repeat: a lost answer costs at most a session) and
 * parse a 2xx answer into `out`. */
static sesctl_err call(struct call *c, const char *body, parse_fn parse,
		       void *out)
{
	struct ctx *ctx = c->ctx;
	const struct sts_config *cfg = c->cfg;
	struct http_options ho = { NULL, cfg->connect_timeout_ms,
				   cfg->timeout_ms };
	struct http_response resp = HTTP_RESPONSE_INIT;
	const char *source = NULL;
	sesctl_err rc = SESCTL_OK;
	int attempt, attempts;
	bool retry = false;

	TRY(sts_endpoint(ctx, cfg, c->url, sizeof(c->url), c->region,
			 sizeof(c->region), &source));
	TRY(http_url_parts(ctx, c->url, c->host, sizeof(c->host), c->path,
			   sizeof(c->path)));
	ho.ca_bundle = cfg->ca_bundle ? cfg->ca_bundle :
					env_get(cfg->env, "AWS_CA_BUNDLE");
	ctx_debug(ctx, "STS %s at %s (from %s), signed for %s", c->action,
		  c->url, source, c->region);
	TRY(http_client_new(ctx, &ho, &c->http));

	attempts = max_attempts(ctx, cfg->env);
	for (attempt = 1;; attempt++) {
		retry = false;
		rc = send_once(c, body, &resp);
		if (rc != SESCTL_OK) {
			err_set(&ctx->err, rc, "%s: %s", c->action,
				ctx->err.msg);
			retry = resp.failure == HTTP_NOT_SENT ||
				resp.failure == HTTP_NO_ANSWER;
		} else if (resp.status >= 200 && resp.status < 300) {
			rc = parse(&resp.body, out, &ctx->err);
			if (rc != SESCTL_OK)
				rc = err_set(&ctx->err, rc,
					     "STS answered with something "
					     "unreadable: %s",
					     ctx->err.msg);
			goto out;
		} else {
			rc = error_answer(c, &resp, &retry);
		}
		if (!retry || attempt >= attempts)
			break;
		{
			long ms = backoff_jitter_ms(backoff_base_ms(), attempt);

			ctx_debug(ctx, "%s: attempt %d of %d failed; retrying "
				       "in %ld ms",
				  c->action, attempt, attempts, ms);
			backoff_sleep_ms(ms);
		}
	}
	if (retry && attempts > 1)
		rc = err_set(&ctx->err, rc, "gave up after %d attempts: %s",
			     attempt, ctx->err.msg);
out:
	http_response_release(&resp);
	http_client_free(c->http);
	c->http = NULL;
	return rc;
}

static sesctl_err parse_assume_role(const struct secret *body, void *out,
				    struct err_info *ei)
{
	return iam_xml_assume_role(body, out, ei);
}

static sesctl_err parse_caller_identity(const struct secret *body, void *out,
					struct err_info *ei)
{
	return iam_xml_get_caller_identity(body, out, ei);
}

sesctl_err sts_assume_role(struct ctx *ctx, const struct sts_config *cfg,
			   const struct sts_assume_role_in *in,
			   struct iam_assume_role *out)
{
	struct call c;
	char body[FORM_MAX];
	sesctl_err rc = SESCTL_OK;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.cfg = cfg;
	c.action = "AssumeRole";
	ENSURE(in->role_arn && in->role_session_name,
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "AssumeRole needs a role ARN and a session name"));
	ENSURE(assume_role_body(in, body, sizeof(body)) == SESCTL_OK,
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "the AssumeRole request for role '%.200s' is too large",
		       in->role_arn));
	ctx_debug(ctx, "STS AssumeRole of '%s' as session '%s'", in->role_arn,
		  in->role_session_name);
	rc = call(&c, body, parse_assume_role, out);
out:
	if (rc != SESCTL_OK)
		iam_assume_role_release(out);
	return rc;
}

sesctl_err sts_get_caller_identity(struct ctx *ctx,
				   const struct sts_config *cfg,
				   struct iam_caller_identity *out)
{
	struct call c;
	sesctl_err rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.cfg = cfg;
	c.action = "GetCallerIdentity";
	rc = call(&c, "Action=GetCallerIdentity&Version=" STS_API_VERSION,
		  parse_caller_identity, out);
	if (rc != SESCTL_OK)
		iam_caller_identity_release(out);
	return rc;
}
