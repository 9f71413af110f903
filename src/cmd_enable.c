/* cmd_enable.c - sesctl smtp enable.
 *
 * Happy path: CreateUser (path and tags), PutUserPolicy, CreateAccessKey,
 * then derive and write: three IAM calls on one connection.  An existing
 * managed user without keys (an earlier run died) is resumed; one with a
 * key, or one sesctl does not manage, is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/cmd_smtp.h"
#include "sesctl/credfile.h"
#include "sesctl/lifecycle.h"
#include "sesctl/smtp_verify.h"

/* The user exists already: may we go on, and with which ARN? */
static sesctl_err resume_existing(struct lc *lc, bool adopt, char *arn,
				  size_t arn_size, bool *tag_it)
{
	struct iam_user_result u;
	struct iam_access_key_list keys;
	sesctl_err rc = SESCTL_OK;

	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	*tag_it = false;
	TRY(iam_get_user(&lc->iam, lc->user, &u));
	if (!lc_is_managed(&u.user)) {
		ENSURE(adopt,
		       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			       "IAM user '%s' exists but sesctl did not create "
			       "it (no tag %s=%s); pass --adopt to take it "
			       "over, or choose another --name",
			       lc->user, LC_TAG_MANAGED_BY,
			       LC_TAG_MANAGED_VALUE));
		*tag_it = true;
	}
	TRY(iam_list_access_keys(&lc->iam, lc->user, &keys));
	ENSURE(keys.count == 0,
	       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
		       "already enabled: IAM user '%s' has access key %s, "
		       "whose secret cannot be shown again\nuse 'sesctl smtp "
		       "rotate%s%s' for a new SMTP password",
		       lc->user, keys.items[0].access_key_id,
		       opts_get(lc->o, OPT_NAME) ? " --name " : "",
		       opts_get(lc->o, OPT_NAME) ? opts_get(lc->o, OPT_NAME) :
						   ""));
	ctx_info(lc->ctx, "IAM user '%s' exists without an access key; "
			  "finishing its setup",
		 lc->user);
	snprintf(arn, arn_size, "%s", u.user.arn);
out:
	iam_user_result_release(&u);
	iam_access_key_list_release(&keys);
	return rc;
}

/* CreateAccessKey lost its answer: the user had no key before, so any key
 * it has now was made by that call and its secret is lost with it. */
static sesctl_err drop_lost_keys(struct lc *lc)
{
	char first[ERR_MSG_MAX];
	size_t dropped = 0;

	snprintf(first, sizeof(first), "%s", lc->ctx->err.msg);
	if (lc_drop_new_keys(lc, NULL, NULL, &dropped) != SESCTL_OK)
		return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
			       "%s\n%s; then run 'sesctl smtp enable' again",
			       first, lc->ctx->err.msg);
	return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
		       "%s\n%s; run 'sesctl smtp enable' again", first,
		       dropped ? "IAM had made the key, and its secret never "
				 "arrived, so sesctl deleted it again" :
				 "IAM had not made the key");
}

/* CreateUser, resolving a lost answer by reading back: *exists says the
 * user was there already (made by an earlier run, or by this call). */
static sesctl_err create_user(struct lc *lc, const struct iam_tag_in *tags,
			      size_t n_tags, struct iam_user_result *created,
			      bool *exists)
{
	struct iam_user_result probe;
	sesctl_err rc;
	int tries;

	*exists = false;
	for (tries = 0;; tries++) {
		rc = iam_create_user(&lc->iam, lc->user, LC_PATH, tags, n_tags,
				     created);
		if (rc == SESCTL_ERR_CONFLICT &&
		    strcmp(lc->iam.last_error.code, "EntityAlreadyExists") == 0) {
			*exists = true;
			return SESCTL_OK;
		}
		if (rc == SESCTL_OK || !lc->iam.outcome_unknown || tries > 0)
			return rc;
		/* The answer was lost.  Only if IAM has no such user did
		 * the call not happen, and sending it again is safe. */
		iam_user_result_release(created);
		memset(&probe, 0, sizeof(probe));
		rc = iam_get_user(&lc->iam, lc->user, &probe);
		iam_user_result_release(&probe);
		if (rc == SESCTL_OK) {
			*exists = true;
			return SESCTL_OK;
		}
		if (rc != SESCTL_ERR_NOT_FOUND)
			return rc;
	}
}

