/* sigv4.c - AWS Signature Version 4 signing (see sigv4.h for the rules).
 *
 * Structure after aws-c-auth source/aws_signing.c: canonical request ->
 * string to sign -> signing key -> signature, each a function of its own.
 * Every buffer the module grows is a struct secret capped at
 * SIGV4_MAX_TEXT, because the canonical headers and query can carry the
 * session token; non-secret results are copied out as malloc'd strings.
 * No OpenSSL here: hashing goes through crypto.h.  The canonical forms of
 * the request's parts, and the buffers and character classes they are
 * written with, are in sigv4_canon.c (sigv4_int.h).
 */
#include "sesctl/aws/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/base/crypto.h"

#include "sigv4_int.h"

#define SCOPE_TERMINATOR "aws4_request"
#define DATE8_LEN 8
/* "yyyymmdd/" region "/" service "/aws4_request" and the NUL */
#define SCOPE_SIZE (DATE8_LEN + 1 + SIGV4_MAX_SCOPE_PART + 1 + \
		    SIGV4_MAX_SCOPE_PART + 1 + sizeof(SCOPE_TERMINATOR))
#define CREDENTIAL_SIZE (SIGV4_MAX_ID + 1 + SCOPE_SIZE)
#define METHOD_MAX 16
/* Headers the signer adds itself: x-amz-date, x-amz-security-token,
 * x-amz-content-sha256. */
#define SIGNER_HEADERS 3
/* Query parameters the signer adds when presigning. */
#define SIGNER_PARAMS 6

/* Headers the caller must not pass: the signer owns them. */
static const char *const owned_headers[] = {
	"authorization",
	"x-amz-content-sha256",
	"x-amz-date",
	"x-amz-security-token",
};

/* Validation. */

static sesctl_err check_id(const char *s)
{
	size_t i, n = 0;
	sesctl_err rc;

	TRY(bounded_len(s, SIGV4_MAX_ID, &n));
	ENSURE(n > 0, SESCTL_ERR_INPUT);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		ENSURE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			       (c >= '0' && c <= '9'),
		       SESCTL_ERR_INPUT);
	}
out:
	return rc;
}

/* Region and service go into the credential scope between '/'s. */
static sesctl_err check_scope_part(const char *s)
{
	size_t i, n = 0;
	sesctl_err rc;

	TRY(bounded_len(s, SIGV4_MAX_SCOPE_PART, &n));
	ENSURE(n > 0, SESCTL_ERR_INPUT);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		ENSURE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			       c == '-',
		       SESCTL_ERR_INPUT);
	}
out:
	return rc;
}

/* The session token, if any; NULL when absent or empty. */
static const struct secret *token_of(const struct sigv4_params *p)
{
	if (!p->session_token || p->session_token->len == 0 ||
	    !p->session_token->p)
		return NULL;
	return p->session_token;
}

static sesctl_err check_params(const struct sigv4_params *p)
{
	const struct secret *tok;
	size_t i;
	sesctl_err rc = SESCTL_OK;

	ENSURE(p, SESCTL_ERR_INPUT);
	TRY(check_id(p->access_key_id));
	TRY(check_scope_part(p->region));
	TRY(check_scope_part(p->service));
	tok = token_of(p);
	if (tok) {
		/* It goes into a header: printable ASCII only. */
		ENSURE(tok->len <= SIGV4_MAX_TOKEN, SESCTL_ERR_INPUT);
		for (i = 0; i < tok->len; i++)
			ENSURE(tok->p[i] >= 0x20 && tok->p[i] < 0x7f,
			       SESCTL_ERR_INPUT);
	}
out:
	return rc;
}

static sesctl_err check_secret_key(const struct secret *k)
{
	if (!k || !k->p || k->len == 0 || k->len > SIGV4_MAX_SECRET_KEY)
		return SESCTL_ERR_INPUT;
	return SESCTL_OK;
}

static sesctl_err check_header(const struct sigv4_header *h, bool *is_host)
{
	size_t i, nlen = 0, vlen = 0;
	sesctl_err rc;

	TRY(bounded_len(h->name, SIGV4_MAX_HEADER_NAME, &nlen));
	ENSURE(nlen > 0, SESCTL_ERR_INPUT);
	for (i = 0; i < nlen; i++)
		ENSURE(is_tchar((unsigned char)h->name[i]), SESCTL_ERR_INPUT);
	ENSURE(!in_list(owned_headers,
			sizeof(owned_headers) / sizeof(owned_headers[0]),
			(const unsigned char *)h->name, nlen),
	       SESCTL_ERR_INPUT);
	TRY(bounded_len(h->value, SIGV4_MAX_FIELD, &vlen));
	/* Whitespace (including the CR LF of a folded line) is collapsed;
	 * any other control character is refused. */
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)h->value[i];

		ENSURE((c >= 0x20 && c != 0x7f) || is_space(c),
		       SESCTL_ERR_INPUT);
	}
	*is_host = ci_equal("host", (const unsigned char *)h->name, nlen);
	if (*is_host) {
		for (i = 0; i < vlen && is_space((unsigned char)h->value[i]);
		     i++)
			;
		ENSURE(i < vlen, SESCTL_ERR_INPUT);
	}
