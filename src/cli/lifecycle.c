/* lifecycle.c - what the IAM-changing commands share (see lifecycle.h). */
#include "sesctl/cli/lifecycle.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/smtp/credfile.h"
#include "sesctl/base/interrupt.h"
#include "sesctl/smtp/smtp_pw.h"
#include "sesctl/base/hook.h"

/* IAM user names: [\w+=,.@-]+ */
static bool valid_user_chars(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_+=,.@-", *s))
			return false;
	return true;
}

static sesctl_err lc_names(struct lc *lc)
{
	const char *name = opts_get(lc->o, OPT_NAME);
	const char *user = opts_get(lc->o, OPT_USER_NAME);
	struct err_info *ei = &lc->ctx->err;
	int n;

	if (name && user)
		return err_set(ei, SESCTL_ERR_USAGE,
			       "--name and --user-name exclude each other: "
			       "--name NAME means user 'sesctl-smtp-NAME', "
			       "--user-name sets the whole name");
	if (user) {
		if (!valid_user_chars(user) || strlen(user) > LC_USER_MAX)
			return err_set(ei, SESCTL_ERR_USAGE,
				       "invalid --user-name '%s': IAM user "
				       "names are 1 to %d of A-Z a-z 0-9 and "
				       "_+=,.@-",
				       user, LC_USER_MAX);
		n = snprintf(lc->user, sizeof(lc->user), "%s", user);
		snprintf(lc->name, sizeof(lc->name), "%s", user);
	} else if (name) {
		/* The name is also the SesctlName tag's value, where IAM
		 * allows no ','. */
		if (!valid_user_chars(name) || strchr(name, ','))
			return err_set(ei, SESCTL_ERR_USAGE,
				       "invalid --name '%s': use A-Z a-z 0-9 "
				       "and _+=.@- only",
				       name);
		n = snprintf(lc->user, sizeof(lc->user), LC_USER_PREFIX "-%s",
			     name);
		if (n < 0 || (size_t)n >= sizeof(lc->user))
			return err_set(ei, SESCTL_ERR_USAGE,
				       "--name '%s' is too long: the IAM user "
				       "name '" LC_USER_PREFIX "-%s' may have "
				       "at most %d characters",
				       name, name, LC_USER_MAX);
		snprintf(lc->name, sizeof(lc->name), "%s", name);
	} else {
		n = snprintf(lc->user, sizeof(lc->user), LC_USER_PREFIX);
		snprintf(lc->name, sizeof(lc->name), "default");
	}
	return n > 0 ? SESCTL_OK : SESCTL_ERR_FAIL;
}

/* The credentials are resolved and sesctl holds its own copy of what it
 * needs: blank the secrets in our environment block, which other
 * processes of the user can read in /proc/PID/environ and which a core
 * dump would hold.  Whichever provider answered (the environment's keys
 * may also have served an assume role's credential_source, the container
 * token the container endpoint), none of them is read again. */
static void wipe_env_secrets(void)
{
	static const char *const vars[] = { "AWS_SECRET_ACCESS_KEY",
					    "AWS_SESSION_TOKEN",
					    "AWS_SECURITY_TOKEN",
					    "AWS_CONTAINER_AUTHORIZATION_TOKEN" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		char *v = getenv(vars[i]);

		if (v)
			secret_wipe(v, strlen(v));
	}
}

sesctl_err lc_open(struct lc *lc, struct ctx *ctx, const struct opts *o,
		   unsigned flags)
{
	struct creds_opts co = { opts_get(o, OPT_PROFILE), NULL, NULL };
	struct creds_region reg;
	struct iam_config cfg;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	memset(lc, 0, sizeof(*lc));
	lc->ctx = ctx;
	lc->o = o;
	creds_init(&lc->cr);
	TRY(lc_names(lc));
	lc->plan_json = opts_has(o, OPT_DRY_RUN) && opts_get(o, OPT_FORMAT) &&
			strcmp(opts_get(o, OPT_FORMAT), "json") == 0;

	if (flags & (LC_NEEDS_REGION | LC_REGION_LATER)) {
		const char *f = opts_get(o, OPT_FORMAT);

		lc->fmt = output_lookup(f ? f : "env");
		ENSURE(lc->fmt,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--format %s is not an SMTP settings format; use "
			       "env, export, dotenv, json, postfix or "
			       "k8s-secret",
			       f));
	}
	/* The shape of Kubernetes names is checked before anything else;
	 * whether they apply, once the format is known (lc_k8s_names). */
	TRY(lc_check_k8s_opts(ctx, o));

	/* Regions: every --region, else the one of the environment or
	 * profile.  Only commands that make SMTP settings need one; the
	 * others just use it to pick the partition. */
	for (i = 0; i < opts_count(o, OPT_REGION); i++)
		lc->regions[lc->n_regions++] = o->val[OPT_REGION][i];
	lc->regions_given = lc->n_regions > 0;
	if (lc->n_regions == 0) {
		co.region = NULL;
		rc = creds_region(ctx, &co, &reg);
		if (rc == SESCTL_OK) {
			snprintf(lc->region_buf, sizeof(lc->region_buf), "%s",
				 reg.name);
			lc->regions[lc->n_regions++] = lc->region_buf;
		} else if (flags & LC_NEEDS_REGION) {
			goto out;
		} else {
			rc = SESCTL_OK;
			ctx_debug(ctx, "no region given: using the aws "
				       "partition's IAM");
		}
	}
	TRY(lc_check_regions(lc));
	lc->partition = region_partition(lc->n_regions ? lc->regions[0] : NULL);
	for (i = 1; i < lc->n_regions; i++)
		ENSURE(strcmp(region_partition(lc->regions[i])->name,
			      lc->partition->name) == 0,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "regions '%s' and '%s' are in different AWS "
			       "partitions, which have separate IAM users; run "
			       "sesctl once per partition",
			       lc->regions[0], lc->regions[i]));

	co.region = lc->n_regions ? lc->regions[0] : NULL;
	{
		/* STS (assume-role profiles) and https metadata endpoints
		 * trust the same CAs as IAM. */
		struct creds_net_opts net = { opts_get(o, OPT_CA_BUNDLE), 0, 0,
					      false };

		TRY(creds_resolve_net(ctx, &co, &net, &lc->cr));
	}
	ctx_debug(ctx, "caller credentials from %s (access key %s)",
		  lc->cr.source, lc->cr.access_key_id);
	wipe_env_secrets();

	memset(&cfg, 0, sizeof(cfg));
	cfg.region = lc->n_regions ? lc->regions[0] : NULL;
	cfg.endpoint_url = opts_get(o, OPT_ENDPOINT_URL);
	cfg.ca_bundle = opts_get(o, OPT_CA_BUNDLE);
	cfg.access_key_id = lc->cr.access_key_id;
	cfg.secret_key = &lc->cr.secret_key;
	cfg.session_token = lc->cr.session_token.len ? &lc->cr.session_token :
						       NULL;
	TRY(iam_client_init(&lc->iam, ctx, &cfg));
	lc->iam_open = true;
	snprintf(lc->status_cmd, sizeof(lc->status_cmd), "%s",
		 lc_cmd(lc, "status"));
	lc->iam.status_cmd = lc->status_cmd;
