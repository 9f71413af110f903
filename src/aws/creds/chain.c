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
 *   settings they read come from the merged profile (prof_get).
 * - Environment variables are read through creds_opts.env, so the unit
 *   tests never touch the real environment; credential_process runs with
 *   the real one, as botocore's does.
 *
 * Exit-code choices are in creds.h.
 */
#include "creds_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "sesctl/base/backoff.h"
#include "sesctl/aws/http.h"
#include "sesctl/aws/iam_xml.h"
#include "sesctl/aws/sts.h"

/* ------------------------------------------------------------------ */
/* Resolution state shared by the providers. */

/* Longest profile name sesctl follows through source_profile, and the
 * longest chain of them. */
#define PROFILE_MAX 256
#define CHAIN_MAX 16

/* A profile as botocore merges it (session.py full_config): the
 * credentials file's [name] over the config file's [profile name]. */
struct prof {
	char name[PROFILE_MAX + 1];
	uint32_t cred; /* its section in the credentials file, or NO_INDEX */
	uint32_t conf; /* its section in the config file, or NO_INDEX */
};

struct state {
	struct ctx *ctx;
	const struct creds_net_opts *net; /* never NULL */
	const char *region;         /* creds_opts.region */
	creds_env_fn env;
	const char *profile;        /* never NULL */
	const char *profile_origin; /* NULL: the implicit "default" */
	bool cli_profile;           /* --profile given: no env provider */
	bool files_loaded;
	struct ini_file config, credentials;
	char home[PATH_MAX];
	bool home_looked;
	char looked[ERR_MSG_MAX];   /* "where we looked", for the last error */
	size_t looked_len;
	struct prof top;            /* st->profile, once the files are read */
	/* assume-role: the profiles visited through source_profile */
	char visited[CHAIN_MAX + 1][PROFILE_MAX + 1];
	size_t n_visited;
	char sts_region[CREDS_REGION_MAX + 1];
	bool sts_region_done;
};

static const char *env_get(creds_env_fn env, const char *name)
{
	const char *v = env ? env(name) : getenv(name);

	return (v && *v) ? v : NULL;
}

