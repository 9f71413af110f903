/* smtp_verify.h - does SES accept these SMTP credentials?
 *
 * smtp_verify_login logs in to an SMTP host with smtp_login (no mail is
 * sent), trying again with backoff while a new key propagates, until SES
 * accepts it or the timeout passes.  A refusal is explained: the usual
 * causes, most likely first, from what can be told about the password's
 * shape.  `sesctl smtp verify` and --verify for enable and rotate, which
 * read the settings and options, are cli/cmd_verify.h.
 */
#ifndef SESCTL_SMTP_VERIFY_H
#define SESCTL_SMTP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
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

#endif
