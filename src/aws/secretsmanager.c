/* secretsmanager.c - the AWS Secrets Manager client (see
 * secretsmanager.h): JSON 1.1 requests built and answers read with cJSON
 * (whose allocations are wiped), sent with the AWS client core, and the
 * read-backs that resolve a change of unknown outcome.
 */
#include "sesctl/aws/secretsmanager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sesctl/base/crypto.h"


static const struct aws_service sm_service = {
	"Secrets Manager", "secretsmanager",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", AWS_JSON_11, NULL,
	"secretsmanager", "Secrets Manager ", NULL,
};

sesctl_err sm_client_init(struct sm_client *c, struct ctx *ctx,
			  const struct aws_regional_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	return aws_regional_init(&c->aws, ctx, &sm_service, "secretsmanager",
				 cfg);
}

void sm_client_release(struct sm_client *c)
{
	if (c)
		aws_client_release(&c->aws);
}

sesctl_err sm_token(struct ctx *ctx, char out[37])
{
	unsigned char b[16];
	char hex[33];
	int e = crypto_random(b, sizeof(b));

	if (e)
		return err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "no random bytes for a request token: %s",
			       strerror(e));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	crypto_hex(b, sizeof(b), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
	return SESCTL_OK;
}

/* ---- requests ------------------------------------------------------ */

/* Send `req` as `action` (flags as aws_call); the answer parsed into
 * *answer (NULL: not wanted). */
static sesctl_err sm_send(struct sm_client *c, const char *action,
			  unsigned flags, cJSON *req, cJSON **answer,
			  bool *unknown)
{
	ctx_debug(c->ctx, "Secrets Manager %s", action);
	return aws_json_call(&c->aws, action, flags, req, answer,
			     &c->last_error, unknown);
}

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

/* ---- reads --------------------------------------------------------- */

/* The version that carries `stage` in VersionIdsToStages, into out. */
static void version_with(const cJSON *map, const char *stage, char *out,
			 size_t size)
{
	const cJSON *v, *s;

	out[0] = '\0';
	cJSON_ArrayForEach(v, map)
	{
		cJSON_ArrayForEach(s, v)
		{
			if (cJSON_IsString(s) &&
			    strcmp(s->valuestring, stage) == 0 && v->string) {
				copy_str(out, size, v->string);
				return;
			}
		}
	}
}

sesctl_err sm_describe(struct sm_client *c, const char *id,
		       struct sm_secret_info *out)
{
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	const cJSON *tags, *t, *map;
	bool unknown;
	sesctl_err rc = SESCTL_OK;

	memset(out, 0, sizeof(*out));
	ENSURE(req && cJSON_AddStringToObject(req, "SecretId", id),
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(sm_send(c, "DescribeSecret", AWS_READ, req, &ans, &unknown));
	copy_str(out->arn, sizeof(out->arn), str_member(ans, "ARN"));
	copy_str(out->name, sizeof(out->name), str_member(ans, "Name"));
	out->deleted = cJSON_GetObjectItemCaseSensitive(ans, "DeletedDate") &&
		       !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
			       ans, "DeletedDate"));
	tags = cJSON_GetObjectItemCaseSensitive(ans, "Tags");
	cJSON_ArrayForEach(t, tags)
	{
		const char *k = str_member(t, "Key"), *v = str_member(t, "Value");

		if (!k || !v)
			continue;
		if (strcmp(k, "ManagedBy") == 0 && strcmp(v, "sesctl") == 0)
			out->tagged_managed = true;
		if (strcmp(k, "SesctlUser") == 0)
			copy_str(out->user, sizeof(out->user), v);
	}
	map = cJSON_GetObjectItemCaseSensitive(ans, "VersionIdsToStages");
	version_with(map, SM_STAGE_CURRENT, out->current,
		     sizeof(out->current));
	version_with(map, SM_STAGE_PENDING, out->pending,
		     sizeof(out->pending));
	version_with(map, SM_STAGE_PREVIOUS, out->previous,
		     sizeof(out->previous));
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rc;
}

sesctl_err sm_get_value(struct sm_client *c, const char *id,
			const char *version_id, const char *stage,
			struct secret *value, char *version)
{
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	const char *s;
	bool unknown;
	sesctl_err rc = SESCTL_OK;

