/* cmd_rotate.c - sesctl smtp rotate: a new key and password first, written
 * durably and recorded, and only then the old key retired.
 *
 * The order, and what a death at each step leaves (record.h, runlock.h):
 *   lock, read the user, its record and keys; clean up after a dead run
 *   journal   -> dies: nothing made yet
 *   CreateAccessKey -> dies: an unrecorded key the journal names; the
 *                rerun deletes it
 *   write the settings durably -> dies: the journal names the output
 *                file, the rerun finds the key in it and finishes
 *   record (SesctlCurrentKey=new, SesctlKeptKey=old) -> from here the app
 *                holds the new key and the old one is kept on purpose
 *   [--verify]; re-read the new key; retire the old one; clear journal
 * SIGINT, SIGTERM and SIGHUP are held from the journal on: before the
 * settings are written the new key is deleted again; after, the old key
 * stays (recorded as kept) and the message says how to finish.
 *
 * Which key is the app's, retiring keys, --finish and making room for
 * the new key are in cmd_rotate_keys.c (cmd_rotate_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/smtp/credfile.h"
#include "sesctl/base/interrupt.h"
#include "sesctl/cli/lifecycle.h"
#include "sesctl/cli/cmd_verify.h"
#include "sesctl/base/hook.h"

#include "cmd_rotate_int.h"

enum retire_mode { RETIRE_DELETE, RETIRE_DEACTIVATE, RETIRE_KEEP };

#define MAX_AGE_DAYS_MAX 36500

static const char *mode_name(enum retire_mode m)
{
	return m == RETIRE_DEACTIVATE ? "deactivate" :
	       m == RETIRE_KEEP       ? "keep" :
					"delete";
}

/* ---- what to deliver ------------------------------------------------- */

/* The settings file to replace must be this user's: one that holds
 * another IAM user's key is another app's, and rotating into it would
 * take that app's working settings away. */
static sesctl_err check_file_is_ours(struct lc *lc,
				     const struct iam_access_key_list *keys,
				     const char *path,
				     const struct smtp_settings *file)
{
	const char *id = file->n ? file->item[0].user : "";

	if (!id[0] || find_key(keys, id) || strcmp(id, lc->rec.current) == 0 ||
	    strcmp(id, lc->rec.kept) == 0)
		return SESCTL_OK;
	return err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "foreign-output-file",
		       "'%s' holds the settings of access key %s, which is not "
		       "a key of IAM user '%s': it is another user's (another "
		       "app's file?) or was deleted\nnothing was changed; give "
		       "this user's own --output-file, or remove '%s' if no app "
		       "reads it",
		       path, id, lc->user, path);
}

/* Each --region must be one the user's policy lets SES send in: settings
 * for another region would only be refused. */
static sesctl_err check_policy_scope(struct lc *lc)
{
	struct iam_user_policy pol;
	sesctl_err rc;
	size_t i;

	memset(&pol, 0, sizeof(pol));
	rc = iam_get_user_policy(&lc->iam, lc->user, POLICY_NAME, &pol);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK; /* status warns about a missing policy */
	for (i = 0; rc == SESCTL_OK && pol.policy_document &&
		    i < lc->n_regions;
	     i++)
		if (!output_policy_allows_region(pol.policy_document,
						 lc->regions[i]))
			rc = err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				     "the policy '%s' of '%s' does not let SES "
				     "send in '%s': settings for it would be "
				     "refused; rotate in the regions it allows "
				     "(see '%s'), or widen the policy with 'aws "
				     "iam put-user-policy --user-name %s "
				     "--policy-name %s'",
				     POLICY_NAME, lc->user, lc->regions[i],
				     lc_cmd(lc, "status"), lc->user,
				     POLICY_NAME);
	iam_user_policy_release(&pol);
	return rc;
}


/* The regions and the format: --region and --format when given, else what
 * the output file holds, else the record, else the environment. */
/* The file this run replaces is what the app reads: should its regions
 * not be the recorded ones (the SesctlRegions tag edited, or the file),
 * rotate would move the app to regions it may not send from.  Refused;
 * a person says which is right. */
