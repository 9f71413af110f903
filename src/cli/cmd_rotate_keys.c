/* cmd_rotate_keys.c - the user's access keys in 'sesctl smtp rotate' (the
 * order of its steps is in cmd_rotate.c): which key the app holds when
 * the record and the output file disagree, retiring an old key, --finish,
 * which deletes the kept key once no app sends with it, and making room
 * for the new key, since IAM allows two (cmd_rotate_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "sesctl/cli/lifecycle.h"

#include "cmd_rotate_int.h"

int by_create_date(const void *a, const void *b)
{
	const struct iam_access_key_meta *x = a, *y = b;

	if (x->create_date.t != y->create_date.t)
		return x->create_date.t < y->create_date.t ? -1 : 1;
	return strcmp(x->access_key_id, y->access_key_id);
}

const struct iam_access_key_meta *
find_key(const struct iam_access_key_list *keys, const char *id)
{
	size_t i;

	for (i = 0; id && *id && i < keys->count; i++)
		if (strcmp(keys->items[i].access_key_id, id) == 0)
			return &keys->items[i];
	return NULL;
}

/* Delete or deactivate one key, or plan to. */
sesctl_err retire(struct lc *lc, const char *key_id, bool deactivate,
		  bool dry)
{
	sesctl_err rc;

	/* Never the key a store still hands out (a switch a failed run
	 * left is made first). */
	rc = lc_stores_release_key(lc, key_id, dry);
	if (rc != SESCTL_OK)
		return rc;
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

/* Two keys and no record naming the app's: refuse to guess. */
static sesctl_err no_record(struct lc *lc,
			    const struct iam_access_key_list *keys,
			    const char *so)
{
	return err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "no-record",
		       "no delivery record says which access key of '%s' the "
		       "app holds (%s, %s), so %s; delete the one no app uses "
		       "with 'aws iam delete-access-key --user-name %s "
		       "--access-key-id KEY'",
		       lc->user, keys->items[0].access_key_id,
		       keys->items[1].access_key_id, so, lc->user);
}

/* The recorded key is gone (a rollback, or deleted by hand) and the one
 * it replaced is there: that one is what the app holds.  (Only after
 * lc_reconcile: to it, a kept key alone anchors nothing.) */
void current_after_rollback(struct lc *lc,
			    const struct iam_access_key_list *keys)
{
	if (lc->rec.current[0] && !find_key(keys, lc->rec.current) &&
	    find_key(keys, lc->rec.kept)) {
		snprintf(lc->rec.current, sizeof(lc->rec.current), "%s",
			 lc->rec.kept);
		lc->rec.kept[0] = '\0';
	}
}

/* The file this run replaces holds a key of the user that no record
 * names (put there by hand, or by a sesctl before the record): that is
 * the key the app sends with, so it is the one this rotation replaces,
 * and the recorded current key is merely kept. */
void current_from_file(struct lc *lc,
		       const struct iam_access_key_list *keys,
		       const struct smtp_settings *file)
{
	const char *id = file->n ? file->item[0].user : "";

	if (!id[0] || !find_key(keys, id) || strcmp(id, lc->rec.current) == 0 ||
	    strcmp(id, lc->rec.kept) == 0)
		return;
	if (lc->rec.current[0])
		ctx_info(lc->ctx, "the output file holds access key %s, not the "
				  "recorded %s: the app's key is the file's",
			 id, lc->rec.current);
	snprintf(lc->rec.kept, sizeof(lc->rec.kept), "%s",
		 find_key(keys, lc->rec.current) ? lc->rec.current : "");
	snprintf(lc->rec.current, sizeof(lc->rec.current), "%s", id);
}

/* ---- --finish ---------------------------------------------------------- */

/* Refuse to delete kept key `old` while IAM shows it used after `cur` was
 * made and `cur` not used at all, or used less recently than `old`: an
 * app still sends with `old` (or the record was edited and `old` is the
 * app's key). */
static sesctl_err check_unused(struct lc *lc,
			       const struct iam_access_key_meta *cur,
			       const struct iam_access_key_meta *old)
{
	struct iam_access_key_last_used lu[2];
	struct iam_read r[2];
	sesctl_err rc = SESCTL_OK;

	memset(lu, 0, sizeof(lu));
	memset(r, 0, sizeof(r));
	r[0].kind = r[1].kind = IAM_READ_GET_ACCESS_KEY_LAST_USED;
	r[0].user = r[1].user = lc->user;
	r[0].arg = cur->access_key_id;
	r[1].arg = old->access_key_id;
	r[0].out = &lu[0];
	r[1].out = &lu[1];
	TRY(iam_read_many(&lc->iam, r, 2, 2));
	if (!lu[1].last_used_date.present ||
	    lu[1].last_used_date.t < cur->create_date.t ||
	    (lu[0].last_used_date.present &&
	     lu[0].last_used_date.t >= lu[1].last_used_date.t))
		goto out;
	ENSURE(opts_has(lc->o, OPT_FORCE),
	       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "key-in-use",
		       "access key %s was used at %s, after the new key %s was "
		       "created, and %s %s%s: an app may still send with the "
		       "old key\nIAM's last-used data lags by up to several "
		       "hours; once every app uses the new settings, run '%s', "
		       "or '%s' to delete the old key now",
		       old->access_key_id, lu[1].last_used_date.iso,
		       cur->access_key_id, cur->access_key_id,
		       lu[0].last_used_date.present ? "was last used earlier, at " :
						      "has no recorded use yet",
		       lu[0].last_used_date.present ? lu[0].last_used_date.iso :
						      "",
		       lc_cmd(lc, "rotate --finish"),
		       lc_cmd(lc, "rotate --finish --force")));
	ctx_warn(lc->ctx, "--force: deleting access key %s although it was "
			  "used after the new key was made",
		 old->access_key_id);
