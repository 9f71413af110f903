/* cmd_disable.c - sesctl smtp disable: remove everything attached to the
 * user, then the user.  Each step lists what is there and deletes it, and
 * "already gone" counts as done, so a rerun after a failure finishes the
 * job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"
#include "sesctl/base/term.h"

/* A deletion that finds nothing to delete has nothing left to do. */
static sesctl_err gone_is_done(sesctl_err rc)
{
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

static sesctl_err confirm(struct lc *lc, size_t n_keys)
{
	char answer[16];
	ssize_t n;
	char prompt[256];

	if (opts_has(lc->o, OPT_YES))
		return SESCTL_OK;
	if (!term_is_tty(lc->ctx->in_fd))
		return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "refusing to delete IAM user '%s' without "
			       "confirmation: not on a terminal; pass --yes",
			       lc->user);
	snprintf(prompt, sizeof(prompt),
		 "Delete IAM user '%s' and its %zu access key%s? SMTP "
		 "passwords made from them stop working. [y/N] ",
		 lc->user, n_keys, n_keys == 1 ? "" : "s");
	if (write(lc->ctx->err_fd, prompt, strlen(prompt)) < 0)
		return err_set(&lc->ctx->err, SESCTL_ERR_IO,
			       "cannot ask for confirmation");
	n = read(lc->ctx->in_fd, answer, sizeof(answer) - 1);
	if (n <= 0)
		return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
			       "aborted: no answer");
	answer[n] = '\0';
	answer[strcspn(answer, "\r\n")] = '\0';
	if (strcmp(answer, "y") != 0 && strcmp(answer, "Y") != 0 &&
	    strcmp(answer, "yes") != 0)
		return err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
			       "aborted: nothing was deleted");
	return SESCTL_OK;
}

/* Remove each id of a list with `del`, or print the plan. */
typedef sesctl_err (*list_fn)(struct iam_client *c, const char *user,
			      struct iam_id_list *out);
typedef sesctl_err (*del_fn)(struct iam_client *c, const char *user,
			     const char *id);

static sesctl_err remove_all(struct lc *lc, list_fn list, del_fn del,
			     const char *action, const char *param, bool dry)
{
	struct iam_id_list ids;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	memset(&ids, 0, sizeof(ids));
	TRY(gone_is_done(list(&lc->iam, lc->user, &ids)));
	for (i = 0; i < ids.count; i++) {
		if (dry)
			TRY(lc_plan(lc, "%s UserName=%s %s=%s", action, lc->user,
				    param, ids.items[i].id));
		else
			TRY(gone_is_done(del(&lc->iam, lc->user,
					     ids.items[i].id)));
	}
out:
	iam_id_list_release(&ids);
	return rc;
}

static sesctl_err del_policy(struct iam_client *c, const char *user,
			     const char *id)
{
	return iam_delete_user_policy(c, user, id);
}

static sesctl_err del_group(struct iam_client *c, const char *user,
			    const char *id)
{
	return iam_remove_user_from_group(c, user, id);
}

static sesctl_err del_cert(struct iam_client *c, const char *user,
			   const char *id)
{
	return iam_delete_signing_certificate(c, user, id);
}

static sesctl_err del_ssh(struct iam_client *c, const char *user,
			  const char *id)
{
	return iam_delete_ssh_public_key(c, user, id);
}

static sesctl_err del_svc(struct iam_client *c, const char *user,
			  const char *id)
{
	return iam_delete_service_specific_credential(c, user, id);
}

/* MFA devices are deactivated; virtual ones (serial numbers are ARNs)
 * are deleted too. */
static sesctl_err del_mfa(struct iam_client *c, const char *user,
			  const char *serial)
{
	sesctl_err rc = gone_is_done(iam_deactivate_mfa_device(c, user, serial));

	if (rc == SESCTL_OK && strncmp(serial, "arn:", 4) == 0)
		rc = gone_is_done(iam_delete_virtual_mfa_device(c, serial));
	return rc;
}

