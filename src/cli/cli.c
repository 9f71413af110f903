/* cli.c - argv parsing and dispatch, driven by the option and command
 * tables (git git.c commands[], curl tool_getparam.c aliases[]).
 *
 * Grammar:  sesctl [GLOBAL...] smtp [GLOBAL...] <command> [OPTION|ARG...]
 * Global options are accepted anywhere; command options only after the
 * command.  Commands match exactly, never by prefix: rotate and disable
 * destroy things (see tmux cmd-kill-session).
 */
#include "sesctl/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/smtp/output.h"
#include "sesctl/aws/region.h"
#include "sesctl/base/secret.h"

static const char *const format_values[] = { "env",	"export",
					     "dotenv",	"json",
					     "postfix", "k8s-secret",
					     "text",	"prometheus",
					     NULL };

static const char *const port_values[] = { "587", "465", "2587", "2465",
					   "25", NULL };

/* Sorted by name; the enum in cli.h follows the same order. */
static const struct opt_def options[] = {
	{ OPT_ACCESS_KEY_ID, "access-key-id", "KEY", OPT_ARG,
	  "the access key id (the SMTP user name) for the full SMTP settings",
	  NULL },
	{ OPT_ACCOUNT_ID, "account-id", "ID", OPT_ARG,
	  "the 12-digit AWS account id the policy's resources name (default: "
	  "any account, *)",
	  NULL },
	{ OPT_ADOPT, "adopt", NULL, 0,
	  "take over an existing IAM user that sesctl did not create", NULL },
	{ OPT_ALL, "all", NULL, 0,
	  "every SMTP user of the account: sesctl's, adopted ones, SES "
	  "console ones", NULL },
	{ OPT_CA_BUNDLE, "ca-bundle", "FILE", OPT_ARG | OPT_GLOBAL,
	  "trust the CA certificates in FILE (default: $AWS_CA_BUNDLE)", NULL },
	{ OPT_CHECK, "check", NULL, 0,
	  "for monitoring: one summary line; exit 0 OK, 1 warning, 2 critical, "
	  "3 unknown",
	  NULL },
	{ OPT_CREDENTIALS_FILE, "credentials-file", "FILE", OPT_ARG,
	  "read the SMTP settings to check from FILE (any --format sesctl "
	  "writes)",
	  NULL },
	{ OPT_CRIT_AGE, "crit-age", "DAYS", OPT_ARG,
	  "an active key older than DAYS is critical (default: never)", NULL },
	{ OPT_DEACTIVATE_OLD, "deactivate-old", NULL, 0,
	  "set the old key Inactive instead of deleting it", NULL },
	{ OPT_DEBUG, "debug", NULL, OPT_GLOBAL,
	  "explain each step on stderr (secrets are never shown)", NULL },
	{ OPT_DEPLOY_HOOK, "deploy-hook", "CMD", OPT_ARG,
	  "run CMD with /bin/sh once the new settings are delivered, before "
	  "the old key is retired; the old key stays if it fails",
	  NULL },
	{ OPT_DEPLOY_HOOK_TIMEOUT, "deploy-hook-timeout", "SECONDS", OPT_ARG,
	  "stop the deploy hook after this long and count it failed (default: "
	  "300)",
	  NULL },
	{ OPT_DRY_RUN, "dry-run", NULL, 0,
	  "print the IAM calls that would change something; change nothing",
	  NULL },
	{ OPT_ENDPOINT_URL, "endpoint-url", "URL", OPT_ARG | OPT_GLOBAL,
	  "IAM endpoint (default: $AWS_ENDPOINT_URL_IAM, $AWS_ENDPOINT_URL, "
	  "the partition's)",
	  NULL },
	{ OPT_FINISH, "finish", NULL, 0,
	  "delete every access key but the newest (after --keep-old)", NULL },
	{ OPT_FOR, "for", "CMDS", OPT_ARG | OPT_REPEAT,
	  "the commands to allow: enable, rotate, status and disable, "
	  "separated by commas (default: all four)",
	  NULL },
	{ OPT_FORCE, "force", NULL, 0,
	  "act on a user sesctl does not manage",
	  NULL },
	{ OPT_FORMAT, "format", "FORMAT", OPT_ARG,
	  "output format (see each command's --help)",
	  format_values },
	{ OPT_FROM_ADDRESS, "from-address", "ADDR", OPT_ARG | OPT_REPEAT,
	  "only allow mail from ADDR (a pattern such as *@example.com)", NULL },
	{ OPT_FROM_ENV, "from-env", NULL, 0,
	  "read the input from the environment instead of stdin",
	  NULL },
	{ OPT_HELP, "help", NULL, OPT_GLOBAL, "show help and exit", NULL },
	{ OPT_IDENTITY, "identity", "IDENTITY", OPT_ARG | OPT_REPEAT,
	  "only allow sending as this SES identity (domain or address)", NULL },
	{ OPT_K8S_NAME, "k8s-name", "NAME", OPT_ARG,
	  "the Secret's metadata.name with --format k8s-secret (default: the "
	  "IAM user name)",
	  NULL },
	{ OPT_K8S_NAMESPACE, "k8s-namespace", "NS", OPT_ARG,
	  "the Secret's metadata.namespace with --format k8s-secret (default: "
	  "none, kubectl's current namespace)",
	  NULL },
	{ OPT_KEEP_OLD, "keep-old", NULL, 0,
	  "leave the old key active; retire it later with --finish", NULL },
	{ OPT_KEEP_STORES, "keep-stores", NULL, 0,
	  "leave the secrets sesctl made for the user (their settings stop "
	  "working)",
	  NULL },
	{ OPT_KMS_KEY_ID, "kms-key-id", "KEY", OPT_ARG,
	  "encrypt a secret sesctl creates with this KMS key (default: the "
	  "account's aws/secretsmanager key)",
	  NULL },
	{ OPT_LEGACY_V2, "legacy-v2", NULL, 0,
	  "use the deprecated v2 algorithm (SES rejects v2 passwords)", NULL },
	{ OPT_MAX_AGE, "max-age", "DAYS", OPT_ARG,
	  "rotate only when the delivered key is older than DAYS; otherwise "
	  "change nothing and exit 0 (for a timer)",
	  NULL },
	{ OPT_NAME, "name", "NAME", OPT_ARG,
	  "which SMTP user: IAM user sesctl-smtp-NAME (default: sesctl-smtp)",
	  NULL },
	{ OPT_OUTPUT_FILE, "output-file", "FILE", OPT_ARG,
	  "write the SMTP settings to FILE (mode 0600) instead of stdout",
	  NULL },
	{ OPT_PORT, "port", "PORT", OPT_ARG,
	  "SMTP port: 587, 2587 or 25 (STARTTLS), 465 or 2465 (TLS)",
	  port_values },
	{ OPT_PROFILE, "profile", "PROFILE", OPT_ARG | OPT_GLOBAL,
	  "the AWS profile to use (default: $AWS_PROFILE, $AWS_DEFAULT_PROFILE, "
	  "default)",
	  NULL },
	{ OPT_QUIET, "quiet", NULL, OPT_GLOBAL,
	  "print errors only, no warnings or progress", NULL },
	{ OPT_REGION, "region", "REGION", OPT_ARG | OPT_GLOBAL | OPT_REPEAT,
	  "the SES region, e.g. us-east-1 (default: $AWS_REGION, "
	  "$AWS_DEFAULT_REGION, the profile's region)",
	  NULL },
	{ OPT_REPAIR, "repair", NULL, 0,
	  "rewrite a changed sesctl-ses-send policy as sesctl writes it; "
	  "nothing else changes",
	  NULL },
	{ OPT_SECRETS_MANAGER, "secrets-manager", "SECRET",
	  OPT_ARG | OPT_REPEAT,
	  "deliver the settings to this AWS Secrets Manager secret (name or "
	  "ARN) as one JSON object; made if missing",
	  NULL },
	{ OPT_SMTP_ENDPOINT_URL, "smtp-endpoint-url", "URL", OPT_ARG,
	  "log in at URL (smtp://HOST:PORT or smtps://HOST:PORT) instead of "
	  "the region's SES SMTP host",
	  NULL },
	{ OPT_SSM_PATH, "ssm-path", "PATH", OPT_ARG,
	  "deliver the settings to SSM parameters PATH/SMTP_HOST, ... "
	  "(SMTP_PASS a SecureString)",
	  NULL },
	{ OPT_STORE_REGION, "store-region", "REGION", OPT_ARG,
	  "the region of the --secrets-manager secrets and the --ssm-path "
	  "parameters (default: the first --region, or the recorded one)",
	  NULL },
	{ OPT_USER_NAME, "user-name", "USER", OPT_ARG,
	  "the whole IAM user name, instead of --name", NULL },
	{ OPT_VERIFY, "verify", NULL, 0,
	  "log in to SES SMTP with the new password before reporting success "
	  "(rotate: before retiring the old key)",
	  NULL },
	{ OPT_VERIFY_TIMEOUT, "verify-timeout", "SECONDS", OPT_ARG,
	  "keep trying the SMTP login this long while IAM propagates a new "
	  "key (default: 120 with --verify, 0 for verify)",
	  NULL },
	{ OPT_VERSION, "version", NULL, OPT_GLOBAL,
	  "show the version and exit", NULL },
	{ OPT_WARN_AGE, "warn-age", "DAYS", OPT_ARG,
	  "warn about an active key older than DAYS (default: 90)", NULL },
	{ OPT_YES, "yes", NULL, OPT_GLOBAL,
	  "do not ask for confirmation (disable needs it without a terminal; "
	  "the other commands never ask)",
	  NULL },
};

