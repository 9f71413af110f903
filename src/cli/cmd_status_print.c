/* cmd_status_print.c - the outputs of sesctl smtp status: one user as
 * text, --all as a table, --check's one line (monitoring plugin style)
 * and prometheus's text format; all in a buffer that grows (up to
 * TEXT_MAX), written at once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"

#include "cmd_status_int.h"

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

/* A recorded store ("REGION name ..."): "secrets    Secrets Manager in
 * eu-west-1: app/smtp, other/smtp". */
static void stores_line(struct text *t, const char *label, const char *what,
			const char *rec)
{
	const char *p = rec, *sp;
	int n = 0;

	if (!*rec)
		return;
	sp = strchr(rec, ' ');
	text_add(t, "%-10s %s in %.*s:", label, what,
		 (int)(sp ? (size_t)(sp - rec) : strlen(rec)), rec);
	for (p = sp; p && *p;) {
		size_t len;

		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len)
			text_add(t, "%s %.*s", n++ ? "," : "", (int)len, p);
		p += len;
	}
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
/* Every code status may report, for prometheus's zero-valued series. */
static const char *const warning_codes[] = {
	"key-old",	  "two-active-keys", "inactive-key",   "unused-key",
	"unrecorded-key", "lost-key",	     "no-key",	       "policy-missing",
	"policy-drift",	  "not-managed",     "least-privilege", "console-login",
	"other-credentials", "incomplete",   "no-smtp-endpoint", NULL
};
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
sesctl_err status_print_check(struct ctx *ctx, const struct user_status *us,
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
sesctl_err status_print_check_all(struct ctx *ctx, struct user_status *us,
				   size_t n, int worst)
{
	struct text t = { 0 };
	size_t i, users = 0, bad = 0, crit = 0, warnings = 0, failed = 0;
	const struct user_status *first = NULL, *first_failed = NULL;
	sesctl_err rc;

	for (i = 0; i < n; i++) {
		if (us[i].failed && !failed++)
			first_failed = &us[i];
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
			 check_words[worst], bad, users + failed,
			 first->r.user, w->code, w->message,
			 warnings > 1 || failed ?
				 " (and more: see sesctl smtp status --all)" :
				 "");
	} else if (first_failed) {
		text_add(&t, "SESCTL WARNING - could not read %zu of %zu SMTP "
			     "users: %s: %s",
			 failed, users + failed, first_failed->name,
			 first_failed->fail_msg);
	} else {
		text_add(&t, "SESCTL OK - %zu SMTP user%s", users,
			 users == 1 ? "" : "s");
	}
	text_add(&t, " | users=%zu;;;0 users_warning=%zu;;;0 "
		     "users_critical=%zu;;;0 users_unreadable=%zu;;;0 "
		     "warnings=%zu;;;0\n",
		 users, bad - crit, crit, failed, warnings);
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* Prometheus text format, for node_exporter's textfile collector: every
 * metric family once, with a series per user. */
sesctl_err status_print_prometheus(struct ctx *ctx, struct user_status *us,
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
	for (u = 0, i = 0; u < n; u++)
		i += us[u].failed;
	text_add(&t, "# HELP sesctl_smtp_users_unreadable SMTP users status "
		     "could not read (--all).\n"
		     "# TYPE sesctl_smtp_users_unreadable gauge\n"
		     "sesctl_smtp_users_unreadable %zu\n",
		 i);
	rc = text_write(ctx, &t);
	free(t.buf);
	return rc;
}

/* The text of one user's status. */
sesctl_err status_print_text(struct ctx *ctx, const struct user_status *us)
{
	const struct status_report *r = &us->r;
	struct text t = { 0 };
	size_t i, shown = 0;
	sesctl_err rc;

	add(&t, "user", "%s", r->user);
	add(&t, "arn", "%s", r->arn);
	add(&t, "created", "%s", r->created ? r->created : "-");
	if (strcmp(r->origin, "ses-console") == 0 ||
	    strcmp(r->origin, "elsewhere") == 0)
		add(&t, "origin", "%s; 'sesctl smtp rotate --adopt --user-name "
				  "%s --keep-old' takes it over without "
				  "downtime",
		    r->origin[0] == 's' ? "made by the SES console" :
					  "an SMTP user made elsewhere (its "
					  "policy only sends mail)",
		    r->user);
	else if (strcmp(r->origin, "sesctl") != 0)
		add(&t, "origin", "%s", strcmp(r->origin, "adopted") == 0 ?
						"taken over by sesctl (--adopt)" :
						"not made by sesctl");
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
		stores_line(&t, "secrets", "Secrets Manager", us->rec.secrets);
		stores_line(&t, "ssm", "SSM Parameter Store", us->rec.ssm);
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
sesctl_err status_print_table(struct ctx *ctx, const struct user_status *us,
			       size_t n)
{
	struct text t = { 0 };
	size_t u, i;
	sesctl_err rc;

	text_add(&t, "%-32s %-12s %-11s %4s %6s %10s  %-20s  %s\n", "USER",
		 "NAME", "ORIGIN", "KEYS", "ACTIVE", "OLDEST KEY", "CREATED",
		 "WARNINGS");
	for (u = 0; u < n; u++) {
		const struct status_report *r = &us[u].r;
		const char *name = NULL;
		char oldest[32] = "-";
		size_t active = 0;
		long age = -1;

		if (us[u].failed)
			text_add(&t, "%-32s %-12s %-11s %4s %6s %10s  %-20s  "
				     "unreadable!\n",
				 us[u].name, "-", "-", "-", "-", "-", "-");
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
		text_add(&t, "%-32s %-12s %-11s %4zu %6zu %10s  %-20s  ",
			 r->user, name ? name : "-", r->origin, r->n_keys,
			 active, oldest, r->created ? r->created : "-");
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