out:
	return rc;
}

void lc_close(struct lc *lc)
{
	if (lc->locked)
		runlock_release(&lc->lock);
	lc->locked = false;
	if (lc->iam_open) {
		ctx_debug(lc->ctx, "%u IAM request%s on %ld connection%s",
			  lc->iam.aws.requests,
			  lc->iam.aws.requests == 1 ? "" : "s",
			  http_client_connections(lc->iam.aws.http),
			  http_client_connections(lc->iam.aws.http) == 1 ?
				  "" :
				  "s");
		iam_client_release(&lc->iam);
	}
	lc->iam_open = false;
	lc_stores_close(lc);
	creds_release(&lc->cr);
	while (lc->n_plan > 0)
		free(lc->plan[--lc->n_plan]);
	free(lc->plan);
	lc->plan = NULL;
}

size_t lc_managed_tags(const struct lc *lc, struct iam_tag_in tags[2])
{
	tags[0] = (struct iam_tag_in){ LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE };
	tags[1] = (struct iam_tag_in){ LC_TAG_NAME, lc->name };
	/* IAM allows no ',' in a tag value: such a --user-name goes
	 * without. */
	return strchr(lc->name, ',') ? 1 : 2;
}

sesctl_err lc_read_user_keys(struct lc *lc, struct iam_user_result *u,
			     struct iam_access_key_list *keys,
			     struct iam_read rd[2])
{
	rd[0] = (struct iam_read){ .kind = IAM_READ_GET_USER, .user = lc->user,
				   .out = u };
	rd[1] = (struct iam_read){ .kind = IAM_READ_LIST_ACCESS_KEYS,
				   .user = lc->user, .out = keys };
	/* (Each read is looked at on its own.) */
	if (iam_read_many(&lc->iam, rd, 2, 2) != SESCTL_OK)
		memset(&lc->ctx->err, 0, sizeof(lc->ctx->err));
	return iam_read_result(&lc->iam, &rd[0]);
}

sesctl_err lc_adopt(struct lc *lc, bool dry)
{
	struct iam_tag_in tags[2];
	size_t n = lc_managed_tags(lc, tags);
	char text[LC_TAGS_TEXT_MAX];

	if (dry)
		return lc_plan(lc, "TagUser UserName=%s Tags=%s", lc->user,
			       lc_tags_text(tags, n, text, sizeof(text)));
	ctx_info(lc->ctx, "taking over IAM user '%s': tagging it %s=%s",
		 lc->user, LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE);
	return iam_tag_user(&lc->iam, lc->user, tags, n);
}

bool lc_is_managed(const struct iam_user *u)
{
	const char *v = lc_tag(u, LC_TAG_MANAGED_BY);

	return v && strcmp(v, LC_TAG_MANAGED_VALUE) == 0;
}

const char *lc_tag(const struct iam_user *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->tag_count; i++)
		if (strcmp(u->tags[i].key, key) == 0)
			return u->tags[i].value;
	return NULL;
}

long lc_newest_key(const struct iam_access_key_list *keys,
		   const char *current)
{
	long best = -1;
	bool tie = false;
	size_t i;

	for (i = 0; current && i < keys->count; i++)
		if (strcmp(keys->items[i].access_key_id, current) == 0)
			return (long)i;
	for (i = 0; i < keys->count; i++) {
		if (best < 0 ||
		    keys->items[i].create_date.t >
			    keys->items[best].create_date.t) {
			best = (long)i;
			tie = false;
		} else if (keys->items[i].create_date.t ==
			   keys->items[best].create_date.t) {
			tie = true;
		}
	}
	return tie ? -1 : best;
}

