/* iam_xml_actions.c - what each IAM and STS answer holds (see
 * iam_xml.h): the `struct field` table of every result struct, the action
 * they belong to (its name, result struct and whether it is paginated),
 * and the iam_xml_<action>() and *_release() functions, each one call of
 * parse_action() or release_action() in iam_xml.c.  A new response shape
 * is a new table here; no libxml2 code is needed.
 */
#include "sesctl/aws/iam_xml.h"

#include <stddef.h>
#include <string.h>

#include "iam_xml_int.h"

/* ------------------------------------------------------------------ */
/* Field tables                                                       */

static const struct field tag_fields[] = {
	F_RAW("Key", true, struct iam_tag, key),
	F_RAW("Value", false, struct iam_tag, value),
	F_END,
};

static const struct field user_fields[] = {
	F_STR("UserName", false, struct iam_user, user_name),
	F_STR("UserId", true, struct iam_user, user_id),
	F_STR("Arn", true, struct iam_user, arn),
	F_STR("Path", false, struct iam_user, path),
	F_DATE("CreateDate", false, struct iam_user, create_date),
	F_DATE("PasswordLastUsed", false, struct iam_user, password_last_used),
	F_LIST("Tags", struct iam_user, tags, tag_count, struct iam_tag,
	       tag_fields),
	F_END,
};

static const struct field user_result_fields[] = {
	F_STRUCT("User", true, offsetof(struct iam_user_result, user),
		 user_fields),
	F_END,
};

static const struct field user_list_fields[] = {
	F_LIST("Users", struct iam_user_list, items, count, struct iam_user,
	       user_fields),
	F_PAGE(struct iam_user_list),
	F_END,
};

static const struct field tag_list_fields[] = {
	F_LIST("Tags", struct iam_tag_list, items, count, struct iam_tag,
	       tag_fields),
	F_PAGE(struct iam_tag_list),
	F_END,
};

static const struct field user_policy_fields[] = {
	F_STR("UserName", true, struct iam_user_policy, user_name),
	F_STR("PolicyName", true, struct iam_user_policy, policy_name),
	F_DOC("PolicyDocument", struct iam_user_policy, policy_document,
	      policy_document_len),
	F_END,
};

static const struct field attached_policy_fields[] = {
	F_STR("PolicyName", true, struct iam_attached_policy, policy_name),
	F_STR("PolicyArn", true, struct iam_attached_policy, policy_arn),
	F_END,
};

static const struct field attached_policy_list_fields[] = {
	F_LIST("AttachedPolicies", struct iam_attached_policy_list, items,
	       count, struct iam_attached_policy, attached_policy_fields),
	F_PAGE(struct iam_attached_policy_list),
	F_END,
};

/* The id lists: one item table per action, one list table per action. */
static const struct field policy_name_item[] = {
	F_STR(NULL, true, struct iam_id, id),
	F_END,
};
static const struct field group_item[] = {
	F_STR("GroupName", true, struct iam_id, id),
	F_END,
};
static const struct field cert_item[] = {
	F_STR("CertificateId", true, struct iam_id, id),
	F_END,
};
static const struct field ssh_key_item[] = {
	F_STR("SSHPublicKeyId", true, struct iam_id, id),
	F_END,
};
static const struct field ssc_item[] = {
	F_STR("ServiceSpecificCredentialId", true, struct iam_id, id),
	F_STR("ServiceName", true, struct iam_id, service_name),
	F_END,
};
static const struct field mfa_item[] = {
	F_STR("SerialNumber", true, struct iam_id, id),
	F_END,
};

#define ID_LIST_FIELDS(var, list_name, item)                                \
	static const struct field var[] = {                                \
		F_LIST(list_name, struct iam_id_list, items, count,         \
		       struct iam_id, item),                                \
		F_PAGE(struct iam_id_list),                                 \
		F_END,                                                      \
	}

