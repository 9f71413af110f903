/* chain.c - the caller's credentials: the provider chain (see creds.h);
 * the shared files' parser is ini.c.
 *
 * Behaviour follows the AWS CLI v2 and the botocore it bundles
 * (aws/aws-cli v2 awscli/botocore/{credentials,configloader,session,
 * configprovider}.py; stock botocore 1.43 behaves the same except where
 * noted):
 *
 * - Profile: --profile > AWS_PROFILE > AWS_DEFAULT_PROFILE > "default"
 *   (configprovider.py 'profile' env list; stock botocore and AWS CLI v1
 *   check AWS_DEFAULT_PROFILE first, so we warn when the two differ).
 * - An explicit --profile removes the env provider from the chain
 *   (credentials.py create_credential_resolver, "An explicitly provided
 *   profile will negate an EnvProvider"); AWS_PROFILE does not.
 * - A named profile (--profile or either variable) must exist in one of
 *   the two files, even when the environment has credentials
 *   (session.py get_scoped_config: ProfileNotFound).
 * - Env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, token from
 *   AWS_SECURITY_TOKEN then AWS_SESSION_TOKEN (EnvProvider.TOKENS order);
 *   empty variables count as unset.  Divergence: botocore ignores a lone
 *   AWS_SECRET_ACCESS_KEY; we refuse it, as we refuse a lone key id, so a
 *   typo never silently selects another identity.
 * - Shared credentials file: section [name] (no "profile " prefix);
 *   tried before the config file's [profile name] / [default]
 *   (ProfileProviderBuilder.providers order).  A provider applies when its
 *   section has aws_access_key_id; the secret must then be in the same
 *   section (PartialCredentialsError); token aws_security_token, else
 *   aws_session_token (SharedCredentialProvider.TOKENS: the first present).
 *   Divergence as for env: a section with only the secret is an error.
 * - Region: the profile's `region` from the credentials file section if
 *   it has one, else from the config file (session.py full_config merges
 *   credentials-file sections over config profiles key by key).
 * - Files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (a leading "~/"
 *   is $HOME, else the passwd entry's home, as expanduser), else
 *   ~/.aws/config and ~/.aws/credentials.  A missing file (ENOENT,
 *   ENOTDIR) is no file.  Divergence: one that exists but cannot be read
 *   (permissions, a directory) is an error with the path and strerror;
 *   botocore skips it silently, which turns into a baffling "no
 *   credentials".  Each file is read whole with read(2) into a struct
 *   secret (at most CREDS_FILE_MAX), parsed in place, and wiped after.
 * - Values (stricter than botocore, which passes anything on to AWS): a
 *   key id is 16 to 128 of [A-Z0-9]; a secret or token has no whitespace
 *   or control characters; a value continued on indented lines is
 *   refused for the keys sesctl reads.  No message quotes a value.
 * - The other providers (assume-role, credential_process, container,
 *   instance metadata) follow botocore's AssumeRoleProvider,
 *   ProcessProvider, ContainerProvider and InstanceMetadataFetcher; each
 *   has a section below that says how, and where sesctl differs.  Profile
 *   settings they read come from the merged profile (creds_prof_get).
 * - Environment variables are read through creds_opts.env, so the unit
 *   tests never touch the real environment; credential_process runs with
 *   the real one, as botocore's does.
 *
 * Exit-code choices are in creds.h.
 */
#include "creds_int.h"

#include <pwd.h>

#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "config.h"

/* ------------------------------------------------------------------ */
/* Resolution state shared by the providers. */

const char *creds_env_get(creds_env_fn env, const char *name)
{
	const char *v = env ? env(name) : getenv(name);

	return (v && *v) ? v : NULL;
}

/* Format into a fixed buffer; on truncation end it with "...". */
void creds_set_text(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		dst[0] = '\0';
	else if ((size_t)n >= size && size >= 4)
		memcpy(dst + size - 4, "...", 4);
}