bool lc_account_of(const char *arn, char *out, size_t size)
{
	const char *p = arn;
	size_t i, len;

	/* arn:partition:iam::ACCOUNT:... */
	for (i = 0; i < 4 && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p)
		return false;
	len = strcspn(p, ":");
	if (len == 0 || len >= size || p[len] != ':')
		return false;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

sesctl_err lc_check_regions(struct lc *lc)
{
	char host[REGION_HOST_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i, j;

	for (i = 0; i < lc->n_regions; i++) {
		TRY(smtp_check_region(lc->ctx, lc->regions[i]));
		/* Commands that make settings (lc->fmt) refuse a region
		 * without an SMTP endpoint, unless told where it is. */
		if (lc->fmt && !opts_has(lc->o, OPT_SMTP_ENDPOINT_URL))
			TRY(smtp_refuse_no_endpoint(
				lc->ctx, lc->regions[i],
				"; if AWS has added one, --verify "
				"--smtp-endpoint-url smtps://HOST:465 proves "
				"it and lets sesctl go on"));
		for (j = 0; j < i; j++)
			ENSURE(strcmp(lc->regions[i], lc->regions[j]) != 0,
			       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				       "region '%s' given twice",
				       lc->regions[i]));
		if (region_smtp_host(lc->regions[i], host, sizeof(host)) ==
		    SESCTL_OK)
			smtp_warn_region(lc->ctx, lc->regions[i], host);
	}
out:
	return rc;
}

sesctl_err lc_check_k8s_opts(struct ctx *ctx, const struct opts *o)
{
	const char *name = opts_get(o, OPT_K8S_NAME);
	const char *ns = opts_get(o, OPT_K8S_NAMESPACE);

	if (name && !output_k8s_name_ok(name, false))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "invalid --k8s-name '%s': a Kubernetes Secret's "
			       "name must be " K8S_SUBDOMAIN_RULE,
			       name);
	if (ns && !output_k8s_name_ok(ns, true))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "invalid --k8s-namespace '%s': a Kubernetes "
			       "namespace must be " K8S_LABEL_RULE,
			       ns);
	return SESCTL_OK;
}

sesctl_err lc_k8s_names(struct lc *lc, const struct smtp_settings *file)
{
	const char *name = opts_get(lc->o, OPT_K8S_NAME);
	const char *ns = opts_get(lc->o, OPT_K8S_NAMESPACE);
	bool k8s = lc->fmt && (lc->fmt->flags & OUTPUT_NEEDS_K8S_NAME);
	bool from_file = file && file->n && file->format == lc->fmt &&
			 file->k8s_name[0];
	sesctl_err rc = SESCTL_OK;

	lc->k8s_name[0] = lc->k8s_namespace[0] = '\0';
	if (!k8s) {
		ENSURE(!name && !ns,
		       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "--%s only applies with --format k8s-secret%s%s%s",
			       name ? "k8s-name" : "k8s-namespace",
			       lc->fmt ? " (the settings are written as '" :
					 "",
			       lc->fmt ? lc->fmt->name : "",
			       lc->fmt ? "')" : ""));
		goto out;
	}
	TRY(lc_check_k8s_opts(lc->ctx, lc->o));
	if (!name)
		name = from_file ? file->k8s_name : lc->user;
	ENSURE(output_k8s_name_ok(name, false),
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "the IAM user name '%s' is not a valid Kubernetes "
		       "Secret name, which must be " K8S_SUBDOMAIN_RULE
		       "; give one with --k8s-name",
		       name));
	if (!ns && from_file)
		ns = file->k8s_namespace;
	(void)str_copy(lc->k8s_name, sizeof(lc->k8s_name), name);
	(void)str_copy(lc->k8s_namespace, sizeof(lc->k8s_namespace),
		       ns ? ns : "");
out:
	return rc;
}

static sesctl_err render_as(struct lc *lc, const struct output_format *fmt,
			    const char *key_id,
			    const struct secret *secret_key,
			    struct secret *out);

sesctl_err lc_render(struct lc *lc, const char *key_id,
		     const struct secret *secret_key, struct secret *out)
{
	return render_as(lc, lc->fmt, key_id, secret_key, out);
}

sesctl_err lc_render_store(struct lc *lc, const char *key_id,
			   const struct secret *secret_key, struct secret *out)
{
	return render_as(lc, output_store_format(), key_id, secret_key, out);
}

static sesctl_err render_as(struct lc *lc, const struct output_format *fmt,
			    const char *key_id,
			    const struct secret *secret_key,
			    struct secret *out)
{
	struct smtp_creds c[OPT_VALUES_MAX];
	struct output_meta meta = { lc->k8s_name[0] ? lc->k8s_name : NULL,
				    lc->k8s_namespace[0] ? lc->k8s_namespace :
							   NULL };
	struct secret pw[OPT_VALUES_MAX];
	char hosts[OPT_VALUES_MAX][REGION_HOST_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; i < OPT_VALUES_MAX; i++)
		pw[i] = (struct secret)SECRET_INIT;
	ENSURE(lc->n_regions > 0 && fmt,
	       err_set(&lc->ctx->err, SESCTL_ERR_FAIL, "no region"));
	for (i = 0; i < lc->n_regions; i++) {
		rc = smtp_pw_v4(secret_key, lc->regions[i], &pw[i]);
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not derive the SMTP password for '%s'",
			       lc->regions[i]));
		TRY(region_smtp_host(lc->regions[i], hosts[i],
				     sizeof(hosts[i])));
		c[i] = (struct smtp_creds){ lc->regions[i], hosts[i],
					    SMTP_PORT_STARTTLS, key_id, &pw[i] };
	}
	rc = output_render(fmt, c, lc->n_regions, &meta, out);
	ENSURE(rc == SESCTL_OK, err_set(&lc->ctx->err, rc,
					"could not format the SMTP settings"));
out:
	for (i = 0; i < OPT_VALUES_MAX; i++)
		secret_free(&pw[i]);
	return rc;
}

sesctl_err lc_write(struct lc *lc, const struct secret *content, bool replace)
{
	const char *path = opts_get(lc->o, OPT_OUTPUT_FILE);

	/* Settings delivered to secret stores are not also printed. */
	if (!path && lc_stores_any(lc))
		return SESCTL_OK;
	if (!path)
		return credfile_write_stdout(lc->ctx, content);
	return replace ? credfile_replace(lc->ctx, path, content) :
			 credfile_create(lc->ctx, path, content);
}

