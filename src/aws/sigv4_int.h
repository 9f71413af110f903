/* sigv4_int.h - what the files of the SigV4 signer share; not a public
 * interface (that is include/sesctl/aws/sigv4.h).
 *
 *   sigv4.c        checking the inputs, the date and credential scope,
 *                  the canonical request put together, the string to
 *                  sign, the signing key and signature, the Authorization
 *                  header and the presigned query
 *   sigv4_canon.c  the canonical forms of the request's parts (URI, query
 *                  string, header block), the character classes and the
 *                  capped buffers they are written with
 *
 * Only those files include it.
 */
#ifndef SESCTL_SIGV4_INT_H
#define SESCTL_SIGV4_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/aws/sigv4.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* ---- sigv4_canon.c: character classes ------------------------------ */

bool is_space(unsigned char c);
bool is_tchar(unsigned char c);
bool ci_equal(const char *a, const unsigned char *b, size_t blen);
bool in_list(const char *const *list, size_t n, const unsigned char *s,
	     size_t len);

/* ---- sigv4_canon.c: buffers capped at SIGV4_MAX_TEXT --------------- */

MUST_USE sesctl_err buf_add(struct secret *b, const void *p, size_t n);
MUST_USE sesctl_err buf_str(struct secret *b, const char *s);
MUST_USE sesctl_err buf_byte(struct secret *b, unsigned char c);
MUST_USE sesctl_err buf_encode(struct secret *b, const unsigned char *p,
			       size_t n, bool keep_slash);
MUST_USE sesctl_err bounded_len(const char *s, size_t max, size_t *len);

/* ---- sigv4_canon.c: the canonical forms ---------------------------- */

/* A parameter the signer adds (already unencoded). */
struct qextra {
	const char *name;
	const unsigned char *value;
	size_t len;
};

/* A header to canonicalise; `idx` keeps the sort stable so repeated
 * headers keep their order of appearance. */
struct hdr {
	const unsigned char *name;
	size_t nlen;
	const unsigned char *value;
	size_t vlen;
	size_t idx;
};

/* Each appends to its output. */
MUST_USE sesctl_err canonical_uri(const char *path, bool normalize,
				  struct secret *out);
MUST_USE sesctl_err canonical_query(const char *query,
				    const struct qextra *extra,
				    size_t n_extra, struct secret *out);
/* Sorts `h`. */
MUST_USE sesctl_err canonical_headers(struct hdr *h, size_t n,
				      struct secret *block,
				      struct secret *sig);

#endif
