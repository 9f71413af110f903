/* cmd_smtp.h - the `sesctl smtp` commands. */
#ifndef SESCTL_CMD_SMTP_H
#define SESCTL_CMD_SMTP_H

#include "sesctl/cli.h"

MUST_USE sesctl_err smtp_derive(struct ctx *ctx, const struct opts *o,
				int argc, char **argv);

#endif
