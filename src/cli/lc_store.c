/* lc_store.c - delivering SMTP settings to AWS Secrets Manager and SSM
 * Parameter Store (see the secret stores part of lifecycle.h).
 *
 * The rules are the file's: a store write that fails takes the new key
 * back (enable) or keeps the old one (rotate); the old key is retired only
 * once no store hands it out any more (a secret's AWSCURRENT, the SMTP_USER
 * parameter), and a secret's version it replaced stays as AWSPREVIOUS.  A
 * write whose outcome is unknown is read back (secretsmanager.c, ssm.c).
 */
#include "sesctl/cli/lifecycle.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#define TAG_USER "SesctlUser"

/* The tags that make a store sesctl's for lc's user. */
static void owner_tags(const struct lc *lc, struct aws_tag tags[2])
{
	tags[0] = (struct aws_tag){ LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE };
	tags[1] = (struct aws_tag){ TAG_USER, lc->user };
}

/* The same as a --dry-run plan writes them (lc_tags_text). */
static const char *owner_text(const struct lc *lc, char *buf, size_t size)
{
	struct iam_tag_in t[2] = { { LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE },
				   { TAG_USER, lc->user } };

	return lc_tags_text(t, 2, buf, size);
}

/* Whether the options name stores (added to the recorded ones). */
static bool stores_given(const struct lc *lc)
{
	return opts_has(lc->o, OPT_SECRETS_MANAGER) ||
	       opts_has(lc->o, OPT_SSM_PATH);
}

bool lc_stores_wanted(const struct lc *lc)
{
	return stores_given(lc) || lc->rec.secrets[0] || lc->rec.ssm[0];
}

bool lc_stores_any(const struct lc *lc)
{
	return lc->st.n > 0 || lc->st.ssm_path[0];
}

bool lc_ssm_path_ok(const char *p)
{
	size_t i, n = strlen(p);

	if (n < 2 || n > SSM_NAME_MAX || p[0] != '/' || p[n - 1] == '/' ||
	    strstr(p, "//"))
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || strchr("_.-/", p[i])))
			return false;
	return true;
}

bool lc_arn_region(const char *id, char *out, size_t size)
{
	const char *p = id;
	size_t i, len;

	if (strncmp(id, "arn:", 4) != 0)
		return false;
	for (i = 0; i < 3; i++) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	len = strcspn(p, ":");
	if (len == 0 || len >= size || !p[len])
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/* Add secret `id` unless it is there already. */
static sesctl_err add_secret(struct lc *lc, const char *id, size_t len)
{
	struct lc_stores *st = &lc->st;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strlen(st->s[i].id) == len &&
		    strncmp(st->s[i].id, id, len) == 0)
			return SESCTL_OK;
	if (len == 0 || len > SM_NAME_MAX || memchr(id, ' ', len))
		return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "--secrets-manager '%.*s' is not a secret name "
			       "or ARN (1 to %d characters, no spaces)",
			       (int)(len > 300 ? 300 : len), id, SM_NAME_MAX);
	if (st->n >= LC_STORES_MAX)
		return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "at most %d --secrets-manager secrets",
			       LC_STORES_MAX);
	memcpy(st->s[st->n].id, id, len);
	st->s[st->n++].id[len] = '\0';
	return SESCTL_OK;
}

/* Whether this run writes the settings to its stores: enable and rotate,
 * not disable or rotate --finish (which only read them). */
static bool stores_written(const struct lc *lc)
{
	return !lc->st.lenient && !opts_has(lc->o, OPT_FINISH);
}

/* Whether this run's --secrets-manager names `id`. */
static bool secret_given(const struct lc *lc, const char *id)
{
	unsigned i, n = opts_count(lc->o, OPT_SECRETS_MANAGER);

	for (i = 0; i < n; i++)
		if (strcmp(lc->o->val[OPT_SECRETS_MANAGER][i], id) == 0)
			return true;
	return false;
}

/* "REGION rest" of a record tag: the region into region[size], *rest
 * after it; false when it does not start with a region name. */
static bool split_tag(const char *tag, char *region, size_t size,
		      const char **rest)
{
	const char *p = tag + strspn(tag, " ");
	size_t len = strcspn(p, " ");

	if (len == 0 || len >= size)
		return false;
	memcpy(region, p, len);
	region[len] = '\0';
	*rest = p + len;
	return region_is_well_formed(region);
}

