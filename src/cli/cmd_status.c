/* cmd_status.c - sesctl smtp status: what exists, how old, was it used,
 * what is wrong.  Read-only, so the calls that do not depend on each other
 * run at once (iam_read_many): two round trips for one user, whatever
 * the number of keys and policies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"

#define MAX_WARNINGS 16
#define WARNING_MAX 512
/* An active key with no recorded use this many days after it was made:
 * the app may not have its settings. */
#define UNUSED_DAYS 7
/* --all: IAM requests in flight at once (each user's tags and keys). */
#define STATUS_ALL_IN_FLIGHT 8

struct text {
	char buf[16384];
	size_t len;
};

static void add(struct text *t, const char *label, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void add(struct text *t, const char *label, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->buf) - 1)
		return;
	n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%-10s ",
		     label);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->buf) - 1) {
		t->len = sizeof(t->buf) - 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->buf) - 1)
		t->len = sizeof(t->buf) - 2;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
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

static sesctl_err status_all(struct lc *lc, bool json)
{
	struct iam_user_list users;
	struct status_entry *e = NULL;
	struct iam_tag_list *tags = NULL;
	struct iam_access_key_list *keys = NULL;
	struct iam_read *rd = NULL;
	struct text *t = NULL;
	char *doc = NULL;
	time_t now = ctx_now(lc->ctx);
	sesctl_err rc = SESCTL_OK;
	size_t i, j, n;

	memset(&users, 0, sizeof(users));
	TRY(iam_list_users(&lc->iam, LC_PATH, &users));
	n = users.count;
	e = calloc(n ? n : 1, sizeof(*e));
	tags = calloc(n ? n : 1, sizeof(*tags));
	keys = calloc(n ? n : 1, sizeof(*keys));
	rd = calloc(n ? 2 * n : 1, sizeof(*rd));
	t = calloc(1, sizeof(*t));
	ENSURE(e && tags && keys && rd && t,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	/* Every user's tags and keys at once (STATUS_ALL_IN_FLIGHT at a
	 * time); looked at below in the order the calls used to be made,
	 * so the first failure is the one reported. */
	for (i = 0; i < n; i++) {
		rd[2 * i] = (struct iam_read){ .kind = IAM_READ_LIST_USER_TAGS,
					       .user = users.items[i].user_name,
					       .out = &tags[i] };
		rd[2 * i + 1] = (struct iam_read){
			.kind = IAM_READ_LIST_ACCESS_KEYS,
			.user = users.items[i].user_name,
			.out = &keys[i]
		};
	}
	rc = iam_read_many(&lc->iam, rd, 2 * n, STATUS_ALL_IN_FLIGHT);
	for (i = 0; i < n; i++) {
		struct iam_user *u = &users.items[i];

		e[i].user = u->user_name;
		e[i].arn = u->arn;
		e[i].created = u->create_date.present ? u->create_date.iso :
							NULL;
		e[i].oldest_key_days = -1;
		TRY(iam_read_result(&lc->iam, &rd[2 * i]));
		/* The tags live in u so that e[] can point at them. */
		free(u->tags);
		u->tags = tags[i].items;
		u->tag_count = tags[i].count;
		tags[i].items = NULL;
		tags[i].count = 0;
		TRY(iam_read_result(&lc->iam, &rd[2 * i + 1]));
		e[i].managed = lc_is_managed(u);
		for (j = 0; j < u->tag_count; j++)
			if (strcmp(u->tags[j].key, LC_TAG_NAME) == 0)
				e[i].name = u->tags[j].value;
		e[i].keys = keys[i].count;
		for (j = 0; j < keys[i].count; j++) {
			long age = age_days(&keys[i].items[j].create_date, now);

			if (keys[i].items[j].status == IAM_STATUS_ACTIVE)
				e[i].active_keys++;
			if (age > e[i].oldest_key_days)
				e[i].oldest_key_days = age;
		}
	}
	if (json) {
		TRY(output_status_list_json(e, users.count, &doc));
		TRY(ctx_write_out(lc->ctx, doc, strlen(doc)));
		goto out;
	}
	if (users.count == 0) {
		ctx_info(lc->ctx, "no SMTP users under %s", LC_PATH);
		goto out;
	}
	t->len = (size_t)snprintf(t->buf, sizeof(t->buf),
				  "%-32s %-12s %4s %6s %10s  %s\n", "USER",
				  "NAME", "KEYS", "ACTIVE", "OLDEST KEY",
				  "CREATED");
	for (i = 0; i < users.count && t->len < sizeof(t->buf) - 256; i++) {
		char oldest[32] = "-";

		if (e[i].oldest_key_days >= 0)
			snprintf(oldest, sizeof(oldest), "%ld days",
				 e[i].oldest_key_days);
		t->len += (size_t)snprintf(
			t->buf + t->len, sizeof(t->buf) - t->len,
			"%-32s %-12s %4zu %6zu %10s  %s%s\n", e[i].user,
			e[i].name ? e[i].name : "-", e[i].keys, e[i].active_keys,
			oldest, e[i].created ? e[i].created : "-",
			e[i].managed ? "" : "  (not managed by sesctl)");
	}
	TRY(ctx_write_out(lc->ctx, t->buf, t->len));
out:
	for (i = 0; tags && keys && i < users.count; i++) {
		iam_tag_list_release(&tags[i]);
		iam_access_key_list_release(&keys[i]);
	}
	free(doc);
	free(t);
	free(rd);
	free(keys);
	free(tags);
	free(e);
	iam_user_list_release(&users);
	return rc;
}

static const char *const check_words[] = { "OK", "WARNING", "CRITICAL" };

/* status --check: one line, monitoring plugin style, with perfdata. */
static sesctl_err print_check(struct ctx *ctx, const struct status_report *r,
			      const struct warnings *ws, const char *current,
			      long warn_age, long crit_age)
{
	char line[WARNING_MAX + 512], crit[24] = "";
	const struct status_key *key = NULL;
	size_t i, first = 0;
	int n;

	for (i = 0; i < r->n_keys; i++)
		if ((current && strcmp(r->keys[i].id, current) == 0) ||
		    (!key && strcmp(r->keys[i].status, "Active") == 0))
			key = &r->keys[i];
	for (i = 0; i < ws->n; i++)
		if ((ws->w[i].severity[0] == 'c') >
		    (ws->w[first].severity[0] == 'c'))
			first = i;
	if (crit_age)
		snprintf(crit, sizeof(crit), "%ld", crit_age);
	if (ws->n)
		n = snprintf(line, sizeof(line), "SESCTL %s - %s: %s: %s%s",
			     check_words[ws->worst], r->user,
			     ws->w[first].code, ws->w[first].message,
			     ws->n > 1 ? " (and more: see sesctl smtp status)" :
					 "");
	else if (key)
		n = snprintf(line, sizeof(line),
			     "SESCTL OK - %s: access key %s is %ld day%s old",
			     r->user, key->id, key->age_days,
			     key->age_days == 1 ? "" : "s");
	else
		n = snprintf(line, sizeof(line), "SESCTL OK - %s", r->user);
	if (n < 0)
		return SESCTL_ERR_FAIL;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* Nagios perfdata: 'label'=value;warn;crit;min */
	snprintf(line + n, sizeof(line) - (size_t)n,
		 " | key_age_days=%ld;%ld;%s;0 keys=%zu;;;0 warnings=%zu;;;0\n",
		 key ? key->age_days : 0, warn_age, crit, r->n_keys, ws->n);
	return ctx_write_out(ctx, line, strlen(line));
}

/* Prometheus text format, for node_exporter's textfile collector. */
static void prom_add(struct text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void prom_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->buf))
		t->len = sizeof(t->buf) - 1;
}