out:
	return rc;
}

static sesctl_err check_request(const struct sigv4_request *req)
{
	size_t i, n = 0, hosts = 0;
	sesctl_err rc = SESCTL_OK;

	ENSURE(req, SESCTL_ERR_INPUT);
	TRY(bounded_len(req->method, METHOD_MAX, &n));
	ENSURE(n > 0, SESCTL_ERR_INPUT);
	for (i = 0; i < n; i++)
		ENSURE(req->method[i] >= 'A' && req->method[i] <= 'Z',
		       SESCTL_ERR_INPUT);
	TRY(bounded_len(req->path, SIGV4_MAX_FIELD, &n));
	ENSURE(n > 0 && req->path[0] == '/', SESCTL_ERR_INPUT);
	if (req->query)
		TRY(bounded_len(req->query, SIGV4_MAX_FIELD, &n));
	ENSURE(req->n_headers <= SIGV4_MAX_HEADERS, SESCTL_ERR_INPUT);
	ENSURE(req->n_headers == 0 || req->headers, SESCTL_ERR_INPUT);
	for (i = 0; i < req->n_headers; i++) {
		bool is_host = false;

		TRY(check_header(&req->headers[i], &is_host));
		if (is_host)
			hosts++;
	}
	/* Host is always signed, and must be unambiguous. */
	ENSURE(hosts == 1, SESCTL_ERR_INPUT);
	ENSURE(req->body_len <= SIGV4_MAX_BODY, SESCTL_ERR_INPUT);
	ENSURE(req->body_len == 0 || req->body, SESCTL_ERR_INPUT);
out:
	return rc;
}

