/* hook.h - run the user's --deploy-hook: `/bin/sh -c CMD`, as certbot
 * does, with a few SESCTL_* variables added to its environment, a time
 * limit, and its output on sesctl's standard error (standard output may
 * carry the settings).
 *
 * The hook never sees a secret: the caller's AWS secret key, session and
 * container tokens and SMTP_PASS are taken out of its environment, and
 * nothing sesctl adds holds a password.  It runs in a process group of its
 * own, so that a time-out or an interrupt (SIGINT, SIGTERM, SIGHUP caught
 * inside the critical section, interrupt.h) stops it and whatever it
 * started: SIGTERM, two seconds' grace, then SIGKILL.
 */
#ifndef SESCTL_HOOK_H
#define SESCTL_HOOK_H

#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"

#define HOOK_DEFAULT_TIMEOUT_S 300
#define HOOK_MAX_TIMEOUT_S 86400
#define HOOK_VARS_MAX 8

struct hook_var {
	const char *name;
	const char *value; /* NULL: not set */
};

/* Run `cmd`; SESCTL_OK when it exited 0 within `timeout_ms`.  Otherwise
 * SESCTL_ERR_FAIL with a message that says what happened (exit status,
 * signal, time-out, interrupt). */
MUST_USE sesctl_err hook_run(struct ctx *ctx, const char *cmd,
			     const struct hook_var *vars, size_t n_vars,
			     long timeout_ms);

#endif