sesctl_err lc_undo_key(struct lc *lc, const char *key_id, sesctl_err why,
		       bool *deleted)
{
	char first[ERR_MSG_MAX];
	sesctl_err rc;

	snprintf(first, sizeof(first), "%s", lc->ctx->err.msg);
	rc = iam_delete_access_key(&lc->iam, lc->user, key_id);
	*deleted = rc == SESCTL_OK || rc == SESCTL_ERR_NOT_FOUND;
	if (*deleted)
		err_set(&lc->ctx->err, why,
			"%s\nthe new access key %s was deleted again, so no "
			"key is left whose secret nobody holds",
			first, key_id);
	else
		err_set(&lc->ctx->err, why,
			"%s\nthe new access key %s could NOT be deleted again "
			"and its secret is lost; delete it with 'aws iam "
			"delete-access-key --user-name %s --access-key-id %s', "
			"or run this command again: the next run deletes it",
			first, key_id, lc->user, key_id);
	return why;
}

/* Whether `id` is a key this run may not delete: recorded, kept, the one
 * it holds, or there before. */
static bool known_key(const char *id, const struct record *r,
		      const struct iam_access_key_list *before,
		      const char *keep)
{
	size_t j;

	if ((keep && strcmp(id, keep) == 0) || strcmp(id, r->current) == 0 ||
	    strcmp(id, r->kept) == 0)
		return true;
	for (j = 0; before && j < before->count; j++)
		if (strcmp(id, before->items[j].access_key_id) == 0)
			return true;
	return false;
}

long lc_clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* `id`, seen just now with no delivery record, is about to be deleted as
 * a key whose secret was lost: wait LC_SETTLE_MS (a signal does not cut
 * it short: the caller looks at interrupt_caught() afterwards), then read
 * the keys and the record again.  *still: it is there, unrecorded, and may
 * go.  Recorded meanwhile: SESCTL_ERR_CONFLICT. */
static sesctl_err settle(struct lc *lc, const char *id, bool *still)
{
	struct iam_access_key_list now;
	struct iam_user_result u;
	struct record fresh;
	long until = lc_clock_ms() + LC_SETTLE_MS, left;
	sesctl_err rc;
	size_t i;

	*still = false;
	memset(&now, 0, sizeof(now));
	memset(&u, 0, sizeof(u));
	memset(&fresh, 0, sizeof(fresh));
	ctx_info(lc->ctx, "access key %s has no delivery record: waiting %ld s "
			  "before deleting it, in case another sesctl run is "
			  "delivering it",
		 id, LC_SETTLE_MS / 1000);
	while ((left = until - lc_clock_ms()) > 0) {
		struct timespec ts = { left / 1000, (left % 1000) * 1000000L };

		(void)nanosleep(&ts, NULL);
	}
	/* The keys, then the record, as lc_drop_new_keys reads them. */
	rc = iam_list_access_keys(&lc->iam, lc->user, &now);
	if (rc == SESCTL_OK)
		rc = iam_get_user(&lc->iam, lc->user, &u);
	if (rc != SESCTL_OK) {
		rc = err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
			     "could not read access key %s of '%s' again before "
			     "deleting it (%s); nothing was deleted: run '%s'",
			     id, lc->user, lc->ctx->err.msg,
			     lc_cmd(lc, "status"));
		goto out;
	}
	record_read(&u.user, &fresh);
	for (i = 0; i < now.count; i++)
		*still |= strcmp(now.items[i].access_key_id, id) == 0;
	if (*still && (strcmp(id, fresh.current) == 0 ||
		       strcmp(id, fresh.kept) == 0)) {
		*still = false;
		rc = err_setk(&lc->ctx->err, SESCTL_ERR_CONFLICT, "key-in-flight",
			      "another sesctl run recorded access key %s of "
			      "'%s' while this run waited to delete it as a key "
			      "whose secret was lost: it is that run's, and "
			      "this run stopped there; '%s' shows what IAM "
			      "holds now",
			      id, lc->user, lc_cmd(lc, "status"));
	}
out:
	iam_access_key_list_release(&now);
	iam_user_result_release(&u);
	return rc;
}

sesctl_err lc_drop_new_keys(struct lc *lc,
			    const struct iam_access_key_list *before,
			    const char *keep, size_t *dropped)
{
	struct iam_access_key_list now;
	struct iam_user_result u;
	struct record fresh;
	sesctl_err rc = SESCTL_OK;
	char ids[2 * (RECORD_KEY_MAX + 2)] = "";
	const char *id;
	size_t i, unknown = 0;

	*dropped = 0;
	memset(&now, 0, sizeof(now));
	memset(&u, 0, sizeof(u));
	memset(&fresh, 0, sizeof(fresh));
	/* The keys, then the record: a key another run recorded by then is
	 * delivered, never ours to delete. */
	rc = iam_list_access_keys(&lc->iam, lc->user, &now);
	if (rc == SESCTL_OK) {
		rc = iam_get_user(&lc->iam, lc->user, &u);
		if (rc == SESCTL_OK)
			record_read(&u.user, &fresh);
	}
	if (rc != SESCTL_OK) {
		rc = err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
			     "could not check whether IAM made an access key "
			     "whose secret never arrived (%s); run '%s'",
			     lc->ctx->err.msg, lc_cmd(lc, "status"));
		goto out;
	}
	for (i = 0; i < now.count; i++) {
		id = now.items[i].access_key_id;
		if (known_key(id, &fresh, before, keep))
			continue;
		if (unknown++ < 2)
			snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids),
				 "%s%s", unknown > 1 ? ", " : "", id);
	}
	/* This run's lost send made one key at most: more are another
	 * run's, on another machine, still to be recorded; which one is
	 * whose cannot be told, so none goes.  One left unrecorded is
	 * deleted by a later run once it is past the grace period. */
	if (unknown > 1) {
		rc = err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			     "another sesctl run is making access keys for '%s' "
			     "at the same time: IAM has %zu keys no run has "
			     "recorded (%s), and this run's CreateAccessKey lost "
			     "its answer, so one of them may be a key whose "
			     "secret nobody holds; none was deleted.  Once the "
			     "other run is done, '%s' shows them; an unrecorded "
			     "key is deleted by the next enable or rotate once "
			     "it is %d minutes old",
			     lc->user, unknown, ids, lc_cmd(lc, "status"),
			     RECORD_GRACE_SECONDS / 60);
		goto out;
	}
	for (i = 0; i < now.count; i++) {
		bool still = false;

		id = now.items[i].access_key_id;
		if (known_key(id, &fresh, before, keep))
			continue;
		rc = settle(lc, id, &still);
		if (rc != SESCTL_OK || !still)
			goto out;
		rc = iam_delete_access_key(&lc->iam, lc->user, id);
		if (rc == SESCTL_ERR_NOT_FOUND)
			rc = SESCTL_OK; /* already gone */
		if (rc != SESCTL_OK) {
			rc = err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
				     "IAM made access key %s, whose secret never "
				     "arrived, and deleting it failed (%s); "
				     "delete it with 'aws iam delete-access-key "
				     "--user-name %s --access-key-id %s'",
				     id, lc->ctx->err.msg, lc->user, id);
			goto out;
		}
		ctx_info(lc->ctx, "deleted access key %s: IAM made it, but its "
				  "secret never arrived",
			 id);
		(*dropped)++;
	}