ID_LIST_FIELDS(policy_names_fields, "PolicyNames", policy_name_item);
ID_LIST_FIELDS(groups_fields, "Groups", group_item);
ID_LIST_FIELDS(certs_fields, "Certificates", cert_item);
ID_LIST_FIELDS(ssh_keys_fields, "SSHPublicKeys", ssh_key_item);
ID_LIST_FIELDS(sscs_fields, "ServiceSpecificCredentials", ssc_item);
ID_LIST_FIELDS(mfa_fields, "MFADevices", mfa_item);

static const struct field access_key_fields[] = {
	F_STR("UserName", false, struct iam_access_key, user_name),
	F_KEYID("AccessKeyId", struct iam_access_key, access_key_id),
	F_STATUS("Status", true, struct iam_access_key, status, status_text),
	F_DATE("CreateDate", false, struct iam_access_key, create_date),
	F_SECRET("SecretAccessKey", struct iam_access_key, secret_access_key),
	F_END,
};

static const struct field create_access_key_fields[] = {
	F_STRUCT("AccessKey", true, 0, access_key_fields),
	F_END,
};

static const struct field access_key_meta_fields[] = {
	F_STR("UserName", false, struct iam_access_key_meta, user_name),
	F_KEYID("AccessKeyId", struct iam_access_key_meta, access_key_id),
	F_STATUS("Status", true, struct iam_access_key_meta, status,
		 status_text),
	F_DATE("CreateDate", false, struct iam_access_key_meta, create_date),
	F_END,
};

static const struct field access_key_list_fields[] = {
	F_LIST("AccessKeyMetadata", struct iam_access_key_list, items, count,
	       struct iam_access_key_meta, access_key_meta_fields),
	F_PAGE(struct iam_access_key_list),
	F_END,
};

static const struct field last_used_inner[] = {
	F_DATE("LastUsedDate", false, struct iam_access_key_last_used,
	       last_used_date),
	F_STR("ServiceName", true, struct iam_access_key_last_used,
	      service_name),
	F_STR("Region", true, struct iam_access_key_last_used, region),
	F_END,
};

static const struct field last_used_fields[] = {
	F_STR("UserName", false, struct iam_access_key_last_used, user_name),
	F_STRUCT("AccessKeyLastUsed", true, 0, last_used_inner),
	F_END,
};

static const struct field login_profile_inner[] = {
	F_STR("UserName", false, struct iam_login_profile, user_name),
	F_DATE("CreateDate", false, struct iam_login_profile, create_date),
	F_BOOL("PasswordResetRequired", struct iam_login_profile,
	       password_reset_required),
	F_END,
};

static const struct field login_profile_fields[] = {
	F_STRUCT("LoginProfile", true, 0, login_profile_inner),
	F_END,
};

static const struct field caller_identity_fields[] = {
	F_STR("Arn", true, struct iam_caller_identity, arn),
	F_STR("UserId", true, struct iam_caller_identity, user_id),
	F_STR("Account", true, struct iam_caller_identity, account),
	F_END,
};

/* ------------------------------------------------------------------ */
/* The actions                                                        */

static const struct action act_create_user =
	ACTION("CreateUser", user_result_fields, struct iam_user_result);
static const struct action act_get_user =
	ACTION("GetUser", user_result_fields, struct iam_user_result);
static const struct action act_list_users =
	PAGED_ACTION("ListUsers", user_list_fields, struct iam_user_list);
static const struct action act_list_user_tags =
	PAGED_ACTION("ListUserTags", tag_list_fields, struct iam_tag_list);
static const struct action act_get_user_policy =
	ACTION("GetUserPolicy", user_policy_fields, struct iam_user_policy);
static const struct action act_list_attached =
	PAGED_ACTION("ListAttachedUserPolicies", attached_policy_list_fields,
		     struct iam_attached_policy_list);
static const struct action act_list_user_policies =
	PAGED_ACTION("ListUserPolicies", policy_names_fields,
		     struct iam_id_list);
static const struct action act_list_groups =
	PAGED_ACTION("ListGroupsForUser", groups_fields, struct iam_id_list);
static const struct action act_list_certs =
	PAGED_ACTION("ListSigningCertificates", certs_fields,
		     struct iam_id_list);
