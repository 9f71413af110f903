/* cmd_smtp.h - the `sesctl smtp` commands. */
#ifndef SESCTL_CMD_SMTP_H
#define SESCTL_CMD_SMTP_H

#include "sesctl/cli/cli.h"

MUST_USE sesctl_err smtp_derive(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);
MUST_USE sesctl_err smtp_enable(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);
MUST_USE sesctl_err smtp_rotate(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);
MUST_USE sesctl_err smtp_disable(struct ctx *ctx, const struct opts *o,
				 int argc, char **argv);
MUST_USE sesctl_err smtp_status(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);
MUST_USE sesctl_err smtp_caller_policy(struct ctx *ctx, const struct opts *o,
				       int argc, char **argv);
MUST_USE sesctl_err smtp_verify(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);

#endif
