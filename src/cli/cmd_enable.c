/* cmd_enable.c - sesctl smtp enable.
 *
 * Happy path: CreateUser (path and tags), PutUserPolicy, CreateAccessKey,
 * then derive and write: three IAM calls on one connection.  An existing
 * managed user without keys (an earlier run died) is resumed; one with a
 * key, or one sesctl does not manage, is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/smtp/credfile.h"
#include "sesctl/base/interrupt.h"
#include "sesctl/cli/lifecycle.h"
#include "sesctl/cli/cmd_verify.h"
#include "sesctl/aws/sts.h"

/* The user exists already: may we go on, and with which ARN?  An
 * interrupted enable is cleaned up (its undelivered key deleted) or, when
 * its settings reached the output file, finished: *done. */
static sesctl_err resume_existing(struct lc *lc, bool adopt, bool ours,
				  char *arn, size_t arn_size, char *user_id,
				  size_t user_id_size, bool *tag_it, bool *done)
{
	struct iam_user_result u;
	struct iam_access_key_list keys;
	char delivered[RECORD_KEY_MAX + 1] = "";
	sesctl_err rc = SESCTL_OK;
	size_t in_flight = 0;

	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	*tag_it = false;
	*done = false;
	TRY(iam_get_user(&lc->iam, lc->user, &u));
	if (!lc_is_managed(&u.user)) {
		ENSURE(adopt,
		       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "not-managed",
			       "IAM user '%s' exists but sesctl did not create "
			       "it (no tag %s=%s); pass --adopt to take it "
			       "over, or choose another --name",
			       lc->user, LC_TAG_MANAGED_BY,
			       LC_TAG_MANAGED_VALUE));
		*tag_it = true;
	}
	record_read(&u.user, &lc->rec);
	snprintf(user_id, user_id_size, "%s", u.user.user_id);
	(void)runlock_journal_own(lc->ctx, &lc->lock, u.user.user_id);
	TRY(iam_list_access_keys(&lc->iam, lc->user, &keys));
	TRY(lc_reconcile(lc, &keys, delivered, &in_flight));
	if (delivered[0]) {
		TRY(lc_record(lc, delivered, NULL));
		ctx_info(lc->ctx, "finished the enable an interrupted run began: "
				  "access key %s is in '%s' and now recorded",
			 delivered, lc->lock.prev.output);
		*done = true;
		goto out;
	}
	ENSURE(in_flight == 0,
	       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "key-in-flight",
		       "IAM user '%s' has access key %s, made %ld s ago with "
		       "no delivery record: another sesctl run may be enabling "
		       "it right now\nif none is, its secret was lost and it "
		       "counts as undelivered %d minutes after it was made: "
		       "run '%s' then",
		       lc->user, keys.items[0].access_key_id,
		       (long)(ctx_now(lc->ctx) - keys.items[0].create_date.t),
		       RECORD_GRACE_SECONDS / 60, lc_rerun(lc, "enable")));
	/* A user made moments ago without a key is another enable at work
	 * (on another machine: this one's are serialised), unless it was
	 * this run's, or a run of this machine that died. */
	ENSURE(keys.count > 0 || ours || !lc_is_managed(&u.user) ||
		       (lc->lock.prev.present &&
			strcmp(lc->lock.prev.command, "enable") == 0) ||
		       !u.user.create_date.present ||
		       ctx_now(lc->ctx) - u.user.create_date.t >=
			       RECORD_GRACE_SECONDS,
	       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "user-in-flight",
		       "IAM user '%s' was created %ld s ago and has no access "
		       "key yet: another sesctl run may be enabling it right "
		       "now\nif none is, run '%s' again %d minutes after it "
		       "was made",
		       lc->user,
		       (long)(ctx_now(lc->ctx) - u.user.create_date.t),
		       lc_rerun(lc, "enable"), RECORD_GRACE_SECONDS / 60));
	ENSURE(keys.count == 0,
	       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "already-enabled",
		       "already enabled: IAM user '%s' has access key %s, "
		       "whose secret cannot be shown again\nuse '%s' for a new "
		       "SMTP password",
		       lc->user, keys.items[0].access_key_id,
		       lc_cmd(lc, "rotate")));
	ctx_info(lc->ctx, "IAM user '%s' exists without an access key; "
			  "finishing its setup",
		 lc->user);
	snprintf(arn, arn_size, "%s", u.user.arn);
