/* creds.h - the credentials and profile settings of the caller (the admin
 * who runs sesctl), resolved the way the AWS CLI (v2) resolves them.
 *
 * Credentials come from a chain of providers tried in order, one function
 * per provider in a table in src/aws/creds/chain.c (DESIGN.md
 * "Credentials of the caller"), in botocore's order (credentials.py
 * create_credential_resolver, ProfileProviderBuilder.providers):
 *
 *   1. env                      AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *                               (+ AWS_SECURITY_TOKEN or AWS_SESSION_TOKEN);
 *                               skipped when --profile is given
 *   2. assume-role              the profile's role_arn, with credentials
 *                               from source_profile (recursively) or
 *                               credential_source (Environment,
 *                               EcsContainer, Ec2InstanceMetadata), through
 *                               STS AssumeRole (sts.h)
 *      (web identity and IAM Identity Center (SSO) come here in botocore;
 *      sesctl does not support them and says so instead of skipping them)
 *   3. shared-credentials-file  [name] in AWS_SHARED_CREDENTIALS_FILE or
 *                               ~/.aws/credentials
 *   4. custom-process           the profile's credential_process: a command
 *                               that prints Version 1 JSON credentials
 *   5. config-file              [profile name] (or [default]) in
 *                               AWS_CONFIG_FILE or ~/.aws/config
 *   6. container-role           AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *                               (http://169.254.170.2 + it) or
 *                               AWS_CONTAINER_CREDENTIALS_FULL_URI, with
 *                               AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *                               AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   7. iam-role                 EC2 instance metadata, IMDSv2 only, unless
 *                               AWS_EC2_METADATA_DISABLED=true
 *
 * Profile settings (role_arn, credential_process, ...) are looked up in
 * the profile as botocore merges it: the credentials file's [name] over
 * the config file's [profile name], key by key.  A provider that is
 * configured but fails (a process that exits 1, STS refusing, the
 * container endpoint refusing the token) ends the chain with an error;
 * only instance metadata that cannot be reached or has no role is passed
 * over, as in botocore.
 *
 * The profile is --profile, else $AWS_PROFILE, else $AWS_DEFAULT_PROFILE,
 * else "default".  A profile named by any of those three that neither file
 * defines is an error (SESCTL_ERR_USAGE), as the AWS CLI's "The config
 * profile (x) could not be found".  Both files are read on every call (a
 * malformed one is an error even when the environment has credentials,
 * as with the AWS CLI).
 *
 * Exit codes (through sesctl_err): malformed file, partial or malformed
 * credentials, bad process output, unsupported settings SESCTL_ERR_INPUT
 * (1); unreadable file SESCTL_ERR_IO (1); profile not found, no region, a
 * refused endpoint URL SESCTL_ERR_USAGE (2); credential_process failing
 * SESCTL_ERR_FAIL (1); STS or the container endpoint refusing the caller
 * SESCTL_ERR_AUTH (3); network failure after retries SESCTL_ERR_NETWORK
 * (6); no credentials anywhere SESCTL_ERR_FAIL (1).  Messages never
 * contain a secret nor a line of a file (only its path and line number).
 */
#ifndef SESCTL_CREDS_H
#define SESCTL_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* Access key ids: IAM's documented 16 to 128 characters, [A-Z0-9]. */
#define CREDS_ACCESS_KEY_ID_MIN 16
#define CREDS_ACCESS_KEY_ID_MAX 128
/* The largest config or credentials file read (larger is an error). */
#define CREDS_FILE_MAX ((size_t)1 << 20)
/* Room for a description such as "profile 'x' in '/long/path'". */
#define CREDS_SOURCE_MAX 512
#define CREDS_REGION_MAX 64

/* Environment lookup: getenv(3) or a test's stand-in.  NULL or "" both
 * mean "not set" everywhere in this module. */
typedef const char *(*creds_env_fn)(const char *name);