_Static_assert(sizeof(options) / sizeof(options[0]) == OPT__COUNT,
	       "every opt_id needs exactly one row in options[]");

static const enum opt_id derive_opts[] = { OPT_ACCESS_KEY_ID, OPT_FORMAT,
					   OPT_FROM_ENV, OPT_K8S_NAME,
					   OPT_K8S_NAMESPACE, OPT_LEGACY_V2,
					   OPT__COUNT };
static const enum opt_id enable_opts[] = {
	OPT_ADOPT,	     OPT_DEPLOY_HOOK, OPT_DEPLOY_HOOK_TIMEOUT,
	OPT_DRY_RUN,	     OPT_FORMAT,      OPT_FROM_ADDRESS,
	OPT_IDENTITY,	     OPT_K8S_NAME,    OPT_K8S_NAMESPACE,
	OPT_KMS_KEY_ID,	     OPT_NAME,	      OPT_OUTPUT_FILE,
	OPT_REPAIR,	     OPT_SECRETS_MANAGER, OPT_SMTP_ENDPOINT_URL,
	OPT_SSM_PATH,	     OPT_STORE_REGION, OPT_USER_NAME, OPT_VERIFY,
	OPT_VERIFY_TIMEOUT,  OPT__COUNT
};
static const enum opt_id rotate_opts[] = {
	OPT_ADOPT,	     OPT_DEACTIVATE_OLD, OPT_DEPLOY_HOOK,
	OPT_DEPLOY_HOOK_TIMEOUT,
	OPT_DRY_RUN,	     OPT_FINISH,      OPT_FORCE,
	OPT_FORMAT,	     OPT_K8S_NAME,    OPT_K8S_NAMESPACE,
	OPT_KEEP_OLD,	     OPT_KMS_KEY_ID,  OPT_MAX_AGE,
	OPT_NAME,	     OPT_OUTPUT_FILE, OPT_SECRETS_MANAGER,
	OPT_SMTP_ENDPOINT_URL, OPT_SSM_PATH, OPT_STORE_REGION,
	OPT_USER_NAME,	     OPT_VERIFY,      OPT_VERIFY_TIMEOUT,
	OPT__COUNT
};
static const enum opt_id disable_opts[] = { OPT_DRY_RUN,   OPT_FORCE,
					    OPT_FORMAT,	   OPT_KEEP_STORES,
					    OPT_NAME,	   OPT_USER_NAME,
					    OPT__COUNT };