out:
	iam_user_result_release(&u);
	iam_access_key_list_release(&keys);
	return rc;
}

/* CreateUser, resolving a lost answer by reading back: *exists says the
 * user was there already (made by an earlier run, or by this call). */
static sesctl_err create_user(struct lc *lc, const struct iam_tag_in *tags,
			      size_t n_tags, struct iam_user_result *created,
			      bool *exists, bool *ours)
{
	struct iam_user_result probe;
	sesctl_err rc;
	int tries;

	*exists = false;
	*ours = false;
	for (tries = 0;; tries++) {
		/* The first time with a GetUser beside it: the second
		 * connection the policy and the key then use at once. */
		rc = tries == 0 ?
			     iam_create_user_beside_get(&lc->iam, lc->user,
							LC_PATH, tags, n_tags,
							created) :
			     iam_create_user(&lc->iam, lc->user, LC_PATH, tags,
					     n_tags, created);
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
			*ours = true; /* most likely: it was not there before */
			return SESCTL_OK;
		}
		if (rc != SESCTL_ERR_NOT_FOUND)
			return rc;
	}
}

/* Remove the settings file an interrupted enable left when it names no
 * key the user has (the key was deleted as undelivered). */
static sesctl_err remove_leftover(struct lc *lc, const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return SESCTL_OK;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return SESCTL_OK; /* not ours: credfile_check_new says so */
	if (unlink(path) != 0)
		return err_set(&lc->ctx->err, SESCTL_ERR_IO,
			       "cannot remove '%s', left by an interrupted "
			       "run: %s",
			       path, strerror(errno));
	ctx_info(lc->ctx, "removed '%s': an interrupted run wrote it for a "
			  "key that was never recorded",
		 path);
	return SESCTL_OK;
}

/* An identical enable ran before: `path` holds the settings of the
 * user's recorded, active key, for the regions and format of this run.
 * Then nothing is to be done (idempotent provisioning). */