static sesctl_err file_regions_recorded(struct lc *lc, const char *out_file,
					const struct smtp_settings *file)
{
	bool same = true;
	size_t i, j;

	for (i = 0; i < file->n; i++)
		if (!file->item[i].region[0])
			return SESCTL_OK; /* a format without regions */
	for (i = 0; i < file->n; i++)
		same &= record_has_region(&lc->rec, file->item[i].region);
	for (i = 0; i < lc->rec.n_regions; i++) {
		bool in_file = false;

		for (j = 0; j < file->n; j++)
			in_file |= strcmp(file->item[j].region,
					  lc->rec.regions[i]) == 0;
		same &= in_file;
	}
	if (same || file->n == 0)
		return SESCTL_OK;
	return err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			"'%s' holds settings for %s%s, but the record of '%s' "
			"(tag %s) names %s%s: rotate will not move the app to "
			"other regions on a guess; nothing was changed\nif the "
			"file is right, put the record back with 'aws iam "
			"tag-user --user-name %s --tags Key=%s,Value=REGIONS' "
			"(space-separated); to change regions, run '%s' and "
			"enable again",
			out_file, file->item[0].region,
			file->n > 1 ? " and more" : "", lc->user,
			RECORD_TAG_REGIONS, lc->rec.regions[0],
			lc->rec.n_regions > 1 ? " and more" : "", lc->user,
			RECORD_TAG_REGIONS, lc_cmd(lc, "disable"));
}

static sesctl_err choose_delivery(struct lc *lc, const char *out_file,
				  struct smtp_settings *file)
{
	const char *regions[OPT_VALUES_MAX];
	const char *fmt = opts_get(lc->o, OPT_FORMAT);
	sesctl_err rc = SESCTL_OK;
	size_t i, n = 0;

	if (out_file) {
		rc = lc_read_settings(lc, out_file, file);
		/* A Secret sesctl cannot read back strictly (edited by
		 * hand?) is not written anew on a guess: under another
		 * name, the app would go on reading the old Secret, whose
		 * key this rotation retires. */
		ENSURE(rc != SESCTL_ERR_INPUT || !file->format ||
			       !(file->format->flags & OUTPUT_NEEDS_K8S_NAME) ||
			       opts_has(lc->o, OPT_K8S_NAME) ||
			       (fmt && !(output_lookup(fmt) &&
					 (output_lookup(fmt)->flags &
					  OUTPUT_NEEDS_K8S_NAME))),
		       err_set(&lc->ctx->err, SESCTL_ERR_INPUT,
			       "%s\nnothing was changed; rotate does not guess "
			       "the name and namespace of the Secret the app "
			       "reads: put back what sesctl wrote, or give "
			       "--k8s-name (and --k8s-namespace) to write '%s' "
			       "anew",
			       lc->ctx->err.msg, out_file));
		if (rc == SESCTL_ERR_NOT_FOUND || rc == SESCTL_ERR_INPUT) {
			if (rc == SESCTL_ERR_INPUT)
				ctx_warn(lc->ctx, "%s; rotate writes it anew",
					 lc->ctx->err.msg);
			output_settings_release(file);
			memset(file, 0, sizeof(*file));
			rc = SESCTL_OK;
		}
		TRY(rc);
	}
	if (lc->regions_given) {
		for (i = 0; lc->rec.present && lc->rec.n_regions &&
			    i < lc->n_regions;
		     i++)
			ENSURE(record_has_region(&lc->rec, lc->regions[i]),
			       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				       "region '%s' was not delivered to '%s' "
				       "(its record says %s%s); rotate delivers "
				       "the recorded regions: run it without "
				       "--region; to change them, run '%s' and "
				       "enable again with every region",
				       lc->regions[i], lc->user,
				       lc->rec.regions[0],
				       lc->rec.n_regions > 1 ? " and more" : "",
				       lc_cmd(lc, "disable")));
		TRY(check_policy_scope(lc));
	} else if (lc->rec.present && lc->rec.n_regions) {
		TRY(file_regions_recorded(lc, out_file, file));
		for (i = 0; i < lc->rec.n_regions && n < OPT_VALUES_MAX; i++)
			regions[n++] = lc->rec.regions[i];
		TRY(lc_set_regions(lc, regions, n));
	} else if (file->n) {
		for (i = 0; i < file->n && n < OPT_VALUES_MAX; i++)
			if (file->item[i].region[0])
				regions[n++] = file->item[i].region;
		if (n)
			TRY(lc_set_regions(lc, regions, n));
	}
	ENSURE(lc->n_regions > 0,
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "no region: '%s' has no recorded regions; give the "
		       "SES region(s) the app sends in with --region (they "
		       "are then recorded)",
		       lc->user));
	if (!fmt && file->n && file->format) {
		lc->fmt = file->format;
		goto out;
	}
	if (!fmt && lc->rec.format[0])
		fmt = lc->rec.format;
	if (fmt) {
		lc->fmt = output_lookup(fmt);
		ENSURE(lc->fmt, err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
					"unknown format '%s'", fmt));
	}
out:
	return rc;
}

/* The deploy hook failed: the old key stays, and says how to go on. */
static sesctl_err hook_failed(struct lc *lc, const char *old_id)
{
	if (!old_id || !old_id[0])
		return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
			       "%s\nthe new settings are written and recorded",
			       lc->ctx->err.msg);
	return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
		       "%s\nthe new settings are written and recorded, and the "
		       "old access key %s stays active, so the app keeps "
		       "working; run '%s' to try the hook again and retire it, "
		       "or '%s' once the app uses the new settings",
		       lc->ctx->err.msg, old_id, lc_rerun(lc, "rotate"),
		       lc_cmd(lc, "rotate --finish"));
}