/* The record's secrets (SesctlSecretsManager: "REGION id id...") into
 * st->s, their region into region[size]; false when the tag is not one
 * sesctl writes (cut short, no region, no secret, a name too long). */
static bool rec_secrets(struct lc *lc, char *region, size_t size)
{
	struct lc_stores *st = &lc->st;
	const char *p;
	size_t i, len;

	if (lc->rec.secrets_cut ||
	    !split_tag(lc->rec.secrets, region, size, &p))
		return false;
	for (;; p += len) {
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		if (len > SM_NAME_MAX)
			return false;
		for (i = 0; i < st->n; i++)
			if (strlen(st->s[i].id) == len &&
			    strncmp(st->s[i].id, p, len) == 0)
				break;
		if (i < st->n)
			continue; /* named twice */
		if (st->n >= LC_STORES_MAX)
			return false;
		memcpy(st->s[st->n].id, p, len);
		st->s[st->n++].id[len] = '\0';
	}
	return st->n > 0;
}

/* The record's SSM path (SesctlSsmPath: "REGION /path") into
 * path[path_size], its region into region[size]; false when the tag is
 * not one sesctl writes. */
static bool rec_ssm(const struct lc *lc, char *region, size_t size,
		    char *path, size_t path_size)
{
	const char *p;

	if (lc->rec.ssm_cut || !split_tag(lc->rec.ssm, region, size, &p))
		return false;
	p += strspn(p, " ");
	if (!lc_ssm_path_ok(p) || strlen(p) >= path_size)
		return false;
	memcpy(path, p, strlen(p) + 1);
	return true;
}

/* A record tag sesctl did not write: it may name the stores the app reads,
 * so it never counts as "no stores" (the settings would go to standard
 * output, and the old key be retired while a store still hands it out).
 * Refused, unless the option of that store names the stores anew. */
static sesctl_err bad_tag(struct lc *lc, const char *tag, const char *value,
			  enum opt_id opt, const char *form)
{
	if (!lc->st.lenient && opts_has(lc->o, opt)) {
		ctx_warn(lc->ctx, "the user's %s tag ('%.300s') is not one "
				  "sesctl wrote; --%s replaces it",
			 tag, value, cli_option(opt)->name);
		return SESCTL_OK;
	}
	if (lc->st.lenient)
		return err_set(&lc->ctx->err, SESCTL_ERR_INPUT,
			       "the user's %s tag ('%.300s') is not one sesctl "
			       "wrote ('%s'), so disable cannot tell which "
			       "stores to delete; nothing was changed: put back "
			       "what sesctl recorded, or pass --keep-stores to "
			       "leave the stores as they are",
			       tag, value, form);
	return err_set(&lc->ctx->err, SESCTL_ERR_INPUT,
		       "the user's %s tag ('%.300s') is not one sesctl wrote "
		       "('%s'), so it is not known which stores the app reads; "
		       "nothing was changed: put back what sesctl recorded, or "
		       "name the stores with --secrets-manager NAME or "
		       "--ssm-path PATH to record them anew",
		       tag, value, form);
}

/* Where the run delivers: every recorded store (a store the app reads
 * must never be left handing out a key rotate retires) and the ones the
 * options add; all in one region: the recorded one, else --store-region,
 * an ARN's, or the first --region. */
