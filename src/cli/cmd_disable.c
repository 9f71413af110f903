/* cmd_disable.c - sesctl smtp disable: remove the user and everything
 * attached to it, in as few round trips and with as few permissions as
 * that takes: the user and its keys read at once; its keys and sesctl's
 * policy deleted at once; DeleteUser.  Only when IAM answers DeleteConflict
 * does it look for anything else (every kind at once), remove it (at once)
 * and try again.  "Already gone" counts as done, so a rerun after a
 * failure finishes the job. */
#include <stdarg.h>
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

/* ---- what may be attached, and how each is removed ------------------ */

typedef sesctl_err (*del_fn)(struct iam_client *c, const char *user,
			     const char *id);

static sesctl_err del_key(struct iam_client *c, const char *user,
			  const char *id)
{
	return iam_delete_access_key(c, user, id);
}

static sesctl_err del_policy(struct iam_client *c, const char *user,
			     const char *id)
{
	return iam_delete_user_policy(c, user, id);
}

static sesctl_err del_attached(struct iam_client *c, const char *user,
			       const char *id)
{
	return iam_detach_user_policy(c, user, id);
}

static sesctl_err del_group(struct iam_client *c, const char *user,
			    const char *id)
{
	return iam_remove_user_from_group(c, user, id);
}

