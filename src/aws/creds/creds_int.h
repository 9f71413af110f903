/* creds_int.h - what the files of src/aws/creds/ share; not a public
 * interface (that is include/sesctl/aws/creds.h).
 *
 *   chain.c        the provider order (providers[]), the resolution state,
 *                  creds_resolve() and creds_region()
 *   env.c          env                      AWS_ACCESS_KEY_ID, ...
 *   assume_role.c  assume-role              role_arn through STS AssumeRole
 *   profile.c      shared-credentials-file, config-file, web-identity/sso
 *                  (refused), and the merged profile's values and settings
 *   process.c      custom-process           credential_process
 *   container.c    container-role           ECS and EKS endpoints
 *   imds.c         iam-role                 EC2 instance metadata (IMDSv2)
 *   json.c         credentials as JSON (process, container, imds)
 *   url.c          which metadata URLs may be plain http
 *   ini.c          the shared config and credentials file parser
 *   shlex.c        Python's shlex.split(), for ini.c and process.c
 *
 * A provider is one function of type creds_provider_fn and one row in
 * chain.c's providers[]: it returns SESCTL_OK with *found false when it
 * has nothing (having said where it looked with creds_looked_add()),
 * SESCTL_OK with *found and `out` filled, or an error that ends the chain.
 */
#ifndef SESCTL_CREDS_INT_H
#define SESCTL_CREDS_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesctl/aws/creds.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define NO_INDEX UINT32_MAX

/* ---- ini.c ---------------------------------------------------------- */

enum { ENT_MULTILINE = 1u, ENT_NESTED = 2u };

struct ini_section {
	uint32_t name_off, name_len;
	uint32_t line;
	uint32_t prof_off, prof_len; /* config file: the profile it defines */
	bool is_default;             /* "[DEFAULT]" */
	bool is_profile;             /* config file: defines prof_* */
	bool rewritten;              /* name rewritten by creds_shlex_split() */
};

struct ini_entry {
	uint32_t sect;
	uint32_t key_off, key_len;
	uint32_t val_off, val_len;
	uint32_t line;
	uint32_t flags;
};

struct ini_file {
	char path[PATH_MAX];
	bool is_config;
	bool present;            /* the file existed and was read */
	struct secret text;      /* the whole file; parsed in place */
	struct ini_section *sect;
	uint32_t nsect, sect_cap;
	struct ini_entry *ent;
	uint32_t nent, ent_cap;
	uint32_t dflt;           /* the [DEFAULT] section or NO_INDEX */
};

/* Read f->path (a missing file is no error: f->present stays false) and
 * parse it; creds_ini_release() frees and wipes it. */
MUST_USE sesctl_err creds_ini_load(struct ctx *ctx, struct ini_file *f);
void creds_ini_release(struct ini_file *f);
/* Credentials file: the section called `name` (never [DEFAULT]). */
uint32_t creds_ini_section_named(const struct ini_file *f, const char *name);
/* Config file: the last section that defines profile `name`. */
uint32_t creds_ini_profile_section(const struct ini_file *f, const char *name);
/* The entry for `key` in section `sect`, else in [DEFAULT]. */
const struct ini_entry *creds_ini_get(const struct ini_file *f, uint32_t sect,
				      const char *key);

/* ---- shlex.c -------------------------------------------------------- */

/* One word of creds_shlex_split(): b[off, off + len). */
struct shlex_word {
	size_t off, len;
};

/* Python's shlex.split() in POSIX mode without comments: words are
 * separated by ' ', \t, \r, \n; '...' keeps everything; "..." keeps
 * everything but a backslash before '"' or '\'; outside quotes a
 * backslash keeps the next character.  Splits b[0, len) in place (words
 * never grow) and describes the words in w[0..n); a '\0' follows every
 * word that ends before b + len, so the words of a C string are C strings.
 * Returns n; -1 for an unterminated quote or a trailing backslash (shlex's
 * ValueError); -2 as soon as word max + 1 starts. */
int creds_shlex_split(unsigned char *b, size_t len, struct shlex_word *w,
		      size_t max);

/* ---- the resolution state (chain.c) ------------------------------- */

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

typedef sesctl_err (*creds_provider_fn)(struct state *st, struct creds *out,
					bool *found);