static sesctl_err stores_ids(struct lc *lc)
{
	struct lc_stores *st = &lc->st;
	const char *opt_region = opts_get(lc->o, OPT_STORE_REGION);
	const char *path = opts_get(lc->o, OPT_SSM_PATH);
	char rec_region[REGION_NAME_MAX + 1] = "", arn_reg[REGION_NAME_MAX + 1];
	char ssm_region[REGION_NAME_MAX + 1] = "";
	char rec_path[SSM_NAME_MAX + 1] = "";
	unsigned i, n = opts_count(lc->o, OPT_SECRETS_MANAGER);
	sesctl_err rc = SESCTL_OK;

	st->n = 0;
	st->region[0] = st->ssm_path[0] = '\0';
	/* The record's stores. */
	if (lc->rec.secrets[0] &&
	    !rec_secrets(lc, rec_region, sizeof(rec_region))) {
		st->n = 0;
		rec_region[0] = '\0';
		TRY(bad_tag(lc, RECORD_TAG_SECRETS, lc->rec.secrets,
			    OPT_SECRETS_MANAGER, "REGION SECRET..."));
	}
	if (lc->rec.ssm[0] && !rec_ssm(lc, ssm_region, sizeof(ssm_region),
				       rec_path, sizeof(rec_path))) {
		ssm_region[0] = rec_path[0] = '\0';
		TRY(bad_tag(lc, RECORD_TAG_SSM, lc->rec.ssm, OPT_SSM_PATH,
			    "REGION /PATH"));
	}
	/* sesctl records both in the stores' one region. */
	ENSURE(!rec_region[0] || !ssm_region[0] ||
		       strcmp(rec_region, ssm_region) == 0,
	       err_set(&lc->ctx->err, SESCTL_ERR_INPUT,
		       "the user's %s tag ('%s') and %s tag ('%s') name two "
		       "regions; sesctl records its stores in one, so these "
		       "are not what it wrote: nothing was changed",
		       RECORD_TAG_SECRETS, lc->rec.secrets, RECORD_TAG_SSM,
		       lc->rec.ssm));
	if (!rec_region[0])
		memcpy(rec_region, ssm_region, sizeof(rec_region));
	snprintf(st->ssm_path, sizeof(st->ssm_path), "%s", rec_path);
	ENSURE(!rec_region[0] || !opt_region ||
		       strcmp(opt_region, rec_region) == 0,
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "the user's stores are recorded in region '%s', not "
		       "'%s': rotate keeps delivering there (to move them, "
		       "disable and enable again)",
		       rec_region, opt_region));
	/* The options' (added to the record's). */
	for (i = 0; i < n; i++) {
		const char *id = lc->o->val[OPT_SECRETS_MANAGER][i];

		TRY(add_secret(lc, id, strlen(id)));
	}
	if (path) {
		ENSURE(lc_ssm_path_ok(path),
		       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "--ssm-path '%s' is not a parameter path like "
			       "/app/smtp (a leading '/', then a-z A-Z 0-9 _ . "
			       "- and '/' between levels, none at the end)",
			       path));
		ENSURE(!rec_path[0] || strcmp(rec_path, path) == 0,
		       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "the user's settings are recorded under SSM path "
			       "'%s', not '%s': sesctl delivers to one path",
			       rec_path, path));
		snprintf(st->ssm_path, sizeof(st->ssm_path), "%s", path);
	}
	/* One region for all. */
	snprintf(st->region, sizeof(st->region), "%s",
		 rec_region[0] ? rec_region :
		 opt_region   ? opt_region :
				"");
	for (i = 0; i < st->n; i++) {
		if (!lc_arn_region(st->s[i].id, arn_reg, sizeof(arn_reg)))
			continue;
		if (!st->region[0])
			snprintf(st->region, sizeof(st->region), "%s",
				 arn_reg);
		ENSURE(strcmp(arn_reg, st->region) == 0,
		       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "secret '%s' is in region '%s', the stores in "
			       "'%s': sesctl delivers to one region "
			       "(--store-region)",
			       st->s[i].id, arn_reg, st->region));
	}
	if (!st->region[0] && lc->n_regions)
		snprintf(st->region, sizeof(st->region), "%s",
			 lc->regions[0]);
	ENSURE(st->region[0],
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "which region are the secret stores in? give "
		       "--store-region or --region"));
	ENSURE(region_is_well_formed(st->region),
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "--store-region '%s' is not a region name (like "
		       "'eu-west-1')",
		       st->region));
out:
	return rc;
}

/* Whether secret `s` is sesctl's for lc's user. */
static bool ours(const struct lc *lc, const struct lc_store *s)
{
	return s->info.tagged_managed && strcmp(s->info.user, lc->user) == 0;
}

/* Whether `name` (a full parameter name) is one of sesctl's: its last
 * level starts with SMTP_. */
static bool smtp_param(const char *name)
{
	const char *base = strrchr(name, '/');

	return base && strncmp(base + 1, "SMTP_", 5) == 0;
}

/* SSM: the client, what is under the path now, and which of its SMTP_*
 * parameters are the user's: those sesctl tagged for it (ManagedBy,
 * SesctlUser), whatever the record says, since anyone with iam:TagUser
 * may point the record at another app's path.  A run that writes refuses
 * others unless --adopt, and a path only the record names that holds no
 * SMTP_* parameter (the settings were never delivered there). */
