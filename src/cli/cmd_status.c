/* cmd_status.c - sesctl smtp status: what exists, how old, was it used,
 * what is wrong.  Read-only, so the calls that do not depend on each other
 * run at once (iam_read_many): two round trips for one user, whatever
 * the number of keys and policies; for --all, the same two rounds over
 * every user (STATUS_ALL_IN_FLIGHT requests at a time), and the same
 * facts and warnings for each user as for one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"

#define MAX_WARNINGS 16
#define WARNING_MAX 512
#define MAX_TAGS 64
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
	"policy-drift",	  "not-managed",     NULL
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

/* Everything status learns about one user, and what it makes of it. */
struct user_status {
	const char *name; /* as asked for */
	bool gone;        /* --all: deleted since ListUsers */
	struct iam_user_result u;
	struct iam_user_policy pol;
	struct iam_access_key_list keys;
	struct iam_access_key_last_used *used;
	struct iam_read *key_reads;
	struct status_key *sk;
	struct record rec;
	struct warnings ws;
	struct status_report r;
	const char *tag_keys[MAX_TAGS], *tag_values[MAX_TAGS];
	char desc[256], host[REGION_HOST_MAX];
};

static void user_status_release(struct user_status *us)
{
	size_t i;

	if (us->used)
		for (i = 0; i < us->keys.count; i++)
			iam_access_key_last_used_release(&us->used[i]);
	free(us->used);
	free(us->key_reads);
	free(us->sk);
	iam_access_key_list_release(&us->keys);
	iam_user_policy_release(&us->pol);
	iam_user_result_release(&us->u);
}

/* The first round's reads of one user: the user (with its tags), its
 * policy, its keys. */
static void first_reads(struct user_status *us, struct iam_read rd[3])
{
	rd[0] = (struct iam_read){ .kind = IAM_READ_GET_USER, .user = us->name,
				   .out = &us->u };
	rd[1] = (struct iam_read){ .kind = IAM_READ_GET_USER_POLICY,
				   .user = us->name, .arg = POLICY_NAME,
				   .out = &us->pol };
	rd[2] = (struct iam_read){ .kind = IAM_READ_LIST_ACCESS_KEYS,
				   .user = us->name, .out = &us->keys };
}

/* The first round's answers, looked at in the order the calls used to be
 * made one by one, so that a failure reads as it did; then the second
 * round's reads planned (when each key was last used).  A user that is
 * not there is NOT_FOUND, with nothing said. */
static sesctl_err first_results(struct lc *lc, struct user_status *us,
				struct iam_read rd[3])
{
	sesctl_err rc;
	size_t i;

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
	us->used = calloc(us->keys.count ? us->keys.count : 1,
			  sizeof(*us->used));
	us->key_reads = calloc(us->keys.count ? us->keys.count : 1,
			       sizeof(*us->key_reads));
	us->sk = calloc(us->keys.count ? us->keys.count : 1, sizeof(*us->sk));
	if (!us->used || !us->key_reads || !us->sk)
		return err_set(&lc->ctx->err, SESCTL_ERR_NOMEM,
			       "out of memory");
	for (i = 0; i < us->keys.count; i++)
		us->key_reads[i] = (struct iam_read){
			.kind = IAM_READ_GET_ACCESS_KEY_LAST_USED,
			.arg = us->keys.items[i].access_key_id,
			.out = &us->used[i]
		};
	return SESCTL_OK;
}

/* "sesctl smtp <sub>" for this user. */
static const char *advice(struct lc *lc, const struct status_opts *so,
			  const struct user_status *us, const char *sub)
{
	return so->all ? lc_cmd_user(lc, sub, us->r.user) : lc_cmd(lc, sub);
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

		rc = iam_read_result(&lc->iam, &us->key_reads[i]);
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
	struct iam_read *rd = NULL, **kr = NULL;
	sesctl_err rc = SESCTL_OK;
	size_t n, i, j, nk = 0;

	n = so->all ? users->count : 1;
	*out = us = calloc(n ? n : 1, sizeof(*us));
	*count = n;
	rd = calloc(n ? 3 * n : 1, sizeof(*rd));
	ENSURE(us && rd,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		us[i].name = so->all ? users->items[i].user_name : lc->user;
		first_reads(&us[i], &rd[3 * i]);
	}
	/* (The first failure it returns may be a NoSuchEntity, which is no
	 * failure here: each read is looked at on its own.) */
	rc = iam_read_many(&lc->iam, rd, 3 * n,
			   so->all ? STATUS_ALL_IN_FLIGHT : 0);
	for (i = 0; i < n; i++) {
		rc = first_results(lc, &us[i], &rd[3 * i]);
		/* Deleted since ListUsers: not there to report on. */
		if (so->all && rc == SESCTL_ERR_NOT_FOUND) {
			us[i].gone = true;
			rc = SESCTL_OK;
			continue;
		}
		TRY(rc);
		nk += us[i].keys.count;
	}
	/* When each key was last used: every user's keys at once. */
	free(rd);
	rd = calloc(nk ? nk : 1, sizeof(*rd));
	kr = calloc(nk ? nk : 1, sizeof(*kr));
	ENSURE(rd && kr,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0, nk = 0; i < n; i++)
		for (j = 0; !us[i].gone && j < us[i].keys.count; j++) {
			kr[nk] = &us[i].key_reads[j];
			rd[nk++] = us[i].key_reads[j];
		}
	rc = iam_read_many(&lc->iam, rd, nk,
			   so->all ? STATUS_ALL_IN_FLIGHT : 0);
	for (i = 0; i < nk; i++)
		*kr[i] = rd[i];
	for (i = 0; i < n; i++) {
		if (us[i].gone)
			continue;
		TRY(assess(lc, so, &us[i]));
	}
	rc = SESCTL_OK;
out:
	free(kr);
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
