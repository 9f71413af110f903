/* cmd_status.c - sesctl smtp status: what exists, how old, was it used,
 * what is wrong.  Read-only, so the calls that do not depend on each other
 * run at once (iam_read_many): two round trips for one user, whatever
 * the number of keys and policies; for --all, the same two rounds over
 * every user (STATUS_ALL_IN_FLIGHT requests at a time), and the same
 * facts and warnings for each user as for one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"

#define MAX_WARNINGS 16
#define WARNING_MAX 512
#define MAX_TAGS 64
#define MAX_BEYOND 24
#define BEYOND_LEN 320
/* An active key with no recorded use this many days after it was made:
 * the app may not have its settings. */
#define UNUSED_DAYS 7
/* --all: IAM requests in flight at once. */
#define STATUS_ALL_IN_FLIGHT 8
/* The most text status writes: far beyond any account's users (IAM
 * allows 5,000), so reaching it is a bug, said as an error, not a cut. */
#define TEXT_MAX (64u << 20)

/* Text that grows as needed, up to TEXT_MAX. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory or over TEXT_MAX */
};

static void text_vadd(struct text *t, const char *fmt, va_list ap)
	PRINTF_LIKE(2, 0);

static void text_vadd(struct text *t, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (t->failed)
		return;
	va_copy(again, ap);
	n = vsnprintf(t->buf ? t->buf + t->len : NULL,
		      t->buf ? t->cap - t->len : 0, fmt, ap);
	if (n >= 0 && (!t->buf || (size_t)n >= t->cap - t->len)) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (cap - t->len <= (size_t)n && cap <= TEXT_MAX)
			cap *= 2;
		p = cap <= TEXT_MAX ? realloc(t->buf, cap) : NULL;
		if (!p) {
			t->failed = true;
			va_end(again);
			return;
		}
		t->buf = p;
		t->cap = cap;
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, again);
	}
	va_end(again);
	if (n < 0)
		t->failed = true;
	else
		t->len += (size_t)n;
}

static void text_add(struct text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vadd(t, fmt, ap);
	va_end(ap);
}

/* "label      value\n" */
static void add(struct text *t, const char *label, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void add(struct text *t, const char *label, const char *fmt, ...)
{
	va_list ap;

	text_add(t, "%-10s ", label);
	va_start(ap, fmt);
	text_vadd(t, fmt, ap);
	va_end(ap);
	text_add(t, "\n");
}

static sesctl_err text_write(struct ctx *ctx, struct text *t)
{
	if (t->failed)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM,
			       "status output would be over %u MiB (or memory "
			       "ran out); nothing was written",
			       TEXT_MAX >> 20);
	return t->len ? ctx_write_out(ctx, t->buf, t->len) : SESCTL_OK;
}

/* What status found wrong, each with a stable code (status --check,
 * JSON, prometheus): see sesctl-smtp(1), WARNINGS. */
struct warnings {
	struct status_warning w[MAX_WARNINGS];
	char msg[MAX_WARNINGS][WARNING_MAX];
	size_t n;
	int worst; /* 0 none, 1 warning, 2 critical */
};

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

/* Every code status may report, for prometheus's zero-valued series. */
static const char *const warning_codes[] = {
	"key-old",	  "two-active-keys", "inactive-key",   "unused-key",
	"unrecorded-key", "lost-key",	     "no-key",	       "policy-missing",
	"policy-drift",	  "not-managed",     "least-privilege", "console-login",
	"other-credentials", "incomplete",   NULL
};

static long age_days(const struct iam_date *d, time_t now)
{
	if (!d->present || now < d->t)
		return 0;
	return (long)((now - d->t) / 86400);
}

/* What one run of status asks for. */
struct status_opts {
	long warn_age, crit_age;
	bool all; /* advice names each user with --user-name */
	time_t now;
};

/* The first round's reads of a user: the user (with its tags), sesctl's
 * policy and the keys, which status cannot do without; then everything
 * else that may be attached, which status shows as unknown when it
 * cannot read it. */
