/* cmd_verify.h - `sesctl smtp verify`, and --verify for enable and rotate.
 *
 * `sesctl smtp verify` (declared in cmd_smtp.h with the other commands)
 * reads SMTP settings in any format sesctl writes (env, export, dotenv,
 * json, postfix, k8s-secret) from --credentials-file, standard input
 * or, with --from-env, SMTP_USER/SMTP_PASS/SMTP_HOST/SMTP_PORT, and logs
 * in to each SMTP host with smtp_verify_login (no mail is sent).  enable and
 * rotate --verify do the same for the key they just made, trying again
 * with backoff while IAM propagates the new key, until SES accepts it or
 * --verify-timeout passes.
 */
#ifndef SESCTL_CMD_VERIFY_H
#define SESCTL_CMD_VERIFY_H

#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"
#include "sesctl/cli/cli.h"
#include "sesctl/cli/lifecycle.h"

/* --verify for enable and rotate: check the options (before anything is
 * changed in IAM); then log in with the new key's v4 password for every
 * region of `lc`. */
MUST_USE sesctl_err smtp_verify_check_opts(struct ctx *ctx,
					   const struct opts *o,
					   size_t n_regions);
MUST_USE sesctl_err smtp_verify_new_key(struct lc *lc, const char *key_id,
					const struct secret *secret_key);

#endif
