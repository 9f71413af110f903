/* iam.c - the IAM Query API client (see iam.h) on the AWS client core
 * (aws_client.c: endpoint, signing, retries, outcome rules, errors): the
 * service's description, the client, and one call (iam_call).  The typed
 * calls are in iam_calls.c, several calls at once in
 * iam_many.c, the table of actions and reading back a change of unknown
 * outcome in iam_resolve.c; iam_int.h is what they share.
 */
#include "sesctl/aws/iam.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/aws/region.h"

#include "iam_int.h"

static const struct aws_service iam_service = {
	"IAM", "iam", "AWS_ENDPOINT_URL_IAM", AWS_QUERY, IAM_API_VERSION,
	NULL, "", NULL,
};

sesctl_err iam_form_body(const char *action, const struct aws_param *params,
			 size_t n_params, char **out)
{
	return aws_query_body(action, IAM_API_VERSION, params, n_params, out);
}

sesctl_err iam_client_init(struct iam_client *c, struct ctx *ctx,
			   const struct iam_config *cfg)
{
	const struct partition_info *part = region_partition(cfg->region);
	/* IAM is global per partition: always signed for the partition's
	 * own region, whatever region the SMTP user is for. */
	struct aws_config ac = {
		cfg->endpoint_url, part->iam_endpoint,
		"the partition's IAM endpoint", part->iam_region,
		cfg->ca_bundle, cfg->access_key_id, cfg->secret_key,
		cfg->session_token, cfg->max_attempts, cfg->connect_timeout_ms,
		cfg->timeout_ms, NULL,
	};
	sesctl_err rc;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	rc = aws_client_init(&c->aws, ctx, &iam_service, &ac);
	if (rc == SESCTL_OK)
		ctx_debug(ctx, "IAM endpoint %s (from %s), signed for %s "
			       "(partition %s)",
			  c->aws.url, c->aws.url_source,
			  c->aws.signing_region, part->name);
	return rc;
}

void iam_client_release(struct iam_client *c)
{
	if (c)
		aws_client_release(&c->aws);
}

/* Check `action`, build its form body into *form. */
sesctl_err call_start(struct iam_client *c, const char *action,
		      const struct aws_param *params, size_t n_params,
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
		    const struct aws_param *params, size_t n_params,
		    struct secret *body)
{
	const struct iam_action *a = NULL;
	struct aws_outcome o = { &c->ctx->err, &c->last_error, false, false,
				 false };
	char *form = NULL;
	sesctl_err rc = SESCTL_OK;
	int left = c->aws.max_attempts, attempt = 0;

	TRY(call_start(c, action, params, n_params, &a, &form));
	rc = aws_send_until(&c->aws, action, a->flags, form, body, &o, &left,
			    &attempt);
	if (!o.answered)
		rc = aws_give_up(&c->aws, action, rc, attempt, &o);
	c->outcome_unknown = o.unknown;
out:
	free(form);
	return rc;
}