/* The file an unfinished rotate delivered `cur` to holds the key it kept,
 * `old`, again: put back by hand (or by a hook that undoes what failed),
 * so the app sends with `old`, which must stay.  With the file as the
 * only delivery, the record says so again (old the app's, cur kept), so
 * that what the message advises deletes `cur` and never `old`. */
static sesctl_err rolled_back(struct lc *lc, const char *path,
			      const char *cur, const char *old)
{
	sesctl_err rc;

	if (lc_stores_any(lc))
		/* The stores may hand out `cur`: which key is whose is for
		 * a person to say. */
		return err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT,
				"unfinished",
				"'%s' holds access key %s again, not %s, which "
				"an earlier rotate delivered there and to the "
				"stores: nothing is retired\nsee '%s', and "
				"delete the key no app uses with 'aws iam "
				"delete-access-key --user-name %s "
				"--access-key-id KEY'",
				path, old, cur, lc_cmd(lc, "status"),
				lc->user);
	rc = lc_record(lc, old, cur);
	if (rc == SESCTL_OK)
		rc = runlock_journal_clear(lc->ctx, &lc->lock);
	if (rc != SESCTL_OK)
		return rc;
	return err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "unfinished",
			"'%s' holds access key %s again, not %s, which an "
			"earlier rotate delivered there: the app sends with %s, "
			"so it stays and is recorded as the app's key again, "
			"and nothing is retired\nonce no app uses %s, run '%s' "
			"to delete it; the next rotate then replaces %s",
			path, old, cur, old, cur,
			lc_cmd(lc, "rotate --finish"), old);
}

/* A rotate of this machine recorded its new key and died (or failed)
 * before it retired the old one: retire it as that run meant to, unless
 * that run waited for SES (--verify), whose word only --finish may
 * overrule.  A run that waited for its --deploy-hook is finished by a
 * rerun with a --deploy-hook: the hook runs again, and only once it
 * succeeds is the old key retired.  Returns whether it did (with *rc). */
static bool finish_retirement(struct lc *lc, struct iam_access_key_list *keys,
			      sesctl_err *rc)
{
	const struct journal *j = &lc->lock.prev;
	const struct iam_access_key_meta *cur = find_key(keys, lc->rec.current);
	const struct iam_access_key_meta *kept = find_key(keys, lc->rec.kept);
	size_t i;
	bool was_before = false;

	if (!j->present || strcmp(j->command, "rotate") != 0 || j->verify ||
	    (j->hook && !opts_has(lc->o, OPT_DEPLOY_HOOK)) ||
	    strcmp(j->mode, "keep") == 0 || !cur || !lc->rec.kept[0] ||
	    !journal_made(j, cur->access_key_id, cur->create_date.t))
		return false;
	for (i = 0; i < j->n_before; i++)
		was_before |= strcmp(j->before[i], lc->rec.kept) == 0;
	if (!was_before)
		return false;
	if (!kept) {
		/* Its deletion was applied; only the answer was lost. */
		ctx_info(lc->ctx, "an interrupted rotate delivered access key "
				  "%s, recorded it and deleted the old one",
			 cur->access_key_id);
		*rc = runlock_journal_clear(lc->ctx, &lc->lock);
		return true;
	}
	if (j->output[0] &&
	    lc_file_names_key(lc, j->output, kept->access_key_id)) {
		*rc = rolled_back(lc, j->output, cur->access_key_id,
				  kept->access_key_id);
		return true;
	}
	ctx_info(lc->ctx, "an interrupted rotate delivered access key %s and "
			  "recorded it; finishing it",
		 cur->access_key_id);
	if (j->hook) {
		*rc = lc_deploy_hook(lc, cur->access_key_id);
		if (*rc != SESCTL_OK) {
			*rc = hook_failed(lc, kept->access_key_id);
			return true;
		}
	}
	*rc = retire(lc, kept->access_key_id,
		     strcmp(j->mode, "deactivate") == 0, false);
	if (*rc == SESCTL_OK)
		*rc = runlock_journal_clear(lc->ctx, &lc->lock);
	return true;
}

/* A rotate of this machine delivered and recorded its new key, and its
 * old key is still there because that run waited for its deploy hook or
 * for SES (--verify), which finish_retirement leaves to a rerun with the
 * hook or to --finish.  A --max-age run must not call that "nothing to
 * rotate" day after day: it stops, naming the old key. */
