/* cmd_caller_policy.c - sesctl smtp caller-policy: the least-privilege IAM
 * policy a person or a CI role needs to run enable, rotate, status and
 * disable (derive and verify need no AWS permission).
 *
 * What each command calls is data, in one place: stmts[] (one statement
 * each, with its scope and whether the command works without it) and
 * grants[] (every IAM action a command sends, including the reads that
 * settle an outcome a lost answer left unknown: iam_resolve.c's actions[]).
 * When a command starts sending another action, it gets a row here, and
 * tests/integration/test_caller_policy.py runs every command as a caller
 * that holds exactly this policy.
 */
#include "sesctl/cli/cmd_smtp.h"

#include <ctype.h>
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
	S_COUNT
};

/* Every statement, in the order printed.  `optional`: the command still
 * does its job without it, and `why` says what is lost (printed on
 * standard error, as JSON has no comments). */
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
};

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
	 * deleted; GetUserPolicy and ListUserTags settle a lost
	 * PutUserPolicy or TagUser. */
	{ S_ENABLE, "iam:CreateAccessKey" },
	{ S_ENABLE, "iam:CreateUser" },
	{ S_ENABLE, "iam:DeleteAccessKey" },
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

#define N_GRANTS (sizeof(grants) / sizeof(grants[0]))
#define ARN_MAX 160

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

/* The partition of --region, $AWS_REGION, ... (as every command finds
 * it); "aws" when none is set anywhere. */
static sesctl_err partition_of(struct ctx *ctx, const struct opts *o,
			       const char **partition)
{
	struct creds_opts co = { opts_get(o, OPT_PROFILE),
				 opts_get(o, OPT_REGION), NULL };
	struct creds_region reg;
	sesctl_err rc;

	*partition = "aws";
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
	return SESCTL_OK;
}

/* One scope's Resource values into arns[][ARN_MAX]; how many. */
static size_t resources_of(enum scope s, const char *part, const char *acct,
			   char arns[][ARN_MAX])
{
	switch (s) {
	case ON_SESCTL_USERS:
		snprintf(arns[0], ARN_MAX, "arn:%s:iam::%s:user%s*", part, acct,
			 LC_PATH);
		return 1;
	case ON_MISSING_USERS:
		snprintf(arns[0], ARN_MAX, "arn:%s:iam::%s:user/%s", part,
			 acct, LC_USER_PREFIX);
		snprintf(arns[1], ARN_MAX, "arn:%s:iam::%s:user/%s-*", part,
			 acct, LC_USER_PREFIX);
		return 2;
	case ON_GROUPS:
		snprintf(arns[0], ARN_MAX, "arn:%s:iam::%s:group/*", part,
			 acct);
		return 1;
	case ON_MFA_DEVICES:
		snprintf(arns[0], ARN_MAX, "arn:%s:iam::%s:mfa/*", part, acct);
		return 1;
	case ON_ALL_USERS:
		snprintf(arns[0], ARN_MAX, "arn:%s:iam::%s:user/*", part, acct);
		return 1;
	case ON_CONSOLE_USERS:
		snprintf(arns[0], ARN_MAX, "arn:%s:iam::%s:user/ses-smtp-user.*",
			 part, acct);
		return 1;
	case ON_ANYTHING:
	default:
		snprintf(arns[0], ARN_MAX, "*");
		return 1;
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
		       const bool *used)
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

sesctl_err smtp_caller_policy(struct ctx *ctx, const struct opts *o, int argc,
			      char **argv)
{
	struct policy_statement st[S_COUNT];
	const char *actions[N_GRANTS];
	char arns[S_COUNT][2][ARN_MAX];
	const char *res[S_COUNT][2];
	const char *acct = opts_get(o, OPT_ACCOUNT_ID), *part = NULL;
	bool used[S_COUNT];
	unsigned cmds = 0;
	char *doc = NULL;
	size_t i, k, n = 0, na = 0;
	sesctl_err rc = SESCTL_OK;

	(void)argv;
	ENSURE(argc == 0, err_set(&ctx->err, SESCTL_ERR_USAGE,
				  "'sesctl smtp caller-policy' takes no "
				  "arguments; name the commands with --for"));
	TRY(parse_for(ctx, o, &cmds));
	if (acct)
		TRY(check_account(ctx, acct));
	else
		acct = "*";
	TRY(partition_of(ctx, o, &part));

	memset(used, 0, sizeof(used));
	for (i = 0; i < S_COUNT; i++) {
		struct policy_statement *s = &st[n];

		if (!(stmts[i].cmds & cmds))
			continue;
		s->sid = stmts[i].sid;
		s->actions = &actions[na];
		s->n_actions = 0;
		for (k = 0; k < N_GRANTS; k++)
			if (grants[k].stmt == (enum stmt_id)i) {
				actions[na++] = grants[k].action;
				s->n_actions++;
			}
		if (s->n_actions == 0)
			continue;
		s->n_resources = resources_of(stmts[i].scope, part, acct,
					      arns[n]);
		for (k = 0; k < s->n_resources; k++)
			res[n][k] = arns[n][k];
		s->resources = res[n];
		used[i] = true;
		n++;
	}
	TRY(output_policy_document(st, n, &doc));
	TRY(ctx_write_out(ctx, doc, strlen(doc)));
	print_note(ctx, cmds, acct, used);
out:
	free(doc);
	return rc;
}
