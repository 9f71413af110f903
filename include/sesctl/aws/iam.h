/* iam.h - the IAM Query API client.
 *
 * Every call goes through one table that says for each action whether it
 * only reads, changes something that can be read back, or creates
 * something (and so must never be repeated blindly); the AWS client core
 * (aws_client.h, shared with STS and the secret stores) makes the form
 * body (Action=...&Version=2010-05-08&...), signs it with sigv4, sends it
 * with http and applies the retry and outcome rules below.  IAM error responses become sesctl errors with the
 * documented exit codes and a message that says what to do.
 *
 * Retries.  Reads are retried in the AWS SDKs' standard mode: up to
 * max_attempts on throttling, 5xx and connection errors, capped
 * exponential backoff with full jitter.  A change (every action that is
 * not a read) is sent again only when it surely was not applied: it never
 * went out (HTTP_NOT_SENT), or IAM throttled it (a 4xx Throttling-type
 * error on its only send).  Its outcome is UNKNOWN after anything else
 * that may follow an applied request:
 *   - the connection died or timed out once the request was sent
 *     (HTTP_NO_ANSWER), or the answer was too large to read;
 *   - any 5xx answer (AWS documents that a 5xx may follow an applied
 *     request), with or without an AWS error document;
 *   - any error answer after libcurl re-sent the request on its own
 *     (it does so on a reused connection that died before answering: the
 *     error may answer the repeat of an applied request);
 *   - a 2xx answer whose body cannot be read;
 *   - for the creating calls only, a 2xx after a libcurl re-send.
 * Such a change is never sent again blindly.  What happens next:
 *
 *   Typed calls of idempotent changes resolve it themselves, by reading the
 *   state back: iam_tag_user, iam_untag_user, iam_delete_user,
 *   iam_put_user_policy, iam_delete_user_policy, iam_attach_user_policy,
 *   iam_detach_user_policy, iam_update_access_key, iam_delete_access_key,
 *   iam_remove_user_from_group, iam_delete_login_profile,
 *   iam_delete_signing_certificate, iam_delete_ssh_public_key,
 *   iam_delete_service_specific_credential, iam_deactivate_mfa_device.
 *   The state shows the change: SESCTL_OK (the debug log says "... was
 *   applied; its answer was lost").  It does not: the change is sent once
 *   more, now known to be safe, and that attempt is judged and resolved
 *   the same way, within max_attempts sends in all; when they are used up
 *   the call fails with the change's own error and outcome_unknown false
 *   (it is known not to have been applied).  The read-back itself fails:
 *   the call fails with SESCTL_ERR_NETWORK, c->outcome_unknown set and a
 *   message that says the outcome is unknown and which 'aws iam ...'
 *   command (or 'sesctl smtp status') shows the state.  A removal whose
 *   user is gone counts as applied; any other change whose user is gone as
 *   not applied (sent again, it fails with IAM's NoSuchEntity).
 *
 *   iam_delete_virtual_mfa_device cannot be read back per user: an unknown
 *   outcome fails with SESCTL_ERR_NETWORK and c->outcome_unknown set.
 *
 *   The creating calls, iam_create_access_key and iam_create_user, are
 *   resolved by their callers: an unknown outcome (as listed above,
 *   including a 5xx) fails with SESCTL_ERR_NETWORK and c->outcome_unknown
 *   set after ONE send, never retried; also a 2xx answer whose body cannot
 *   be read fails that way (the thing was made, its secret is lost).  A
 *   2xx after a libcurl re-send returns SESCTL_OK with c->outcome_unknown
 *   set: this key or user is made, and the first send may have made
 *   another.  Throttling and failures before sending are retried for them
 *   as for any change.
 *
 *   iam_call itself never reads back: a change whose outcome is unknown
 *   fails with SESCTL_ERR_NETWORK and c->outcome_unknown set.
 *
 * c->outcome_unknown is false after every call that did not end in one of
 * the cases above, and after every read.
 *
 * Calls that only read can also run several at once (iam_call_many, and
 * the typed iam_read_many): each with its own retries, backoff and error,
 * at most IAM_MAX_IN_FLIGHT requests at a time on as many connections,
 * which later calls reuse.  Of the changes only removals may (disable's
 * deletions do not depend on one another); an unknown outcome of one is
 * left to its typed call, which reads state back.  Other changes run
 * beside another only where a typed call says so
 * (iam_put_user_policy_create_key): their order matters.
 */
#ifndef SESCTL_IAM_H
#define SESCTL_IAM_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/aws/aws_client.h"
#include "sesctl/aws/http.h"
#include "sesctl/aws/iam_xml.h"
#include "sesctl/base/secret.h"