static sesctl_err ssm_open(struct lc *lc, const struct aws_regional_config *cfg,
			   bool adopt, bool dry)
{
	struct lc_stores *st = &lc->st;
	struct aws_tag tags[2];
	char text[LC_TAGS_TEXT_MAX];
	const char *first = NULL, *foreign = NULL;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	owner_tags(lc, tags);
	TRY(ssm_client_init(&st->ssm, lc->ctx, cfg));
	st->ssm_open = true;
	TRY(ssm_list(&st->ssm, st->ssm_path, &st->before));
	for (i = 0; i < st->before.count; i++) {
		const char *name = st->before.items[i].name;

		st->before_ours[i] = false;
		if (!smtp_param(name))
			continue;
		if (!first)
			first = name;
		TRY(ssm_has_tags(&st->ssm, name, tags, 2,
				 &st->before_ours[i]));
		if (!st->before_ours[i] && !foreign)
			foreign = name;
	}
	if (!stores_written(lc))
		goto out; /* disable and --finish decide per parameter */
	ENSURE(first || opts_has(lc->o, OPT_SSM_PATH),
	       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
		       "the user's %s tag names SSM path '%s' (region '%s'), "
		       "which holds no SMTP_* parameter: sesctl never "
		       "delivered there, and does not write the password "
		       "where only a tag says; nothing was changed (pass "
		       "--ssm-path %s to write the settings there)",
		       RECORD_TAG_SSM, st->ssm_path, st->region,
		       st->ssm_path));
	if (!foreign)
		goto out;
	ENSURE(adopt,
	       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
		       "SSM parameter '%s' exists and was not written by "
		       "sesctl for IAM user '%s' (tags %s=%s, %s=%s); pass "
		       "--adopt to let sesctl write the settings under '%s'",
		       foreign, lc->user, LC_TAG_MANAGED_BY,
		       LC_TAG_MANAGED_VALUE, TAG_USER, lc->user,
		       st->ssm_path));
	st->ssm_adopt = true;
	if (dry)
		TRY(lc_plan(lc, "AddTagsToResource ResourceId=%s/SMTP_* Tags=%s",
			    st->ssm_path, owner_text(lc, text, sizeof(text))));
out:
	return rc;
}

/* Whether secret i is one of 0..i-1 (by its ARN). */
static bool same_as_earlier(const struct lc_stores *st, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (st->s[j].exists &&
		    strcmp(st->s[j].info.arn, st->s[i].info.arn) == 0)
			return true;
	return false;
}

sesctl_err lc_stores_open(struct lc *lc, bool adopt, bool dry)
{
	struct lc_stores *st = &lc->st;
	struct aws_regional_config cfg;
	char text[LC_TAGS_TEXT_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i;
	char tag[RECORD_STORES_MAX + 1];

	if (!lc_stores_wanted(lc))
		return SESCTL_OK;
	TRY(stores_ids(lc));
	TRY(lc_stores_tag(lc, tag, sizeof(tag)));
	ENSURE(strlen(st->region) + 1 + strlen(st->ssm_path) <=
		       RECORD_STORES_MAX,
	       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
		       "--ssm-path is too long to record in the user's %s tag "
		       "(%d characters at most with the region)",
		       RECORD_TAG_SSM, RECORD_STORES_MAX));
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = st->region;
	cfg.ca_bundle = opts_get(lc->o, OPT_CA_BUNDLE);
	cfg.access_key_id = lc->cr.access_key_id;
	cfg.secret_key = &lc->cr.secret_key;
	cfg.session_token = &lc->cr.session_token;
	if (st->ssm_path[0])
		TRY(ssm_open(lc, &cfg, adopt, dry));
	if (st->n == 0)
		goto out;
	TRY(sm_client_init(&st->sm, lc->ctx, &cfg));
	st->open = true;
	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		rc = sm_describe(&st->sm, s->id, &s->info);
		if (rc == SESCTL_ERR_NOT_FOUND) {
			rc = SESCTL_OK;
			/* Secrets Manager makes the ARN: one that names
			 * nothing cannot be created. */
			ENSURE(strncmp(s->id, "arn:", 4) != 0 || st->lenient,
			       err_set(&lc->ctx->err, SESCTL_ERR_NOT_FOUND,
				       "there is no secret '%s'; sesctl "
				       "creates a secret only from a name",
				       s->id));
			/* Nor one only the record names: a tag anyone may
			 * edit would choose where the password goes. */
			ENSURE(!stores_written(lc) || secret_given(lc, s->id),
			       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
				       "the user's %s tag names secret '%s', "
				       "and there is none in region '%s': "
				       "sesctl does not create a secret only "
				       "a tag names; nothing was changed "
				       "(pass --secrets-manager %s to create "
				       "it and write the settings there)",
				       RECORD_TAG_SECRETS, s->id, st->region,
				       s->id));
			continue;
		}
		TRY(rc);
		s->exists = true;
		if (same_as_earlier(st, i)) {
			/* The same secret by name and by ARN: once. */
			memmove(s, s + 1, (st->n - i - 1) * sizeof(*s));
			st->n--;
			i--;
			continue;
		}
		if (st->lenient)
			continue; /* disable: lc_stores_delete decides */
		ENSURE(!s->info.deleted,
		       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			       "secret '%s' is scheduled for deletion; restore "
			       "it ('aws secretsmanager restore-secret "
			       "--secret-id %s --region %s') or name another",
			       s->id, s->id, st->region));
		if (ours(lc, s))
			continue;
		ENSURE(adopt,
		       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			       "secret '%s' was not made by sesctl for IAM user "
			       "'%s' (tags %s=%s, %s=%s); pass --adopt to let "
			       "sesctl write its settings there",
			       s->id, lc->user, LC_TAG_MANAGED_BY,
			       LC_TAG_MANAGED_VALUE, TAG_USER, lc->user));
		/* Tagged just before the write: a run refused before then
		 * leaves it as it was. */
		s->adopt = true;
		if (dry)
			TRY(lc_plan(lc, "TagResource SecretId=%s Tags=%s",
				    s->id, owner_text(lc, text, sizeof(text))));
	}
