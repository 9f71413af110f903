/* ssm.c - the SSM Parameter Store client (see ssm.h): JSON 1.1 requests
 * built and answers read with cJSON (whose allocations are wiped), sent
 * with the AWS client core, and the read-back that resolves a
 * PutParameter of unknown outcome.
 */
#include "sesctl/aws/ssm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const struct aws_service ssm_service = {
	"SSM", "ssm", "AWS_ENDPOINT_URL_SSM", AWS_JSON_11, NULL, "AmazonSSM",
	"SSM ", NULL,
};

sesctl_err ssm_client_init(struct ssm_client *c, struct ctx *ctx,
			   const struct aws_regional_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	return aws_regional_init(&c->aws, ctx, &ssm_service, "ssm", cfg);
}

void ssm_client_release(struct ssm_client *c)
{
	if (c)
		aws_client_release(&c->aws);
}

static sesctl_err ssm_send(struct ssm_client *c, const char *action,
			   unsigned flags, cJSON *req, cJSON **answer,
			   bool *unknown)
{
	bool scratch;

	ctx_debug(c->ctx, "SSM %s", action);
	return aws_json_call(&c->aws, action, flags, req, answer,
			     &c->last_error, unknown ? unknown : &scratch);
}

static sesctl_err nomem(struct ssm_client *c)
{
	return err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory");
}

void ssm_param_list_release(struct ssm_param_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		secret_free(&l->items[i].value);
	l->count = 0;
}

/* One "Parameter" object of an answer into `p`. */
static sesctl_err param_of(struct ssm_client *c, const cJSON *o,
			   struct ssm_param *p)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "Name");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "Value");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "Type");
	sesctl_err rc;

	if (!cJSON_IsString(name) || !cJSON_IsString(value))
		return err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
			       "SSM answered a parameter without a name or "
			       "value");
	snprintf(p->name, sizeof(p->name), "%s", name->valuestring);
	p->secure = cJSON_IsString(type) &&
		    strcmp(type->valuestring, "SecureString") == 0;
	rc = secret_set(&p->value, value->valuestring,
			strlen(value->valuestring));
	return rc == SESCTL_OK ? rc : nomem(c);
}

sesctl_err ssm_list(struct ssm_client *c, const char *path,
		    struct ssm_param_list *out)
{
	cJSON *req = NULL, *ans = NULL;
	const cJSON *items, *it, *next;
	char token[2048] = "";
	sesctl_err rc = SESCTL_OK;
	int pages;

	memset(out, 0, sizeof(*out));
	for (pages = 0; pages < 100; pages++) {
		req = cJSON_CreateObject();
		ENSURE(req && cJSON_AddStringToObject(req, "Path", path) &&
			       cJSON_AddTrueToObject(req, "WithDecryption") &&
			       (!token[0] || cJSON_AddStringToObject(
						     req, "NextToken", token)),
		       nomem(c));
		TRY(ssm_send(c, "GetParametersByPath", AWS_READ, req, &ans,
			     NULL));
		items = cJSON_GetObjectItemCaseSensitive(ans, "Parameters");
		cJSON_ArrayForEach(it, items)
		{
			ENSURE(out->count < SSM_PARAMS_MAX,
			       err_set(&c->ctx->err, SESCTL_ERR_INPUT,
				       "more than %d parameters under '%s'",
				       SSM_PARAMS_MAX, path));
			out->items[out->count].value =
				(struct secret)SECRET_INIT;
			TRY(param_of(c, it, &out->items[out->count]));
			out->count++;
		}
		next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
		if (!cJSON_IsString(next) || !*next->valuestring)
			break;
		snprintf(token, sizeof(token), "%s", next->valuestring);
		cJSON_Delete(req);
		cJSON_Delete(ans);
		req = ans = NULL;
	}
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	if (rc != SESCTL_OK)
		ssm_param_list_release(out);
	return rc;
}

sesctl_err ssm_get(struct ssm_client *c, const char *name,
		   struct secret *value)
{
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	struct ssm_param p;
	sesctl_err rc = SESCTL_OK;

	memset(&p, 0, sizeof(p));
	ENSURE(req && cJSON_AddStringToObject(req, "Name", name) &&
		       cJSON_AddTrueToObject(req, "WithDecryption"),
	       nomem(c));
	TRY(ssm_send(c, "GetParameter", AWS_READ, req, &ans, NULL));
	TRY(param_of(c, cJSON_GetObjectItemCaseSensitive(ans, "Parameter"),
		     &p));
	if (value) {
		secret_free(value);
		*value = p.value;
		p.value = (struct secret)SECRET_INIT;
	}
out:
	secret_free(&p.value);
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rc;
}

/* What reading a PutParameter back looks at. */
struct readback {
	struct ssm_client *c;
	const char *name;
	const struct secret *value;
};

