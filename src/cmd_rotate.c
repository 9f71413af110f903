/* cmd_rotate.c - sesctl smtp rotate: a new key and password first, written
 * durably, and only then the old key retired. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesctl/cmd_smtp.h"
#include "sesctl/credfile.h"
#include "sesctl/lifecycle.h"
#include "sesctl/smtp_verify.h"

static int by_create_date(const void *a, const void *b)
{
	const struct iam_access_key_meta *x = a, *y = b;

	if (x->create_date.t != y->create_date.t)
		return x->create_date.t < y->create_date.t ? -1 : 1;
	return strcmp(x->access_key_id, y->access_key_id);
}

/* Whether `path` now holds exactly `content` (after a failed replace:
 * did the rename happen?). */
static bool file_holds(const char *path, const struct secret *content)
{
	struct secret now = SECRET_INIT;
	bool same = false;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (secret_read_fd(&now, fd, content->len + 1) == SESCTL_OK)
		same = now.len == content->len &&
		       memcmp(now.p, content->p, content->len) == 0;
	close(fd);
	secret_free(&now);
	return same;
}

/* Delete or plan to delete one key. */
static sesctl_err retire(struct lc *lc, const char *key_id, bool deactivate,
			 bool dry)
{
	sesctl_err rc;

	if (dry)
		return deactivate ?
			       lc_plan(lc, "UpdateAccessKey UserName=%s "
					   "AccessKeyId=%s Status=Inactive",
				       lc->user, key_id) :
			       lc_plan(lc, "DeleteAccessKey UserName=%s "
					   "AccessKeyId=%s",
				       lc->user, key_id);
	if (deactivate)
		rc = iam_update_access_key(&lc->iam, lc->user, key_id,
					   "Inactive");
	else
		rc = iam_delete_access_key(&lc->iam, lc->user, key_id);
	if (rc == SESCTL_ERR_NOT_FOUND && !deactivate)
		rc = SESCTL_OK; /* already gone */
	if (rc == SESCTL_OK)
		ctx_info(lc->ctx, "%s old access key %s",
			 deactivate ? "deactivated" : "deleted", key_id);
	return rc;
}

static sesctl_err finish(struct lc *lc, struct iam_access_key_list *keys,
			 const char *current, bool dry)
{
	sesctl_err rc = SESCTL_OK;
	long keep;
	size_t i;

	if (keys->count <= 1) {
		ctx_info(lc->ctx, "nothing to finish: '%s' has %zu access key%s",
			 lc->user, keys->count, keys->count == 1 ? "" : "s");
		return SESCTL_OK;
	}
	keep = lc_newest_key(keys, current);
	ENSURE(keep >= 0,
	       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
		       "cannot tell which access key of '%s' is the newest: "
		       "they were created in the same second and the user has "
		       "no %s tag; delete the one no app uses with 'aws iam "
		       "delete-access-key'",
		       lc->user, LC_TAG_CURRENT_KEY));
	for (i = 0; i < keys->count; i++)
		if ((long)i != keep)
			TRY(retire(lc, keys->items[i].access_key_id, false,
				   dry));
	if (!dry)
		ctx_info(lc->ctx, "access key %s is now the only one",
			 keys->items[keep].access_key_id);
out:
	return rc;
}

/* CreateAccessKey lost its answer: keys that are neither the ones we
 * keep nor known before were made by it, and their secret is lost. */
static sesctl_err drop_unknown_keys(struct lc *lc,
				    const struct iam_access_key_list *before)
{
	char first[ERR_MSG_MAX];
	size_t dropped = 0;

	snprintf(first, sizeof(first), "%s", lc->ctx->err.msg);
	if (lc_drop_new_keys(lc, before, NULL, &dropped) != SESCTL_OK)
		return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
			       "%s\n%s; the old key is untouched", first,
			       lc->ctx->err.msg);
	return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
		       "%s\n%s; the old key is untouched; run 'sesctl smtp "
		       "rotate' again",
		       first,
		       dropped ? "IAM had made the key and its secret never "
				 "arrived, so sesctl deleted it again" :
				 "IAM had not made the key");
}

