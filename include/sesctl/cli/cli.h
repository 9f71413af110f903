/* cli.h - commands and options as data (git commands[], curl aliases[]).
 *
 * --help, usage errors, the hidden `sesctl __complete` and the tests that
 * keep the man page and completions in step all read these tables.
 */
#ifndef SESCTL_CLI_H
#define SESCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"

/* Every option sesctl knows, sorted by name. */
enum opt_id {
	OPT_ACCESS_KEY_ID,
	OPT_ACCOUNT_ID,
	OPT_ADOPT,
	OPT_ALL,
	OPT_CA_BUNDLE,
	OPT_CHECK,
	OPT_CREDENTIALS_FILE,
	OPT_CRIT_AGE,
	OPT_DEACTIVATE_OLD,
	OPT_DEBUG,
	OPT_DEPLOY_HOOK,
	OPT_DEPLOY_HOOK_TIMEOUT,
	OPT_DRY_RUN,
	OPT_ENDPOINT_URL,
	OPT_FINISH,
	OPT_FOR,
	OPT_FORCE,
	OPT_FORMAT,
	OPT_FROM_ADDRESS,
	OPT_FROM_ENV,
	OPT_HELP,
	OPT_IDENTITY,
	OPT_K8S_NAME,
	OPT_K8S_NAMESPACE,
	OPT_KEEP_OLD,
	OPT_KEEP_STORES,
	OPT_KMS_KEY_ID,
	OPT_LEGACY_V2,
	OPT_MAX_AGE,
	OPT_NAME,
	OPT_OUTPUT_FILE,
	OPT_PORT,
	OPT_PROFILE,
	OPT_QUIET,
	OPT_REGION,
	OPT_REPAIR,
	OPT_SECRETS_MANAGER,
	OPT_SMTP_ENDPOINT_URL,
	OPT_SSM_PATH,
	OPT_STORE_REGION,
	OPT_USER_NAME,
	OPT_VERIFY,
	OPT_VERIFY_TIMEOUT,
	OPT_VERSION,
	OPT_WARN_AGE,
	OPT_YES,
	OPT__COUNT
};

#define OPT_ARG    0x1 /* takes a value: --name V or --name=V */
#define OPT_REPEAT 0x2 /* may be given more than once */
#define OPT_SECRET 0x4 /* a secret: refused on the command line */
#define OPT_GLOBAL 0x8 /* accepted before or after the command */

struct opt_def {
	enum opt_id id;
	const char *name;    /* without the leading "--" */
	const char *metavar; /* NULL for flags */
	unsigned flags;
	const char *help;
	const char *const *values; /* NULL-terminated fixed choices, or NULL */
};

#define OPT_VALUES_MAX 16

struct opts {
	unsigned count[OPT__COUNT];
	const char *val[OPT__COUNT][OPT_VALUES_MAX]; /* borrowed from argv */
};

/* The last value given for `id`, or NULL. */
const char *opts_get(const struct opts *o, enum opt_id id);
bool opts_has(const struct opts *o, enum opt_id id);
/* How many times `id` was given. */
unsigned opts_count(const struct opts *o, enum opt_id id);
/* The value of `id` as a whole number of `unit` ("seconds", "days") from
 * min to max (dflt when it was not given); a usage error naming the
 * option otherwise. */
MUST_USE sesctl_err opts_number(struct err_info *ei, const struct opts *o,
				enum opt_id id, long min, long max, long dflt,
				const char *unit, long *out);

#define CMD_OFFLINE     0x1 /* never touches the network */
#define CMD_NEEDS_CREDS 0x2 /* needs the caller's AWS credentials */
#define CMD_MUTATES     0x4 /* changes IAM */

struct cmd_def {
	const char *name;
	sesctl_err (*fn)(struct ctx *ctx, const struct opts *o, int argc,
			 char **argv);
	unsigned flags;
	const enum opt_id *opts; /* command options, ending with OPT__COUNT */
	const char *synopsis;    /* after "sesctl smtp <name> " */
	const char *summary;     /* one line for the command list */
	const char *help;        /* the body of --help */
};

/* The option table (sorted by name) and the smtp commands. */
const struct opt_def *cli_options(size_t *count);
const struct opt_def *cli_option(enum opt_id id);
const struct cmd_def *cli_smtp_commands(size_t *count);

/* Overwrite an argv string that held a secret with spaces, so ps and
 * /proc/PID/cmdline stop showing it (curl cleanarg). */
void cli_wipe_arg(char *s);

/* Run sesctl with `argv`.  Prints help to stdout; on failure the message is
 * in ctx->err.  May overwrite argv strings that held secrets. */
MUST_USE sesctl_err cli_run(struct ctx *ctx, int argc, char **argv);

#endif
