/* cmd_status.c - sesctl smtp status: what exists, how old, was it used,
 * what is wrong.  Read-only, so the calls that do not depend on each other
 * run at once (iam_read_many): two round trips for one user, whatever
 * the number of keys and policies; for --all, the same two rounds over
 * every user (STATUS_ALL_IN_FLIGHT requests at a time), and the same
 * facts and warnings for each user as for one.  The outputs (text, the
 * --all table, --check, prometheus) are in cmd_status_print.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"

#include "cmd_status_int.h"

/* An active key with no recorded use this many days after it was made:
 * the app may not have its settings. */
#define UNUSED_DAYS 7

static void warn(struct warnings *ws, const char *code, int severity,
		 const char *fmt, ...) PRINTF_LIKE(4, 5);

static void warn(struct warnings *ws, const char *code, int severity,
		 const char *fmt, ...)
{
	va_list ap;

	if (ws->n >= MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(ws->msg[ws->n], WARNING_MAX, fmt, ap);
	va_end(ap);
	ws->w[ws->n] = (struct status_warning){
		code, severity >= 2 ? "critical" : "warning", ws->msg[ws->n]
	};
	ws->n++;
	if (severity > ws->worst)
		ws->worst = severity;
}
static long age_days(const struct iam_date *d, time_t now)
{
	if (!d->present || now < d->t)
		return 0;
	return (long)((now - d->t) / 86400);
}
/* What the optional reads are called in the output. */
static const char *const optional_what[R_COUNT] = {
	[R_POLICIES] = "inline policies",
	[R_ATTACHED] = "attached policies",
	[R_GROUPS] = "groups",
	[R_LOGIN] = "login profile",
	[R_CERTS] = "signing certificates",
	[R_SSH] = "SSH public keys",
	[R_SVC] = "service-specific credentials",
	[R_MFA] = "MFA devices",
};
static void user_status_release(struct user_status *us)
{
	size_t i;

	if (us->used)
		for (i = 0; i < us->keys.count; i++)
			iam_access_key_last_used_release(&us->used[i]);
	if (us->docs)
		for (i = 0; i < us->n_docs; i++)
			iam_user_policy_release(&us->docs[i]);
	free(us->used);
	free(us->docs);
	free(us->second);
	free(us->sk);
	free(us->inl);
	free(us->att_arns);
	free(us->group_names);
	iam_access_key_list_release(&us->keys);
	iam_id_list_release(&us->pols);
	iam_id_list_release(&us->groups);
	iam_id_list_release(&us->certs);
	iam_id_list_release(&us->ssh);
	iam_id_list_release(&us->svc);
	iam_id_list_release(&us->mfa);
	iam_attached_policy_list_release(&us->att);
	iam_login_profile_release(&us->lp);
	iam_user_policy_release(&us->pol);
	iam_user_result_release(&us->u);
}

static void first_reads(struct user_status *us, struct iam_read rd[R_COUNT])
{
	static const struct {
		enum iam_read_kind kind;
		size_t off;
	} reads[R_COUNT] = {
		[R_USER] = { IAM_READ_GET_USER,
			     offsetof(struct user_status, u) },
		[R_POLICY] = { IAM_READ_GET_USER_POLICY,
			       offsetof(struct user_status, pol) },
		[R_KEYS] = { IAM_READ_LIST_ACCESS_KEYS,
			     offsetof(struct user_status, keys) },
		[R_POLICIES] = { IAM_READ_LIST_USER_POLICIES,
				 offsetof(struct user_status, pols) },
		[R_ATTACHED] = { IAM_READ_LIST_ATTACHED_USER_POLICIES,
				 offsetof(struct user_status, att) },
		[R_GROUPS] = { IAM_READ_LIST_GROUPS_FOR_USER,
			       offsetof(struct user_status, groups) },
		[R_LOGIN] = { IAM_READ_GET_LOGIN_PROFILE,
			      offsetof(struct user_status, lp) },
		[R_CERTS] = { IAM_READ_LIST_SIGNING_CERTIFICATES,
			      offsetof(struct user_status, certs) },
		[R_SSH] = { IAM_READ_LIST_SSH_PUBLIC_KEYS,
			    offsetof(struct user_status, ssh) },
		[R_SVC] = { IAM_READ_LIST_SERVICE_SPECIFIC_CREDENTIALS,
			    offsetof(struct user_status, svc) },
		[R_MFA] = { IAM_READ_LIST_MFA_DEVICES,
			    offsetof(struct user_status, mfa) },
	};
	size_t i;

	for (i = 0; i < R_COUNT; i++)
		rd[i] = (struct iam_read){ .kind = reads[i].kind,
					   .user = us->name,
					   .arg = i == R_POLICY ? POLICY_NAME :
								  NULL,
					   .out = (char *)us + reads[i].off };
}

/* The first round's answers, looked at in the order the calls used to be
 * made one by one, so that a failure reads as it did; then the second
 * round's reads planned (when each key was last used).  A user that is
 * not there is NOT_FOUND, with nothing said. */
static sesctl_err first_results(struct lc *lc, struct user_status *us,
				struct iam_read rd[R_COUNT])
{
	sesctl_err rc;
	size_t i, j, nk;

	rc = iam_read_result(&lc->iam, &rd[0]);
	if (rc != SESCTL_OK)
		return rc;
	rc = iam_read_result(&lc->iam, &rd[1]);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	else if (rc == SESCTL_OK)
		rc = output_policy_check(us->pol.policy_document,
					 &us->r.policy_matches, us->desc,
					 sizeof(us->desc));
	if (rc != SESCTL_OK)
		return rc;
	us->r.policy_present = us->pol.policy_document != NULL;
	rc = iam_read_result(&lc->iam, &rd[2]);
	if (rc != SESCTL_OK)
		return rc;
	/* The rest may fail: what they would show is then unknown. */
	for (i = R_KEYS + 1; i < R_COUNT; i++) {
		us->first_rc[i] = rd[i].rc;
		snprintf(us->first_error[i], sizeof(us->first_error[i]), "%s",
			 rd[i].error.code[0] ? rd[i].error.code :
					       err_desc(rd[i].rc));
	}
	for (i = 0, us->n_docs = 0;
	     us->first_rc[R_POLICIES] == SESCTL_OK && i < us->pols.count; i++)
		us->n_docs += strcmp(us->pols.items[i].id, POLICY_NAME) != 0;
	nk = us->keys.count;
	us->used = calloc(nk ? nk : 1, sizeof(*us->used));
	us->docs = calloc(us->n_docs ? us->n_docs : 1, sizeof(*us->docs));
	us->second = calloc(nk + us->n_docs ? nk + us->n_docs : 1,
			    sizeof(*us->second));
	us->sk = calloc(nk ? nk : 1, sizeof(*us->sk));
	us->inl = calloc(us->n_docs ? us->n_docs : 1, sizeof(*us->inl));
	if (!us->used || !us->docs || !us->second || !us->sk || !us->inl)
		return err_set(&lc->ctx->err, SESCTL_ERR_NOMEM,
			       "out of memory");
	for (i = 0; i < nk; i++)
		us->second[i] = (struct iam_read){
			.kind = IAM_READ_GET_ACCESS_KEY_LAST_USED,
			.arg = us->keys.items[i].access_key_id,
			.out = &us->used[i]
		};
	for (i = 0, j = 0; j < us->n_docs; i++) {
		if (strcmp(us->pols.items[i].id, POLICY_NAME) == 0)
			continue;
		us->second[nk + j] = (struct iam_read){
			.kind = IAM_READ_GET_USER_POLICY, .user = us->name,
			.arg = us->pols.items[i].id, .out = &us->docs[j]
		};
		us->inl[j++].name = us->pols.items[i].id;
	}
	return SESCTL_OK;
}

/* "sesctl smtp <sub>" for this user. */
static const char *advice(struct lc *lc, const struct status_opts *so,
			  const struct user_status *us, const char *sub)
{
	return so->all ? lc_cmd_user(lc, sub, us->r.user) : lc_cmd(lc, sub);
}

static void unknown_add(struct user_status *us, const char *what,
			const char *action, const char *error)
{
	size_t n = us->r.n_unknown;

	if (n >= sizeof(us->unknown) / sizeof(us->unknown[0]))
		return;
	snprintf(us->unknown_perm[n], sizeof(us->unknown_perm[n]), "iam:%s",
		 action);
	us->unknown[n] = (struct status_unknown){ what, us->unknown_perm[n],
						  error };
	us->r.n_unknown++;
}

static void beyond_add(struct user_status *us, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

static void beyond_add(struct user_status *us, const char *fmt, ...)
{
	va_list ap;

	if (us->r.n_beyond >= MAX_BEYOND)
		return;
	va_start(ap, fmt);
	vsnprintf(us->beyond[us->r.n_beyond], BEYOND_LEN, fmt, ap);
	va_end(ap);
	us->beyond_p[us->r.n_beyond] = us->beyond[us->r.n_beyond];
	us->r.n_beyond++;
}

/* Grants that hand out more than IAM itself or everything. */
static bool grants_a_lot(const char *action)
{
	return strcmp(action, "*") == 0 || strcmp(action, "*:*") == 0 ||
	       strncasecmp(action, "iam:", 4) == 0 ||
	       strncmp(action, "NotAction", 9) == 0;
}

/* The user's policies, groups, login profile and other credentials, and
 * the least-privilege verdict: what it may do beyond sending mail. */
static sesctl_err attachments(struct lc *lc, struct user_status *us)
{
	static const char *const actions[R_COUNT] = {
		[R_POLICIES] = "ListUserPolicies",
		[R_ATTACHED] = "ListAttachedUserPolicies",
		[R_GROUPS] = "ListGroupsForUser",
		[R_LOGIN] = "GetLoginProfile",
		[R_CERTS] = "ListSigningCertificates",
		[R_SSH] = "ListSSHPublicKeys",
		[R_SVC] = "ListServiceSpecificCredentials",
		[R_MFA] = "ListMFADevices",
	};
	struct status_report *r = &us->r;
	struct policy_beyond pb;
	const struct iam_id_list *creds[] = { &us->certs, &us->ssh, &us->svc,
					      &us->mfa };
	long *counts[] = { &r->n_certs, &r->n_ssh, &r->n_service_creds,
			   &r->n_mfa };
	bool severe = false, unsure = false;
	char list[WARNING_MAX] = "";
	size_t i, j, len = 0, nk = us->keys.count;

	if (us->first_rc[R_LOGIN] == SESCTL_ERR_NOT_FOUND)
		us->first_rc[R_LOGIN] = SESCTL_OK; /* no login profile */
	for (i = R_KEYS + 1; i < R_COUNT; i++)
		if (us->first_rc[i] != SESCTL_OK)
			unknown_add(us, optional_what[i], actions[i],
				    us->first_error[i]);
	r->unknown = us->unknown;

	/* sesctl's own policy, then every other inline policy */
	if (r->policy_present) {
		output_policy_beyond(us->pol.policy_document, &pb);
		for (j = 0; j < pb.n; j++) {
			beyond_add(us, "%s (policy %s)", pb.what[j],
				   POLICY_NAME);
			severe |= grants_a_lot(pb.what[j]);
		}
	}
	r->inline_known = us->first_rc[R_POLICIES] == SESCTL_OK;
	r->inline_policies = us->inl;
	r->n_inline = us->n_docs;
	for (i = 0; i < us->n_docs; i++) {
		const struct iam_read *rd = &us->second[nk + i];

		if (rd->rc == SESCTL_ERR_NOT_FOUND)
			continue; /* deleted since the list */
		if (rd->rc != SESCTL_OK) {
			unknown_add(us, us->inl[i].name, "GetUserPolicy",
				    rd->error.code[0] ? rd->error.code :
							err_desc(rd->rc));
			unsure = true;
			continue;
		}
		us->inl[i].document = us->docs[i].policy_document;
		output_policy_beyond(us->inl[i].document, &pb);
		for (j = 0; j < pb.n; j++) {
			beyond_add(us, "%s (inline policy %s)", pb.what[j],
				   us->inl[i].name);
			severe |= grants_a_lot(pb.what[j]);
		}
	}

	/* attached managed policies and groups: sesctl makes none, and
	 * whatever they allow comes on top */
	r->attached_known = us->first_rc[R_ATTACHED] == SESCTL_OK;
	us->att_arns = calloc(us->att.count ? us->att.count : 1,
			      sizeof(*us->att_arns));
	r->groups_known = us->first_rc[R_GROUPS] == SESCTL_OK;
	us->group_names = calloc(us->groups.count ? us->groups.count : 1,
				 sizeof(*us->group_names));
	if (!us->att_arns || !us->group_names)
		return err_set(&lc->ctx->err, SESCTL_ERR_NOMEM,
			       "out of memory");
	for (i = 0; r->attached_known && i < us->att.count; i++) {
		us->att_arns[i] = us->att.items[i].policy_arn;
		beyond_add(us, "whatever attached policy %s allows",
			   us->att.items[i].policy_arn);
		severe |= strstr(us->att.items[i].policy_arn,
				 "AdministratorAccess") != NULL ||
			  strstr(us->att.items[i].policy_arn, "IAMFullAccess");
	}
	r->attached_arns = us->att_arns;
	r->n_attached = r->attached_known ? us->att.count : 0;
	for (i = 0; r->groups_known && i < us->groups.count; i++) {
		us->group_names[i] = us->groups.items[i].id;
		beyond_add(us, "whatever group %s allows",
			   us->groups.items[i].id);
	}
	r->groups = us->group_names;
	r->n_groups = r->groups_known ? us->groups.count : 0;
	r->beyond = us->beyond_p;
	unsure |= !r->inline_known || !r->attached_known || !r->groups_known;
	r->least_privilege = r->n_beyond ? 0 : unsure ? -1 : 1;

	r->login_profile = us->first_rc[R_LOGIN] != SESCTL_OK ? -1 :
			   us->lp.user_name[0]			? 1 :
								  0;
	for (i = 0; i < 4; i++)
		*counts[i] = us->first_rc[R_CERTS + i] == SESCTL_OK ?
				     (long)creds[i]->count :
				     -1;

	if (r->least_privilege == 0) {
		for (i = 0; i < r->n_beyond && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s", i ? ", " : "",
						r->beyond[i]);
		warn(&us->ws, "least-privilege", severe ? 2 : 1,
		     "'%s' may do more than send mail: %s", r->user, list);
	}
	if (r->login_profile > 0)
		warn(&us->ws, "console-login", 1,
		     "'%s' has a console password (login profile), which "
		     "sending mail never needs; 'aws iam delete-login-profile "
		     "--user-name %s' removes it",
		     r->user, r->user);
	if (r->n_certs > 0 || r->n_ssh > 0 || r->n_service_creds > 0)
		warn(&us->ws, "other-credentials", 1,
		     "'%s' has other credentials: %ld signing certificate%s, "
		     "%ld SSH public key%s, %ld service-specific "
		     "credential%s",
		     r->user, r->n_certs > 0 ? r->n_certs : 0,
		     r->n_certs == 1 ? "" : "s", r->n_ssh > 0 ? r->n_ssh : 0,
		     r->n_ssh == 1 ? "" : "s",
		     r->n_service_creds > 0 ? r->n_service_creds : 0,
		     r->n_service_creds == 1 ? "" : "s");
	if (r->n_unknown) {
		list[0] = '\0';
		for (i = 0, len = 0; i < r->n_unknown && len < sizeof(list);
		     i++)
			len += (size_t)snprintf(
				list + len, sizeof(list) - len, "%s%s (%s: %s)",
				i ? ", " : "", r->unknown[i].what,
				r->unknown[i].permission, r->unknown[i].error);
		warn(&us->ws, "incomplete", 1,
		     "could not read %s; shown as unknown", list);
	}
	return SESCTL_OK;
}

/* Without sesctl's policy, what lets the user send mail is judged from
 * the policies it has (an SES console user's AmazonSesSendingAccess), not
 * from the absence of sesctl's. */
static void policy_missing(struct lc *lc, const struct status_opts *so,
			   struct user_status *us)
{
	const struct status_report *r = &us->r;
	const char *other = NULL;
	bool maybe;
	size_t i;

	if (r->policy_present)
		return;
	for (i = 0; i < r->n_inline && !other; i++)
		if (output_policy_allows_send(r->inline_policies[i].document))
			other = r->inline_policies[i].name;
	if (other && lc_is_managed(&us->u.user))
		warn(&us->ws, "policy-missing", 1,
		     "no inline policy '%s' (sesctl's); '%s' lets the user "
		     "send mail for now; '%s' puts sesctl's back",
		     POLICY_NAME, other, advice(lc, so, us, "enable --repair"));
	if (other)
		return;
	/* An attached policy or a group may allow it: status cannot read
	 * their documents.  (What it could not list does not soften this:
	 * a monitor should hear of it.) */
	maybe = r->n_attached || r->n_groups;
	warn(&us->ws, "policy-missing", maybe ? 1 : 2,
	     "no inline policy '%s'%s: SES refuses this user's mail%s%s%s%s",
	     POLICY_NAME, r->n_inline ? " and no other lets it send mail" : "",
	     maybe ? " unless an attached policy or a group allows "
		     "ses:SendRawEmail" :
		     "",
	     lc_is_managed(&us->u.user) ?
		     "; to put it back, give the --identity and "
		     "--from-address it was enabled with (or --yes if none) "
		     "to '" :
		     "",
	     lc_is_managed(&us->u.user) ? advice(lc, so, us, "enable --repair") :
					  "",
	     lc_is_managed(&us->u.user) ? "'" : "");
}

/* The second round's answers, and what deserves attention. */
static sesctl_err assess(struct lc *lc, const struct status_opts *so,
			 struct user_status *us)
{
	struct status_report *r = &us->r;
	struct warnings *ws = &us->ws;
	const struct region_info *ri;
	const char *region = NULL;
	size_t i, active = 0, inactive = 0;
	sesctl_err rc;

	r->user = us->u.user.user_name[0] ? us->u.user.user_name : us->name;
	/* In key order: the first failure is the one reported. */
	for (i = 0; i < us->keys.count; i++) {
		const struct iam_access_key_meta *k = &us->keys.items[i];
		struct status_key *sk = &us->sk[i];

		rc = iam_read_result(&lc->iam, &us->second[i]);
		if (rc != SESCTL_OK)
			return rc;
		sk->id = k->access_key_id;
		sk->status = k->status_text;
		sk->created = k->create_date.present ? k->create_date.iso :
						       NULL;
		sk->age_days = age_days(&k->create_date, so->now);
		if (us->used[i].last_used_date.present) {
			sk->last_used = us->used[i].last_used_date.iso;
			sk->last_service = us->used[i].service_name;
			sk->last_region = us->used[i].region;
		}
		if (k->status == IAM_STATUS_ACTIVE)
			active++;
		else
			inactive++;
	}

	record_read(&us->u.user, &us->rec);
	for (i = 0; i < us->keys.count; i++) {
		const struct iam_access_key_meta *k = &us->keys.items[i];
		struct status_key *sk = &us->sk[i];
		enum key_role role =
			record_role_in(&us->rec, &us->keys, k, so->now);
		bool on = k->status == IAM_STATUS_ACTIVE;
		/* Used: someone holds its secret, whatever the record says
		 * (enable and rotate never delete it as undelivered). */
		bool held = role == KEY_LOST && sk->last_used;

		if (us->rec.present || role == KEY_CURRENT || role == KEY_KEPT)
			sk->role = held ? "unrecorded, used" :
					  record_role_name(role);
		if (on && so->crit_age && sk->age_days > so->crit_age)
			warn(ws, "key-old", 2,
			     "access key %s is %ld days old (over %ld); rotate "
			     "it with '%s'",
			     sk->id, sk->age_days, so->crit_age,
			     advice(lc, so, us, "rotate"));
		else if (on && sk->age_days > so->warn_age)
			warn(ws, "key-old", 1,
			     "access key %s is %ld days old (over %ld); rotate "
			     "it with '%s'",
			     sk->id, sk->age_days, so->warn_age,
			     advice(lc, so, us, "rotate"));
		if (on && !sk->last_used && sk->age_days > UNUSED_DAYS &&
		    role != KEY_KEPT)
			warn(ws, "unused-key", 1,
			     "access key %s was made %ld days ago and IAM shows "
			     "no use of it: does the app have its settings?",
			     sk->id, sk->age_days);
		if (role == KEY_IN_FLIGHT)
			warn(ws, "unrecorded-key", 1,
			     "access key %s has no delivery record: a sesctl "
			     "run may be delivering it now; if not, its secret "
			     "was lost, and after %d minutes the next '%s' "
			     "deletes it",
			     sk->id, RECORD_GRACE_SECONDS / 60,
			     advice(lc, so, us, "rotate"));
		else if (role == KEY_LEGACY && us->rec.present)
			warn(ws, "unrecorded-key", 1,
			     "access key %s has no delivery record and no "
			     "recorded key exists; sesctl takes it for the "
			     "app's and deletes nothing; '%s' records a new one",
			     sk->id, advice(lc, so, us, "rotate"));
		else if (held)
			warn(ws, "unrecorded-key", 1,
			     "access key %s has no delivery record, but IAM "
			     "shows it used at %s: someone holds its secret, so "
			     "sesctl deletes nothing; is the record wrong (see "
			     "the app's settings)?",
			     sk->id, sk->last_used);
		else if (role == KEY_LOST)
			warn(ws, "lost-key", 1,
			     "access key %s has no delivery record and nobody "
			     "holds its secret; the next '%s' deletes it",
			     sk->id, advice(lc, so, us, "rotate"));
	}
	if (active > 1)
		warn(ws, "two-active-keys", 1,
		     "two active access keys; once every app uses the newer "
		     "one, run '%s'",
		     advice(lc, so, us, "rotate --finish"));
	if (inactive > 0)
		warn(ws, "inactive-key", 1,
		     "an inactive access key lingers; '%s' deletes it",
		     advice(lc, so, us, "rotate --finish"));
	if (us->keys.count == 0)
		warn(ws, "no-key", 2,
		     "no access key, so no SMTP password works; '%s' makes one",
		     advice(lc, so, us, "rotate"));
	if (r->policy_present && !r->policy_matches)
		warn(ws, "policy-drift", 1,
		     "policy '%s' was changed outside sesctl (drift): %s; "
		     "'%s' rewrites it",
		     POLICY_NAME, us->desc,
		     advice(lc, so, us, "enable --repair"));
	if (!lc_is_managed(&us->u.user))
		warn(ws, "not-managed", 1, "not managed by sesctl (no tag %s=%s)",
		     LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE);

	rc = attachments(lc, us);
	if (rc != SESCTL_OK)
		return rc;
	policy_missing(lc, so, us);
	r->arn = us->u.user.arn;
	r->path = us->u.user.path;
	r->created = us->u.user.create_date.present ?
			     us->u.user.create_date.iso :
			     NULL;
	r->managed = lc_is_managed(&us->u.user);
	r->origin = strncmp(r->path ? r->path : "", LC_PATH,
			    strlen(LC_PATH)) == 0 && r->managed ? "sesctl" :
		    r->managed			? "adopted" :
		    status_console_name(r->user)	? "ses-console" :
						  "other";
	for (i = 0; strcmp(r->origin, "other") == 0 && i < r->n_inline; i++)
		if (r->inline_policies[i].document &&
		    status_sends_only(r->inline_policies[i].document))
			r->origin = "elsewhere";
	for (i = 0; i < us->u.user.tag_count && i < MAX_TAGS; i++) {
		us->tag_keys[i] = us->u.user.tags[i].key;
		us->tag_values[i] = us->u.user.tags[i].value;
	}
	r->tag_keys = us->tag_keys;
	r->tag_values = us->tag_values;
	r->n_tags = i;
	r->policy_name = POLICY_NAME;
	r->policy_desc = r->policy_present ? us->desc : NULL;
	r->keys = us->sk;
	r->n_keys = us->keys.count;
	/* The region: --region, else the record's first, else the
	 * environment's. */
	if (!lc->regions_given && us->rec.present && us->rec.n_regions)
		region = us->rec.regions[0];
	else if (lc->n_regions)
		region = lc->regions[0];
	ri = region ? region_lookup(region) : NULL;
	if (ri && !ri->smtp_host)
		warn(ws, "no-smtp-endpoint", 1,
		     "SES has no SMTP endpoint in '%s' (the SES Developer "
		     "Guide lists none there): settings for it name a host "
		     "that does not exist; move the app to a region with one "
		     "with '%s'",
		     region, advice(lc, so, us, "rotate --region REGION"));
	if (region && region_smtp_host(region, us->host, sizeof(us->host)) ==
			      SESCTL_OK) {
		r->region = region;
		r->smtp_host = us->host;
		r->smtp_port = SMTP_PORT_STARTTLS;
	}
	r->warnings = ws->w;
	r->n_warnings = ws->n;
	return SESCTL_OK;
}
/* --all: a user status could not read is left out of the report, said
 * on stderr, and listed as unreadable (JSON, the table, --check). */
static void unreadable(struct lc *lc, struct user_status *us)
{
	us->gone = true;
	us->failed = true;
	us->fail_rc = lc->ctx->err.code ? lc->ctx->err.code : SESCTL_ERR_FAIL;
	snprintf(us->fail_msg, sizeof(us->fail_msg), "%s", lc->ctx->err.msg);
	ctx_warn(lc->ctx, "could not read IAM user '%s': %s", us->name,
		 us->fail_msg);
	memset(&lc->ctx->err, 0, sizeof(lc->ctx->err));
}

/* --all: a second-round read failed (NoSuchEntity, or AccessDenied on
 * a deleted key's last use): was the user deleted since the first round?
 * Then it is left out, as a user deleted since ListUsers is.  The error
 * stays in lc's ctx either way, for unreadable(). */
static bool deleted_since(struct lc *lc, const char *name)
{
	struct iam_user_result u;
	struct err_info saved = lc->ctx->err;
	sesctl_err rc;

	memset(&u, 0, sizeof(u));
	rc = iam_get_user(&lc->iam, name, &u);
	iam_user_result_release(&u);
	lc->ctx->err = saved;
	return rc == SESCTL_ERR_NOT_FOUND;
}

/* The users to look at: lc's one, or (--all) `names`, then the `unsure`
 * ones (unread: cmd_status_all.c). */
static sesctl_err gather(struct lc *lc, const struct status_opts *so,
			 const char *const *names, size_t n_names,
			 const struct status_unsure *unsure, size_t n_unsure,
			 struct user_status **out, size_t *count)
{
	struct user_status *us = NULL;
	struct iam_read *rd = NULL, **back = NULL;
	sesctl_err rc = SESCTL_OK;
	size_t n, i, j, m = 0;

	n = so->all ? n_names : 1;
	n_unsure = so->all ? n_unsure : 0;
	*out = us = calloc(n + n_unsure ? n + n_unsure : 1, sizeof(*us));
	*count = n + n_unsure;
	rd = calloc(n ? R_COUNT * n : 1, sizeof(*rd));
	ENSURE(us && rd,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		us[i].name = so->all ? names[i] : lc->user;
		first_reads(&us[i], &rd[R_COUNT * i]);
	}
	/* (The first failure it returns may be a NoSuchEntity, which is no
	 * failure here: each read is looked at on its own.) */
	rc = iam_read_many(&lc->iam, rd, R_COUNT * n,
			   so->all ? STATUS_ALL_IN_FLIGHT : R_COUNT);
	for (i = 0; i < n; i++) {
		rc = first_results(lc, &us[i], &rd[R_COUNT * i]);
		/* Deleted since ListUsers: not there to report on. */
		if (so->all && rc == SESCTL_ERR_NOT_FOUND) {
			us[i].gone = true;
			rc = SESCTL_OK;
			continue;
		}
		/* One user it cannot read hides no other. */
		if (so->all && rc != SESCTL_OK && rc != SESCTL_ERR_NOMEM) {
			unreadable(lc, &us[i]);
			rc = SESCTL_OK;
			continue;
		}
		TRY(rc);
		m += us[i].keys.count + us[i].n_docs;
	}
	/* When each key was last used and the other inline policies: every
	 * user's at once. */
	free(rd);
	rd = calloc(m ? m : 1, sizeof(*rd));
	back = calloc(m ? m : 1, sizeof(*back));
	ENSURE(rd && back,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0, m = 0; i < n; i++)
		for (j = 0; !us[i].gone &&
			    j < us[i].keys.count + us[i].n_docs;
		     j++) {
			back[m] = &us[i].second[j];
			rd[m++] = us[i].second[j];
		}
	rc = iam_read_many(&lc->iam, rd, m,
			   so->all ? STATUS_ALL_IN_FLIGHT : R_COUNT);
	for (i = 0; i < m; i++)
		*back[i] = rd[i];
	for (i = 0; i < n; i++) {
		if (us[i].gone)
			continue;
		rc = assess(lc, so, &us[i]);
		if (so->all && rc != SESCTL_OK && rc != SESCTL_ERR_NOMEM) {
			if (deleted_since(lc, us[i].name))
				us[i].gone = true;
			else
				unreadable(lc, &us[i]);
			rc = SESCTL_OK;
		}
		TRY(rc);
	}
	status_mark_unsure(&us[n], unsure, n_unsure);
	rc = SESCTL_OK;
out:
	free(back);
	free(rd);
	return rc;
}

sesctl_err smtp_status(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct lc lc;
	struct iam_user_list users;
	struct user_status *us = NULL;
	struct status_opts so;
	const struct status_report **reports = NULL;
	const char **names = NULL, **bad = NULL, **bad_msg = NULL;
	struct status_unsure *unsure = NULL;
	size_t n_names = 0, n_bad = 0, n_unsure = 0;
	const char *fmt = opts_get(o, OPT_FORMAT);
	bool check = opts_has(o, OPT_CHECK), prom, json;
	char *doc = NULL;
	size_t i, n = 0, shown = 0;
	sesctl_err rc = SESCTL_OK;
	int worst = 0;

	(void)argv;
	memset(&lc, 0, sizeof(lc));
	memset(&users, 0, sizeof(users));
	memset(&so, 0, sizeof(so));
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp status' takes no arguments; "
				  "name the user with --name"));
	ENSURE(!fmt || strcmp(fmt, "text") == 0 || strcmp(fmt, "json") == 0 ||
		       strcmp(fmt, "prometheus") == 0,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "status prints --format text, json or prometheus, not "
		       "'%s'",
		       fmt));
	prom = fmt && strcmp(fmt, "prometheus") == 0;
	json = fmt && strcmp(fmt, "json") == 0;
	ENSURE(!check || !fmt,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--check prints one summary line; leave out --format"));
	TRY(opts_number(&ctx->err, o, OPT_WARN_AGE, 1, 36500,
			LC_KEY_MAX_AGE_DAYS, "days", &so.warn_age));
	TRY(opts_number(&ctx->err, o, OPT_CRIT_AGE, 1, 36500, 0, "days",
			&so.crit_age));
	ENSURE(!so.crit_age || so.crit_age >= so.warn_age,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--crit-age %ld is below --warn-age %ld", so.crit_age,
		       so.warn_age));
	ENSURE(opts_count(o, OPT_REGION) <= 1,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'sesctl smtp status' takes one --region"));
	so.all = opts_has(o, OPT_ALL);
	ENSURE(!so.all ||
		       (!opts_get(o, OPT_NAME) && !opts_get(o, OPT_USER_NAME)),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--all lists every user; leave out --name and "
		       "--user-name"));
	so.now = ctx_now(ctx);
	TRY(lc_open(&lc, ctx, o, 0));
	if (so.all) {
		TRY(iam_list_users(&lc.iam, "/", &users));
		TRY(status_select_users(&lc, &users, &names, &n_names,
					&unsure, &n_unsure));
	}

	/* Every user, its policy and its keys at once, then when each key
	 * was last used, all at once: two round trips (for --all, as many
	 * more as STATUS_ALL_IN_FLIGHT makes them).  (A user that does not
	 * exist costs the first round's three requests instead of one, in
	 * the same time.) */
	rc = gather(&lc, &so, names, n_names, unsure, n_unsure, &us, &n);
	if (!so.all && rc == SESCTL_ERR_NOT_FOUND) {
		rc = err_setk(&ctx->err, SESCTL_ERR_NOT_FOUND, "not-enabled",
			      "not enabled: there is no IAM user '%s'; '%s' "
			      "creates it",
			      lc.user, lc_cmd(&lc, "enable"));
		goto out;
	}
	TRY(rc);
	reports = calloc(n ? n : 1, sizeof(*reports));
	bad = calloc(n ? n : 1, sizeof(*bad));
	bad_msg = calloc(n ? n : 1, sizeof(*bad_msg));
	ENSURE(reports && bad && bad_msg,
	       err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		if (us[i].failed) {
			bad[n_bad] = us[i].name;
			bad_msg[n_bad++] = us[i].fail_msg;
			/* not knowing is worth a warning */
			if (worst < 1)
				worst = 1;
		}
		if (us[i].gone)
			continue;
		reports[shown++] = &us[i].r;
		if (us[i].ws.worst > worst)
			worst = us[i].ws.worst;
	}
	ctx->check_status = worst;
	/* Not one user could be read: that is a failure, not a report. */
	for (i = 0; so.all && !shown && n_bad && i < n; i++)
		if (us[i].failed) {
			rc = err_set(&ctx->err, us[i].fail_rc,
				     "could not read any of the %zu SMTP "
				     "users; the first: %s",
				     n_bad, us[i].fail_msg);
			goto out;
		}

	if (check && so.all)
		rc = status_print_check_all(ctx, us, n, worst);
	else if (check)
		rc = status_print_check(ctx, &us[0], &so);
	else if (prom)
		rc = status_print_prometheus(ctx, us, n, so.now);
	else if (json && so.all)
		rc = output_status_list_json(reports, shown, bad, bad_msg,
					     n_bad, &doc);
	else if (json)
		rc = output_status_json(reports[0], &doc);
	else if (so.all && shown == 0 && n_bad == 0)
		ctx_info(ctx, "no SMTP users in the account");
	else if (so.all)
		rc = status_print_table(ctx, us, n);
	else
		rc = status_print_text(ctx, &us[0]);
	TRY(rc);
	if (doc)
		TRY(ctx_write_out(ctx, doc, strlen(doc)));
out:
	free(doc);
	free(reports);
	free(bad);
	free(bad_msg);
	free(names);
	free(unsure);
	for (i = 0; us && i < n; i++)
		user_status_release(&us[i]);
	free(us);
	iam_user_list_release(&users);
	lc_close(&lc);
	return rc;
}
