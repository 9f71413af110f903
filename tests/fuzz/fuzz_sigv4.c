/* fuzz_sigv4.c - libFuzzer target over SigV4 canonicalisation and signing:
 * sigv4_canonical_uri (both normalize modes), sigv4_canonical_query,
 * sigv4_canonical_request (both modes), sigv4_sign and sigv4_presign, with
 * the fixed credentials, region, service and time of the AWS suite.
 *
 * Built by Meson with -Dfuzz=true (see tests/fuzz/meson.build for the
 * setup command); tests/fuzz/run-fuzzers builds and runs it on a copy of
 * tests/fuzz/corpus/sigv4, which tests/fuzz/make_sigv4_corpus.py makes from
 * the aws-c-auth request.txt files.
 *
 * Input: one flags byte, then a raw request as in request.txt:
 *
 *   METHOD SP path ['?' query] LF   request line without " HTTP/1.1";
 *                                    the path may hold spaces, not '?'
 *   name:value LF                    a header, any number of them
 *   (SP or HT) more LF               continues the previous value, with
 *                                    the line break kept
 *   LF                               end of the headers
 *   body bytes                       the rest of the input
 *
 * The flags: 0x01 normalize_path, 0x02 a session token, 0x04
 * omit_session_token, 0x08 sign_body; other bits are ignored, so the seeds
 * use '@' (0x40) plus the flags and stay printable.  A header line without
 * ':' is a name with an empty value; lines past SIGV4_MAX_HEADERS + 2 are
 * dropped; a NUL byte ends the string it falls in.
 *
 * Checks beyond the sanitizers (the failing one is printed before abort):
 *  - every call, made twice, gives the same result (determinism);
 *  - an error leaves the output NULL, empty or SIGV4_AUTH_INIT;
 *  - canonical URI: '/' first, only unreserved, '/' and %XX (uppercase
 *    hex); unnormalized it percent-decodes back to the path; normalized it
 *    holds no "//", "/./" or "/../" and decodes to the path as normalised
 *    by a separate reference here; it fails only for an invalid path;
 *  - canonical query: '&'-separated name=value pairs of unreserved and
 *    %XX, sorted by name then value, no empty pair, and canonicalising it
 *    again gives it back; within the size and count limits it cannot
 *    fail without a '%' or an "x-amz-" in it;
 *  - canonical request: exactly the expected one, rebuilt here from the
 *    parts above and a reference header canonicalisation (lowercase names
 *    sorted, values trimmed and whitespace runs collapsed, repeats joined
 *    with ','); presigned, its query is the plain canonical query with
 *    the signer's X-Amz-* parameters merged in, each exactly once and
 *    with the expected value; within SIGV4_MAX_TEXT it succeeds exactly
 *    when the request is valid by the rules in sigv4.h;
 *  - sigv4_sign and sigv4_presign succeed exactly when the canonical
 *    request does, their signature is 64 lowercase hex and equal to the
 *    stage-by-stage one (string to sign, signing key, signature), and the
 *    Authorization value and presigned query are exactly as documented.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/base/crypto.h"
#include "sesctl/base/secret.h"
#include "sesctl/aws/sigv4.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                     \
	do {                                                         \
		if (!(c)) {                                          \
			fprintf(stderr, "fuzz_sigv4.c:%d: check "     \
				"failed: %s\n", __LINE__, #c);       \
			abort();                                     \
		}                                                    \
	} while (0)

#define F_NORMALIZE 0x01
#define F_TOKEN 0x02
#define F_OMIT_TOKEN 0x04
#define F_SIGN_BODY 0x08

/* Two more than allowed, so the limit is reached. */
#define REQ_HEADERS (SIGV4_MAX_HEADERS + 2)
/* The caller's headers plus the three the signer adds. */
#define ALL_HEADERS (REQ_HEADERS + 3)

/* Above this input size the canonical request of a valid request could
 * pass SIGV4_MAX_TEXT, so validity no longer implies success. */
#define VALIDITY_MAX_INPUT (SIGV4_MAX_TEXT / 4)

/* The AWS suite's credentials and time (tests/vectors/sigv4/README.md). */
#define AKID "AKIDEXAMPLE"
#define NOW ((time_t)1440938160)
#define AMZ_DATE "20150830T123600Z"
#define REGION "us-east-1"
#define SERVICE "service"
#define CREDENTIAL AKID "/20150830/" REGION "/" SERVICE "/aws4_request"
#define EXPIRES 3600