static const enum opt_id verify_opts[] = { OPT_CREDENTIALS_FILE, OPT_FROM_ENV,
					   OPT_PORT, OPT_SMTP_ENDPOINT_URL,
					   OPT_VERIFY_TIMEOUT, OPT__COUNT };
static const enum opt_id caller_policy_opts[] = {
	OPT_ACCOUNT_ID,	     OPT_FOR,	   OPT_KMS_KEY_ID, OPT_SECRETS_MANAGER,
	OPT_SSM_PATH,	     OPT_STORE_REGION, OPT__COUNT
};
static const enum opt_id status_opts[] = { OPT_ALL,	      OPT_CHECK,
					   OPT_CRIT_AGE,  OPT_FORMAT,
					   OPT_NAME,	      OPT_USER_NAME,
					   OPT_WARN_AGE,  OPT__COUNT };

static const struct cmd_def smtp_cmds[] = {
	{ "enable", smtp_enable, CMD_NEEDS_CREDS | CMD_MUTATES, enable_opts,
	  "--region REGION...",
	  "create the IAM user, its send-only policy and key; print SMTP "
	  "settings",
	  "Creates the IAM user sesctl-smtp (or sesctl-smtp-NAME) under path\n"
	  "/sesctl/, tagged ManagedBy=sesctl, gives it an inline policy that\n"
	  "allows only ses:SendRawEmail, creates an access key and prints the\n"
	  "SMTP settings for each --region: host, port, user (the key id) and\n"
	  "password (derived from the key's secret, which is shown nowhere).\n"
	  "\n"
	  "Once the settings are written, the key is recorded as delivered in\n"
	  "the user's tags (SesctlCurrentKey, SesctlRegions, SesctlFormat).\n"
	  "A rerun of an interrupted enable deletes the key it never delivered,\n"
	  "or records the one whose settings reached --output-file.  A user\n"
	  "that already has a key is refused (its secret cannot be shown again;\n"
	  "use 'sesctl smtp rotate').  If the settings cannot be written, the\n"
	  "new key is deleted again.\n"
	  "\n"
	  "Examples:\n"
	  "  sesctl smtp enable --region us-east-1\n"
	  "  sesctl smtp enable --name blog --region eu-west-1 \\\n"
	  "      --identity example.com --from-address '*@example.com' \\\n"
	  "      --output-file /etc/blog/smtp.env\n"
	  "  sesctl smtp enable --name app --region eu-west-1 \\\n"
	  "      --format k8s-secret --k8s-namespace mail | kubectl apply -f -\n" },
	{ "rotate", smtp_rotate, CMD_NEEDS_CREDS | CMD_MUTATES, rotate_opts,
	  NULL, "new SMTP password now; the old key retired",
	  "Creates a new access key, writes the new SMTP settings (durably,\n"
	  "replacing --output-file atomically), records it as delivered, and\n"
	  "only then retires the old key: deleted (the default, for a leaked\n"
	  "password), set Inactive (--deactivate-old), or left active\n"
	  "(--keep-old) for a switch without downtime, after which 'rotate\n"
	  "--finish' deletes every key but the recorded one.  It delivers the\n"
	  "recorded regions and the existing file's format and mode (and a\n"
	  "Kubernetes Secret's name and namespace; a file holding another\n"
	  "user's key is refused).  With two keys already, an\n"
	  "Inactive kept one is deleted first; two active keys are refused\n"
	  "unless --finish or --force (which deletes the kept one first).  A\n"
	  "rerun of an interrupted rotate finishes or undoes it.\n"
	  "\n"
	  "From a timer: --max-age DAYS rotates only a key older than DAYS\n"
	  "(else nothing changes, exit 0); --deploy-hook CMD runs CMD with\n"
	  "/bin/sh once the new settings are delivered and before the old key\n"
	  "is retired, which stays if CMD fails (the next run tries again).\n"
	  "\n"
	  "Examples:\n"
	  "  sesctl smtp rotate --output-file /etc/app/smtp.env\n"
	  "  sesctl smtp rotate --keep-old && sesctl smtp rotate --finish\n"
	  "  sesctl smtp rotate --max-age 90 --output-file /etc/app/smtp.env \\\n"
	  "      --deploy-hook 'systemctl restart app'\n" },
	{ "disable", smtp_disable, CMD_NEEDS_CREDS | CMD_MUTATES, disable_opts,
	  NULL, "delete the IAM user and everything attached to it",
	  "Deletes the user's access keys and sesctl's policy, then the user.\n"
	  "If IAM says something else is attached (inline or attached\n"
	  "policies, groups, a login profile, signing certificates, SSH keys,\n"
	  "service-specific credentials, MFA devices), removes that too and\n"
	  "tries again.  Asks first on a terminal; without one, --yes is\n"
	  "required.  A user that does not exist is not an error.  A rerun\n"
	  "after a failure finishes the job.\n"
	  "\n"
	  "Example:\n"
	  "  sesctl smtp disable --name blog --yes\n" },
	{ "status", smtp_status, CMD_NEEDS_CREDS, status_opts, NULL,
	  "show the user, policy, keys, their age and last use, and warnings",
	  "Shows the IAM user (ARN, creation, tags), its policy and whether it\n"
	  "is still the one sesctl writes, each access key (status, age, last\n"
	  "use), the SMTP host for the region, and warnings, each with a\n"
	  "stable code: key-old, two-active-keys, policy-drift, ... (see\n"
	  "sesctl-smtp(1)).  Exit status 4 when the user does not exist.\n"
	  "--all looks at every SMTP user of the account the same way (under\n"
	  "/sesctl/, taken over with --adopt, or made by the SES console): a\n"
	  "row each in text, each user's object in JSON.  For monitoring, --check\n"
	  "prints one line and exits 0 OK, 1 warning, 2 critical, 3 unknown\n"
	  "(with --all, the worst of all users); --format prometheus writes\n"
	  "metrics for node_exporter.\n"
	  "\n"
	  "Examples:\n"
	  "  sesctl smtp status --region eu-west-1\n"
	  "  sesctl smtp status --name blog --check --crit-age 120\n"
	  "  sesctl smtp status --all --check\n" },
	{ "derive", smtp_derive, CMD_OFFLINE, derive_opts, "--region REGION",
	  "turn an IAM secret access key into an SES SMTP password (offline)",
	  "Reads an IAM secret access key from standard input (without echo on a\n"
	  "terminal) or, with --from-env, from AWS_SECRET_ACCESS_KEY, and prints\n"
	  "the Amazon SES SMTP password for the region.  The secret is never\n"
	  "taken from the command line.  With --access-key-id, prints the whole\n"
	  "SMTP settings (host, port, user, password) in the chosen --format.\n"
	  "\n"
	  "The password is specific to the region; derive once per region.\n"
	  "Nothing is sent anywhere: this command works offline.\n"
	  "\n"
	  "Examples:\n"
	  "  printf '%s' \"$SECRET\" | sesctl smtp derive --region eu-west-1\n"
	  "  sesctl smtp derive --region us-east-1 --from-env \\\n"
	  "      --access-key-id \"$AWS_ACCESS_KEY_ID\" --format export\n" },
	{ "verify", smtp_verify, 0, verify_opts, NULL,
	  "log in to SES SMTP with the given settings (no mail is sent)",
	  "Logs in to the SES SMTP host with EHLO, STARTTLS (ports 587, 2587,\n"
	  "25) or TLS (465, 2465) and AUTH, and quits: no mail is sent.  The\n"
	  "settings come from --credentials-file, standard input (any --format\n"
	  "sesctl writes, or typed at the prompts on a terminal) or, with\n"
	  "--from-env, SMTP_USER, SMTP_PASS, SMTP_HOST and SMTP_PORT.  Every\n"
	  "region in a multi-region file is checked unless --region picks one.\n"
	  "\n"
	  "When SES refuses (535), the usual causes are named, most likely\n"
	  "first: a password derived for another region, the raw secret key\n"
	  "used as the password, a legacy v2 password, a key too new for IAM\n"
	  "to have propagated, an inactive key.  --verify-timeout keeps trying\n"
	  "that long.  Exit status 7 when SES refused, 6 when it could not be\n"
	  "reached.\n"
	  "\n"
	  "Examples:\n"
	  "  sesctl smtp verify --credentials-file /etc/app/smtp.env\n"
	  "  sesctl smtp enable --region eu-west-1 | sesctl smtp verify\n" },
	{ "caller-policy", smtp_caller_policy, CMD_OFFLINE, caller_policy_opts,
	  NULL, "print the least-privilege IAM policy for running sesctl",
	  "Prints, on standard output, the IAM policy document (JSON) that a\n"
	  "person or a CI role needs to run the commands named by --for (by\n"
	  "default enable, rotate, status and disable; derive and verify need\n"
	  "no AWS permission), with every resource limited to the IAM users\n"
	  "under /sesctl/ of the account (--account-id, else any account) in\n"
	  "the partition of the region.  Each statement has a Sid that says\n"
	  "what it is for; a note on standard error names the optional ones:\n"
	  "status --all's iam:ListUsers, status's reads of everything else\n"
	  "attached to a user, disable's DeleteConflict sweep, ...  Given the\n"
	  "--secrets-manager, --ssm-path, --store-region and --kms-key-id that\n"
	  "enable and rotate take, it adds what those secret stores need, on\n"
	  "those secrets, that parameter path and that KMS key only.  Attach\n"
	  "it as a customer managed policy.  Offline: nothing is sent anywhere.\n"
	  "\n"
	  "Examples:\n"
	  "  sesctl smtp caller-policy --account-id 123456789012 > policy.json\n"
	  "  sesctl smtp caller-policy --for status --region cn-north-1\n"
	  "  sesctl smtp caller-policy --account-id 123456789012 \\\n"
	  "      --region eu-west-1 --secrets-manager prod/app/smtp \\\n"
	  "      --ssm-path /prod/app/smtp\n" },
};

