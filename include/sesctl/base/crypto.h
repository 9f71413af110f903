/* crypto.h - the hashes and encodings sesctl needs, over OpenSSL libcrypto.
 *
 * The only module (besides secret.c's use of OPENSSL_cleanse) that includes
 * OpenSSL.  Pure: no I/O (but the kernel's random bytes), no global state.
 */
#ifndef SESCTL_CRYPTO_H
#define SESCTL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/err.h"

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64

/* Make OpenSSL allocate through secret.h's wiping allocator.  Must run
 * before anything else uses OpenSSL (main calls it first); returns false
 * if OpenSSL had allocated already, which is harmless but unwiped. */
bool crypto_init(void);

/* Release all of OpenSSL's state now rather than in its exit handler,
 * so the stack can be scrubbed after it (main calls it last). */
void crypto_cleanup(void);

/* out = HMAC-SHA256(key, msg).  SESCTL_ERR_CRYPTO if libcrypto fails. */
MUST_USE sesctl_err crypto_hmac_sha256(const void *key, size_t key_len,
				       const void *msg, size_t msg_len,
				       unsigned char out[CRYPTO_SHA256_LEN]);

/* out = SHA-256(data). */
MUST_USE sesctl_err crypto_sha256(const void *data, size_t len,
				  unsigned char out[CRYPTO_SHA256_LEN]);

/* Lowercase hex of `n` bytes into `out`, which has room for 2n+1. */
void crypto_hex(const unsigned char *in, size_t n, char *out);

/* Fill `buf` with `n` random bytes from the kernel (getrandom, retried
 * on EINTR and short reads).  0, or the errno of the failure. */
MUST_USE int crypto_random(void *buf, size_t n);

/* Bytes (with the terminating NUL) that base64 of `n` bytes needs. */
size_t crypto_base64_size(size_t n);

/* Standard base64 (RFC 4648, with padding, no newlines) of `n` bytes into
 * `out`; SESCTL_ERR_INPUT if out_size < crypto_base64_size(n). */
MUST_USE sesctl_err crypto_base64(const unsigned char *in, size_t n, char *out,
				  size_t out_size);

#endif
