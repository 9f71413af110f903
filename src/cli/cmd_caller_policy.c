/* cmd_caller_policy.c - sesctl smtp caller-policy: the least-privilege IAM
 * policy a person or a CI role needs to run enable, rotate, status and
 * disable (derive and verify need no AWS permission), and, given the same
 * --secrets-manager, --ssm-path, --store-region and --kms-key-id as those
 * commands, what their secret stores need.
 *
 * What each command calls is data, in one place: stmts[] (one statement
 * each, with its scope, which says the store it is for, and whether the
 * command works without it), grants[] (every IAM action a command sends,
 * including the reads that settle an outcome a lost answer left unknown:
 * iam_resolve.c's actions[]) and store_grants[] (the same for Secrets
 * Manager, SSM and KMS, with the read-backs of secretsmanager.c and ssm.c;
 * each row for the commands and stores that need it, as the commands
 * share one statement per store).  When a command starts sending another
 * action, it gets a row here, and tests/integration/test_caller_policy.py
 * runs every command as a caller that holds exactly this policy.
 */
#include "sesctl/cli/cmd_smtp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/cli/lifecycle.h"
#include "sesctl/smtp/output.h"

/* The commands a policy is for (--for). */
#define FOR_ENABLE 0x1u
#define FOR_ROTATE 0x2u
#define FOR_STATUS 0x4u
#define FOR_DISABLE 0x8u
#define FOR_ALL (FOR_ENABLE | FOR_ROTATE | FOR_STATUS | FOR_DISABLE)
#define FOR_STORES (FOR_ENABLE | FOR_ROTATE | FOR_DISABLE)

/* The secret stores a policy is for (the options enable and rotate take;
 * status reads no store). */
#define HAS_SECRETS 0x1u /* --secrets-manager */
#define HAS_SSM 0x2u     /* --ssm-path */
#define HAS_KMS 0x4u     /* --kms-key-id, a customer managed key */

static const struct {
	const char *name;
	unsigned bit;
} for_names[] = {
	{ "enable", FOR_ENABLE },
	{ "rotate", FOR_ROTATE },
	{ "status", FOR_STATUS },
	{ "disable", FOR_DISABLE },
};

/* What a statement's Resource is. */
enum scope {
	ON_SESCTL_USERS,  /* arn:P:iam::A:user/sesctl/<any name> */
	ON_MISSING_USERS, /* a sesctl-named user not made yet (see below) */
	ON_GROUPS,        /* RemoveUserFromGroup: the group is the resource */
	ON_MFA_DEVICES,   /* DeleteVirtualMFADevice: the device */
	ON_ALL_USERS,     /* status --all: every user of the account */
	ON_CONSOLE_USERS, /* the SES console's ses-smtp-user.*, path / */
	ON_ANYTHING,      /* actions without resource-level permissions */
	ON_SECRETS,       /* each --secrets-manager secret */
	ON_SSM_PATH,      /* the --ssm-path itself (GetParametersByPath) */
	ON_SSM_PARAMS,    /* the parameters sesctl writes under it */
	ON_KMS_KEY,       /* the --kms-key-id key */
};

enum stmt_id {
	S_ENABLE,
	S_ENABLE_DRY_RUN_ACCOUNT,
	S_ROTATE,
	S_ROTATE_CONSOLE,
	S_STATUS,
	S_STATUS_ALL,
	S_STATUS_ALL_ELSEWHERE,
	S_STATUS_ATTACHMENTS,
	S_DISABLE,
	S_DISABLE_SWEEP,
	S_DISABLE_SWEEP_GROUPS,
	S_DISABLE_SWEEP_MFA,
	S_MISSING_USER,
	S_STORE_SECRETS,
	S_STORE_SSM_PATH,
	S_STORE_SSM_PARAMS,
	S_STORE_KMS_KEY,
	S_COUNT
};

/* Every statement, in the order printed (one for a store only when it is
 * named: scope_stores).  `optional`: the command still does its job
 * without it, and `why` says what is lost (printed on standard error, as
 * JSON has no comments). */