/* Format into a fixed buffer; on truncation end it with "...". */
static void set_text(char *dst, size_t size, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void set_text(char *dst, size_t size, const char *fmt, ...)
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

static void looked_add(struct state *st, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

static void looked_add(struct state *st, const char *fmt, ...)
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
	h = env_get(st->env, "HOME");
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
	const char *v = env_get(st->env, var), *home;
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
	ini_release(&st->config);
	ini_release(&st->credentials);
}

/* The "profile not found" error, with a hint for the usual mix-up of the
 * two files' section names. */
static sesctl_err profile_not_found(struct state *st)
{
	const struct ini_file *c = &st->config, *k = &st->credentials;
	char hint[ERR_MSG_MAX / 2] = "";
	char wrong[CREDS_SOURCE_MAX];

	set_text(wrong, sizeof(wrong), "profile %s", st->profile);
	if (k->present && ini_section_named(k, wrong) != NO_INDEX)
		set_text(hint, sizeof(hint),
			 "\nin '%s' the section is '[%s]', without 'profile'",
			 k->path, st->profile);
	else if (c->present && strcmp(st->profile, "default") != 0 &&
		 ini_section_named(c, st->profile) != NO_INDEX)
		set_text(hint, sizeof(hint),
			 "\nin '%s' the section is '[profile %s]'", c->path,
			 st->profile);
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
	TRY(ini_load(st->ctx, &st->config));
	TRY(ini_load(st->ctx, &st->credentials));
	if (st->profile_origin &&
	    ini_profile_section(&st->config, st->profile) == NO_INDEX &&
	    ini_section_named(&st->credentials, st->profile) == NO_INDEX)
		rc = profile_not_found(st);
out:
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checking and copying values. */

/* A value from the environment (file == NULL) or a file entry. */
struct val {
	const unsigned char *p;
	size_t len;
	const struct ini_file *file;
	uint32_t line;
	uint32_t flags;
	const char *name; /* "AWS_SECRET_ACCESS_KEY" or "aws_secret_access_key" */
	const char *profile; /* the profile of a file entry; NULL: st->profile */
};

static bool val_from_env(struct state *st, const char *name, struct val *v)
{
	const char *s = env_get(st->env, name);

	memset(v, 0, sizeof(*v));
	v->name = name;
	if (!s)
		return false;
	v->p = (const unsigned char *)s;
	v->len = strlen(s);
	return true;
}

static bool val_from_file(const struct ini_file *f, uint32_t sect,
			  const char *key, struct val *v)
{
	const struct ini_entry *e = ini_get(f, sect, key);

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
static sesctl_err val_error(struct state *st, const struct val *v,
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

static sesctl_err val_check_shape(struct state *st, const struct val *v)
{
	if (v->flags & ENT_NESTED)
		return val_error(st, v, "is an indented block, not a value");
	if (v->flags & ENT_MULTILINE)
		return val_error(st, v,
				 "continues on the indented line after it; "
				 "a value must fit on one line");
	return SESCTL_OK;
}

/* Secret key or session token: non-empty, no whitespace or controls. */
static sesctl_err val_check_secret(struct state *st, const struct val *v)
{
	sesctl_err rc = val_check_shape(st, v);
	bool bad = false, comment = false;
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	if (v->len == 0)
		return val_error(st, v, "is empty");
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
	return val_error(st, v,
			 comment && v->file ?
				 "contains whitespace; comments must be on "
				 "lines of their own" :
				 "contains whitespace or control characters");
}

static sesctl_err val_check_key_id(struct state *st, const struct val *v)
{
	sesctl_err rc = val_check_shape(st, v);
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
	return val_error(st, v,
			 secret_like && v->len == 40 ?
				 "is not an access key id but looks like a "
				 "secret access key; are the two swapped?" :
				 "is not an access key id (16 to 128 capital "
				 "letters and digits, like "
				 "'AKIAIOSFODNN7EXAMPLE')");
}

/* Check and copy a provider's find into `out`. */
static sesctl_err creds_fill(struct state *st, const struct val *id,
			     const struct val *secret, const struct val *token,
			     struct creds *out)
{
	sesctl_err rc = SESCTL_OK;

	TRY(val_check_key_id(st, id));
	TRY(val_check_secret(st, secret));
	if (token) {
		TRY(val_check_shape(st, token));
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
static bool prof_find(struct state *st, const char *name, size_t len,
		      struct prof *p)
{
	memset(p, 0, sizeof(*p));
	p->cred = p->conf = NO_INDEX;
	if (len > PROFILE_MAX || memchr(name, '\0', len))
		return false;
	memcpy(p->name, name, len);
	p->name[len] = '\0';
	p->cred = ini_section_named(&st->credentials, p->name);
	p->conf = ini_profile_section(&st->config, p->name);
	return p->cred != NO_INDEX || p->conf != NO_INDEX;
}

/* `key` of profile `p`: the credentials file's value, else the config
 * file's (each falling back to its file's [DEFAULT]). */
static bool prof_get(struct state *st, const struct prof *p, const char *key,
		     struct val *v)
{
	bool have = val_from_file(&st->credentials, p->cred, key, v) ||
		    val_from_file(&st->config, p->conf, key, v);

	v->profile = p->name;
	return have;
}

/* A setting's value as a C string in buf[size]: one line, no control
 * characters, not empty unless `empty_ok`. */
static sesctl_err val_text(struct state *st, const struct val *v,
			   bool empty_ok, char *buf, size_t size)
{
	sesctl_err rc = val_check_shape(st, v);
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	if (v->len == 0 && !empty_ok)
		return val_error(st, v, "is empty");
	if (v->len >= size)
		return val_error(st, v, "is too long");
	for (i = 0; i < v->len; i++)
		if (v->p[i] < 0x20 || v->p[i] == 0x7f)
			return val_error(st, v, "contains control characters");
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	return SESCTL_OK;
}

/* "'<path>' line N" of a file entry, for messages. */
static void val_where(const struct val *v, char *buf, size_t size)
{
	if (v->file)
		set_text(buf, size, "'%s' line %u", v->file->path,
			 (unsigned)v->line);
	else
		set_text(buf, size, "the environment");
}

/* What st->looked gained since `mark`, without the leading ", ". */
static const char *looked_since(const struct state *st, size_t mark)
{
	const char *s = st->looked + mark;

	if (mark && strncmp(s, ", ", 2) == 0)
		s += 2;
	return *s ? s : "nothing";
}

static bool env_true(struct state *st, const char *name)
{
	const char *v = env_get(st->env, name);

	return v && strcasecmp(v, "true") == 0;
}

/* Pause between attempts at the container endpoint (botocore's one
 * second); test builds shorten it with SESCTL_TEST_RETRY_BASE_MS. */
static long retry_pause_ms(struct state *st)
{
#if SESCTL_TEST_HOOKS
	const char *v = env_get(st->env, "SESCTL_TEST_RETRY_BASE_MS");

	if (v)
		return strtol(v, NULL, 10);
#else
	(void)st;
#endif
	return 1000L;
}

/* --ca-bundle, else $AWS_CA_BUNDLE, else NULL (the system's CAs). */
static const char *ca_bundle(struct state *st)
{
	return st->net->ca_bundle ? st->net->ca_bundle :
				  env_get(st->env, "AWS_CA_BUNDLE");
}

/* ------------------------------------------------------------------ */
/* JSON credentials: what credential_process prints and what the
 * container endpoint and instance metadata answer.
 *
 * cJSON copies every string it parses (the secret key, the token) into
 * blocks from its allocator; the hooks set here are the wiping allocator
 * (secret.h), the same pair output_init() installs, so installing them
 * again is harmless whatever ran first.  The text itself stays in the
 * caller's struct secret. */

enum {
	JC_VERSION = 1u,    /* "Version": 1 required (credential_process) */
	JC_TOKEN = 2u,      /* the token is required */
	JC_EXPIRATION = 4u, /* "Expiration" is required */
	JC_EXPIRED_OK = 8u, /* expired credentials: warn, do not refuse */
};

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
	set_text(name_buf, name_size, "%s: '%s'", what, name);
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

static sesctl_err json_creds(struct state *st, const struct secret *text,
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

/* ------------------------------------------------------------------ */
/* credential_process
 *
 * As botocore's ProcessProvider: the profile's credential_process is
 * split like shlex.split() (no shell), run with the environment sesctl
 * has, and its standard output must be Version 1 JSON.  Divergences: its
 * standard input is /dev/null and its standard error goes straight to
 * ours (botocore captures it and shows it only on failure); it must end
 * within PROCESS_TIMEOUT_MS (botocore waits forever); and its output is
 * capped at PROCESS_OUTPUT_MAX.  The output is read with read(2) into a
 * struct secret. */

#define PROCESS_OUTPUT_MAX ((size_t)64 << 10)
#define PROCESS_TIMEOUT_MS (120L * 1000L)
#define PROCESS_ARGS_MAX 256

static long process_timeout_ms(struct state *st)
{
#if SESCTL_TEST_HOOKS
	const char *v = env_get(st->env, "SESCTL_TEST_PROCESS_TIMEOUT_MS");

	if (v)
		return strtol(v, NULL, 10);
#else
	(void)st;
#endif
	return PROCESS_TIMEOUT_MS;
}

/* Stop a child that overran: SIGTERM, up to a second's grace, SIGKILL. */
static void stop_child(pid_t pid)
{
	int status, i;

	(void)kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		backoff_sleep_ms(10);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Run argv (argv[0] searched in $PATH) and collect its standard output
 * in `out`.  Errors name `profile`. */
static sesctl_err run_process(struct state *st, const char *profile,
			      char *const *argv, struct secret *out)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	unsigned char buf[4096];
	struct ctx *ctx = st->ctx;
	long timeout = process_timeout_ms(st), deadline, left;
	int pfd[2] = { -1, -1 }, devnull = -1, e = 0, status = 0, r;
	bool fa_ok = false, attr_ok = false;
	pid_t pid = -1;
	ssize_t n;
	sesctl_err rc = SESCTL_OK;

	ENSURE(pipe2(pfd, O_CLOEXEC) == 0 &&
		       (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0,
	       err_set(&ctx->err, SESCTL_ERR_IO,
		       "cannot run credential_process of profile '%s': %s",
		       profile, strerror(errno)));
	ENSURE(posix_spawn_file_actions_init(&fa) == 0,
	       err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	fa_ok = true;
	ENSURE(posix_spawnattr_init(&attr) == 0,
	       err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	attr_ok = true;
	e = posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	if (!e)
		e = posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	/* Its messages go where ours go (stderr; a test's log). */
	if (!e && ctx->err_fd != 2)
		e = posix_spawn_file_actions_adddup2(
			&fa, ctx->err_fd >= 0 ? ctx->err_fd : devnull, 2);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE); /* main ignores it; the child must not */
	if (!e)
		e = posix_spawnattr_setsigmask(&attr, &none);
	if (!e)
		e = posix_spawnattr_setsigdefault(&attr, &dflt);
	if (!e)
		e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
							    POSIX_SPAWN_SETSIGDEF);
	ENSURE(!e, err_set(&ctx->err, SESCTL_ERR_FAIL,
			   "cannot run credential_process of profile '%s': %s",
			   profile, strerror(e)));
	e = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	if (e) {
		pid = -1;
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "cannot run credential_process of profile '%s' "
			     "('%s'): %s",
			     profile, argv[0], strerror(e));
		goto out;
	}
	close(pfd[1]);
	pfd[1] = -1;

	deadline = backoff_now_ms() + timeout;
	for (;;) {
		struct pollfd pf = { pfd[0], POLLIN, 0 };

		left = deadline - backoff_now_ms();
		ENSURE(left > 0,
		       err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "credential_process of profile '%s' did not "
			       "finish within %ld s, so it was stopped",
			       profile, (timeout + 999) / 1000));
		r = poll(&pf, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		ENSURE(r >= 0, err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot read from credential_process of "
				       "profile '%s': %s",
				       profile, strerror(errno)));
		if (r == 0)
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		ENSURE(n >= 0, err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot read from credential_process of "
				       "profile '%s': %s",
				       profile, strerror(errno)));
		if (n == 0)
			break;
		ENSURE(out->len + (size_t)n <= PROCESS_OUTPUT_MAX,
		       err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "credential_process of profile '%s' wrote more "
			       "than %zu KiB; it should print one small JSON "
			       "object",
			       profile, PROCESS_OUTPUT_MAX >> 10));
		TRY(secret_append(out, buf, (size_t)n));
	}
	/* End of output; the exit status, within the same time limit. */
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			e = errno;
			pid = -1;
			rc = err_set(&ctx->err, SESCTL_ERR_IO,
				     "cannot wait for credential_process of "
				     "profile '%s': %s",
				     profile, strerror(e));
			goto out;
		}
		ENSURE(backoff_now_ms() < deadline,
		       err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "credential_process of profile '%s' did not "
			       "exit within %ld s, so it was stopped",
			       profile, (timeout + 999) / 1000));
		backoff_sleep_ms(5);
	}
	pid = -1;
	if (WIFSIGNALED(status))
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "credential_process of profile '%s' was killed by "
			     "signal %d (%s)",
			     profile, WTERMSIG(status),
			     strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		/* What a failed exec looks like where posix_spawnp cannot
		 * report it (valgrind, other C libraries) or from a wrapper
		 * script. */
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "credential_process of profile '%s' failed (exit "
			     "status 127: is '%s' installed and in PATH?)",
			     profile, argv[0]);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "credential_process of profile '%s' failed (exit "
			     "status %d); its own messages, if any, are above",
			     profile,
			     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
out:
	if (pid > 0)
		stop_child(pid);
	secret_wipe(buf, sizeof(buf));
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (rc != SESCTL_OK)
		secret_free(out);
	return rc;
}