out:
	iam_access_key_list_release(&now);
	iam_user_result_release(&u);
	return rc;
}


/* ---- hints ------------------------------------------------------------ */

/* Append " --opt value" (value shell-quoted when it needs it). */
static void hint_add(char *buf, size_t size, const char *opt, const char *v)
{
	size_t len = strlen(buf);
	const char *p;
	bool plain = *v != '\0';

	for (p = v; *p && plain; p++)
		plain = isalnum((unsigned char)*p) || strchr("_./:@%+=,-", *p);
	if (plain) {
		snprintf(buf + len, size - len, " --%s %s", opt, v);
		return;
	}
	snprintf(buf + len, size - len, " --%s '", opt);
	for (p = v; *p; p++) {
		len = strlen(buf);
		if (*p == '\'')
			snprintf(buf + len, size - len, "'\\''");
		else if (len + 1 < size) {
			buf[len] = *p;
			buf[len + 1] = '\0';
		}
	}
	len = strlen(buf);
	snprintf(buf + len, size - len, "'");
}

const char *lc_cmd(struct lc *lc, const char *sub)
{
	return lc_cmd_user(lc, sub, NULL);
}

const char *lc_cmd_user(struct lc *lc, const char *sub, const char *user)
{
	static const enum opt_id carry[] = { OPT_NAME, OPT_USER_NAME,
					     OPT_PROFILE, OPT_ENDPOINT_URL,
					     OPT_CA_BUNDLE };
	char *buf = lc->hint[lc->hint_next++ % 4];
	size_t i;

	snprintf(buf, LC_HINT_MAX, "sesctl smtp %s", sub);
	if (user)
		hint_add(buf, LC_HINT_MAX, "user-name", user);
	for (i = 0; i < sizeof(carry) / sizeof(carry[0]); i++)
		if (opts_get(lc->o, carry[i]))
			hint_add(buf, LC_HINT_MAX, cli_option(carry[i])->name,
				 opts_get(lc->o, carry[i]));
	/* Regions only where they were given: otherwise the record (or the
	 * environment that gave them) gives them again. */
	for (i = 0; lc->regions_given && i < lc->n_regions; i++)
		hint_add(buf, LC_HINT_MAX, "region", lc->regions[i]);
	return buf;
}

const char *lc_rerun(struct lc *lc, const char *sub)
{
	/* Not carried: what would change what the rerun does. */
	static const enum opt_id skip[] = { OPT_NAME,	     OPT_USER_NAME,
					    OPT_PROFILE,     OPT_ENDPOINT_URL,
					    OPT_CA_BUNDLE,   OPT_REGION,
					    OPT_DRY_RUN,     OPT_FORCE,
					    OPT_FINISH,      OPT_DEBUG,
					    OPT_QUIET,	     OPT_HELP,
					    OPT_VERSION,     OPT_YES };
	const char *base = lc_cmd(lc, sub);
	char *buf = (char *)base;
	size_t n_opts, i, j, k;
	const struct opt_def *defs = cli_options(&n_opts);

	for (i = 0; i < n_opts; i++) {
		bool skipped = false;

		for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
			skipped |= defs[i].id == skip[k];
		if (skipped || !opts_has(lc->o, defs[i].id))
			continue;
		if (!(defs[i].flags & OPT_ARG)) {
			size_t len = strlen(buf);

			snprintf(buf + len, LC_HINT_MAX - len, " --%s",
				 defs[i].name);
			continue;
		}
		for (j = 0; j < opts_count(lc->o, defs[i].id) &&
			    j < OPT_VALUES_MAX;
		     j++)
			hint_add(buf, LC_HINT_MAX, defs[i].name,
				 lc->o->val[defs[i].id][j]);
	}
	return base;
}

/* ---- lock, record, recovery ---------------------------------------- */

sesctl_err lc_lock(struct lc *lc)
{
	sesctl_err rc = runlock_acquire(lc->ctx, lc->iam.aws.url, lc->user,
					&lc->lock);

	lc->locked = rc == SESCTL_OK;
	return rc;
}

sesctl_err lc_set_regions(struct lc *lc, const char *const *regions, size_t n)
{
	size_t i;

	if (n > OPT_VALUES_MAX)
		n = OPT_VALUES_MAX;
	for (i = 0; i < n; i++)
		lc->regions[i] = regions[i];
	lc->n_regions = n;
	return lc_check_regions(lc);
}