static const struct stmt {
	const char *sid;
	unsigned cmds;
	enum scope scope;
	bool optional;
	const char *why;
} stmts[S_COUNT] = {
	[S_ENABLE] = { "EnableSesctlUsers", FOR_ENABLE, ON_SESCTL_USERS, false,
		       NULL },
	[S_ENABLE_DRY_RUN_ACCOUNT] = {
		"EnableDryRunIdentityAccountLookup", FOR_ENABLE, ON_ANYTHING,
		true,
		"only enable --dry-run --identity for a user not made yet "
		"(the account id for the planned policy); STS answers "
		"GetCallerIdentity even without it" },
	[S_ROTATE] = { "RotateSesctlUsers", FOR_ROTATE, ON_SESCTL_USERS, false,
		       NULL },
	[S_ROTATE_CONSOLE] = {
		"RotateOptionalSesConsoleUsers", FOR_ROTATE, ON_CONSOLE_USERS,
		true,
		"only rotate --adopt of users the SES console made "
		"(ses-smtp-user.*, path /) and their rotations after; a user "
		"taken over elsewhere needs its own ARN in a statement like it" },
	[S_STATUS] = { "StatusSesctlUsers", FOR_STATUS, ON_SESCTL_USERS, false,
		       NULL },
	[S_STATUS_ALL] = {
		"StatusAllListUsers", FOR_STATUS, ON_ANYTHING, true,
		"only status --all (iam:ListUsers cannot be limited to a path: "
		"IAM wants Resource \"*\")" },
	[S_STATUS_ALL_ELSEWHERE] = {
		"StatusAllOptionalUsersOutsideSesctl", FOR_STATUS, ON_ALL_USERS,
		true,
		"only status --all: finding SMTP users outside /sesctl/ "
		"(taken over, made by the SES console or elsewhere) by their "
		"tags and policies, and reading them; without it they are left "
		"out, with a warning" },
	[S_STATUS_ATTACHMENTS] = {
		"StatusOptionalReadsOfOtherAttachments", FOR_STATUS,
		ON_SESCTL_USERS, true,
		"without it status shows the user's other policies, groups, "
		"console password and other credentials as unknown, naming "
		"the permission" },
	[S_DISABLE] = { "DisableSesctlUsers", FOR_DISABLE, ON_SESCTL_USERS,
			false, NULL },
	[S_DISABLE_SWEEP] = {
		"DisableOptionalDeleteConflictSweep", FOR_DISABLE,
		ON_SESCTL_USERS, true,
		"only when IAM answers DeleteConflict (someone attached more "
		"to the user than sesctl made) and for disable --dry-run's "
		"full plan; without it disable says what is left and which "
		"permission is missing" },
	[S_DISABLE_SWEEP_GROUPS] = {
		"DisableOptionalSweepGroupMemberships", FOR_DISABLE, ON_GROUPS,
		true,
		"the sweep's RemoveUserFromGroup, which IAM authorizes on the "
		"group: any group the user was put in" },
	[S_DISABLE_SWEEP_MFA] = {
		"DisableOptionalSweepVirtualMFADevices", FOR_DISABLE,
		ON_MFA_DEVICES, true,
		"the sweep's DeleteVirtualMFADevice, authorized on the device" },
	[S_MISSING_USER] = {
		"TellMissingUsersFromForbiddenOnes", FOR_ALL, ON_MISSING_USERS,
		true,
		"IAM authorizes a call on a user that does not exist against "
		"arn:...:user/NAME, outside /sesctl/: with it status and rotate "
		"say 'not enabled', a disable rerun finds the user gone and "
		"enable --dry-run plans a new user; without it they answer "
		"AccessDenied (exit status 3); it covers the default names "
		"(sesctl-smtp, sesctl-smtp-NAME), not a --user-name" },
	[S_STORE_SECRETS] = { "StoreSecretsManagerSecrets", FOR_STORES,
			      ON_SECRETS, false, NULL },
	[S_STORE_SSM_PATH] = { "StoreSsmParameterPath", FOR_STORES,
			       ON_SSM_PATH, false, NULL },
	[S_STORE_SSM_PARAMS] = { "StoreSsmParameters", FOR_STORES,
				 ON_SSM_PARAMS, false, NULL },
	[S_STORE_KMS_KEY] = { "StoreKmsKey", FOR_STORES, ON_KMS_KEY, false,
			      NULL },
};

/* The store a statement of this scope is about (HAS_*); 0: none. */
static unsigned scope_stores(enum scope s)
{
	switch (s) {
	case ON_SECRETS:
		return HAS_SECRETS;
	case ON_SSM_PATH:
	case ON_SSM_PARAMS:
		return HAS_SSM;
	case ON_KMS_KEY:
		return HAS_KMS;
	case ON_SESCTL_USERS:
	case ON_MISSING_USERS:
	case ON_GROUPS:
	case ON_MFA_DEVICES:
	case ON_ALL_USERS:
	case ON_CONSOLE_USERS:
	case ON_ANYTHING:
	default:
		return 0;
	}
}

/* Which IAM actions each statement grants, grouped by statement, each
 * group sorted.  Derived from what the commands call (cmd_enable.c,
 * cmd_rotate*.c, cmd_status.c, cmd_disable.c, lifecycle.c) and from the
 * reads iam_resolve.c makes to settle a change whose answer was lost. */