out:
	iam_access_key_last_used_release(&lu[0]);
	iam_access_key_last_used_release(&lu[1]);
	return rc;
}

sesctl_err finish(struct lc *lc, struct iam_access_key_list *keys,
		  bool dry)
{
	const struct iam_access_key_meta *cur = find_key(keys,
							 lc->rec.current);
	char delivered[RECORD_KEY_MAX + 1] = "";
	sesctl_err rc = SESCTL_OK;
	size_t i, in_flight = 0;

	if (!dry)
		TRY(lc_reconcile(lc, keys, delivered, &in_flight));
	current_after_rollback(lc, keys);
	cur = find_key(keys, lc->rec.current);
	if (delivered[0]) {
		/* An interrupted rotate wrote this key's settings: it is
		 * the app's now. */
		TRY(lc_record(lc, delivered, lc->rec.current));
		cur = find_key(keys, delivered);
	}
	if (keys->count == 1 && !cur)
		cur = &keys->items[0]; /* no recorded key: the only one */
	if (keys->count <= 1) {
		ctx_info(lc->ctx, "nothing to finish: '%s' has %zu access key%s",
			 lc->user, keys->count, keys->count == 1 ? "" : "s");
		goto out;
	}
	ENSURE(cur, no_record(lc, keys, "--finish deletes neither"));
	for (i = 0; i < keys->count; i++) {
		const struct iam_access_key_meta *k = &keys->items[i];
		enum key_role role =
			record_role_in(&lc->rec, keys, k, ctx_now(lc->ctx));

		if (k == cur)
			continue;
		if (role == KEY_IN_FLIGHT) {
			ctx_warn(lc->ctx, "left access key %s alone: it has no "
					  "delivery record and is younger than "
					  "%d minutes, so another sesctl run "
					  "may be delivering it",
				 k->access_key_id, RECORD_GRACE_SECONDS / 60);
			continue;
		}
		if (!dry && k->status == IAM_STATUS_ACTIVE)
			TRY(check_unused(lc, cur, k));
		TRY(retire(lc, k->access_key_id, false, dry));
	}
	if (dry) {
		TRY(lc_plan_record(lc, cur->access_key_id, NULL));
	} else {
		TRY(lc_record(lc, cur->access_key_id, NULL));
		ctx_info(lc->ctx, "access key %s is now the only one",
			 cur->access_key_id);
	}
out:
	return rc;
}

/* ---- making room: IAM allows two keys -------------------------------- */

sesctl_err make_room(struct lc *lc, struct iam_access_key_list *keys,
		     size_t in_flight, bool dry)
{
	const struct iam_access_key_meta *victim = NULL, *k;
	time_t now = ctx_now(lc->ctx);
	sesctl_err rc = SESCTL_OK;
	size_t i;

	if (keys->count < 2)
		return SESCTL_OK;
	if (in_flight) {
		for (i = 0; i < keys->count; i++)
			if (record_role_in(&lc->rec, keys, &keys->items[i], now) ==
			    KEY_IN_FLIGHT)
				break;
		k = &keys->items[i < keys->count ? i : 0];
		return err_setk(
			&lc->ctx->err, SESCTL_ERR_CONFLICT, "key-in-flight",
			"access key %s of '%s' has no delivery record and was "
			"created %ld s ago: another sesctl run may be delivering "
			"it right now\nIAM allows no third key; if no other run "
			"is going on, its secret was lost and it counts as "
			"undelivered %d minutes after it was made: run '%s' then",
			k->access_key_id, lc->user, (long)(now - k->create_date.t),
			RECORD_GRACE_SECONDS / 60, lc_rerun(lc, "rotate"));
	}
	/* Never the current key: the app holds it. */
	for (i = 0; i < keys->count && !victim; i++) {
		k = &keys->items[i];
		if (strcmp(k->access_key_id, lc->rec.current) != 0 &&
		    k->status != IAM_STATUS_ACTIVE)
			victim = k;
	}
	if (!victim) {
		const struct iam_access_key_meta *cur =
			find_key(keys, lc->rec.current);

		ENSURE(cur, no_record(lc, keys,
				      "IAM allows no third and sesctl deletes "
				      "neither"));
		victim = &keys->items[cur == &keys->items[0] ? 1 : 0];
		ENSURE(opts_has(lc->o, OPT_FORCE),
		       err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "key-limit",
			       "'%s' has two active access keys and IAM allows "
			       "no third: %s (current) and %s (kept)\nrun '%s' "
			       "to delete the kept one once no app uses it, or "
			       "'%s' to delete it now and rotate",
			       lc->user, cur->access_key_id,
			       victim->access_key_id,
			       lc_cmd(lc, "rotate --finish"),
			       lc_cmd(lc, "rotate --force")));
	}
	TRY(retire(lc, victim->access_key_id, false, dry));
	if (!dry)
		for (i = 0; i < keys->count; i++)
			if (&keys->items[i] == victim) {
				memmove(&keys->items[i], &keys->items[i + 1],
					(keys->count - i - 1) *
						sizeof(keys->items[0]));
				keys->count--;
				break;
			}
out:
	return rc;
}