static const char secret_key[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char token[] =
	"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ"
	"WLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcG"
	"dQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75Y"
	"U9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz"
	"+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

static struct secret key = SECRET_INIT;
static struct secret tok = SECRET_INIT;

/* ------------------------------------------------------------------ */
/* A small growable string for the expected values.                    */

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const void *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;

		while (cap < t->len + n + 1)
			cap *= 2;
		t->p = realloc(t->p, cap);
		CHECK(t->p != NULL);
		t->cap = cap;
	}
	if (n)
		memcpy(t->p + t->len, p, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_byte(struct text *t, char c)
{
	text_add(t, &c, 1);
}

static void text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = t->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Character classes and encoding, written independently of sigv4.c.   */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static bool upper_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static bool lower_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < SIGV4_SIGNATURE_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

static bool http_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Only unreserved bytes, '%' and two uppercase hex digits, and (with
 * slash) '/'. */
static bool well_encoded(const char *s, size_t n, bool slash)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (slash && c == '/'))
			continue;
		if (c != '%' || i + 2 >= n ||
		    !upper_hex((unsigned char)s[i + 1]) ||
		    !upper_hex((unsigned char)s[i + 2]))
			return false;
		i += 2;
	}
	return true;
}

static int hex_digit(char c)
{
	return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* Decode a well_encoded() string. */
static void pct_decode(const char *s, size_t n, struct text *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			text_byte(out, (char)(hex_digit(s[i + 1]) << 4 |
					      hex_digit(s[i + 2])));
			i += 2;
		} else {
			text_byte(out, s[i]);
		}
	}
	if (!out->p)
		text_add(out, "", 0);
}