void creds_looked_add(struct state *st, const char *fmt, ...)
{
	size_t room = sizeof(st->looked) - st->looked_len;
	va_list ap;
	int n;

	if (room < 8)
		return;
	if (st->looked_len) {
		memcpy(st->looked + st->looked_len, ", ", 3);
		st->looked_len += 2;
		room -= 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(st->looked + st->looked_len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		st->looked[st->looked_len] = '\0';
	else if ((size_t)n >= room)
		st->looked_len = sizeof(st->looked) - 1;
	else
		st->looked_len += (size_t)n;
}

/* $HOME, else the password database (as Python's expanduser); NULL if
 * neither knows. */
static const char *home_dir(struct state *st)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	const char *h;

	if (st->home_looked)
		return st->home[0] ? st->home : NULL;
	st->home_looked = true;
	h = creds_env_get(st->env, "HOME");
	if (!h && getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res && res->pw_dir && *res->pw_dir)
		h = res->pw_dir;
	if (h && strlen(h) < sizeof(st->home))
		memcpy(st->home, h, strlen(h) + 1);
	return st->home[0] ? st->home : NULL;
}

/* The path of a shared file: $var (a leading "~/" expanded), else
 * ~/.aws/<base>.  $VAR references inside are not expanded (botocore
 * applies os.path.expandvars; sesctl does not). */
static sesctl_err file_path(struct state *st, const char *var,
			    const char *base, char *out, size_t size)
{
	const char *v = creds_env_get(st->env, var), *home;
	int n;

	if (v && !(v[0] == '~' && (v[1] == '/' || v[1] == '\0'))) {
		n = snprintf(out, size, "%s", v);
	} else {
		home = home_dir(st);
		if (v)
			n = snprintf(out, size, "%s%s", home ? home : "~", v + 1);
		else
			n = snprintf(out, size, "%s/.aws/%s", home ? home : "~",
				     base);
	}
	if (n < 0 || (size_t)n >= size)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "the path of the AWS %s file is too long%s%s",
			       base, v ? "; check " : "", v ? var : "");
	return SESCTL_OK;
}

static void state_init(struct state *st, struct ctx *ctx,
		       const struct creds_opts *o)
{
	static const struct creds_net_opts net_defaults;

	memset(st, 0, sizeof(*st));
	st->ctx = ctx;
	st->net = &net_defaults;
	st->region = o->region;
	st->env = o->env;
	st->profile = creds_profile(o, &st->profile_origin);
	st->cli_profile = o->profile != NULL;
	st->config.is_config = true;
	st->config.dflt = NO_INDEX;
	st->credentials.dflt = NO_INDEX;
}

static void state_release(struct state *st)
{
	creds_ini_release(&st->config);
	creds_ini_release(&st->credentials);
}

/* The "profile not found" error, with a hint for the usual mix-up of the
 * two files' section names. */
static sesctl_err profile_not_found(struct state *st)
{
	const struct ini_file *c = &st->config, *k = &st->credentials;
	char hint[ERR_MSG_MAX / 2] = "";
	char wrong[CREDS_SOURCE_MAX];

	creds_set_text(wrong, sizeof(wrong), "profile %s", st->profile);
	if (k->present && creds_ini_section_named(k, wrong) != NO_INDEX)
		creds_set_text(
			hint, sizeof(hint),
			"\nin '%s' the section is '[%s]', without 'profile'",
			k->path, st->profile);
	else if (c->present && strcmp(st->profile, "default") != 0 &&
		 creds_ini_section_named(c, st->profile) != NO_INDEX)
		creds_set_text(hint, sizeof(hint),
			       "\nin '%s' the section is '[profile %s]'",
			       c->path, st->profile);
	return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
		       "profile '%s' (from %s) not found in '%s'%s or "
		       "'%s'%s%s",
		       st->profile, st->profile_origin, c->path,
		       c->present ? "" : " (no such file)", k->path,
		       k->present ? "" : " (no such file)", hint);
}

/* Find and read both files; check that a named profile exists. */
static sesctl_err state_load(struct state *st)
{
	sesctl_err rc = SESCTL_OK;

	if (st->files_loaded)
		return SESCTL_OK;
	st->files_loaded = true;
	TRY(file_path(st, "AWS_CONFIG_FILE", "config", st->config.path,
		      sizeof(st->config.path)));
	TRY(file_path(st, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
		      st->credentials.path, sizeof(st->credentials.path)));
	TRY(creds_ini_load(st->ctx, &st->config));
	TRY(creds_ini_load(st->ctx, &st->credentials));
	if (st->profile_origin &&
	    creds_ini_profile_section(&st->config, st->profile) == NO_INDEX &&
	    creds_ini_section_named(&st->credentials, st->profile) == NO_INDEX)
		rc = profile_not_found(st);
out:
	return rc;
}

