/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256) request signing.
 *
 * Pure: no clock, environment, I/O or global state.  The time is the
 * `now` parameter; everything else comes from the caller's structs.
 *
 * Stages, each a separate function so each can be tested on its own
 * (after aws-c-auth aws_signing.c):
 *
 *   sigv4_canonical_request  request  -> canonical request
 *   sigv4_string_to_sign     creq     -> "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(creq)>"
 *   sigv4_signing_key        secret   -> kSigning (kDate..kRegion..kService..kSigning)
 *   sigv4_signature          kSigning, string to sign -> 64 lowercase hex
 *   sigv4_sign               all of it, Authorization-header form
 *   sigv4_presign            all of it, query-string (presigned URL) form
 *
 * Canonicalisation (the rules the AWS test suite checks):
 *  - Path: every byte except the RFC 3986 unreserved set and '/' is
 *    percent-encoded with uppercase hex, including '%' itself.  The path is
 *    taken as it goes on the wire, so an already-encoded path is encoded a
 *    second time: this is the "double encoding" every service except S3
 *    expects.  S3's single encoding is not supported.  With normalize_path,
 *    empty and "." segments are dropped and ".." removes the previous one
 *    (so "//a/./b/../" is "/a/"); a trailing '/' is kept.
 *  - Query: split on '&' (empty pieces skipped) and at the first '=';
 *    names and values are percent-decoded ('+' stays a literal '+') and
 *    re-encoded with the unreserved set, so raw and already-encoded queries
 *    canonicalise alike; pairs are sorted by encoded name, then value; a
 *    name without '=' becomes "name=".
 *  - Headers: every header passed is signed.  Names are lowercased;
 *    values have leading/trailing whitespace removed and internal runs of
 *    whitespace (including the CR/LF of folded lines) collapsed to one
 *    space; repeated names are joined with ',' in order of appearance;
 *    lines are sorted by name.
 *
 * Secrets: the secret key, session token and derived keys are only read
 * from / written to struct secret; every intermediate key is wiped on every
 * path.  A canonical request or presigned query that contains the session
 * token is returned in a struct secret.  The string to sign, signature and
 * Authorization value are not secret and are plain malloc'd strings.
 */
#ifndef SESCTL_SIGV4_H
#define SESCTL_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

#define SIGV4_DATE_LEN 16          /* "20150830T123600Z" */
#define SIGV4_KEY_LEN 32           /* kSigning */
#define SIGV4_SIGNATURE_HEX_LEN 64 /* lowercase hex HMAC-SHA256 */

/* Hard limits; anything larger is SESCTL_ERR_INPUT, never a crash. */
#define SIGV4_MAX_HEADERS 64              /* caller headers */
#define SIGV4_MAX_HEADER_NAME 128         /* bytes */
#define SIGV4_MAX_FIELD 8192              /* path, query, one header value */
#define SIGV4_MAX_QUERY_PARAMS 256        /* after splitting, incl. X-Amz-* */
#define SIGV4_MAX_ID 128                  /* access key id */
#define SIGV4_MAX_SCOPE_PART 64           /* region, service */
#define SIGV4_MAX_SECRET_KEY 256          /* secret access key bytes */
#define SIGV4_MAX_TOKEN 16384             /* session token bytes */
#define SIGV4_MAX_BODY ((size_t)4 << 20)  /* payload bytes hashed */
#define SIGV4_MAX_TEXT ((size_t)256 << 10) /* any string the module builds */
#define SIGV4_MAX_EXPIRES 604800          /* presign: 7 days, AWS's limit */

/* One request header.  Both strings are borrowed (NUL-terminated). */
struct sigv4_header {
	const char *name;
	const char *value;
};

/* The request to sign.  Everything is borrowed; nothing is kept after a
 * call returns.
 *
 * `headers` are exactly the headers that will be sent and signed (pass
 * none that the transport adds or changes after signing, e.g. User-Agent
 * or a Content-Length the HTTP library computes).  They must include
 * exactly one Host, and none of the headers the signer owns:
 * Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256
 * (case-insensitive).  `query` must not contain the X-Amz-* parameters a
 * presigned URL carries. */
struct sigv4_request {
	const char *method;   /* "GET", "POST": 1-16 of A-Z */
	const char *path;     /* as on the request line, starts with '/' */
	const char *query;    /* without the '?'; NULL or "" for none */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body;     /* may be NULL when body_len is 0 */
	size_t body_len;
	bool normalize_path;  /* true except for S3-style *-unnormalized */
};

/* Who signs, where and when.  Everything is borrowed. */
struct sigv4_params {
	const char *access_key_id;         /* not secret; 1-128 of A-Za-z0-9 */
	const struct secret *secret_key;   /* required, non-empty */
	const struct secret *session_token; /* NULL or empty: none */
	const char *region;                /* e.g. "us-east-1": a-z 0-9 - */
	const char *service;               /* e.g. "iam": a-z 0-9 - */
	time_t now;                        /* signing time, UTC epoch seconds */
	/* false (normal, what the SDKs do): the token is signed, as the
	 * x-amz-security-token header or X-Amz-Security-Token parameter.
	 * true (aws-c-auth omit_session_token): it is sent but not signed. */
	bool omit_session_token;
	/* Header form only: add and sign x-amz-content-sha256 (hex sha256 of
	 * the body).  IAM and STS do not want it; S3 does. */
	bool sign_body;
	/* Presign only: X-Amz-Expires, 1..SIGV4_MAX_EXPIRES seconds. */
	unsigned long expires;
};