static sesctl_err from_process(struct state *st, const struct prof *p,
			       struct creds *out, bool *found)
{
	char *cmd = NULL, *argv[PROCESS_ARGS_MAX];
	struct shlex_word words[PROCESS_ARGS_MAX - 1];
	char what[CREDS_SOURCE_MAX], where[CREDS_SOURCE_MAX];
	struct secret text = SECRET_INIT;
	struct val v;
	sesctl_err rc = SESCTL_OK;
	int argc, i;

	if (!prof_get(st, p, "credential_process", &v))
		return SESCTL_OK;
	val_where(&v, where, sizeof(where));
	ENSURE(!st->net->offline,
	       val_error(st, &v, "is set, but running it is disabled here"));
	cmd = malloc(v.len + 1);
	ENSURE(cmd, err_set(&st->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(val_text(st, &v, false, cmd, v.len + 1));
	/* botocore's compat_shell_split: shlex.split() in POSIX mode */
	argc = shlex_split((unsigned char *)cmd, strlen(cmd), words,
			   PROCESS_ARGS_MAX - 1);
	ENSURE(argc != -1,
	       val_error(st, &v,
			 "has an unterminated quote or ends in a backslash"));
	ENSURE(argc != -2, val_error(st, &v, "has too many words"));
	ENSURE(argc > 0, val_error(st, &v, "is empty"));
	for (i = 0; i < argc; i++)
		argv[i] = cmd + words[i].off;
	argv[argc] = NULL;
	/* The arguments may hold anything; only the program is named. */
	ctx_debug(st->ctx,
		  "running credential_process of profile '%s' (%s): '%s' with "
		  "%d argument%s",
		  p->name, where, argv[0], argc - 1, argc == 2 ? "" : "s");
	TRY(run_process(st, p->name, argv, &text));
	set_text(what, sizeof(what),
		 "the output of credential_process of profile '%s'", p->name);
	TRY(json_creds(st, &text, what, "SessionToken", JC_VERSION, out));
	set_text(out->source, sizeof(out->source),
		 "credential_process of profile '%s' (%s)", p->name, where);
	*found = true;
out:
	secret_free(&text);
	if (cmd) {
		secret_wipe(cmd, v.len + 1);
		free(cmd);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Metadata endpoints (container, instance metadata): where plain http
 * is allowed.  Hosts are compared literally, as botocore does (no DNS). */

/* Whether `url` is http(s):// with a host and no user info; its host
 * (brackets and port removed) into host[size]. */
static bool url_host(const char *url, bool *https, char *host, size_t size)
{
	const char *p, *end, *h, *he;

	if (strncasecmp(url, "https://", 8) == 0) {
		*https = true;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		*https = false;
		p = url + 7;
	} else {
		return false;
	}
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return false;
	if (*p == '[') {
		h = p + 1;
		he = memchr(h, ']', (size_t)(end - h));
		if (!he || (he + 1 != end && he[1] != ':'))
			return false;
	} else {
		h = p;
		he = memchr(h, ':', (size_t)(end - h));
		if (!he)
			he = end;
	}
	if (he == h || (size_t)(he - h) >= size)
		return false;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	return true;
}

/* `host` is the IP address `ip` (any spelling of it). */
static bool host_is(const char *host, const char *ip)
{
	unsigned char a[16], b[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	return inet_pton(fam, host, a) == 1 && inet_pton(fam, ip, b) == 1 &&
	       memcmp(a, b, fam == AF_INET6 ? 16 : 4) == 0;
}

static bool host_is_loopback(const char *host)
{
	struct in6_addr a6;
	unsigned char a4[4];

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a4) == 1)
		return a4[0] == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* https anywhere; http only to loopback or one of `hosts`. */
static bool url_allowed(const char *url, const char *const *hosts, size_t n,
			char *host, size_t size)
{
	bool https;
	size_t i;

	if (!url_host(url, &https, host, size))
		return false;
	if (https || host_is_loopback(host))
		return true;
	for (i = 0; i < n; i++)
		if (host_is(host, hosts[i]))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Container credentials (ECS task roles, EKS Pod Identity)
 *
 * botocore's ContainerProvider and ContainerMetadataFetcher:
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is appended to
 * http://169.254.170.2; otherwise AWS_CONTAINER_CREDENTIALS_FULL_URI is
 * used as is, https to anywhere, http only to a loopback address,
 * "localhost", 169.254.170.2 (ECS), 169.254.170.23 or fd00:ec2::23 (EKS
 * Pod Identity).  The Authorization header is the content of
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every call) or else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN; a token with CR or LF is refused.
 * Up to 3 attempts, 2 s each, a second apart; divergence: only
 * connection failures and 5xx are retried (a 4xx will not change).  The
 * answer is {AccessKeyId, SecretAccessKey, Token, Expiration}.  Once
 * either variable is set, a failure ends the chain (as in botocore). */

static const char *const container_hosts[] = { "169.254.170.2",
					       "169.254.170.23",
					       "fd00:ec2::23" };

#define CONTAINER_TIMEOUT_MS 2000L
#define CONTAINER_ATTEMPTS 3
#define CONTAINER_TOKEN_MAX ((size_t)16 << 10)

static bool container_configured(struct state *st)
{
	return env_get(st->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
	       env_get(st->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

static sesctl_err container_url(struct state *st, char *url, size_t size)
{
	const char *rel = env_get(st->env,
				  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get(st->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *base = "http://169.254.170.2";
	char host[256];
	int n;

	if (rel) {
#if SESCTL_TEST_HOOKS
		/* Tests stand in for 169.254.170.2 on loopback. */
		if (env_get(st->env, "SESCTL_TEST_CONTAINER_BASE"))
			base = env_get(st->env, "SESCTL_TEST_CONTAINER_BASE");
#endif
		if (rel[0] != '/')
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
				       "'%s' must start with '/'",
				       rel);
		n = snprintf(url, size, "%s%s", base, rel);
		if (n < 0 || (size_t)n >= size)
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
				       "is too long");
		return SESCTL_OK;
	}
	n = snprintf(url, size, "%s", full);
	if (n < 0 || (size_t)n >= size)
		return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
	if (!url_allowed(url, container_hosts,
			 sizeof(container_hosts) / sizeof(container_hosts[0]),
			 host, sizeof(host)))
		return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is not "
			       "allowed: use https, or http to a loopback "
			       "address, 169.254.170.2, 169.254.170.23 or "
			       "[fd00:ec2::23]",
			       url);
	return SESCTL_OK;
}

/* The Authorization value into `tok` (empty: none); *from names it. */
static sesctl_err container_token(struct state *st, struct secret *tok,
				  const char **from)
{
	const char *file = env_get(st->env,
				   "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *val = env_get(st->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	sesctl_err rc = SESCTL_OK;

	*from = NULL;
	if (file) {
		*from = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
		TRY(secret_read_file(&st->ctx->err,
				     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
				     file, 0, CONTAINER_TOKEN_MAX, tok, NULL,
				     NULL));
	} else if (val) {
		*from = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
		TRY(secret_set(tok, val, strlen(val)));
	} else {
		goto out;
	}
	/* A header value: botocore refuses CR and LF; NUL cannot be sent. */
	ENSURE(!memchr(tok->p, '\r', tok->len) &&
		       !memchr(tok->p, '\n', tok->len) &&
		       !memchr(tok->p, '\0', tok->len),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "the token in %s contains a line break; it must be one "
		       "line, without a newline at the end",
		       *from));
out:
	if (rc != SESCTL_OK)
		secret_free(tok);
	return rc;
}

static sesctl_err from_container(struct state *st, struct creds *out,
				 bool *found)
{
	struct http_options ho = { NULL, CONTAINER_TIMEOUT_MS,
				   CONTAINER_TIMEOUT_MS };
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_client *http = NULL;
	struct http_header hh[1];
	struct http_request req;
	struct secret tok = SECRET_INIT;
	char url[HTTP_URL_MAX], what[CREDS_SOURCE_MAX];
	const char *tok_from = NULL;
	sesctl_err rc = SESCTL_OK;
	bool retry = false;
	int attempt;

	if (!container_configured(st)) {
		looked_add(st, "container credentials (not configured)");
		return SESCTL_OK;
	}
	ENSURE(!st->net->offline,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "container credentials are configured, but fetching "
		       "them is disabled here"));
	TRY(container_url(st, url, sizeof(url)));
	TRY(container_token(st, &tok, &tok_from));
	ho.ca_bundle = ca_bundle(st);
	req = (struct http_request){ "GET", url, hh, 0, NULL, 0 };
	if (tok.len) {
		hh[0] = (struct http_header){ "Authorization", secret_str(&tok) };
		req.n_headers = 1;
	}
	ctx_debug(st->ctx, "container credentials from '%s'%s%s", url,
		  tok_from ? " with the token of " : "",
		  tok_from ? tok_from : "");
	TRY(http_client_new(st->ctx, &ho, &http));
	for (attempt = 1;; attempt++) {
		rc = http_send(http, &req, &resp);
		retry = rc == SESCTL_OK ? resp.status >= 500 :
					  resp.failure == HTTP_NOT_SENT ||
						  resp.failure == HTTP_NO_ANSWER;
		if (!retry || attempt >= CONTAINER_ATTEMPTS)
			break;
		ctx_debug(st->ctx, "container credentials: attempt %d of %d "
				   "failed; trying again",
			  attempt, CONTAINER_ATTEMPTS);
		backoff_sleep_ms(retry_pause_ms(st));
	}
	if (rc != SESCTL_OK) {
		rc = err_set(&st->ctx->err, rc,
			     "cannot get container credentials: %s",
			     st->ctx->err.msg);
		goto out;
	}
	if (resp.status == 401 || resp.status == 403) {
		rc = err_set(&st->ctx->err, SESCTL_ERR_AUTH,
			     "the container credentials endpoint '%s' refused "
			     "the request (HTTP %ld); check %s",
			     url, resp.status,
			     tok_from ? tok_from :
					"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
					"(it is not set)");
		goto out;
	}
	if (resp.status != 200) {
		rc = err_set(&st->ctx->err,
			     resp.status >= 500 ? SESCTL_ERR_NETWORK :
						  SESCTL_ERR_FAIL,
			     "the container credentials endpoint '%s' answered "
			     "HTTP %ld",
			     url, resp.status);
		goto out;
	}
	set_text(what, sizeof(what),
		 "the answer of the container credentials endpoint '%s'", url);
	TRY(json_creds(st, &resp.body, what, "Token",
		       JC_TOKEN | JC_EXPIRATION, out));
	set_text(out->source, sizeof(out->source),
		 "container credentials from '%s'", url);
	*found = true;
out:
	http_response_release(&resp);
	http_client_free(http);
	secret_free(&tok);
	return rc;
}

/* ------------------------------------------------------------------ */
/* EC2 instance metadata (IMDSv2)
 *
 * botocore's InstanceMetadataFetcher: PUT /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds: 21600, then with the token in
 * X-aws-ec2-metadata-token GET /latest/meta-data/iam/security-credentials/
 * (the role name) and .../<role> (JSON: AccessKeyId, SecretAccessKey,
 * Token, Expiration).  Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, else
 * the profile's ec2_metadata_service_endpoint, else by
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE / ec2_metadata_service_endpoint_mode
 * (IPv4: http://169.254.169.254, IPv6: http://[fd00:ec2::254]).  Each
 * request has AWS_METADATA_SERVICE_TIMEOUT (metadata_service_timeout)
 * seconds, default 1, and AWS_METADATA_SERVICE_NUM_ATTEMPTS
 * (metadata_service_num_attempts) tries, default 1.
 * AWS_EC2_METADATA_DISABLED=true skips it.  Nothing found, no answer, no
 * role: the chain goes on (it ends with "no credentials").
 *
 * Divergences: botocore falls back to IMDSv1 (the same GETs without a
 * token) when the token PUT fails with 403, 404, 405 or times out,
 * unless AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled is set.
 * sesctl never does: IMDSv1 is what SSRF attacks use, and every instance
 * type answers IMDSv2; when the PUT is refused or lost (a container
 * behind a hop limit of 1) the message says so.  A custom endpoint over
 * plain http must be a loopback address or one of the two IMDS addresses
 * (botocore takes any URL).  http.c prints response bodies with --debug,
 * and the token is a bare body it cannot recognise, so the PUT goes
 * through a client whose debug output is off; sesctl logs it itself
 * without the token. */

static const char *const imds_hosts[] = { "169.254.169.254",
					  "fd00:ec2::254" };

#define IMDS_TOKEN_TTL "21600"
#define IMDS_TOKEN_MAX 4096
#define IMDS_ROLE_MAX 64

/* An integer setting: env var, else the profile's key, else `dflt`;
 * a bad value is warned about and ignored. */
static long int_setting(struct state *st, const char *var, const char *key,
			long dflt, long max)
{
	char buf[32], *end = NULL;
	const char *s = env_get(st->env, var), *from = var;
	struct val v;
	long n;

	if (!s && prof_get(st, &st->top, key, &v) && v.len > 0) {
		/* Copied as is: the check below refuses anything odd. */
		set_text(buf, sizeof(buf), "%.*s",
			 (int)(v.len < sizeof(buf) ? v.len : sizeof(buf) - 1),
			 (const char *)v.p);
		s = buf;
		from = key;
	}
	if (!s)
		return dflt;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || !end || *end || n < 1 || n > max) {
		ctx_warn(st->ctx,
			 "ignoring %s '%s': not a whole number from 1 to %ld",
			 from, s, max);
		return dflt;
	}
	return n;
}

static sesctl_err imds_base(struct state *st, char *url, size_t size)
{
	const char *s = env_get(st->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env_get(st->env,
				   "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	const char *from = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
	char buf[HTTP_URL_MAX], mbuf[16], host[256];
	struct val v;
	size_t n;

	if (!s && prof_get(st, &st->top, "ec2_metadata_service_endpoint", &v)) {
		if (val_text(st, &v, false, buf, sizeof(buf)) != SESCTL_OK)
			return st->ctx->err.code;
		s = buf;
		from = "ec2_metadata_service_endpoint";
	}
	if (s) {
		if (!url_allowed(s, imds_hosts,
				 sizeof(imds_hosts) / sizeof(imds_hosts[0]),
				 host, sizeof(host)))
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "the instance metadata endpoint '%s' "
				       "(from %s) is not allowed: use https, "
				       "or http to a loopback address, "
				       "169.254.169.254 or [fd00:ec2::254]",
				       s, from);
	} else {
		if (!mode && prof_get(st, &st->top,
				      "ec2_metadata_service_endpoint_mode",
				      &v)) {
			if (val_text(st, &v, false, mbuf, sizeof(mbuf)) !=
			    SESCTL_OK)
				return st->ctx->err.code;
			mode = mbuf;
		}
		if (!mode || strcasecmp(mode, "IPv4") == 0)
			s = "http://169.254.169.254";
		else if (strcasecmp(mode, "IPv6") == 0)
			s = "http://[fd00:ec2::254]";
		else
			return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
				       "the instance metadata endpoint mode "
				       "'%s' is neither 'IPv4' nor 'IPv6'",
				       mode);
	}
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	if (n + 64 >= size)
		return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
			       "the instance metadata endpoint URL is too long");
	memcpy(url, s, n);
	url[n] = '\0';
	return SESCTL_OK;
}

/* A role name as IAM allows it ([\w+=,.@-], 1 to 64): it goes into a
 * URL path. */
static bool role_name_ok(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > IMDS_ROLE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || strchr("_+=,.@-", p[i])))
			return false;
	return true;
}

/* One IMDS request, up to `attempts` times while it fails or (for GETs)
 * answers non-200 or nothing.  SESCTL_OK with resp filled, or the
 * transport's error in ctx->err. */
static sesctl_err imds_send(struct http_client *http,
			    const struct http_request *req, long attempts,
			    bool retry_status, struct http_response *resp)
{
	sesctl_err rc = SESCTL_OK;
	long i;

	for (i = 1; i <= attempts; i++) {
		rc = http_send(http, req, resp);
		if (rc == SESCTL_OK && resp->status < 500 &&
		    (!retry_status ||
		     (resp->status == 200 && resp->body.len > 0)))
			break;
	}
	return rc;
}

static sesctl_err from_imds(struct state *st, struct creds *out,
			    bool *found, char *note, size_t note_size)
{
	struct ctx quiet = *st->ctx;
	struct http_options ho = { NULL, 0, 0 };
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_client *http = NULL, *qhttp = NULL;
	struct http_header hh[1];
	struct http_request req;
	struct secret token = SECRET_INIT;
	struct err_info saved = st->ctx->err;
	char base[HTTP_URL_MAX], url[HTTP_URL_MAX + IMDS_ROLE_MAX + 64];
	char role[IMDS_ROLE_MAX + 1], what[CREDS_SOURCE_MAX];
	long timeout_s, attempts;
	size_t n;
	bool skipped = false;
	sesctl_err rc = SESCTL_OK;

/* Nothing usable here: say why in `note` first, then SKIP(). */
#define SKIP()                                                               \
	do {                                                                 \
		skipped = true;                                              \
		goto out;                                                    \
	} while (0)

	note[0] = '\0';
	if (env_true(st, "AWS_EC2_METADATA_DISABLED")) {
		set_text(note, note_size,
			 "instance metadata (AWS_EC2_METADATA_DISABLED=true)");
		return SESCTL_OK;
	}
	if (st->net->offline) {
		set_text(note, note_size, "instance metadata (skipped)");
		return SESCTL_OK;
	}
	TRY(imds_base(st, base, sizeof(base)));
	timeout_s = int_setting(st, "AWS_METADATA_SERVICE_TIMEOUT",
				"metadata_service_timeout", 1, 3600);
	attempts = int_setting(st, "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
			       "metadata_service_num_attempts", 1, 10);
	ho.connect_timeout_ms = ho.timeout_ms = timeout_s * 1000L;
	ho.ca_bundle = ca_bundle(st);
	quiet.debug = false;
	ctx_debug(st->ctx,
		  "instance metadata at '%s' (%ld s per request, %ld "
		  "attempt%s)",
		  base, timeout_s, attempts, attempts == 1 ? "" : "s");
	TRY(http_client_new(st->ctx, &ho, &http));
	rc = http_client_new(&quiet, &ho, &qhttp);
	if (rc != SESCTL_OK) {
		st->ctx->err = quiet.err;
		goto out;
	}

	/* The session token (IMDSv2). */
	set_text(url, sizeof(url), "%s/latest/api/token", base);
	hh[0] = (struct http_header){ "X-aws-ec2-metadata-token-ttl-seconds",
				      IMDS_TOKEN_TTL };
	req = (struct http_request){ "PUT", url, hh, 1, NULL, 0 };
	rc = imds_send(qhttp, &req, attempts, false, &resp);
	if (rc != SESCTL_OK) {
		ctx_debug(st->ctx, "PUT %s: %s", url, quiet.err.msg);
		set_text(note, note_size,
			 "instance metadata at '%s' (no answer to the IMDSv2 "
			 "token request within %ld s)",
			 base, timeout_s);
		SKIP();
	}
	ctx_debug(st->ctx, "PUT %s: HTTP %ld (%zu bytes, not shown)", url,
		  resp.status, resp.body.len);
	if (resp.status != 200) {
		set_text(note, note_size,
			 "instance metadata at '%s' (the IMDSv2 token request "
			 "got HTTP %ld; sesctl does not fall back to IMDSv1)",
			 base, resp.status);
		SKIP();
	}
	if (resp.body.len == 0 || resp.body.len > IMDS_TOKEN_MAX ||
	    memchr(resp.body.p, '\r', resp.body.len) ||
	    memchr(resp.body.p, '\n', resp.body.len) ||
	    memchr(resp.body.p, '\0', resp.body.len)) {
		set_text(note, note_size,
			 "instance metadata at '%s' (the IMDSv2 token it "
			 "gave is not usable)",
			 base);
		SKIP();
	}
	TRY(secret_set(&token, resp.body.p, resp.body.len));
	http_response_release(&resp);
	hh[0] = (struct http_header){ "X-aws-ec2-metadata-token",
				      secret_str(&token) };

	/* The role. */
	set_text(url, sizeof(url), "%s/latest/meta-data/iam/"
		 "security-credentials/", base);
	req = (struct http_request){ "GET", url, hh, 1, NULL, 0 };
	rc = imds_send(http, &req, attempts, true, &resp);
	if (rc != SESCTL_OK || resp.status != 200 || resp.body.len == 0) {
		if (rc != SESCTL_OK)
			set_text(note, note_size,
				 "instance metadata at '%s' (%s)", base,
				 st->ctx->err.msg);
		else
			set_text(note, note_size,
				 "instance metadata at '%s' (%s, HTTP %ld)",
				 base,
				 resp.status == 404 ?
					 "no IAM role is attached to this "
					 "instance" :
					 "cannot list its IAM role",
				 resp.status);
		SKIP();
	}
	n = strcspn((const char *)resp.body.p, "\r\n");
	while (n > 0 && (resp.body.p[n - 1] == ' ' ||
			 resp.body.p[n - 1] == '\t'))
		n--;
	if (!role_name_ok(resp.body.p, n)) {
		set_text(note, note_size,
			 "instance metadata at '%s' (it named an IAM role "
			 "that is not a valid role name)",
			 base);
		SKIP();
	}
	memcpy(role, resp.body.p, n);
	role[n] = '\0';

	/* Its credentials. */
	set_text(url, sizeof(url),
		 "%s/latest/meta-data/iam/security-credentials/%s", base, role);
	rc = imds_send(http, &req, attempts, true, &resp);
	if (rc != SESCTL_OK || resp.status != 200 || resp.body.len == 0) {
		if (rc != SESCTL_OK)
			set_text(note, note_size,
				 "instance metadata at '%s' (role '%s': %s)",
				 base, role, st->ctx->err.msg);
		else
			set_text(note, note_size,
				 "instance metadata at '%s' (role '%s': HTTP "
				 "%ld)",
				 base, role, resp.status);
		SKIP();
	}
	set_text(what, sizeof(what),
		 "the answer of instance metadata at '%s' for role '%s'", base,
		 role);
	rc = json_creds(st, &resp.body, what, "Token",
			JC_TOKEN | JC_EXPIRATION | JC_EXPIRED_OK, out);
	if (rc == SESCTL_ERR_INPUT) {
		/* An error document ({"Code": ..., "Message": ...}, when EC2
		 * may not assume the role) or junk: botocore goes on. */
		set_text(note, note_size, "%s", st->ctx->err.msg);
		SKIP();
	}
	TRY(rc);
	set_text(out->source, sizeof(out->source),
		 "instance metadata at '%s' (role '%s')", base, role);
	*found = true;
out:
	if (skipped) {
		/* Not found here: the chain goes on, and ctx->err is as it
		 * was. */
		rc = SESCTL_OK;
		st->ctx->err = saved;
	}
	http_response_release(&resp);
	http_client_free(http);
	http_client_free(qhttp);
	secret_free(&token);
	return rc;
#undef SKIP
}

/* ------------------------------------------------------------------ */
/* Settings that botocore would act on and sesctl cannot. */

static sesctl_err check_unsupported(struct state *st, const struct prof *p,
				    bool env_ok)
{
	static const char *const sso_keys[] = { "sso_account_id",
						"sso_role_name" };
	struct val v;
	size_t i;

	if (env_ok && env_get(st->env, "AWS_WEB_IDENTITY_TOKEN_FILE"))
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_WEB_IDENTITY_TOKEN_FILE is set (web "
			       "identity, as on EKS with IRSA), which sesctl "
			       "does not support; run 'eval \"$(aws configure "
			       "export-credentials --format env)\"' first, or "
			       "unset it");
	if (prof_get(st, p, "web_identity_token_file", &v))
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "'web_identity_token_file' of profile '%s' is "
			       "set: sesctl does not support web identity\n"
			       "run 'aws configure export-credentials "
			       "--profile %s --format process' as the "
			       "profile's credential_process instead",
			       p->name, p->name);
	for (i = 0; i < sizeof(sso_keys) / sizeof(sso_keys[0]); i++)
		if (prof_get(st, p, sso_keys[i], &v))
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
		looked_add(st, "profile '%s' in '%s' (%s)", profile, f->path,
			   missing);
		return SESCTL_OK;
	}
	have_id = val_from_file(f, sect, "aws_access_key_id", &id);
	have_secret = val_from_file(f, sect, "aws_secret_access_key", &secret);
	id.profile = secret.profile = profile;
	if (!have_id && !have_secret) {
		looked_add(st, "profile '%s' in '%s' (no 'aws_access_key_id')",
			   profile, f->path);
		return SESCTL_OK;
	}
	/* A value that swallowed the next lines is the likelier story
	 * than a missing key. */
	if (have_id)
		rc = val_check_shape(st, &id);
	if (rc == SESCTL_OK && have_secret)
		rc = val_check_shape(st, &secret);
	if (rc != SESCTL_OK)
		return rc;
	if (!have_secret)
		return val_error(st, &id,
				 "is set but 'aws_secret_access_key' is not");
	if (!have_id)
		return val_error(st, &secret,
				 "is set but 'aws_access_key_id' is not");
	have_token = val_from_file(f, sect, "aws_security_token", &token) ||
		     val_from_file(f, sect, "aws_session_token", &token);
	token.profile = profile;
	rc = creds_fill(st, &id, &secret, have_token ? &token : NULL, out);
	if (rc != SESCTL_OK)
		return rc;
	set_text(out->source, sizeof(out->source), "profile '%s' in '%s'",
		 profile, f->path);
	*found = true;
	return SESCTL_OK;
}