out:
	return rc;
}

void lc_stores_close(struct lc *lc)
{
	if (lc->st.open)
		sm_client_release(&lc->st.sm);
	lc->st.open = false;
	if (lc->st.ssm_open)
		ssm_client_release(&lc->st.ssm);
	lc->st.ssm_open = false;
	ssm_param_list_release(&lc->st.before);
}

/* The parameter `name` had before this run, or NULL. */
static const struct ssm_param *before_of(const struct lc *lc,
					 const char *name)
{
	size_t i;

	for (i = 0; i < lc->st.before.count; i++)
		if (strcmp(lc->st.before.items[i].name, name) == 0)
			return &lc->st.before.items[i];
	return NULL;
}

/* Each key of the store value `value` as PATH/KEY: SMTP_PASS* as
 * SecureStrings, the rest as Strings; the user before the password. */
static sesctl_err ssm_write(struct lc *lc, const struct secret *value)
{
	struct lc_stores *st = &lc->st;
	struct aws_tag tags[2];
	struct secret v = SECRET_INIT;
	cJSON *doc = cJSON_ParseWithLength((const char *)value->p, value->len);
	const cJSON *m;
	sesctl_err rc = SESCTL_OK;

	owner_tags(lc, tags);
	ENSURE(cJSON_IsObject(doc),
	       err_set(&lc->ctx->err, SESCTL_ERR_FAIL, "out of memory"));
	cJSON_ArrayForEach(m, doc)
	{
		char *name;
		bool existed;

		ENSURE(st->n_written < LC_PARAMS_MAX && cJSON_IsString(m),
		       err_set(&lc->ctx->err, SESCTL_ERR_FAIL,
			       "too many SSM parameters"));
		name = st->written[st->n_written];
		snprintf(name, sizeof(st->written[0]), "%s/%s", st->ssm_path,
			 m->string);
		existed = before_of(lc, name) != NULL;
		rc = secret_set(&v, m->valuestring, strlen(m->valuestring));
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc, "out of memory"));
		rc = ssm_put(&st->ssm, name, &v,
			     strncmp(m->string, "SMTP_PASS", 9) == 0,
			     opts_get(lc->o, OPT_KMS_KEY_ID), existed, tags,
			     2);
		/* Written, or perhaps written: undo takes it back. */
		if (rc == SESCTL_OK || st->ssm.outcome_unknown) {
			st->written_new[st->n_written] = !existed;
			st->n_written++;
		}
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not write SSM parameter '%s': %s", name,
			       lc->ctx->err.msg));
		if (existed && st->ssm_adopt)
			TRY(ssm_tag(&st->ssm, name, tags, 2));
	}
	ctx_info(lc->ctx, "settings written to the SSM parameters under '%s'",
		 st->ssm_path);