struct creds_opts {
	const char *profile; /* --profile, or NULL */
	/* --region, or NULL.  creds_resolve also calls STS in this region
	 * (regional endpoint, signing region); when NULL it uses
	 * AWS_REGION, AWS_DEFAULT_REGION or the profile's region, and the
	 * global endpoint if there is none. */
	const char *region;
	creds_env_fn env;    /* NULL: getenv(3) */
};

/* What the providers that run a command or talk to the network need
 * beyond creds_opts.  (A separate struct rather than more creds_opts
 * fields, so the positional creds_opts initializers elsewhere keep
 * compiling under -Wmissing-field-initializers.)  Zero is the default
 * for every field. */
struct creds_net_opts {
	/* --ca-bundle, for STS and https container or metadata endpoints;
	 * NULL: $AWS_CA_BUNDLE, else the system's CAs. */
	const char *ca_bundle;
	/* STS request timeouts; 0: http's defaults.  (The container
	 * endpoint and instance metadata have their own short ones.) */
	long connect_timeout_ms;
	long timeout_ms;
	/* Only the environment and the files' static keys: no
	 * credential_process, STS, container endpoint or instance metadata
	 * (for fuzzing).  A configured role_arn, credential_process or
	 * container endpoint is then an error; instance metadata is
	 * skipped. */
	bool offline;
};

struct creds {
	char access_key_id[CREDS_ACCESS_KEY_ID_MAX + 1]; /* not a secret */
	struct secret secret_key;
	struct secret session_token; /* len 0: long-term credentials */
	/* The provider's name, botocore's method names: "env",
	 * "assume-role", "shared-credentials-file", "custom-process",
	 * "config-file", "container-role", "iam-role" (static storage),
	 * NULL when empty. */
	const char *provider;
	/* For --debug and messages: "environment", "profile 'x' in
	 * '/home/u/.aws/credentials'", "role 'arn:...' (profile 'x') with
	 * credentials from ...".  Never a secret. */
	char source[CREDS_SOURCE_MAX];
	/* When temporary credentials expire (UTC); 0: not known or never. */
	time_t expiration;
};

struct creds_region {
	char name[CREDS_REGION_MAX + 1];
	/* "--region", "AWS_REGION", "AWS_DEFAULT_REGION" or
	 * "profile 'x' in '/home/u/.aws/config'". */
	char source[CREDS_SOURCE_MAX];
};

/* An empty struct creds (the same as zeroing it). */
void creds_init(struct creds *c);

/* Wipe and free the secrets and clear everything; `c` is then empty (as
 * after creds_init).  NULL-safe, idempotent. */
void creds_release(struct creds *c);

/* The caller's credentials into `out`, which must be empty or hold earlier
 * credentials (released first).  On error `out` is left empty and
 * ctx->err says why (see the top of this file for the codes).  May run
 * the profile's credential_process and talk to STS, the container
 * endpoint or instance metadata (see the top of this file). */
MUST_USE sesctl_err creds_resolve(struct ctx *ctx, const struct creds_opts *o,
				  struct creds *out);

/* creds_resolve with `net` (NULL: all defaults, as creds_resolve). */
MUST_USE sesctl_err creds_resolve_net(struct ctx *ctx,
				      const struct creds_opts *o,
				      const struct creds_net_opts *net,
				      struct creds *out);

/* The region: --region (o->region), $AWS_REGION, $AWS_DEFAULT_REGION, then
 * `region` of the profile (the credentials file's value, if it has one,
 * wins over the config file's, as in botocore's merged profile).  The files
 * are read only when the first three are unset.  The value is not checked
 * beyond its length: callers check its shape (region.h) and can name
 * `out->source` when it is wrong.  None anywhere is SESCTL_ERR_USAGE. */
MUST_USE sesctl_err creds_region(struct ctx *ctx, const struct creds_opts *o,
				 struct creds_region *out);

/* The profile in effect (never NULL) and, in `*origin` if not NULL, where
 * it came from: "--profile", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", or NULL
 * for the implicit "default".  The result points into `o` or the
 * environment. */
const char *creds_profile(const struct creds_opts *o, const char **origin);

#endif