static void pct_encode(const char *s, size_t n, struct text *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (unreserved(c))
			text_byte(out, (char)c);
		else
			text_add(out, esc, sizeof(esc));
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Case-insensitive substring search (ASCII). */
static bool ci_contains(const char *s, const char *needle)
{
	size_t i, j, n = strlen(s), m = strlen(needle);

	for (i = 0; i + m <= n; i++) {
		for (j = 0; j < m && lower(s[i + j]) == needle[j]; j++)
			;
		if (j == m)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* The input.                                                          */

struct input {
	char *text; /* NUL-terminated copy, cut up in place */
	unsigned flags;
	const char *method, *path, *query;
	struct sigv4_header headers[REQ_HEADERS];
	size_t n_headers;
	const unsigned char *body;
	size_t body_len;
};

static void parse_input(const uint8_t *data, size_t size, struct input *in)
{
	char *s, *end, *line, *next, *sp, *q;

	memset(in, 0, sizeof(*in));
	in->text = malloc(size + 1);
	CHECK(in->text != NULL);
	memcpy(in->text, data, size);
	in->text[size] = '\0';
	in->flags = data[0];
	s = in->text + 1;
	end = in->text + size;

	/* Head and body. */
	q = memmem(s, (size_t)(end - s), "\n\n", 2);
	if (q) {
		*q = '\0';
		in->body = (const unsigned char *)q + 2;
		in->body_len = (size_t)(end - (q + 2));
		end = q;
	}

	/* The request line. */
	line = s;
	next = memchr(line, '\n', (size_t)(end - line));
	if (next)
		*next++ = '\0';
	in->method = line;
	in->path = "";
	sp = strchr(line, ' ');
	if (sp) {
		*sp = '\0';
		in->path = sp + 1;
		q = strchr(sp + 1, '?');
		if (q) {
			*q = '\0';
			in->query = q + 1;
		}
	}

	/* Headers: a logical line ends at a LF not followed by SP or HT. */
	for (line = next; line && line < end; line = next) {
		char *colon, *nl = line;

		for (;;) {
			nl = memchr(nl, '\n', (size_t)(end - nl));
			if (!nl || nl + 1 >= end ||
			    (nl[1] != ' ' && nl[1] != '\t'))
				break;
			nl++;
		}
		next = NULL;
		if (nl) {
			*nl = '\0';
			next = nl + 1;
		}
		if (line[0] == '\0' || in->n_headers == REQ_HEADERS)
			continue;
		colon = strchr(line, ':');
		in->headers[in->n_headers].name = line;
		in->headers[in->n_headers].value = "";
		if (colon) {
			*colon = '\0';
			in->headers[in->n_headers].value = colon + 1;
		}
		in->n_headers++;
	}
}

static bool has_token(const struct input *in)
{
	return in->flags & F_TOKEN;
}

/* The token is signed (header or parameter). */
static bool signs_token(const struct input *in)
{
	return has_token(in) && !(in->flags & F_OMIT_TOKEN);
}

static void make_params(const struct input *in, struct sigv4_params *p)
{
	memset(p, 0, sizeof(*p));
	p->access_key_id = AKID;
	p->secret_key = &key;
	p->session_token = has_token(in) ? &tok : NULL;
	p->region = REGION;
	p->service = SERVICE;
	p->now = NOW;
	p->omit_session_token = in->flags & F_OMIT_TOKEN;
	p->sign_body = in->flags & F_SIGN_BODY;
	p->expires = EXPIRES;
}

static void make_request(const struct input *in, struct sigv4_request *r)
{
	memset(r, 0, sizeof(*r));
	r->method = in->method;
	r->path = in->path;
	r->query = in->query;
	r->headers = in->headers;
	r->n_headers = in->n_headers;
	r->body = in->body_len ? in->body : NULL;
	r->body_len = in->body_len;
	r->normalize_path = in->flags & F_NORMALIZE;
}

/* ------------------------------------------------------------------ */
/* Canonical URI.                                                      */

/* The normalised path by the rules in sigv4.h, with a stack of segment
 * starts rather than sigv4.c's rescan for the last '/'. */
static void ref_normalize(const char *path, struct text *out)
{
	size_t n = strlen(path), depth = 0, start, i;
	size_t *stack = calloc(n + 1, sizeof(*stack));

	CHECK(stack != NULL);
	for (start = 0; start <= n; start = i + 1) {
		size_t seg;

		for (i = start; i < n && path[i] != '/'; i++)
			;
		seg = i - start;
		if (seg == 0 || (seg == 1 && path[start] == '.'))
			continue;
		if (seg == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (depth > 0)
				out->len = stack[--depth];
			continue;
		}
		stack[depth++] = out->len;
		text_byte(out, '/');
		text_add(out, path + start, seg);
	}
	if (out->len == 0 || path[n - 1] == '/')
		text_byte(out, '/');
	out->p[out->len] = '\0';
	free(stack);
}

/* sigv4_canonical_uri twice; returns the result (malloc'd) or NULL. */
static char *check_uri(const char *path, bool normalize)
{
	char *a = (char *)"stale", *b = (char *)"stale";
	struct text dec = { 0 }, ref = { 0 };
	sesctl_err ra, rb;
	size_t n, plen = strlen(path);
	bool valid = plen > 0 && path[0] == '/' && plen <= SIGV4_MAX_FIELD;

	ra = sigv4_canonical_uri(path, normalize, &a);
	rb = sigv4_canonical_uri(path, normalize, &b);
	CHECK(ra == rb);
	CHECK(valid == (ra == SESCTL_OK));
	if (ra != SESCTL_OK) {
		CHECK(a == NULL && b == NULL);
		return NULL;
	}
	CHECK(a && b && strcmp(a, b) == 0);
	free(b);

	n = strlen(a);
	CHECK(n > 0 && a[0] == '/');
	CHECK(well_encoded(a, n, true));
	pct_decode(a, n, &dec);
	if (!normalize) {
		CHECK(dec.len == plen && memcmp(dec.p, path, plen) == 0);
	} else {
		CHECK(!strstr(a, "//") && !strstr(a, "/./") &&
		      !strstr(a, "/../"));
		CHECK(!ends_with(a, "/.") && !ends_with(a, "/.."));
		ref_normalize(path, &ref);
		CHECK(dec.len == ref.len && memcmp(dec.p, ref.p, ref.len) == 0);
	}
	text_free(&dec);
	text_free(&ref);
	return a;
}

/* ------------------------------------------------------------------ */
/* Canonical query.                                                    */

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Check the form of a canonical query string; returns the pair count. */
static size_t check_query_form(const char *s)
{
	const char *p = s, *pk = NULL, *pv = NULL;
	size_t n = strlen(s), pairs = 0, pklen = 0, pvlen = 0;

	if (n == 0)
		return 0;
	CHECK(s[0] != '&' && s[n - 1] != '&' && !strstr(s, "&&"));
	while (p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen, vlen;

		CHECK(eq != NULL);
		klen = (size_t)(eq - p);
		vlen = len - klen - 1;
		CHECK(!memchr(eq + 1, '=', vlen));
		CHECK(well_encoded(p, klen, false));
		CHECK(well_encoded(eq + 1, vlen, false));
		if (pk) {
			int c = bytes_cmp(pk, pklen, p, klen);

			if (c == 0)
				c = bytes_cmp(pv, pvlen, eq + 1, vlen);
			CHECK(c <= 0);
		}
		pk = p;
		pklen = klen;
		pv = eq + 1;
		pvlen = vlen;
		pairs++;
		p = amp ? amp + 1 : NULL;
	}
	return pairs;
}

/* sigv4_canonical_query twice; returns the result (malloc'd) or NULL. */
static char *check_query(const char *query, size_t *pairs)
{
	char *a = (char *)"stale", *b = (char *)"stale";
	sesctl_err ra, rb;
	size_t i, amps = 0, qlen = query ? strlen(query) : 0;

	*pairs = 0;
	ra = sigv4_canonical_query(query, &a);
	rb = sigv4_canonical_query(query, &b);
	CHECK(ra == rb);
	/* Without '%' no name can decode to a signer-owned X-Amz-* one. */
	for (i = 0; i < qlen; i++)
		amps += query[i] == '&';
	if (qlen <= SIGV4_MAX_FIELD && amps < SIGV4_MAX_QUERY_PARAMS &&
	    !strchr(query ? query : "", '%') &&
	    !ci_contains(query ? query : "", "x-amz-"))
		CHECK(ra == SESCTL_OK);
	if (ra != SESCTL_OK) {
		CHECK(a == NULL && b == NULL);
		return NULL;
	}
	CHECK(a && b && strcmp(a, b) == 0);
	free(b);

	*pairs = check_query_form(a);
	/* Canonical in, the same out. */
	if (strlen(a) <= SIGV4_MAX_FIELD) {
		CHECK(sigv4_canonical_query(a, &b) == SESCTL_OK);
		CHECK(strcmp(a, b) == 0);
		free(b);
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* Canonical request.                                                  */

static bool tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ci_equal(const char *a, const char *b)
{
	for (; *a && lower(*a) == lower(*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

/* The request is valid by the rules in sigv4.h (the path and query are
 * judged by the separate calls). */
static bool ref_valid(const struct input *in)
{
	static const char *const owned[] = { "authorization",
		"x-amz-content-sha256", "x-amz-date", "x-amz-security-token" };
	size_t i, j, n, hosts = 0;

	n = strlen(in->method);
	if (n == 0 || n > 16)
		return false;
	for (i = 0; i < n; i++)
		if (in->method[i] < 'A' || in->method[i] > 'Z')
			return false;
	if (in->n_headers > SIGV4_MAX_HEADERS)
		return false;
	for (i = 0; i < in->n_headers; i++) {
		const char *name = in->headers[i].name;
		const char *value = in->headers[i].value;
		bool blank = true;

		n = strlen(name);
		if (n == 0 || n > SIGV4_MAX_HEADER_NAME)
			return false;
		for (j = 0; j < n; j++)
			if (!tchar((unsigned char)name[j]))
				return false;
		for (j = 0; j < sizeof(owned) / sizeof(owned[0]); j++)
			if (ci_equal(owned[j], name))
				return false;
		n = strlen(value);
		if (n > SIGV4_MAX_FIELD)
			return false;
		for (j = 0; j < n; j++) {
			unsigned char c = (unsigned char)value[j];

			if ((c < 0x20 || c == 0x7f) && !http_space(c))
				return false;
			blank = blank && http_space(c);
		}
		if (ci_equal("host", name)) {
			if (blank)
				return false;
			hosts++;
		}
	}
	return hosts == 1;
}

/* One header line of the reference block. */
struct ref_header {
	char name[SIGV4_MAX_HEADER_NAME + 1]; /* lowercased */
	const char *value;
	size_t idx;
};

static int ref_header_cmp(const void *a, const void *b)
{
	const struct ref_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A value trimmed, with whitespace runs collapsed: its words joined by
 * single spaces. */
static void ref_trim(const char *v, struct text *out)
{
	bool first = true;

	while (*v) {
		size_t n;

		while (*v && http_space((unsigned char)*v))
			v++;
		for (n = 0; v[n] && !http_space((unsigned char)v[n]); n++)
			;
		if (n == 0)
			break;
		if (!first)
			text_byte(out, ' ');
		text_add(out, v, n);
		first = false;
		v += n;
	}
}

/* The canonical header block and signed-header list of a valid request. */
static void ref_headers(const struct input *in, bool header_mode,
			const char *payload_hex, struct text *block,
			struct text *signed_list)
{
	static struct ref_header h[ALL_HEADERS];
	size_t i, j, n = 0;

	for (i = 0; i < in->n_headers; i++, n++) {
		const char *name = in->headers[i].name;

		CHECK(strlen(name) <= SIGV4_MAX_HEADER_NAME);
		for (j = 0; name[j]; j++)
			h[n].name[j] = lower(name[j]);
		h[n].name[j] = '\0';
		h[n].value = in->headers[i].value;
		h[n].idx = n;
	}
	if (header_mode) {
		h[n] = (struct ref_header){ "x-amz-date", AMZ_DATE, n };
		n++;
		if (signs_token(in)) {
			h[n] = (struct ref_header){ "x-amz-security-token",
						    token, n };
			n++;
		}
		if (in->flags & F_SIGN_BODY) {
			h[n] = (struct ref_header){ "x-amz-content-sha256",
						    payload_hex, n };
			n++;
		}
	}
	qsort(h, n, sizeof(h[0]), ref_header_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(h[i - 1].name, h[i].name) == 0) {
			text_byte(block, ',');
		} else {
			if (i > 0)
				text_byte(signed_list, ';');
			text_str(signed_list, h[i].name);
			text_str(block, h[i].name);
			text_byte(block, ':');
		}
		ref_trim(h[i].value, block);
		if (i + 1 == n || strcmp(h[i].name, h[i + 1].name) != 0)
			text_byte(block, '\n');
	}
}

/* The query line of a presigning canonical request: the plain canonical
 * query `cq` with the signer's parameters merged in, each exactly once. */
static void check_presign_query(const struct input *in, const char *line,
				size_t len, const char *cq,
				const char *signed_list)
{
	struct text rest = { 0 }, want = { 0 };
	const char *p = line, *end = line + len;
	unsigned seen = 0, i;
	struct {
		const char *name, *value;
	} ex[6] = {
		{ "X-Amz-Algorithm", SIGV4_ALGORITHM },
		{ "X-Amz-Credential", CREDENTIAL },
		{ "X-Amz-Date", AMZ_DATE },
		{ "X-Amz-Expires", "3600" },
		{ "X-Amz-SignedHeaders", signed_list },
		{ "X-Amz-Security-Token", token },
	};
	unsigned n_ex = signs_token(in) ? 6 : 5;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		bool extra = false;

		CHECK(eq != NULL);
		for (i = 0; i < 6; i++) {
			if ((size_t)(eq - p) != strlen(ex[i].name) ||
			    memcmp(p, ex[i].name, strlen(ex[i].name)) != 0)
				continue;
			CHECK(i < n_ex && !(seen & 1u << i));
			seen |= 1u << i;
			text_free(&want);
			pct_encode(ex[i].value, strlen(ex[i].value), &want);
			CHECK((size_t)(stop - eq - 1) == want.len &&
			      memcmp(eq + 1, want.p, want.len) == 0);
			extra = true;
		}
		if (!extra) {
			if (rest.len)
				text_byte(&rest, '&');
			text_add(&rest, p, (size_t)(stop - p));
		}
		p = amp ? amp + 1 : end;
	}
	CHECK(seen == (1u << n_ex) - 1);
	CHECK(rest.len == strlen(cq) && memcmp(rest.p ? rest.p : "", cq,
					       rest.len) == 0);
	text_free(&rest);
	text_free(&want);
}

/* sigv4_canonical_request twice in `mode`; returns its rc and leaves the
 * result in `out` (empty on error) and its signed-header list in
 * `signed_list`. */
static sesctl_err check_creq(const struct input *in, enum sigv4_mode mode,
			     const char *uri, const char *cq, size_t pairs,
			     bool valid, size_t size, struct secret *out,
			     struct text *signed_list)
{
	struct sigv4_request req;
	struct sigv4_params params;
	struct secret b = SECRET_INIT;
	struct text want = { 0 }, block = { 0 }, query_line = { 0 };
	unsigned char digest[CRYPTO_SHA256_LEN];
	char payload[CRYPTO_SHA256_HEX_LEN + 1];
	const char *line3, *nl;
	bool header_mode = mode == SIGV4_MODE_HEADER;
	sesctl_err ra, rb;

	make_request(in, &req);
	make_params(in, &params);
	CHECK(secret_set(out, "stale", 5) == SESCTL_OK);
	CHECK(secret_set(&b, "stale", 5) == SESCTL_OK);
	ra = sigv4_canonical_request(&req, &params, mode, out);
	rb = sigv4_canonical_request(&req, &params, mode, &b);
	CHECK(ra == rb);
	if (ra != SESCTL_OK) {
		CHECK(out->p == NULL && out->len == 0);
		CHECK(b.p == NULL && b.len == 0);
	} else {
		CHECK(out->len == b.len && memcmp(out->p, b.p, b.len) == 0);
	}
	secret_free(&b);

	/* It succeeds exactly for a valid request. */
	if (size <= VALIDITY_MAX_INPUT) {
		bool ok = valid && uri && cq;

		if (!header_mode)
			ok = ok && pairs + (signs_token(in) ? 6 : 5) <=
					   SIGV4_MAX_QUERY_PARAMS;
		CHECK(ok == (ra == SESCTL_OK));
	} else if (ra == SESCTL_OK) {
		CHECK(valid && uri && cq);
	}
	if (ra != SESCTL_OK)
		return ra;

	/* Rebuild it: METHOD, URI, QUERY, headers, signed, payload. */
	CHECK(crypto_sha256(in->body, in->body_len, digest) == SESCTL_OK);
	crypto_hex(digest, sizeof(digest), payload);
	ref_headers(in, header_mode, payload, &block, signed_list);
	text_str(&want, in->method);
	text_byte(&want, '\n');
	text_str(&want, uri);
	text_byte(&want, '\n');
	if (header_mode) {
		text_str(&want, cq);
	} else {
		/* Check the query line on its own, then take it as is. */
		CHECK(out->len > want.len);
		line3 = (const char *)out->p + want.len;
		nl = memchr(line3, '\n', out->len - want.len);
		CHECK(nl != NULL);
		text_add(&query_line, line3, (size_t)(nl - line3));
		check_query_form(query_line.p);
		check_presign_query(in, query_line.p, query_line.len, cq,
				    signed_list->p);
		text_add(&want, query_line.p, query_line.len);
	}
	text_byte(&want, '\n');
	text_add(&want, block.p, block.len);
	text_byte(&want, '\n');
	text_add(&want, signed_list->p, signed_list->len);
	text_byte(&want, '\n');
	text_str(&want, payload);
	CHECK(out->len == want.len && memcmp(out->p, want.p, want.len) == 0);
	text_free(&want);
	text_free(&block);
	text_free(&query_line);
	return ra;
}

/* The signature of a canonical request, stage by stage. */
static void stage_signature(const struct input *in, const struct secret *creq,
			    char sig[SIGV4_SIGNATURE_HEX_LEN + 1])
{
	struct sigv4_params params;
	struct secret kSigning = SECRET_INIT;
	char *sts = NULL;

	make_params(in, &params);
	CHECK(sigv4_string_to_sign(&params, creq, &sts) == SESCTL_OK);
	CHECK(sigv4_signing_key(&params, &kSigning) == SESCTL_OK);
	CHECK(sigv4_signature(&kSigning, sts, sig) == SESCTL_OK);
	CHECK(lower_hex64(sig));
	secret_free(&kSigning);
	free(sts);
}

static void check_sign(const struct input *in, sesctl_err creq_rc,
		       const struct secret *creq, const char *signed_list)
{
	struct sigv4_request req;
	struct sigv4_params params;
	struct sigv4_auth a = SIGV4_AUTH_INIT, b = SIGV4_AUTH_INIT;
	struct text want = { 0 };
	char sig[SIGV4_SIGNATURE_HEX_LEN + 1];
	sesctl_err ra, rb;

	make_request(in, &req);
	make_params(in, &params);
	ra = sigv4_sign(&req, &params, &a);
	rb = sigv4_sign(&req, &params, &b);
	CHECK(ra == rb && ra == creq_rc);
	if (ra != SESCTL_OK) {
		CHECK(!a.authorization && !a.amz_date[0] && !a.signature[0] &&
		      !a.content_sha256[0] && !a.send_security_token);
		CHECK(!b.authorization);
		return;
	}
	CHECK(a.authorization && b.authorization &&
	      strcmp(a.authorization, b.authorization) == 0);
	CHECK(strcmp(a.signature, b.signature) == 0);
	CHECK(strcmp(a.content_sha256, b.content_sha256) == 0);
	CHECK(lower_hex64(a.signature));
	CHECK(strcmp(a.amz_date, AMZ_DATE) == 0);
	CHECK(a.send_security_token == has_token(in));
	if (in->flags & F_SIGN_BODY)
		CHECK(lower_hex64(a.content_sha256));
	else
		CHECK(a.content_sha256[0] == '\0');

	stage_signature(in, creq, sig);
	CHECK(strcmp(sig, a.signature) == 0);
	text_str(&want, SIGV4_ALGORITHM " Credential=" CREDENTIAL
				       ", SignedHeaders=");
	text_str(&want, signed_list);
	text_str(&want, ", Signature=");
	text_str(&want, sig);
	CHECK(strcmp(a.authorization, want.p) == 0);
	text_free(&want);
	sigv4_auth_release(&a);
	sigv4_auth_release(&b);
	CHECK(!a.authorization && !a.signature[0]);
}

static void check_presign(const struct input *in, sesctl_err creq_rc,
			  const struct secret *creq)
{
	struct sigv4_request req;
	struct sigv4_params params;
	struct secret a = SECRET_INIT, b = SECRET_INIT;
	struct text want = { 0 };
	char sig[SIGV4_SIGNATURE_HEX_LEN + 1];
	const char *line3, *nl;
	sesctl_err ra, rb;

	make_request(in, &req);
	make_params(in, &params);
	CHECK(secret_set(&a, "stale", 5) == SESCTL_OK);
	ra = sigv4_presign(&req, &params, &a);
	rb = sigv4_presign(&req, &params, &b);
	CHECK(ra == rb && ra == creq_rc);
	if (ra != SESCTL_OK) {
		CHECK(a.p == NULL && a.len == 0 && b.p == NULL);
		return;
	}
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);

	/* The canonical request's query line, the signature, then the
	 * unsigned token if it was left out. */
	line3 = memchr(creq->p, '\n', creq->len);
	CHECK(line3 != NULL);
	line3 = memchr(line3 + 1, '\n',
		       creq->len - (size_t)(line3 + 1 - (const char *)creq->p));
	CHECK(line3 != NULL);
	line3++;
	nl = strchr(line3, '\n');
	CHECK(nl != NULL);
	stage_signature(in, creq, sig);
	text_add(&want, line3, (size_t)(nl - line3));
	text_str(&want, "&X-Amz-Signature=");
	text_str(&want, sig);
	if (has_token(in) && !signs_token(in)) {
		text_str(&want, "&X-Amz-Security-Token=");
		pct_encode(token, strlen(token), &want);
	}
	CHECK(a.len == want.len && memcmp(a.p, want.p, want.len) == 0);
	text_free(&want);
	secret_free(&a);
	secret_free(&b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(secret_set(&key, secret_key, strlen(secret_key)) == SESCTL_OK);
	CHECK(secret_set(&tok, token, strlen(token)) == SESCTL_OK);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct secret creq = SECRET_INIT, preq = SECRET_INIT;
	struct text signed_list = { 0 }, presigned_list = { 0 };
	char *raw_uri, *norm_uri, *cq;
	const char *uri;
	size_t pairs = 0;
	sesctl_err hrc, qrc;
	bool valid;

	if (size < 1)
		return 0;
	parse_input(data, size, &in);

	raw_uri = check_uri(in.path, false);
	norm_uri = check_uri(in.path, true);
	CHECK((raw_uri == NULL) == (norm_uri == NULL));
	uri = (in.flags & F_NORMALIZE) ? norm_uri : raw_uri;
	cq = check_query(in.query, &pairs);
	valid = ref_valid(&in);

	hrc = check_creq(&in, SIGV4_MODE_HEADER, uri, cq, pairs, valid, size,
			 &creq, &signed_list);
	qrc = check_creq(&in, SIGV4_MODE_QUERY, uri, cq, pairs, valid, size,
			 &preq, &presigned_list);
	check_sign(&in, hrc, &creq, signed_list.p);
	check_presign(&in, qrc, &preq);

	secret_free(&creq);
	secret_free(&preq);
	text_free(&signed_list);
	text_free(&presigned_list);
	free(raw_uri);
	free(norm_uri);
	free(cq);
	free(in.text);
	return 0;
}