static const struct grant {
	enum stmt_id stmt;
	const char *action;
} grants[] = {
	/* enable: CreateUser (its Tags need TagUser too), PutUserPolicy,
	 * CreateAccessKey, TagUser (the record); an existing user read
	 * (GetUser, ListAccessKeys) and resumed; an undelivered key
	 * deleted (once GetAccessKeyLastUsed shows nobody used it);
	 * GetUserPolicy and ListUserTags settle a lost PutUserPolicy or
	 * TagUser. */
	{ S_ENABLE, "iam:CreateAccessKey" },
	{ S_ENABLE, "iam:CreateUser" },
	{ S_ENABLE, "iam:DeleteAccessKey" },
	{ S_ENABLE, "iam:GetAccessKeyLastUsed" },
	{ S_ENABLE, "iam:GetUser" },
	{ S_ENABLE, "iam:GetUserPolicy" },
	{ S_ENABLE, "iam:ListAccessKeys" },
	{ S_ENABLE, "iam:ListUserTags" },
	{ S_ENABLE, "iam:PutUserPolicy" },
	{ S_ENABLE, "iam:TagUser" },
	{ S_ENABLE_DRY_RUN_ACCOUNT, "sts:GetCallerIdentity" },
	/* rotate: the user, its keys and (with --region) its policy's
	 * regions; a new key, the record, the old key deleted or set
	 * Inactive; --finish checks when the keys were last used. */
	{ S_ROTATE, "iam:CreateAccessKey" },
	{ S_ROTATE, "iam:DeleteAccessKey" },
	{ S_ROTATE, "iam:GetAccessKeyLastUsed" },
	{ S_ROTATE, "iam:GetUser" },
	{ S_ROTATE, "iam:GetUserPolicy" },
	{ S_ROTATE, "iam:ListAccessKeys" },
	{ S_ROTATE, "iam:ListUserTags" },
	{ S_ROTATE, "iam:TagUser" },
	{ S_ROTATE, "iam:UpdateAccessKey" },
	/* the same on users the SES console made, for --adopt */
	{ S_ROTATE_CONSOLE, "iam:CreateAccessKey" },
	{ S_ROTATE_CONSOLE, "iam:DeleteAccessKey" },
	{ S_ROTATE_CONSOLE, "iam:GetAccessKeyLastUsed" },
	{ S_ROTATE_CONSOLE, "iam:GetUser" },
	{ S_ROTATE_CONSOLE, "iam:GetUserPolicy" },
	{ S_ROTATE_CONSOLE, "iam:ListAccessKeys" },
	{ S_ROTATE_CONSOLE, "iam:ListUserTags" },
	{ S_ROTATE_CONSOLE, "iam:TagUser" },
	{ S_ROTATE_CONSOLE, "iam:UpdateAccessKey" },
	/* status: the first round's three reads that must succeed, and
	 * when each key was last used (other inline policies' documents
	 * too, by GetUserPolicy). */
	{ S_STATUS, "iam:GetAccessKeyLastUsed" },
	{ S_STATUS, "iam:GetUser" },
	{ S_STATUS, "iam:GetUserPolicy" },
	{ S_STATUS, "iam:ListAccessKeys" },
	{ S_STATUS_ALL, "iam:ListUsers" },
	/* --all beyond /sesctl/: tags and policies tell SMTP users, then
	 * they are read as any (the attachments' reads below are optional
	 * there too) */
	{ S_STATUS_ALL_ELSEWHERE, "iam:GetAccessKeyLastUsed" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:GetLoginProfile" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:GetUser" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:GetUserPolicy" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListAccessKeys" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListAttachedUserPolicies" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListGroupsForUser" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListMFADevices" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListSSHPublicKeys" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListServiceSpecificCredentials" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListSigningCertificates" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListUserPolicies" },
	{ S_STATUS_ALL_ELSEWHERE, "iam:ListUserTags" },
	{ S_STATUS_ATTACHMENTS, "iam:GetLoginProfile" },
	{ S_STATUS_ATTACHMENTS, "iam:ListAttachedUserPolicies" },
	{ S_STATUS_ATTACHMENTS, "iam:ListGroupsForUser" },
	{ S_STATUS_ATTACHMENTS, "iam:ListMFADevices" },
	{ S_STATUS_ATTACHMENTS, "iam:ListSSHPublicKeys" },
	{ S_STATUS_ATTACHMENTS, "iam:ListServiceSpecificCredentials" },
	{ S_STATUS_ATTACHMENTS, "iam:ListSigningCertificates" },
	{ S_STATUS_ATTACHMENTS, "iam:ListUserPolicies" },
	/* disable: the user and its keys; keys and sesctl's policy
	 * deleted, then the user (GetUserPolicy settles a lost
	 * DeleteUserPolicy); the sweep lists every other kind and
	 * removes what it finds. */
	{ S_DISABLE, "iam:DeleteAccessKey" },
	{ S_DISABLE, "iam:DeleteUser" },
	{ S_DISABLE, "iam:DeleteUserPolicy" },
	{ S_DISABLE, "iam:GetUser" },
	{ S_DISABLE, "iam:GetUserPolicy" },
	{ S_DISABLE, "iam:ListAccessKeys" },
	{ S_DISABLE_SWEEP, "iam:DeactivateMFADevice" },
	{ S_DISABLE_SWEEP, "iam:DeleteLoginProfile" },
	{ S_DISABLE_SWEEP, "iam:DeleteSSHPublicKey" },
	{ S_DISABLE_SWEEP, "iam:DeleteServiceSpecificCredential" },
	{ S_DISABLE_SWEEP, "iam:DeleteSigningCertificate" },
	{ S_DISABLE_SWEEP, "iam:DetachUserPolicy" },
	{ S_DISABLE_SWEEP, "iam:GetLoginProfile" },
	{ S_DISABLE_SWEEP, "iam:ListAttachedUserPolicies" },
	{ S_DISABLE_SWEEP, "iam:ListGroupsForUser" },
	{ S_DISABLE_SWEEP, "iam:ListMFADevices" },
	{ S_DISABLE_SWEEP, "iam:ListSSHPublicKeys" },
	{ S_DISABLE_SWEEP, "iam:ListServiceSpecificCredentials" },
	{ S_DISABLE_SWEEP, "iam:ListSigningCertificates" },
	{ S_DISABLE_SWEEP, "iam:ListUserPolicies" },
	{ S_DISABLE_SWEEP_GROUPS, "iam:RemoveUserFromGroup" },
	{ S_DISABLE_SWEEP_MFA, "iam:DeleteVirtualMFADevice" },
	/* Every command looks the user up first. */
	{ S_MISSING_USER, "iam:GetUser" },
};

/* The same for the secret stores (lc_store.c), each row only for the
 * commands in `cmds` and, when `stores` is not 0, those stores (their
 * statement is shared by the commands: the union of their actions, on
 * resources named once).  Derived from lc_store.c and the read-backs of
 * secretsmanager.c and ssm.c. */
static const struct store_grant {
	enum stmt_id stmt;
	const char *action;
	unsigned cmds;
	unsigned stores;
} store_grants[] = {
	/* Secrets Manager (lc_store.c, secretsmanager.c).  Every command
	 * reads each secret first (DescribeSecret).  enable and rotate:
	 * CreateSecret of a missing one (with tags, which Secrets Manager
	 * authorizes as TagResource too; TagResource also takes an existing
	 * one over with --adopt), PutSecretValue of an existing one
	 * (rotate: as AWSPENDING), UpdateSecretVersionStage (rotate's switch
	 * to AWSCURRENT, rotate --finish's of a switch left undone, and the
	 * undo of a failed run), GetSecretValue (a write of unknown outcome
	 * read back, and which key AWSCURRENT hands out before one is
	 * retired), DeleteSecret (a secret the failed run made, taken back);
	 * disable: DeleteSecret. */
	{ S_STORE_SECRETS, "secretsmanager:CreateSecret", FOR_ENABLE | FOR_ROTATE,
	  0 },
	{ S_STORE_SECRETS, "secretsmanager:DeleteSecret", FOR_STORES, 0 },
	{ S_STORE_SECRETS, "secretsmanager:DescribeSecret", FOR_STORES, 0 },
	{ S_STORE_SECRETS, "secretsmanager:GetSecretValue",
	  FOR_ENABLE | FOR_ROTATE, 0 },
	{ S_STORE_SECRETS, "secretsmanager:PutSecretValue",
	  FOR_ENABLE | FOR_ROTATE, 0 },
	{ S_STORE_SECRETS, "secretsmanager:TagResource", FOR_ENABLE | FOR_ROTATE,
	  0 },
	{ S_STORE_SECRETS, "secretsmanager:UpdateSecretVersionStage",
	  FOR_ENABLE | FOR_ROTATE, 0 },
	/* SSM (lc_store.c, ssm.c): every command lists the path first, which
	 * SSM authorizes on the path, not on the parameters it returns. */
	{ S_STORE_SSM_PATH, "ssm:GetParametersByPath", FOR_STORES, 0 },
	/* enable and rotate: ListTagsForResource (are the parameters there
	 * ours?), PutParameter (a new one with tags, which SSM authorizes as
	 * AddTagsToResource too; AddTagsToResource also takes existing ones
	 * over with --adopt), GetParameter (a write of unknown outcome read
	 * back, and the SMTP_USER before a key is retired), DeleteParameter
	 * (a new one taken back when the run fails); disable:
	 * ListTagsForResource (only the user's are deleted, whatever its
	 * record names) and DeleteParameter. */
	{ S_STORE_SSM_PARAMS, "ssm:AddTagsToResource", FOR_ENABLE | FOR_ROTATE,
	  0 },
	{ S_STORE_SSM_PARAMS, "ssm:DeleteParameter", FOR_STORES, 0 },
	{ S_STORE_SSM_PARAMS, "ssm:GetParameter", FOR_ENABLE | FOR_ROTATE, 0 },
	{ S_STORE_SSM_PARAMS, "ssm:ListTagsForResource", FOR_STORES, 0 },
	{ S_STORE_SSM_PARAMS, "ssm:PutParameter", FOR_ENABLE | FOR_ROTATE, 0 },
	/* A customer managed key: Secrets Manager uses it on the caller's
	 * behalf (GenerateDataKey and Decrypt to write a version, Decrypt to
	 * read one); SSM encrypts a SecureString with Encrypt and decrypts it
	 * for every read WithDecryption, disable's listing too. */
	{ S_STORE_KMS_KEY, "kms:Decrypt", FOR_ENABLE | FOR_ROTATE, HAS_SECRETS },
	{ S_STORE_KMS_KEY, "kms:Decrypt", FOR_STORES, HAS_SSM },
	{ S_STORE_KMS_KEY, "kms:Encrypt", FOR_ENABLE | FOR_ROTATE, HAS_SSM },
	{ S_STORE_KMS_KEY, "kms:GenerateDataKey", FOR_ENABLE | FOR_ROTATE,
	  HAS_SECRETS },
};

#define N_GRANTS (sizeof(grants) / sizeof(grants[0]))
#define N_STORE_GRANTS (sizeof(store_grants) / sizeof(store_grants[0]))
#define RES_MAX (LC_STORES_MAX + 2) /* Resource values of one statement */

/* What the store options name (as enable and rotate take them). */
struct stores {
	unsigned has; /* HAS_* */
	const char *secrets[LC_STORES_MAX];
	size_t n_secrets;
	const char *ssm_path;
	const char *kms; /* a key id or key ARN, with HAS_KMS */
	char region[CREDS_REGION_MAX + 1]; /* "*" when not known */
	const char *partition;
};

/* The Resource values of one statement (malloc'd). */
struct res {
	char *v[RES_MAX];
	size_t n;
};

/* --for: a comma-separated list, given once or more. */
static sesctl_err parse_for(struct ctx *ctx, const struct opts *o,
			    unsigned *cmds)
{
	char item[32];
	const char *v, *p, *end;
	size_t i, j, len;
	bool found;

	*cmds = opts_count(o, OPT_FOR) ? 0 : FOR_ALL;
	for (i = 0; i < opts_count(o, OPT_FOR); i++)
		for (v = o->val[OPT_FOR][i], p = v;; p = end + 1) {
			end = strchr(p, ',');
			len = end ? (size_t)(end - p) : strlen(p);
			if (len == 0 || len >= sizeof(item))
				return err_set(&ctx->err, SESCTL_ERR_USAGE,
					       "invalid --for '%s': name "
					       "commands separated by commas, "
					       "such as 'enable,rotate'",
					       v);
			memcpy(item, p, len);
			item[len] = '\0';
			for (j = 0, found = false;
			     j < sizeof(for_names) / sizeof(for_names[0]);
			     j++)
				if (strcmp(for_names[j].name, item) == 0) {
					*cmds |= for_names[j].bit;
					found = true;
				}
			if (!found && (strcmp(item, "derive") == 0 ||
				       strcmp(item, "verify") == 0 ||
				       strcmp(item, "caller-policy") == 0))
				return err_set(&ctx->err, SESCTL_ERR_USAGE,
					       "'%s' needs no AWS permission; "
					       "--for takes enable, rotate, "
					       "status and disable",
					       item);
			if (!found)
				return err_set(&ctx->err, SESCTL_ERR_USAGE,
					       "unknown command '%s' in --for; "
					       "choose from enable, rotate, "
					       "status and disable",
					       item);
			if (!end)
				break;
		}
	return SESCTL_OK;
}

static sesctl_err check_account(struct ctx *ctx, const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!isdigit((unsigned char)id[i]))
			break;
	if (id[i] || i != 12)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "invalid --account-id '%s': an AWS account id "
			       "is 12 digits",
			       id);
	return SESCTL_OK;
}

