/* sigv4_canon.c - the canonical forms of a request's parts for SigV4
 * (see sigv4.h): the URI (its path normalised when the request asks), the
 * query string (parameters decoded, re-encoded and sorted) and the header
 * block with its list of signed headers; sigv4.c checks the inputs and
 * assembles these into the canonical request.  Also what they are written
 * with, which sigv4.c uses as well (sigv4_int.h): locale-independent
 * character classes, and growable buffers that are struct secrets capped
 * at SIGV4_MAX_TEXT, with percent-encoding and -decoding.
 */
#include "sesctl/aws/sigv4.h"

#include <stdlib.h>
#include <string.h>

#include "sigv4_int.h"

static const char hex_upper[] = "0123456789ABCDEF";

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
bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 9110 token characters, the only ones a header name may hold. */
bool is_tchar(unsigned char c)
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

bool ci_equal(const char *a, const unsigned char *b, size_t blen)
{
	return ci_cmp((const unsigned char *)a, strlen(a), b, blen) == 0;
}

bool in_list(const char *const *list, size_t n, const unsigned char *s,
	     size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ci_equal(list[i], s, len))
			return true;
	return false;
}

/* Growable buffers: struct secret with the module's own hard cap. */

sesctl_err buf_add(struct secret *b, const void *p, size_t n)
{
	if (n > SIGV4_MAX_TEXT || b->len > SIGV4_MAX_TEXT - n)
		return SESCTL_ERR_INPUT;
	return secret_append(b, p, n);
}

sesctl_err buf_str(struct secret *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

sesctl_err buf_byte(struct secret *b, unsigned char c)
{
	return buf_add(b, &c, 1);
}

/* Append `n` bytes, percent-encoding all but the unreserved set (and '/'
 * when keep_slash), with uppercase hex. */
sesctl_err buf_encode(struct secret *b, const unsigned char *p,
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
sesctl_err bounded_len(const char *s, size_t max, size_t *len)
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

/* Canonical URI, appended to `out`.  Normalisation follows aws-c-auth
 * s_append_normalized_path: split on '/', drop "" and ".", ".." pops,
 * always one leading '/', keep a trailing '/' if the raw path had one. */
sesctl_err canonical_uri(const char *path, bool normalize,
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
sesctl_err canonical_query(const char *query,
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
sesctl_err canonical_headers(struct hdr *h, size_t n,
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