sesctl_err lc_read_settings(struct lc *lc, const char *path,
			    struct smtp_settings *out)
{
	struct secret text = SECRET_INIT;
	char source[PATH_MAX + 3];
	sesctl_err rc = SESCTL_OK;

	memset(out, 0, sizeof(*out));
	TRY(credfile_read(lc->ctx, path, LC_SETTINGS_FILE_MAX, &text));
	snprintf(source, sizeof(source), "'%s'", path);
	rc = output_parse(&lc->ctx->err, (const char *)text.p, text.len,
			  source, out);
out:
	secret_free(&text);
	return rc;
}

bool lc_file_names_key(struct lc *lc, const char *path, const char *id)
{
	struct smtp_settings s;
	struct err_info saved = lc->ctx->err;
	bool yes = false;

	if (lc_read_settings(lc, path, &s) == SESCTL_OK)
		yes = s.n > 0 && strcmp(s.item[0].user, id) == 0;
	output_settings_release(&s);
	lc->ctx->err = saved;
	return yes;
}

sesctl_err lc_abs_path(struct lc *lc, const char *path, char *out,
		       size_t size)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int n;

	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (realpath(dir, real))
		n = snprintf(out, size, "%s%s%s", real,
			     strcmp(real, "/") == 0 ? "" : "/", base);
	else if (path[0] == '/')
		n = snprintf(out, size, "%s", path);
	else if (getcwd(real, sizeof(real)))
		n = snprintf(out, size, "%s/%s", real, path);
	else
		n = snprintf(out, size, "%s", path);
	if (n < 0 || (size_t)n >= size)
		return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "the path '%s' is too long", path);
	return SESCTL_OK;
}

sesctl_err lc_check_hook_opts(struct lc *lc)
{
	const char *cmd = opts_get(lc->o, OPT_DEPLOY_HOOK);

	if (!cmd)
		return opts_has(lc->o, OPT_DEPLOY_HOOK_TIMEOUT) ?
			       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				       "--deploy-hook-timeout only applies "
				       "with --deploy-hook") :
			       SESCTL_OK;
	if (!cmd[strspn(cmd, " \t")])
		return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "--deploy-hook is empty: give the command that "
			       "makes the app read its new settings, e.g. "
			       "'systemctl reload postfix'");
	return opts_number(&lc->ctx->err, lc->o, OPT_DEPLOY_HOOK_TIMEOUT, 1,
			   HOOK_MAX_TIMEOUT_S, HOOK_DEFAULT_TIMEOUT_S, "seconds",
			   &lc->hook_timeout_s);
}

sesctl_err lc_deploy_hook(struct lc *lc, const char *key_id)
{
	const char *cmd = opts_get(lc->o, OPT_DEPLOY_HOOK);
	const char *out = opts_get(lc->o, OPT_OUTPUT_FILE);
	char regions[OPT_VALUES_MAX * (REGION_NAME_MAX + 1) + 1] = "";
	char abs_out[PATH_MAX];
	struct hook_var vars[4];
	sesctl_err rc = SESCTL_OK;

	if (!cmd)
		return SESCTL_OK;
	region_join(lc->regions, lc->n_regions, " ", regions, sizeof(regions));
	if (out)
		TRY(lc_abs_path(lc, out, abs_out, sizeof(abs_out)));
	vars[0] = (struct hook_var){ "SESCTL_USER", lc->user };
	vars[1] = (struct hook_var){ "SESCTL_KEY_ID", key_id };
	vars[2] = (struct hook_var){ "SESCTL_REGIONS", regions };
	vars[3] = (struct hook_var){ "SESCTL_OUTPUT_FILE", out ? abs_out : NULL };
	ctx_info(lc->ctx, "running the deploy hook for access key %s", key_id);
	rc = hook_run(lc->ctx, cmd, vars, 4, lc->hook_timeout_s * 1000);
	ENSURE(rc == SESCTL_OK, err_kind(&lc->ctx->err, "deploy-hook-failed"));
	ctx_info(lc->ctx, "the deploy hook succeeded");
out:
	return rc;
}

static void drop_key(struct iam_access_key_list *keys, size_t i)
{
	memmove(&keys->items[i], &keys->items[i + 1],
		(keys->count - i - 1) * sizeof(keys->items[0]));
	keys->count--;
}

/* A key lc_reconcile would delete as undelivered that someone holds all
 * the same: IAM shows it used (the record was edited, or an app was given
 * the settings by hand), or a store hands it out (not asked for a key a
 * dead run of this machine made: this run writes the stores anew).  Then it stays, with a
 * warning, and SESCTL_ERR_CONFLICT says so; SESCTL_OK: delete it. */
static sesctl_err held_anyway(struct lc *lc,
			      const struct iam_access_key_meta *k, bool ours)
{
	struct iam_access_key_last_used lu;
	struct err_info saved;
	sesctl_err rc;

	memset(&lu, 0, sizeof(lu));
	rc = iam_get_access_key_last_used(&lc->iam, k->access_key_id, &lu);
	if (rc == SESCTL_OK && lu.last_used_date.present)
		ctx_warn(lc->ctx, "access key %s has no delivery record, but "
				  "IAM shows it used at %s: someone holds its "
				  "secret, so it stays; see '%s'",
			 k->access_key_id, lu.last_used_date.iso,
			 lc_cmd(lc, "status"));
	if (rc == SESCTL_OK && lu.last_used_date.present)
		rc = SESCTL_ERR_CONFLICT;
	iam_access_key_last_used_release(&lu);
	if (rc != SESCTL_OK || ours)
		return rc; /* ours: this run delivers to the stores anew */
	/* Never the key a store hands out (a switch a failed run left to
	 * the recorded key is made first). */
	saved = lc->ctx->err;
	rc = lc_stores_release_key(lc, k->access_key_id, false);
	if (rc == SESCTL_ERR_CONFLICT) {
		ctx_warn(lc->ctx, "access key %s has no delivery record, but %s",
			 k->access_key_id, lc->ctx->err.msg);
		lc->ctx->err = saved;
	}
	return rc;
}

