/* lifecycle.c - what the IAM-changing commands share (see lifecycle.h). */
#include "sesctl/lifecycle.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/credfile.h"
#include "sesctl/smtp_pw.h"

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
		if (!valid_user_chars(name))
			return err_set(ei, SESCTL_ERR_USAGE,
				       "invalid --name '%s': use A-Z a-z 0-9 "
				       "and _+=,.@- only",
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

	if (flags & LC_NEEDS_REGION) {
		const char *f = opts_get(o, OPT_FORMAT);

		lc->fmt = output_lookup(f ? f : "env");
		ENSURE(lc->fmt,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--format %s is not an SMTP settings format; use "
			       "env, export, dotenv, json or postfix",
			       f));
	}

	/* Regions: every --region, else the one of the environment or
	 * profile.  Only commands that make SMTP settings need one; the
	 * others just use it to pick the partition. */
	for (i = 0; i < opts_count(o, OPT_REGION); i++)
		lc->regions[lc->n_regions++] = o->val[OPT_REGION][i];
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
out:
	return rc;
}

void lc_close(struct lc *lc)
{
	if (lc->iam_open) {
		ctx_debug(lc->ctx, "%u IAM request%s on %ld connection%s",
			  lc->iam.requests, lc->iam.requests == 1 ? "" : "s",
			  http_client_connections(lc->iam.http),
			  http_client_connections(lc->iam.http) == 1 ? "" : "s");
		iam_client_release(&lc->iam);
	}
	lc->iam_open = false;
	creds_release(&lc->cr);
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

sesctl_err lc_render(struct lc *lc, const char *key_id,
		     const struct secret *secret_key, struct secret *out)
{
	struct smtp_creds c[OPT_VALUES_MAX];
	struct secret pw[OPT_VALUES_MAX];
	char hosts[OPT_VALUES_MAX][REGION_HOST_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; i < OPT_VALUES_MAX; i++)
		pw[i] = (struct secret)SECRET_INIT;
	ENSURE(lc->n_regions > 0 && lc->fmt,
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
	rc = output_render(lc->fmt, c, lc->n_regions, out);
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

	if (!path)
		return credfile_write_stdout(lc->ctx, content);
	return replace ? credfile_replace(lc->ctx, path, content) :
			 credfile_create(lc->ctx, path, content);
}

sesctl_err lc_undo_key(struct lc *lc, const char *key_id, sesctl_err why)
{
	char first[ERR_MSG_MAX];
	sesctl_err rc;

	snprintf(first, sizeof(first), "%s", lc->ctx->err.msg);
	rc = iam_delete_access_key(&lc->iam, lc->user, key_id);
	if (rc == SESCTL_OK || rc == SESCTL_ERR_NOT_FOUND)
		err_set(&lc->ctx->err, why,
			"%s\nthe new access key %s was deleted again, so no "
			"key is left whose secret nobody holds",
			first, key_id);
	else
		err_set(&lc->ctx->err, why,
			"%s\nthe new access key %s could NOT be deleted again "
			"and its secret is lost; delete it with 'aws iam "
			"delete-access-key --user-name %s --access-key-id %s' "
			"or 'sesctl smtp rotate --finish'",
			first, key_id, lc->user, key_id);
	return why;
}

sesctl_err lc_drop_new_keys(struct lc *lc,
			    const struct iam_access_key_list *before,
			    const char *keep, size_t *dropped)
{
	struct iam_access_key_list now;
	sesctl_err rc = SESCTL_OK;
	size_t i, j;

	*dropped = 0;
	memset(&now, 0, sizeof(now));
	rc = iam_list_access_keys(&lc->iam, lc->user, &now);
	if (rc != SESCTL_OK) {
		rc = err_set(&lc->ctx->err, SESCTL_ERR_NETWORK,
			     "could not check whether IAM made an access key "
			     "whose secret never arrived (%s); run 'sesctl "
			     "smtp status'",
			     lc->ctx->err.msg);
		goto out;
	}
	for (i = 0; i < now.count; i++) {
		const char *id = now.items[i].access_key_id;
		bool known = keep && strcmp(id, keep) == 0;

		for (j = 0; before && j < before->count && !known; j++)
			known = strcmp(id, before->items[j].access_key_id) == 0;
		if (known)
			continue;
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
	return rc;
}

sesctl_err lc_plan(struct lc *lc, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SESCTL_ERR_FAIL;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	return ctx_write_out(lc->ctx, line, (size_t)n);
}