static bool already_enabled(struct lc *lc, const char *path)
{
	struct smtp_settings s;
	struct iam_user_result u;
	struct iam_access_key_list keys;
	struct record rec;
	struct err_info saved = lc->ctx->err;
	bool yes = false;
	size_t i, j;

	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	memset(&rec, 0, sizeof(rec));
	if (lc_read_settings(lc, path, &s) != SESCTL_OK || !s.n ||
	    s.format != lc->fmt || s.n != lc->n_regions ||
	    strcmp(s.k8s_name, lc->k8s_name) != 0 ||
	    strcmp(s.k8s_namespace, lc->k8s_namespace) != 0)
		goto out;
	for (i = 0; i < lc->n_regions; i++) {
		bool found = false;

		for (j = 0; j < s.n; j++)
			found |= strcmp(s.item[j].region, lc->regions[i]) == 0;
		if (!found)
			goto out;
	}
	if (iam_get_user(&lc->iam, lc->user, &u) != SESCTL_OK ||
	    !lc_is_managed(&u.user))
		goto out;
	record_read(&u.user, &rec);
	if (strcmp(rec.current, s.item[0].user) != 0 ||
	    iam_list_access_keys(&lc->iam, lc->user, &keys) != SESCTL_OK)
		goto out;
	for (i = 0; i < keys.count; i++)
		yes |= strcmp(keys.items[i].access_key_id, rec.current) == 0 &&
		       keys.items[i].status == IAM_STATUS_ACTIVE;
out:
	output_settings_release(&s);
	iam_user_result_release(&u);
	iam_access_key_list_release(&keys);
	lc->ctx->err = saved;
	return yes;
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

/* The caller's account, for a policy scoped to --identity of a user that
 * does not exist yet (STS GetCallerIdentity needs no permission). */
static sesctl_err caller_user_arn(struct lc *lc, char *arn, size_t size)
{
	struct sts_config cfg;
	struct iam_caller_identity id;
	sesctl_err rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.region = lc->n_regions ? lc->regions[0] : NULL;
	cfg.ca_bundle = opts_get(lc->o, OPT_CA_BUNDLE);
	cfg.access_key_id = lc->cr.access_key_id;
	cfg.secret_key = &lc->cr.secret_key;
	cfg.session_token = lc->cr.session_token.len ? &lc->cr.session_token :
						       NULL;
	rc = sts_get_caller_identity(lc->ctx, &cfg, &id);
	if (rc == SESCTL_OK)
		snprintf(arn, size, "arn:%s:iam::%s:user%s%s",
			 lc->partition->name, id.account, LC_PATH, lc->user);
	iam_caller_identity_release(&id);
	return rc;
}

/* --repair: sesctl's policy rewritten as sesctl writes it, scoped as the
 * user's policy was (its SES identities and From addresses, as far as the
 * changed document still says), unless --identity or --from-address say
 * otherwise; nothing else is touched.  With --dry-run, the plan. */
static sesctl_err repair(struct lc *lc, bool dry)
{
	struct iam_user_result u;
	struct iam_user_policy pol;
	struct policy_scope sc;
	struct policy_spec spec;
	const char *ids[POLICY_SCOPE_MAX], *from[POLICY_SCOPE_MAX];
	const char *regions[POLICY_SCOPE_MAX];
	char *doc = NULL, desc[256] = "", account[16] = "";
	bool matches = false;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	memset(&u, 0, sizeof(u));
	memset(&pol, 0, sizeof(pol));
	memset(&spec, 0, sizeof(spec));
	memset(&sc, 0, sizeof(sc));
	rc = iam_get_user(&lc->iam, lc->user, &u);
	ENSURE(rc != SESCTL_ERR_NOT_FOUND,
	       err_setk(&lc->ctx->err, SESCTL_ERR_NOT_FOUND, "not-enabled",
			"not enabled: there is no IAM user '%s' to repair; "
			"'%s' creates it",
			lc->user, lc_cmd(lc, "enable")));
	TRY(rc);
	/* --identity's ARNs take the recorded regions unless told. */
	record_read(&u.user, &lc->rec);
	if (!lc->regions_given && lc->rec.present && lc->rec.n_regions) {
		const char *rg[RECORD_REGIONS_MAX];

		for (i = 0; i < lc->rec.n_regions; i++)
			rg[i] = lc->rec.regions[i];
		TRY(lc_set_regions(lc, rg, lc->rec.n_regions));
	}
	ENSURE(lc_is_managed(&u.user),
	       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "not-managed",
			"IAM user '%s' is not managed by sesctl (no tag %s=%s); "
			"take it over first with '%s'",
			lc->user, LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE,
			lc_cmd(lc, "rotate --adopt")));
	rc = iam_get_user_policy(&lc->iam, lc->user, POLICY_NAME, &pol);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	TRY(rc);
	if (pol.policy_document)
		TRY(output_policy_check(pol.policy_document, &matches, desc,
					sizeof(desc)));
	/* Gone, it names no scope: writing one that sends as any identity
	 * may widen what the user had. */
	ENSURE(pol.policy_document || opts_count(lc->o, OPT_IDENTITY) ||
		       opts_count(lc->o, OPT_FROM_ADDRESS) ||
		       opts_has(lc->o, OPT_YES),
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "policy '%s' of '%s' is gone, and with it the scope "
		       "it had: give the --identity and --from-address it was "
		       "enabled with, or --yes to let it send as any identity "
		       "of the account",
		       POLICY_NAME, lc->user));
	if (matches && !opts_count(lc->o, OPT_IDENTITY) &&
	    !opts_count(lc->o, OPT_FROM_ADDRESS)) {
		ctx_info(lc->ctx, "policy '%s' of '%s' is what sesctl writes "
				  "(%s); nothing to repair",
			 POLICY_NAME, lc->user, desc);
		goto out;
	}
	/* The scope: the options, else what the policy still says. */
	spec.partition = lc->partition->name;
	if (opts_count(lc->o, OPT_IDENTITY) ||
	    opts_count(lc->o, OPT_FROM_ADDRESS)) {
		TRY(policy_for(lc, u.user.arn, &doc));
	} else {
		output_policy_scope(pol.policy_document, &sc);
		for (i = 0; i < sc.n_identities; i++)
			ids[i] = sc.identities[i];
		for (i = 0; i < sc.n_from; i++)
			from[i] = sc.from[i];
		for (i = 0; i < sc.n_regions; i++)
			regions[i] = sc.regions[i];
		spec.identities = ids;
		spec.n_identities = sc.n_identities;
		spec.from = from;
		spec.n_from = sc.n_from;
		spec.regions = regions;
		spec.n_regions = sc.n_regions;
		if (sc.n_identities) {
			/* The user's own account and partition. */
			ENSURE(lc_account_of(u.user.arn, account,
					     sizeof(account)),
			       err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
				       "IAM returned an ARN without an account "
				       "id: '%s'",
				       u.user.arn));
			spec.account = account;
		}
		rc = output_policy(&spec, &doc);
		ENSURE(rc == SESCTL_OK, err_set(&lc->ctx->err, rc,
						"could not build the policy"));
	}
	if (dry) {
		TRY(lc_plan(lc, "PutUserPolicy UserName=%s PolicyName=%s "
				"PolicyDocument=%s",
			    lc->user, POLICY_NAME, doc));
		goto out;
	}
	TRY(iam_put_user_policy(&lc->iam, lc->user, POLICY_NAME, doc));
	TRY(output_policy_check(doc, &matches, desc, sizeof(desc)));
	ctx_info(lc->ctx, "rewrote policy '%s' of '%s': %s", POLICY_NAME,
		 lc->user, desc);