/* The region every command finds (--region, $AWS_REGION, ... the
 * profile's) into region[CREDS_REGION_MAX + 1], "" when none is set
 * anywhere, and its partition ("aws" then). */
static sesctl_err region_of(struct ctx *ctx, const struct opts *o,
			    char *region, const char **partition)
{
	struct creds_opts co = { opts_get(o, OPT_PROFILE),
				 opts_get(o, OPT_REGION), NULL };
	struct creds_region reg;
	sesctl_err rc;

	*partition = "aws";
	region[0] = '\0';
	rc = creds_region(ctx, &co, &reg);
	if (rc == SESCTL_ERR_USAGE && !co.region) {
		ctx_debug(ctx, "no region set: the aws partition");
		return SESCTL_OK;
	}
	if (rc != SESCTL_OK)
		return rc;
	rc = smtp_check_region(ctx, reg.name);
	if (rc != SESCTL_OK)
		return rc;
	*partition = region_partition(reg.name)->name;
	memcpy(region, reg.name, sizeof(reg.name));
	return SESCTL_OK;
}

/* Whether `id` may go into a Resource as it is: a secret name or ARN, a
 * KMS key id or ARN (their characters; no wildcard, which would widen
 * the policy). */
static bool id_ok(const char *id, size_t max)
{
	size_t n = strlen(id);

	return n > 0 && n <= max &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789/_+=.@-:") == n;
}