/* Where the signature goes; selects what the canonical request contains. */
enum sigv4_mode {
	SIGV4_MODE_HEADER, /* X-Amz-Date etc. are signed headers */
	SIGV4_MODE_QUERY,  /* X-Amz-* are signed query parameters */
};

/* Result of sigv4_sign: what to add to the request before sending. */
struct sigv4_auth {
	char *authorization; /* owned (malloc): the Authorization value,
				"AWS4-HMAC-SHA256 Credential=AKID/scope,
				SignedHeaders=a;b, Signature=hex" */
	char amz_date[SIGV4_DATE_LEN + 1];     /* send as X-Amz-Date */
	char signature[SIGV4_SIGNATURE_HEX_LEN + 1];
	/* Send as x-amz-content-sha256 when non-empty (params.sign_body). */
	char content_sha256[SIGV4_SIGNATURE_HEX_LEN + 1];
	/* Send params.session_token as X-Amz-Security-Token when true.  The
	 * token itself is never copied into this struct. */
	bool send_security_token;
};

#define SIGV4_AUTH_INIT { NULL, { 0 }, { 0 }, { 0 }, false }

/* Format `now` as an X-Amz-Date ("%Y%m%dT%H%M%SZ", UTC) into `out`.
 * SESCTL_ERR_INPUT for a time outside years 1970-9999. */
MUST_USE sesctl_err sigv4_format_date(time_t now,
				      char out[SIGV4_DATE_LEN + 1]);

/* The canonical URI of `path` (see the rules above).  On success *out is a
 * malloc'd string the caller frees; on error it is NULL. */
MUST_USE sesctl_err sigv4_canonical_uri(const char *path, bool normalize,
					char **out);

/* The canonical query string of a raw query (NULL or "" gives "").  On
 * success *out is a malloc'd string the caller frees; on error NULL. */
MUST_USE sesctl_err sigv4_canonical_query(const char *query, char **out);

/* The full canonical request for `mode`.  In SIGV4_MODE_QUERY the X-Amz-*
 * parameters (and the token unless omitted) are part of it, and
 * params.expires must be valid.  It can contain the session token, so it
 * is returned in `out` (replaced; the caller secret_free()s it); on error
 * `out` is left empty. */
MUST_USE sesctl_err sigv4_canonical_request(const struct sigv4_request *req,
					    const struct sigv4_params *params,
					    enum sigv4_mode mode,
					    struct secret *out);

/* The string to sign for canonical request `creq` at params.now in
 * params' region and service.  On success *out is a malloc'd string the
 * caller frees; on error NULL. */
MUST_USE sesctl_err sigv4_string_to_sign(const struct sigv4_params *params,
					 const struct secret *creq,
					 char **out);

/* kSigning for params.secret_key, the date of params.now, region and
 * service: HMAC chain over "AWS4"+secret.  The SIGV4_KEY_LEN bytes are put
 * in `out` (replaced; the caller secret_free()s it); on error `out` is left
 * empty.  Every intermediate key is wiped. */
MUST_USE sesctl_err sigv4_signing_key(const struct sigv4_params *params,
				      struct secret *out);

/* Lowercase hex HMAC-SHA256(signing_key, string_to_sign) into `out`.
 * `signing_key` must hold SIGV4_KEY_LEN bytes.  On error `out` is "". */
MUST_USE sesctl_err sigv4_signature(const struct secret *signing_key,
				    const char *string_to_sign,
				    char out[SIGV4_SIGNATURE_HEX_LEN + 1]);

/* Sign `req` in Authorization-header form.  `out` must be SIGV4_AUTH_INIT
 * or released; on success the caller sigv4_auth_release()s it, on error it
 * is left released. */
MUST_USE sesctl_err sigv4_sign(const struct sigv4_request *req,
			       const struct sigv4_params *params,
			       struct sigv4_auth *out);

/* Sign `req` in presigned-URL form.  `query_out` (replaced; the caller
 * secret_free()s it) receives the complete query string to send after
 * '?': the request's parameters in canonical form, X-Amz-Algorithm,
 * -Credential, -Date, -Expires, -SignedHeaders, -Security-Token (when
 * signed), then X-Amz-Signature and, with omit_session_token, the unsigned
 * X-Amz-Security-Token.  It is a secret because it can hold the token.  On
 * error `query_out` is left empty. */
MUST_USE sesctl_err sigv4_presign(const struct sigv4_request *req,
				  const struct sigv4_params *params,
				  struct secret *query_out);

/* Free what sigv4_sign put in `a` and reset it to SIGV4_AUTH_INIT.
 * NULL-safe, idempotent. */
void sigv4_auth_release(struct sigv4_auth *a);

#endif