	ENSURE(req && cJSON_AddStringToObject(req, "SecretId", id) &&
		       (version_id ? cJSON_AddStringToObject(req, "VersionId",
							     version_id) :
				     cJSON_AddStringToObject(req, "VersionStage",
							     stage)),
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(sm_send(c, "GetSecretValue", AWS_READ, req, &ans, &unknown));
	s = str_member(ans, "SecretString");
	ENSURE(s, err_set(&c->ctx->err, SESCTL_ERR_INPUT,
			  "secret '%s' holds no SecretString", id));
	rc = secret_set(value, s, strlen(s));
	ENSURE(rc == SESCTL_OK,
	       err_set(&c->ctx->err, rc, "out of memory"));
	if (version)
		copy_str(version, SM_VERSION_MAX + 1,
			 str_member(ans, "VersionId"));
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rc;
}

/* ---- changes ------------------------------------------------------- */

/* A change of secret `id`, read back with `fn` when its outcome is
 * unknown (aws_json_change); c->outcome_unknown says whether it stays
 * so. */
static sesctl_err sm_change(struct sm_client *c, const char *action,
			    const char *id, cJSON *req, cJSON **ans,
			    aws_applied_fn fn, void *arg)
{
	char what[SM_NAME_MAX + 16], shows[SM_NAME_MAX + 64];

	snprintf(what, sizeof(what), "secret '%s'", id);
	snprintf(shows, sizeof(shows),
		 "aws secretsmanager describe-secret --secret-id %s", id);
	ctx_debug(c->ctx, "Secrets Manager %s", action);
	return aws_json_change(&c->aws, action, req, ans, &c->last_error,
			       what, shows, fn, arg, &c->outcome_unknown);
}

/* What a read-back of a secret's change looks at. */
struct readback {
	struct sm_client *c;
	const char *id;
	const char *version;        /* write_version: the token */
	const struct secret *value; /* ... and the value written */
	const char *stage, *to;     /* sm_move_stage */
};

/* Whether version `token` holds the value written. */
static sesctl_err version_holds(void *arg, bool *applied)
{
	struct readback *r = arg;
	struct secret got = SECRET_INIT;
	sesctl_err rc;

	*applied = false;
	rc = sm_get_value(r->c, r->id, r->version, NULL, &got, NULL);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	else if (rc == SESCTL_OK)
		*applied = got.len == r->value->len &&
			   memcmp(got.p, r->value->p, got.len) == 0;
	secret_free(&got);
	return rc;
}

/* A secret's value written as a new version (`req` is CreateSecret's or
 * PutSecretValue's), an unknown outcome read back by the version's
 * token. */
static sesctl_err write_version(struct sm_client *c, const char *action,
				const char *id, cJSON *req,
				const struct secret *value, const char *token,
				cJSON **ans)
{
	struct readback r = { c, id, token, value, NULL, NULL };

	return sm_change(c, action, id, req, ans, version_holds, &r);
}

static bool add_value(cJSON *req, const struct secret *value)
{
	return cJSON_AddStringToObject(req, "SecretString",
				       secret_str(value)) != NULL;
}

sesctl_err sm_create(struct sm_client *c, const char *name,
		     const struct secret *value, const char *token,
		     const char *kms_key_id, const struct aws_tag *tags,
		     size_t n_tags, char *arn)
{
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	struct sm_secret_info info;
	bool ok;
	sesctl_err rc = SESCTL_OK;

	ok = req && cJSON_AddStringToObject(req, "Name", name) &&
	     cJSON_AddStringToObject(req, "ClientRequestToken", token) &&
	     add_value(req, value) &&
	     (!kms_key_id ||
	      cJSON_AddStringToObject(req, "KmsKeyId", kms_key_id)) &&
	     cJSON_AddStringToObject(req, "Description",
				     "SES SMTP settings, kept by sesctl") &&
	     aws_json_add_tags(req, tags, n_tags);
	ENSURE(ok, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(write_version(c, "CreateSecret", name, req, value, token, &ans));
	if (arn && ans) {
		copy_str(arn, SM_ARN_MAX + 1, str_member(ans, "ARN"));
	} else if (arn) {
		/* Resolved by reading back: the ARN is DescribeSecret's. */
		arn[0] = '\0';
		if (sm_describe(c, name, &info) == SESCTL_OK)
			copy_str(arn, SM_ARN_MAX + 1, info.arn);
	}
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rc;
}

sesctl_err sm_put(struct sm_client *c, const char *id,
		  const struct secret *value, const char *token,
		  const char *stage)
{
	cJSON *req = cJSON_CreateObject(), *ans = NULL, *stages = NULL;
	bool ok;
	sesctl_err rc = SESCTL_OK;

	ok = req && cJSON_AddStringToObject(req, "SecretId", id) &&
	     cJSON_AddStringToObject(req, "ClientRequestToken", token) &&
	     add_value(req, value);
	if (ok && stage) {
		stages = cJSON_AddArrayToObject(req, "VersionStages");
		ok = stages && cJSON_AddItemToArray(stages,
						    cJSON_CreateString(stage));
	}
	ENSURE(ok, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	rc = write_version(c, "PutSecretValue", id, req, value, token, &ans);
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rc;
}

/* Whether the stage is where sm_move_stage(stage, to, ...) puts it. */
static sesctl_err stage_moved(void *arg, bool *applied)
{
	struct readback *r = arg;
	struct sm_secret_info info;
	char at[SM_VERSION_MAX + 1] = "";
	sesctl_err rc;

	*applied = false;
	rc = sm_describe(r->c, r->id, &info);
	if (rc != SESCTL_OK)
		return rc;
	if (strcmp(r->stage, SM_STAGE_CURRENT) == 0)
		copy_str(at, sizeof(at), info.current);
	else if (strcmp(r->stage, SM_STAGE_PENDING) == 0)
		copy_str(at, sizeof(at), info.pending);
	else if (strcmp(r->stage, SM_STAGE_PREVIOUS) == 0)
		copy_str(at, sizeof(at), info.previous);
	*applied = r->to ? strcmp(at, r->to) == 0 : at[0] == '\0';
	return SESCTL_OK;
}

sesctl_err sm_move_stage(struct sm_client *c, const char *id,
			 const char *stage, const char *to, const char *from)
{
	cJSON *req = cJSON_CreateObject();
	struct readback r = { c, id, NULL, NULL, stage, to };
	sesctl_err rc = SESCTL_OK;

	c->outcome_unknown = false;
	ENSURE(req && cJSON_AddStringToObject(req, "SecretId", id) &&
		       cJSON_AddStringToObject(req, "VersionStage", stage) &&
		       (!to || cJSON_AddStringToObject(req, "MoveToVersionId",
						       to)) &&
		       (!from || cJSON_AddStringToObject(
					 req, "RemoveFromVersionId", from)),
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	rc = sm_change(c, "UpdateSecretVersionStage", id, req, NULL,
		       stage_moved, &r);
out:
	cJSON_Delete(req);
	return rc;
}

sesctl_err sm_tag(struct sm_client *c, const char *id,
		  const struct aws_tag *tags, size_t n_tags)
{
	cJSON *req = cJSON_CreateObject();
	bool unknown = false;
	sesctl_err rc = SESCTL_OK;

	c->outcome_unknown = false;
	ENSURE(req && cJSON_AddStringToObject(req, "SecretId", id) &&
		       aws_json_add_tags(req, tags, n_tags),
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	/* Tagging is idempotent: after an unknown outcome, once more. */
	rc = sm_send(c, "TagResource", 0, req, NULL, &unknown);
	if (rc != SESCTL_OK && unknown)
		rc = sm_send(c, "TagResource", 0, req, NULL, &unknown);
	c->outcome_unknown = rc != SESCTL_OK && unknown;
out:
	cJSON_Delete(req);
	return rc;
}

/* Whether the secret is gone, or scheduled for deletion. */
static sesctl_err deleted(void *arg, bool *applied)
{
	struct readback *r = arg;
	struct sm_secret_info info;
	sesctl_err rc = sm_describe(r->c, r->id, &info);

	*applied = rc == SESCTL_ERR_NOT_FOUND ||
		   (rc == SESCTL_OK && info.deleted);
	return *applied ? SESCTL_OK : rc;
}

sesctl_err sm_delete(struct sm_client *c, const char *id)
{
	cJSON *req = cJSON_CreateObject();
	struct readback r = { c, id, NULL, NULL, NULL, NULL };
	sesctl_err rc = SESCTL_OK;

	c->outcome_unknown = false;
	ENSURE(req && cJSON_AddStringToObject(req, "SecretId", id) &&
		       cJSON_AddTrueToObject(req, "ForceDeleteWithoutRecovery"),
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	rc = sm_change(c, "DeleteSecret", id, req, NULL, deleted, &r);
	if (rc == SESCTL_ERR_NOT_FOUND && !c->outcome_unknown)
		rc = SESCTL_OK; /* gone already */
out:
	cJSON_Delete(req);
	return rc;
}