static sesctl_err unfinished(struct lc *lc,
			     const struct iam_access_key_list *keys)
{
	const struct journal *j = &lc->lock.prev;
	const struct iam_access_key_meta *cur = find_key(keys, lc->rec.current);
	const struct iam_access_key_meta *kept = find_key(keys, lc->rec.kept);

	if (!j->present || strcmp(j->command, "rotate") != 0 ||
	    strcmp(j->mode, "keep") == 0 || !cur || !kept ||
	    !journal_made(j, cur->access_key_id, cur->create_date.t))
		return SESCTL_OK;
	return err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "unfinished",
			"an earlier rotate delivered access key %s and recorded "
			"it, but the old key %s is still %s: that run waited "
			"for %s\nrun this command again with %s, or run '%s' "
			"once every app uses the new settings",
			cur->access_key_id, kept->access_key_id,
			kept->status == IAM_STATUS_ACTIVE ? "active" :
							    "there",
			j->hook ? "its deploy hook" : "SES to accept the new key",
			j->hook ? "its --deploy-hook" : "--verify",
			lc_cmd(lc, "rotate --finish"));
}

/* --max-age: is the app's key still young enough?  Then say so and do
 * nothing (a timer runs this daily). */
static bool young_enough(struct lc *lc, const struct iam_access_key_list *keys,
			 long max_age_days)
{
	const struct iam_access_key_meta *cur = find_key(keys, lc->rec.current);
	long age;

	if (!cur && keys->count == 1)
		cur = &keys->items[0]; /* no record: the only key */
	if (!cur || !cur->create_date.present)
		return false;
	age = (long)(ctx_now(lc->ctx) - cur->create_date.t);
	if (age > max_age_days * 86400L)
		return false;
	ctx_info(lc->ctx, "access key %s of '%s' is %ld day%s old, not older "
			  "than --max-age %ld: nothing to rotate",
		 cur->access_key_id, lc->user, age / 86400,
		 age / 86400 == 1 ? "" : "s", max_age_days);
	return true;
}

/* ---- after a delivery ------------------------------------------------- */

/* Put the file back as it was (rollback): `prev` is its old content, or
 * NULL when there was no file. */
static void restore_file(struct lc *lc, const char *path,
			 const struct secret *prev)
{
	struct err_info saved = lc->ctx->err;

	if (!path)
		return;
	if (prev && prev->len) {
		if (credfile_replace(lc->ctx, path, prev) == SESCTL_OK)
			ctx_info(lc->ctx, "'%s' holds the old settings again",
				 path);
		else
			ctx_warn(lc->ctx, "could not put the old settings back "
					  "into '%s': %s",
				 path, lc->ctx->err.msg);
	} else if (unlink(path) != 0) {
		ctx_warn(lc->ctx, "could not remove '%s'", path);
	}
	lc->ctx->err = saved;
}

/* The old file's bytes, for a rollback (none when it cannot be read:
 * then a rollback removes the file). */
static void read_prev(struct lc *lc, const char *path, struct secret *prev)
{
	struct err_info saved = lc->ctx->err;

	if (path && credfile_read(lc->ctx, path, LC_SETTINGS_FILE_MAX, prev) !=
			    SESCTL_OK)
		secret_clear(prev);
	lc->ctx->err = saved;
}

/* Put the record back on `id`, keeping the message of the failure. */
static void rerecord(struct lc *lc, const char *id)
{
	struct err_info saved = lc->ctx->err;

	if (lc_record(lc, id, NULL) != SESCTL_OK)
		ctx_warn(lc->ctx, "%s", lc->ctx->err.msg);
	lc->ctx->err = saved;
}

/* Interrupted once the settings were delivered and recorded: stop before
 * anything else happens, with the old key kept.  *leave_journal: a plain
 * rerun of this machine retires it as this run would have (not when the
 * old key was to wait for SES, or to stay). */
static sesctl_err stopped(struct lc *lc, const char *old_id,
			  enum retire_mode mode, bool *leave_journal)
{
	const char *sig = interrupt_name(interrupt_caught());

	*leave_journal = false;
	if (!old_id)
		return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
			       "interrupted by %s: the new settings are "
			       "written and recorded",
			       sig);
	if (mode == RETIRE_KEEP || opts_has(lc->o, OPT_VERIFY))
		return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
			       "interrupted by %s: the new settings are "
			       "written and recorded, and the old access key "
			       "%s stays active; once every app uses the new "
			       "password%s, run '%s'",
			       sig, old_id,
			       mode == RETIRE_KEEP ? "" :
						     " and SES accepts it",
			       lc_cmd(lc, "rotate --finish"));
	*leave_journal = true;
	return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
		       "interrupted by %s: the new settings are written and "
		       "recorded, and the old access key %s is kept; run '%s' "
		       "to retire it",
		       sig, old_id, lc_rerun(lc, "rotate"));
}

