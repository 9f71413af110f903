/* iam_xml.h - IAM (and STS) Query API response bodies into C structs.
 *
 * The only module that includes libxml2, and it owns libxml2 for the whole
 * process: the first call installs an allocator (xmlMemSetup) that wipes
 * every block libxml2 frees, so its copies of a body are wiped too.  Nothing
 * else may call libxml2 (before or after).  Every function takes the body
 * as the struct secret the transport filled (a CreateAccessKey body carries
 * a SecretAccessKey) and leaves it unchanged.
 *
 * Parsing rules (after ../shared/vectors/iam-api.md and the botocore model):
 *  - A success body is <{Action}Response><{Action}Result>...</{Action}Result>
 *    <ResponseMetadata><RequestId/></ResponseMetadata></{Action}Response>.
 *    Elements match on their local name only: no namespace, the IAM or STS
 *    namespace, any other namespace or prefix are all accepted.  Unknown
 *    elements are ignored; a known scalar element appearing twice is an
 *    error.  Values are trimmed of surrounding whitespace, except tag keys
 *    and values, which are kept byte for byte.
 *  - Lists are <member> children; a missing list is an empty list, a
 *    missing IsTruncated is false.  IsTruncated true without a Marker is an
 *    error (a paginator could not go on).
 *  - Dates keep the ISO 8601 text and its time_t (UTC).
 *  - Any document with a DOCTYPE is refused before libxml2 reads a single
 *    declaration from it (IAM never sends one), so entity tricks go nowhere;
 *    the parser runs without NOENT/DTDLOAD/DTDATTR and with NONET, and
 *    libxml2 prints nothing (its errors are captured for the message).
 *
 * Errors: a body that is not what the action returns (empty, over
 * IAM_XML_BODY_MAX, not XML, truncated, an HTML page, another root element,
 * a required element missing or over its size, a bad date or boolean) is
 * SESCTL_ERR_NETWORK, a service failure (exit 6), with a message such as
 * "CreateAccessKey: response is not valid XML (line 3, column 7: ...)" in
 * `ei`.  A list with more than IAM_XML_LIST_MAX members is SESCTL_ERR_INPUT;
 * allocation failure is SESCTL_ERR_NOMEM.  Messages name elements, never
 * values from the body.
 *
 * Ownership: every parse function fills a caller-owned struct.  It
 * overwrites `out` without releasing what was there; on success the caller
 * owns the result and frees it with the struct's _release() function; on
 * failure `out` is left zeroed and holds nothing (releasing it again is
 * harmless).  Strings are fixed arrays sized to IAM's documented maxima
 * (in bytes, for the characters IAM allows): a value that does not fit is
 * refused as malformed, never truncated, because ids are sent back to IAM.
 * Only iam_error truncates (it is for display).  "" means absent.
 *
 * Typical use in iam.c:
 *
 *     if (status / 100 != 2) {
 *             struct iam_error e;
 *
 *             TRY(iam_xml_parse_error(body, "CreateUser", &e, ei));
 *             rc = err_set(ei, iam_xml_error_err(&e, status),
 *                          "CreateUser: %s: %s", e.code, e.message);
 *             goto out;  (or retry when iam_xml_error_retryable)
 *     }
 *     TRY(iam_xml_create_user(body, &user, ei));
 *     ...
 *     iam_user_result_release(&user);
 *
 * A 2xx body that is an error document makes the action's parser fail
 * with SESCTL_ERR_NETWORK naming the code.
 *
 * Thread safety: libxml2 is initialised once (pthread_once); the functions
 * keep no other global state and may run in any thread.  libxml2's error
 * handlers are per-thread and are swapped only for the duration of a parse
 * (then put back), so libxml2 never prints.
 */
#ifndef SESCTL_IAM_XML_H
#define SESCTL_IAM_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* Largest body accepted (the transport caps bodies at the same size). */
#define IAM_XML_BODY_MAX ((size_t)1 << 20)
/* Most members one list may hold (IAM's MaxItems maximum). */
#define IAM_XML_LIST_MAX 1000