/* The stores of --secrets-manager, --ssm-path, --kms-key-id, in the
 * region the commands would use: --store-region, else a secret ARN's,
 * else `region` (the first --region, $AWS_REGION, ...), else "*". */
static sesctl_err parse_stores(struct ctx *ctx, const struct opts *o,
			       const char *region, const char *partition,
			       struct stores *st)
{
	const char *opt_region = opts_get(o, OPT_STORE_REGION);
	const char *kms = opts_get(o, OPT_KMS_KEY_ID);
	char arn_reg[REGION_NAME_MAX + 1];
	unsigned i, n = opts_count(o, OPT_SECRETS_MANAGER);
	size_t j;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < n; i++) {
		const char *id = o->val[OPT_SECRETS_MANAGER][i];

		if (!id_ok(id, SM_NAME_MAX))
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "--secrets-manager '%.300s' is not a "
				       "secret name or ARN (1 to %d of A-Z a-z "
				       "0-9 /_+=.@- and ':' in an ARN)",
				       id, SM_NAME_MAX);
		for (j = 0; j < st->n_secrets; j++)
			if (strcmp(st->secrets[j], id) == 0)
				break;
		if (j < st->n_secrets)
			continue;
		if (st->n_secrets >= LC_STORES_MAX)
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "at most %d --secrets-manager secrets",
				       LC_STORES_MAX);
		st->secrets[st->n_secrets++] = id;
		st->has |= HAS_SECRETS;
	}
	st->ssm_path = opts_get(o, OPT_SSM_PATH);
	if (st->ssm_path && !lc_ssm_path_ok(st->ssm_path))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--ssm-path '%s' is not a parameter path like "
			       "/app/smtp (a leading '/', then a-z A-Z 0-9 _ . "
			       "- and '/' between levels, none at the end)",
			       st->ssm_path);
	if (st->ssm_path)
		st->has |= HAS_SSM;
	if (!st->has && (opt_region || kms))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--%s goes with the stores it is for: "
			       "--secrets-manager or --ssm-path",
			       opt_region ? "store-region" : "kms-key-id");

	/* One region for all, as the commands find it. */
	if (opt_region && !region_is_well_formed(opt_region))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--store-region '%s' is not a region name (like "
			       "'eu-west-1')",
			       opt_region);
	snprintf(st->region, sizeof(st->region), "%s",
		 opt_region ? opt_region : "");
	for (j = 0; j < st->n_secrets; j++) {
		if (!lc_arn_region(st->secrets[j], arn_reg, sizeof(arn_reg)))
			continue;
		if (!st->region[0])
			snprintf(st->region, sizeof(st->region), "%s",
				 arn_reg);
		if (strcmp(arn_reg, st->region) != 0)
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "secret '%s' is in region '%s', the "
				       "stores in '%s': sesctl delivers to one "
				       "region (--store-region)",
				       st->secrets[j], arn_reg, st->region);
	}
	if (!st->region[0])
		snprintf(st->region, sizeof(st->region), "%s",
			 region[0] ? region : "*");
	st->partition = strcmp(st->region, "*") == 0 ?
				partition :
				region_partition(st->region)->name;

	/* The key: IAM authorizes its use on the key's ARN, never on an
	 * alias (a key policy or the kms:ResourceAliases condition can,
	 * which this command does not write). */
	if (!kms)
		return SESCTL_OK;
	if (strncmp(kms, "alias/aws/", 10) == 0 || strstr(kms, ":alias/aws/")) {
		ctx_info(ctx, "'%s' is an AWS managed key, which every "
			      "principal of the account may use through its "
			      "service: no KMS statement",
			 kms);
		return SESCTL_OK;
	}
	if (strncmp(kms, "alias/", 6) == 0 || strstr(kms, ":alias/"))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--kms-key-id '%s' is an alias: IAM authorizes "
			       "the key's use on the key's ARN, not on an "
			       "alias; give the key id or ARN ('aws kms "
			       "describe-key --key-id %s --query "
			       "KeyMetadata.Arn')",
			       kms, kms);
	if (!id_ok(kms, 2048) || (strncmp(kms, "arn:", 4) == 0 &&
				  !strstr(kms, ":key/")))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--kms-key-id '%.300s' is not a KMS key id "
			       "(like 1234abcd-12ab-34cd-56ef-1234567890ab) or "
			       "key ARN",
			       kms);
	st->kms = kms;
	st->has |= HAS_KMS;
	return SESCTL_OK;
}