static sesctl_err policy_for(struct lc *lc, const char *arn, char **doc)
{
	const struct opts *o = lc->o;
	struct policy_spec spec;
	char account[16] = "";
	sesctl_err rc;

	memset(&spec, 0, sizeof(spec));
	spec.partition = lc->partition->name;
	spec.regions = lc->regions;
	spec.n_regions = lc->n_regions;
	spec.identities = o->val[OPT_IDENTITY];
	spec.n_identities = opts_count(o, OPT_IDENTITY);
	spec.from = o->val[OPT_FROM_ADDRESS];
	spec.n_from = opts_count(o, OPT_FROM_ADDRESS);
	if (spec.n_identities) {
		if (!lc_account_of(arn, account, sizeof(account)))
			return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
				       "IAM returned an ARN without an account "
				       "id: '%s'",
				       arn);
		spec.account = account;
	}
	rc = output_policy(&spec, doc);
	if (rc != SESCTL_OK)
		return err_set(&lc->ctx->err, rc, "could not build the policy");
	return SESCTL_OK;
}

static sesctl_err check_narrowing(struct lc *lc)
{
	const struct opts *o = lc->o;
	size_t i;

	for (i = 0; i < opts_count(o, OPT_IDENTITY); i++)
		if (strchr(o->val[OPT_IDENTITY][i], ' ') ||
		    strchr(o->val[OPT_IDENTITY][i], ':') ||
		    strchr(o->val[OPT_IDENTITY][i], '/'))
			return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				       "invalid --identity '%s': give a domain "
				       "(example.com) or an address "
				       "(mail@example.com)",
				       o->val[OPT_IDENTITY][i]);
	for (i = 0; i < opts_count(o, OPT_FROM_ADDRESS); i++)
		if (!strchr(o->val[OPT_FROM_ADDRESS][i], '@') ||
		    strchr(o->val[OPT_FROM_ADDRESS][i], ' '))
			return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				       "invalid --from-address '%s': give an "
				       "address or a pattern like "
				       "'*@example.com'",
				       o->val[OPT_FROM_ADDRESS][i]);
	return SESCTL_OK;
}

static sesctl_err dry_run(struct lc *lc)
{
	struct iam_user_result u;
	char *doc = NULL;
	const char *out = opts_get(lc->o, OPT_OUTPUT_FILE);
	sesctl_err rc = SESCTL_OK;
	bool exists;

	memset(&u, 0, sizeof(u));
	rc = iam_get_user(&lc->iam, lc->user, &u);
	exists = rc == SESCTL_OK;
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	TRY(rc);
	if (exists)
		TRY(lc_plan(lc, "# IAM user '%s' exists (%s); enable would "
				"resume it only if it is managed and has no key",
			    lc->user, lc_is_managed(&u.user) ?
					      "managed by sesctl" :
					      "NOT managed by sesctl"));
	else
		TRY(lc_plan(lc, "CreateUser UserName=%s Path=%s Tags=%s=%s,%s=%s",
			    lc->user, LC_PATH, LC_TAG_MANAGED_BY,
			    LC_TAG_MANAGED_VALUE, LC_TAG_NAME, lc->name));
	TRY(policy_for(lc, exists ? u.user.arn :
				    "arn:aws:iam::ACCOUNT:user/x",
		       &doc));
	TRY(lc_plan(lc, "PutUserPolicy UserName=%s PolicyName=%s "
			"PolicyDocument=%s",
		    lc->user, POLICY_NAME, doc));
	TRY(lc_plan(lc, "CreateAccessKey UserName=%s", lc->user));
	TRY(lc_plan(lc, "# then write the SMTP settings (%s) to %s",
		    lc->fmt->name, out ? out : "standard output"));
out:
	free(doc);
	iam_user_result_release(&u);
	return rc;
}