const struct opt_def *cli_options(size_t *count)
{
	*count = sizeof(options) / sizeof(options[0]);
	return options;
}

const struct opt_def *cli_option(enum opt_id id)
{
	if ((unsigned)id >= OPT__COUNT)
		return NULL;
	return &options[id];
}

const struct cmd_def *cli_smtp_commands(size_t *count)
{
	*count = sizeof(smtp_cmds) / sizeof(smtp_cmds[0]);
	return smtp_cmds;
}

const char *opts_get(const struct opts *o, enum opt_id id)
{
	if ((unsigned)id >= OPT__COUNT || o->count[id] == 0)
		return NULL;
	return o->val[id][o->count[id] - 1];
}

bool opts_has(const struct opts *o, enum opt_id id)
{
	return (unsigned)id < OPT__COUNT && o->count[id] > 0;
}

unsigned opts_count(const struct opts *o, enum opt_id id)
{
	return (unsigned)id < OPT__COUNT ? o->count[id] : 0;
}

sesctl_err opts_number(struct err_info *ei, const struct opts *o,
		       enum opt_id id, long min, long max, long dflt,
		       const char *unit, long *out)
{
	const char *v = opts_get(o, id);
	char *end = NULL;
	long n;

	*out = dflt;
	if (!v)
		return SESCTL_OK;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return err_set(ei, SESCTL_ERR_USAGE,
			       "--%s '%s' is not a number of %s from %ld to %ld",
			       cli_option(id)->name, v, unit, min, max);
	*out = n;
	return SESCTL_OK;
}

