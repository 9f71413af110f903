/* sts.c - the STS client for assume-role profiles and the caller's
 * identity (see sts.h), on the AWS client core (aws_client.c). */
#include "sesctl/aws/sts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/aws/aws_client.h"
#include "sesctl/aws/region.h"

static bool sts_map(const struct aws_client *c, const char *action,
		    const struct iam_error *e, const char *rid, sesctl_err *rc,
		    struct err_info *ei);

static const struct aws_service sts_service = {
	"STS", "sts", "AWS_ENDPOINT_URL_STS", AWS_QUERY, STS_API_VERSION,
	NULL, "STS ", sts_map,
};

/* ---- endpoint ------------------------------------------------------ */

sesctl_err sts_endpoint(struct ctx *ctx, const struct sts_config *cfg,
			char *url, size_t url_size, char *region,
			size_t region_size, const char **source)
{
	struct aws_config ac = { .env = cfg->env };
	const char *over = aws_endpoint_override(&sts_service, &ac, source);
	const char *reg = cfg->region && *cfg->region ? cfg->region : NULL;
	sesctl_err rc = SESCTL_OK;
	int n, m;

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

/* ---- errors ------------------------------------------------------ */

/* What STS says better than the common mapping: a refused AssumeRole
 * (the trust policy), a region where STS is not activated. */
static bool sts_map(const struct aws_client *c, const char *action,
		    const struct iam_error *e, const char *rid, sesctl_err *rc,
		    struct err_info *ei)
{
	if (strcmp(e->code, "AccessDenied") == 0 &&
	    strcmp(action, "AssumeRole") == 0) {
		*rc = err_set(ei, *rc,
			      "STS refused (AccessDenied): %s%s\nthe role "
			      "must exist, its trust policy must name the "
			      "caller, and 'external_id' must match if the "
			      "role asks for one",
			      e->message, rid);
		return true;
	}
	if (strcmp(e->code, "RegionDisabledException") == 0) {
		*rc = err_set(ei, *rc,
			      "STS is not activated in region '%s' "
			      "(RegionDisabledException): %s%s\nactivate it "
			      "in the account settings, or set "
			      "AWS_ENDPOINT_URL_STS=%s",
			      c->signing_region, e->message, rid,
			      STS_GLOBAL_ENDPOINT);
		return true;
	}
	return false;
}

/* ---- sending ------------------------------------------------------- */

typedef sesctl_err (*parse_fn)(const struct secret *body, void *out,
			       struct err_info *ei);

/* Send `form` for `action` with the SDKs' standard-mode retries (both
 * actions are safe to repeat: a lost answer costs at most a session, so
 * both go as reads) and parse a 2xx answer into `out`. */
static sesctl_err call(struct ctx *ctx, const struct sts_config *cfg,
		       const char *action, const char *form, parse_fn parse,
		       void *out)
{
	struct aws_config ac = { NULL, NULL, NULL, NULL, cfg->ca_bundle,
				 cfg->access_key_id, cfg->secret_key,
				 cfg->session_token, 0,
				 cfg->connect_timeout_ms, cfg->timeout_ms,
				 cfg->env };
	struct aws_client c;
	struct secret body = SECRET_INIT;
	char url[HTTP_URL_MAX], region[64];
	const char *source = NULL;
	sesctl_err rc = SESCTL_OK;

	memset(&c, 0, sizeof(c));
	TRY(sts_endpoint(ctx, cfg, url, sizeof(url), region, sizeof(region),
			 &source));
	ac.default_url = url;
	ac.default_source = source;
	ac.signing_region = region;
	TRY(aws_client_init(&c, ctx, &sts_service, &ac));
	ctx_debug(ctx, "STS %s at %s (from %s), signed for %s", action, c.url,
		  c.url_source, c.signing_region);
	TRY(aws_call(&c, action, AWS_READ, form, &body, NULL, NULL));
	rc = parse(&body, out, &ctx->err);
	if (rc != SESCTL_OK)
		rc = err_set(&ctx->err, rc,
			     "STS answered with something unreadable: %s",
			     ctx->err.msg);
out:
	secret_free(&body);
	aws_client_release(&c);
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
	char dur[32];
	struct aws_param p[4] = { { "RoleArn", in->role_arn },
				  { "RoleSessionName", in->role_session_name },
				  { "ExternalId", in->external_id },
				  { "DurationSeconds", NULL } };
	char *form = NULL;
	sesctl_err rc = SESCTL_OK;

	memset(out, 0, sizeof(*out));
	ENSURE(in->role_arn && in->role_session_name,
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "AssumeRole needs a role ARN and a session name"));
	if (in->duration_seconds > 0) {
		snprintf(dur, sizeof(dur), "%ld", in->duration_seconds);
		p[3].value = dur;
	}
	rc = aws_query_body("AssumeRole", STS_API_VERSION, p, 4, &form);
	ENSURE(rc == SESCTL_OK,
	       err_set(&ctx->err, rc == SESCTL_ERR_NOMEM ? rc : SESCTL_ERR_INPUT,
		       "the AssumeRole request for role '%.200s' is too large",
		       in->role_arn));
	ctx_debug(ctx, "STS AssumeRole of '%s' as session '%s'", in->role_arn,
		  in->role_session_name);
	rc = call(ctx, cfg, "AssumeRole", form, parse_assume_role, out);
out:
	free(form);
	if (rc != SESCTL_OK)
		iam_assume_role_release(out);
	return rc;
}

sesctl_err sts_get_caller_identity(struct ctx *ctx,
				   const struct sts_config *cfg,
				   struct iam_caller_identity *out)
{
	sesctl_err rc;

	memset(out, 0, sizeof(*out));
	rc = call(ctx, cfg, "GetCallerIdentity",
		  "Action=GetCallerIdentity&Version=" STS_API_VERSION,
		  parse_caller_identity, out);
	if (rc != SESCTL_OK)
		iam_caller_identity_release(out);
	return rc;
}