static const struct action act_list_ssh_keys =
	PAGED_ACTION("ListSSHPublicKeys", ssh_keys_fields, struct iam_id_list);
static const struct action act_list_sscs =
	PAGED_ACTION("ListServiceSpecificCredentials", sscs_fields,
		     struct iam_id_list);
static const struct action act_list_mfa =
	PAGED_ACTION("ListMFADevices", mfa_fields, struct iam_id_list);
static const struct action act_create_access_key =
	ACTION("CreateAccessKey", create_access_key_fields,
	       struct iam_access_key);
static const struct action act_list_access_keys =
	PAGED_ACTION("ListAccessKeys", access_key_list_fields,
		     struct iam_access_key_list);
static const struct action act_last_used =
	ACTION("GetAccessKeyLastUsed", last_used_fields,
	       struct iam_access_key_last_used);
static const struct action act_login_profile =
	ACTION("GetLoginProfile", login_profile_fields,
	       struct iam_login_profile);
static const struct action act_caller_identity =
	ACTION("GetCallerIdentity", caller_identity_fields,
	       struct iam_caller_identity);

sesctl_err iam_xml_parse_ack(const struct secret *body, const char *action,
			     struct iam_metadata *out, struct err_info *ei)
{
	struct action a = { action, NULL, sizeof(struct iam_metadata), 0,
			    false, 0, 0 };

	if (!action || !*action || strlen(action) > ACTION_NAME_MAX) {
		if (out)
			memset(out, 0, sizeof(*out));
		return err_set(ei, SESCTL_ERR_INPUT, "invalid action name");
	}
	return parse_action(&a, body, out, ei);
}

void iam_metadata_release(struct iam_metadata *m)
{
	if (m)
		memset(m, 0, sizeof(*m));
}

sesctl_err iam_xml_create_user(const struct secret *body,
			       struct iam_user_result *out, struct err_info *ei)
{
	return parse_action(&act_create_user, body, out, ei);
}

sesctl_err iam_xml_get_user(const struct secret *body,
			    struct iam_user_result *out, struct err_info *ei)
{
	return parse_action(&act_get_user, body, out, ei);
}

void iam_user_result_release(struct iam_user_result *r)
{
	release_action(&act_get_user, r);
}

sesctl_err iam_xml_list_users(const struct secret *body,
			      struct iam_user_list *out, struct err_info *ei)
{
	return parse_action(&act_list_users, body, out, ei);
}

void iam_user_list_release(struct iam_user_list *l)
{
	release_action(&act_list_users, l);
}

sesctl_err iam_xml_list_user_tags(const struct secret *body,
				  struct iam_tag_list *out, struct err_info *ei)
{
	return parse_action(&act_list_user_tags, body, out, ei);
}

void iam_tag_list_release(struct iam_tag_list *l)
{
	release_action(&act_list_user_tags, l);
}

sesctl_err iam_xml_get_user_policy(const struct secret *body,
				   struct iam_user_policy *out,
				   struct err_info *ei)
{
	return parse_action(&act_get_user_policy, body, out, ei);
}

void iam_user_policy_release(struct iam_user_policy *p)
{
	release_action(&act_get_user_policy, p);
}

sesctl_err iam_xml_list_attached_user_policies(
	const struct secret *body, struct iam_attached_policy_list *out,
	struct err_info *ei)
{
	return parse_action(&act_list_attached, body, out, ei);
}

void iam_attached_policy_list_release(struct iam_attached_policy_list *l)
{
	release_action(&act_list_attached, l);
}

sesctl_err iam_xml_list_user_policies(const struct secret *body,
				      struct iam_id_list *out,
				      struct err_info *ei)
{
	return parse_action(&act_list_user_policies, body, out, ei);
}

sesctl_err iam_xml_list_groups_for_user(const struct secret *body,
					struct iam_id_list *out,
					struct err_info *ei)
{
	return parse_action(&act_list_groups, body, out, ei);
}