/* ------------------------------------------------------------------ */
/* The chain: one row per provider, each a creds_provider_fn in its own
 * file (creds_int.h says which and what it returns).
 *
 * botocore's order (credentials.py create_credential_resolver and
 * ProfileProviderBuilder.providers); botocore's OriginalEC2Provider and
 * BotoProvider (boto2's AWS_CREDENTIAL_FILE, /etc/boto.cfg) between
 * config-file and container are not followed. */
static const struct creds_provider {
	const char *name;
	creds_provider_fn load;
} providers[] = {
	{ "env", creds_provider_env },
	{ "assume-role", creds_provider_assume_role },
	{ "web-identity/sso", creds_provider_unsupported },
	{ "shared-credentials-file", creds_provider_credentials_file },
	{ "custom-process", creds_provider_process },
	{ "config-file", creds_provider_config_file },
	{ "container-role", creds_provider_container },
	{ "iam-role", creds_provider_imds },
};

/* ------------------------------------------------------------------ */
/* The interface. */

void creds_init(struct creds *c)
{
	memset(c, 0, sizeof(*c));
}

void creds_release(struct creds *c)
{
	if (!c)
		return;
	secret_free(&c->secret_key);
	secret_free(&c->session_token);
	memset(c, 0, sizeof(*c));
}

const char *creds_profile(const struct creds_opts *o, const char **origin)
{
	static const char *const vars[] = { "AWS_PROFILE",
					    "AWS_DEFAULT_PROFILE" };
	const char *v;
	size_t i;

	if (o->profile) {
		if (origin)
			*origin = "--profile";
		return o->profile;
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = creds_env_get(o->env, vars[i]);
		if (v) {
			if (origin)
				*origin = vars[i];
			return v;
		}
	}
	if (origin)
		*origin = NULL;
	return "default";
}

static void note_profile(struct state *st)
{
	const char *a = creds_env_get(st->env, "AWS_PROFILE");
	const char *d = creds_env_get(st->env, "AWS_DEFAULT_PROFILE");

	if (!st->cli_profile && a && d && strcmp(a, d) != 0)
		ctx_warn(st->ctx,
			 "AWS_PROFILE ('%s') and AWS_DEFAULT_PROFILE ('%s') "
			 "differ; using '%s' as AWS CLI v2 does (v1 would use "
			 "'%s')",
			 a, d, a, d);
	ctx_debug(st->ctx, "profile '%s'%s%s", st->profile,
		  st->profile_origin ? " from " : " (implicit)",
		  st->profile_origin ? st->profile_origin : "");
}

sesctl_err creds_resolve(struct ctx *ctx, const struct creds_opts *o,
			 struct creds *out)
{
	return creds_resolve_net(ctx, o, NULL, out);
}

sesctl_err creds_resolve_net(struct ctx *ctx, const struct creds_opts *o,
			     const struct creds_net_opts *net,
			     struct creds *out)
{
	struct state st;
	sesctl_err rc = SESCTL_OK;
	bool found = false;
	size_t i;

	creds_release(out);
	state_init(&st, ctx, o);
	if (net)
		st.net = net;
	note_profile(&st);
	TRY(state_load(&st));
	ENSURE(strlen(st.profile) <= PROFILE_MAX,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "the profile name from %s is longer than %d characters",
		       st.profile_origin ? st.profile_origin : "the default",
		       PROFILE_MAX));
	(void)creds_prof_find(&st, st.profile, strlen(st.profile), &st.top);
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]) && !found;
	     i++) {
		TRY(providers[i].load(&st, out, &found));
		if (found)
			out->provider = providers[i].name;
	}
	if (!found) {
		if (st.cli_profile)
			rc = err_setk(&ctx->err, SESCTL_ERR_FAIL,
				      "no-credentials",
				      "no AWS credentials found; looked in %s\n"
				      "run 'aws configure --profile %s'",
				      st.looked, st.profile);
		else
			rc = err_setk(&ctx->err, SESCTL_ERR_FAIL,
				      "no-credentials",
				      "no AWS credentials found; looked in %s\n"
				      "run 'aws configure', or set "
				      "AWS_ACCESS_KEY_ID and "
				      "AWS_SECRET_ACCESS_KEY",
				      st.looked);
		goto out;
	}
	ctx_debug(ctx, "credentials from %s: access key id %s%s", out->source,
		  out->access_key_id,
		  out->session_token.len ? " with a session token" : "");
	if (out->expiration)
		ctx_debug(ctx, "they expire in %lld s",
			  (long long)(out->expiration - ctx_now(ctx)));