static sesctl_err from_credentials_file(struct state *st, const struct prof *p,
					struct creds *out, bool *found)
{
	const struct ini_file *f = &st->credentials;
	char missing[CREDS_SOURCE_MAX];

	if (!f->present) {
		looked_add(st, "profile '%s' in '%s' (no such file)", p->name,
			   f->path);
		return SESCTL_OK;
	}
	set_text(missing, sizeof(missing), "no '[%s]' section", p->name);
	return provider_file_section(st, f, p->cred, p->name, missing, out,
				     found);
}

static sesctl_err from_config_file(struct state *st, const struct prof *p,
				   struct creds *out, bool *found)
{
	const struct ini_file *f = &st->config;
	char missing[CREDS_SOURCE_MAX];

	if (!f->present) {
		looked_add(st, "profile '%s' in '%s' (no such file)", p->name,
			   f->path);
		return SESCTL_OK;
	}
	if (strcmp(p->name, "default") == 0)
		set_text(missing, sizeof(missing), "no '[default]' section");
	else
		set_text(missing, sizeof(missing), "no '[profile %s]' section",
			 p->name);
	return provider_file_section(st, f, p->conf, p->name, missing, out,
				     found);
}

/* ------------------------------------------------------------------ */
/* The environment. */

static sesctl_err from_env(struct state *st, struct creds *out, bool *found)
{
	struct val id, secret, token;
	bool have_id, have_secret, have_token;
	sesctl_err rc;

	/* The environment's copies are left as they are: the getter hands
	 * out const strings, a second resolve must see the same, and the
	 * initial environment block is readable only by its owner, who
	 * put the secret there. */
	have_id = val_from_env(st, "AWS_ACCESS_KEY_ID", &id);
	have_secret = val_from_env(st, "AWS_SECRET_ACCESS_KEY", &secret);
	if (!have_id && !have_secret) {
		looked_add(st, "the environment (AWS_ACCESS_KEY_ID is not set)");
		return SESCTL_OK;
	}
	if (!have_secret)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_ACCESS_KEY_ID is set but "
			       "AWS_SECRET_ACCESS_KEY is not; set both, or "
			       "unset AWS_ACCESS_KEY_ID to use a profile");
	if (!have_id)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_SECRET_ACCESS_KEY is set but "
			       "AWS_ACCESS_KEY_ID is not; set both, or unset "
			       "AWS_SECRET_ACCESS_KEY to use a profile");
	/* botocore's order: the legacy name first. */
	have_token = val_from_env(st, "AWS_SECURITY_TOKEN", &token) ||
		     val_from_env(st, "AWS_SESSION_TOKEN", &token);
	rc = creds_fill(st, &id, &secret, have_token ? &token : NULL, out);
	if (rc != SESCTL_OK)
		return rc;
	set_text(out->source, sizeof(out->source), "environment");
	*found = true;
	return SESCTL_OK;
}

