/* iam_resolve.c - reading back a change whose outcome is unknown (see
 * iam.h), and actions[], the table of every IAM action sesctl sends: for
 * each, whether it reads, changes idempotently or creates, whether
 * 'sesctl smtp status' shows it, and for a change the resolver that reads
 * its effect back (from a listing or a single read) and the aws CLI
 * command that shows it to the user.  iam.c looks actions up with
 * find_action(); iam_calls.c's call_change() runs the resolvers.
 */
#include "sesctl/aws/iam.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iam_int.h"

/* ---- reading back a change whose outcome is unknown ------------------
 * Each resolver reads the state the change was to make and says whether
 * it is there.  The user being gone (NoSuchEntity on the read) counts as
 * applied for a removal and as not applied for anything else: sent again,
 * that one then fails with IAM's own NoSuchEntity. */

/* Whether list a->list of `user` holds an item named `id`. */
static sesctl_err list_holds(struct iam_client *c, const struct iam_action *a,
			     const char *user, const char *id, bool *holds)
{
	const struct list_desc *d = a->list;
	void *l = NULL;
	char *items;
	size_t i, count;
	sesctl_err rc = SESCTL_OK;

	*holds = false;
	l = calloc(1, d->list_size);
	ENSURE(l, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(call_list(c, d, user, NULL, l));
	items = *FIELD(l, d->items_off, char *);
	count = *FIELD(l, d->count_off, size_t);
	for (i = 0; i < count && !*holds; i++)
		*holds = strcmp(items + i * d->item_size + a->id_off, id) == 0;
	d->release(l);
out:
	free(l);
	return rc;
}

/* A removal of the list item named by a->id_param. */
static sesctl_err resolve_gone(struct iam_client *c, const struct iam_action *a,
			       const struct aws_param *p, size_t n,
			       bool *applied)
{
	bool holds = false;
	sesctl_err rc;

	rc = list_holds(c, a, param(p, n, "UserName"),
			param(p, n, a->id_param), &holds);
	*applied = rc == SESCTL_ERR_NOT_FOUND || (rc == SESCTL_OK && !holds);
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* An addition of the list item named by a->id_param. */
static sesctl_err resolve_there(struct iam_client *c,
				const struct iam_action *a,
				const struct aws_param *p, size_t n,
				bool *applied)
{
	sesctl_err rc;

	rc = list_holds(c, a, param(p, n, "UserName"),
			param(p, n, a->id_param), applied);
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* UpdateAccessKey: the key has the status sent. */
static sesctl_err resolve_key_status(struct iam_client *c,
				     const struct iam_action *a,
				     const struct aws_param *p, size_t n,
				     bool *applied)
{
	struct iam_access_key_list keys;
	const char *id = param(p, n, "AccessKeyId");
	const char *status = param(p, n, "Status");
	size_t i;
	sesctl_err rc;

	(void)a;
	*applied = false;
	rc = iam_list_access_keys(c, param(p, n, "UserName"), &keys);
	if (rc != SESCTL_OK)
		return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
	for (i = 0; i < keys.count; i++)
		if (strcmp(keys.items[i].access_key_id, id) == 0)
			*applied = strcmp(keys.items[i].status_text,
					  status) == 0;
	iam_access_key_list_release(&keys);
	return SESCTL_OK;
}

/* The value of tag `key` (IAM's tag keys are case-insensitive), or
 * NULL. */
static const char *tag_value(const struct iam_tag_list *tags, const char *key)
{
	size_t i;

	for (i = 0; i < tags->count; i++)
		if (strcasecmp(tags->items[i].key, key) == 0)
			return tags->items[i].value;
	return NULL;
}

/* TagUser: every tag is there with its value; UntagUser: none of the
 * keys is there. */
static sesctl_err resolve_tags(struct iam_client *c, const struct iam_action *a,
			       const struct aws_param *p, size_t n,
			       bool *applied)
{
	struct iam_tag_list tags;
	bool untag = strcmp(a->name, "UntagUser") == 0;
	const char *v;
	size_t i, len;
	sesctl_err rc;

	*applied = false;
	rc = iam_list_user_tags(c, param(p, n, "UserName"), &tags);
	if (rc == SESCTL_ERR_NOT_FOUND)
		*applied = untag;
	if (rc != SESCTL_OK)
		return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
	*applied = true;
	for (i = 0; i < n; i++) {
		len = strlen(p[i].name);
		if (untag && strncmp(p[i].name, "TagKeys.member.", 15) == 0) {
			if (tag_value(&tags, p[i].value))
				*applied = false;
		} else if (!untag && len > 4 &&
			   strcmp(p[i].name + len - 4, ".Key") == 0 &&
			   i + 1 < n) {
			/* tag_params puts each Value right after its Key. */
			v = tag_value(&tags, p[i].value);
			if (!v || strcmp(v, p[i + 1].value) != 0)
				*applied = false;
		}
	}
	iam_tag_list_release(&tags);
	return SESCTL_OK;
}

/* Whether JSON texts `x` and `y` are the same but for whitespace outside
 * strings (IAM hands back the policy document it stored, URL-encoded;
 * iam_xml decodes it). */
static bool same_json_text(const char *x, const char *y)
{
	bool in_str = false;

	for (;;) {
		if (!in_str) {
			while (*x == ' ' || *x == '\t' || *x == '\n' ||
			       *x == '\r')
				x++;
			while (*y == ' ' || *y == '\t' || *y == '\n' ||
			       *y == '\r')
				y++;
		}
		if (*x != *y)
			return false;
		if (!*x)
			return true;
		if (in_str && *x == '\\') {
			x++;
			y++;
			if (*x != *y)
				return false;
			if (!*x)
				return true;
		} else if (*x == '"') {
			in_str = !in_str;
		}
		x++;
		y++;
	}
}

/* PutUserPolicy: the policy holds the document sent; DeleteUserPolicy:
 * there is no such policy. */
static sesctl_err resolve_policy(struct iam_client *c,
				 const struct iam_action *a,
				 const struct aws_param *p, size_t n,
				 bool *applied)
{
	struct iam_user_policy pol;
	bool put = strcmp(a->name, "PutUserPolicy") == 0;
	sesctl_err rc;

	memset(&pol, 0, sizeof(pol));
	rc = iam_get_user_policy(c, param(p, n, "UserName"),
				 param(p, n, "PolicyName"), &pol);
	if (rc == SESCTL_OK)
		*applied = put && pol.policy_document &&
			   same_json_text(pol.policy_document,
					  param(p, n, "PolicyDocument"));
	else if (rc == SESCTL_ERR_NOT_FOUND)
		*applied = !put;
	iam_user_policy_release(&pol);
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* DeleteUser: no such user. */
static sesctl_err resolve_user_gone(struct iam_client *c,
				    const struct iam_action *a,
				    const struct aws_param *p, size_t n,
				    bool *applied)
{
	struct iam_user_result u;
	sesctl_err rc;

	(void)a;
	memset(&u, 0, sizeof(u));
	rc = iam_get_user(c, param(p, n, "UserName"), &u);
	iam_user_result_release(&u);
	*applied = rc == SESCTL_ERR_NOT_FOUND;
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

/* DeleteLoginProfile: no login profile (or no user). */
static sesctl_err resolve_login_gone(struct iam_client *c,
				     const struct iam_action *a,
				     const struct aws_param *p, size_t n,
				     bool *applied)
{
	struct iam_login_profile lp;
	sesctl_err rc;

	(void)a;
	memset(&lp, 0, sizeof(lp));
	rc = iam_get_login_profile(c, param(p, n, "UserName"), &lp);
	iam_login_profile_release(&lp);
	*applied = rc == SESCTL_ERR_NOT_FOUND;
	return rc == SESCTL_ERR_NOT_FOUND ? SESCTL_OK : rc;
}

#define NO_RESOLVE NULL, NULL, NULL, 0, NULL
#define BY_LIST(fn, list, param, type, field, shows)                        \
	fn, &list, param, offsetof(type, field), shows
#define BY_READ(fn, shows) fn, NULL, NULL, 0, shows

/* Sorted by name. */
static const struct iam_action actions[] = {
	{ "AttachUserPolicy", IAM_IDEMPOTENT,
	  BY_LIST(resolve_there, list_attached, "PolicyArn",
		  struct iam_attached_policy, policy_arn,
		  "list-attached-user-policies") },
	{ "CreateAccessKey", IAM_CREATES | IAM_IN_STATUS,
	  BY_READ(NULL, "list-access-keys") },
	{ "CreateUser", IAM_CREATES | IAM_IN_STATUS,
	  BY_READ(NULL, "get-user") },
	{ "DeactivateMFADevice", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_LIST(resolve_gone, list_mfa, "SerialNumber", struct iam_id, id,
		  "list-mfa-devices") },
	{ "DeleteAccessKey", IAM_IDEMPOTENT | IAM_REMOVES | IAM_IN_STATUS,
	  BY_LIST(resolve_gone, list_keys, "AccessKeyId",
		  struct iam_access_key_meta, access_key_id,
		  "list-access-keys") },
	{ "DeleteLoginProfile", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_READ(resolve_login_gone, "get-login-profile") },
	{ "DeleteSSHPublicKey", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_LIST(resolve_gone, list_ssh, "SSHPublicKeyId", struct iam_id, id,
		  "list-ssh-public-keys") },
	{ "DeleteServiceSpecificCredential", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_LIST(resolve_gone, list_svc, "ServiceSpecificCredentialId",
		  struct iam_id, id, "list-service-specific-credentials") },
	{ "DeleteSigningCertificate", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_LIST(resolve_gone, list_certs, "CertificateId", struct iam_id, id,
		  "list-signing-certificates") },
	{ "DeleteUser", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_user_gone, "get-user") },
	{ "DeleteUserPolicy", IAM_IDEMPOTENT | IAM_REMOVES | IAM_IN_STATUS,
	  BY_READ(resolve_policy, "list-user-policies") },
	/* IAM lists virtual MFA devices only account-wide (and the
	 * stand-in not at all): left to the user. */
	{ "DeleteVirtualMFADevice", IAM_IDEMPOTENT,
	  BY_READ(NULL, "list-virtual-mfa-devices") },
	{ "DetachUserPolicy", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_LIST(resolve_gone, list_attached, "PolicyArn",
		  struct iam_attached_policy, policy_arn,
		  "list-attached-user-policies") },
	{ "GetAccessKeyLastUsed", IAM_READ, NO_RESOLVE },
	{ "GetLoginProfile", IAM_READ, NO_RESOLVE },
	{ "GetUser", IAM_READ, NO_RESOLVE },
	{ "GetUserPolicy", IAM_READ, NO_RESOLVE },
	{ "ListAccessKeys", IAM_READ, NO_RESOLVE },
	{ "ListAttachedUserPolicies", IAM_READ, NO_RESOLVE },
	{ "ListGroupsForUser", IAM_READ, NO_RESOLVE },
	{ "ListMFADevices", IAM_READ, NO_RESOLVE },
	{ "ListSSHPublicKeys", IAM_READ, NO_RESOLVE },
	{ "ListServiceSpecificCredentials", IAM_READ, NO_RESOLVE },
	{ "ListSigningCertificates", IAM_READ, NO_RESOLVE },
	{ "ListUserPolicies", IAM_READ, NO_RESOLVE },
	{ "ListUserTags", IAM_READ, NO_RESOLVE },
	{ "ListUsers", IAM_READ, NO_RESOLVE },
	{ "PutUserPolicy", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_policy, "list-user-policies") },
	{ "RemoveUserFromGroup", IAM_IDEMPOTENT | IAM_REMOVES,
	  BY_LIST(resolve_gone, list_groups, "GroupName", struct iam_id, id,
		  "list-groups-for-user") },
	{ "TagUser", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_tags, "list-user-tags") },
	{ "UntagUser", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_tags, "list-user-tags") },
	{ "UpdateAccessKey", IAM_IDEMPOTENT | IAM_IN_STATUS,
	  BY_READ(resolve_key_status, "list-access-keys") },
};

const struct iam_action *find_action(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}