static sesctl_err del_login(struct iam_client *c, const char *user,
			    const char *id)
{
	(void)id;
	return iam_delete_login_profile(c, user);
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

static sesctl_err del_mfa(struct iam_client *c, const char *user,
			  const char *serial)
{
	return iam_deactivate_mfa_device(c, user, serial);
}

/* Each kind of thing a user may hold that stops DeleteUser: how status
 * and the sweep read it, and how it goes. */
enum kind {
	K_KEY,
	K_POLICY,
	K_ATTACHED,
	K_GROUP,
	K_LOGIN,
	K_CERT,
	K_SSH,
	K_SVC,
	K_MFA,
	K_COUNT
};

static const struct kind_desc {
	enum iam_read_kind read;
	const char *list_action; /* the permission that lists it */
	const char *what;	 /* plural, for messages */
	const char *action;	 /* the removal */
	const char *param;	 /* its parameter naming the thing */
	del_fn del;		 /* its typed call (reads back) */
} kinds[K_COUNT] = {
	[K_KEY] = { IAM_READ_LIST_ACCESS_KEYS, "ListAccessKeys",
		    "access keys", "DeleteAccessKey", "AccessKeyId",
		    del_key },
	[K_POLICY] = { IAM_READ_LIST_USER_POLICIES, "ListUserPolicies",
		       "inline policies", "DeleteUserPolicy", "PolicyName",
		       del_policy },
	[K_ATTACHED] = { IAM_READ_LIST_ATTACHED_USER_POLICIES,
			 "ListAttachedUserPolicies", "attached policies",
			 "DetachUserPolicy", "PolicyArn", del_attached },
	[K_GROUP] = { IAM_READ_LIST_GROUPS_FOR_USER, "ListGroupsForUser",
		      "group memberships", "RemoveUserFromGroup", "GroupName",
		      del_group },
	[K_LOGIN] = { IAM_READ_GET_LOGIN_PROFILE, "GetLoginProfile",
		      "a console password", "DeleteLoginProfile", NULL,
		      del_login },
	[K_CERT] = { IAM_READ_LIST_SIGNING_CERTIFICATES,
		     "ListSigningCertificates", "signing certificates",
		     "DeleteSigningCertificate", "CertificateId", del_cert },
	[K_SSH] = { IAM_READ_LIST_SSH_PUBLIC_KEYS, "ListSSHPublicKeys",
		    "SSH public keys", "DeleteSSHPublicKey", "SSHPublicKeyId",
		    del_ssh },
	[K_SVC] = { IAM_READ_LIST_SERVICE_SPECIFIC_CREDENTIALS,
		    "ListServiceSpecificCredentials",
		    "service-specific credentials",
		    "DeleteServiceSpecificCredential",
		    "ServiceSpecificCredentialId", del_svc },
	[K_MFA] = { IAM_READ_LIST_MFA_DEVICES, "ListMFADevices",
		    "MFA devices", "DeactivateMFADevice", "SerialNumber",
		    del_mfa },
};

/* One thing to remove. */
struct removal {
	enum kind kind;
	const char *id; /* borrowed from a list (NULL: the login profile) */
};

/* What the user holds, as far as it could be read. */
struct holdings {
	struct iam_access_key_list keys;
	struct iam_id_list policies, groups, certs, ssh, svc, mfa;
	struct iam_attached_policy_list attached;
	struct iam_login_profile login;
	sesctl_err rc[K_COUNT]; /* SESCTL_OK: read (NOT_FOUND: none) */
	struct removal *r;
	size_t n;
};

static void holdings_release(struct holdings *h)
{
	iam_access_key_list_release(&h->keys);
	iam_id_list_release(&h->policies);
	iam_id_list_release(&h->groups);
	iam_id_list_release(&h->certs);
	iam_id_list_release(&h->ssh);
	iam_id_list_release(&h->svc);
	iam_id_list_release(&h->mfa);
	iam_attached_policy_list_release(&h->attached);
	iam_login_profile_release(&h->login);
	free(h->r);
	memset(h, 0, sizeof(*h));
}

static void *holding(struct holdings *h, enum kind k)
{
	switch (k) {
	case K_KEY:
		return &h->keys;
	case K_POLICY:
		return &h->policies;
	case K_ATTACHED:
		return &h->attached;
	case K_GROUP:
		return &h->groups;
	case K_LOGIN:
		return &h->login;
	case K_CERT:
		return &h->certs;
	case K_SSH:
		return &h->ssh;
	case K_SVC:
		return &h->svc;
	case K_MFA:
	default:
		return &h->mfa;
	}
}

/* Read every kind at once (the keys too: one may have been made since);
 * then list what to remove, keys first.  A kind that cannot be read keeps
 * its error in h->rc. */
static sesctl_err read_holdings(struct lc *lc, struct holdings *h)
{
	struct iam_read rd[K_COUNT];
	const struct iam_id_list *ids;
	size_t k, i, n = 0;

	for (k = 0; k < K_COUNT; k++)
		rd[k] = (struct iam_read){ .kind = kinds[k].read,
					   .user = lc->user,
					   .out = holding(h, (enum kind)k) };
	/* (Each read is looked at on its own: a kind that cannot be read
	 * is no reason to stop.) */
	if (iam_read_many(&lc->iam, rd, K_COUNT, K_COUNT) != SESCTL_OK)
		ctx_debug(lc->ctx, "not everything attached to '%s' could be "
				   "read",
			  lc->user);
	for (k = 0; k < K_COUNT; k++)
		h->rc[k] = rd[k].rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK :
							       rd[k].rc;
	n = h->keys.count + h->policies.count + h->attached.count +
	    h->groups.count + 1 + h->certs.count + h->ssh.count +
	    h->svc.count + h->mfa.count;
	h->r = calloc(n, sizeof(*h->r));
	if (!h->r)
		return err_set(&lc->ctx->err, SESCTL_ERR_NOMEM,
			       "out of memory");
	for (i = 0; i < h->keys.count; i++)
		h->r[h->n++] = (struct removal){
			K_KEY, h->keys.items[i].access_key_id
		};
	for (i = 0; i < h->attached.count; i++)
		h->r[h->n++] = (struct removal){
			K_ATTACHED, h->attached.items[i].policy_arn
		};
	if (h->rc[K_LOGIN] == SESCTL_OK && h->login.user_name[0])
		h->r[h->n++] = (struct removal){ K_LOGIN, NULL };
	for (k = 0; k < K_COUNT; k++) {
		if (k == K_KEY || k == K_ATTACHED || k == K_LOGIN)
			continue;
		ids = holding(h, (enum kind)k);
		for (i = 0; h->rc[k] == SESCTL_OK && i < ids->count; i++)
			h->r[h->n++] = (struct removal){ (enum kind)k,
							 ids->items[i].id };
	}
	return SESCTL_OK;
}

/* Remove them all at once.  NoSuchEntity is done; a removal whose answer
 * was lost goes through its typed call, which reads the state back; the
 * first other failure, in order, is the result. */
static sesctl_err remove_all(struct lc *lc, const struct removal *r,
			     size_t n)
{
	struct iam_call_item *calls = NULL;
	struct aws_param *p = NULL;
	sesctl_err rc = SESCTL_OK, first = SESCTL_OK;
	struct err_info first_err;
	size_t i;

	memset(&first_err, 0, sizeof(first_err));
	if (n == 0)
		return SESCTL_OK;
	calls = calloc(n, sizeof(*calls));
	p = calloc(2 * n, sizeof(*p));
	ENSURE(calls && p,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		const struct kind_desc *d = &kinds[r[i].kind];

		p[2 * i] = (struct aws_param){ "UserName", lc->user };
		p[2 * i + 1] = (struct aws_param){ d->param, r[i].id };
		calls[i] = (struct iam_call_item){ .action = d->action,
						   .params = &p[2 * i],
						   .n_params = d->param ? 2 : 1,
						   .body = SECRET_INIT };
	}
	/* (Each call is looked at on its own below.) */
	rc = iam_call_many(&lc->iam, calls, n, n);
	for (i = 0; i < n; i++) {
		const struct kind_desc *d = &kinds[r[i].kind];

		rc = calls[i].rc;
		if (rc != SESCTL_OK && calls[i].outcome_unknown)
			rc = d->del(&lc->iam, lc->user, r[i].id);
		else if (rc != SESCTL_OK)
			err_set(&lc->ctx->err, rc, "%s", calls[i].err.msg);
		rc = gone_is_done(rc);
		if (rc != SESCTL_OK && first == SESCTL_OK) {
			first = rc;
			first_err = lc->ctx->err;
		}
	}
	/* Virtual MFA devices (serial numbers are ARNs) are deleted once
	 * deactivated. */
	for (i = 0; first == SESCTL_OK && i < n; i++)
		if (r[i].kind == K_MFA && strncmp(r[i].id, "arn:", 4) == 0) {
			rc = iam_delete_virtual_mfa_device(&lc->iam, r[i].id);
			/* It cannot be read back per user, but it is a
			 * removal: sent again, NoSuchEntity means it went. */
			if (rc == SESCTL_ERR_NETWORK && lc->iam.outcome_unknown)
				rc = iam_delete_virtual_mfa_device(&lc->iam,
								   r[i].id);
			rc = gone_is_done(rc);
			if (rc != SESCTL_OK) {
				first = rc;
				first_err = lc->ctx->err;
			}
		}
	rc = first;
	if (rc != SESCTL_OK)
		lc->ctx->err = first_err;
out:
	for (i = 0; calls && i < n; i++)
		secret_free(&calls[i].body);
	free(calls);
	free(p);
	return rc;
}

/* The plan of --dry-run: everything there, then the user. */
static sesctl_err plan_all(struct lc *lc, const struct holdings *h)
{
	sesctl_err rc = SESCTL_OK;
	size_t i, k;

	for (i = 0; i < h->n; i++) {
		const struct kind_desc *d = &kinds[h->r[i].kind];

		if (d->param)
			TRY(lc_plan(lc, "%s UserName=%s %s=%s", d->action,
				    lc->user, d->param, h->r[i].id));
		else
			TRY(lc_plan(lc, "%s UserName=%s", d->action, lc->user));
		if (h->r[i].kind == K_MFA &&
		    strncmp(h->r[i].id, "arn:", 4) == 0)
			TRY(lc_plan(lc, "DeleteVirtualMFADevice SerialNumber=%s",
				    h->r[i].id));
	}
	for (k = 0; k < K_COUNT; k++)
		if (h->rc[k] != SESCTL_OK)
			TRY(lc_plan(lc, "# could not list its %s (the caller "
					"needs iam:%s)",
				    kinds[k].what, kinds[k].list_action));
	TRY(lc_stores_delete(lc, true));
	TRY(lc_plan(lc, "DeleteUser UserName=%s", lc->user));
out:
	return rc;
}

/* Append to buf[size] (cut short when full: a message, not data). */
static void say(char *buf, size_t size, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void say(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* How many things of kind k h holds, and the i-th's name. */
static size_t holding_count(struct holdings *h, enum kind k)
{
	if (k == K_KEY)
		return h->keys.count;
	if (k == K_ATTACHED)
		return h->attached.count;
	if (k == K_LOGIN)
		return h->login.user_name[0] != '\0';
	return ((const struct iam_id_list *)holding(h, k))->count;
}

static const char *holding_id(struct holdings *h, enum kind k, size_t i)
{
	if (k == K_KEY)
		return h->keys.items[i].access_key_id;
	if (k == K_ATTACHED)
		return h->attached.items[i].policy_arn;
	if (k == K_LOGIN)
		return "a console password";
	return ((const struct iam_id_list *)holding(h, k))->items[i].id;
}

/* What h says the user still holds, in words ("access keys: AKIA1 AKIA2,
 * group memberships: mailers, a console password") and what could not
 * be listed; then whether an SMTP password made from its keys works. */
static void describe(struct holdings *h, char *buf, size_t size)
{
	static const size_t shown_max = 3;
	size_t k, i, count;
	bool any = false;

	buf[0] = '\0';
	for (k = 0; k < K_COUNT; k++) {
		count = h->rc[k] == SESCTL_OK ?
				holding_count(h, (enum kind)k) : 0;
		if (!count)
			continue;
		say(buf, size, "%s", any ? ", " : "");
		any = true;
		if (k != K_LOGIN)
			say(buf, size, "%s: ", kinds[k].what);
		for (i = 0; i < count && i < shown_max; i++)
			say(buf, size, "%s%s", i ? " " : "",
			    holding_id(h, (enum kind)k, i));
		if (count > shown_max)
			say(buf, size, " and %zu more", count - shown_max);
	}
	if (!any)
		say(buf, size, "nothing disable could find");
	for (k = 0; k < K_COUNT; k++)
		if (h->rc[k] == SESCTL_ERR_AUTH)
			say(buf, size, " (the caller may not list its %s: "
				       "iam:%s)",
			    kinds[k].what, kinds[k].list_action);
		else if (h->rc[k] != SESCTL_OK)
			say(buf, size, " (its %s could not be listed: %s)",
			    kinds[k].what, err_desc(h->rc[k]));
	if (h->rc[K_KEY] != SESCTL_OK)
		say(buf, size, "; whether an access key is left is not known");
	else if (h->keys.count)
		say(buf, size, "; SMTP passwords made from %s still work",
		    h->keys.count == 1 ? "that key" : "those keys");
	else
		say(buf, size, "; no access key is left, so no SMTP password "
			       "made from its keys works");
}

/* disable failed part-way (ctx->err says why): name the user, say what
 * IAM still holds (read back now: what disable's own sweep reads) and
 * the command that finishes the job.  Returns rc. */
static sesctl_err left_behind(struct lc *lc, sesctl_err rc)
{
	struct holdings h;
	struct err_info cause = lc->ctx->err;
	char holds[512];

	if (rc == SESCTL_OK || rc == SESCTL_ERR_NOMEM)
		return rc;
	memset(&h, 0, sizeof(h));
	if (read_holdings(lc, &h) != SESCTL_OK) {
		holdings_release(&h);
		lc->ctx->err = cause;
		return rc;
	}
	describe(&h, holds, sizeof(holds));
	holdings_release(&h);
	lc->ctx->err = cause;
	return err_set(&lc->ctx->err, rc,
		       "IAM user '%s' is left, not deleted (%s); it still "
		       "holds %s; rerun '%s' to finish the job",
		       lc->user, cause.msg, holds, lc_rerun(lc, "disable"));
}

/* DeleteUser refused: something is still attached.  Read every kind,
 * remove what is there, and try once more; a kind the caller may not
 * read is said, with the permission and what is left (*explained: the
 * message says what is left; otherwise the caller says it). */
static sesctl_err sweep(struct lc *lc, bool *explained)
{
	struct holdings h;
	char missing[512] = "";
	size_t k, len = 0, other = K_COUNT;
	sesctl_err rc = SESCTL_OK;

	memset(&h, 0, sizeof(h));
	*explained = false;
	ctx_debug(lc->ctx, "IAM user '%s' still has something attached; "
			   "looking for it",
		  lc->user);
	TRY(read_holdings(lc, &h));
	TRY(remove_all(lc, h.r, h.n));
	for (k = 0; k < K_COUNT; k++) {
		if (h.rc[k] == SESCTL_OK)
			continue;
		if (h.rc[k] != SESCTL_ERR_AUTH) {
			other = other < K_COUNT ? other : k;
			continue;
		}
		if (len < sizeof(missing))
			len += (size_t)snprintf(missing + len,
						sizeof(missing) - len,
						"%s iam:%s (its %s)",
						len ? "," : "",
						kinds[k].list_action,
						kinds[k].what);
	}
	rc = gone_is_done(iam_delete_user(&lc->iam, lc->user));
	*explained = rc != SESCTL_OK && (other < K_COUNT || missing[0]);
	if (rc != SESCTL_OK && other < K_COUNT)
		rc = err_set(&lc->ctx->err, h.rc[other],
			     "IAM user '%s' is left: listing its %s failed "
			     "(%s); its access keys and sesctl's policy are "
			     "gone; rerun '%s' to finish the job",
			     lc->user, kinds[other].what, err_desc(h.rc[other]),
			     lc_rerun(lc, "disable"));
	else if (rc != SESCTL_OK && missing[0])
		rc = err_setk(&lc->ctx->err, SESCTL_ERR_AUTH, "access-denied",
			      "IAM user '%s' is left: it still holds something "
			      "sesctl may not look for; the caller needs%s; "
			      "its access keys and sesctl's policy are gone, so "
			      "its SMTP passwords no longer work",
			      lc->user, missing);
out:
	holdings_release(&h);
	return rc;
}

sesctl_err smtp_disable(struct ctx *ctx, const struct opts *o, int argc,
			char **argv)
{
	struct lc lc;
	struct iam_user_result u;
	struct iam_access_key_list keys;
	struct iam_read rd[2];
	struct holdings h;
	struct removal *r = NULL;
	bool dry = opts_has(o, OPT_DRY_RUN), explained = false;
	const char *fmt = opts_get(o, OPT_FORMAT);
	sesctl_err rc = SESCTL_OK;
	size_t i, n;

	(void)argv;
	memset(&h, 0, sizeof(h));
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
	rc = lc_read_user_keys(&lc, &u, &keys, rd);
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
	TRY(gone_is_done(iam_read_result(&lc.iam, &rd[1])));
	/* The secrets sesctl made for the user, named by its record. */
	record_read(&u.user, &lc.rec);
	if ((lc.rec.secrets[0] || lc.rec.ssm[0]) &&
	    !opts_has(o, OPT_KEEP_STORES)) {
		lc.st.lenient = true;
		TRY(lc_stores_open(&lc, false, dry));
	}
	if (dry) {
		/* Everything there, read at once. */
		TRY(read_holdings(&lc, &h));
		TRY(plan_all(&lc, &h));
		goto out;
	}
	TRY(confirm(&lc, keys.count));
	/* What sesctl made goes at once (its keys, its policy), then the
	 * user; only if IAM says something else is still attached does the
	 * sweep look for it. */
	n = 0;
	r = calloc(keys.count + 1, sizeof(*r));
	ENSURE(r, err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < keys.count; i++)
		r[n++] = (struct removal){ K_KEY,
					   keys.items[i].access_key_id };
	r[n++] = (struct removal){ K_POLICY, POLICY_NAME };
	/* A failure from here on leaves the user part-deleted: the message
	 * says what is left and how to finish (left_behind). */
	TRY(left_behind(&lc, remove_all(&lc, r, n)));
	/* The stores once no key is left whose settings only they hold,
	 * and before the user, whose record names them for a rerun. */
	TRY(lc_stores_delete(&lc, false));
	rc = gone_is_done(iam_delete_user(&lc.iam, lc.user));
	if (rc == SESCTL_ERR_CONFLICT &&
	    strncmp(lc.iam.last_error.code, "DeleteConflict", 14) == 0)
		rc = sweep(&lc, &explained);
	if (!explained)
		rc = left_behind(&lc, rc);
	TRY(rc);
	ctx_info(ctx, "deleted IAM user '%s' and everything attached to it",
		 lc.user);
	/* No key left for a journal to speak of. */
	TRY(runlock_journal_clear(ctx, &lc.lock));
out:
	if (rc == SESCTL_OK && dry)
		rc = lc_plan_done(&lc, "disable");
	free(r);
	holdings_release(&h);
	iam_access_key_list_release(&keys);
	iam_user_result_release(&u);
	lc_close(&lc);
	return rc;
}