/* ---- help ---------------------------------------------------------- */

/* Where an option means something particular to one command, its help
 * says so there (and only there). */
static const struct {
	const char *cmd;
	enum opt_id id;
	const char *help;
} cmd_option_help[] = {
	{ "enable", OPT_FORMAT,
	  "how to print the settings: env (the default), export, dotenv, json, "
	  "postfix or k8s-secret (json with --dry-run: the plan as JSON)" },
	{ "rotate", OPT_FORMAT,
	  "env, export, dotenv, json, postfix or k8s-secret (default: the "
	  "--output-file's format, else the recorded one; json with --dry-run: "
	  "the plan as JSON)" },
	{ "derive", OPT_FORMAT,
	  "print the whole settings: env, export, dotenv, json, postfix or "
	  "k8s-secret (with --access-key-id)" },
	{ "rotate", OPT_K8S_NAME,
	  "the Secret's metadata.name with --format k8s-secret (default: the "
	  "--output-file's, else the IAM user name)" },
	{ "rotate", OPT_K8S_NAMESPACE,
	  "the Secret's metadata.namespace with --format k8s-secret (default: "
	  "the --output-file's, else none)" },
	{ "derive", OPT_K8S_NAME,
	  "the Secret's metadata.name; needed with --format k8s-secret" },
	{ "status", OPT_FORMAT,
	  "text (the default), json or prometheus" },
	{ "disable", OPT_FORMAT,
	  "text (the default) or json: the --dry-run plan, and a failure, as "
	  "JSON" },
	{ "enable", OPT_OUTPUT_FILE,
	  "write the settings to FILE (mode 0600; never over an existing "
	  "file) instead of stdout" },
	{ "rotate", OPT_OUTPUT_FILE,
	  "replace FILE atomically with the new settings (its format, mode "
	  "and owner kept)" },
	{ "rotate", OPT_ADOPT,
	  "take over a user sesctl did not create (an SES console user): tag "
	  "it, its live key stays the app's until this rotation retires it" },
	{ "rotate", OPT_FORCE,
	  "rotate a user sesctl does not manage; with two active keys, delete "
	  "the kept one first; with --finish, delete a kept key still in use" },
	{ "disable", OPT_FORCE,
	  "delete a user sesctl does not manage (no ManagedBy=sesctl tag)" },
	{ "disable", OPT_DRY_RUN,
	  "print the IAM calls that would delete something; delete nothing" },
	{ "derive", OPT_FROM_ENV,
	  "read the secret from AWS_SECRET_ACCESS_KEY instead of stdin" },
	{ "verify", OPT_FROM_ENV,
	  "read the settings from SMTP_USER, SMTP_PASS, SMTP_HOST and "
	  "SMTP_PORT" },
	{ "enable", OPT_VERIFY,
	  "log in to SES SMTP with the new password before reporting success" },
	{ "rotate", OPT_VERIFY,
	  "log in to SES SMTP with the new password before retiring the old "
	  "key" },
	{ "enable", OPT_VERIFY_TIMEOUT,
	  "keep trying the --verify login this long while IAM propagates the "
	  "new key (default: 120)" },
	{ "rotate", OPT_VERIFY_TIMEOUT,
	  "keep trying the --verify login this long while IAM propagates the "
	  "new key (default: 120)" },
	{ "verify", OPT_VERIFY_TIMEOUT,
	  "keep trying the login this long while SES refuses it (default: 0, "
	  "one attempt)" },
	{ "enable", OPT_DEPLOY_HOOK,
	  "run CMD with /bin/sh once the settings are delivered" },
	{ "caller-policy", OPT_SECRETS_MANAGER,
	  "also allow what delivering to this Secrets Manager secret (name or "
	  "ARN) needs, on it only" },
	{ "caller-policy", OPT_SSM_PATH,
	  "also allow what delivering to the SSM parameters under PATH needs, "
	  "on them only" },
	{ "caller-policy", OPT_STORE_REGION,
	  "the region of the secrets and parameters (default: a secret ARN's, "
	  "else the region; none: any region, *)" },
	{ "caller-policy", OPT_KMS_KEY_ID,
	  "also allow the use of this customer managed KMS key (id or ARN), "
	  "which encrypts the secrets or parameters" },
};

