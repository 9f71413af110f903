/* imds.c - the iam-role provider: EC2 instance metadata, IMDSv2 (see
 * creds_int.h). */
#include "creds_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "sesctl/aws/http.h"

/* ------------------------------------------------------------------ */
/* EC2 instance metadata (IMDSv2)
 *
 * botocore's InstanceMetadataFetcher: PUT /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds: 21600, then with the token in
 * X-aws-ec2-metadata-token GET /latest/meta-data/iam/security-credentials/
 * (the role name) and .../<role> (JSON: AccessKeyId, SecretAccessKey,
 * Token, Expiration).  Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, else
 * the profile's ec2_metadata_service_endpoint, else by
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE / ec2_metadata_service_endpoint_mode
 * (IPv4: http://169.254.169.254, IPv6: http://[fd00:ec2::254]).  Each
 * request has AWS_METADATA_SERVICE_TIMEOUT (metadata_service_timeout)
 * seconds, default 1, and AWS_METADATA_SERVICE_NUM_ATTEMPTS
 * (metadata_service_num_attempts) tries, default 1.
 * AWS_EC2_METADATA_DISABLED=true skips it.  Nothing found, no answer, no
 * role: the chain goes on (it ends with "no credentials").
 *
 * Divergences: botocore falls back to IMDSv1 (the same GETs without a
 * token) when the token PUT fails with 403, 404, 405 or times out,
 * unless AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled is set.
 * sesctl never does: IMDSv1 is what SSRF attacks use, and every instance
 * type answers IMDSv2; when the PUT is refused or lost (a container
 * behind a hop limit of 1) the message says so.  A custom endpoint over
 * plain http must be a loopback address or one of the two IMDS addresses
 * (botocore takes any URL).  http.c prints response bodies with --debug,
 * and the token is a bare body it cannot recognise, so the PUT goes
 * through a client whose debug output is off; sesctl logs it itself
 * without the token. */

static const char *const imds_hosts[] = { "169.254.169.254",
					  "fd00:ec2::254" };

#define IMDS_TOKEN_TTL "21600"
#define IMDS_TOKEN_MAX 4096
#define IMDS_ROLE_MAX 64

/* An integer setting: env var, else the profile's key, else `dflt`;
 * a bad value is warned about and ignored. */
static long int_setting(struct state *st, const char *var, const char *key,
			long dflt, long max)
{
	char buf[32], *end = NULL;
	const char *s = creds_env_get(st->env, var), *from = var;
	struct val v;
	long n;

	if (!s && creds_prof_get(st, &st->top, key, &v) && v.len > 0) {
		/* Copied as is: the check below refuses anything odd. */
		creds_set_text(buf, sizeof(buf), "%.*s",
			       (int)(v.len < sizeof(buf) ? v.len :
							   sizeof(buf) - 1),
			       (const char *)v.p);
		s = buf;
		from = key;
	}
	if (!s)
		return dflt;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || !end || *end || n < 1 || n > max) {
		ctx_warn(st->ctx,
			 "ignoring %s '%s': not a whole number from 1 to %ld",
			 from, s, max);
		return dflt;
	}
	return n;
}

static sesctl_err imds_base(struct state *st, char *url, size_t size)
{
	const char *s =
		creds_env_get(st->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = creds_env_get(
		st->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	const char *from = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
	char buf[HTTP_URL_MAX], mbuf[16], host[256];
	struct val v;
	size_t n;

	if (!s &&
	    creds_prof_get(st, &st->top, "ec2_metadata_service_endpoint", &v)) {
		if (creds_val_text(st, &v, false, buf, sizeof(buf)) !=
		    SESCTL_OK)
			return st->ctx->err.code;
		s = buf;
		from = "ec2_metadata_service_endpoint";
	}
	if (s) {
		if (!creds_url_allowed(s, imds_hosts,
				       sizeof(imds_hosts) /
					       sizeof(imds_hosts[0]),
				       host, sizeof(host)))
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "the instance metadata endpoint '%s' "
				       "(from %s) is not allowed: use https, "
				       "or http to a loopback address, "
				       "169.254.169.254 or [fd00:ec2::254]",
				       s, from);
	} else {
		if (!mode &&
		    creds_prof_get(st, &st->top,
				   "ec2_metadata_service_endpoint_mode", &v)) {
			if (creds_val_text(st, &v, false, mbuf, sizeof(mbuf)) !=
			    SESCTL_OK)
				return st->ctx->err.code;
			mode = mbuf;
		}
		if (!mode || strcasecmp(mode, "IPv4") == 0)
			s = "http://169.254.169.254";
		else if (strcasecmp(mode, "IPv6") == 0)
			s = "http://[fd00:ec2::254]";
		else
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "the instance metadata endpoint mode "
				       "'%s' is neither 'IPv4' nor 'IPv6'",
				       mode);
	}
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	if (n + 64 >= size)
		return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
			       "the instance metadata endpoint URL is too long");
	memcpy(url, s, n);
	url[n] = '\0';
	return SESCTL_OK;
}