sesctl_err lc_reconcile(struct lc *lc, struct iam_access_key_list *keys,
			char *delivered, size_t *in_flight)
{
	const struct journal *j = &lc->lock.prev;
	time_t now = ctx_now(lc->ctx);
	sesctl_err rc = SESCTL_OK;
	size_t i;

	delivered[0] = '\0';
	*in_flight = 0;
	for (i = 0; i < keys->count;) {
		const struct iam_access_key_meta *k = &keys->items[i];
		enum key_role role = record_role_in(&lc->rec, keys, k, now);
		bool ours = lc->locked &&
			    journal_made(j, k->access_key_id, k->create_date.t);
		const char *why;

		if (role == KEY_CURRENT || role == KEY_KEPT ||
		    (role == KEY_LEGACY && !ours)) {
			i++;
			continue;
		}
		if (ours && j->output[0] &&
		    lc_file_names_key(lc, j->output, k->access_key_id)) {
			/* The dead run wrote the settings and died before
			 * it recorded them: the app may hold them now. */
			snprintf(delivered, RECORD_KEY_MAX + 1, "%s",
				 k->access_key_id);
			i++;
			continue;
		}
		if (!ours && role == KEY_IN_FLIGHT) {
			(*in_flight)++;
			i++;
			continue;
		}
		if (opts_get(lc->o, OPT_OUTPUT_FILE) &&
		    lc_file_names_key(lc, opts_get(lc->o, OPT_OUTPUT_FILE),
				      k->access_key_id)) {
			/* The file this run replaces holds it: an app may
			 * send with it, record or not. */
			i++;
			continue;
		}
		rc = held_anyway(lc, k, ours);
		if (rc == SESCTL_ERR_CONFLICT) {
			rc = SESCTL_OK;
			i++;
			continue;
		}
		TRY(rc);
		if (ours) {
			/* Made since the dead run began, so perhaps by a
			 * run on another machine, about to record it. */
			bool still = false;

			TRY(settle(lc, k->access_key_id, &still));
			if (!still) {
				drop_key(keys, i);
				continue;
			}
		}
		why = ours ? "an interrupted sesctl run made it and never "
			     "delivered its settings" :
			     "it has no delivery record and is older than the "
			     "grace period, so its secret was never delivered";
		rc = iam_delete_access_key(&lc->iam, lc->user, k->access_key_id);
		if (rc == SESCTL_ERR_NOT_FOUND)
			rc = SESCTL_OK;
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not delete access key %s (%s): %s",
			       k->access_key_id, why, lc->ctx->err.msg));
		ctx_info(lc->ctx, "deleted access key %s: %s",
			 k->access_key_id, why);
		drop_key(keys, i);
	}
out:
	return rc;
}

#define LC_RECORD_REGIONS_MAX (RECORD_REGIONS_MAX * (REGION_NAME_MAX + 1) + 1)

/* The tags of the delivery record (record_tags) with lc's regions and
 * format, or the recorded ones when this run delivers nothing. */
static size_t record_tags_of(const struct lc *lc, const char *current,
			     const char *kept, struct iam_tag_in tags[6],
			     char regions[LC_RECORD_REGIONS_MAX],
			     char secrets[RECORD_STORES_MAX + 1],
			     char ssm[RECORD_STORES_MAX + 1])
{
	const char *rec_regions[RECORD_REGIONS_MAX];
	const char *const *rg = lc->regions;
	const char *fmt = lc->fmt ? lc->fmt->name : "env";
	size_t n_rg = lc->n_regions, i;

	if (!lc->fmt && lc->rec.present) {
		/* This run delivers nothing (--finish): what was delivered
		 * stays recorded. */
		for (i = 0; i < lc->rec.n_regions; i++)
			rec_regions[i] = lc->rec.regions[i];
		rg = rec_regions;
		n_rg = lc->rec.n_regions;
		fmt = lc->rec.format[0] ? lc->rec.format : "env";
	}
	n_rg = record_tags(current, kept, rg, n_rg, fmt, tags, regions,
			   LC_RECORD_REGIONS_MAX);
	/* The secrets: this run's, else the recorded ones (checked to fit
	 * by lc_stores_tag when the run began). */
	if (lc_stores_tag(lc, secrets, RECORD_STORES_MAX + 1) != SESCTL_OK ||
	    !secrets[0])
		snprintf(secrets, RECORD_STORES_MAX + 1, "%s",
			 lc->rec.secrets);
	if (secrets[0])
		tags[n_rg++] = (struct iam_tag_in){ RECORD_TAG_SECRETS,
						    secrets };
	lc_stores_ssm_tag(lc, ssm, RECORD_STORES_MAX + 1);
	if (!ssm[0])
		snprintf(ssm, RECORD_STORES_MAX + 1, "%s", lc->rec.ssm);
	if (ssm[0])
		tags[n_rg++] = (struct iam_tag_in){ RECORD_TAG_SSM, ssm };
	return n_rg;
}

sesctl_err lc_plan_record(struct lc *lc, const char *current,
			  const char *kept)
{
	struct iam_tag_in tags[6];
	char regions[LC_RECORD_REGIONS_MAX], text[LC_TAGS_TEXT_MAX];
	char secrets[RECORD_STORES_MAX + 1], ssm[RECORD_STORES_MAX + 1];
	size_t n = record_tags_of(lc, current, kept, tags, regions, secrets,
				  ssm);
	sesctl_err rc;

	TRY(lc_plan(lc, "# then record the delivery on the user"));
	TRY(lc_plan(lc, "TagUser UserName=%s Tags=%s", lc->user,
		    lc_tags_text(tags, n, text, sizeof(text))));
out:
	return rc;
}

