/* lc_store.c - delivering SMTP settings to AWS Secrets Manager (see the
 * secret stores part of lifecycle.h).
 *
 * The rules are the file's: a store write that fails takes the new key
 * back (enable) or keeps the old one (rotate); the old key is retired only
 * once every secret hands out the new settings as AWSCURRENT, and the
 * version it replaced stays as AWSPREVIOUS.  A write whose outcome is
 * unknown is read back by its ClientRequestToken (secretsmanager.c).
 */
#include "sesctl/cli/lifecycle.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>


#define TAG_USER "SesctlUser"

bool lc_stores_wanted(const struct lc *lc)
{
	return opts_has(lc->o, OPT_SECRETS_MANAGER) || lc->rec.secrets[0];
}

/* The ids and region: the options', else the record's
 * "REGION id id ...". */
static sesctl_err stores_ids(struct lc *lc)
{
	struct lc_stores *st = &lc->st;
	const char *region = opts_get(lc->o, OPT_STORE_REGION);
	const char *p = lc->rec.secrets;
	unsigned i, n = opts_count(lc->o, OPT_SECRETS_MANAGER);
	sesctl_err rc = SESCTL_OK;
	size_t len;

	st->n = 0;
	if (n > 0) {
		ENSURE(n <= LC_STORES_MAX,
		       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "at most %d --secrets-manager secrets",
			       LC_STORES_MAX));
		for (i = 0; i < n; i++) {
			const char *id = lc->o->val[OPT_SECRETS_MANAGER][i];

			ENSURE(*id && strlen(id) <= SM_NAME_MAX &&
				       !strchr(id, ' '),
			       err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
				       "--secrets-manager '%s' is not a secret "
				       "name or ARN (1 to %d characters, no "
				       "spaces)",
				       id, SM_NAME_MAX));
			snprintf(st->s[st->n++].id, sizeof(st->s[0].id), "%s",
				 id);
		}
		if (!region)
			region = lc->n_regions ? lc->regions[0] : NULL;
	} else {
		/* The record: its region first. */
		p += strspn(p, " ");
		len = strcspn(p, " ");
		ENSURE(len > 0 && len <= REGION_NAME_MAX,
		       err_set(&lc->ctx->err, SESCTL_ERR_INPUT,
			       "the user's %s tag ('%s') is not one sesctl "
			       "wrote",
			       RECORD_TAG_SECRETS, lc->rec.secrets));
		if (!region) {
			memcpy(st->region, p, len);
			st->region[len] = '\0';
			region = st->region;
		}
		for (p += len; *p && st->n < LC_STORES_MAX; p += len) {
			p += strspn(p, " ");
			len = strcspn(p, " ");
			if (len == 0 || len > SM_NAME_MAX)
				break;
			memcpy(st->s[st->n].id, p, len);
			st->s[st->n++].id[len] = '\0';
		}
	}
	ENSURE(region, err_set(&lc->ctx->err, SESCTL_ERR_USAGE,
			       "which region are the secrets in? give "
			       "--store-region or --region"));
	if (region != st->region)
		snprintf(st->region, sizeof(st->region), "%s", region);
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

sesctl_err lc_stores_open(struct lc *lc, bool adopt, bool dry)
{
	struct lc_stores *st = &lc->st;
	struct aws_regional_config cfg;
	struct sm_tag tags[2] = { { LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE },
				  { TAG_USER, lc->user } };
	sesctl_err rc = SESCTL_OK;
	size_t i;
	char tag[RECORD_STORES_MAX + 1];

	if (!lc_stores_wanted(lc))
		return SESCTL_OK;
	TRY(stores_ids(lc));
	TRY(lc_stores_tag(lc, tag, sizeof(tag)));
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = st->region;
	cfg.ca_bundle = opts_get(lc->o, OPT_CA_BUNDLE);
	cfg.access_key_id = lc->cr.access_key_id;
	cfg.secret_key = &lc->cr.secret_key;
	cfg.session_token = &lc->cr.session_token;
	TRY(sm_client_init(&st->sm, lc->ctx, &cfg));
	st->open = true;
	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		rc = sm_describe(&st->sm, s->id, &s->info);
		if (rc == SESCTL_ERR_NOT_FOUND) {
			rc = SESCTL_OK;
			continue;
		}
		TRY(rc);
		s->exists = true;
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
		if (dry) {
			TRY(lc_plan(lc, "TagResource SecretId=%s "
					"Tags=%s=%s,%s=%s",
				    s->id, LC_TAG_MANAGED_BY,
				    LC_TAG_MANAGED_VALUE, TAG_USER, lc->user));
			continue;
		}
		TRY(sm_tag(&st->sm, s->id, tags, 2));
		ctx_info(lc->ctx, "took over secret '%s'", s->id);
	}
out:
	return rc;
}

void lc_stores_close(struct lc *lc)
{
	if (lc->st.open)
		sm_client_release(&lc->st.sm);
	lc->st.open = false;
}

sesctl_err lc_stores_write(struct lc *lc, const char *key_id,
			   const struct secret *secret_key, bool now)
{
	struct lc_stores *st = &lc->st;
	struct sm_tag tags[2] = { { LC_TAG_MANAGED_BY, LC_TAG_MANAGED_VALUE },
				  { TAG_USER, lc->user } };
	struct secret value = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	if (st->n == 0)
		return SESCTL_OK;
	TRY(lc_render_store(lc, key_id, secret_key, &value));
	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		TRY(sm_token(lc->ctx, s->token));
		if (!s->exists) {
			rc = sm_create(&st->sm, s->id, &value, s->token,
				       opts_get(lc->o, OPT_KMS_KEY_ID), tags, 2,
				       NULL);
			s->created = s->written = s->committed =
				rc == SESCTL_OK;
		} else {
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
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		if (!s->exists)
			TRY(lc_plan(lc, "CreateSecret Name=%s Tags=%s=%s,%s=%s%s%s",
				    s->id, LC_TAG_MANAGED_BY,
				    LC_TAG_MANAGED_VALUE, TAG_USER, lc->user,
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
		else if (s->written && !s->committed)
			rc = sm_move_stage(&st->sm, s->id, SM_STAGE_PENDING,
					   NULL, s->token);
		if (rc != SESCTL_OK)
			ctx_warn(lc->ctx, "secret '%s' keeps the undelivered "
					  "settings: %s",
				 s->id, lc->ctx->err.msg);
		s->created = s->written = false;
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

sesctl_err lc_stores_release_key(struct lc *lc, const char *key_id)
{
	struct lc_stores *st = &lc->st;
	char cur[RECORD_KEY_MAX + 1], pend[RECORD_KEY_MAX + 1];
	sesctl_err rc = SESCTL_OK;
	size_t i;

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
		memcpy(s->token, s->info.pending, sizeof(s->token));
		s->written = true;
		TRY(lc_stores_commit(lc));
		ctx_info(lc->ctx, "secret '%s' now hands out access key %s",
			 s->id, lc->rec.current);
	}
out:
	return rc;
}

sesctl_err lc_stores_delete(struct lc *lc, bool dry)
{
	struct lc_stores *st = &lc->st;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	for (i = 0; st->open && i < st->n; i++) {
		struct lc_store *s = &st->s[i];

		if (!s->exists)
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
