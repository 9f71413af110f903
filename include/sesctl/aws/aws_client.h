/* aws_client.h - the one AWS client core every service client is built
 * on (iam.c, sts.c; Secrets Manager and SSM next).
 *
 * What every AWS call has in common lives here, once:
 *   - the endpoint: the flag (--endpoint-url), then the service's own
 *     AWS_ENDPOINT_URL_<SERVICE>, then the global AWS_ENDPOINT_URL (the
 *     SDKs' order), then the service's default; http_check_url refuses
 *     plain http to anything but loopback;
 *   - TLS trust: the config's CA bundle, else $AWS_CA_BUNDLE, else the
 *     system's store (http_ca.c);
 *   - signing (SigV4, for the service's signing name and region) and the
 *     protocol's framing: the Query protocol (a form body, XML answers
 *     and errors; IAM, STS) or JSON 1.1 (X-Amz-Target, a JSON body,
 *     errors named by "__type"; Secrets Manager, SSM);
 *   - standard-mode retries: AWS_MAX_ATTEMPTS (default 3, at most 10) on
 *     throttling, 5xx and connection errors, capped exponential backoff
 *     with full jitter;
 *   - the outcome-unknown rules for changes (iam.h says them in full): a
 *     change is sent again only when it surely was not applied (it never
 *     went out, or it was throttled on its only send); after anything that
 *     may follow an applied request its outcome is unknown and the caller
 *     reads the state back;
 *   - error mapping: the service's error code to an exit code
 *     (iam_xml_error_err) and a message that says what to do;
 *   - the --debug log, which http_redact.c keeps free of secrets.
 * A service client adds its actions, its answers' parsers and the
 * read-backs; aws_client_int.h is not needed by it.
 */
#ifndef SESCTL_AWS_CLIENT_H
#define SESCTL_AWS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/aws/http.h"
#include "sesctl/aws/iam_xml.h"
#include "sesctl/aws/sigv4.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#define AWS_DEFAULT_MAX_ATTEMPTS 3
#define AWS_MAX_ATTEMPTS_LIMIT 10

enum aws_protocol {
	AWS_QUERY,   /* form body "Action=..&Version=..", XML answers */
	AWS_JSON_11, /* X-Amz-Target: <prefix>.<Action>, JSON both ways */
};

/* Environment lookup: NULL or "" is "not set".  NULL: getenv(3). */
typedef const char *(*aws_env_fn)(const char *name);

struct aws_client;
struct aws_error_view;

/* A service's own message for an error the common mapping would say less
 * well about (STS's AssumeRole refused, a disabled region): returns true
 * with *rc and the message set, or false to let the common mapping speak. */
typedef bool (*aws_map_fn)(const struct aws_client *c, const char *action,
			   const struct iam_error *e, const char *rid,
			   sesctl_err *rc, struct err_info *ei);

struct aws_service {
	const char *name;          /* "IAM", "STS": in messages */
	const char *signing_name;  /* "iam": SigV4's service, and the
				      prefix of the permission a refusal
				      names ("iam:CreateUser") */
	const char *endpoint_env;  /* "AWS_ENDPOINT_URL_IAM" */
	enum aws_protocol protocol;
	const char *api_version;   /* Query: the Version parameter */
	const char *target_prefix; /* JSON 1.1: "secretsmanager" */
	const char *msg_prefix;    /* before "<Action>: <Code>: ..." in the
				      generic error message ("" or "STS ") */
	aws_map_fn map;            /* NULL: the common mapping only */
};

struct aws_config {
	const char *endpoint_url;   /* --endpoint-url; NULL: not given */
	const char *default_url;    /* without any override */
	const char *default_source; /* where default_url comes from, for
				       --debug ("the regional endpoint") */
	const char *signing_region; /* what requests are signed for */
	const char *ca_bundle;      /* NULL: $AWS_CA_BUNDLE, else the system's */
	/* Who signs (borrowed; must outlive the client). */
	const char *access_key_id;
	const struct secret *secret_key;
	const struct secret *session_token; /* NULL or empty: none */
	int max_attempts;        /* 0: $AWS_MAX_ATTEMPTS, else the default */
	long connect_timeout_ms; /* 0: http's default */
	long timeout_ms;         /* 0: http's default */
	aws_env_fn env;          /* NULL: getenv(3) */
};