/* Field sizes in bytes, not counting the terminating NUL. */
#define IAM_XML_NAME_MAX 128      /* UserName, PolicyName, GroupName */
#define IAM_XML_ID_MAX 256        /* ids: 128; MFA SerialNumber: 256 */
#define IAM_XML_ARN_MAX 2048
#define IAM_XML_PATH_MAX 512
#define IAM_XML_MARKER_MAX 640    /* 320 characters of U+0020-U+00FF */
#define IAM_XML_TAG_KEY_MAX 512   /* 128 characters of UTF-8 */
#define IAM_XML_TAG_VALUE_MAX 1024 /* 256 characters of UTF-8 */
#define IAM_XML_DATE_MAX 64
#define IAM_XML_STATUS_MAX 16
#define IAM_XML_SERVICE_MAX 128   /* ServiceName, Region */
#define IAM_XML_ACCOUNT_MAX 32
#define IAM_XML_REQUEST_ID_MAX 128
#define IAM_XML_ERR_TYPE_MAX 32
#define IAM_XML_ERR_CODE_MAX 128
#define IAM_XML_ERR_MESSAGE_MAX 1024

/* ------------------------------------------------------------------ */
/* Errors                                                             */

/* An AWS error body.  Fields are truncated to fit (with "..." when the
 * message was cut); "" when the body did not say. */
struct iam_error {
	char type[IAM_XML_ERR_TYPE_MAX + 1];        /* "Sender", "Receiver" */
	char code[IAM_XML_ERR_CODE_MAX + 1];        /* "NoSuchEntity", ... */
	char message[IAM_XML_ERR_MESSAGE_MAX + 1];
	char request_id[IAM_XML_REQUEST_ID_MAX + 1];
};

/* Parse an error body.  Recognised shapes (root local names):
 *   IAM, STS:  <ErrorResponse><Error><Type/><Code/><Message/></Error>
 *              <RequestId/></ErrorResponse>
 *   EC2-style: <Response><Errors><Error><Code/><Message/></Error></Errors>
 *              <RequestID/></Response>
 *   S3-style:  <Error><Code/><Message/><RequestId/></Error>
 * SESCTL_OK: it was one, with a non-empty Code, and `out` is filled.
 * SESCTL_ERR_NETWORK: it was not a recognisable AWS error (HTML page from a
 * proxy, not XML, empty, another document); `out` is zeroed and `ei` says
 * what the body was, prefixed with `action`.  SESCTL_ERR_NOMEM as usual. */
MUST_USE sesctl_err iam_xml_parse_error(const struct secret *body,
					const char *action,
					struct iam_error *out,
					struct err_info *ei);

/* What an error code means for sesctl (DESIGN.md exit codes):
 *   SESCTL_ERR_AUTH      AccessDenied(Exception), InvalidClientTokenId,
 *                        SignatureDoesNotMatch, ExpiredToken(Exception),
 *                        IncompleteSignature, MissingAuthenticationToken,
 *                        RequestExpired, RequestTimeTooSkewed,
 *                        UnrecognizedClient(Exception),
 *                        InvalidAccessKeyId, AuthFailure
 *   SESCTL_ERR_NOT_FOUND NoSuchEntity(Exception), NotSupportedService (404
 *                        from ListServiceSpecificCredentials: nothing to list),
 *                        ResourceNotFoundException, ParameterNotFound
 *   SESCTL_ERR_CONFLICT  EntityAlreadyExists, LimitExceeded, DeleteConflict,
 *                        ConcurrentModification (and their ...Exception forms),
 *                        ResourceExistsException, ParameterAlreadyExists
 *   SESCTL_ERR_NETWORK   throttling and service failures (see
 *                        iam_xml_error_retryable), any Type "Receiver", any
 *                        unknown code with a 5xx status
 *   SESCTL_ERR_INPUT     InvalidInput, MalformedPolicyDocument,
 *                        PolicyNotAttachable, ValidationError,
 *                        InvalidParameterValue, MalformedQueryString,
 *                        InvalidAction, MissingParameter,
 *                        InvalidParameterException, InvalidRequestException,
 *                        ...
 *   SESCTL_ERR_FAIL      anything else.
 * `http_status` is the response status (0 if unknown). */
sesctl_err iam_xml_error_err(const struct iam_error *e, long http_status);