#define IAM_API_VERSION "2010-05-08"
#define IAM_MAX_IN_FLIGHT 8 /* requests at once, unless the caller says */

struct iam_config {
	/* Where: the user's region picks the partition (IAM is global per
	 * partition).  endpoint_url (--endpoint-url) overrides the URL, then
	 * $AWS_ENDPOINT_URL_IAM, then $AWS_ENDPOINT_URL; ca_bundle
	 * (--ca-bundle) then $AWS_CA_BUNDLE names a PEM file of trusted CAs.
	 * NULL: not given. */
	const char *region;
	const char *endpoint_url;
	const char *ca_bundle;
	/* Who: the caller's credentials (borrowed; must outlive the client). */
	const char *access_key_id;
	const struct secret *secret_key;
	const struct secret *session_token; /* NULL: none */
	/* 0: $AWS_MAX_ATTEMPTS, else AWS_DEFAULT_MAX_ATTEMPTS. */
	int max_attempts;
	long connect_timeout_ms; /* 0: http's default */
	long timeout_ms;         /* 0: http's default */
};

struct iam_client {
	/* The core: endpoint, HTTP, signing, retries, request count
	 * (aws.requests: HTTP requests sent, retries included, also those
	 * of calls made at once). */
	struct aws_client aws;
	struct ctx *ctx; /* aws.ctx */
	/* Set when the last call was a change whose outcome is not known and
	 * could not be resolved by reading state back (see the top of this
	 * file for exactly when): the creating calls on any may-have-applied
	 * failure, the others only when the read-back failed. */
	bool outcome_unknown;
	/* The command that shows the user in hints ("sesctl smtp status
	 * --name app"); NULL: "sesctl smtp status".  Borrowed. */
	const char *status_cmd;
	/* The IAM error of the last failed call (code "" if none). */
	struct iam_error last_error;
};


/* Resolve the endpoint and signing region, check the URL and open the
 * HTTP client.  Errors in ctx->err. */
MUST_USE sesctl_err iam_client_init(struct iam_client *c, struct ctx *ctx,
				    const struct iam_config *cfg);
void iam_client_release(struct iam_client *c);

/* Make one IAM call (with retries as above; a change whose outcome is
 * unknown is not read back here).  On success `body` holds the response
 * body (a secret: it may contain a SecretAccessKey).  On failure the
 * error is in c->ctx->err and c->last_error. */
MUST_USE sesctl_err iam_call(struct iam_client *c, const char *action,
			     const struct aws_param *params, size_t n_params,
			     struct secret *body);

/* One call of iam_call_many: action and params are the caller's input,
 * the rest is its outcome. */
struct iam_call_item {
	const char *action;             /* a read or a removal (below) */
	const struct aws_param *params; /* borrowed until iam_call_many returns */
	size_t n_params;
	sesctl_err rc;                  /* SESCTL_OK: `body` holds the answer */
	struct secret body;             /* the caller's to secret_free */
	struct err_info err;            /* rc's message */
	struct iam_error error;         /* IAM's error (code "" if none) */
	unsigned attempts;              /* HTTP requests it took */
	bool outcome_unknown;           /* a removal that may or may not
					   have been applied */
};

/* Make the `n` calls at once, at most `max_in_flight` HTTP requests at a
 * time (0: IAM_MAX_IN_FLIGHT; never over HTTP_MAX_PARALLEL), in the order
 * given as far as the cap allows.  Each call is retried and backed off on
 * its own, exactly as iam_call would, and ends with its own rc, body and
 * message; a failing call does not stop the others.  Only reads and the
 * idempotent removals (DeleteAccessKey, DeleteUserPolicy,
 * DetachUserPolicy, RemoveUserFromGroup, DeleteLoginProfile,
 * DeleteSigningCertificate, DeleteSSHPublicKey,
 * DeleteServiceSpecificCredential, DeactivateMFADevice) are allowed:
 * anything else fails every call before a request goes out.  A removal
 * is never read back here: one whose outcome is unknown ends with
 * outcome_unknown set, and its typed call (which reads back) resolves it.
 * Returns the rc of the first call that failed, in the order
 * given (SESCTL_OK if none), with its message in ctx->err and its IAM
 * error in c->last_error: what making the calls one after the other would
 * have said. */
MUST_USE sesctl_err iam_call_many(struct iam_client *c,
				  struct iam_call_item *calls, size_t n,
				  size_t max_in_flight);

