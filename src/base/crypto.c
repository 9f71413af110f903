/* crypto.c - HMAC-SHA256, SHA-256, hex and base64 over OpenSSL libcrypto. */
#include "sesctl/base/crypto.h"

#include "sesctl/base/secret.h"

#include <errno.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return secret_lib_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return secret_lib_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	secret_lib_free(p);
}

bool crypto_init(void)
{
	return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) ==
	       1;
}

void crypto_cleanup(void)
{
	OPENSSL_cleanup();
}

sesctl_err crypto_hmac_sha256(const void *key, size_t key_len, const void *msg,
			      size_t msg_len,
			      unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int out_len = 0;

	if (key_len > INT_MAX)
		return SESCTL_ERR_INPUT;
	/* HMAC() with a NULL key pointer and zero length is allowed, but
	 * pass a valid pointer anyway: OpenSSL 3 rejects NULL keys. */
	if (!key)
		key = "";
	if (!msg)
		msg = "";
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out,
		  &out_len) ||
	    out_len != CRYPTO_SHA256_LEN)
		return SESCTL_ERR_CRYPTO;
	return SESCTL_OK;
}

sesctl_err crypto_sha256(const void *data, size_t len,
			 unsigned char out[CRYPTO_SHA256_LEN])
{
	if (!data)
		data = "";
	if (!SHA256(data, len, out))
		return SESCTL_ERR_CRYPTO;
	return SESCTL_OK;
}

int crypto_random(void *buf, size_t n)
{
	unsigned char *b = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(b + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? errno : EIO;
		got += (size_t)r;
	}
	return 0;
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

size_t crypto_base64_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

sesctl_err crypto_base64(const unsigned char *in, size_t n, char *out,
			 size_t out_size)
{
	int written;

	if (n > INT_MAX / 2 || out_size < crypto_base64_size(n))
		return SESCTL_ERR_INPUT;
	written = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	if (written < 0 || (size_t)written + 1 != crypto_base64_size(n))
		return SESCTL_ERR_CRYPTO;
	return SESCTL_OK;
}