out:
	free(doc);
	iam_user_policy_release(&pol);
	iam_user_result_release(&u);
	return rc;
}

/* --dry-run: what the real run would do, call by call, or the refusal it
 * would meet, with its exit status. */
static sesctl_err dry_run(struct lc *lc)
{
	struct iam_user_result u;
	struct iam_access_key_list keys;
	char *doc = NULL, arn[IAM_XML_ARN_MAX + 1] = "";
	const char *out = opts_get(lc->o, OPT_OUTPUT_FILE);
	sesctl_err rc = SESCTL_OK;
	bool exists;

	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	if (out && credfile_check_new(lc->ctx, out) != SESCTL_OK) {
		if (already_enabled(lc, out)) {
			TRY(lc_plan(lc, "# already enabled: '%s' holds the "
					"settings of '%s''s recorded key; "
					"nothing to do",
				    out, lc->user));
			goto out;
		}
		rc = lc->ctx->err.code;
		goto out;
	}
	rc = iam_get_user(&lc->iam, lc->user, &u);
	exists = rc == SESCTL_OK;
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	TRY(rc);
	if (exists) {
		bool managed = lc_is_managed(&u.user);

		snprintf(arn, sizeof(arn), "%s", u.user.arn);
		TRY(iam_list_access_keys(&lc->iam, lc->user, &keys));
		ENSURE(managed || opts_has(lc->o, OPT_ADOPT),
		       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT,
				"not-managed",
				"IAM user '%s' exists but sesctl did not create "
				"it (no tag %s=%s); enable would stop here "
				"(pass --adopt to take it over)",
				lc->user, LC_TAG_MANAGED_BY,
				LC_TAG_MANAGED_VALUE));
		ENSURE(keys.count == 0,
		       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT,
				"already-enabled",
				"already enabled: IAM user '%s' has access key "
				"%s, whose secret cannot be shown again; enable "
				"would stop here (use '%s')",
				lc->user, keys.items[0].access_key_id,
				lc_cmd(lc, "rotate")));
		TRY(lc_plan(lc, "# IAM user '%s' exists%s without an access "
				"key: enable resumes it",
			    lc->user, managed ? "" : ", not managed by sesctl,"));
		if (!managed)
			TRY(lc_adopt(lc, true));
	} else {
		struct iam_tag_in tags[2];
		char text[LC_TAGS_TEXT_MAX];

		TRY(lc_plan(lc, "CreateUser UserName=%s Path=%s Tags=%s",
			    lc->user, LC_PATH,
			    lc_tags_text(tags, lc_managed_tags(lc, tags), text,
					 sizeof(text))));
		if (opts_count(lc->o, OPT_IDENTITY))
			TRY(caller_user_arn(lc, arn, sizeof(arn)));
	}
	TRY(policy_for(lc, arn[0] ? arn : "arn:aws:iam::000000000000:user/x",
		       &doc));
	TRY(lc_plan(lc, "PutUserPolicy UserName=%s PolicyName=%s "
			"PolicyDocument=%s",
		    lc->user, POLICY_NAME, doc));
	TRY(lc_plan(lc, "CreateAccessKey UserName=%s", lc->user));
	TRY(lc_plan(lc, "# then write the SMTP settings (%s) to %s",
		    lc->fmt->name,
		    out ? out :
		    lc_stores_any(lc) ? "the stores below" :
			       "standard output"));
	TRY(lc_stores_plan(lc, true));
	TRY(lc_plan_record(lc, "NEW-KEY", NULL));
	if (opts_has(lc->o, OPT_DEPLOY_HOOK))
		TRY(lc_plan(lc, "# then run the deploy hook: %s",
			    opts_get(lc->o, OPT_DEPLOY_HOOK)));