struct aws_client {
	struct ctx *ctx;
	const struct aws_service *svc;
	struct http_client *http;
	char url[HTTP_URL_MAX];
	char host[256];
	char path[256];
	char signing_region[64];
	const char *url_source; /* "--endpoint-url", "AWS_ENDPOINT_URL_IAM",
				   ...; static or the config's */
	const char *access_key_id;
	const struct secret *secret_key;
	const struct secret *session_token; /* NULL: none */
	int max_attempts;
	long retry_base_ms; /* backoff base; 1000 unless a test shortens it */
	unsigned requests;  /* HTTP requests sent, retries included */
};

/* A regional service's client (Secrets Manager, SSM): where and who. */
struct aws_regional_config {
	const char *region;     /* the service's region (a must) */
	const char *ca_bundle;  /* NULL: $AWS_CA_BUNDLE, else the system's */
	const char *access_key_id;
	const struct secret *secret_key;
	const struct secret *session_token; /* NULL or empty: none */
	long connect_timeout_ms; /* 0: http's default */
	long timeout_ms;         /* 0: http's default */
};

/* aws_client_init for a regional service whose default endpoint is
 * https://<host_prefix>.<region>.<partition's DNS suffix>, signed for the
 * region. */
MUST_USE sesctl_err aws_regional_init(struct aws_client *c, struct ctx *ctx,
				      const struct aws_service *svc,
				      const char *host_prefix,
				      const struct aws_regional_config *cfg);

/* The endpoint override for `svc`, if any: the flag, the service's
 * variable, the global one; *source names it.  NULL: none. */
const char *aws_endpoint_override(const struct aws_service *svc,
				  const struct aws_config *cfg,
				  const char **source);

/* Resolve the endpoint, check it, and open the HTTP client.  Errors in
 * ctx->err. */
MUST_USE sesctl_err aws_client_init(struct aws_client *c, struct ctx *ctx,
				    const struct aws_service *svc,
				    const struct aws_config *cfg);
void aws_client_release(struct aws_client *c);

/* ---- one call ------------------------------------------------------- */

/* What an action is, for the retry and outcome rules. */
#define AWS_READ    0x1 /* reads only: repeat freely */
#define AWS_CREATES 0x4 /* a repeat would create a second thing */

/* One signed request: the headers point into `auth`, `c` and `target`. */
struct aws_signed {
	struct sigv4_auth auth;
	char target[128]; /* X-Amz-Target (JSON 1.1) */
	struct http_header hh[7];
	struct http_request req;
};

/* Where one call's outcome goes, and what its last attempt came to. */
struct aws_outcome {
	struct err_info *ei;  /* the call's message */
	struct iam_error *ie; /* the service's error, if it sent one */
	bool answered;        /* a 2xx answer arrived; its body is in `body` */
	bool retry;           /* safe to send again, and worth it */
	bool unknown;         /* a change may or may not have been applied */
};

/* Sign `body` (of `action`) for this client, now.  Release sr->auth with
 * sigv4_auth_release afterwards. */
MUST_USE sesctl_err aws_sign(struct aws_client *c, const char *action,
			     const char *body, struct aws_signed *sr,
			     struct err_info *ei);

/* Judge one attempt of `action` (flags AWS_READ, AWS_CREATES): `rc` and
 * `resp` are what the transport said.  Returns the call's error, or
 * SESCTL_OK with o->answered and the answer in `body`. */
MUST_USE sesctl_err aws_judge(const struct aws_client *c, const char *action,
			      unsigned flags, sesctl_err rc,
			      const struct http_response *resp,
			      struct secret *body, struct aws_outcome *o);