/* ---- typed calls -------------------------------------------------
 * Each fills in the parameters, calls iam_call and parses the answer with
 * iam_xml; results are the caller's to release with the iam_xml
 * *_release function of their type.  List calls follow IsTruncated/Marker
 * through every page and return one merged list.  Errors as iam_call;
 * the changes resolve an unknown outcome as the top of this file says. */

/* A tag to set (borrowed strings). */
struct iam_tag_in {
	const char *key;
	const char *value;
};

MUST_USE sesctl_err iam_create_user(struct iam_client *c, const char *user,
				    const char *path,
				    const struct iam_tag_in *tags, size_t n_tags,
				    struct iam_user_result *out);
/* user NULL: the caller's own user. */
MUST_USE sesctl_err iam_get_user(struct iam_client *c, const char *user,
				 struct iam_user_result *out);
MUST_USE sesctl_err iam_tag_user(struct iam_client *c, const char *user,
				 const struct iam_tag_in *tags, size_t n_tags);
/* Remove the tags with these keys (at most 50; absent ones are fine). */
MUST_USE sesctl_err iam_untag_user(struct iam_client *c, const char *user,
				   const char *const *keys, size_t n_keys);
MUST_USE sesctl_err iam_list_user_tags(struct iam_client *c, const char *user,
				       struct iam_tag_list *out);
/* path_prefix NULL: every user. */
MUST_USE sesctl_err iam_list_users(struct iam_client *c,
				   const char *path_prefix,
				   struct iam_user_list *out);
MUST_USE sesctl_err iam_delete_user(struct iam_client *c, const char *user);

MUST_USE sesctl_err iam_put_user_policy(struct iam_client *c, const char *user,
					const char *policy_name,
					const char *document);
MUST_USE sesctl_err iam_get_user_policy(struct iam_client *c, const char *user,
					const char *policy_name,
					struct iam_user_policy *out);
MUST_USE sesctl_err iam_list_user_policies(struct iam_client *c,
					   const char *user,
					   struct iam_id_list *out);
MUST_USE sesctl_err iam_delete_user_policy(struct iam_client *c,
					   const char *user,
					   const char *policy_name);
MUST_USE sesctl_err iam_attach_user_policy(struct iam_client *c,
					   const char *user,
					   const char *policy_arn);
MUST_USE sesctl_err iam_detach_user_policy(struct iam_client *c,
					   const char *user,
					   const char *policy_arn);
MUST_USE sesctl_err iam_list_attached_user_policies(
	struct iam_client *c, const char *user,
	struct iam_attached_policy_list *out);

MUST_USE sesctl_err iam_create_access_key(struct iam_client *c,
					  const char *user,
					  struct iam_access_key *out);
/* enable's CreateUser, with a GetUser of the same user at once on a
 * second connection, whose answer is not used: the connection is open by
 * the time PutUserPolicy and CreateAccessKey go at once
 * (iam_put_user_policy_create_key), so neither waits for a handshake.
 * CreateUser ends exactly as iam_create_user would have. */
MUST_USE sesctl_err iam_create_user_beside_get(struct iam_client *c,
					       const char *user,
					       const char *path,
					       const struct iam_tag_in *tags,
					       size_t n_tags,
					       struct iam_user_result *out);

/* The outcome of one call made beside another. */
struct iam_outcome {
	sesctl_err rc;
	struct err_info err;    /* rc's message */
	struct iam_error error; /* IAM's error (code "" if none) */
};

/* enable's two changes at once, on two connections: sesctl's policy
 * written (PutUserPolicy) while the key is made (CreateAccessKey).  The
 * key ends exactly as iam_create_access_key would have (return value,
 * ctx->err, c->last_error, c->outcome_unknown: resolving an unknown
 * outcome is the caller's).  The policy's outcome is in `policy`, a lost
 * answer resolved first as iam_put_user_policy does.  Nothing ties the
 * two: a key made while its policy failed is the caller's to delete. */
MUST_USE sesctl_err iam_put_user_policy_create_key(
	struct iam_client *c, const char *user, const char *policy_name,
	const char *document, struct iam_access_key *key,
	struct iam_outcome *policy);
MUST_USE sesctl_err iam_list_access_keys(struct iam_client *c,
					 const char *user,
					 struct iam_access_key_list *out);
/* status: "Active" or "Inactive". */
MUST_USE sesctl_err iam_update_access_key(struct iam_client *c,
					  const char *user, const char *key_id,
					  const char *status);
MUST_USE sesctl_err iam_delete_access_key(struct iam_client *c,
					  const char *user, const char *key_id);
MUST_USE sesctl_err iam_get_access_key_last_used(
	struct iam_client *c, const char *key_id,
	struct iam_access_key_last_used *out);