/* Add one Resource value, printf-style, to `r`. */
__attribute__((format(printf, 3, 4))) static sesctl_err
res_add(struct ctx *ctx, struct res *r, const char *fmt, ...)
{
	va_list ap;
	int len;
	char *v;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || r->n >= RES_MAX)
		return err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "a policy resource does not fit");
	v = malloc((size_t)len + 1);
	if (!v)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(v, (size_t)len + 1, fmt, ap);
	va_end(ap);
	r->v[r->n++] = v;
	return SESCTL_OK;
}

/* One scope's Resource values into `r`. */
static sesctl_err resources_of(struct ctx *ctx, enum scope s,
			       const char *part, const char *acct,
			       const struct stores *st, struct res *r)
{
	const char *sp = st->partition, *sr = st->region;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	switch (s) {
	case ON_SESCTL_USERS:
		return res_add(ctx, r, "arn:%s:iam::%s:user%s*", part, acct,
			       LC_PATH);
	case ON_MISSING_USERS:
		rc = res_add(ctx, r, "arn:%s:iam::%s:user/%s", part, acct,
			     LC_USER_PREFIX);
		return rc != SESCTL_OK ? rc :
					 res_add(ctx, r,
						 "arn:%s:iam::%s:user/%s-*",
						 part, acct, LC_USER_PREFIX);
	case ON_GROUPS:
		return res_add(ctx, r, "arn:%s:iam::%s:group/*", part, acct);
	case ON_MFA_DEVICES:
		return res_add(ctx, r, "arn:%s:iam::%s:mfa/*", part, acct);
	case ON_ALL_USERS:
		return res_add(ctx, r, "arn:%s:iam::%s:user/*", part, acct);
	case ON_CONSOLE_USERS:
		return res_add(ctx, r, "arn:%s:iam::%s:user/ses-smtp-user.*",
			       part, acct);
	case ON_SECRETS:
		/* A secret's ARN is its name, '-' and six random characters
		 * Secrets Manager adds; it authorizes a secret not made yet
		 * (CreateSecret, and the first DescribeSecret) on such an ARN
		 * too.  An ARN given is the secret's. */
		for (i = 0; rc == SESCTL_OK && i < st->n_secrets; i++)
			rc = strncmp(st->secrets[i], "arn:", 4) == 0 ?
				     res_add(ctx, r, "%s", st->secrets[i]) :
				     res_add(ctx, r,
					     "arn:%s:secretsmanager:%s:%s:"
					     "secret:%s-??????",
					     sp, sr, acct, st->secrets[i]);
		return rc;
	case ON_SSM_PATH:
		/* PATH starts with '/', the ARN's "parameter/" has it. */
		return res_add(ctx, r, "arn:%s:ssm:%s:%s:parameter%s", sp, sr,
			       acct, st->ssm_path);
	case ON_SSM_PARAMS:
		return res_add(ctx, r, "arn:%s:ssm:%s:%s:parameter%s/SMTP_*", sp,
			       sr, acct, st->ssm_path);
	case ON_KMS_KEY:
		return strncmp(st->kms, "arn:", 4) == 0 ?
			       res_add(ctx, r, "%s", st->kms) :
			       res_add(ctx, r, "arn:%s:kms:%s:%s:key/%s", sp, sr,
				       acct, st->kms);
	case ON_ANYTHING:
	default:
		return res_add(ctx, r, "*");
	}
}

