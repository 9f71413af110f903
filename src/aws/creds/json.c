/* json.c - credentials as JSON: what credential_process prints and what
 * the container endpoint and instance metadata answer (see creds_int.h). */
#include "creds_int.h"

#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sesctl/aws/iam_xml.h"

/* ------------------------------------------------------------------ */
/* JSON credentials: what credential_process prints and what the
 * container endpoint and instance metadata answer.
 *
 * cJSON copies every string it parses (the secret key, the token) into
 * blocks from its allocator; the hooks set here are the wiping allocator
 * (secret.h), the same pair output_init() installs, so installing them
 * again is harmless whatever ran first.  The text itself stays in the
 * caller's struct secret. */

/* `name`'s member of `obj` (case-sensitive, as Python's dict); NULL if
 * absent.  *dup set when it is there more than once. */
static const cJSON *json_member(const cJSON *obj, const char *name, bool *dup)
{
	const cJSON *c, *found = NULL;

	for (c = obj->child; c; c = c->next) {
		if (!c->string || strcmp(c->string, name) != 0)
			continue;
		if (found)
			*dup = true;
		found = c;
	}
	return found;
}

/* One string member into `v` (its name for messages in name_buf). */
static sesctl_err json_string(struct state *st, const cJSON *root,
			      const char *what, const char *name,
			      bool required, struct val *v, char *name_buf,
			      size_t name_size, bool *have)
{
	const cJSON *m;
	bool dup = false;

	memset(v, 0, sizeof(*v));
	creds_set_text(name_buf, name_size, "%s: '%s'", what, name);
	v->name = name_buf;
	*have = false;
	m = json_member(root, name, &dup);
	if (dup)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s has '%s' more than once", what, name);
	if (!m || cJSON_IsNull(m)) {
		if (required)
			return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
				       "%s has no '%s'", what, name);
		return SESCTL_OK;
	}
	if (!cJSON_IsString(m) || !m->valuestring)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s: '%s' is not a string", what, name);
	v->p = (const unsigned char *)m->valuestring;
	v->len = strlen(m->valuestring);
	*have = true;
	return SESCTL_OK;
}

sesctl_err creds_json_creds(struct state *st, const struct secret *text,
			    const char *what, const char *token_name,
			    unsigned flags, struct creds *out)
{
	cJSON_Hooks hooks = { secret_lib_malloc, secret_lib_free };
	char n_id[CREDS_SOURCE_MAX], n_secret[CREDS_SOURCE_MAX];
	char n_token[CREDS_SOURCE_MAX], n_exp[CREDS_SOURCE_MAX];
	char iso[64];
	struct val id, secret, token, exp;
	bool have_id, have_secret, have_token, have_exp, dup = false;
	const cJSON *ver;
	cJSON *root = NULL;
	time_t t = 0;
	sesctl_err rc = SESCTL_OK;

	cJSON_InitHooks(&hooks);
	root = cJSON_ParseWithLength((const char *)text->p, text->len);
	ENSURE(root && cJSON_IsObject(root),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "%s is not a JSON object%s", what,
		       text->len ? "" : " (it is empty)"));
	if (flags & JC_VERSION) {
		ver = json_member(root, "Version", &dup);
		ENSURE(ver && !dup,
		       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s has %s 'Version'; it must be 1", what,
			       dup ? "more than one" : "no"));
		ENSURE(cJSON_IsNumber(ver),
		       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s: 'Version' is not a number; it must be 1",
			       what));
		ENSURE(ver->valuedouble == 1.0,
		       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s: 'Version' is %g; sesctl, like the AWS CLI, "
			       "supports only 1",
			       what, ver->valuedouble));
	}
	TRY(json_string(st, root, what, "AccessKeyId", true, &id, n_id,
			sizeof(n_id), &have_id));
	TRY(json_string(st, root, what, "SecretAccessKey", true, &secret,
			n_secret, sizeof(n_secret), &have_secret));
	TRY(json_string(st, root, what, token_name, flags & JC_TOKEN, &token,
			n_token, sizeof(n_token), &have_token));
	TRY(json_string(st, root, what, "Expiration", flags & JC_EXPIRATION,
			&exp, n_exp, sizeof(n_exp), &have_exp));
	if (have_exp) {
		ENSURE(exp.len < sizeof(iso),
		       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s: 'Expiration' is not an ISO 8601 time",
			       what));
		memcpy(iso, exp.p, exp.len);
		iso[exp.len] = '\0';
		ENSURE(iam_xml_parse_date(iso, &t) == SESCTL_OK,
		       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "%s: 'Expiration' is not an ISO 8601 time "
			       "(like 2030-01-02T03:04:05Z)",
			       what));
		if (t <= ctx_now(st->ctx)) {
			ENSURE(flags & JC_EXPIRED_OK,
			       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
				       "%s: the credentials expired at %s",
				       what, iso));
			ctx_warn(st->ctx,
				 "%s: the credentials expired at %s; using "
				 "them anyway, as the AWS SDKs do",
				 what, iso);
		}
	}
	TRY(creds_fill(st, &id, &secret, have_token ? &token : NULL, out));
	out->expiration = t;
out:
	cJSON_Delete(root);
	return rc;
}