/* What else can hang on a user (disable removes all of it). */
MUST_USE sesctl_err iam_list_groups_for_user(struct iam_client *c,
					     const char *user,
					     struct iam_id_list *out);
MUST_USE sesctl_err iam_remove_user_from_group(struct iam_client *c,
					       const char *user,
					       const char *group);
MUST_USE sesctl_err iam_get_login_profile(struct iam_client *c,
					  const char *user,
					  struct iam_login_profile *out);
MUST_USE sesctl_err iam_delete_login_profile(struct iam_client *c,
					     const char *user);
MUST_USE sesctl_err iam_list_signing_certificates(struct iam_client *c,
						  const char *user,
						  struct iam_id_list *out);
MUST_USE sesctl_err iam_delete_signing_certificate(struct iam_client *c,
						   const char *user,
						   const char *cert_id);
MUST_USE sesctl_err iam_list_ssh_public_keys(struct iam_client *c,
					     const char *user,
					     struct iam_id_list *out);
MUST_USE sesctl_err iam_delete_ssh_public_key(struct iam_client *c,
					      const char *user,
					      const char *key_id);
MUST_USE sesctl_err iam_list_service_specific_credentials(
	struct iam_client *c, const char *user, struct iam_id_list *out);
MUST_USE sesctl_err iam_delete_service_specific_credential(
	struct iam_client *c, const char *user, const char *cred_id);
MUST_USE sesctl_err iam_list_mfa_devices(struct iam_client *c,
					 const char *user,
					 struct iam_id_list *out);
MUST_USE sesctl_err iam_deactivate_mfa_device(struct iam_client *c,
					      const char *user,
					      const char *serial);
MUST_USE sesctl_err iam_delete_virtual_mfa_device(struct iam_client *c,
						  const char *serial);

/* ---- typed reads, several at once ----------------------------------- */

/* What an iam_read reads; `out` points to the result type of the typed
 * call of the same name, and `arg` fills the parameter named. */
enum iam_read_kind {
	IAM_READ_GET_USER,           /* struct iam_user_result */
	IAM_READ_LIST_USER_TAGS,     /* struct iam_tag_list */
	IAM_READ_GET_USER_POLICY,    /* arg: PolicyName; struct iam_user_policy */
	IAM_READ_LIST_USER_POLICIES, /* struct iam_id_list */
	IAM_READ_LIST_ATTACHED_USER_POLICIES, /* iam_attached_policy_list */
	IAM_READ_LIST_ACCESS_KEYS,   /* struct iam_access_key_list */
	IAM_READ_GET_ACCESS_KEY_LAST_USED, /* arg: AccessKeyId (user unused);
					      iam_access_key_last_used */
	IAM_READ_LIST_GROUPS_FOR_USER, /* struct iam_id_list */
	IAM_READ_GET_LOGIN_PROFILE,    /* struct iam_login_profile */
	IAM_READ_LIST_SIGNING_CERTIFICATES, /* struct iam_id_list */
	IAM_READ_LIST_SSH_PUBLIC_KEYS,      /* struct iam_id_list */
	IAM_READ_LIST_SERVICE_SPECIFIC_CREDENTIALS, /* struct iam_id_list */
	IAM_READ_LIST_MFA_DEVICES,          /* struct iam_id_list */
};

struct iam_read {
	enum iam_read_kind kind;
	const char *user;       /* UserName (GetUser: NULL is the caller) */
	const char *arg;        /* see the kind */
	void *out;              /* filled as by the typed call; release it
				   with its *_release whatever rc says */
	/* outcome */
	sesctl_err rc;
	struct err_info err;    /* rc's message */
	struct iam_error error; /* IAM's error (code "" if none) */
};

/* Make the reads at once (iam_call_many; lists follow their pages, the
 * next pages of all lists again at once).  Every read ends with its own
 * rc and message; the return value is the first failure in the order
 * given, with its message in ctx->err, as for iam_call_many. */
MUST_USE sesctl_err iam_read_many(struct iam_client *c, struct iam_read *reads,
				  size_t n, size_t max_in_flight);

/* Make the outcome of read `r` the client's: its message into ctx->err,
 * its IAM error into c->last_error; returns r->rc. */
MUST_USE sesctl_err iam_read_result(struct iam_client *c,
				    const struct iam_read *r);

/* The form body for `action` and `params`, RFC 3986-encoded (space as
 * %20, '+' as %2B).  *out is malloc'd; the caller frees it. */
MUST_USE sesctl_err iam_form_body(const char *action,
				  const struct aws_param *params,
				  size_t n_params, char **out);

#endif