sesctl_err smtp_rotate(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct lc lc;
	struct iam_user_result u;
	struct iam_access_key_list keys, now;
	struct iam_access_key key;
	struct smtp_settings file;
	struct secret settings = SECRET_INIT, prev = SECRET_INIT;
	struct journal j;
	struct iam_read rd[2];
	const char *out_file = opts_get(o, OPT_OUTPUT_FILE);
	char old_id[RECORD_KEY_MAX + 1] = "", delivered[RECORD_KEY_MAX + 1];
	enum retire_mode mode = RETIRE_DELETE;
	bool fin = opts_has(o, OPT_FINISH);
	bool dry = opts_has(o, OPT_DRY_RUN);
	bool adopt = opts_has(o, OPT_ADOPT);
	bool armed = false, leave_journal = false, undone = false;
	bool recorded_soon = false;
	long asked_at = 0;
	long max_age = 0;
	sesctl_err rc = SESCTL_OK;
	size_t i, in_flight = 0;

	(void)argv;
	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	memset(&now, 0, sizeof(now));
	memset(&key, 0, sizeof(key));
	memset(&file, 0, sizeof(file));
	memset(&lc, 0, sizeof(lc));
	if (opts_has(o, OPT_KEEP_OLD))
		mode = RETIRE_KEEP;
	if (opts_has(o, OPT_DEACTIVATE_OLD))
		mode = RETIRE_DEACTIVATE;
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp rotate' takes no arguments; "
				  "name the user with --name"));
	ENSURE((opts_has(o, OPT_KEEP_OLD) ? 1 : 0) +
			       (opts_has(o, OPT_DEACTIVATE_OLD) ? 1 : 0) +
			       (fin ? 1 : 0) <=
		       1,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--keep-old, --deactivate-old and --finish exclude "
		       "each other"));
	ENSURE(!fin || !out_file,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--finish only deletes old keys; it writes no "
		       "settings, so --output-file has no use there"));
	ENSURE(!fin || !opts_has(o, OPT_VERIFY),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--finish makes no new password, so there is nothing "
		       "to --verify; check the current one with 'sesctl smtp "
		       "verify'"));
	ENSURE(!fin || (!opts_has(o, OPT_MAX_AGE) &&
			!opts_has(o, OPT_DEPLOY_HOOK) &&
			!opts_has(o, OPT_K8S_NAME) &&
			!opts_has(o, OPT_K8S_NAMESPACE)),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--finish makes no new password, so --%s has no use "
		       "there",
		       opts_has(o, OPT_MAX_AGE)	    ? "max-age" :
		       opts_has(o, OPT_DEPLOY_HOOK) ? "deploy-hook" :
		       opts_has(o, OPT_K8S_NAME)    ? "k8s-name" :
						      "k8s-namespace"));
	TRY(opts_number(&ctx->err, o, OPT_MAX_AGE, 1, MAX_AGE_DAYS_MAX, 0,
			"days", &max_age));
	TRY(lc_open(&lc, ctx, o, fin ? 0 : LC_REGION_LATER));
	TRY(lc_check_hook_opts(&lc));
	if (!dry)
		TRY(lc_lock(&lc));

	rc = lc_read_user_keys(&lc, &u, &keys, rd);
	ENSURE(rc != SESCTL_ERR_NOT_FOUND,
	       err_setk(&ctx->err, SESCTL_ERR_NOT_FOUND, "not-enabled",
		       "not enabled: there is no IAM user '%s'; '%s' creates "
		       "it",
		       lc.user, lc_cmd(&lc, "enable")));
	TRY(rc);
	adopt = adopt && !lc_is_managed(&u.user);
	ENSURE(lc_is_managed(&u.user) || adopt || opts_has(o, OPT_FORCE),
	       err_setk(&ctx->err, SESCTL_ERR_CONFLICT, "not-managed",
		       "IAM user '%s' is not managed by sesctl (no tag %s=%s); "
		       "pass --adopt to take it over (its live key stays the "
		       "app's until this rotation retires it), or --force to "
		       "rotate its keys and leave it unmanaged",
		       lc.user, LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE));
	record_read(&u.user, &lc.rec);
	if (lc.locked)
		(void)runlock_journal_own(ctx, &lc.lock, u.user.user_id);
	TRY(iam_read_result(&lc.iam, &rd[1]));
	if (keys.count > 1)
		qsort(keys.items, keys.count, sizeof(keys.items[0]),
		      by_create_date);
	if (fin) {
		/* The recorded secrets: none may lose its AWSCURRENT key. */
		TRY(lc_stores_open(&lc, false, dry));
		rc = finish(&lc, &keys, dry);
		if (rc == SESCTL_OK && adopt)
			rc = lc_adopt(&lc, dry);
		if (rc == SESCTL_OK && !dry)
			rc = runlock_journal_clear(ctx, &lc.lock);
		goto out;
	}

	TRY(choose_delivery(&lc, out_file, &file));
	TRY(lc_k8s_names(&lc, &file));
	TRY(lc_stores_open(&lc, opts_has(o, OPT_ADOPT), dry));
	if (out_file) {
		TRY(check_file_is_ours(&lc, &keys, out_file, &file));
		TRY(credfile_check_replace(ctx, out_file));
	} else if (!dry && !lc_stores_any(&lc)) {
		TRY(credfile_check_stdout(ctx));
	}

	if (!dry)
		TRY(lc_reconcile(&lc, &keys, delivered, &in_flight));
	else
		delivered[0] = '\0';
	current_after_rollback(&lc, &keys);
	if (!delivered[0])
		current_from_file(&lc, &keys, &file);
	if (delivered[0]) {
		/* A rotate died after writing the settings: finish it as it
		 * meant to. */
		const char *was = lc.rec.current[0] &&
						  strcmp(lc.rec.current,
							 delivered) != 0 ?
					  lc.rec.current :
					  NULL;
		char was_id[RECORD_KEY_MAX + 1] = "";

		/* No record to say which key it replaced (a user taken over
		 * with --adopt, or from before the record): as the dead run
		 * chose, the only key it found. */
		if (!was && !lc.rec.current[0] && lc.lock.prev.n_before == 1 &&
		    strcmp(lc.lock.prev.before[0], delivered) != 0)
			was = lc.lock.prev.before[0];
		if (was && find_key(&keys, was))
			snprintf(was_id, sizeof(was_id), "%s", was);
		TRY(lc_record(&lc, delivered, was_id[0] ? was_id : NULL));
		ctx_info(ctx, "finished the rotation an interrupted run began: "
			      "access key %s is in '%s' and now recorded",
			 delivered, lc.lock.prev.output);
		if (was_id[0] && strcmp(lc.lock.prev.mode, "keep") != 0)
			TRY(retire(&lc, was_id,
				   strcmp(lc.lock.prev.mode, "deactivate") == 0,
				   false));
		TRY(runlock_journal_clear(ctx, &lc.lock));
		goto out;
	}

	if (!dry && finish_retirement(&lc, &keys, &rc))
		goto out;
	if (max_age && young_enough(&lc, &keys, max_age)) {
		/* What a dead run left is settled above, or named here. */
		rc = unfinished(&lc, &keys);
		if (rc != SESCTL_OK)
			leave_journal = true;
		goto clear;
	}
	TRY(make_room(&lc, &keys, in_flight, dry));
	/* Taken over now that nothing refuses it any more: its keys follow
	 * the usual rules (no record: its only key counts as the app's). */
	if (adopt)
		TRY(lc_adopt(&lc, dry));
	{
		const struct iam_access_key_meta *cur =
			find_key(&keys, lc.rec.current);

		/* No recorded key (before the record, or deleted by hand):
		 * the only key is the app's. */
		if (!cur && keys.count == 1)
			cur = &keys.items[0];
		if (cur)
			snprintf(old_id, sizeof(old_id), "%s",
				 cur->access_key_id);
	}

	if (dry) {
		TRY(lc_plan(&lc, "CreateAccessKey UserName=%s", lc.user));
		TRY(lc_plan(&lc, "# then write the SMTP settings (%s, %s%s) to %s",
			    lc.fmt->name, lc.regions[0],
			    lc.n_regions > 1 ? " and more" : "",
			    out_file ? out_file :
			    lc_stores_any(&lc) ? "the stores below" :
				      "standard output"));
		TRY(lc_stores_plan(&lc, false));
		TRY(lc_plan_record(&lc, "NEW-KEY", old_id[0] ? old_id : NULL));
		TRY(lc_stores_plan_commit(&lc));
		if (opts_has(o, OPT_DEPLOY_HOOK))
			TRY(lc_plan(&lc, "# then run the deploy hook: %s",
				    opts_get(o, OPT_DEPLOY_HOOK)));
		if (old_id[0] && mode != RETIRE_KEEP)
			TRY(retire(&lc, old_id, mode == RETIRE_DEACTIVATE,
				   true));
		goto out;
	}

	/* The critical section: from here a new key exists. */
	memset(&j, 0, sizeof(j));
	snprintf(j.command, sizeof(j.command), "rotate");
	snprintf(j.mode, sizeof(j.mode), "%s", mode_name(mode));
	j.started = ctx_now(ctx);
	j.verify = opts_has(o, OPT_VERIFY);
	j.hook = opts_has(o, OPT_DEPLOY_HOOK);
	snprintf(j.user_id, sizeof(j.user_id), "%s", u.user.user_id);
	if (out_file)
		TRY(lc_abs_path(&lc, out_file, j.output, sizeof(j.output)));
	for (i = 0; i < keys.count && i < JOURNAL_KEYS_MAX; i++)
		snprintf(j.before[j.n_before++], sizeof(j.before[0]), "%s",
			 keys.items[i].access_key_id);
	read_prev(&lc, out_file, &prev);
	interrupt_arm();
	armed = true;
	TRY(runlock_journal_write(ctx, &lc.lock, &j));
	if (interrupt_caught()) {
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "interrupted by %s before a new key was made",
			     interrupt_name(interrupt_caught()));
		goto clear;
	}
	asked_at = lc_clock_ms();
	rc = lc_create_key(&lc, &keys, lc_rerun(&lc, "rotate"), &key);
	if (rc != SESCTL_OK) {
		/* A key whose deletion failed stays in the journal. */
		leave_journal = lc.iam.outcome_unknown;
		goto clear;
	}
	ctx_info(ctx, "created access key %s", key.access_key_id);

	if (interrupt_caught()) {
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "interrupted by %s before the new settings were "
			     "written",
			     interrupt_name(interrupt_caught()));
		rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
		leave_journal = !undone;
		goto clear;
	}
	rc = lc_render(&lc, key.access_key_id, &key.secret_access_key,
		       &settings);
	if (rc == SESCTL_OK)
		rc = lc_write(&lc, &settings, true);
	if (rc == SESCTL_OK) {
		/* The secrets get it as AWSPENDING: their apps keep reading
		 * the old settings until the switch below. */
		rc = lc_stores_write(&lc, key.access_key_id,
				     &key.secret_access_key, false);
		if (rc != SESCTL_OK) {
			restore_file(&lc, out_file, &prev);
			lc_stores_undo(&lc);
			rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
			leave_journal = !undone;
			goto clear;
		}
	}
	if (rc != SESCTL_OK) {
		if (out_file &&
		    lc_file_names_key(&lc, out_file, key.access_key_id)) {
			/* The new settings are in place after all (the
			 * directory's fsync failed): record them. */
			char first[ERR_MSG_MAX];

			snprintf(first, sizeof(first), "%s", ctx->err.msg);
			if (lc_record(&lc, key.access_key_id,
				      old_id[0] ? old_id : NULL) == SESCTL_OK)
				rc = err_set(&ctx->err, rc,
					     "%s\nboth access keys are kept: the "
					     "new one (%s) is in '%s'; once apps "
					     "use it, run '%s'",
					     first, key.access_key_id, out_file,
					     lc_cmd(&lc, "rotate --finish"));
			else
				leave_journal = true;
			goto clear;
		}
		rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
		leave_journal = !undone;
		goto clear;
	}

	/* The record: from now on the app holds the new key, and the old
	 * one is kept until it is retired below. */
	rc = lc_record(&lc, key.access_key_id, old_id[0] ? old_id : NULL);
	recorded_soon = lc_clock_ms() - asked_at < LC_RECORD_SOON_MS;
	if (rc != SESCTL_OK) {
		/* Unrecorded, the new key would count as undelivered: put
		 * everything back as it was. */
		restore_file(&lc, out_file, &prev);
		lc_stores_undo(&lc);
		rc = lc_undo_key(&lc, key.access_key_id, rc, &undone);
		leave_journal = !undone;
		/* The TagUser may have been applied all the same. */
		if (old_id[0])
			rerecord(&lc, old_id);
		if (!out_file && !lc_stores_any(&lc))
			rc = err_set(&ctx->err, rc,
				     "%s\nthe settings printed above are void",
				     ctx->err.msg);
		goto clear;
	}
	if (interrupt_caught()) {
		rc = stopped(&lc, old_id[0] ? old_id : NULL, mode,
			     &leave_journal);
		goto clear;
	}

	/* --verify: the old key goes only once SES accepts the new one. */
	if (opts_has(o, OPT_VERIFY)) {
		rc = smtp_verify_new_key(&lc, key.access_key_id,
					 &key.secret_access_key);
		if (rc != SESCTL_OK) {
			if (old_id[0])
				rc = err_set(&ctx->err, rc,
					     "%s\nthe old access key %s stays "
					     "active and the new one %s is in "
					     "%s; once SES accepts it, run '%s'",
					     ctx->err.msg, old_id,
					     key.access_key_id,
					     out_file ? out_file :
							"the settings printed",
					     lc_cmd(&lc, "rotate --finish"));
			goto clear;
		}
	}
	/* The secrets switch: AWSCURRENT to the new settings, AWSPREVIOUS
	 * keeps the old ones. */
	rc = lc_stores_commit(&lc);
	if (rc != SESCTL_OK) {
		rc = err_set(&ctx->err, rc,
			     "%s\nthe new access key %s is recorded and waits "
			     "as AWSPENDING%s; run '%s' to finish",
			     ctx->err.msg, key.access_key_id,
			     old_id[0] ? "; the old key stays" : "",
			     lc_cmd(&lc, "rotate --finish"));
		goto clear;
	}
	/* The app is told (certbot's deploy hook); the old key goes only
	 * once the hook says the app took the new settings. */
	if (opts_has(o, OPT_DEPLOY_HOOK)) {
		if (interrupt_caught()) {
			rc = stopped(&lc, old_id[0] ? old_id : NULL, mode,
				     &leave_journal);
			goto clear;
		}
		rc = lc_deploy_hook(&lc, key.access_key_id);
		if (rc != SESCTL_OK) {
			rc = hook_failed(&lc, old_id);
			/* A plain rerun with the hook tries it again. */
			leave_journal = old_id[0] && mode != RETIRE_KEEP;
			goto clear;
		}
	}
	if (!old_id[0])
		goto clear;
	if (mode == RETIRE_KEEP) {
		ctx_info(ctx, "old access key %s stays active; once every app "
			      "uses the new password, run '%s'",
			 old_id, lc_cmd(&lc, "rotate --finish"));
		goto clear;
	}

	/* Is the new key still there?  Another run (on another machine)
	 * that lost an answer may have taken it for its own, though only if
	 * it was recorded late: see LC_SETTLE_MS. */
	rc = recorded_soon ? SESCTL_OK :
			     iam_list_access_keys(&lc.iam, lc.user, &now);
	if (rc != SESCTL_OK) {
		/* The journal stays: a rerun of this machine finishes. */
		leave_journal = true;
		rc = err_set(&ctx->err, rc,
			     "%s\nthe new settings are written and recorded and "
			     "the old access key %s is kept; run '%s' to finish",
			     ctx->err.msg, old_id,
			     lc_rerun(&lc, "rotate"));
		goto clear;
	}
	if (!recorded_soon && !find_key(&now, key.access_key_id)) {
		restore_file(&lc, out_file, &prev);
		if (lc_record(&lc, old_id, NULL) != SESCTL_OK)
			ctx_warn(ctx, "%s", ctx->err.msg);
		rc = err_set(&ctx->err, SESCTL_ERR_CONFLICT,
			     "the new access key %s was deleted while this run "
			     "delivered it (another sesctl run?); the old key %s "
			     "stays and is recorded again%s; run '%s' again",
			     key.access_key_id, old_id,
			     out_file ? " and the file holds its settings" : "",
			     lc_rerun(&lc, "rotate"));
		goto clear;
	}
	if (interrupt_caught()) {
		rc = stopped(&lc, old_id, mode, &leave_journal);
		goto clear;
	}
	rc = retire(&lc, old_id, mode == RETIRE_DEACTIVATE, false);
	if (rc != SESCTL_OK) {
		leave_journal = true;
		rc = err_set(&ctx->err, rc,
			     "the new SMTP password is written and recorded, but "
			     "the old access key %s could not be retired: %s\nrun "
			     "'%s' to finish",
			     old_id, ctx->err.msg,
			     lc_rerun(&lc, "rotate"));
		goto clear;
	}
	/* A SesctlKeptKey naming the deleted key is left as it is: key ids
	 * are never reused, and one TagUser less. */