sesctl_err lc_record(struct lc *lc, const char *current, const char *kept)
{
	struct iam_tag_in tags[6];
	char regions[LC_RECORD_REGIONS_MAX];
	char secrets[RECORD_STORES_MAX + 1], ssm[RECORD_STORES_MAX + 1];
	size_t n = record_tags_of(lc, current, kept, tags, regions, secrets,
				  ssm);
	sesctl_err rc;

	rc = iam_tag_user(&lc->iam, lc->user, tags, n);
	if (rc != SESCTL_OK)
		return err_set(&lc->ctx->err, rc,
			       "could not record access key %s as delivered "
			       "(tag %s on '%s'): %s",
			       current, RECORD_TAG_CURRENT, lc->user,
			       lc->ctx->err.msg);
	snprintf(lc->rec.current, sizeof(lc->rec.current), "%s", current);
	snprintf(lc->rec.kept, sizeof(lc->rec.kept), "%s", kept ? kept : "");
	lc->rec.present = true;
	return SESCTL_OK;
}

/* lc_create_key, its first CreateAccessKey already made (ending in
 * `made_rc`, with lc->iam as it left it) when `made`. */
static sesctl_err create_key(struct lc *lc,
			     const struct iam_access_key_list *before,
			     const char *rerun, struct iam_access_key *key,
			     bool made, sesctl_err made_rc)
{
	sesctl_err rc = SESCTL_OK;
	int attempt;

	for (attempt = 1;; attempt++) {
		size_t dropped = 0;

		rc = attempt == 1 && made ?
			     made_rc :
			     iam_create_access_key(&lc->iam, lc->user, key);
		if (rc == SESCTL_OK && !lc->iam.outcome_unknown)
			return SESCTL_OK;
		if (rc == SESCTL_OK) {
			/* libcurl sent it twice: the first send may have
			 * made a key too.  Keep the one whose secret came. */
			if (lc_drop_new_keys(lc, before, key->access_key_id,
					     &dropped) != SESCTL_OK)
				ctx_warn(lc->ctx, "%s", lc->ctx->err.msg);
			return SESCTL_OK;
		}
		if (!lc->iam.outcome_unknown)
			return rc;
		/* The answer was lost: read back.  A key IAM made now has
		 * a secret nobody holds: delete it.  We hold the run lock,
		 * so no other run of this machine made it; a run on another
		 * machine records its key within seconds and would see it
		 * gone before it retires anything. */
		{
			char first[ERR_MSG_MAX];

			snprintf(first, sizeof(first), "%s", lc->ctx->err.msg);
			rc = lc_drop_new_keys(lc, before, NULL, &dropped);
			if (rc != SESCTL_OK)
				return err_set(&lc->ctx->err,
					       rc == SESCTL_ERR_CONFLICT ?
						       rc :
						       SESCTL_ERR_NETWORK,
					       "%s\n%s", first,
					       lc->ctx->err.msg);
			ctx_info(lc->ctx, "CreateAccessKey lost its answer; IAM "
					  "%s",
				 dropped ? "had made the key, and sesctl "
					   "deleted it again" :
					   "had not made the key");
			if (attempt >= 2 || interrupt_caught())
				return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
					       "%s\nno new key is left behind; "
					       "run '%s' again",
					       first, rerun);
		}
		iam_access_key_release(key);
		memset(key, 0, sizeof(*key));
	}
}

sesctl_err lc_create_key(struct lc *lc,
			 const struct iam_access_key_list *before,
			 const char *rerun, struct iam_access_key *key)
{
	return create_key(lc, before, rerun, key, false, SESCTL_OK);
}

sesctl_err lc_create_key_with_policy(struct lc *lc, const char *policy_name,
				     const char *document, const char *rerun,
				     struct iam_access_key *key)
{
	struct iam_outcome pol;
	sesctl_err rc;
	size_t dropped = 0;
	bool deleted = false;

	rc = iam_put_user_policy_create_key(&lc->iam, lc->user, policy_name,
					    document, key, &pol);
	if (pol.rc == SESCTL_OK)
		return create_key(lc, NULL, rerun, key, true, rc);
	/* The policy is not written: no key of this run may go out.  A key
	 * made beside it is deleted again (its secret is here, nobody else
	 * has it); one whose answer was lost is looked for. */
	if (rc == SESCTL_OK) {
		bool twice = lc->iam.outcome_unknown;
		char first[ERR_MSG_MAX];

		err_set(&lc->ctx->err, pol.rc, "%s", pol.err.msg);
		rc = lc_undo_key(lc, key->access_key_id, pol.rc, &deleted);
		/* libcurl sent it twice: the first send may have made a key
		 * too, whose secret never came. */
		snprintf(first, sizeof(first), "%s", lc->ctx->err.msg);
		if (deleted && twice &&
		    lc_drop_new_keys(lc, NULL, NULL, &dropped) != SESCTL_OK) {
			deleted = false;
			err_set(&lc->ctx->err, pol.rc, "%s\n%s", first,
				lc->ctx->err.msg);
		} else {
			err_set(&lc->ctx->err, pol.rc, "%s", first);
		}
		lc->iam.outcome_unknown = !deleted;
		lc->iam.last_error = pol.error;
		iam_access_key_release(key);
		memset(key, 0, sizeof(*key));
		return rc;
	}
	if (lc->iam.outcome_unknown) {
		if (lc_drop_new_keys(lc, NULL, NULL, &dropped) != SESCTL_OK)
			return err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
				       "%s\n%s", pol.err.msg,
				       lc->ctx->err.msg);
		lc->iam.outcome_unknown = false;
	}
	lc->iam.last_error = pol.error;
	return err_set(&lc->ctx->err, pol.rc, "%s", pol.err.msg);
}