/* The message of a call that failed for good after `attempt` attempts. */
MUST_USE sesctl_err aws_give_up(const struct aws_client *c,
				const char *action, sesctl_err rc,
				int attempt, const struct aws_outcome *o);

/* Send `body` until it is answered or fails for good, with at most *left
 * attempts (counted down; *attempt counts up), backing off between. */
MUST_USE sesctl_err aws_send_until(struct aws_client *c, const char *action,
				   unsigned flags, const char *body,
				   struct secret *answer,
				   struct aws_outcome *o, int *left,
				   int *attempt);

/* One whole call: aws_send_until with the client's attempts, then
 * aws_give_up.  *unknown (may be NULL) says whether a change may or may
 * not have been applied; `ie` (may be NULL) receives the service's
 * error. */
MUST_USE sesctl_err aws_call(struct aws_client *c, const char *action,
			     unsigned flags, const char *body,
			     struct secret *answer, struct iam_error *ie,
			     bool *unknown);

/* ---- protocols ------------------------------------------------------ */

/* A Query parameter (NULL value: left out). */
struct aws_param {
	const char *name;
	const char *value;
};

/* The Query form body "Action=<action>&Version=<version>&<params>",
 * percent-encoded as RFC 3986 says; *out is the caller's to free.
 * SESCTL_ERR_INPUT past 256 KiB. */
MUST_USE sesctl_err aws_query_body(const char *action, const char *version,
				   const struct aws_param *params,
				   size_t n_params, char **out);

struct cJSON;

/* A tag to set on an AWS resource (borrowed strings). */
struct aws_tag {
	const char *key;
	const char *value;
};

/* "Tags": [{"Key": .., "Value": ..}, ...] into the JSON 1.1 request
 * `req`; false when out of memory. */
bool aws_json_add_tags(struct cJSON *req, const struct aws_tag *tags,
		       size_t n);

/* One JSON 1.1 call: `req` printed (into a wiped buffer) and sent with
 * aws_call; a 2xx answer parsed into *answer (NULL: not wanted; the
 * caller cJSON_Delete()s it).  A change answered 2xx with a body that is
 * not JSON counts as of unknown outcome. */
MUST_USE sesctl_err aws_json_call(struct aws_client *c, const char *action,
				  unsigned flags, struct cJSON *req,
				  struct cJSON **answer, struct iam_error *ie,
				  bool *unknown);

/* Reads back whether a change of unknown outcome took effect: *applied,
 * or an error when the state cannot be read. */
typedef sesctl_err (*aws_applied_fn)(void *arg, bool *applied);

/* One JSON 1.1 change that is never repeated blindly: sent with
 * aws_json_call; when its outcome is unknown, `applied` reads the state
 * back (the service error of the change, not of the read, stays in `ie`).
 * Applied: SESCTL_OK (*answer stays NULL: the answer was lost).  Not
 * applied: sent once more, now known to be safe, and judged the same way.
 * The read-back fails: SESCTL_ERR_NETWORK with *unknown set, and the
 * message names `what` ("secret 'x'") and the command that shows the state
 * (`shows`). */
MUST_USE sesctl_err aws_json_change(struct aws_client *c, const char *action,
				    struct cJSON *req, struct cJSON **answer,
				    struct iam_error *ie, const char *what,
				    const char *shows, aws_applied_fn applied,
				    void *arg, bool *unknown);

/* A JSON 1.1 error answer: "__type" (with any "namespace#" prefix cut)
 * into e->code, "message" or "Message" into e->message, the
 * x-amzn-RequestId header into e->request_id.  SESCTL_OK: it was one;
 * SESCTL_ERR_NETWORK: it was not (ei says what it was). */
MUST_USE sesctl_err aws_json_parse_error(const struct http_response *resp,
					 const char *action,
					 struct iam_error *e,
					 struct err_info *ei);

#endif