out:
	state_release(&st);
	if (rc != SESCTL_OK)
		creds_release(out);
	return rc;
}

/* `region` of the profile into `out`: the credentials file's, else the
 * config file's.  *found false if neither has one. */
sesctl_err creds_profile_region(struct state *st, struct creds_region *out,
				bool *found)
{
	const struct ini_file *files[] = { &st->credentials, &st->config };
	struct val v;
	uint32_t sect;
	sesctl_err rc;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct ini_file *f = files[i];

		if (!f->present)
			continue;
		sect = f->is_config ?
			       creds_ini_profile_section(f, st->profile) :
			       creds_ini_section_named(f, st->profile);
		/* An empty value counts as unset (botocore would use ''). */
		if (!creds_val_from_file(f, sect, "region", &v) ||
		    (v.len == 0 && !v.flags))
			continue;
		rc = creds_val_check_shape(st, &v);
		if (rc != SESCTL_OK)
			return rc;
		if (v.len > CREDS_REGION_MAX)
			return creds_val_error(st, &v,
					       "is too long for a region");
		memcpy(out->name, v.p, v.len);
		out->name[v.len] = '\0';
		creds_set_text(out->source, sizeof(out->source),
			       "profile '%s' in '%s'", st->profile, f->path);
		*found = true;
		return SESCTL_OK;
	}
	return SESCTL_OK;
}

/* The region STS is called in (see creds_opts.region); NULL: none, the
 * global endpoint.  A malformed profile region is left to STS's endpoint
 * check; a file error here was already seen by state_load. */
void creds_sts_region(struct state *st, const char **region)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
	struct creds_region r;
	const char *v = NULL;
	bool found = false;
	size_t i;

	*region = st->region;
	if (*region)
		return;
	if (!st->sts_region_done) {
		st->sts_region_done = true;
		for (i = 0; !v && i < sizeof(vars) / sizeof(vars[0]); i++)
			v = creds_env_get(st->env, vars[i]);
		if (v && strlen(v) <= CREDS_REGION_MAX) {
			memcpy(st->sts_region, v, strlen(v) + 1);
		} else if (!v) {
			memset(&r, 0, sizeof(r));
			if (creds_profile_region(st, &r, &found) == SESCTL_OK &&
			    found)
				memcpy(st->sts_region, r.name,
				       sizeof(st->sts_region));
		}
	}
	*region = st->sts_region[0] ? st->sts_region : NULL;
}

sesctl_err creds_region(struct ctx *ctx, const struct creds_opts *o,
			struct creds_region *out)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
	const char *v = o->region;
	const char *from = "--region";
	struct state st;
	sesctl_err rc = SESCTL_OK;
	bool found = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	state_init(&st, ctx, o);
	for (i = 0; !v && i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = creds_env_get(o->env, vars[i]);
		from = vars[i];
	}
	if (v) {
		ENSURE(strlen(v) <= CREDS_REGION_MAX,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "the region from %s is too long (over %d "
			       "characters)",
			       from, CREDS_REGION_MAX));
		memcpy(out->name, v, strlen(v) + 1);
		creds_set_text(out->source, sizeof(out->source), "%s", from);
		found = true;
	} else {
		note_profile(&st);
		TRY(state_load(&st));
		TRY(creds_profile_region(&st, out, &found));
	}
	if (!found) {
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
			     "no region: pass --region, set AWS_REGION, or "
			     "set 'region' in profile '%s' in '%s' ('aws "
			     "configure set region us-east-1%s%s')",
			     st.profile, st.config.path,
			     st.profile_origin ? " --profile " : "",
			     st.profile_origin ? st.profile : "");
		goto out;
	}
	ctx_debug(ctx, "region '%s' from %s", out->name, out->source);
out:
	state_release(&st);
	if (rc != SESCTL_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}