const char *creds_env_get(creds_env_fn env, const char *name);
void creds_set_text(char *dst, size_t size, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
void creds_looked_add(struct state *st, const char *fmt, ...)
	PRINTF_LIKE(2, 3);
/* The region STS is called in, and the profile's region (chain.c). */
void creds_sts_region(struct state *st, const char **region);
MUST_USE sesctl_err creds_profile_region(struct state *st,
					 struct creds_region *out, bool *found);

/* ---- values and profiles (profile.c) ------------------------------- */

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

bool creds_val_from_env(struct state *st, const char *name, struct val *v);
bool creds_val_from_file(const struct ini_file *f, uint32_t sect,
			 const char *key, struct val *v);
MUST_USE sesctl_err creds_val_error(struct state *st, const struct val *v,
				    const char *problem);
MUST_USE sesctl_err creds_val_check_shape(struct state *st,
					  const struct val *v);
MUST_USE sesctl_err creds_fill(struct state *st, const struct val *id,
			       const struct val *secret,
			       const struct val *token, struct creds *out);
bool creds_prof_find(struct state *st, const char *name, size_t len,
		     struct prof *p);
bool creds_prof_get(struct state *st, const struct prof *p, const char *key,
		    struct val *v);
MUST_USE sesctl_err creds_val_text(struct state *st, const struct val *v,
				   bool empty_ok, char *buf, size_t size);
void creds_val_where(const struct val *v, char *buf, size_t size);
const char *creds_looked_since(const struct state *st, size_t mark);
bool creds_env_true(struct state *st, const char *name);
long creds_retry_pause_ms(struct state *st);
const char *creds_ca_bundle(struct state *st);
MUST_USE sesctl_err creds_check_unsupported(struct state *st,
					    const struct prof *p, bool env_ok);
MUST_USE sesctl_err creds_from_credentials_file(struct state *st,
						const struct prof *p,
						struct creds *out, bool *found);
MUST_USE sesctl_err creds_from_config_file(struct state *st,
					   const struct prof *p,
					   struct creds *out, bool *found);

/* ---- json.c, url.c -------------------------------------------------- */

enum {
	JC_VERSION = 1u,    /* "Version": 1 required (credential_process) */
	JC_TOKEN = 2u,      /* the token is required */
	JC_EXPIRATION = 4u, /* "Expiration" is required */
	JC_EXPIRED_OK = 8u, /* expired credentials: warn, do not refuse */
};

MUST_USE sesctl_err creds_json_creds(struct state *st,
				     const struct secret *text,
				     const char *what, const char *token_name,
				     unsigned flags, struct creds *out);
bool creds_url_allowed(const char *url, const char *const *hosts, size_t n,
		       char *host, size_t size);

/* ---- the providers' own sources (also used by assume-role) --------- */

MUST_USE sesctl_err creds_from_env(struct state *st, struct creds *out,
				   bool *found);
MUST_USE sesctl_err creds_from_process(struct state *st, const struct prof *p,
				       struct creds *out, bool *found);
MUST_USE sesctl_err creds_from_container(struct state *st, struct creds *out,
					 bool *found);
MUST_USE sesctl_err creds_from_imds(struct state *st, struct creds *out,
				    bool *found, char *note, size_t note_size);
MUST_USE sesctl_err creds_assume_role(struct state *st, const struct prof *p,
				      struct creds *out);

/* ---- the providers, in chain.c's providers[] order ----------------- */

MUST_USE sesctl_err creds_provider_env(struct state *st, struct creds *out,
				       bool *found);
MUST_USE sesctl_err creds_provider_assume_role(struct state *st,
					       struct creds *out, bool *found);
MUST_USE sesctl_err creds_provider_unsupported(struct state *st,
					       struct creds *out, bool *found);
MUST_USE sesctl_err creds_provider_credentials_file(struct state *st,
						    struct creds *out,
						    bool *found);
MUST_USE sesctl_err creds_provider_process(struct state *st, struct creds *out,
					   bool *found);
MUST_USE sesctl_err creds_provider_config_file(struct state *st,
					       struct creds *out, bool *found);
MUST_USE sesctl_err creds_provider_container(struct state *st,
					     struct creds *out, bool *found);
MUST_USE sesctl_err creds_provider_imds(struct state *st, struct creds *out,
					bool *found);

#endif