sesctl_err sigv4_format_date(time_t now, char out[SIGV4_DATE_LEN + 1])
{
	struct tm tm;
	int n;

	out[0] = '\0';
	if (!gmtime_r(&now, &tm))
		return SESCTL_ERR_INPUT;
	if (tm.tm_year < 70 || tm.tm_year > 9999 - 1900)
		return SESCTL_ERR_INPUT;
	n = snprintf(out, SIGV4_DATE_LEN + 1, "%04d%02d%02dT%02d%02d%02dZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec);
	if (n != SIGV4_DATE_LEN) {
		out[0] = '\0';
		return SESCTL_ERR_INPUT;
	}
	return SESCTL_OK;
}

/* "yyyymmdd/region/service/aws4_request" into scope[SCOPE_SIZE]. */
static sesctl_err make_scope(const struct sigv4_params *p,
			     const char *amz_date, char *scope)
{
	int n = snprintf(scope, SCOPE_SIZE, "%.8s/%s/%s/%s", amz_date,
			 p->region, p->service, SCOPE_TERMINATOR);

	if (n < 0 || (size_t)n >= SCOPE_SIZE)
		return SESCTL_ERR_INPUT;
	return SESCTL_OK;
}

/* "AKID/scope" into cred[CREDENTIAL_SIZE]. */
static sesctl_err make_credential(const struct sigv4_params *p,
				  const char *amz_date, char *cred)
{
	char scope[SCOPE_SIZE];
	int n;
	sesctl_err rc;

	TRY(make_scope(p, amz_date, scope));
	n = snprintf(cred, CREDENTIAL_SIZE, "%s/%s", p->access_key_id, scope);
	ENSURE(n >= 0 && (size_t)n < CREDENTIAL_SIZE, SESCTL_ERR_INPUT);
out:
	return rc;
}

/* Everything the later stages need from one canonicalisation. */
struct canon {
	struct secret creq;           /* the canonical request */
	struct secret query;          /* its canonical query string */
	struct secret signed_headers; /* "host;x-amz-date" */
	char amz_date[SIGV4_DATE_LEN + 1];
	char payload_hex[CRYPTO_SHA256_HEX_LEN + 1];
	char credential[CREDENTIAL_SIZE];
};

static void canon_free(struct canon *c)
{
	secret_free(&c->creq);
	secret_free(&c->query);
	secret_free(&c->signed_headers);
	c->amz_date[0] = '\0';
	c->payload_hex[0] = '\0';
	c->credential[0] = '\0';
}

static sesctl_err canon_build(const struct sigv4_request *req,
			      const struct sigv4_params *p,
			      enum sigv4_mode mode, struct canon *c)
{
	struct hdr h[SIGV4_MAX_HEADERS + SIGNER_HEADERS];
	struct qextra extra[SIGNER_PARAMS];
	struct secret block = SECRET_INIT;
	unsigned char digest[CRYPTO_SHA256_LEN];
	char expires[24];
	const struct secret *tok;
	size_t nh = 0, nx = 0, i;
	bool query_mode;
	int n;
	sesctl_err rc = SESCTL_OK;

	memset(c, 0, sizeof(*c));
	switch (mode) {
	case SIGV4_MODE_HEADER:
		query_mode = false;
		break;
	case SIGV4_MODE_QUERY:
		query_mode = true;
		break;
	default:
		rc = SESCTL_ERR_INPUT;
		goto out;
	}
	TRY(check_params(p));
	TRY(check_request(req));
	if (query_mode)
		ENSURE(p->expires >= 1 && p->expires <= SIGV4_MAX_EXPIRES,
		       SESCTL_ERR_INPUT);
	tok = token_of(p);
	TRY(sigv4_format_date(p->now, c->amz_date));
	TRY(make_credential(p, c->amz_date, c->credential));
	TRY(crypto_sha256(req->body, req->body_len, digest));
	crypto_hex(digest, sizeof(digest), c->payload_hex);

	/* Headers: the caller's, then (header form) the signer's own. */
	for (i = 0; i < req->n_headers; i++, nh++) {
		h[nh].name = (const unsigned char *)req->headers[i].name;
		h[nh].nlen = strlen(req->headers[i].name);
		h[nh].value = (const unsigned char *)req->headers[i].value;
		h[nh].vlen = strlen(req->headers[i].value);
		h[nh].idx = nh;
	}
	if (!query_mode) {
		h[nh] = (struct hdr){ (const unsigned char *)"x-amz-date", 10,
				      (const unsigned char *)c->amz_date,
				      SIGV4_DATE_LEN, nh };
		nh++;
		if (tok && !p->omit_session_token) {
			h[nh] = (struct hdr){
				(const unsigned char *)"x-amz-security-token",
				20, tok->p, tok->len, nh };
			nh++;
		}
		if (p->sign_body) {
			h[nh] = (struct hdr){
				(const unsigned char *)"x-amz-content-sha256",
				20, (const unsigned char *)c->payload_hex,
				CRYPTO_SHA256_HEX_LEN, nh };
			nh++;
		}
	}
	TRY(canonical_headers(h, nh, &block, &c->signed_headers));

	/* Query: the caller's, then (query form) the X-Amz-* parameters. */
	if (query_mode) {
		n = snprintf(expires, sizeof(expires), "%lu", p->expires);
		ENSURE(n > 0 && (size_t)n < sizeof(expires), SESCTL_ERR_INPUT);
		extra[nx++] = (struct qextra){ "X-Amz-Algorithm",
			(const unsigned char *)SIGV4_ALGORITHM,
			strlen(SIGV4_ALGORITHM) };
		extra[nx++] = (struct qextra){ "X-Amz-Credential",
			(const unsigned char *)c->credential,
			strlen(c->credential) };
		extra[nx++] = (struct qextra){ "X-Amz-Date",
			(const unsigned char *)c->amz_date, SIGV4_DATE_LEN };
		extra[nx++] = (struct qextra){ "X-Amz-Expires",
			(const unsigned char *)expires, (size_t)n };
		extra[nx++] = (struct qextra){ "X-Amz-SignedHeaders",
			c->signed_headers.p, c->signed_headers.len };
		if (tok && !p->omit_session_token)
			extra[nx++] = (struct qextra){ "X-Amz-Security-Token",
						       tok->p, tok->len };
	}
	TRY(canonical_query(req->query, extra, nx, &c->query));

	/* METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n PAYLOAD */
	TRY(buf_str(&c->creq, req->method));
	TRY(buf_byte(&c->creq, '\n'));
	TRY(canonical_uri(req->path, req->normalize_path, &c->creq));
	TRY(buf_byte(&c->creq, '\n'));
	TRY(buf_add(&c->creq, c->query.p, c->query.len));
	TRY(buf_byte(&c->creq, '\n'));
	TRY(buf_add(&c->creq, block.p, block.len));
	TRY(buf_byte(&c->creq, '\n'));
	TRY(buf_add(&c->creq, c->signed_headers.p, c->signed_headers.len));
	TRY(buf_byte(&c->creq, '\n'));
	TRY(buf_str(&c->creq, c->payload_hex));
out:
	secret_free(&block);
	if (rc != SESCTL_OK)
		canon_free(c);
	return rc;
}

sesctl_err sigv4_canonical_request(const struct sigv4_request *req,
				   const struct sigv4_params *params,
				   enum sigv4_mode mode, struct secret *out)
{
	struct canon c;
	sesctl_err rc = SESCTL_OK;

	memset(&c, 0, sizeof(c));
	ENSURE(out, SESCTL_ERR_INPUT);
	secret_free(out);
	TRY(canon_build(req, params, mode, &c));
	*out = c.creq;
	c.creq = (struct secret)SECRET_INIT;
out:
	canon_free(&c);
	return rc;
}

/* String to sign for `creq` (any length, may be empty) at amz_date. */
static sesctl_err string_to_sign(const struct sigv4_params *p,
				 const char *amz_date,
				 const unsigned char *creq, size_t len,
				 char **out)
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	char scope[SCOPE_SIZE];
	char *s = NULL;
	size_t size;
	int n;
	sesctl_err rc;

	TRY(make_scope(p, amz_date, scope));
	TRY(crypto_sha256(creq, len, digest));
	crypto_hex(digest, sizeof(digest), hex);
	size = sizeof(SIGV4_ALGORITHM) + SIGV4_DATE_LEN + 1 + strlen(scope) +
	       1 + CRYPTO_SHA256_HEX_LEN + 1;
	s = malloc(size);
	ENSURE(s, SESCTL_ERR_NOMEM);
	n = snprintf(s, size, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, amz_date,
		     scope, hex);
	ENSURE(n >= 0 && (size_t)n < size, SESCTL_ERR_INPUT);
	*out = s;
	s = NULL;
out:
	free(s);
	return rc;
}