/* ------------------------------------------------------------------ */
/* Assume role
 *
 * botocore's AssumeRoleProvider, for a profile with role_arn (and no
 * web_identity_token_file):
 * - The source is source_profile or credential_source, exactly one of
 *   them.  credential_source is Environment, EcsContainer or
 *   Ec2InstanceMetadata (case as written), and must find credentials.
 * - source_profile must exist.  If it has static keys
 *   (aws_access_key_id or aws_secret_access_key) or no role_arn, its
 *   credentials come from its own shared-credentials-file,
 *   credential_process and config-file providers (never the
 *   environment) and must be found there; otherwise it is assumed in
 *   turn.  A profile met twice is a loop, except a profile that names
 *   itself and has static keys.
 * - Parameters: role_session_name (default "sesctl-<epoch seconds>",
 *   botocore's "botocore-session-<epoch>"), external_id,
 *   duration_seconds.  mfa_serial is refused (sesctl never prompts).
 * - STS is called in the region of the session (--region, AWS_REGION,
 *   AWS_DEFAULT_REGION, the top profile's region), see sts.h.
 * Divergences: a duration_seconds that is not a number is an error
 * (botocore drops it silently), as is an empty role_arn. */

static void sts_region(struct state *st, const char **region);
static sesctl_err profile_region(struct state *st, struct creds_region *out,
				 bool *found);
