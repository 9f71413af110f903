/* smtp_pw.c - SES SMTP password derivation (see smtp_pw.h). */
#include "sesctl/smtp/smtp_pw.h"

#include <stdbool.h>
#include <string.h>

#include "sesctl/base/crypto.h"

/* Longest secret we derive from: AWS secrets are 40 bytes; anything near
 * this limit is not a secret key but a pasted file. */
#define SMTP_PW_SECRET_MAX 4096

static sesctl_err encode_password(unsigned char version,
				  const unsigned char mac[CRYPTO_SHA256_LEN],
				  struct secret *out)
{
	unsigned char raw[1 + CRYPTO_SHA256_LEN];
	char b64[SMTP_PW_LEN + 1];
	sesctl_err rc = SESCTL_OK;

	raw[0] = version;
	memcpy(raw + 1, mac, CRYPTO_SHA256_LEN);
	TRY(crypto_base64(raw, sizeof(raw), b64, sizeof(b64)));
	TRY(secret_set(out, b64, SMTP_PW_LEN));
out:
	secret_wipe(raw, sizeof(raw));
	secret_wipe(b64, sizeof(b64));
	return rc;
}

sesctl_err smtp_pw_v4(const struct secret *secret_key, const char *region,
		      struct secret *out)
{
	static const char *const steps[] = { NULL, "ses", "aws4_request",
					     "SendRawEmail" };
	struct secret prefixed = SECRET_INIT;
	unsigned char k[CRYPTO_SHA256_LEN], next[CRYPTO_SHA256_LEN];
	sesctl_err rc = SESCTL_OK;
	size_t i;

	ENSURE(secret_key && secret_key->len > 0 &&
		       secret_key->len <= SMTP_PW_SECRET_MAX,
	       SESCTL_ERR_INPUT);
	ENSURE(region && *region, SESCTL_ERR_INPUT);

	TRY(secret_set(&prefixed, "AWS4", 4));
	TRY(secret_append(&prefixed, secret_key->p, secret_key->len));
	TRY(crypto_hmac_sha256(prefixed.p, prefixed.len, "11111111", 8, k));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const char *msg = steps[i] ? steps[i] : region;

		TRY(crypto_hmac_sha256(k, sizeof(k), msg, strlen(msg), next));
		memcpy(k, next, sizeof(k));
	}
	TRY(encode_password(0x04, k, out));
out:
	secret_free(&prefixed);
	secret_wipe(k, sizeof(k));
	secret_wipe(next, sizeof(next));
	return rc;
}

sesctl_err smtp_pw_v2(const struct secret *secret_key, struct secret *out)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	sesctl_err rc = SESCTL_OK;

	ENSURE(secret_key && secret_key->len > 0 &&
		       secret_key->len <= SMTP_PW_SECRET_MAX,
	       SESCTL_ERR_INPUT);
	TRY(crypto_hmac_sha256(secret_key->p, secret_key->len, "SendRawEmail",
			       12, mac));
	TRY(encode_password(0x02, mac, out));
out:
	secret_wipe(mac, sizeof(mac));
	return rc;
}

static bool is_b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static bool looks_like_key_id(const unsigned char *p, size_t len)
{
	size_t i;

	if (len != 20 || (memcmp(p, "AKIA", 4) != 0 && memcmp(p, "ASIA", 4) != 0))
		return false;
	for (i = 4; i < len; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
			return false;
	return true;
}

unsigned smtp_pw_check_secret(const struct secret *secret_key)
{
	const unsigned char *p;
	unsigned shape = 0;
	bool all_b64 = true;
	size_t i, len;

	if (!secret_key || secret_key->len == 0)
		return SMTP_PW_SHAPE_EMPTY;
	p = secret_key->p;
	len = secret_key->len;
	if (len > SMTP_PW_SHAPE_MAX_LEN)
		shape |= SMTP_PW_SHAPE_TOO_LONG;
	for (i = 0; i < len; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')
			shape |= SMTP_PW_SHAPE_WHITESPACE;
		else if (p[i] < 0x20 || p[i] == 0x7f)
			shape |= SMTP_PW_SHAPE_CONTROL;
		if (!is_b64_char(p[i]))
			all_b64 = false;
	}
	if (looks_like_key_id(p, len))
		return shape | SMTP_PW_SHAPE_KEY_ID;
	/* A derived password: 44 base64 characters led by the version byte
	 * (0x04 -> 'B', 0x02 -> 'A'). */
	if (len == SMTP_PW_LEN && all_b64 && (p[0] == 'B' || p[0] == 'A'))
		return shape | SMTP_PW_SHAPE_SMTP_PW;
	if (len != SMTP_PW_SECRET_KEY_LEN)
		shape |= SMTP_PW_SHAPE_LENGTH;
	if (!all_b64 && !(shape & (SMTP_PW_SHAPE_WHITESPACE | SMTP_PW_SHAPE_CONTROL)))
		shape |= SMTP_PW_SHAPE_ALPHABET;
	return shape;
}