/* Whether the parameter holds the value written (not there: no). */
static sesctl_err holds(void *arg, bool *same)
{
	struct readback *r = arg;
	struct secret got = SECRET_INIT;
	sesctl_err rc;

	*same = false;
	rc = ssm_get(r->c, r->name, &got);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
	else if (rc == SESCTL_OK)
		*same = got.len == r->value->len &&
			memcmp(got.p, r->value->p, got.len) == 0;
	secret_free(&got);
	return rc;
}

sesctl_err ssm_put(struct ssm_client *c, const char *name,
		   const struct secret *value, bool secure,
		   const char *kms_key_id, bool overwrite,
		   const struct aws_tag *tags, size_t n_tags)
{
	cJSON *req = cJSON_CreateObject();
	struct readback r = { c, name, value };
	char what[SSM_NAME_MAX + 80], shows[SSM_NAME_MAX + 96];
	bool ok;
	sesctl_err rc = SESCTL_OK;

	c->outcome_unknown = false;
	ok = req && cJSON_AddStringToObject(req, "Name", name) &&
	     cJSON_AddStringToObject(req, "Value", secret_str(value)) &&
	     cJSON_AddStringToObject(req, "Type",
				     secure ? "SecureString" : "String") &&
	     (!secure || !kms_key_id ||
	      cJSON_AddStringToObject(req, "KeyId", kms_key_id)) &&
	     (overwrite ? cJSON_AddTrueToObject(req, "Overwrite") != NULL :
			  aws_json_add_tags(req, tags, n_tags));
	ENSURE(ok, nomem(c));
	snprintf(what, sizeof(what), "'%s'", name);
	snprintf(shows, sizeof(shows), "aws ssm get-parameter --name %s",
		 name);
	ctx_debug(c->ctx, "SSM PutParameter");
	rc = aws_json_change(&c->aws, "PutParameter", req, NULL,
			     &c->last_error, what, shows, holds, &r,
			     &c->outcome_unknown);
out:
	cJSON_Delete(req);
	return rc;
}

/* Whether TagList `list` holds key=value. */
static bool tag_listed(const cJSON *list, const char *key, const char *value)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, list)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "Value");

		if (cJSON_IsString(k) && cJSON_IsString(v) &&
		    strcmp(k->valuestring, key) == 0 &&
		    strcmp(v->valuestring, value) == 0)
			return true;
	}
	return false;
}

sesctl_err ssm_has_tags(struct ssm_client *c, const char *name,
			const struct aws_tag *tags, size_t n_tags, bool *has)
{
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	const cJSON *list;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	*has = false;
	ENSURE(req &&
		       cJSON_AddStringToObject(req, "ResourceType",
					       "Parameter") &&
		       cJSON_AddStringToObject(req, "ResourceId", name),
	       nomem(c));
	TRY(ssm_send(c, "ListTagsForResource", AWS_READ, req, &ans, NULL));
	list = cJSON_GetObjectItemCaseSensitive(ans, "TagList");
	for (i = 0; i < n_tags; i++)
		if (!tag_listed(list, tags[i].key, tags[i].value))
			goto out;
	*has = true;
out:
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rc;
}

sesctl_err ssm_tag(struct ssm_client *c, const char *name,
		   const struct aws_tag *tags, size_t n_tags)
{
	cJSON *req = cJSON_CreateObject();
	bool unknown = false;
	sesctl_err rc = SESCTL_OK;

	ENSURE(req &&
		       cJSON_AddStringToObject(req, "ResourceType",
					       "Parameter") &&
		       cJSON_AddStringToObject(req, "ResourceId", name) &&
		       aws_json_add_tags(req, tags, n_tags),
	       nomem(c));
	/* Tagging is idempotent: after an unknown outcome, once more. */
	rc = ssm_send(c, "AddTagsToResource", 0, req, NULL, &unknown);
	if (rc != SESCTL_OK && unknown)
		rc = ssm_send(c, "AddTagsToResource", 0, req, NULL, &unknown);
out:
	cJSON_Delete(req);
	return rc;
}

sesctl_err ssm_delete(struct ssm_client *c, const char *name)
{
	cJSON *req = cJSON_CreateObject();
	bool unknown = false;
	sesctl_err rc = SESCTL_OK;

	ENSURE(req && cJSON_AddStringToObject(req, "Name", name), nomem(c));
	/* A deletion is idempotent: a repeat after an applied one is
	 * ParameterNotFound, which counts as done. */
	rc = ssm_send(c, "DeleteParameter", 0, req, NULL, &unknown);
	if (rc != SESCTL_OK && unknown)
		rc = ssm_send(c, "DeleteParameter", 0, req, NULL, &unknown);
	if (rc == SESCTL_ERR_NOT_FOUND)
		rc = SESCTL_OK;
out:
	cJSON_Delete(req);
	return rc;
}