static const char *option_help(const struct cmd_def *cmd,
			       const struct opt_def *d)
{
	size_t i;

	for (i = 0; cmd && i < sizeof(cmd_option_help) /
					 sizeof(cmd_option_help[0]);
	     i++)
		if (cmd_option_help[i].id == d->id &&
		    strcmp(cmd_option_help[i].cmd, cmd->name) == 0)
			return cmd_option_help[i].help;
	return d->help;
}

static void print_option(FILE *f, const struct cmd_def *cmd,
			 const struct opt_def *d)
{
	const char *help = option_help(cmd, d);
	char left[64];
	int n;

	n = snprintf(left, sizeof(left), "--%s%s%s", d->name,
		     d->metavar ? " " : "", d->metavar ? d->metavar : "");
	if (n < 0 || (size_t)n >= sizeof(left))
		left[sizeof(left) - 1] = '\0';
	if (strlen(left) > 22) /* too wide: the help goes below */
		fprintf(f, "  %s\n  %-22s %s\n", left, "", help);
	else
		fprintf(f, "  %-22s %s\n", left, help);
}

static void print_globals(FILE *f)
{
	size_t i;

	fputs("Global options:\n", f);
	for (i = 0; i < OPT__COUNT; i++)
		if (options[i].flags & OPT_GLOBAL)
			print_option(f, NULL, &options[i]);
}