out:
	secret_free(&v);
	cJSON_Delete(doc);
	return rc;
}

sesctl_err lc_stores_write(struct lc *lc, const char *key_id,
			   const struct secret *secret_key, bool now)
{
	struct lc_stores *st = &lc->st;
	struct aws_tag tags[2];
	struct secret value = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	owner_tags(lc, tags);
	if (!lc_stores_any(lc))
		return SESCTL_OK;
	TRY(lc_render_store(lc, key_id, secret_key, &value));
	if (st->ssm_path[0])
		TRY(ssm_write(lc, &value));
	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		TRY(sm_token(lc->ctx, s->token));
		if (s->adopt) {
			TRY(sm_tag(&st->sm, s->id, tags, 2));
			ctx_info(lc->ctx, "took over secret '%s'", s->id);
			s->adopt = false;
		}
		if (!s->exists) {
			rc = sm_create(&st->sm, s->id, &value, s->token,
				       opts_get(lc->o, OPT_KMS_KEY_ID), tags, 2,
				       NULL);
			s->created = s->written = s->committed =
				rc == SESCTL_OK;
		} else {
			memcpy(s->prev, s->info.current, sizeof(s->prev));
			rc = sm_put(&st->sm, s->id, &value, s->token,
				    now ? NULL : SM_STAGE_PENDING);
			s->written = rc == SESCTL_OK;
			s->committed = now && rc == SESCTL_OK;
		}
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not write the settings to secret '%s': "
			       "%s",
			       s->id, lc->ctx->err.msg));
		ctx_info(lc->ctx, "settings of access key %s written to secret "
				  "'%s'%s",
			 key_id, s->id,
			 s->committed ? "" : " (as AWSPENDING)");
	}
out:
	secret_free(&value);
	return rc;
}

sesctl_err lc_stores_plan(struct lc *lc, bool now)
{
	struct lc_stores *st = &lc->st;
	const char *kms = opts_get(lc->o, OPT_KMS_KEY_ID);
	char text[LC_TAGS_TEXT_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i;

	st->planned = true;
	if (st->ssm_path[0])
		TRY(lc_plan(lc, "PutParameter Name=%s/SMTP_* Type=String ("
				"SMTP_PASS: SecureString%s%s)%s",
			    st->ssm_path, kms ? " KeyId=" : "", kms ? kms : "",
			    st->before.count ? " Overwrite=true" : ""));

	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		if (!s->exists)
			TRY(lc_plan(lc, "CreateSecret Name=%s Tags=%s%s%s", s->id,
				    owner_text(lc, text, sizeof(text)),
				    kms ? " KmsKeyId=" : "", kms ? kms : ""));
		else if (now)
			TRY(lc_plan(lc, "PutSecretValue SecretId=%s", s->id));
		else
			TRY(lc_plan(lc, "PutSecretValue SecretId=%s "
					"VersionStages=%s",
				    s->id, SM_STAGE_PENDING));
	}
out:
	return rc;
}

sesctl_err lc_stores_plan_commit(struct lc *lc)
{
	struct lc_stores *st = &lc->st;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->s[i].exists)
			TRY(lc_plan(lc, "UpdateSecretVersionStage SecretId=%s "
					"VersionStage=%s MoveToVersionId=NEW",
				    st->s[i].id, SM_STAGE_CURRENT));
out:
	return rc;
}

sesctl_err lc_stores_commit(struct lc *lc)
{
	struct lc_stores *st = &lc->st;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		if (!s->written || s->committed)
			continue;
		/* Where AWSCURRENT is now (another step of this run may have
		 * moved it): RemoveFromVersionId must name it. */
		TRY(sm_describe(&st->sm, s->id, &s->info));
		if (strcmp(s->info.current, s->token) == 0) {
			s->committed = true;
			continue;
		}
		rc = sm_move_stage(&st->sm, s->id, SM_STAGE_CURRENT, s->token,
				   s->info.current[0] ? s->info.current :
							NULL);
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not make the new settings AWSCURRENT in "
			       "secret '%s': %s",
			       s->id, lc->ctx->err.msg));
		s->committed = true;
		/* The label has done its job; left there, it would look like
		 * a rotation that stopped half-way. */
		if (sm_move_stage(&st->sm, s->id, SM_STAGE_PENDING, NULL,
				  s->token) != SESCTL_OK)
			ctx_warn(lc->ctx, "secret '%s': %s", s->id,
				 lc->ctx->err.msg);
	}