enum first_read {
	R_USER,
	R_POLICY,
	R_KEYS,
	R_POLICIES,
	R_ATTACHED,
	R_GROUPS,
	R_LOGIN,
	R_CERTS,
	R_SSH,
	R_SVC,
	R_MFA,
	R_COUNT
};

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

/* Everything status learns about one user, and what it makes of it. */
struct user_status {
	const char *name; /* as asked for */
	bool gone;        /* --all: deleted since ListUsers */
	struct iam_user_result u;
	struct iam_user_policy pol;
	struct iam_access_key_list keys;
	struct iam_id_list pols, groups, certs, ssh, svc, mfa;
	struct iam_attached_policy_list att;
	struct iam_login_profile lp;
	sesctl_err first_rc[R_COUNT];
	char first_error[R_COUNT][IAM_XML_ERR_CODE_MAX + 1];
	/* the second round: when each key was last used (keys.count), then
	 * the documents of the other inline policies (n_docs) */
	struct iam_read *second;
	struct iam_access_key_last_used *used;
	struct iam_user_policy *docs;
	size_t n_docs;
	struct status_key *sk;
	struct status_policy *inl;
	const char **att_arns, **group_names;
	struct record rec;
	struct warnings ws;
	struct status_report r;
	const char *tag_keys[MAX_TAGS], *tag_values[MAX_TAGS];
	char beyond[MAX_BEYOND][BEYOND_LEN];
	const char *beyond_p[MAX_BEYOND];
	struct status_unknown unknown[R_COUNT + 8];
	char unknown_perm[R_COUNT + 8][96];
	char desc[256], host[REGION_HOST_MAX];
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
static sesctl_err attachments(struct lc *lc, const struct status_opts *so,
			      struct user_status *us)
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
	(void)so;
	return SESCTL_OK;
}

/* The second round's answers, and what deserves attention. */
static sesctl_err assess(struct lc *lc, const struct status_opts *so,
			 struct user_status *us)
{
	struct status_report *r = &us->r;
	struct warnings *ws = &us->ws;
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

		if (us->rec.present || role == KEY_CURRENT || role == KEY_KEPT)
			sk->role = record_role_name(role);
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
	if (!r->policy_present)
		warn(ws, "policy-missing", 2,
		     "no inline policy '%s': SES refuses this user's mail",
		     POLICY_NAME);
	else if (!r->policy_matches)
		warn(ws, "policy-drift", 1,
		     "policy '%s' was changed outside sesctl (drift): %s",
		     POLICY_NAME, us->desc);
	if (!lc_is_managed(&us->u.user))
		warn(ws, "not-managed", 1, "not managed by sesctl (no tag %s=%s)",
		     LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE);

