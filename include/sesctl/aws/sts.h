/* sts.h - the STS Query API client, for the caller's assume-role profiles
 * and the caller's own account.
 *
 * GetCallerIdentity, and AssumeRole as botocore sends it for a profile with role_arn
 * (credentials.py AssumeRoleCredentialFetcher): a form body
 * "Action=AssumeRole&Version=2011-06-15&RoleArn=..&RoleSessionName=..
 * [&ExternalId=..][&DurationSeconds=..]", signed with the project's SigV4
 * signer for service "sts", sent with http.
 *
 * Endpoint (the AWS CLI v2 default, sts_regional_endpoints = regional):
 * AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (the SDKs' service-specific
 * then global override), else https://sts.<region>.<partition's DNS
 * suffix> when a region is known, else the global https://sts.amazonaws.com
 * signed for us-east-1.  An override is signed for the region if one is
 * known, else us-east-1.  Plain http is refused unless the host is
 * loopback (http_check_url).  TLS trusts cfg->ca_bundle, else
 * $AWS_CA_BUNDLE, else the system's CAs.
 *
 * Retries as the SDKs' standard mode: AWS_MAX_ATTEMPTS (default 3) on
 * throttling, 5xx and connection errors, capped exponential backoff with
 * full jitter.  AssumeRole is safe to repeat (each call just makes another
 * session), so a lost answer is retried too.
 *
 * Errors: STS error codes map to exit codes through iam_xml_error_err
 * (AccessDenied, ExpiredToken, InvalidClientTokenId, SignatureDoesNotMatch
 * are SESCTL_ERR_AUTH, exit 3; ValidationError SESCTL_ERR_INPUT; throttling
 * and 5xx after the retries SESCTL_ERR_NETWORK), with STS's own message and
 * what to do in ctx->err.  Secrets (the caller's secret key and token, the
 * answer, the new secret key and token) live only in struct secret; the
 * debug log redacts them (http_redact.c).
 */
#ifndef SESCTL_STS_H
#define SESCTL_STS_H

#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/aws/http.h"
#include "sesctl/aws/iam_xml.h"
#include "sesctl/base/secret.h"

#define STS_API_VERSION "2011-06-15"
#define STS_GLOBAL_ENDPOINT "https://sts.amazonaws.com"
#define STS_GLOBAL_REGION "us-east-1"
/* DurationSeconds: STS's model allows 900 to 43200. */
#define STS_DURATION_MIN 900
#define STS_DURATION_MAX 43200

/* Environment lookup, as creds_env_fn: NULL or "" is "not set". */
typedef const char *(*sts_env_fn)(const char *name);

struct sts_config {
	const char *region;      /* NULL or "": the global endpoint */
	const char *ca_bundle;   /* NULL: $AWS_CA_BUNDLE, else the system's */
	long connect_timeout_ms; /* 0: http's default */
	long timeout_ms;         /* 0: http's default */
	sts_env_fn env;          /* NULL: getenv(3) */
	/* Who signs (borrowed). */
	const char *access_key_id;
	const struct secret *secret_key;
	const struct secret *session_token; /* NULL or empty: none */
};

struct sts_assume_role_in {
	const char *role_arn;
	const char *role_session_name;
	const char *external_id; /* NULL: none */
	long duration_seconds;   /* 0: not sent (STS's default, one hour) */
};

/* The endpoint URL, the region requests to it are signed for and where
 * the URL came from ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "the
 * regional endpoint", "the global endpoint"; static storage).  Checked
 * with http_check_url.  Errors in ctx->err. */
MUST_USE sesctl_err sts_endpoint(struct ctx *ctx, const struct sts_config *cfg,
				 char *url, size_t url_size, char *region,
				 size_t region_size, const char **source);

/* Call AssumeRole.  On success `out` holds the new credentials (the caller
 * releases them with iam_assume_role_release); on error `out` is empty and
 * ctx->err says why. */
MUST_USE sesctl_err sts_assume_role(struct ctx *ctx,
				    const struct sts_config *cfg,
				    const struct sts_assume_role_in *in,
				    struct iam_assume_role *out);

/* Call GetCallerIdentity (which needs no permission): the caller's
 * account, ARN and user id.  Release `out` with
 * iam_caller_identity_release; on error it is empty. */
MUST_USE sesctl_err sts_get_caller_identity(struct ctx *ctx,
					    const struct sts_config *cfg,
					    struct iam_caller_identity *out);

#endif