sesctl_err iam_xml_list_signing_certificates(const struct secret *body,
					     struct iam_id_list *out,
					     struct err_info *ei)
{
	return parse_action(&act_list_certs, body, out, ei);
}

sesctl_err iam_xml_list_ssh_public_keys(const struct secret *body,
					struct iam_id_list *out,
					struct err_info *ei)
{
	return parse_action(&act_list_ssh_keys, body, out, ei);
}

sesctl_err iam_xml_list_service_specific_credentials(
	const struct secret *body, struct iam_id_list *out,
	struct err_info *ei)
{
	return parse_action(&act_list_sscs, body, out, ei);
}

sesctl_err iam_xml_list_mfa_devices(const struct secret *body,
				    struct iam_id_list *out,
				    struct err_info *ei)
{
	return parse_action(&act_list_mfa, body, out, ei);
}

void iam_id_list_release(struct iam_id_list *l)
{
	/* Every id-list table has the same shape; any of them frees. */
	release_action(&act_list_sscs, l);
}

sesctl_err iam_xml_create_access_key(const struct secret *body,
				     struct iam_access_key *out,
				     struct err_info *ei)
{
	return parse_action(&act_create_access_key, body, out, ei);
}

void iam_access_key_release(struct iam_access_key *k)
{
	release_action(&act_create_access_key, k);
}

sesctl_err iam_xml_list_access_keys(const struct secret *body,
				    struct iam_access_key_list *out,
				    struct err_info *ei)
{
	return parse_action(&act_list_access_keys, body, out, ei);
}

void iam_access_key_list_release(struct iam_access_key_list *l)
{
	release_action(&act_list_access_keys, l);
}

sesctl_err iam_xml_get_access_key_last_used(
	const struct secret *body, struct iam_access_key_last_used *out,
	struct err_info *ei)
{
	return parse_action(&act_last_used, body, out, ei);
}

void iam_access_key_last_used_release(struct iam_access_key_last_used *u)
{
	release_action(&act_last_used, u);
}

sesctl_err iam_xml_get_login_profile(const struct secret *body,
				     struct iam_login_profile *out,
				     struct err_info *ei)
{
	return parse_action(&act_login_profile, body, out, ei);
}

void iam_login_profile_release(struct iam_login_profile *p)
{
	release_action(&act_login_profile, p);
}

sesctl_err iam_xml_get_caller_identity(const struct secret *body,
				       struct iam_caller_identity *out,
				       struct err_info *ei)
{
	return parse_action(&act_caller_identity, body, out, ei);
}

void iam_caller_identity_release(struct iam_caller_identity *c)
{
	release_action(&act_caller_identity, c);
}

/* ------------------------------------------------------------------ */
/* STS AssumeRole (for sts.c; see iam_xml.h)                          */

static const struct field assume_role_credentials[] = {
	F_KEYID("AccessKeyId", struct iam_assume_role, access_key_id),
	F_SECRET("SecretAccessKey", struct iam_assume_role,
		 secret_access_key),
	F_SECRET("SessionToken", struct iam_assume_role, session_token),
	F_DATE("Expiration", true, struct iam_assume_role, expiration),
	F_END,
};

static const struct field assume_role_user[] = {
	F_STR("Arn", true, struct iam_assume_role, assumed_role_arn),
	F_STR("AssumedRoleId", false, struct iam_assume_role,
	      assumed_role_id),
	F_END,
};

static const struct field assume_role_fields[] = {
	F_STRUCT("Credentials", true, 0, assume_role_credentials),
	F_STRUCT("AssumedRoleUser", false, 0, assume_role_user),
	F_END,
};

static const struct action act_assume_role =
	ACTION("AssumeRole", assume_role_fields, struct iam_assume_role);

sesctl_err iam_xml_assume_role(const struct secret *body,
			       struct iam_assume_role *out,
			       struct err_info *ei)
{
	return parse_action(&act_assume_role, body, out, ei);
}

void iam_assume_role_release(struct iam_assume_role *r)
{
	release_action(&act_assume_role, r);
}