/* Whether the AWS SDKs' standard retry mode retries this answer:
 * throttling codes (Throttling, ThrottlingException, RequestLimitExceeded,
 * ...), transient codes (RequestTimeout, PriorRequestNotComplete,
 * ServiceFailure, InternalFailure, ServiceUnavailable) and HTTP 500, 502,
 * 503, 504.  LimitExceeded (the IAM quota error) is not retryable. */
bool iam_xml_error_retryable(const struct iam_error *e, long http_status);

/* ------------------------------------------------------------------ */
/* Common pieces                                                      */

/* ResponseMetadata.  request_id is "" if the body had none; an over-long
 * one is truncated (it is only ever displayed). */
struct iam_metadata {
	char request_id[IAM_XML_REQUEST_ID_MAX + 1];
};

/* An ISO 8601 timestamp as IAM sent it and as a time_t. */
struct iam_date {
	bool present;                   /* false: the element was absent */
	char iso[IAM_XML_DATE_MAX + 1]; /* trimmed text, "" when absent */
	time_t t;                       /* seconds since the epoch, UTC;
					 * 0 when absent */
};

/* Parse "YYYY-MM-DDTHH:MM:SS" with optional ".fraction" (dropped) and an
 * optional zone: "Z", "+HH:MM", "-HH:MM", "+HHMM" (none means UTC).
 * SESCTL_ERR_INPUT for anything else, including out-of-range fields. */
MUST_USE sesctl_err iam_xml_parse_date(const char *s, time_t *out);

/* Access key, signing certificate and SSH key status. */
enum iam_status {
	IAM_STATUS_OTHER = 0, /* a value this version does not know */
	IAM_STATUS_ACTIVE,
	IAM_STATUS_INACTIVE,
	IAM_STATUS_EXPIRED,
};

struct iam_tag {
	char key[IAM_XML_TAG_KEY_MAX + 1];
	char value[IAM_XML_TAG_VALUE_MAX + 1]; /* may be "" */
};

/* ------------------------------------------------------------------ */
/* Actions with no result (PutUserPolicy, DeleteUser, TagUser,        */
/* UpdateAccessKey, DeleteAccessKey, AttachUserPolicy,                */
/* DetachUserPolicy, DeleteUserPolicy, DeleteLoginProfile, ...)       */

/* Check the body is <{action}Response> and fill the RequestId.  Any
 * {action}Result element is ignored. */
MUST_USE sesctl_err iam_xml_parse_ack(const struct secret *body,
				      const char *action,
				      struct iam_metadata *out,
				      struct err_info *ei);
void iam_metadata_release(struct iam_metadata *m);

/* ------------------------------------------------------------------ */
/* Users                                                              */

/* A User.  Required: UserId and Arn (GetUser signed with root
 * credentials returns neither Path nor UserName; the CreateUser doc
 * example has no CreateDate). */
struct iam_user {
	char user_name[IAM_XML_NAME_MAX + 1];
	char user_id[IAM_XML_ID_MAX + 1];
	char arn[IAM_XML_ARN_MAX + 1];
	char path[IAM_XML_PATH_MAX + 1];
	struct iam_date create_date;
	struct iam_date password_last_used;
	struct iam_tag *tags; /* malloc'd array of tag_count; NULL if none */
	size_t tag_count;
};