out:
	return rc;
}

void lc_stores_undo(struct lc *lc)
{
	struct lc_stores *st = &lc->st;
	struct err_info saved = lc->ctx->err;
	size_t i;

	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];
		sesctl_err rc = SESCTL_OK;

		if (s->created)
			rc = sm_delete(&st->sm, s->id);
		else if (s->written && s->committed && s->prev[0])
			/* AWSCURRENT back to what the app read before. */
			rc = sm_move_stage(&st->sm, s->id, SM_STAGE_CURRENT,
					   s->prev, s->token);
		else if (s->written && !s->committed)
			rc = sm_move_stage(&st->sm, s->id, SM_STAGE_PENDING,
					   NULL, s->token);
		if (rc != SESCTL_OK)
			ctx_warn(lc->ctx, "secret '%s' keeps the undelivered "
					  "settings: %s",
				 s->id, lc->ctx->err.msg);
		s->created = s->written = false;
	}
	/* The parameters get their old values back; new ones go. */
	while (st->n_written > 0) {
		const char *name = st->written[--st->n_written];
		const struct ssm_param *old = before_of(lc, name);
		sesctl_err rc;

		if (old)
			rc = ssm_put(&st->ssm, name, &old->value, old->secure,
				     NULL, true, NULL, 0);
		else
			rc = ssm_delete(&st->ssm, name);
		if (rc != SESCTL_OK)
			ctx_warn(lc->ctx, "SSM parameter '%s' keeps the "
					  "undelivered settings: %s",
				 name, lc->ctx->err.msg);
	}
	lc->ctx->err = saved;
}

/* SMTP_USER of the secret's version `version` into user[size]; "" when
 * it has none. */
static sesctl_err user_in(struct lc *lc, struct lc_store *s,
			  const char *version, char *user, size_t size)
{
	struct secret value = SECRET_INIT;
	cJSON *doc = NULL;
	const cJSON *v;
	sesctl_err rc = SESCTL_OK;

	user[0] = '\0';
	if (!version[0])
		return SESCTL_OK;
	TRY(sm_get_value(&lc->st.sm, s->id, version, NULL, &value, NULL));
	doc = cJSON_ParseWithLength((const char *)value.p, value.len);
	v = cJSON_GetObjectItemCaseSensitive(doc, "SMTP_USER");
	if (cJSON_IsString(v))
		snprintf(user, size, "%s", v->valuestring);
out:
	cJSON_Delete(doc);
	secret_free(&value);
	return rc;
}

sesctl_err lc_stores_release_key(struct lc *lc, const char *key_id,
				 bool dry)
{
	struct lc_stores *st = &lc->st;
	char cur[RECORD_KEY_MAX + 1], pend[RECORD_KEY_MAX + 1];
	char name[SSM_NAME_MAX + 64];
	struct secret v = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	if (dry && st->planned)
		return SESCTL_OK; /* the plan switches them first */
	if (st->ssm_open && st->n_written == 0) {
		/* SSM has no staging: the user parameter says which key
		 * apps read. */
		snprintf(name, sizeof(name), "%s/SMTP_USER", st->ssm_path);
		rc = ssm_get(&st->ssm, name, &v);
		if (rc == SESCTL_ERR_NOT_FOUND)
			rc = SESCTL_OK;
		TRY(rc);
		ENSURE(!v.p || strcmp(secret_str(&v), key_id) != 0,
		       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			       "SSM parameter '%s' still hands out access key "
			       "%s, so it stays; run '%s' to write the new "
			       "settings there",
			       name, key_id, lc_cmd(lc, "rotate")));
	}

	for (i = 0; st->open && i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		if (s->written && s->committed)
			continue; /* this run switched it */
		rc = sm_describe(&st->sm, s->id, &s->info);
		if (rc == SESCTL_ERR_NOT_FOUND) {
			rc = SESCTL_OK;
			continue;
		}
		TRY(rc);
		TRY(user_in(lc, s, s->info.current, cur, sizeof(cur)));
		if (strcmp(cur, key_id) != 0)
			continue;
		TRY(user_in(lc, s, s->info.pending, pend, sizeof(pend)));
		ENSURE(lc->rec.current[0] && strcmp(pend, lc->rec.current) == 0,
		       err_set(&lc->ctx->err, SESCTL_ERR_CONFLICT,
			       "secret '%s' still hands out access key %s as "
			       "AWSCURRENT, so it stays; run '%s' to write the "
			       "new settings there",
			       s->id, key_id, lc_cmd(lc, "rotate")));
		if (dry) {
			TRY(lc_plan(lc, "UpdateSecretVersionStage SecretId=%s "
					"VersionStage=%s MoveToVersionId=%s "
					"RemoveFromVersionId=%s",
				    s->id, SM_STAGE_CURRENT, s->info.pending,
				    s->info.current));
			TRY(lc_plan(lc, "UpdateSecretVersionStage SecretId=%s "
					"VersionStage=%s RemoveFromVersionId=%s",
				    s->id, SM_STAGE_PENDING, s->info.pending));
			continue;
		}
		memcpy(s->token, s->info.pending, sizeof(s->token));
		s->written = true;
		TRY(lc_stores_commit(lc));
		ctx_info(lc->ctx, "secret '%s' now hands out access key %s",
			 s->id, lc->rec.current);
	}
