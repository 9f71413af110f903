/* sigv4.c - AWS Signature Version 4 signing (see sigv4.h for the rules).
 *
 * Structure after aws-c-auth source/aws_signing.c: canonical request ->
 * string to sign -> signing key -> signature, each a function of its own.
 * Every buffer the module grows is a struct secret capped at
 * SIGV4_MAX_TEXT, because the canonical headers and query can carry the
 * session token; non-secret results are copied out as malloc'd strings.
 * No OpenSSL here: hashing goes through crypto.h.
 */
#include "sesctl/aws/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/base/crypto.h"

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

static const char hex_upper[] = "0123456789ABCDEF";

/* Headers the caller must not pass: the signer owns them. */
static const char *const owned_headers[] = {
	"authorization",
	"x-amz-content-sha256",
	"x-amz-date",
	"x-amz-security-token",
};

/* Query parameters the caller must not pass (aws-c-auth
 * s_forbidden_params): they would clash with a presigned URL's. */
static const char *const owned_params[] = {
	"x-amz-algorithm",
	"x-amz-credential",
	"x-amz-date",
	"x-amz-expires",
	"x-amz-security-token",
	"x-amz-signature",
	"x-amz-signedheaders",
};

/* Locale-independent character classes. */

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* The whitespace trimmed from and collapsed inside header values (the
 * set aws-c-auth's aws_isspace uses). */
static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 9110 token characters, the only ones a header name may hold. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ASCII case-insensitive comparison of two byte strings. */
static int ci_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
		  size_t blen)
{
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n; i++) {
		unsigned char ca = to_lower(a[i]), cb = to_lower(b[i]);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (alen == blen)
		return 0;
	return alen < blen ? -1 : 1;
}

static bool ci_equal(const char *a, const unsigned char *b, size_t blen)
{
	return ci_cmp((const unsigned char *)a, strlen(a), b, blen) == 0;
}

static bool in_list(const char *const *list, size_t n, const unsigned char *s,
		    size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ci_equal(list[i], s, len))
			return true;
	return false;
}

/* Growable buffers: struct secret with the module's own hard cap. */

static sesctl_err buf_add(struct secret *b, const void *p, size_t n)
{
	if (n > SIGV4_MAX_TEXT || b->len > SIGV4_MAX_TEXT - n)
		return SESCTL_ERR_INPUT;
	return secret_append(b, p, n);
}

static sesctl_err buf_str(struct secret *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

static sesctl_err buf_byte(struct secret *b, unsigned char c)
{
	return buf_add(b, &c, 1);
}

/* Append `n` bytes, percent-encoding all but the unreserved set (and '/'
 * when keep_slash), with uppercase hex. */
static sesctl_err buf_encode(struct secret *b, const unsigned char *p,
			     size_t n, bool keep_slash)
{
	size_t i, run = 0;
	sesctl_err rc = SESCTL_OK;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		char esc[3];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			run++;
			continue;
		}
		TRY(buf_add(b, p + i - run, run));
		run = 0;
		esc[0] = '%';
		esc[1] = hex_upper[c >> 4];
		esc[2] = hex_upper[c & 0xf];
		TRY(buf_add(b, esc, sizeof(esc)));
	}
	/* Only when there is a run: an empty query name ("=v") comes here
	 * with p == NULL (a scratch buffer never allocated), and NULL + 0 is
	 * undefined in C (found by tests/fuzz/fuzz_sigv4.c). */
	if (run > 0)
		TRY(buf_add(b, p + n - run, run));
out:
	return rc;
}

/* Append the percent-decoding of `n` bytes.  '+' stays '+'; a '%' not
 * followed by two hex digits is kept literally. */
static sesctl_err buf_decode(struct secret *b, const unsigned char *p,
			     size_t n)
{
	size_t i;
	sesctl_err rc = SESCTL_OK;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (p[i] == '%' && i + 2 < n && (hi = hex_val(p[i + 1])) >= 0 &&
		    (lo = hex_val(p[i + 2])) >= 0) {
			TRY(buf_byte(b, (unsigned char)(hi << 4 | lo)));
			i += 2;
			continue;
		}
		TRY(buf_byte(b, p[i]));
	}
out:
	return rc;
}

/* Shorten `b` to `len` bytes, wiping the tail and keeping p[len] == 0. */
static void buf_truncate(struct secret *b, size_t len)
{
	if (!b->p || len >= b->len)
		return;
	secret_wipe(b->p + len, b->len - len);
	b->len = len;
	b->p[len] = 0;
}

/* Copy a buffer out as a malloc'd C string (for non-secret results). */
static sesctl_err buf_dup(const struct secret *b, char **out)
{
	char *s = malloc(b->len + 1);

	if (!s)
		return SESCTL_ERR_NOMEM;
	if (b->len)
		memcpy(s, b->p, b->len);
	s[b->len] = '\0';
	*out = s;
	return SESCTL_OK;
}