static void print_main_help(FILE *f)
{
	size_t i;

	fputs("usage: sesctl [<global options>] smtp <command> [<options>]\n"
	      "       sesctl --help | --version\n"
	      "\n"
	      "Manage Amazon SES SMTP credentials.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
		fprintf(f, "  smtp %-14s %s\n", smtp_cmds[i].name,
			smtp_cmds[i].summary);
	fputc('\n', f);
	print_globals(f);
	fputs("\nSee 'sesctl smtp <command> --help' and sesctl(1).\n", f);
}

static void print_smtp_help(FILE *f)
{
	size_t i;

	fputs("usage: sesctl smtp <command> [<options>]\n\nCommands:\n", f);
	for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
		fprintf(f, "  %-14s %s\n", smtp_cmds[i].name,
			smtp_cmds[i].summary);
	fputs("\nSee 'sesctl smtp <command> --help'.\n", f);
}

static void print_cmd_usage(FILE *f, const struct cmd_def *cmd)
{
	const enum opt_id *id;

	fprintf(f, "usage: sesctl smtp %s", cmd->name);
	if (cmd->synopsis)
		fprintf(f, " %s", cmd->synopsis);
	for (id = cmd->opts; *id != OPT__COUNT; id++) {
		const struct opt_def *d = &options[*id];

		if (d->metavar)
			fprintf(f, " [--%s %s]", d->name, d->metavar);
		else
			fprintf(f, " [--%s]", d->name);
	}
	fputc('\n', f);
}

static void print_cmd_help(FILE *f, const struct cmd_def *cmd)
{
	const enum opt_id *id;

	print_cmd_usage(f, cmd);
	fprintf(f, "\n%s\nOptions:\n", cmd->help);
	for (id = cmd->opts; *id != OPT__COUNT; id++)
		print_option(f, cmd, &options[*id]);
	fputc('\n', f);
	print_globals(f);
}

/* ---- parsing ------------------------------------------------------- */

/* Overwrite an argv string that held a secret so `ps` and /proc/PID/cmdline
 * stop showing it (curl cleanarg). */
void cli_wipe_arg(char *s)
{
	size_t n = strlen(s);

	secret_wipe(s, n);
	memset(s, ' ', n);
}

static const struct opt_def *find_option(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < OPT__COUNT; i++)
		if (strlen(options[i].name) == len &&
		    strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

static bool cmd_allows(const struct cmd_def *cmd, const struct opt_def *d)
{
	const enum opt_id *id;

	if (d->flags & OPT_GLOBAL)
		return true;
	for (id = cmd ? cmd->opts : NULL; id && *id != OPT__COUNT; id++)
		if (*id == d->id)
			return true;
	return false;
}

static sesctl_err check_value(struct ctx *ctx, const struct opt_def *d,
			      const char *v)
{
	const char *const *c;
	char list[256] = "";

	if (!d->values)
		return SESCTL_OK;
	for (c = d->values; *c; c++) {
		if (strcmp(*c, v) == 0)
			return SESCTL_OK;
		if (strlen(list) + strlen(*c) + 3 < sizeof(list)) {
			if (*list)
				strcat(list, ", ");
			strcat(list, *c);
		}
	}
	return err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "invalid value '%s' for '--%s'; choose one of: %s", v,
		       d->name, list);
}

/* Names other AWS tools use for an option sesctl has (the AWS CLI's
 * --output, --user for --user-name, ...), for a "did you mean". */
static const char *option_alias(const char *name, size_t len)
{
	static const char *const aliases[][2] = {
		{ "output", "format" },		 { "user", "user-name" },
		{ "username", "user-name" },	 { "out", "output-file" },
		{ "file", "output-file" },	 { "output-path", "output-file" },
		{ "regions", "region" },	 { "endpoint", "endpoint-url" },
		{ "timeout", "verify-timeout" }, { "hook", "deploy-hook" },
		{ "assume-yes", "yes" },
	};
	size_t i;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i][0]) == len &&
		    strncmp(aliases[i][0], name, len) == 0)
			return aliases[i][1];
	return NULL;
}

/* Parse the option at argv[*i] (which starts with "-") into `o`. */
static sesctl_err parse_option(struct ctx *ctx, const struct cmd_def *cmd,
			       const char *where, int argc, char **argv,
			       int *i, struct opts *o)
{
	char *arg = argv[*i];
	const struct opt_def *d;
	const char *name, *eq, *value = NULL;
	size_t len;

	if (strcmp(arg, "-h") == 0)
		arg = "--help";
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "unknown option '%s'\nsee '%s --help'", arg,
			       where);
	name = arg + 2;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	d = find_option(name, len);
	if (!d || !cmd_allows(cmd, d)) {
		const char *alias = option_alias(name, len);

		if (alias && find_option(alias, strlen(alias)) &&
		    cmd_allows(cmd, find_option(alias, strlen(alias))))
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "unknown option '--%.*s' for '%s'; did "
				       "you mean '--%s'?\nsee '%s --help'",
				       (int)len, name, where, alias, where);
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "unknown option '--%.*s' for '%s'\nsee '%s --help'",
			       (int)len, name, where, where);
	}
	if (d->flags & OPT_SECRET) {
		if (eq)
			cli_wipe_arg((char *)eq + 1);
		else if (*i + 1 < argc)
			cli_wipe_arg(argv[*i + 1]);
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "'--%s' does not take its value on the command "
			       "line, where other users can see it",
			       d->name);
	}
	if (d->flags & OPT_ARG) {
		if (eq) {
			value = eq + 1;
		} else if (*i + 1 < argc) {
			value = argv[++*i];
		} else {
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "option '--%s' needs a value (%s)",
				       d->name, d->metavar);
		}
		if (*value == '\0')
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "option '--%s' needs a non-empty value",
				       d->name);
	} else if (eq) {
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "option '--%s' takes no value", d->name);
	}
	if (value) {
		sesctl_err rc = check_value(ctx, d, value);

		if (rc != SESCTL_OK)
			return rc;
		if (o->count[d->id] > 0 && !(d->flags & OPT_REPEAT) &&
		    strcmp(o->val[d->id][o->count[d->id] - 1], value) != 0)
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "option '--%s' given twice ('%s' and "
				       "'%s')",
				       d->name,
				       o->val[d->id][o->count[d->id] - 1],
				       value);
	}
	if (o->count[d->id] >= OPT_VALUES_MAX)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "option '--%s' given more than %d times",
			       d->name, OPT_VALUES_MAX);
	if (o->count[d->id] > 0 && !(d->flags & OPT_REPEAT))
		return SESCTL_OK; /* same flag or value again: harmless */
	o->val[d->id][o->count[d->id]++] = value ? value : "";
	return SESCTL_OK;
}