static sesctl_err print_prometheus(struct ctx *ctx,
				   const struct status_report *r,
				   const struct warnings *ws,
				   const struct iam_access_key_list *keys,
				   const struct iam_access_key_last_used *used,
				   time_t now)
{
	struct text *t = calloc(1, sizeof(*t));
	size_t i, j, count[2] = { 0, 0 };
	sesctl_err rc;

	if (!t)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory");
	/* User names and key ids hold no '"', '\\' or line break: they
	 * need no escaping in a label value. */
	prom_add(t, "# HELP sesctl_smtp_key_age_seconds How long ago IAM made "
		    "each access key of the SMTP user.\n"
		    "# TYPE sesctl_smtp_key_age_seconds gauge\n");
	for (i = 0; i < keys->count; i++)
		prom_add(t,
			 "sesctl_smtp_key_age_seconds{user=\"%s\",key=\"%s\","
			 "status=\"%s\",record=\"%s\"} %lld\n",
			 r->user, r->keys[i].id, r->keys[i].status,
			 r->keys[i].role ? r->keys[i].role : "",
			 keys->items[i].create_date.present ?
				 (long long)(now - keys->items[i].create_date.t) :
				 0LL);
	prom_add(t, "# HELP sesctl_smtp_key_last_used_timestamp_seconds When "
		    "IAM last saw each access key used (absent: never).\n"
		    "# TYPE sesctl_smtp_key_last_used_timestamp_seconds gauge\n");
	for (i = 0; i < keys->count; i++)
		if (used[i].last_used_date.present)
			prom_add(t,
				 "sesctl_smtp_key_last_used_timestamp_seconds"
				 "{user=\"%s\",key=\"%s\"} %lld\n",
				 r->user, r->keys[i].id,
				 (long long)used[i].last_used_date.t);
	for (i = 0; i < keys->count; i++)
		count[keys->items[i].status == IAM_STATUS_ACTIVE ? 0 : 1]++;
	prom_add(t, "# HELP sesctl_smtp_keys Access keys of the SMTP user.\n"
		    "# TYPE sesctl_smtp_keys gauge\n"
		    "sesctl_smtp_keys{user=\"%s\",status=\"Active\"} %zu\n"
		    "sesctl_smtp_keys{user=\"%s\",status=\"Inactive\"} %zu\n",
		 r->user, count[0], r->user, count[1]);
	prom_add(t, "# HELP sesctl_smtp_warnings Warnings sesctl smtp status "
		    "finds, by code.\n"
		    "# TYPE sesctl_smtp_warnings gauge\n");
	for (i = 0; warning_codes[i]; i++) {
		size_t n = 0;

		for (j = 0; j < ws->n; j++)
			n += strcmp(ws->w[j].code, warning_codes[i]) == 0;
		prom_add(t, "sesctl_smtp_warnings{user=\"%s\",code=\"%s\"} "
			    "%zu\n",
			 r->user, warning_codes[i], n);
	}
	prom_add(t, "# HELP sesctl_smtp_check_status What status --check "
		    "says: 0 OK, 1 warning, 2 critical.\n"
		    "# TYPE sesctl_smtp_check_status gauge\n"
		    "sesctl_smtp_check_status{user=\"%s\"} %d\n",
		 r->user, ws->worst);
	rc = ctx_write_out(ctx, t->buf, t->len);
	free(t);
	return rc;
}

