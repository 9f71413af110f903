/* profile.c - profiles as botocore merges them: checking and copying
 * values, reading a profile's settings, the settings sesctl refuses, and
 * the shared-credentials-file and config-file providers (see
 * creds_int.h). */
#include "creds_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* ------------------------------------------------------------------ */
/* Checking and copying values. */

bool creds_val_from_env(struct state *st, const char *name, struct val *v)
{
	const char *s = creds_env_get(st->env, name);

	memset(v, 0, sizeof(*v));
	v->name = name;
	if (!s)
		return false;
	v->p = (const unsigned char *)s;
	v->len = strlen(s);
	return true;
}

bool creds_val_from_file(const struct ini_file *f, uint32_t sect,
			 const char *key, struct val *v)
{
	const struct ini_entry *e = creds_ini_get(f, sect, key);

	memset(v, 0, sizeof(*v));
	v->name = key;
	if (!e)
		return false;
	v->p = f->text.p + e->val_off;
	v->len = e->val_len;
	v->file = f;
	v->line = e->line;
	v->flags = e->flags;
	return true;
}

/* "AWS_SECRET_ACCESS_KEY <problem>" or "'<path>' line N:
 * 'aws_secret_access_key' of profile 'x' <problem>". */
sesctl_err creds_val_error(struct state *st, const struct val *v,
			   const char *problem)
{
	if (!v->file)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT, "%s %s",
			       v->name, problem);
	return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "'%s' line %u: '%s' of profile '%s' %s", v->file->path,
		       (unsigned)v->line, v->name,
		       v->profile ? v->profile : st->profile, problem);
}

sesctl_err creds_val_check_shape(struct state *st, const struct val *v)
{
	if (v->flags & ENT_NESTED)
		return creds_val_error(st, v,
				       "is an indented block, not a value");
	if (v->flags & ENT_MULTILINE)
		return creds_val_error(
			st, v,
			"continues on the indented line after it; "
			"a value must fit on one line");
	return SESCTL_OK;
}

/* Secret key or session token: non-empty, no whitespace or controls. */
static sesctl_err val_check_secret(struct state *st, const struct val *v)
{
	sesctl_err rc = creds_val_check_shape(st, v);
	bool bad = false, comment = false;
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	if (v->len == 0)
		return creds_val_error(st, v, "is empty");
	for (i = 0; i < v->len; i++) {
		if (v->p[i] <= 0x20 || v->p[i] == 0x7f) {
			bad = true;
			if (i + 1 < v->len &&
			    (v->p[i + 1] == '#' || v->p[i + 1] == ';'))
				comment = true;
		}
	}
	if (!bad)
		return SESCTL_OK;
	return creds_val_error(
		st, v,
		comment && v->file ?
			"contains whitespace; comments must be on "
			"lines of their own" :
			"contains whitespace or control characters");
}

static sesctl_err val_check_key_id(struct state *st, const struct val *v)
{
	sesctl_err rc = creds_val_check_shape(st, v);
	bool upper = true, secret_like = true;
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	for (i = 0; i < v->len; i++) {
		unsigned char c = v->p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			upper = false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '/' || c == '+'))
			secret_like = false;
	}
	if (upper && v->len >= CREDS_ACCESS_KEY_ID_MIN &&
	    v->len <= CREDS_ACCESS_KEY_ID_MAX)
		return SESCTL_OK;
	/* Never quote the value: it may be the secret, pasted in the
	 * wrong place. */
	return creds_val_error(
		st, v,
		secret_like && v->len == 40 ?
			"is not an access key id but looks like a "
			"secret access key; are the two swapped?" :
			"is not an access key id (16 to 128 capital "
			"letters and digits, like "
			"'AKIAIOSFODNN7EXAMPLE')");
}

/* Check and copy a provider's find into `out`. */
sesctl_err creds_fill(struct state *st, const struct val *id,
		      const struct val *secret, const struct val *token,
		      struct creds *out)
{
	sesctl_err rc = SESCTL_OK;

	TRY(val_check_key_id(st, id));
	TRY(val_check_secret(st, secret));
	if (token) {
		TRY(creds_val_check_shape(st, token));
		if (token->len == 0) /* botocore: '' is no token */
			token = NULL;
		else
			TRY(val_check_secret(st, token));
	}
	memcpy(out->access_key_id, id->p, id->len);
	out->access_key_id[id->len] = '\0';
	rc = secret_set(&out->secret_key, secret->p, secret->len);
	if (rc == SESCTL_OK && token)
		rc = secret_set(&out->session_token, token->p, token->len);
	if (rc != SESCTL_OK)
		rc = err_set(&st->ctx->err, rc,
			     "cannot hold the credentials in memory");
out:
	return rc;
}

