/* env.c - the env provider: AWS_ACCESS_KEY_ID and friends (see
 * creds_int.h). */
#include "creds_int.h"

/* ------------------------------------------------------------------ */
/* The environment. */

sesctl_err creds_from_env(struct state *st, struct creds *out, bool *found)
{
	struct val id, secret, token;
	bool have_id, have_secret, have_token;
	sesctl_err rc;

	/* The environment's copies are left as they are: the getter hands
	 * out const strings, a second resolve must see the same, and the
	 * initial environment block is readable only by its owner, who
	 * put the secret there. */
	have_id = creds_val_from_env(st, "AWS_ACCESS_KEY_ID", &id);
	have_secret = creds_val_from_env(st, "AWS_SECRET_ACCESS_KEY", &secret);
	if (!have_id && !have_secret) {
		creds_looked_add(
			st, "the environment (AWS_ACCESS_KEY_ID is not set)");
		return SESCTL_OK;
	}
	if (!have_secret)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_ACCESS_KEY_ID is set but "
			       "AWS_SECRET_ACCESS_KEY is not; set both, or "
			       "unset AWS_ACCESS_KEY_ID to use a profile");
	if (!have_id)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_SECRET_ACCESS_KEY is set but "
			       "AWS_ACCESS_KEY_ID is not; set both, or unset "
			       "AWS_SECRET_ACCESS_KEY to use a profile");
	/* botocore's order: the legacy name first. */
	have_token = creds_val_from_env(st, "AWS_SECURITY_TOKEN", &token) ||
		     creds_val_from_env(st, "AWS_SESSION_TOKEN", &token);
	rc = creds_fill(st, &id, &secret, have_token ? &token : NULL, out);
	if (rc != SESCTL_OK)
		return rc;
	creds_set_text(out->source, sizeof(out->source), "environment");
	*found = true;
	return SESCTL_OK;
}

sesctl_err creds_provider_env(struct state *st, struct creds *out, bool *found)
{
	if (st->cli_profile) {
		if (creds_env_get(st->env, "AWS_ACCESS_KEY_ID"))
			ctx_debug(st->ctx,
				  "ignoring AWS_ACCESS_KEY_ID: --profile "
				  "takes precedence, as in the AWS CLI");
		creds_looked_add(st,
				 "the environment (skipped: --profile given)");
		return SESCTL_OK;
	}
	return creds_from_env(st, out, found);
}