	rc = attachments(lc, so, us);
	if (rc != SESCTL_OK)
		return rc;
	r->arn = us->u.user.arn;
	r->path = us->u.user.path;
	r->created = us->u.user.create_date.present ?
			     us->u.user.create_date.iso :
			     NULL;
	r->managed = lc_is_managed(&us->u.user);
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

static const char *const check_words[] = { "OK", "WARNING", "CRITICAL" };

/* The first of the worst warnings of a user. */
static size_t worst_warning(const struct warnings *ws)
{
	size_t i, first = 0;

	for (i = 0; i < ws->n; i++)
		if ((ws->w[i].severity[0] == 'c') >
		    (ws->w[first].severity[0] == 'c'))
			first = i;
	return first;
}

/* status --check: one line, monitoring plugin style, with perfdata. */
static sesctl_err print_check(struct ctx *ctx, const struct user_status *us,
			      const struct status_opts *so)
{
	const struct status_report *r = &us->r;
	const struct warnings *ws = &us->ws;
	const char *current = us->rec.current[0] ? us->rec.current : NULL;
	const struct status_key *key = NULL;
	struct text t = { 0 };
	char crit[24] = "";
	size_t i, first = worst_warning(ws);
	sesctl_err rc;

	for (i = 0; i < r->n_keys; i++)
		if ((current && strcmp(r->keys[i].id, current) == 0) ||
		    (!key && strcmp(r->keys[i].status, "Active") == 0))
			key = &r->keys[i];
	if (so->crit_age)
		snprintf(crit, sizeof(crit), "%ld", so->crit_age);
	if (ws->n)
		text_add(&t, "SESCTL %s - %s: %s: %s%s", check_words[ws->worst],
			 r->user, ws->w[first].code, ws->w[first].message,
			 ws->n > 1 ? " (and more: see sesctl smtp status)" : "");
	else if (key)
		text_add(&t, "SESCTL OK - %s: access key %s is %ld day%s old",
			 r->user, key->id, key->age_days,
			 key->age_days == 1 ? "" : "s");
	else
		text_add(&t, "SESCTL OK - %s", r->user);
	/* Nagios perfdata: 'label'=value;warn;crit;min */
	text_add(&t, " | key_age_days=%ld;%ld;%s;0 keys=%zu;;;0 warnings=%zu;;;0\n",
		 key ? key->age_days : 0, so->warn_age, crit, r->n_keys, ws->n);
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* status --all --check: the worst of every user, in one line. */
static sesctl_err print_check_all(struct ctx *ctx, struct user_status *us,
				  size_t n, int worst)
{
	struct text t = { 0 };
	size_t i, users = 0, bad = 0, crit = 0, warnings = 0;
	const struct user_status *first = NULL;
	sesctl_err rc;

	for (i = 0; i < n; i++) {
		if (us[i].gone)
			continue;
		users++;
		warnings += us[i].ws.n;
		bad += us[i].ws.n > 0;
		crit += us[i].ws.worst == 2;
		if (!first && us[i].ws.n && us[i].ws.worst == worst)
			first = &us[i];
	}
	if (first) {
		const struct status_warning *w =
			&first->ws.w[worst_warning(&first->ws)];

		text_add(&t, "SESCTL %s - %zu of %zu SMTP users: %s: %s: %s%s",
			 check_words[worst], bad, users, first->r.user, w->code,
			 w->message,
			 warnings > 1 ? " (and more: see sesctl smtp status "
					"--all)" :
					"");
	} else {
		text_add(&t, "SESCTL OK - %zu SMTP user%s under %s", users,
			 users == 1 ? "" : "s", LC_PATH);
	}
	text_add(&t, " | users=%zu;;;0 users_warning=%zu;;;0 "
		     "users_critical=%zu;;;0 warnings=%zu;;;0\n",
		 users, bad - crit, crit, warnings);
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* Prometheus text format, for node_exporter's textfile collector: every
 * metric family once, with a series per user. */
static sesctl_err print_prometheus(struct ctx *ctx, struct user_status *us,
				   size_t n, time_t now)
{
	struct text t = { 0 };
	size_t u, i, j;
	sesctl_err rc;

	/* User names and key ids hold no '"', '\\' or line break: they
	 * need no escaping in a label value. */
	text_add(&t, "# HELP sesctl_smtp_key_age_seconds How long ago IAM made "
		     "each access key of the SMTP user.\n"
		     "# TYPE sesctl_smtp_key_age_seconds gauge\n");
	for (u = 0; u < n; u++)
		for (i = 0; !us[u].gone && i < us[u].keys.count; i++) {
			const struct iam_access_key_meta *k =
				&us[u].keys.items[i];
			const struct status_key *sk = &us[u].sk[i];

			text_add(&t,
				 "sesctl_smtp_key_age_seconds{user=\"%s\","
				 "key=\"%s\",status=\"%s\",record=\"%s\"} "
				 "%lld\n",
				 us[u].r.user, sk->id, sk->status,
				 sk->role ? sk->role : "",
				 k->create_date.present ?
					 (long long)(now - k->create_date.t) :
					 0LL);
		}
	text_add(&t, "# HELP sesctl_smtp_key_last_used_timestamp_seconds When "
		     "IAM last saw each access key used (absent: never).\n"
		     "# TYPE sesctl_smtp_key_last_used_timestamp_seconds "
		     "gauge\n");
	for (u = 0; u < n; u++)
		for (i = 0; !us[u].gone && i < us[u].keys.count; i++)
			if (us[u].used[i].last_used_date.present)
				text_add(&t,
					 "sesctl_smtp_key_last_used_timestamp_"
					 "seconds{user=\"%s\",key=\"%s\"} "
					 "%lld\n",
					 us[u].r.user, us[u].sk[i].id,
					 (long long)us[u]
						 .used[i]
						 .last_used_date.t);
	text_add(&t, "# HELP sesctl_smtp_keys Access keys of the SMTP user.\n"
		     "# TYPE sesctl_smtp_keys gauge\n");
	for (u = 0; u < n; u++) {
		size_t count[2] = { 0, 0 };

		if (us[u].gone)
			continue;
		for (i = 0; i < us[u].keys.count; i++)
			count[us[u].keys.items[i].status == IAM_STATUS_ACTIVE ?
				      0 :
				      1]++;
		text_add(&t,
			 "sesctl_smtp_keys{user=\"%s\",status=\"Active\"} "
			 "%zu\n"
			 "sesctl_smtp_keys{user=\"%s\",status=\"Inactive\"} "
			 "%zu\n",
			 us[u].r.user, count[0], us[u].r.user, count[1]);
	}
	text_add(&t, "# HELP sesctl_smtp_warnings Warnings sesctl smtp status "
		     "finds, by code.\n"
		     "# TYPE sesctl_smtp_warnings gauge\n");
	for (u = 0; u < n; u++)
		for (i = 0; !us[u].gone && warning_codes[i]; i++) {
			size_t c = 0;

			for (j = 0; j < us[u].ws.n; j++)
				c += strcmp(us[u].ws.w[j].code,
					    warning_codes[i]) == 0;
			text_add(&t,
				 "sesctl_smtp_warnings{user=\"%s\","
				 "code=\"%s\"} %zu\n",
				 us[u].r.user, warning_codes[i], c);
		}
	text_add(&t, "# HELP sesctl_smtp_check_status What status --check "
		     "says: 0 OK, 1 warning, 2 critical.\n"
		     "# TYPE sesctl_smtp_check_status gauge\n");
	for (u = 0; u < n; u++)
		if (!us[u].gone)
			text_add(&t, "sesctl_smtp_check_status{user=\"%s\"} %d\n",
				 us[u].r.user, us[u].ws.worst);
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* The text of one user's status. */
static sesctl_err print_text(struct ctx *ctx, const struct user_status *us)
{
	const struct status_report *r = &us->r;
	struct text t = { 0 };
	size_t i, shown = 0;
	sesctl_err rc;

	add(&t, "user", "%s", r->user);
	add(&t, "arn", "%s", r->arn);
	add(&t, "created", "%s", r->created ? r->created : "-");
	text_add(&t, "%-10s ", "tags");
	for (i = 0; i < r->n_tags; i++) {
		/* The record has a line of its own. */
		if (strncmp(r->tag_keys[i], "Sesctl", 6) == 0 &&
		    strcmp(r->tag_keys[i], LC_TAG_NAME) != 0)
			continue;
		text_add(&t, "%s%s=%s", shown++ ? ", " : "", r->tag_keys[i],
			 r->tag_values[i]);
	}
	text_add(&t, "%s\n", shown ? "" : "-");
	if (us->rec.present) {
		text_add(&t, "%-10s key %s, regions ", "delivered",
			 us->rec.current[0] ? us->rec.current : "-");
		for (i = 0; i < us->rec.n_regions; i++)
			text_add(&t, "%s%s", i ? " " : "", us->rec.regions[i]);
		text_add(&t, "%s, format %s\n", us->rec.n_regions ? "" : "-",
			 us->rec.format[0] ? us->rec.format : "-");
	}
	if (r->policy_present)
		add(&t, "policy", "%s: %s%s", POLICY_NAME, us->desc,
		    r->policy_matches ? "" : " (changed outside sesctl)");
	else
		add(&t, "policy", "%s: missing", POLICY_NAME);
	for (i = 0; i < r->n_inline; i++)
		add(&t, "inline", "%s%s", r->inline_policies[i].name,
		    r->inline_policies[i].document ? "" : " (not readable)");
	for (i = 0; i < r->n_attached; i++)
		add(&t, "attached", "%s", r->attached_arns[i]);
	for (i = 0; i < r->n_groups; i++)
		add(&t, "group", "%s", r->groups[i]);
	if (r->login_profile > 0)
		add(&t, "login", "console password (login profile) since %s",
		    us->lp.create_date.present ? us->lp.create_date.iso : "-");
	if (r->n_certs > 0 || r->n_ssh > 0 || r->n_service_creds > 0 ||
	    r->n_mfa > 0)
		add(&t, "other", "%ld signing certificate%s, %ld SSH public "
				 "key%s, %ld service-specific credential%s, "
				 "%ld MFA device%s",
		    r->n_certs > 0 ? r->n_certs : 0, r->n_certs == 1 ? "" : "s",
		    r->n_ssh > 0 ? r->n_ssh : 0, r->n_ssh == 1 ? "" : "s",
		    r->n_service_creds > 0 ? r->n_service_creds : 0,
		    r->n_service_creds == 1 ? "" : "s",
		    r->n_mfa > 0 ? r->n_mfa : 0, r->n_mfa == 1 ? "" : "s");
	if (r->least_privilege > 0)
		add(&t, "privilege", "least: it may send mail and nothing more");
	else if (r->least_privilege < 0)
		add(&t, "privilege", "unknown: not everything attached could "
				     "be read");
	for (i = 0; i < r->n_beyond; i++)
		add(&t, "privilege", "more than sending mail: %s",
		    r->beyond[i]);
	for (i = 0; i < r->n_unknown; i++)
		add(&t, "unknown", "%s: needs %s (%s)", r->unknown[i].what,
		    r->unknown[i].permission, r->unknown[i].error);
	for (i = 0; i < r->n_keys; i++) {
		const struct status_key *sk = &r->keys[i];
		char last[160];

		if (sk->last_used)
			snprintf(last, sizeof(last), "last used %s (%s, %s)",
				 sk->last_used, sk->last_service,
				 sk->last_region);
		else
			snprintf(last, sizeof(last), "never used");
		add(&t, "key", "%s %s, %s%screated %s (%ld day%s old), %s",
		    sk->id, sk->status, sk->role ? sk->role : "",
		    sk->role ? ", " : "", sk->created ? sk->created : "-",
		    sk->age_days, sk->age_days == 1 ? "" : "s", last);
	}
	if (r->smtp_host)
		add(&t, "smtp", "%s port %d (STARTTLS) or %d (TLS), region %s",
		    r->smtp_host, SMTP_PORT_STARTTLS, SMTP_PORT_TLS, r->region);
	for (i = 0; i < r->n_warnings; i++)
		add(&t, "warning", "%s%s: %s",
		    r->warnings[i].severity[0] == 'c' ? "CRITICAL " : "",
		    r->warnings[i].code, r->warnings[i].message);
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* status --all as text: a row per user, its warnings by code. */
static sesctl_err print_table(struct ctx *ctx, const struct user_status *us,
			      size_t n)
{
	struct text t = { 0 };
	size_t u, i;
	sesctl_err rc;

	text_add(&t, "%-32s %-12s %4s %6s %10s  %-20s  %s\n", "USER", "NAME",
		 "KEYS", "ACTIVE", "OLDEST KEY", "CREATED", "WARNINGS");
	for (u = 0; u < n; u++) {
		const struct status_report *r = &us[u].r;
		const char *name = NULL;
		char oldest[32] = "-";
		size_t active = 0;
		long age = -1;

		if (us[u].gone)
			continue;
		for (i = 0; i < r->n_tags; i++)
			if (strcmp(r->tag_keys[i], LC_TAG_NAME) == 0)
				name = r->tag_values[i];
		for (i = 0; i < r->n_keys; i++) {
			active += strcmp(r->keys[i].status, "Active") == 0;
			if (r->keys[i].age_days > age)
				age = r->keys[i].age_days;
		}
		if (age >= 0)
			snprintf(oldest, sizeof(oldest), "%ld days", age);
		text_add(&t, "%-32s %-12s %4zu %6zu %10s  %-20s  ", r->user,
			 name ? name : "-", r->n_keys, active, oldest,
			 r->created ? r->created : "-");
		for (i = 0; i < r->n_warnings; i++)
			text_add(&t, "%s%s%s", i ? "," : "",
				 r->warnings[i].code,
				 r->warnings[i].severity[0] == 'c' ? "!" : "");
		text_add(&t, "%s\n", r->n_warnings ? "" : "-");
	}
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* The users to look at: lc's one, or (--all) every user under LC_PATH. */
static sesctl_err gather(struct lc *lc, const struct status_opts *so,
			 struct iam_user_list *users, struct user_status **out,
			 size_t *count)
{
	struct user_status *us = NULL;
	struct iam_read *rd = NULL, **back = NULL;
	sesctl_err rc = SESCTL_OK;
	size_t n, i, j, m = 0;

	n = so->all ? users->count : 1;
	*out = us = calloc(n ? n : 1, sizeof(*us));
	*count = n;
	rd = calloc(n ? R_COUNT * n : 1, sizeof(*rd));
	ENSURE(us && rd,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		us[i].name = so->all ? users->items[i].user_name : lc->user;
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
		TRY(assess(lc, so, &us[i]));
	}
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
	if (so.all)
		TRY(iam_list_users(&lc.iam, LC_PATH, &users));

	/* Every user, its policy and its keys at once, then when each key
	 * was last used, all at once: two round trips (for --all, as many
	 * more as STATUS_ALL_IN_FLIGHT makes them).  (A user that does not
	 * exist costs the first round's three requests instead of one, in
	 * the same time.) */
	rc = gather(&lc, &so, &users, &us, &n);
	if (!so.all && rc == SESCTL_ERR_NOT_FOUND) {
		rc = err_setk(&ctx->err, SESCTL_ERR_NOT_FOUND, "not-enabled",
			      "not enabled: there is no IAM user '%s'; '%s' "
			      "creates it",
			      lc.user, lc_cmd(&lc, "enable"));
		goto out;
	}
	TRY(rc);
	reports = calloc(n ? n : 1, sizeof(*reports));
	ENSURE(reports, err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		if (us[i].gone)
			continue;
		reports[shown++] = &us[i].r;
		if (us[i].ws.worst > worst)
			worst = us[i].ws.worst;
	}
	ctx->check_status = worst;

	if (check && so.all)
		rc = print_check_all(ctx, us, n, worst);
	else if (check)
		rc = print_check(ctx, &us[0], &so);
	else if (prom)
		rc = print_prometheus(ctx, us, n, so.now);
	else if (json && so.all)
		rc = output_status_list_json(reports, shown, &doc);
	else if (json)
		rc = output_status_json(reports[0], &doc);
	else if (so.all && shown == 0)
		ctx_info(ctx, "no SMTP users under %s", LC_PATH);
	else if (so.all)
		rc = print_table(ctx, us, n);
	else
		rc = print_text(ctx, &us[0]);
	TRY(rc);
	if (doc)
		TRY(ctx_write_out(ctx, doc, strlen(doc)));
out:
	free(doc);
	free(reports);
	for (i = 0; us && i < n; i++)
		user_status_release(&us[i]);
	free(us);
	iam_user_list_release(&users);
	lc_close(&lc);
	return rc;
}