/* ------------------------------------------------------------------ */
/* Profiles as botocore merges them. */

/* Fill `p` for profile `name` (len bytes); false if neither file has it
 * or the name is longer than PROFILE_MAX. */
bool creds_prof_find(struct state *st, const char *name, size_t len,
		     struct prof *p)
{
	memset(p, 0, sizeof(*p));
	p->cred = p->conf = NO_INDEX;
	if (len > PROFILE_MAX || memchr(name, '\0', len))
		return false;
	memcpy(p->name, name, len);
	p->name[len] = '\0';
	p->cred = creds_ini_section_named(&st->credentials, p->name);
	p->conf = creds_ini_profile_section(&st->config, p->name);
	return p->cred != NO_INDEX || p->conf != NO_INDEX;
}

/* `key` of profile `p`: the credentials file's value, else the config
 * file's (each falling back to its file's [DEFAULT]). */
bool creds_prof_get(struct state *st, const struct prof *p, const char *key,
		    struct val *v)
{
	bool have = creds_val_from_file(&st->credentials, p->cred, key, v) ||
		    creds_val_from_file(&st->config, p->conf, key, v);

	v->profile = p->name;
	return have;
}

/* A setting's value as a C string in buf[size]: one line, no control
 * characters, not empty unless `empty_ok`. */
sesctl_err creds_val_text(struct state *st, const struct val *v, bool empty_ok,
			  char *buf, size_t size)
{
	sesctl_err rc = creds_val_check_shape(st, v);
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	if (v->len == 0 && !empty_ok)
		return creds_val_error(st, v, "is empty");
	if (v->len >= size)
		return creds_val_error(st, v, "is too long");
	for (i = 0; i < v->len; i++)
		if (v->p[i] < 0x20 || v->p[i] == 0x7f)
			return creds_val_error(st, v,
					       "contains control characters");
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	return SESCTL_OK;
}

/* "'<path>' line N" of a file entry, for messages. */
void creds_val_where(const struct val *v, char *buf, size_t size)
{
	if (v->file)
		creds_set_text(buf, size, "'%s' line %u", v->file->path,
			       (unsigned)v->line);
	else
		creds_set_text(buf, size, "the environment");
}

/* What st->looked gained since `mark`, without the leading ", ". */
const char *creds_looked_since(const struct state *st, size_t mark)
{
	const char *s = st->looked + mark;

	if (mark && strncmp(s, ", ", 2) == 0)
		s += 2;
	return *s ? s : "nothing";
}

bool creds_env_true(struct state *st, const char *name)
{
	const char *v = creds_env_get(st->env, name);

	return v && strcasecmp(v, "true") == 0;
}

/* Pause between attempts at the container endpoint (botocore's one
 * second); test builds shorten it with SESCTL_TEST_RETRY_BASE_MS. */
long creds_retry_pause_ms(struct state *st)
{
#if SESCTL_TEST_HOOKS
	const char *v = creds_env_get(st->env, "SESCTL_TEST_RETRY_BASE_MS");

	if (v)
		return strtol(v, NULL, 10);
#else
	(void)st;
#endif
	return 1000L;
}

/* --ca-bundle, else $AWS_CA_BUNDLE, else NULL (the system's CAs). */
const char *creds_ca_bundle(struct state *st)
{
	return st->net->ca_bundle ? st->net->ca_bundle :
				    creds_env_get(st->env, "AWS_CA_BUNDLE");
}

/* ------------------------------------------------------------------ */
/* Settings that botocore would act on and sesctl cannot. */

sesctl_err creds_check_unsupported(struct state *st, const struct prof *p,
				   bool env_ok)
{
	static const char *const sso_keys[] = { "sso_account_id",
						"sso_role_name" };
	struct val v;
	size_t i;

	if (env_ok && creds_env_get(st->env, "AWS_WEB_IDENTITY_TOKEN_FILE"))
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_WEB_IDENTITY_TOKEN_FILE is set (web "
			       "identity, as on EKS with IRSA), which sesctl "
			       "does not support; run 'eval \"$(aws configure "
			       "export-credentials --format env)\"' first, or "
			       "unset it");
	if (creds_prof_get(st, p, "web_identity_token_file", &v))
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "'web_identity_token_file' of profile '%s' is "
			       "set: sesctl does not support web identity\n"
			       "run 'aws configure export-credentials "
			       "--profile %s --format process' as the "
			       "profile's credential_process instead",
			       p->name, p->name);
	for (i = 0; i < sizeof(sso_keys) / sizeof(sso_keys[0]); i++)
		if (creds_prof_get(st, p, sso_keys[i], &v))
			return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
				       "profile '%s' uses IAM Identity Center "
				       "(SSO; '%s'), which sesctl does not "
				       "support\nput 'credential_process = aws "
				       "configure export-credentials --profile "
				       "%s --format process' in another "
				       "profile and use that",
				       p->name, sso_keys[i], p->name);
	return SESCTL_OK;
}