/* What the policy is for, in words: "enable, rotate and status". */
static void describe_for(unsigned cmds, char *out, size_t size)
{
	size_t i, n = 0, seen = 0, len = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(for_names) / sizeof(for_names[0]); i++)
		n += (cmds & for_names[i].bit) != 0;
	for (i = 0; i < sizeof(for_names) / sizeof(for_names[0]); i++) {
		if (!(cmds & for_names[i].bit))
			continue;
		seen++;
		len += (size_t)snprintf(out + len, size > len ? size - len : 0,
					"%s%s",
					seen == 1 ? "" :
					seen == n ? " and " :
						    ", ",
					for_names[i].name);
	}
}

/* The note on standard error: what the policy covers, and which
 * statements may go. */
static void print_note(struct ctx *ctx, unsigned cmds, const char *acct,
		       const struct stores *st, const bool *used,
		       size_t length)
{
	char what[64];
	size_t i;
	bool any = false;

	describe_for(cmds, what, sizeof(what));
	ctx_info(ctx, "the IAM permissions %s need%s on the users under %s "
		      "of %s%s (a user outside %s, such as one taken over "
		      "with --adopt, is not covered); attach it as a "
		      "customer managed policy, as it may be longer than the "
		      "2048 characters of a user's inline policies",
		 what, strchr(what, ' ') ? "" : "s", LC_PATH,
		 strcmp(acct, "*") == 0 ? "any account" : "account ",
		 strcmp(acct, "*") == 0 ? "" : acct, LC_PATH);
	if (used[S_STORE_SECRETS] || used[S_STORE_SSM_PATH])
		ctx_info(ctx, "the Store* statements: the secret stores named, "
			      "in %s%s%s%s",
			 strcmp(st->region, "*") == 0 ? "any region" :
							"region ",
			 strcmp(st->region, "*") == 0 ? "" : st->region,
			 strcmp(st->region, "*") == 0 ?
				 " (--store-region or --region names it)" :
				 "",
			 st->has & HAS_KMS ?
				 "" :
				 "; a secret or parameter encrypted with a "
				 "customer managed KMS key needs that key too "
				 "(--kms-key-id, also for rotate and disable)");
	if (length > 6144)
		ctx_warn(ctx, "the policy is %zu characters long, more than the "
			      "6144 of a customer managed policy: split it "
			      "with --for",
			 length);
	for (i = 0; i < S_COUNT; i++) {
		if (!used[i] || !stmts[i].optional)
			continue;
		if (!any)
			ctx_info(ctx, "optional statements (the commands work "
				      "without them):");
		any = true;
		ctx_info(ctx, "  %s: %s", stmts[i].sid, stmts[i].why);
	}
}