static bool wants_help(int argc, char **argv, int from)
{
	int i;

	for (i = from; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

static const struct cmd_def *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
		if (strcmp(smtp_cmds[i].name, name) == 0)
			return &smtp_cmds[i];
	return NULL;
}

static void apply_globals(struct ctx *ctx, const struct opts *o)
{
	ctx->debug = ctx->debug || opts_has(o, OPT_DEBUG);
	ctx->quiet = ctx->quiet || opts_has(o, OPT_QUIET);
}

/* ---- completion helper --------------------------------------------- */

/* sesctl __complete                    -> command groups
 * sesctl __complete smtp               -> smtp commands
 * sesctl __complete smtp CMD           -> CMD's options and the globals
 * sesctl __complete --global           -> global options
 * sesctl __complete --values OPTION    -> fixed values of OPTION
 * One word a line; hidden from --help (git --git-completion-helper). */
static sesctl_err complete(struct ctx *ctx, int argc, char **argv)
{
	const struct cmd_def *cmd;
	size_t i, n;

	if (argc == 0) {
		puts("smtp");
		return SESCTL_OK;
	}
	if (strcmp(argv[0], "--global") == 0) {
		for (i = 0; i < OPT__COUNT; i++)
			if (options[i].flags & OPT_GLOBAL)
				printf("--%s\n", options[i].name);
		return SESCTL_OK;
	}
	if (strcmp(argv[0], "--values") == 0 && argc == 2) {
		const struct opt_def *d = find_option(argv[1], strlen(argv[1]));

		if (d && d->id == OPT_REGION) {
			const struct region_info *r = region_table(&n);

			for (i = 0; i < n; i++)
				if (r[i].smtp_host)
					puts(r[i].name);
			return SESCTL_OK;
		}
		if (d && d->values) {
			const char *const *v;

			for (v = d->values; *v; v++)
				puts(*v);
			return SESCTL_OK;
		}
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "no fixed values for '%s'", argv[1]);
	}
	if (strcmp(argv[0], "smtp") != 0)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "unknown command '%s'", argv[0]);
	if (argc == 1) {
		for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
			puts(smtp_cmds[i].name);
		return SESCTL_OK;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "unknown smtp command '%s'", argv[1]);
	for (i = 0; i < OPT__COUNT; i++)
		if (cmd_allows(cmd, &options[i]))
			printf("--%s\n", options[i].name);
	return SESCTL_OK;
}

/* ---- dispatch ------------------------------------------------------ */

sesctl_err cli_run(struct ctx *ctx, int argc, char **argv)
{
	struct opts o;
	const struct cmd_def *cmd = NULL;
	char **pos = NULL;
	int i = 1, npos = 0;
	sesctl_err rc = SESCTL_OK;

	memset(&o, 0, sizeof(o));
	/* A monitoring check reports even a usage error as "unknown". */
	/* With --format json, even a usage error is reported as JSON. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		ctx->check |= strcmp(argv[i], "--check") == 0;
		ctx->json_errors |= strcmp(argv[i], "--format=json") == 0 ||
				    (strcmp(argv[i], "--format") == 0 &&
				     i + 1 < argc &&
				     strcmp(argv[i + 1], "json") == 0);
	}
	i = 1;

	/* sesctl [GLOBAL...] */
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
		TRY(parse_option(ctx, NULL, "sesctl", argc, argv, &i, &o));
		i++;
	}
	apply_globals(ctx, &o);
	if (opts_has(&o, OPT_HELP)) {
		print_main_help(stdout);
		goto out;
	}
	if (opts_has(&o, OPT_VERSION)) {
		printf("sesctl %s\n", SESCTL_VERSION);
		goto out;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		print_main_help(stderr);
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE, "no command given");
		goto out;
	}
	if (strcmp(argv[i], "__complete") == 0) {
		rc = complete(ctx, argc - i - 1, argv + i + 1);
		goto out;
	}
	if (strcmp(argv[i], "smtp") != 0) {
		if (find_cmd(argv[i]))
			rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
				     "unknown command '%s'; did you mean "
				     "'sesctl smtp %s'?",
				     argv[i], argv[i]);
		else
			rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
				     "unknown command '%s'\nsee 'sesctl --help'",
				     argv[i]);
		goto out;
	}
	i++;

	/* smtp [GLOBAL...] <command> */
	if (wants_help(argc, argv, i) &&
	    (i >= argc || argv[i][0] == '-' || !find_cmd(argv[i]))) {
		print_smtp_help(stdout);
		goto out;
	}
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
		TRY(parse_option(ctx, NULL, "sesctl smtp", argc, argv, &i, &o));
		i++;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		print_smtp_help(stderr);
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
			     "no smtp command given");
		goto out;
	}
	cmd = find_cmd(argv[i]);
	if (!cmd) {
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
			     "unknown smtp command '%s'\nsee 'sesctl smtp --help'",
			     argv[i]);
		goto out;
	}
	i++;

	/* <command> [OPTION|ARG...] */
	if (wants_help(argc, argv, i)) {
		print_cmd_help(stdout, cmd);
		goto out;
	}
	pos = calloc((size_t)argc + 1, sizeof(*pos));
	ENSURE(pos, SESCTL_ERR_NOMEM);
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				pos[npos++] = argv[i];
			break;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			char where[64];

			snprintf(where, sizeof(where), "sesctl smtp %s",
				 cmd->name);
			TRY(parse_option(ctx, cmd, where, argc, argv, &i, &o));
			continue;
		}
		pos[npos++] = argv[i];
	}
	apply_globals(ctx, &o);
	rc = cmd->fn(ctx, &o, npos, pos);
out:
	free(pos);
	return rc;
}