/* A role name as IAM allows it ([\w+=,.@-], 1 to 64): it goes into a
 * URL path. */
static bool role_name_ok(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > IMDS_ROLE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || strchr("_+=,.@-", p[i])))
			return false;
	return true;
}

/* One IMDS request, up to `attempts` times while it fails or (for GETs)
 * answers non-200 or nothing.  SESCTL_OK with resp filled, or the
 * transport's error in ctx->err. */
static sesctl_err imds_send(struct http_client *http,
			    const struct http_request *req, long attempts,
			    bool retry_status, struct http_response *resp)
{
	sesctl_err rc = SESCTL_OK;
	long i;

	for (i = 1; i <= attempts; i++) {
		rc = http_send(http, req, resp);
		if (rc == SESCTL_OK && resp->status < 500 &&
		    (!retry_status ||
		     (resp->status == 200 && resp->body.len > 0)))
			break;
	}
	return rc;
}

sesctl_err creds_from_imds(struct state *st, struct creds *out, bool *found,
			   char *note, size_t note_size)
{
	struct ctx quiet = *st->ctx;
	struct http_options ho = { NULL, 0, 0 };
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_client *http = NULL, *qhttp = NULL;
	struct http_header hh[1];
	struct http_request req;
	struct secret token = SECRET_INIT;
	struct err_info saved = st->ctx->err;
	char base[HTTP_URL_MAX], url[HTTP_URL_MAX + IMDS_ROLE_MAX + 64];
	char role[IMDS_ROLE_MAX + 1], what[CREDS_SOURCE_MAX];
	long timeout_s, attempts;
	size_t n;
	bool skipped = false;
	sesctl_err rc = SESCTL_OK;

/* Nothing usable here: say why in `note` first, then SKIP(). */
#define SKIP()                                                               \
	do {                                                                 \
		skipped = true;                                              \
		goto out;                                                    \
	} while (0)

	note[0] = '\0';
	if (creds_env_true(st, "AWS_EC2_METADATA_DISABLED")) {
		creds_set_text(
			note, note_size,
			"instance metadata (AWS_EC2_METADATA_DISABLED=true)");
		return SESCTL_OK;
	}
	if (st->net->offline) {
		creds_set_text(note, note_size, "instance metadata (skipped)");
		return SESCTL_OK;
	}
	TRY(imds_base(st, base, sizeof(base)));
	timeout_s = int_setting(st, "AWS_METADATA_SERVICE_TIMEOUT",
				"metadata_service_timeout", 1, 3600);
	attempts = int_setting(st, "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
			       "metadata_service_num_attempts", 1, 10);
	ho.connect_timeout_ms = ho.timeout_ms = timeout_s * 1000L;
	ho.ca_bundle = creds_ca_bundle(st);
	quiet.debug = false;
	ctx_debug(st->ctx,
		  "instance metadata at '%s' (%ld s per request, %ld "
		  "attempt%s)",
		  base, timeout_s, attempts, attempts == 1 ? "" : "s");
	TRY(http_client_new(st->ctx, &ho, &http));
	rc = http_client_new(&quiet, &ho, &qhttp);
	if (rc != SESCTL_OK) {
		st->ctx->err = quiet.err;
		goto out;
	}

	/* The session token (IMDSv2). */
	creds_set_text(url, sizeof(url), "%s/latest/api/token", base);
	hh[0] = (struct http_header){ "X-aws-ec2-metadata-token-ttl-seconds",
				      IMDS_TOKEN_TTL };
	req = (struct http_request){ "PUT", url, hh, 1, NULL, 0 };
	rc = imds_send(qhttp, &req, attempts, false, &resp);
	if (rc != SESCTL_OK) {
		ctx_debug(st->ctx, "PUT %s: %s", url, quiet.err.msg);
		creds_set_text(
			note, note_size,
			"instance metadata at '%s' (no answer to the IMDSv2 "
			"token request within %ld s)",
			base, timeout_s);
		SKIP();
	}
	ctx_debug(st->ctx, "PUT %s: HTTP %ld (%zu bytes, not shown)", url,
		  resp.status, resp.body.len);
	if (resp.status != 200) {
		creds_set_text(
			note, note_size,
			"instance metadata at '%s' (the IMDSv2 token request "
			"got HTTP %ld; sesctl does not fall back to IMDSv1)",
			base, resp.status);
		SKIP();
	}
	if (resp.body.len == 0 || resp.body.len > IMDS_TOKEN_MAX ||
	    memchr(resp.body.p, '\r', resp.body.len) ||
	    memchr(resp.body.p, '\n', resp.body.len) ||
	    memchr(resp.body.p, '\0', resp.body.len)) {
		creds_set_text(note, note_size,
			       "instance metadata at '%s' (the IMDSv2 token it "
			       "gave is not usable)",
			       base);
		SKIP();
	}
	TRY(secret_set(&token, resp.body.p, resp.body.len));
	http_response_release(&resp);
	hh[0] = (struct http_header){ "X-aws-ec2-metadata-token",
				      secret_str(&token) };

	/* The role. */
	creds_set_text(url, sizeof(url),
		       "%s/latest/meta-data/iam/"
		       "security-credentials/",
		       base);
	req = (struct http_request){ "GET", url, hh, 1, NULL, 0 };
	rc = imds_send(http, &req, attempts, true, &resp);
	if (rc != SESCTL_OK || resp.status != 200 || resp.body.len == 0) {
		if (rc != SESCTL_OK)
			creds_set_text(note, note_size,
				       "instance metadata at '%s' (%s)", base,
				       st->ctx->err.msg);
		else
			creds_set_text(
				note, note_size,
				"instance metadata at '%s' (%s, HTTP %ld)",
				base,
				resp.status == 404 ?
					"no IAM role is attached to this "
					"instance" :
					"cannot list its IAM role",
				resp.status);
		SKIP();
	}
	n = strcspn((const char *)resp.body.p, "\r\n");
	while (n > 0 && (resp.body.p[n - 1] == ' ' ||
			 resp.body.p[n - 1] == '\t'))
		n--;
	if (!role_name_ok(resp.body.p, n)) {
		creds_set_text(
			note, note_size,
			"instance metadata at '%s' (it named an IAM role "
			"that is not a valid role name)",
			base);
		SKIP();
	}
	memcpy(role, resp.body.p, n);
	role[n] = '\0';

	/* Its credentials. */
	creds_set_text(url, sizeof(url),
		       "%s/latest/meta-data/iam/security-credentials/%s", base,
		       role);
	rc = imds_send(http, &req, attempts, true, &resp);
	if (rc != SESCTL_OK || resp.status != 200 || resp.body.len == 0) {
		if (rc != SESCTL_OK)
			creds_set_text(
				note, note_size,
				"instance metadata at '%s' (role '%s': %s)",
				base, role, st->ctx->err.msg);
		else
			creds_set_text(
				note, note_size,
				"instance metadata at '%s' (role '%s': HTTP "
				"%ld)",
				base, role, resp.status);
		SKIP();
	}
	creds_set_text(what, sizeof(what),
		       "the answer of instance metadata at '%s' for role '%s'",
		       base, role);
	rc = creds_json_creds(st, &resp.body, what, "Token",
			      JC_TOKEN | JC_EXPIRATION | JC_EXPIRED_OK, out);
	if (rc == SESCTL_ERR_INPUT) {
		/* An error document ({"Code": ..., "Message": ...}, when EC2
		 * may not assume the role) or junk: botocore goes on. */
		creds_set_text(note, note_size, "%s", st->ctx->err.msg);
		SKIP();
	}
	TRY(rc);
	creds_set_text(out->source, sizeof(out->source),
		       "instance metadata at '%s' (role '%s')", base, role);
	*found = true;
out:
	if (skipped) {
		/* Not found here: the chain goes on, and ctx->err is as it
		 * was. */
		rc = SESCTL_OK;
		st->ctx->err = saved;
	}
	http_response_release(&resp);
	http_client_free(http);
	http_client_free(qhttp);
	secret_free(&token);
	return rc;
#undef SKIP
}

sesctl_err creds_provider_imds(struct state *st, struct creds *out, bool *found)
{
	char note[CREDS_SOURCE_MAX];
	sesctl_err rc = creds_from_imds(st, out, found, note, sizeof(note));

	if (rc == SESCTL_OK && !*found)
		creds_looked_add(st, "%s", note);
	return rc;
}