sesctl_err sigv4_string_to_sign(const struct sigv4_params *params,
				const struct secret *creq, char **out)
{
	char amz_date[SIGV4_DATE_LEN + 1];
	sesctl_err rc = SESCTL_OK;

	ENSURE(out, SESCTL_ERR_INPUT);
	*out = NULL;
	ENSURE(creq && (creq->p || creq->len == 0), SESCTL_ERR_INPUT);
	ENSURE(creq->len <= SIGV4_MAX_TEXT, SESCTL_ERR_INPUT);
	TRY(check_params(params));
	TRY(sigv4_format_date(params->now, amz_date));
	TRY(string_to_sign(params, amz_date, creq->p, creq->len, out));
out:
	return rc;
}

sesctl_err sigv4_signing_key(const struct sigv4_params *params,
			     struct secret *out)
{
	struct secret k_secret = SECRET_INIT; /* "AWS4" + secret key */
	unsigned char k_date[CRYPTO_SHA256_LEN];
	unsigned char k_region[CRYPTO_SHA256_LEN];
	unsigned char k_service[CRYPTO_SHA256_LEN];
	unsigned char k_signing[CRYPTO_SHA256_LEN];
	char amz_date[SIGV4_DATE_LEN + 1];
	sesctl_err rc = SESCTL_OK;

	ENSURE(out, SESCTL_ERR_INPUT);
	secret_free(out);
	TRY(check_params(params));
	TRY(check_secret_key(params->secret_key));
	TRY(sigv4_format_date(params->now, amz_date));

	TRY(secret_alloc(&k_secret, 4 + params->secret_key->len));
	TRY(secret_append(&k_secret, "AWS4", 4));
	TRY(secret_append(&k_secret, params->secret_key->p,
			  params->secret_key->len));
	TRY(crypto_hmac_sha256(k_secret.p, k_secret.len, amz_date, DATE8_LEN,
			       k_date));
	TRY(crypto_hmac_sha256(k_date, sizeof(k_date), params->region,
			       strlen(params->region), k_region));
	TRY(crypto_hmac_sha256(k_region, sizeof(k_region), params->service,
			       strlen(params->service), k_service));
	TRY(crypto_hmac_sha256(k_service, sizeof(k_service), SCOPE_TERMINATOR,
			       strlen(SCOPE_TERMINATOR), k_signing));
	TRY(secret_set(out, k_signing, sizeof(k_signing)));
out:
	secret_free(&k_secret);
	secret_wipe(k_date, sizeof(k_date));
	secret_wipe(k_region, sizeof(k_region));
	secret_wipe(k_service, sizeof(k_service));
	secret_wipe(k_signing, sizeof(k_signing));
	if (rc != SESCTL_OK && out)
		secret_free(out);
	return rc;
}