sesctl_err smtp_rotate(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct lc lc;
	struct iam_user_result u;
	struct iam_access_key_list keys;
	struct iam_access_key key;
	struct secret settings = SECRET_INIT;
	const char *out_file = opts_get(o, OPT_OUTPUT_FILE);
	const char *old_id = NULL;
	bool keep = opts_has(o, OPT_KEEP_OLD);
	bool deactivate = opts_has(o, OPT_DEACTIVATE_OLD);
	bool fin = opts_has(o, OPT_FINISH);
	bool dry = opts_has(o, OPT_DRY_RUN);
	sesctl_err rc = SESCTL_OK;
	size_t i;

	(void)argv;
	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	memset(&key, 0, sizeof(key));
	memset(&lc, 0, sizeof(lc));
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp rotate' takes no arguments; "
				  "name the user with --name"));
	ENSURE((keep ? 1 : 0) + (deactivate ? 1 : 0) + (fin ? 1 : 0) <= 1,
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
	TRY(lc_open(&lc, ctx, o, fin ? 0 : LC_NEEDS_REGION));
	TRY(smtp_verify_check_opts(ctx, o, lc.n_regions));

	rc = iam_get_user(&lc.iam, lc.user, &u);
	if (rc == SESCTL_ERR_NOT_FOUND) {
		rc = err_set(&ctx->err, SESCTL_ERR_NOT_FOUND,
			     "not enabled: there is no IAM user '%s'; 'sesctl "
			     "smtp enable' creates it",
			     lc.user);
		goto out;
	}
	TRY(rc);
	ENSURE(lc_is_managed(&u.user) || opts_has(o, OPT_FORCE),
	       err_set(&ctx->err, SESCTL_ERR_CONFLICT,
		       "IAM user '%s' is not managed by sesctl (no tag %s=%s); "
		       "pass --force to rotate its keys anyway",
		       lc.user, LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE));
	TRY(iam_list_access_keys(&lc.iam, lc.user, &keys));
	if (keys.count > 1)
		qsort(keys.items, keys.count, sizeof(keys.items[0]),
		      by_create_date);
	if (fin) {
		rc = finish(&lc, &keys, lc_tag(&u.user, LC_TAG_CURRENT_KEY),
			    dry);
		goto out;
	}
	if (out_file)
		TRY(credfile_check_replace(ctx, out_file));

	/* IAM allows two keys: make room for the new one first. */
	if (keys.count >= 2) {
		struct iam_access_key_meta *victim = NULL;

		for (i = 0; i < keys.count && !victim; i++)
			if (keys.items[i].status != IAM_STATUS_ACTIVE)
				victim = &keys.items[i];
		if (!victim) {
			long newest = lc_newest_key(
				&keys, lc_tag(&u.user, LC_TAG_CURRENT_KEY));

			ENSURE(opts_has(o, OPT_FORCE),
			       err_set(&ctx->err, SESCTL_ERR_CONFLICT,
				       "'%s' has two active access keys (%s, "
				       "%s) and IAM allows no third\nrun "
				       "'sesctl smtp rotate --finish' to keep "
				       "only the newer one, or --force to "
				       "delete the older one now",
				       lc.user, keys.items[0].access_key_id,
				       keys.items[1].access_key_id));
			ENSURE(newest >= 0,
			       err_set(&ctx->err, SESCTL_ERR_CONFLICT,
				       "cannot tell which access key of '%s' "
				       "is the older: both were created in the "
				       "same second; delete one with 'aws iam "
				       "delete-access-key'",
				       lc.user));
			victim = &keys.items[newest == 0 ? 1 : 0];
		}
		TRY(retire(&lc, victim->access_key_id, false, dry));
		/* Forget it: what is left is the key being replaced. */
		if (!dry) {
			memmove(victim, victim + 1,
				(size_t)(&keys.items[keys.count - 1] - victim) *
					sizeof(*victim));
			keys.count--;
		}
	}
	if (keys.count >= 1)
		old_id = keys.items[keys.count - 1].access_key_id;

	if (dry) {
		TRY(lc_plan(&lc, "CreateAccessKey UserName=%s", lc.user));
		TRY(lc_plan(&lc, "# then write the SMTP settings (%s) to %s",
			    lc.fmt->name,
			    out_file ? out_file : "standard output"));
		if (old_id && !keep)
			TRY(retire(&lc, old_id, deactivate, true));
		goto out;
	}

	rc = iam_create_access_key(&lc.iam, lc.user, &key);
	if (rc != SESCTL_OK && lc.iam.outcome_unknown)
		rc = drop_unknown_keys(&lc, &keys);
	TRY(rc);
	if (lc.iam.outcome_unknown) {
		/* libcurl sent CreateAccessKey again on a fresh connection:
		 * the first one may have made a key too. */
		size_t dropped;

		if (lc_drop_new_keys(&lc, &keys, key.access_key_id, &dropped) !=
		    SESCTL_OK)
			ctx_warn(ctx, "%s", ctx->err.msg);
	}
	ctx_info(ctx, "created access key %s", key.access_key_id);

	rc = lc_render(&lc, key.access_key_id, &key.secret_access_key,
		       &settings);
	if (rc == SESCTL_OK)
		rc = lc_write(&lc, &settings, true);
	if (rc != SESCTL_OK) {
		if (out_file && file_holds(out_file, &settings)) {
			/* The new settings are in place: keep both keys. */
			rc = err_set(&ctx->err, rc,
				     "%s\nboth access keys are kept: the new "
				     "one (%s) is in '%s'; once apps use it, "
				     "run 'sesctl smtp rotate --finish'",
				     ctx->err.msg, key.access_key_id,
				     out_file);
		} else {
			rc = lc_undo_key(&lc, key.access_key_id, rc);
		}
		goto out;
	}

	/* The new key is the current one from now on (it tells --finish
	 * which to keep when CreateDates tie). */
	{
		struct iam_tag_in tag = { LC_TAG_CURRENT_KEY,
					  key.access_key_id };

		if (iam_tag_user(&lc.iam, lc.user, &tag, 1) != SESCTL_OK)
			ctx_warn(ctx, "could not tag '%s' with %s=%s: %s",
				 lc.user, LC_TAG_CURRENT_KEY,
				 key.access_key_id, ctx->err.msg);
	}

	/* --verify: the old key goes only once SES accepts the new one. */
	if (opts_has(o, OPT_VERIFY)) {
		rc = smtp_verify_new_key(&lc, key.access_key_id,
					 &key.secret_access_key);
		if (rc != SESCTL_OK) {
			if (old_id)
				rc = err_set(&ctx->err, rc,
					     "%s\nthe old access key %s stays "
					     "active and the new one %s is in "
					     "%s; once SES accepts it, run "
					     "'sesctl smtp rotate --finish'",
					     ctx->err.msg, old_id,
					     key.access_key_id,
					     out_file ? out_file :
							"the settings printed");
			goto out;
		}
	}

	/* The new secret is written and flushed: now the old key may go. */
	if (old_id && keep) {
		ctx_info(ctx, "old access key %s stays active; once every app "
			      "uses the new password, run 'sesctl smtp rotate "
			      "--finish'",
			 old_id);
	} else if (old_id) {
		rc = retire(&lc, old_id, deactivate, false);
		if (rc != SESCTL_OK)
			rc = err_set(&ctx->err, rc,
				     "the new SMTP password is written, but "
				     "the old access key %s could not be "
				     "retired: %s\nrun 'sesctl smtp rotate "
				     "--finish' to delete it",
				     old_id, ctx->err.msg);
	}
out:
	secret_free(&settings);
	iam_access_key_release(&key);
	iam_access_key_list_release(&keys);
	iam_user_result_release(&u);
	lc_close(&lc);
	return rc;
}