sesctl_err smtp_enable(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct lc lc;
	struct iam_user_result created;
	struct iam_access_key key;
	struct secret settings = SECRET_INIT;
	struct iam_tag_in tags[2];
	const char *out_file = opts_get(o, OPT_OUTPUT_FILE);
	char arn[IAM_XML_ARN_MAX + 1] = "", *doc = NULL;
	bool tag_it = false, exists = false;
	sesctl_err rc = SESCTL_OK;

	(void)argv;
	memset(&created, 0, sizeof(created));
	memset(&key, 0, sizeof(key));
	memset(&lc, 0, sizeof(lc));
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp enable' takes no arguments; "
				  "name the user with --name"));
	TRY(lc_open(&lc, ctx, o, LC_NEEDS_REGION));
	TRY(check_narrowing(&lc));
	TRY(smtp_verify_check_opts(ctx, o, lc.n_regions));
	if (opts_has(o, OPT_DRY_RUN)) {
		rc = dry_run(&lc);
		goto out;
	}
	/* A write that cannot succeed fails now, before IAM changes. */
	if (out_file)
		TRY(credfile_check_new(ctx, out_file));

	tags[0] = (struct iam_tag_in){ LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE };
	tags[1] = (struct iam_tag_in){ LC_TAG_NAME, lc.name };
	TRY(create_user(&lc, tags, 2, &created, &exists));
	if (!exists) {
		snprintf(arn, sizeof(arn), "%s", created.user.arn);
		ctx_info(ctx, "created IAM user '%s'", lc.user);
	} else {
		/* Made by an earlier run, or by this one's lost answer. */
		TRY(resume_existing(&lc, opts_has(o, OPT_ADOPT), arn,
				    sizeof(arn), &tag_it));
		if (tag_it)
			TRY(iam_tag_user(&lc.iam, lc.user, tags, 2));
	}

	TRY(policy_for(&lc, arn, &doc));
	TRY(iam_put_user_policy(&lc.iam, lc.user, POLICY_NAME, doc));

	rc = iam_create_access_key(&lc.iam, lc.user, &key);
	if (rc != SESCTL_OK && lc.iam.outcome_unknown)
		rc = drop_lost_keys(&lc);
	TRY(rc);
	if (lc.iam.outcome_unknown) {
		/* libcurl sent CreateAccessKey again on a fresh connection:
		 * the first one may have made a key too. */
		size_t dropped;

		if (lc_drop_new_keys(&lc, NULL, key.access_key_id, &dropped) !=
		    SESCTL_OK)
			ctx_warn(ctx, "%s", ctx->err.msg);
	}

	rc = lc_render(&lc, key.access_key_id, &key.secret_access_key,
		       &settings);
	if (rc == SESCTL_OK)
		rc = lc_write(&lc, &settings, false);
	if (rc != SESCTL_OK) {
		rc = lc_undo_key(&lc, key.access_key_id, rc);
		goto out;
	}
	ctx_info(ctx, "SMTP user %s enabled for %s%s; settings written to %s",
		 key.access_key_id, lc.regions[0],
		 lc.n_regions > 1 ? " and more regions" : "",
		 out_file ? out_file : "standard output");
	if (opts_has(o, OPT_VERIFY)) {
		rc = smtp_verify_new_key(&lc, key.access_key_id,
					 &key.secret_access_key);
		/* The secret is delivered: the key stays either way. */
		if (rc != SESCTL_OK)
			rc = err_set(&ctx->err, rc,
				     "%s\nthe access key %s stays (its settings "
				     "were written to %s); check again later "
				     "with 'sesctl smtp verify'",
				     ctx->err.msg, key.access_key_id,
				     out_file ? out_file : "standard output");
	}
out:
	secret_free(&settings);
	free(doc);
	iam_access_key_release(&key);
	iam_user_result_release(&created);
	lc_close(&lc);
	return rc;
}
