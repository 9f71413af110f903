/* smtp_verify.h - does SES accept these SMTP credentials?
 *
 * `sesctl smtp verify` reads SMTP settings in any format sesctl writes
 * (env, export, dotenv, json, postfix) from --credentials-file, standard
 * input or, with --from-env, SMTP_USER/SMTP_PASS/SMTP_HOST/SMTP_PORT, and
 * logs in to each SMTP host with smtp_login (no mail is sent).  enable and
 * rotate --verify do the same for the key they just made, trying again
 * with backoff while IAM propagates the new key, until SES accepts it or
 * --verify-timeout passes.  A refusal is explained: the usual causes,
 * most likely first, from what can be told about the password's shape.
 */
#ifndef SESCTL_SMTP_VERIFY_H
#define SESCTL_SMTP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/cli/cli.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/cli/lifecycle.h"
#include "sesctl/smtp/output.h"
#include "sesctl/aws/region.h"
#include "sesctl/base/secret.h"

#define SMTP_VERIFY_DEFAULT_TIMEOUT_S 120L
#define SMTP_VERIFY_MAX_TIMEOUT_S 3600L

struct smtp_verify_opts {
	const char *ca_bundle;    /* NULL: the system's CAs */
	const char *endpoint_url; /* --smtp-endpoint-url; NULL: the host */
	long timeout_s;           /* keep trying this long; 0: one attempt */
	bool new_key;             /* the key was made moments ago */
};

/* Log in to `host`:`port` (or o->endpoint_url) as `user` with `password`
 * until accepted or o->timeout_s passes.  SESCTL_OK when SES accepted;
 * SESCTL_ERR_SMTP_VERIFY (exit 7) when it refused, with the likely causes
 * in ctx->err; SESCTL_ERR_NETWORK when it could not be reached. */
MUST_USE sesctl_err smtp_verify_login(struct ctx *ctx,
				      const struct smtp_verify_opts *o,
				      const char *region, const char *host,
				      int port, const char *user,
				      const struct secret *password);

/* --verify for enable and rotate: check the options (before anything is
 * changed in IAM); then log in with the new key's v4 password for every
 * region of `lc`. */
MUST_USE sesctl_err smtp_verify_check_opts(struct ctx *ctx,
					   const struct opts *o,
					   size_t n_regions);
MUST_USE sesctl_err smtp_verify_new_key(struct lc *lc, const char *key_id,
					const struct secret *secret_key);

/* sesctl smtp verify */
MUST_USE sesctl_err smtp_verify(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);

#endif