/* Bounded strlen: SESCTL_ERR_INPUT for NULL or longer than `max`. */
static sesctl_err bounded_len(const char *s, size_t max, size_t *len)
{
	size_t n;

	if (!s)
		return SESCTL_ERR_INPUT;
	n = strnlen(s, max + 1);
	if (n > max)
		return SESCTL_ERR_INPUT;
	*len = n;
	return SESCTL_OK;
}

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

/* Canonical URI, appended to `out`.  Normalisation follows aws-c-auth
 * s_append_normalized_path: split on '/', drop "" and ".", ".." pops,
 * always one leading '/', keep a trailing '/' if the raw path had one. */
static sesctl_err canonical_uri(const char *path, bool normalize,
				struct secret *out)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t n = 0, i, start, base;
	sesctl_err rc;

	TRY(bounded_len(path, SIGV4_MAX_FIELD, &n));
	ENSURE(n > 0 && path[0] == '/', SESCTL_ERR_INPUT);
	if (!normalize) {
		TRY(buf_encode(out, p, n, true));
		goto out;
	}
	base = out->len;
	for (start = 0; start <= n; start = i + 1) {
		size_t seg;

		for (i = start; i < n && p[i] != '/'; i++)
			;
		seg = i - start;
		if (seg == 0 || (seg == 1 && p[start] == '.'))
			continue;
		if (seg == 2 && p[start] == '.' && p[start + 1] == '.') {
			/* Drop the last "/segment" written (encoded segments
			 * hold no '/'), or nothing at the root. */
			size_t j = out->len;

			while (j > base && out->p[j - 1] != '/')
				j--;
			if (j > base)
				buf_truncate(out, j - 1);
			continue;
		}
		TRY(buf_byte(out, '/'));
		TRY(buf_encode(out, p + start, seg, false));
	}
	if (out->len == base)
		TRY(buf_byte(out, '/'));
	else if (p[n - 1] == '/')
		TRY(buf_byte(out, '/'));
out:
	return rc;
}

sesctl_err sigv4_canonical_uri(const char *path, bool normalize, char **out)
{
	struct secret b = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;

	ENSURE(out, SESCTL_ERR_INPUT);
	*out = NULL;
	TRY(canonical_uri(path, normalize, &b));
	TRY(buf_dup(&b, out));
out:
	secret_free(&b);
	return rc;
}

/* One query parameter: offsets into the arena while it grows, pointers
 * once it is complete. */
struct qparam {
	size_t koff, klen, voff, vlen;
	const unsigned char *k, *v;
};

/* A parameter the signer adds (already unencoded). */
struct qextra {
	const char *name;
	const unsigned char *value;
	size_t len;
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	size_t n;
	int c;

	n = x->klen < y->klen ? x->klen : y->klen;
	c = n ? memcmp(x->k, y->k, n) : 0;
	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	n = x->vlen < y->vlen ? x->vlen : y->vlen;
	c = n ? memcmp(x->v, y->v, n) : 0;
	if (c)
		return c;
	if (x->vlen != y->vlen)
		return x->vlen < y->vlen ? -1 : 1;
	return 0;
}

/* Decode `n` bytes of a raw key or value and append their canonical
 * encoding to the arena; `scratch` is reused.  When `key` is set, a
 * signer-owned parameter name is refused. */
static sesctl_err add_component(struct secret *arena, struct secret *scratch,
				const unsigned char *raw, size_t n, bool key,
				size_t *off, size_t *len)
{
	sesctl_err rc;

	secret_clear(scratch);
	TRY(buf_decode(scratch, raw, n));
	if (key)
		ENSURE(!in_list(owned_params,
				sizeof(owned_params) / sizeof(owned_params[0]),
				scratch->p ? scratch->p
					   : (const unsigned char *)"",
				scratch->len),
		       SESCTL_ERR_INPUT);
	*off = arena->len;
	TRY(buf_encode(arena, scratch->p, scratch->len, false));
	*len = arena->len - *off;
out:
	return rc;
}

/* Canonical query string of raw `query` plus `extra` (the presign
 * parameters), appended to `out`. */
static sesctl_err canonical_query(const char *query,
				  const struct qextra *extra, size_t n_extra,
				  struct secret *out)
{
	struct qparam *ps = NULL;
	struct secret arena = SECRET_INIT, scratch = SECRET_INIT;
	const unsigned char *s, *base;
	size_t np = 0, i, qlen = 0;
	sesctl_err rc = SESCTL_OK;

	if (query)
		TRY(bounded_len(query, SIGV4_MAX_FIELD, &qlen));
	ps = calloc(SIGV4_MAX_QUERY_PARAMS, sizeof(*ps));
	ENSURE(ps, SESCTL_ERR_NOMEM);