static sesctl_err assume_role(struct state *st, const struct prof *p,
			      struct creds *out);

/* Credentials of source_profile `s` without assuming a role in it. */
static sesctl_err source_chain(struct state *st, const struct prof *s,
			       const char *parent, struct creds *out)
{
	size_t mark = st->looked_len;
	bool found = false;
	sesctl_err rc = SESCTL_OK;

	TRY(check_unsupported(st, s, false));
	TRY(from_credentials_file(st, s, out, &found));
	if (!found)
		TRY(from_process(st, s, out, &found));
	if (!found)
		TRY(from_config_file(st, s, out, &found));
	ENSURE(found, err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			      "source profile '%s' of profile '%s' has no "
			      "credentials; looked in %s",
			      s->name, parent, looked_since(st, mark)));
out:
	return rc;
}

static sesctl_err loop_error(struct state *st, const char *again)
{
	char chain[ERR_MSG_MAX / 2] = "";
	size_t i, len = 0;
	int n;

	for (i = 0; i < st->n_visited && len < sizeof(chain); i++) {
		n = snprintf(chain + len, sizeof(chain) - len, "'%s' -> ",
			     st->visited[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len < sizeof(chain))
		snprintf(chain + len, sizeof(chain) - len, "'%s'", again);
	return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profiles %s form a loop through 'source_profile'; give "
		       "one of them credentials of its own "
		       "(aws_access_key_id, credential_process) or a "
		       "credential_source",
		       chain);
}

static sesctl_err role_source(struct state *st, const struct prof *p,
			      struct creds *src)
{
	struct val sp, cs, v;
	bool have_sp, have_cs, found = false, is_static, is_role;
	char name[PROFILE_MAX + 1], source[32];
	size_t mark = st->looked_len, i;
	struct prof s;
	sesctl_err rc = SESCTL_OK;

	have_sp = prof_get(st, p, "source_profile", &sp);
	have_cs = prof_get(st, p, "credential_source", &cs);
	ENSURE(!(have_sp && have_cs),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' has both 'source_profile' and "
		       "'credential_source'; keep one",
		       p->name));
	ENSURE(have_sp || have_cs,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' has 'role_arn' but neither "
		       "'source_profile' nor 'credential_source' to get the "
		       "credentials that assume it (e.g. 'source_profile = "
		       "default')",
		       p->name));
	if (have_cs) {
		TRY(val_text(st, &cs, false, source, sizeof(source)));
		if (strcmp(source, "Environment") == 0)
			TRY(from_env(st, src, &found));
		else if (strcmp(source, "EcsContainer") == 0)
			TRY(from_container(st, src, &found));
		else if (strcmp(source, "Ec2InstanceMetadata") == 0) {
			char note[CREDS_SOURCE_MAX];

			TRY(from_imds(st, src, &found, note, sizeof(note)));
			if (!found)
				looked_add(st, "%s", note);
		} else {
			rc = val_error(st, &cs,
				       "is not one of 'Environment', "
				       "'EcsContainer', 'Ec2InstanceMetadata'");
			goto out;
		}
		ENSURE(found, err_set(&st->ctx->err, SESCTL_ERR_INPUT,
				      "credential_source '%s' of profile '%s' "
				      "found no credentials: %s",
				      source, p->name, looked_since(st, mark)));
		goto out;
	}

	TRY(val_text(st, &sp, false, name, sizeof(name)));
	ENSURE(prof_find(st, name, strlen(name), &s),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "source profile '%s' of profile '%s' does not exist in "
		       "'%s' or '%s'",
		       name, p->name, st->config.path, st->credentials.path));
	is_static = prof_get(st, &s, "aws_access_key_id", &v) ||
		    prof_get(st, &s, "aws_secret_access_key", &v);
	is_role = prof_get(st, &s, "role_arn", &v) &&
		  !prof_get(st, &s, "web_identity_token_file", &v);
	for (i = 0; i < st->n_visited; i++) {
		if (strcmp(st->visited[i], s.name) != 0)
			continue;
		/* A profile may name itself to use its own keys. */
		ENSURE(strcmp(s.name, p->name) == 0 && is_static,
		       loop_error(st, s.name));
	}
	ENSURE(st->n_visited < CHAIN_MAX,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' is more than %d 'source_profile' steps "
		       "away from credentials",
		       st->visited[0], CHAIN_MAX));
	memcpy(st->visited[st->n_visited++], s.name, sizeof(s.name));
	if (is_static || !is_role)
		TRY(source_chain(st, &s, p->name, src));
	else
		TRY(assume_role(st, &s, src));