/* CreateUser, GetUser. */
struct iam_user_result {
	struct iam_user user;
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_create_user(const struct secret *body,
					struct iam_user_result *out,
					struct err_info *ei);
MUST_USE sesctl_err iam_xml_get_user(const struct secret *body,
				     struct iam_user_result *out,
				     struct err_info *ei);
void iam_user_result_release(struct iam_user_result *r);

/* ListUsers (ListUsers returns no tags). */
struct iam_user_list {
	struct iam_user *items; /* malloc'd array of count; NULL if empty */
	size_t count;
	bool is_truncated;
	char marker[IAM_XML_MARKER_MAX + 1]; /* send back for the next page;
					      * never "" when is_truncated */
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_list_users(const struct secret *body,
				       struct iam_user_list *out,
				       struct err_info *ei);
void iam_user_list_release(struct iam_user_list *l);

/* ListUserTags. */
struct iam_tag_list {
	struct iam_tag *items;
	size_t count;
	bool is_truncated;
	char marker[IAM_XML_MARKER_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_list_user_tags(const struct secret *body,
					   struct iam_tag_list *out,
					   struct err_info *ei);
void iam_tag_list_release(struct iam_tag_list *l);

/* ------------------------------------------------------------------ */
/* Policies                                                           */

/* GetUserPolicy.  policy_document is DECODED: IAM sends it
 * percent-encoded (RFC 3986); it is decoded the way botocore does
 * (urllib.parse.unquote): "%XX" becomes the byte 0xXX, '+' stays '+', and a
 * '%' not followed by two hex digits is kept as is.  A document that
 * decodes to a NUL byte is refused. */
struct iam_user_policy {
	char user_name[IAM_XML_NAME_MAX + 1];
	char policy_name[IAM_XML_NAME_MAX + 1];
	char *policy_document;  /* malloc'd, NUL-terminated, decoded JSON */
	size_t policy_document_len;
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_get_user_policy(const struct secret *body,
					    struct iam_user_policy *out,
					    struct err_info *ei);
void iam_user_policy_release(struct iam_user_policy *p);

struct iam_attached_policy {
	char policy_name[IAM_XML_NAME_MAX + 1];
	char policy_arn[IAM_XML_ARN_MAX + 1];
};

/* ListAttachedUserPolicies. */
struct iam_attached_policy_list {
	struct iam_attached_policy *items;
	size_t count;
	bool is_truncated;
	char marker[IAM_XML_MARKER_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_list_attached_user_policies(
	const struct secret *body, struct iam_attached_policy_list *out,
	struct err_info *ei);
void iam_attached_policy_list_release(struct iam_attached_policy_list *l);

/* ------------------------------------------------------------------ */
/* Plain id lists: what `disable` must delete one by one.             */

/* One entry; which element `id` holds depends on the action:
 *   ListUserPolicies                PolicyNames/member (the text)
 *   ListGroupsForUser               Groups/member/GroupName
 *   ListSigningCertificates         Certificates/member/CertificateId
 *   ListSSHPublicKeys               SSHPublicKeys/member/SSHPublicKeyId
 *   ListServiceSpecificCredentials  ServiceSpecificCredentials/member/
 *                                   ServiceSpecificCredentialId (+ ServiceName)
 *   ListMFADevices                  MFADevices/member/SerialNumber */
struct iam_id {
	char id[IAM_XML_ID_MAX + 1];
	char service_name[IAM_XML_SERVICE_MAX + 1]; /* service-specific
						     * credentials only */
};

struct iam_id_list {
	struct iam_id *items;
	size_t count;
	bool is_truncated;
	char marker[IAM_XML_MARKER_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_list_user_policies(const struct secret *body,
					       struct iam_id_list *out,
					       struct err_info *ei);
MUST_USE sesctl_err iam_xml_list_groups_for_user(const struct secret *body,
						 struct iam_id_list *out,
						 struct err_info *ei);
MUST_USE sesctl_err iam_xml_list_signing_certificates(
	const struct secret *body, struct iam_id_list *out,
	struct err_info *ei);
MUST_USE sesctl_err iam_xml_list_ssh_public_keys(const struct secret *body,
						 struct iam_id_list *out,
						 struct err_info *ei);
MUST_USE sesctl_err iam_xml_list_service_specific_credentials(
	const struct secret *body, struct iam_id_list *out,
	struct err_info *ei);
MUST_USE sesctl_err iam_xml_list_mfa_devices(const struct secret *body,
					     struct iam_id_list *out,
					     struct err_info *ei);
void iam_id_list_release(struct iam_id_list *l);

/* ------------------------------------------------------------------ */
/* Access keys                                                        */

/* CreateAccessKey.  Required: AccessKeyId, Status, SecretAccessKey.
 * secret_access_key is trimmed of surrounding whitespace (the AWS doc
 * example has a newline inside the element); the document's text nodes are
 * wiped before libxml2 frees them.  Release wipes the secret. */
struct iam_access_key {
	char user_name[IAM_XML_NAME_MAX + 1];
	char access_key_id[IAM_XML_ID_MAX + 1];
	enum iam_status status;
	char status_text[IAM_XML_STATUS_MAX + 1];
	struct iam_date create_date;
	struct secret secret_access_key;
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_create_access_key(const struct secret *body,
					      struct iam_access_key *out,
					      struct err_info *ei);
void iam_access_key_release(struct iam_access_key *k);

/* ListAccessKeys member.  Required: AccessKeyId, Status. */
struct iam_access_key_meta {
	char user_name[IAM_XML_NAME_MAX + 1];
	char access_key_id[IAM_XML_ID_MAX + 1];
	enum iam_status status;
	char status_text[IAM_XML_STATUS_MAX + 1];
	struct iam_date create_date;
};

struct iam_access_key_list {
	struct iam_access_key_meta *items;
	size_t count;
	bool is_truncated;
	char marker[IAM_XML_MARKER_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_list_access_keys(const struct secret *body,
					     struct iam_access_key_list *out,
					     struct err_info *ei);
void iam_access_key_list_release(struct iam_access_key_list *l);

/* GetAccessKeyLastUsed.  For a key never used IAM sends no LastUsedDate
 * (last_used_date.present is false) and "N/A" as service_name and region;
 * those are returned as sent. */
struct iam_access_key_last_used {
	char user_name[IAM_XML_NAME_MAX + 1];
	struct iam_date last_used_date;
	char service_name[IAM_XML_SERVICE_MAX + 1];
	char region[IAM_XML_SERVICE_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_get_access_key_last_used(
	const struct secret *body, struct iam_access_key_last_used *out,
	struct err_info *ei);
void iam_access_key_last_used_release(struct iam_access_key_last_used *u);

/* ------------------------------------------------------------------ */
/* Login profile, caller identity                                     */

/* GetLoginProfile.  A user without a console password gets an error
 * response (NoSuchEntity, 404) instead, so a successful parse means the
 * profile exists. */
struct iam_login_profile {
	char user_name[IAM_XML_NAME_MAX + 1];
	struct iam_date create_date;
	bool password_reset_required;
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_get_login_profile(const struct secret *body,
					      struct iam_login_profile *out,
					      struct err_info *ei);
void iam_login_profile_release(struct iam_login_profile *p);

/* STS GetCallerIdentity (namespace https://sts.amazonaws.com/doc/2011-06-15/).
 * All three required.  user_id is "AROA...:session" for assumed roles. */
struct iam_caller_identity {
	char arn[IAM_XML_ARN_MAX + 1];
	char user_id[IAM_XML_ID_MAX + 1];
	char account[IAM_XML_ACCOUNT_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_get_caller_identity(
	const struct secret *body, struct iam_caller_identity *out,
	struct err_info *ei);
void iam_caller_identity_release(struct iam_caller_identity *c);

/* Release libxml2's global state now (main calls it last, before it
 * scrubs the stack), rather than in libxml2's own destructor at exit. */
void iam_xml_global_cleanup(void);


/* ------------------------------------------------------------------ */
/* STS AssumeRole (used by sts.c for the caller's assume-role profiles; */
/* kept apart from the IAM actions above)                             */

/* STS AssumeRole (namespace https://sts.amazonaws.com/doc/2011-06-15/).
 * Required: Credentials with AccessKeyId, SecretAccessKey, SessionToken
 * and Expiration; AssumedRoleUser (Arn, AssumedRoleId) is optional.  The
 * secret key and the session token go straight from the text nodes into
 * wiped memory, and the document's text nodes are wiped before libxml2
 * frees them.  Release wipes both secrets. */
struct iam_assume_role {
	char access_key_id[IAM_XML_ID_MAX + 1];
	struct secret secret_access_key;
	struct secret session_token;
	struct iam_date expiration;
	char assumed_role_arn[IAM_XML_ARN_MAX + 1];
	char assumed_role_id[IAM_XML_ID_MAX + 1];
	struct iam_metadata meta;
};
MUST_USE sesctl_err iam_xml_assume_role(const struct secret *body,
					struct iam_assume_role *out,
					struct err_info *ei);
void iam_assume_role_release(struct iam_assume_role *r);

#endif
