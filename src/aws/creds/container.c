/* container.c - the container-role provider: ECS task roles and EKS Pod
 * Identity (see creds_int.h). */
#include "creds_int.h"

#include <stdio.h>

#include <string.h>

#include "config.h"
#include "sesctl/aws/http.h"
#include "sesctl/base/backoff.h"

/* ------------------------------------------------------------------ */
/* Container credentials (ECS task roles, EKS Pod Identity)
 *
 * botocore's ContainerProvider and ContainerMetadataFetcher:
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is appended to
 * http://169.254.170.2; otherwise AWS_CONTAINER_CREDENTIALS_FULL_URI is
 * used as is, https to anywhere, http only to a loopback address,
 * "localhost", 169.254.170.2 (ECS), 169.254.170.23 or fd00:ec2::23 (EKS
 * Pod Identity).  The Authorization header is the content of
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every call) or else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN; a token with CR or LF is refused.
 * Up to 3 attempts, 2 s each, a second apart; divergence: only
 * connection failures and 5xx are retried (a 4xx will not change).  The
 * answer is {AccessKeyId, SecretAccessKey, Token, Expiration}.  Once
 * either variable is set, a failure ends the chain (as in botocore). */

static const char *const container_hosts[] = { "169.254.170.2",
					       "169.254.170.23",
					       "fd00:ec2::23" };

#define CONTAINER_TIMEOUT_MS 2000L
#define CONTAINER_ATTEMPTS 3
#define CONTAINER_TOKEN_MAX ((size_t)16 << 10)

static bool container_configured(struct state *st)
{
	return creds_env_get(st->env,
			     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
	       creds_env_get(st->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

static sesctl_err container_url(struct state *st, char *url, size_t size)
{
	const char *rel = creds_env_get(
		st->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full =
		creds_env_get(st->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *base = "http://169.254.170.2";
	char host[256];
	int n;

	if (rel) {
#if SESCTL_TEST_HOOKS
		/* Tests stand in for 169.254.170.2 on loopback. */
		if (creds_env_get(st->env, "SESCTL_TEST_CONTAINER_BASE"))
			base = creds_env_get(st->env,
					     "SESCTL_TEST_CONTAINER_BASE");
#endif
		if (rel[0] != '/')
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
				       "'%s' must start with '/'",
				       rel);
		n = snprintf(url, size, "%s%s", base, rel);
		if (n < 0 || (size_t)n >= size)
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
				       "is too long");
		return SESCTL_OK;
	}
	n = snprintf(url, size, "%s", full);
	if (n < 0 || (size_t)n >= size)
		return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
	if (!creds_url_allowed(url, container_hosts,
			       sizeof(container_hosts) /
				       sizeof(container_hosts[0]),
			       host, sizeof(host)))
		return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is not "
			       "allowed: use https, or http to a loopback "
			       "address, 169.254.170.2, 169.254.170.23 or "
			       "[fd00:ec2::23]",
			       url);
	return SESCTL_OK;
}

/* The Authorization value into `tok` (empty: none); *from names it. */
static sesctl_err container_token(struct state *st, struct secret *tok,
				  const char **from)
{
	const char *file = creds_env_get(
		st->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *val =
		creds_env_get(st->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	sesctl_err rc = SESCTL_OK;

	*from = NULL;
	if (file) {
		*from = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
		TRY(secret_read_file(&st->ctx->err,
				     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
				     file, 0, CONTAINER_TOKEN_MAX, tok, NULL,
				     NULL));
	} else if (val) {
		*from = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
		TRY(secret_set(tok, val, strlen(val)));
	} else {
		goto out;
	}
	/* A header value: botocore refuses CR and LF; NUL cannot be sent. */
	ENSURE(!memchr(tok->p, '\r', tok->len) &&
		       !memchr(tok->p, '\n', tok->len) &&
		       !memchr(tok->p, '\0', tok->len),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "the token in %s contains a line break; it must be one "
		       "line, without a newline at the end",
		       *from));
out:
	if (rc != SESCTL_OK)
		secret_free(tok);
	return rc;
}

sesctl_err creds_from_container(struct state *st, struct creds *out,
				bool *found)
{
	struct http_options ho = { NULL, CONTAINER_TIMEOUT_MS,
				   CONTAINER_TIMEOUT_MS };
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_client *http = NULL;
	struct http_header hh[1];
	struct http_request req;
	struct secret tok = SECRET_INIT;
	char url[HTTP_URL_MAX], what[CREDS_SOURCE_MAX];
	const char *tok_from = NULL;
	sesctl_err rc = SESCTL_OK;
	bool retry = false;
	int attempt;

	if (!container_configured(st)) {
		creds_looked_add(st, "container credentials (not configured)");
		return SESCTL_OK;
	}
	ENSURE(!st->net->offline,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "container credentials are configured, but fetching "
		       "them is disabled here"));
	TRY(container_url(st, url, sizeof(url)));
	TRY(container_token(st, &tok, &tok_from));
	ho.ca_bundle = creds_ca_bundle(st);
	req = (struct http_request){ "GET", url, hh, 0, NULL, 0 };
	if (tok.len) {
		hh[0] = (struct http_header){ "Authorization", secret_str(&tok) };
		req.n_headers = 1;
	}
	ctx_debug(st->ctx, "container credentials from '%s'%s%s", url,
		  tok_from ? " with the token of " : "",
		  tok_from ? tok_from : "");
	TRY(http_client_new(st->ctx, &ho, &http));
	for (attempt = 1;; attempt++) {
		rc = http_send(http, &req, &resp);
		retry = rc == SESCTL_OK ? resp.status >= 500 :
					  resp.failure == HTTP_NOT_SENT ||
						  resp.failure == HTTP_NO_ANSWER;
		if (!retry || attempt >= CONTAINER_ATTEMPTS)
			break;
		ctx_debug(st->ctx, "container credentials: attempt %d of %d "
				   "failed; trying again",
			  attempt, CONTAINER_ATTEMPTS);
		backoff_sleep_ms(creds_retry_pause_ms(st));
	}
	if (rc != SESCTL_OK) {
		rc = err_set(&st->ctx->err, rc,
			     "cannot get container credentials: %s",
			     st->ctx->err.msg);
		goto out;
	}
	if (resp.status == 401 || resp.status == 403) {
		rc = err_set(&st->ctx->err, SESCTL_ERR_AUTH,
			     "the container credentials endpoint '%s' refused "
			     "the request (HTTP %ld); check %s",
			     url, resp.status,
			     tok_from ? tok_from :
					"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
					"(it is not set)");
		goto out;
	}
	if (resp.status != 200) {
		rc = err_set(&st->ctx->err,
			     resp.status >= 500 ? SESCTL_ERR_NETWORK :
						  SESCTL_ERR_FAIL,
			     "the container credentials endpoint '%s' answered "
			     "HTTP %ld",
			     url, resp.status);
		goto out;
	}
	creds_set_text(what, sizeof(what),
		       "the answer of the container credentials endpoint '%s'",
		       url);
	TRY(creds_json_creds(st, &resp.body, what, "Token",
			     JC_TOKEN | JC_EXPIRATION, out));
	creds_set_text(out->source, sizeof(out->source),
		       "container credentials from '%s'", url);
	*found = true;
out:
	http_response_release(&resp);
	http_client_free(http);
	secret_free(&tok);
	return rc;
}

sesctl_err creds_provider_container(struct state *st, struct creds *out,
				    bool *found)
{
	return creds_from_container(st, out, found);
}