out:
	return rc;
}

static sesctl_err assume_role(struct state *st, const struct prof *p,
			      struct creds *out)
{
	struct sts_assume_role_in in;
	struct sts_config cfg;
	struct iam_assume_role r;
	struct creds src;
	struct val v;
	char arn[IAM_XML_ARN_MAX + 1], session[80], ext[1300], dur[24];
	char *end = NULL;
	const char *region = NULL;
	size_t i, n;
	bool ok;
	sesctl_err rc = SESCTL_OK;

	creds_init(&src);
	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	if (!prof_get(st, p, "role_arn", &v))
		return err_set(&st->ctx->err, SESCTL_ERR_FAIL,
			       "profile '%s' has no 'role_arn'", p->name);
	TRY(val_text(st, &v, false, arn, sizeof(arn)));
	ENSURE(strncmp(arn, "arn:", 4) == 0 && !strpbrk(arn, " \t"),
	       val_error(st, &v,
			 "is not a role ARN (like "
			 "'arn:aws:iam::123456789012:role/name')"));
	in.role_arn = arn;
	if (prof_get(st, p, "mfa_serial", &v)) {
		rc = val_error(st, &v,
			       "is set, but sesctl cannot ask for an MFA code; "
			       "use a credential_process that asks for it, or "
			       "run sesctl with temporary credentials in "
			       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
			       "AWS_SESSION_TOKEN (e.g. from 'aws sts "
			       "get-session-token')");
		goto out;
	}
	if (prof_get(st, p, "external_id", &v)) {
		TRY(val_text(st, &v, false, ext, sizeof(ext)));
		in.external_id = ext;
	}
	if (prof_get(st, p, "role_session_name", &v)) {
		TRY(val_text(st, &v, false, session, sizeof(session)));
	} else {
		set_text(session, sizeof(session), "sesctl-%lld",
			 (long long)ctx_now(st->ctx));
	}
	in.role_session_name = session;
	if (prof_get(st, p, "duration_seconds", &v)) {
		TRY(val_text(st, &v, false, dur, sizeof(dur)));
		errno = 0;
		in.duration_seconds = strtol(dur, &end, 10);
		ENSURE(!errno && end && !*end && dur[0] >= '0' &&
			       dur[0] <= '9' && in.duration_seconds > 0,
		       val_error(st, &v, "is not a number of seconds"));
	}
	ENSURE(!st->net->offline,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' assumes role '%s', which is disabled "
		       "here",
		       p->name, arn));

	TRY(role_source(st, p, &src));

	sts_region(st, &region);
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = region;
	cfg.ca_bundle = ca_bundle(st);
	cfg.connect_timeout_ms = st->net->connect_timeout_ms;
	cfg.timeout_ms = st->net->timeout_ms;
	cfg.env = st->env;
	cfg.access_key_id = src.access_key_id;
	cfg.secret_key = &src.secret_key;
	cfg.session_token = src.session_token.len ? &src.session_token : NULL;
	ctx_debug(st->ctx,
		  "profile '%s': assuming role '%s' with credentials from %s",
		  p->name, arn, src.source);
	rc = sts_assume_role(st->ctx, &cfg, &in, &r);
	if (rc != SESCTL_OK) {
		rc = err_set(&st->ctx->err, rc,
			     "cannot assume role '%s' of profile '%s': %s", arn,
			     p->name, st->ctx->err.msg);
		goto out;
	}
	/* Check the id like any other (it goes into every signature), then
	 * move the secrets over without another copy. */
	n = strlen(r.access_key_id);
	ok = n >= CREDS_ACCESS_KEY_ID_MIN && n <= CREDS_ACCESS_KEY_ID_MAX;
	for (i = 0; ok && i < n; i++)
		ok = (r.access_key_id[i] >= 'A' && r.access_key_id[i] <= 'Z') ||
		     (r.access_key_id[i] >= '0' && r.access_key_id[i] <= '9');
	ENSURE(ok, err_set(&st->ctx->err, SESCTL_ERR_NETWORK,
			   "STS answered AssumeRole of role '%s' with an "
			   "access key id that is not one",
			   arn));
	memcpy(out->access_key_id, r.access_key_id, n + 1);
	out->secret_key = r.secret_access_key;
	out->session_token = r.session_token;
	memset(&r.secret_access_key, 0, sizeof(r.secret_access_key));
	memset(&r.session_token, 0, sizeof(r.session_token));
	out->expiration = r.expiration.t;
	set_text(out->source, sizeof(out->source),
		 "role '%s' of profile '%s' (session '%s'), assumed with "
		 "credentials from %s",
		 arn, p->name, session, src.source);