static sesctl_err remove_everything(struct lc *lc,
				    const struct iam_access_key_list *keys,
				    bool dry)
{
	struct iam_attached_policy_list att;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	memset(&att, 0, sizeof(att));
	for (i = 0; i < keys->count; i++) {
		if (dry)
			TRY(lc_plan(lc, "DeleteAccessKey UserName=%s "
					"AccessKeyId=%s",
				    lc->user, keys->items[i].access_key_id));
		else
			TRY(gone_is_done(iam_delete_access_key(
				&lc->iam, lc->user,
				keys->items[i].access_key_id)));
	}
	TRY(remove_all(lc, iam_list_user_policies, del_policy,
		       "DeleteUserPolicy", "PolicyName", dry));
	TRY(gone_is_done(
		iam_list_attached_user_policies(&lc->iam, lc->user, &att)));
	for (i = 0; i < att.count; i++) {
		if (dry)
			TRY(lc_plan(lc, "DetachUserPolicy UserName=%s "
					"PolicyArn=%s",
				    lc->user, att.items[i].policy_arn));
		else
			TRY(gone_is_done(iam_detach_user_policy(
				&lc->iam, lc->user, att.items[i].policy_arn)));
	}
	TRY(remove_all(lc, iam_list_groups_for_user, del_group,
		       "RemoveUserFromGroup", "GroupName", dry));
	if (dry) {
		struct iam_login_profile lp;

		memset(&lp, 0, sizeof(lp));
		rc = iam_get_login_profile(&lc->iam, lc->user, &lp);
		iam_login_profile_release(&lp);
		if (rc == SESCTL_OK)
			TRY(lc_plan(lc, "DeleteLoginProfile UserName=%s",
				    lc->user));
		TRY(gone_is_done(rc));
	} else {
		TRY(gone_is_done(iam_delete_login_profile(&lc->iam, lc->user)));
	}
	TRY(remove_all(lc, iam_list_signing_certificates, del_cert,
		       "DeleteSigningCertificate", "CertificateId", dry));
	TRY(remove_all(lc, iam_list_ssh_public_keys, del_ssh,
		       "DeleteSSHPublicKey", "SSHPublicKeyId", dry));
	TRY(remove_all(lc, iam_list_service_specific_credentials, del_svc,
		       "DeleteServiceSpecificCredential",
		       "ServiceSpecificCredentialId", dry));
	TRY(remove_all(lc, iam_list_mfa_devices, del_mfa,
		       "DeactivateMFADevice", "SerialNumber", dry));
	if (dry)
		TRY(lc_plan(lc, "DeleteUser UserName=%s", lc->user));
	else
		TRY(gone_is_done(iam_delete_user(&lc->iam, lc->user)));
out:
	iam_attached_policy_list_release(&att);
	return rc;
}

sesctl_err smtp_disable(struct ctx *ctx, const struct opts *o, int argc,
			char **argv)
{
	struct lc lc;
	struct iam_user_result u;
	struct iam_access_key_list keys;
	bool dry = opts_has(o, OPT_DRY_RUN);
	const char *fmt = opts_get(o, OPT_FORMAT);
	sesctl_err rc = SESCTL_OK;

	(void)argv;
	memset(&u, 0, sizeof(u));
	memset(&keys, 0, sizeof(keys));
	memset(&lc, 0, sizeof(lc));
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp disable' takes no arguments; "
				  "name the user with --name"));
	ENSURE(!fmt || strcmp(fmt, "text") == 0 || strcmp(fmt, "json") == 0,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "disable prints --format text or json, not '%s'", fmt));
	TRY(lc_open(&lc, ctx, o, 0));
	if (!dry)
		TRY(lc_lock(&lc));
	rc = iam_get_user(&lc.iam, lc.user, &u);
	if (rc == SESCTL_ERR_NOT_FOUND) {
		ctx_info(ctx, "not enabled: there is no IAM user '%s'; nothing "
			      "to do",
			 lc.user);
		rc = lc.locked ? runlock_journal_clear(ctx, &lc.lock) :
				 SESCTL_OK;
		goto out;
	}
	TRY(rc);
	ENSURE(lc_is_managed(&u.user) || opts_has(o, OPT_FORCE),
	       err_setk(&ctx->err, SESCTL_ERR_CONFLICT, "not-managed",
			"IAM user '%s' is not managed by sesctl (no tag %s=%s); "
		       "pass --force to delete it anyway",
		       lc.user, LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE));
	TRY(gone_is_done(iam_list_access_keys(&lc.iam, lc.user, &keys)));
	if (!dry)
		TRY(confirm(&lc, keys.count));
	TRY(remove_everything(&lc, &keys, dry));
	if (!dry) {
		ctx_info(ctx, "deleted IAM user '%s' and everything attached "
			      "to it",
			 lc.user);
		/* No key left for a journal to speak of. */
		TRY(runlock_journal_clear(ctx, &lc.lock));
	}
out:
	if (rc == SESCTL_OK && dry)
		rc = lc_plan_done(&lc, "disable");
	iam_access_key_list_release(&keys);
	iam_user_result_release(&u);
	lc_close(&lc);
	return rc;
}