clear:
	/* Done or undone, or the record says what is left: either way the
	 * journal has nothing more to tell. */
	if (lc.locked && !leave_journal) {
		struct err_info saved = ctx->err;

		if (runlock_journal_clear(ctx, &lc.lock) != SESCTL_OK)
			ctx_warn(ctx, "%s", ctx->err.msg);
		ctx->err = saved;
	}
out:
	if (rc == SESCTL_OK && dry)
		rc = lc_plan_done(&lc, "rotate");
	if (armed)
		interrupt_disarm();
	/* The signal came too late to stop anything: say that nothing is
	 * left, so that nobody reruns a plain rotate (which rotates again)
	 * to "finish" it. */
	if (rc == SESCTL_OK && interrupt_caught())
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "interrupted by %s after the rotation was "
			     "done%s%s%s; nothing is left to finish",
			     interrupt_name(interrupt_caught()),
			     key.access_key_id[0] ? ": access key " : "",
			     key.access_key_id,
			     key.access_key_id[0] ? " is delivered and "
						    "recorded" : "");
	secret_free(&settings);
	secret_free(&prev);
	output_settings_release(&file);
	iam_access_key_release(&key);
	iam_access_key_list_release(&keys);
	iam_access_key_list_release(&now);
	iam_user_result_release(&u);
	lc_close(&lc);
	return rc;
}