out:
	iam_assume_role_release(&r);
	creds_release(&src);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The chain.  Each provider returns SESCTL_OK with *found false when it
 * has nothing (having said where it looked with looked_add()), SESCTL_OK
 * with *found and `out` filled, or an error that ends the chain. */

static sesctl_err provider_env(struct state *st, struct creds *out,
			       bool *found)
{
	if (st->cli_profile) {
		if (env_get(st->env, "AWS_ACCESS_KEY_ID"))
			ctx_debug(st->ctx,
				  "ignoring AWS_ACCESS_KEY_ID: --profile "
				  "takes precedence, as in the AWS CLI");
		looked_add(st, "the environment (skipped: --profile given)");
		return SESCTL_OK;
	}
	return from_env(st, out, found);
}

static sesctl_err provider_assume_role(struct state *st, struct creds *out,
				       bool *found)
{
	struct val v;
	sesctl_err rc;

	if (!prof_get(st, &st->top, "role_arn", &v) ||
	    prof_get(st, &st->top, "web_identity_token_file", &v))
		return SESCTL_OK;
	st->n_visited = 0;
	memcpy(st->visited[st->n_visited++], st->top.name,
	       sizeof(st->top.name));
	rc = assume_role(st, &st->top, out);
	if (rc == SESCTL_OK)
		*found = true;
	return rc;
}

/* Web identity and SSO, which botocore tries next: refused clearly. */
static sesctl_err provider_unsupported(struct state *st, struct creds *out,
				       bool *found)
{
	(void)out;
	(void)found;
	return check_unsupported(st, &st->top, !st->cli_profile);
}

static sesctl_err provider_credentials_file(struct state *st,
					    struct creds *out, bool *found)
{
	return from_credentials_file(st, &st->top, out, found);
}

static sesctl_err provider_process(struct state *st, struct creds *out,
				   bool *found)
{
	return from_process(st, &st->top, out, found);
}

static sesctl_err provider_config_file(struct state *st, struct creds *out,
				       bool *found)
{
	return from_config_file(st, &st->top, out, found);
}

static sesctl_err provider_container(struct state *st, struct creds *out,
				     bool *found)
{
	return from_container(st, out, found);
}

static sesctl_err provider_imds(struct state *st, struct creds *out,
				bool *found)
{
	char note[CREDS_SOURCE_MAX];
	sesctl_err rc = from_imds(st, out, found, note, sizeof(note));

	if (rc == SESCTL_OK && !*found)
		looked_add(st, "%s", note);
	return rc;
}

/* botocore's order (credentials.py create_credential_resolver and
 * ProfileProviderBuilder.providers); botocore's OriginalEC2Provider and
 * BotoProvider (boto2's AWS_CREDENTIAL_FILE, /etc/boto.cfg) between
 * config-file and container are not followed. */
static const struct creds_provider {
	const char *name;
	sesctl_err (*load)(struct state *st, struct creds *out, bool *found);
} providers[] = {
	{ "env", provider_env },
	{ "assume-role", provider_assume_role },
	{ "web-identity/sso", provider_unsupported },
	{ "shared-credentials-file", provider_credentials_file },
	{ "custom-process", provider_process },
	{ "config-file", provider_config_file },
	{ "container-role", provider_container },
	{ "iam-role", provider_imds },
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
		v = env_get(o->env, vars[i]);
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
	const char *a = env_get(st->env, "AWS_PROFILE");
	const char *d = env_get(st->env, "AWS_DEFAULT_PROFILE");

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
	(void)prof_find(&st, st.profile, strlen(st.profile), &st.top);
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]) && !found;
	     i++) {
		TRY(providers[i].load(&st, out, &found));
		if (found)
			out->provider = providers[i].name;
	}
	if (!found) {
		if (st.cli_profile)
			rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
				     "no AWS credentials found; looked in %s\n"
				     "run 'aws configure --profile %s'",
				     st.looked, st.profile);
		else
			rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
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
static sesctl_err profile_region(struct state *st, struct creds_region *out,
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
		sect = f->is_config ? ini_profile_section(f, st->profile) :
				      ini_section_named(f, st->profile);
		/* An empty value counts as unset (botocore would use ''). */
		if (!val_from_file(f, sect, "region", &v) ||
		    (v.len == 0 && !v.flags))
			continue;
		rc = val_check_shape(st, &v);
		if (rc != SESCTL_OK)
			return rc;
		if (v.len > CREDS_REGION_MAX)
			return val_error(st, &v, "is too long for a region");
		memcpy(out->name, v.p, v.len);
		out->name[v.len] = '\0';
		set_text(out->source, sizeof(out->source),
			 "profile '%s' in '%s'", st->profile, f->path);
		*found = true;
		return SESCTL_OK;
	}
	return SESCTL_OK;
}

/* The region STS is called in (see creds_opts.region); NULL: none, the
 * global endpoint.  A malformed profile region is left to STS's endpoint
 * check; a file error here was already seen by state_load. */
static void sts_region(struct state *st, const char **region)
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
			v = env_get(st->env, vars[i]);
		if (v && strlen(v) <= CREDS_REGION_MAX) {
			memcpy(st->sts_region, v, strlen(v) + 1);
		} else if (!v) {
			memset(&r, 0, sizeof(r));
			if (profile_region(st, &r, &found) == SESCTL_OK &&
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
		v = env_get(o->env, vars[i]);
		from = vars[i];
	}
	if (v) {
		ENSURE(strlen(v) <= CREDS_REGION_MAX,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "the region from %s is too long (over %d "
			       "characters)",
			       from, CREDS_REGION_MAX));
		memcpy(out->name, v, strlen(v) + 1);
		set_text(out->source, sizeof(out->source), "%s", from);
		found = true;
	} else {
		note_profile(&st);
		TRY(state_load(&st));
		TRY(profile_region(&st, out, &found));
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