/* Whether `action` is among `n` of `actions` already. */
static bool listed(const char *const *actions, size_t n, const char *action)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(actions[i], action) == 0)
			return true;
	return false;
}

/* The length IAM counts: the document without its whitespace (none of
 * its strings has any). */
static size_t policy_length(const char *doc)
{
	size_t n = 0;

	for (; *doc; doc++)
		n += !isspace((unsigned char)*doc);
	return n;
}

sesctl_err smtp_caller_policy(struct ctx *ctx, const struct opts *o, int argc,
			      char **argv)
{
	struct policy_statement st[S_COUNT];
	const char *actions[N_GRANTS + N_STORE_GRANTS];
	struct res res[S_COUNT];
	struct stores stores;
	char region[CREDS_REGION_MAX + 1];
	const char *acct = opts_get(o, OPT_ACCOUNT_ID), *part = NULL;
	bool used[S_COUNT];
	unsigned cmds = 0;
	char *doc = NULL;
	size_t i, k, n = 0, na = 0;
	sesctl_err rc = SESCTL_OK;

	(void)argv;
	memset(res, 0, sizeof(res));
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp caller-policy' takes no "
				  "arguments; name the commands with --for"));
	TRY(parse_for(ctx, o, &cmds));
	if (acct)
		TRY(check_account(ctx, acct));
	else
		acct = "*";
	TRY(region_of(ctx, o, region, &part));
	TRY(parse_stores(ctx, o, region, part, &stores));

	memset(used, 0, sizeof(used));
	for (i = 0; i < S_COUNT; i++) {
		struct policy_statement *s = &st[n];
		unsigned need = scope_stores(stmts[i].scope);

		if (!(stmts[i].cmds & cmds) || (need & stores.has) != need)
			continue;
		s->sid = stmts[i].sid;
		s->actions = &actions[na];
		s->n_actions = 0;
		for (k = 0; k < N_GRANTS; k++)
			if (grants[k].stmt == (enum stmt_id)i) {
				actions[na++] = grants[k].action;
				s->n_actions++;
			}
		for (k = 0; k < N_STORE_GRANTS; k++) {
			const struct store_grant *g = &store_grants[k];

			if (g->stmt != (enum stmt_id)i || !(g->cmds & cmds) ||
			    (g->stores & stores.has) != g->stores ||
			    listed(s->actions, s->n_actions, g->action))
				continue;
			actions[na++] = g->action;
			s->n_actions++;
		}
		if (s->n_actions == 0)
			continue;
		TRY(resources_of(ctx, stmts[i].scope, part, acct, &stores,
				 &res[n]));
		s->resources = (const char *const *)res[n].v;
		s->n_resources = res[n].n;
		used[i] = true;
		n++;
	}
	TRY(output_policy_document(st, n, &doc));
	TRY(ctx_write_out(ctx, doc, strlen(doc)));
	print_note(ctx, cmds, acct, &stores, used, policy_length(doc));
out:
	for (i = 0; i < S_COUNT; i++)
		for (k = 0; k < res[i].n; k++)
			free(res[i].v[k]);
	free(doc);
	return rc;
}