sesctl_err smtp_status(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct lc lc;
	struct iam_user_result u;
	struct iam_user_policy pol;
	struct iam_access_key_list keys;
	struct iam_access_key_last_used *used = NULL;
	struct iam_read reads[3], *key_reads = NULL;
	struct status_key *sk = NULL;
	struct status_report r;
	struct text *t = NULL;
	const char *fmt = opts_get(o, OPT_FORMAT);
	const char *tag_keys[64], *tag_values[64];
	struct warnings ws;
	long warn_age, crit_age;
	bool check = opts_has(o, OPT_CHECK), prom;
	char desc[256] = "", host[REGION_HOST_MAX] = "", *doc = NULL;
	time_t now = ctx_now(ctx);
	size_t i, active = 0, inactive = 0;
	sesctl_err rc = SESCTL_OK;
	bool json;

	(void)argv;
	memset(&u, 0, sizeof(u));
	memset(&pol, 0, sizeof(pol));
	memset(&keys, 0, sizeof(keys));
	memset(&r, 0, sizeof(r));
	memset(&lc, 0, sizeof(lc));
	memset(&ws, 0, sizeof(ws));
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
	ENSURE(!check || !fmt,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--check prints one summary line; leave out --format"));
	ENSURE(!(check || prom) || !opts_has(o, OPT_ALL),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--%s reports on one user; leave out --all and run it "
		       "once per --name",
		       check ? "check" : "format prometheus"));
	TRY(opts_number(&ctx->err, o, OPT_WARN_AGE, 1, 36500,
			LC_KEY_MAX_AGE_DAYS, "days", &warn_age));
	TRY(opts_number(&ctx->err, o, OPT_CRIT_AGE, 1, 36500, 0, "days",
			&crit_age));
	ENSURE(!crit_age || crit_age >= warn_age,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--crit-age %ld is below --warn-age %ld", crit_age,
		       warn_age));
	ENSURE(opts_count(o, OPT_REGION) <= 1,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'sesctl smtp status' takes one --region"));
	ENSURE(!opts_has(o, OPT_ALL) ||
		       (!opts_get(o, OPT_NAME) && !opts_get(o, OPT_USER_NAME)),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--all lists every user; leave out --name and "
		       "--user-name"));
	json = fmt && strcmp(fmt, "json") == 0;
	TRY(lc_open(&lc, ctx, o, 0));
	if (opts_has(o, OPT_ALL)) {
		rc = status_all(&lc, json);
		goto out;
	}

	/* The user, its policy and its keys at once, then when each key was
	 * last used, all at once: two round trips, whatever the number of
	 * keys.  (A user that does not exist costs the first round's three
	 * requests instead of one, in the same time.)  The answers are looked
	 * at in the order the calls used to be made one by one, so that a
	 * failure reads as it did. */
	reads[0] = (struct iam_read){ .kind = IAM_READ_GET_USER,
				       .user = lc.user, .out = &u };
	reads[1] = (struct iam_read){ .kind = IAM_READ_GET_USER_POLICY,
				       .user = lc.user, .arg = POLICY_NAME,
				       .out = &pol };
	reads[2] = (struct iam_read){ .kind = IAM_READ_LIST_ACCESS_KEYS,
				       .user = lc.user, .out = &keys };
	/* (The first failure it returns may be a NoSuchEntity, which is no
	 * failure here: each read is looked at on its own.) */
	rc = iam_read_many(&lc.iam, reads, 3, 0);
	rc = iam_read_result(&lc.iam, &reads[0]);
	if (rc == SESCTL_ERR_NOT_FOUND) {
		rc = err_setk(&ctx->err, SESCTL_ERR_NOT_FOUND, "not-enabled",
			     "not enabled: there is no IAM user '%s'; '%s' "
			     "creates it",
			     lc.user, lc_cmd(&lc, "enable"));
		goto out;
	}
	TRY(rc);
	rc = iam_read_result(&lc.iam, &reads[1]);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	else if (rc == SESCTL_OK)
		TRY(output_policy_check(pol.policy_document, &r.policy_matches,
					desc, sizeof(desc)));
	TRY(rc);
	r.policy_present = pol.policy_document != NULL;
	TRY(iam_read_result(&lc.iam, &reads[2]));
	used = calloc(keys.count ? keys.count : 1, sizeof(*used));
	key_reads = calloc(keys.count ? keys.count : 1, sizeof(*key_reads));
	sk = calloc(keys.count ? keys.count : 1, sizeof(*sk));
	t = calloc(1, sizeof(*t));
	ENSURE(used && key_reads && sk && t,
	       err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < keys.count; i++)
		key_reads[i] = (struct iam_read){
			.kind = IAM_READ_GET_ACCESS_KEY_LAST_USED,
			.arg = keys.items[i].access_key_id, .out = &used[i]
		};
	rc = iam_read_many(&lc.iam, key_reads, keys.count, 0);
	/* In key order: the first failure is the one reported. */
	for (i = 0; i < keys.count; i++) {
		const struct iam_access_key_meta *k = &keys.items[i];

		TRY(iam_read_result(&lc.iam, &key_reads[i]));
		sk[i].id = k->access_key_id;
		sk[i].status = k->status_text;
		sk[i].created = k->create_date.present ? k->create_date.iso :
							 NULL;
		sk[i].age_days = age_days(&k->create_date, now);
		if (used[i].last_used_date.present) {
			sk[i].last_used = used[i].last_used_date.iso;
			sk[i].last_service = used[i].service_name;
			sk[i].last_region = used[i].region;
		}
		if (k->status == IAM_STATUS_ACTIVE)
			active++;
		else
			inactive++;
	}

	/* What deserves attention. */
	record_read(&u.user, &lc.rec);
	for (i = 0; i < keys.count; i++) {
		const struct iam_access_key_meta *k = &keys.items[i];
		enum key_role role = record_role_in(&lc.rec, &keys, k, now);
		bool on = k->status == IAM_STATUS_ACTIVE;

		if (lc.rec.present || role == KEY_CURRENT || role == KEY_KEPT)
			sk[i].role = record_role_name(role);
		if (on && crit_age && sk[i].age_days > crit_age)
			warn(&ws, "key-old", 2,
			     "access key %s is %ld days old (over %ld); rotate "
			     "it with '%s'",
			     sk[i].id, sk[i].age_days, crit_age,
			     lc_cmd(&lc, "rotate"));
		else if (on && sk[i].age_days > warn_age)
			warn(&ws, "key-old", 1,
			     "access key %s is %ld days old (over %ld); rotate "
			     "it with '%s'",
			     sk[i].id, sk[i].age_days, warn_age,
			     lc_cmd(&lc, "rotate"));
		if (on && !sk[i].last_used && sk[i].age_days > UNUSED_DAYS &&
		    role != KEY_KEPT)
			warn(&ws, "unused-key", 1,
			     "access key %s was made %ld days ago and IAM shows "
			     "no use of it: does the app have its settings?",
			     sk[i].id, sk[i].age_days);
		if (role == KEY_IN_FLIGHT)
			warn(&ws, "unrecorded-key", 1,
			     "access key %s has no delivery record: a sesctl "
			     "run may be delivering it now; if not, its secret "
			     "was lost, and after %d minutes the next '%s' "
			     "deletes it",
			     sk[i].id, RECORD_GRACE_SECONDS / 60,
			     lc_cmd(&lc, "rotate"));
		else if (role == KEY_LEGACY && lc.rec.present)
			warn(&ws, "unrecorded-key", 1,
			     "access key %s has no delivery record and no "
			     "recorded key exists; sesctl takes it for the "
			     "app's and deletes nothing; '%s' records a new one",
			     sk[i].id, lc_cmd(&lc, "rotate"));
		else if (role == KEY_LOST)
			warn(&ws, "lost-key", 1,
			     "access key %s has no delivery record and nobody "
			     "holds its secret; the next '%s' deletes it",
			     sk[i].id, lc_cmd(&lc, "rotate"));
	}
	if (active > 1)
		warn(&ws, "two-active-keys", 1,
		     "two active access keys; once every app uses the newer "
		     "one, run '%s'",
		     lc_cmd(&lc, "rotate --finish"));
	if (inactive > 0)
		warn(&ws, "inactive-key", 1,
		     "an inactive access key lingers; '%s' deletes it",
		     lc_cmd(&lc, "rotate --finish"));
	if (keys.count == 0)
		warn(&ws, "no-key", 2,
		     "no access key, so no SMTP password works; '%s' makes one",
		     lc_cmd(&lc, "rotate"));
	if (!r.policy_present)
		warn(&ws, "policy-missing", 2,
		     "no inline policy '%s': SES refuses this user's mail",
		     POLICY_NAME);
	else if (!r.policy_matches)
		warn(&ws, "policy-drift", 1,
		     "policy '%s' was changed outside sesctl (drift): %s",
		     POLICY_NAME, desc);
	if (!lc_is_managed(&u.user))
		warn(&ws, "not-managed", 1, "not managed by sesctl (no tag %s=%s)",
		     LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE);

	r.user = u.user.user_name[0] ? u.user.user_name : lc.user;
	r.arn = u.user.arn;
	r.path = u.user.path;
	r.created = u.user.create_date.present ? u.user.create_date.iso : NULL;
	r.managed = lc_is_managed(&u.user);
	for (i = 0; i < u.user.tag_count && i < 64; i++) {
		tag_keys[i] = u.user.tags[i].key;
		tag_values[i] = u.user.tags[i].value;
	}
	r.tag_keys = tag_keys;
	r.tag_values = tag_values;
	r.n_tags = i;
	r.policy_name = POLICY_NAME;
	r.policy_desc = r.policy_present ? desc : NULL;
	r.keys = sk;
	r.n_keys = keys.count;
	if (!lc.regions_given && lc.rec.present && lc.rec.n_regions) {
		const char *rg[RECORD_REGIONS_MAX];

		for (i = 0; i < lc.rec.n_regions; i++)
			rg[i] = lc.rec.regions[i];
		TRY(lc_set_regions(&lc, rg, lc.rec.n_regions));
	}
	if (lc.n_regions &&
	    region_smtp_host(lc.regions[0], host, sizeof(host)) == SESCTL_OK) {
		r.region = lc.regions[0];
		r.smtp_host = host;
		r.smtp_port = SMTP_PORT_STARTTLS;
	}
	r.warnings = ws.w;
	r.n_warnings = ws.n;
	ctx->check_status = ws.worst;

	if (check) {
		TRY(print_check(ctx, &r, &ws, lc.rec.current, warn_age,
				crit_age));
		goto out;
	}
	if (prom) {
		TRY(print_prometheus(ctx, &r, &ws, &keys, used, now));
		goto out;
	}

	if (json) {
		TRY(output_status_json(&r, &doc));
		TRY(ctx_write_out(ctx, doc, strlen(doc)));
		goto out;
	}
	add(t, "user", "%s", r.user);
	add(t, "arn", "%s", r.arn);
	add(t, "created", "%s", r.created ? r.created : "-");
	{
		char tags[1024] = "";
		size_t used_len = 0;

		for (i = 0; i < r.n_tags && used_len < sizeof(tags); i++) {
			int n;

			/* The record has a line of its own. */
			if (strncmp(r.tag_keys[i], "Sesctl", 6) == 0 &&
			    strcmp(r.tag_keys[i], LC_TAG_NAME) != 0)
				continue;
			n = snprintf(tags + used_len, sizeof(tags) - used_len,
				     "%s%s=%s", used_len ? ", " : "",
				     r.tag_keys[i], r.tag_values[i]);
			if (n > 0)
				used_len += (size_t)n;
		}
		add(t, "tags", "%s", used_len ? tags : "-");
	}
	if (lc.rec.present) {
		char regions[RECORD_REGIONS_MAX * (REGION_NAME_MAX + 1) + 1] =
			"";

		for (i = 0; i < lc.rec.n_regions; i++) {
			strcat(regions, i ? " " : "");
			strcat(regions, lc.rec.regions[i]);
		}
		add(t, "delivered", "key %s, regions %s, format %s",
		    lc.rec.current[0] ? lc.rec.current : "-",
		    regions[0] ? regions : "-",
		    lc.rec.format[0] ? lc.rec.format : "-");
	}
	if (r.policy_present)
		add(t, "policy", "%s: %s%s", POLICY_NAME, desc,
		    r.policy_matches ? "" : " (changed outside sesctl)");
	else
		add(t, "policy", "%s: missing", POLICY_NAME);
	for (i = 0; i < r.n_keys; i++) {
		char last[160];

		if (sk[i].last_used)
			snprintf(last, sizeof(last), "last used %s (%s, %s)",
				 sk[i].last_used, sk[i].last_service,
				 sk[i].last_region);
		else
			snprintf(last, sizeof(last), "never used");
		add(t, "key", "%s %s, %s%screated %s (%ld day%s old), %s",
		    sk[i].id, sk[i].status, sk[i].role ? sk[i].role : "",
		    sk[i].role ? ", " : "", sk[i].created ? sk[i].created : "-",
		    sk[i].age_days, sk[i].age_days == 1 ? "" : "s", last);
	}
	if (r.smtp_host)
		add(t, "smtp", "%s port %d (STARTTLS) or %d (TLS), region %s",
		    r.smtp_host, SMTP_PORT_STARTTLS, SMTP_PORT_TLS, r.region);
	for (i = 0; i < r.n_warnings; i++)
		add(t, "warning", "%s%s: %s",
		    ws.w[i].severity[0] == 'c' ? "CRITICAL " : "",
		    ws.w[i].code, ws.w[i].message);
	TRY(ctx_write_out(ctx, t->buf, t->len));
out:
	free(doc);
	free(t);
	free(sk);
	if (used)
		for (i = 0; i < keys.count; i++)
			iam_access_key_last_used_release(&used[i]);
	free(used);
	free(key_reads);
	iam_access_key_list_release(&keys);
	iam_user_policy_release(&pol);
	iam_user_result_release(&u);
	lc_close(&lc);
	return rc;
}