/* Web identity and SSO, which botocore tries next: refused clearly. */
sesctl_err creds_provider_unsupported(struct state *st, struct creds *out,
				      bool *found)
{
	(void)out;
	(void)found;
	return creds_check_unsupported(st, &st->top, !st->cli_profile);
}

/* ------------------------------------------------------------------ */
/* The file providers, for any profile. */

/* The part the two file providers share, once `sect` is known. */
static sesctl_err provider_file_section(struct state *st,
					const struct ini_file *f,
					uint32_t sect, const char *profile,
					const char *missing,
					struct creds *out, bool *found)
{
	struct val id, secret, token;
	bool have_id, have_secret, have_token;
	sesctl_err rc = SESCTL_OK;

	if (sect == NO_INDEX) {
		creds_looked_add(st, "profile '%s' in '%s' (%s)", profile,
				 f->path, missing);
		return SESCTL_OK;
	}
	have_id = creds_val_from_file(f, sect, "aws_access_key_id", &id);
	have_secret =
		creds_val_from_file(f, sect, "aws_secret_access_key", &secret);
	id.profile = secret.profile = profile;
	if (!have_id && !have_secret) {
		creds_looked_add(
			st, "profile '%s' in '%s' (no 'aws_access_key_id')",
			profile, f->path);
		return SESCTL_OK;
	}
	/* A value that swallowed the next lines is the likelier story
	 * than a missing key. */
	if (have_id)
		rc = creds_val_check_shape(st, &id);
	if (rc == SESCTL_OK && have_secret)
		rc = creds_val_check_shape(st, &secret);
	if (rc != SESCTL_OK)
		return rc;
	if (!have_secret)
		return creds_val_error(
			st, &id, "is set but 'aws_secret_access_key' is not");
	if (!have_id)
		return creds_val_error(st, &secret,
				       "is set but 'aws_access_key_id' is not");
	have_token =
		creds_val_from_file(f, sect, "aws_security_token", &token) ||
		creds_val_from_file(f, sect, "aws_session_token", &token);
	token.profile = profile;
	rc = creds_fill(st, &id, &secret, have_token ? &token : NULL, out);
	if (rc != SESCTL_OK)
		return rc;
	creds_set_text(out->source, sizeof(out->source), "profile '%s' in '%s'",
		       profile, f->path);
	*found = true;
	return SESCTL_OK;
}

sesctl_err creds_from_credentials_file(struct state *st, const struct prof *p,
				       struct creds *out, bool *found)
{
	const struct ini_file *f = &st->credentials;
	char missing[CREDS_SOURCE_MAX];

	if (!f->present) {
		creds_looked_add(st, "profile '%s' in '%s' (no such file)",
				 p->name, f->path);
		return SESCTL_OK;
	}
	creds_set_text(missing, sizeof(missing), "no '[%s]' section", p->name);
	return provider_file_section(st, f, p->cred, p->name, missing, out,
				     found);
}

sesctl_err creds_from_config_file(struct state *st, const struct prof *p,
				  struct creds *out, bool *found)
{
	const struct ini_file *f = &st->config;
	char missing[CREDS_SOURCE_MAX];

	if (!f->present) {
		creds_looked_add(st, "profile '%s' in '%s' (no such file)",
				 p->name, f->path);
		return SESCTL_OK;
	}
	if (strcmp(p->name, "default") == 0)
		creds_set_text(missing, sizeof(missing),
			       "no '[default]' section");
	else
		creds_set_text(missing, sizeof(missing),
			       "no '[profile %s]' section", p->name);
	return provider_file_section(st, f, p->conf, p->name, missing, out,
				     found);
}

sesctl_err creds_provider_credentials_file(struct state *st, struct creds *out,
					   bool *found)
{
	return creds_from_credentials_file(st, &st->top, out, found);
}

sesctl_err creds_provider_config_file(struct state *st, struct creds *out,
				      bool *found)
{
	return creds_from_config_file(st, &st->top, out, found);
}