out:
	free(doc);
	iam_access_key_list_release(&keys);
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
	size_t n_tags;
	const char *out_file = opts_get(o, OPT_OUTPUT_FILE);
	char arn[IAM_XML_ARN_MAX + 1] = "", *doc = NULL;
	char user_id[IAM_XML_ID_MAX + 1] = "", abs_out[PATH_MAX] = "";
	bool tag_it = false, exists = false, done = false, leftover = false;
	bool armed = false, leave_journal = false, undone = false;
	bool journal = false, ours = false, touched = false, delivered = false;
	struct journal j;
	sesctl_err rc = SESCTL_OK;

	(void)argv;
	memset(&created, 0, sizeof(created));
	memset(&key, 0, sizeof(key));
	memset(&lc, 0, sizeof(lc));
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp enable' takes no arguments; "
				  "name the user with --name"));
	if (opts_has(o, OPT_REPAIR)) {
		static const enum opt_id not_with[] = {
			OPT_OUTPUT_FILE, OPT_ADOPT,    OPT_DEPLOY_HOOK,
			OPT_VERIFY,	 OPT_DEPLOY_HOOK_TIMEOUT,
			OPT_VERIFY_TIMEOUT, OPT_SMTP_ENDPOINT_URL,
			OPT_K8S_NAME,	 OPT_K8S_NAMESPACE
		};
		const char *fmt = opts_get(o, OPT_FORMAT);
		size_t i;

		ENSURE(!fmt || (opts_has(o, OPT_DRY_RUN) &&
				(strcmp(fmt, "json") == 0 ||
				 strcmp(fmt, "text") == 0)),
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--repair writes no SMTP settings; --format "
			       "json only goes with --dry-run (the plan)"));
		for (i = 0; i < sizeof(not_with) / sizeof(not_with[0]); i++)
			ENSURE(!opts_has(o, not_with[i]),
			       err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "--repair only rewrites the policy; "
				       "--%s has no use there",
				       cli_option(not_with[i])->name));
		TRY(lc_open(&lc, ctx, o, 0));
		TRY(check_narrowing(&lc));
		if (!opts_has(o, OPT_DRY_RUN))
			TRY(lc_lock(&lc));
		rc = repair(&lc, opts_has(o, OPT_DRY_RUN));
		if (rc == SESCTL_OK && opts_has(o, OPT_DRY_RUN))
			rc = lc_plan_done(&lc, "enable");
		goto out;
	}
	TRY(lc_open(&lc, ctx, o, LC_NEEDS_REGION));
	TRY(lc_k8s_names(&lc, NULL));
	TRY(check_narrowing(&lc));
	TRY(lc_check_hook_opts(&lc));
	TRY(smtp_verify_check_opts(ctx, o, lc.n_regions));
	TRY(lc_stores_open(&lc, opts_has(o, OPT_ADOPT),
			   opts_has(o, OPT_DRY_RUN)));
	if (opts_has(o, OPT_DRY_RUN)) {
		rc = dry_run(&lc);
		if (rc == SESCTL_OK)
			rc = lc_plan_done(&lc, "enable");
		goto out;
	}
	TRY(lc_lock(&lc));
	if (out_file)
		TRY(lc_abs_path(&lc, out_file, abs_out, sizeof(abs_out)));
	/* A write that cannot succeed fails now, before IAM changes; unless
	 * the file may be the one an interrupted run of ours was writing
	 * (checked once the user is known). */
	leftover = out_file && lc.lock.prev.present &&
		   lc.lock.prev.user_id[0] &&
		   strcmp(lc.lock.prev.output, abs_out) == 0;
	if (out_file && !leftover) {
		rc = credfile_check_new(ctx, out_file);
		if (rc != SESCTL_OK && already_enabled(&lc, out_file)) {
			ctx_info(ctx, "already enabled: '%s' holds the settings "
				      "of '%s''s recorded access key; nothing "
				      "changed",
				 out_file, lc.user);
			rc = SESCTL_OK;
			goto out;
		}
		TRY(rc);
	} else if (!out_file && !lc_stores_any(&lc))
		TRY(credfile_check_stdout(ctx));

	/* The journal, from before the user is made: a rerun of this
	 * machine may then resume a user that has no key yet. */
	memset(&j, 0, sizeof(j));
	snprintf(j.command, sizeof(j.command), "enable");
	j.started = ctx_now(ctx);
	if (out_file)
		snprintf(j.output, sizeof(j.output), "%s", abs_out);
	TRY(runlock_journal_write(ctx, &lc.lock, &j));
	journal = true;

	n_tags = lc_managed_tags(&lc, tags);
	TRY(create_user(&lc, tags, n_tags, &created, &exists, &ours));
	/* From here a failed run leaves its journal: a rerun of this
	 * machine may resume the user it left without a key. */
	touched = true;
	if (!exists) {
		snprintf(arn, sizeof(arn), "%s", created.user.arn);
		snprintf(user_id, sizeof(user_id), "%s", created.user.user_id);
		(void)runlock_journal_own(ctx, &lc.lock, user_id);
		ctx_info(ctx, "created IAM user '%s'", lc.user);
	} else {
		/* Made by an earlier run, or by this one's lost answer. */
		TRY(resume_existing(&lc, opts_has(o, OPT_ADOPT), ours, arn,
				    sizeof(arn), user_id, sizeof(user_id),
				    &tag_it, &done));
		if (done)
			goto out;
		if (tag_it)
			TRY(iam_tag_user(&lc.iam, lc.user, tags, n_tags));
	}
	/* The journal names the user now: a journal another account's user
	 * of this name left is not taken for this one's. */
	snprintf(j.user_id, sizeof(j.user_id), "%s", user_id);
	TRY(runlock_journal_write(ctx, &lc.lock, &j));
	if (leftover && !lc.lock.prev.present) {
		/* The journal was another user's: the file is not ours. */
		leftover = false;
		TRY(credfile_check_new(ctx, out_file));
	}
	if (leftover) {
		/* The interrupted run's file names no key the user has. */
		TRY(remove_leftover(&lc, out_file));
		TRY(credfile_check_new(ctx, out_file));
	}

	TRY(policy_for(&lc, arn, &doc));

	/* The critical section: from here a new key exists.  It is made
	 * while its policy is written, on a second connection: one round
	 * trip less.  Nothing is delivered before both are done, and a key
	 * whose policy failed is deleted again. */
	interrupt_arm();
	armed = true;
	if (interrupt_caught()) {
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "interrupted by %s before a new key was made",
			     interrupt_name(interrupt_caught()));
		goto clear;
	}
	rc = lc_create_key_with_policy(&lc, POLICY_NAME, doc,
				       lc_rerun(&lc, "enable"), &key);
	if (rc != SESCTL_OK) {
		leave_journal = lc.iam.outcome_unknown;
		goto clear;
	}
	if (interrupt_caught()) {
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "interrupted by %s before the settings were "
			     "written",
			     interrupt_name(interrupt_caught()));
		rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
		leave_journal = !undone;
		goto clear;
	}

	rc = lc_render(&lc, key.access_key_id, &key.secret_access_key,
		       &settings);
	if (rc == SESCTL_OK)
		rc = lc_write(&lc, &settings, false);
	if (rc != SESCTL_OK) {
		rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
		leave_journal = !undone;
		goto clear;
	}
	/* The stores hand the new settings out at once: no app of this
	 * user has a key yet.  An adopted secret's AWSCURRENT goes back to
	 * what its app read if the record then fails (lc_stores_undo). */
	rc = lc_stores_write(&lc, key.access_key_id, &key.secret_access_key,
			     true);
	if (rc == SESCTL_OK)
		rc = lc_record(&lc, key.access_key_id, NULL);
	if (rc != SESCTL_OK) {
		/* Unrecorded, the key would count as undelivered: take the
		 * delivery back. */
		if (out_file && unlink(out_file) != 0)
			ctx_warn(ctx, "could not remove '%s'", out_file);
		lc_stores_undo(&lc);
		rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
		leave_journal = !undone;
		if (!out_file && !lc_stores_any(&lc))
			rc = err_set(&ctx->err, rc,
				     "%s\nthe settings printed above are void",
				     ctx->err.msg);
		goto clear;
	}
	delivered = true;
	{
		char names[OPT_VALUES_MAX * (REGION_NAME_MAX + 2) + 1];

		region_join(lc.regions, lc.n_regions, ", ", names,
			    sizeof(names));
		ctx_info(ctx, "SMTP user %s enabled for %s; settings written "
			      "to %s",
			 key.access_key_id, names,
			 out_file ? out_file :
			 lc_stores_any(&lc) ? "the stores named above" :
				   "standard output");
	}
	if (opts_has(o, OPT_VERIFY) && !interrupt_caught()) {
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
	if (rc == SESCTL_OK && opts_has(o, OPT_DEPLOY_HOOK) &&
	    !interrupt_caught()) {
		rc = lc_deploy_hook(&lc, key.access_key_id);
		if (rc != SESCTL_OK)
			rc = err_set(&ctx->err, rc,
				     "%s\nthe access key %s stays: its settings "
				     "are in %s; make the app read them",
				     ctx->err.msg, key.access_key_id,
				     out_file ? out_file : "the output above");
	}
clear:
out:
	/* Done, or failed before IAM changed: the journal has nothing more
	 * to tell. */
	if (journal && !leave_journal &&
	    (rc == SESCTL_OK || !touched || delivered)) {
		struct err_info saved = ctx->err;

		if (runlock_journal_clear(ctx, &lc.lock) != SESCTL_OK)
			ctx_warn(ctx, "%s", ctx->err.msg);
		ctx->err = saved;
	}
	if (armed)
		interrupt_disarm();
	if (rc == SESCTL_OK && interrupt_caught())
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "interrupted by %s after the key was delivered and "
			     "recorded",
			     interrupt_name(interrupt_caught()));
	secret_free(&settings);
	free(doc);
	iam_access_key_release(&key);
	iam_user_result_release(&created);
	lc_close(&lc);
	return rc;
}