	s = (const unsigned char *)(query ? query : "");
	while (qlen > 0) {
		const unsigned char *amp = memchr(s, '&', qlen);
		size_t seg = amp ? (size_t)(amp - s) : qlen;

		if (seg > 0) {
			const unsigned char *eq = memchr(s, '=', seg);
			size_t klen = eq ? (size_t)(eq - s) : seg;
			struct qparam *q;

			ENSURE(np < SIGV4_MAX_QUERY_PARAMS, SESCTL_ERR_INPUT);
			q = &ps[np++];
			TRY(add_component(&arena, &scratch, s, klen, true,
					  &q->koff, &q->klen));
			if (eq) {
				TRY(add_component(&arena, &scratch, eq + 1,
						  seg - klen - 1, false,
						  &q->voff, &q->vlen));
			} else {
				q->voff = arena.len;
				q->vlen = 0;
			}
		}
		s += seg;
		qlen -= seg;
		if (qlen > 0) { /* skip the '&' */
			s++;
			qlen--;
		}
	}
	for (i = 0; i < n_extra; i++) {
		struct qparam *q;

		ENSURE(np < SIGV4_MAX_QUERY_PARAMS, SESCTL_ERR_INPUT);
		q = &ps[np++];
		q->koff = arena.len;
		TRY(buf_encode(&arena, (const unsigned char *)extra[i].name,
			       strlen(extra[i].name), false));
		q->klen = arena.len - q->koff;
		q->voff = arena.len;
		TRY(buf_encode(&arena, extra[i].value, extra[i].len, false));
		q->vlen = arena.len - q->voff;
	}

	/* The arena no longer moves: turn offsets into pointers and sort. */
	base = arena.p ? arena.p : (const unsigned char *)"";
	for (i = 0; i < np; i++) {
		ps[i].k = base + ps[i].koff;
		ps[i].v = base + ps[i].voff;
	}
	if (np > 1)
		qsort(ps, np, sizeof(*ps), qparam_cmp);
	for (i = 0; i < np; i++) {
		if (i > 0)
			TRY(buf_byte(out, '&'));
		TRY(buf_add(out, ps[i].k, ps[i].klen));
		TRY(buf_byte(out, '='));
		TRY(buf_add(out, ps[i].v, ps[i].vlen));
	}
out:
	free(ps);
	secret_free(&arena);
	secret_free(&scratch);
	return rc;
}

sesctl_err sigv4_canonical_query(const char *query, char **out)
{
	struct secret b = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;

	ENSURE(out, SESCTL_ERR_INPUT);
	*out = NULL;
	TRY(canonical_query(query, NULL, 0, &b));
	TRY(buf_dup(&b, out));
out:
	secret_free(&b);
	return rc;
}

/* A header to canonicalise; `idx` keeps the sort stable so repeated
 * headers keep their order of appearance. */
struct hdr {
	const unsigned char *name;
	size_t nlen;
	const unsigned char *value;
	size_t vlen;
	size_t idx;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = ci_cmp(x->name, x->nlen, y->name, y->nlen);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Append a header value trimmed, with whitespace runs collapsed. */
static sesctl_err add_trimmed(struct secret *b, const unsigned char *v,
			      size_t n)
{
	bool wrote = false, pending = false;
	size_t i;
	sesctl_err rc = SESCTL_OK;

	for (i = 0; i < n; i++) {
		if (is_space(v[i])) {
			pending = wrote;
			continue;
		}
		if (pending)
			TRY(buf_byte(b, ' '));
		pending = false;
		TRY(buf_byte(b, v[i]));
		wrote = true;
	}
out:
	return rc;
}

/* Canonical header block ("name:value\n" per name) and the signed header
 * list ("a;b;c") of sorted `h`. */
static sesctl_err canonical_headers(struct hdr *h, size_t n,
				    struct secret *block, struct secret *sig)
{
	size_t i, j;
	sesctl_err rc = SESCTL_OK;

	qsort(h, n, sizeof(*h), hdr_cmp);
	for (i = 0; i < n; i++) {
		bool repeat = i > 0 && ci_cmp(h[i - 1].name, h[i - 1].nlen,
					      h[i].name, h[i].nlen) == 0;

		if (repeat) {
			TRY(buf_byte(block, ','));
		} else {
			if (i > 0) {
				TRY(buf_byte(block, '\n'));
				TRY(buf_byte(sig, ';'));
			}
			for (j = 0; j < h[i].nlen; j++) {
				TRY(buf_byte(block, to_lower(h[i].name[j])));
				TRY(buf_byte(sig, to_lower(h[i].name[j])));
			}
			TRY(buf_byte(block, ':'));
		}
		TRY(add_trimmed(block, h[i].value, h[i].vlen));
	}
	if (n > 0)
		TRY(buf_byte(block, '\n'));
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