out:
	secret_free(&v);
	return rc;
}

sesctl_err lc_stores_delete(struct lc *lc, bool dry)
{
	struct lc_stores *st = &lc->st;
	sesctl_err rc = SESCTL_OK;
	size_t i, deleted = 0;

	/* The SMTP_* parameters under the recorded path that sesctl wrote
	 * for this user; another app's (taken over with --adopt, or a path
	 * the record was pointed at) stay. */
	for (i = 0; st->ssm_open && i < st->before.count; i++) {
		const char *name = st->before.items[i].name;

		if (!smtp_param(name))
			continue;
		if (!st->before_ours[i]) {
			ctx_warn(lc->ctx, "SSM parameter '%s' is left: sesctl "
					  "did not write it for '%s'",
				 name, lc->user);
			continue;
		}
		if (dry) {
			TRY(lc_plan(lc, "DeleteParameter Name=%s", name));
			continue;
		}
		rc = ssm_delete(&st->ssm, name);
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not delete SSM parameter '%s': %s", name,
			       lc->ctx->err.msg));
		deleted++;
	}
	if (deleted)
		ctx_info(lc->ctx, "deleted the SSM parameters under '%s'",
			 st->ssm_path);

	for (i = 0; st->open && i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		if (!s->exists || s->info.deleted)
			continue;
		if (!ours(lc, s)) {
			ctx_warn(lc->ctx, "secret '%s' is left: sesctl did not "
					  "make it for '%s'",
				 s->id, lc->user);
			continue;
		}
		if (dry) {
			TRY(lc_plan(lc, "DeleteSecret SecretId=%s "
					"ForceDeleteWithoutRecovery=true",
				    s->id));
			continue;
		}
		rc = sm_delete(&st->sm, s->id);
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not delete secret '%s': %s", s->id,
			       lc->ctx->err.msg));
		ctx_info(lc->ctx, "deleted secret '%s'", s->id);
	}
out:
	return rc;
}

void lc_stores_ssm_tag(const struct lc *lc, char *buf, size_t size)
{
	buf[0] = '\0';
	if (lc->st.ssm_path[0])
		snprintf(buf, size, "%s %s", lc->st.region, lc->st.ssm_path);
}

sesctl_err lc_stores_tag(const struct lc *lc, char *buf, size_t size)
{
	const struct lc_stores *st = &lc->st;
	size_t i, len;
	int n;

	buf[0] = '\0';
	if (st->n == 0)
		return SESCTL_OK;
	n = snprintf(buf, size, "%s", st->region);
	for (i = 0; n > 0 && (size_t)n < size && i < st->n; i++) {
		len = (size_t)n;
		n = snprintf(buf + len, size - len, " %s", st->s[i].id);
		n = n < 0 ? -1 : n + (int)len;
	}
	if (n < 0 || (size_t)n >= size || (size_t)n > RECORD_STORES_MAX)
		return err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "the secrets' names are too long to record in "
			       "the user's %s tag (%d characters at most); "
			       "use shorter names or fewer secrets",
			       RECORD_TAG_SECRETS, RECORD_STORES_MAX);
	return SESCTL_OK;
}