sesctl_err sigv4_signature(const struct secret *signing_key,
			   const char *string_to_sign,
			   char out[SIGV4_SIGNATURE_HEX_LEN + 1])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	size_t len = 0;
	sesctl_err rc = SESCTL_OK;

	ENSURE(out, SESCTL_ERR_INPUT);
	out[0] = '\0';
	ENSURE(signing_key && signing_key->p &&
		       signing_key->len == SIGV4_KEY_LEN,
	       SESCTL_ERR_INPUT);
	TRY(bounded_len(string_to_sign, SIGV4_MAX_TEXT, &len));
	TRY(crypto_hmac_sha256(signing_key->p, signing_key->len,
			       string_to_sign, len, mac));
	crypto_hex(mac, sizeof(mac), out);
out:
	secret_wipe(mac, sizeof(mac));
	return rc;
}

/* Canonicalise and sign: the stages in order. */
static sesctl_err sign_canon(const struct sigv4_request *req,
			     const struct sigv4_params *p,
			     enum sigv4_mode mode, struct canon *c,
			     char sig[SIGV4_SIGNATURE_HEX_LEN + 1])
{
	struct secret key = SECRET_INIT;
	char *sts = NULL;
	sesctl_err rc;

	TRY(canon_build(req, p, mode, c));
	TRY(string_to_sign(p, c->amz_date, c->creq.p, c->creq.len, &sts));
	TRY(sigv4_signing_key(p, &key));
	TRY(sigv4_signature(&key, sts, sig));
out:
	secret_free(&key);
	free(sts);
	return rc;
}

sesctl_err sigv4_sign(const struct sigv4_request *req,
		      const struct sigv4_params *params,
		      struct sigv4_auth *out)
{
	static const char cred_pre[] = SIGV4_ALGORITHM " Credential=";
	static const char sh_pre[] = ", SignedHeaders=";
	static const char sig_pre[] = ", Signature=";
	struct canon c;
	size_t size;
	int n;
	sesctl_err rc = SESCTL_OK;

	memset(&c, 0, sizeof(c));
	ENSURE(out, SESCTL_ERR_INPUT);
	*out = (struct sigv4_auth)SIGV4_AUTH_INIT;
	TRY(sign_canon(req, params, SIGV4_MODE_HEADER, &c, out->signature));

	size = sizeof(cred_pre) + strlen(c.credential) + sizeof(sh_pre) +
	       c.signed_headers.len + sizeof(sig_pre) +
	       SIGV4_SIGNATURE_HEX_LEN;
	out->authorization = malloc(size);
	ENSURE(out->authorization, SESCTL_ERR_NOMEM);
	n = snprintf(out->authorization, size, "%s%s%s%s%s%s", cred_pre,
		     c.credential, sh_pre, secret_str(&c.signed_headers),
		     sig_pre, out->signature);
	ENSURE(n >= 0 && (size_t)n < size, SESCTL_ERR_INPUT);
	memcpy(out->amz_date, c.amz_date, sizeof(out->amz_date));
	if (params->sign_body)
		memcpy(out->content_sha256, c.payload_hex,
		       sizeof(out->content_sha256));
	out->send_security_token = token_of(params) != NULL;
out:
	canon_free(&c);
	if (rc != SESCTL_OK && out)
		sigv4_auth_release(out);
	return rc;
}

sesctl_err sigv4_presign(const struct sigv4_request *req,
			 const struct sigv4_params *params,
			 struct secret *query_out)
{
	struct canon c;
	struct secret q = SECRET_INIT;
	const struct secret *tok;
	char sig[SIGV4_SIGNATURE_HEX_LEN + 1];
	sesctl_err rc = SESCTL_OK;

	memset(&c, 0, sizeof(c));
	ENSURE(query_out, SESCTL_ERR_INPUT);
	secret_free(query_out);
	TRY(sign_canon(req, params, SIGV4_MODE_QUERY, &c, sig));

	TRY(buf_add(&q, c.query.p, c.query.len));
	TRY(buf_str(&q, "&X-Amz-Signature="));
	TRY(buf_str(&q, sig));
	tok = token_of(params);
	if (tok && params->omit_session_token) {
		TRY(buf_str(&q, "&X-Amz-Security-Token="));
		TRY(buf_encode(&q, tok->p, tok->len, false));
	}
	*query_out = q;
	q = (struct secret)SECRET_INIT;
out:
	canon_free(&c);
	secret_free(&q);
	return rc;
}

void sigv4_auth_release(struct sigv4_auth *a)
{
	if (!a)
		return;
	free(a->authorization);
	*a = (struct sigv4_auth)SIGV4_AUTH_INIT;
}
