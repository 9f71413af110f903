/* test_crypto.c - HMAC-SHA256 (RFC 4231), SHA-256 (FIPS 180-2 examples),
 * hex and base64 (RFC 4648) known answers and bad sizes. */
#include "testutil.h"

#include "sesctl/base/crypto.h"

static void hex_of(const unsigned char *in, size_t n, char *out)
{
	crypto_hex(in, n, out);
}

static void test_crypto_hmac_rfc4231(void **state)
{
	unsigned char key1[20], mac[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	memset(key1, 0x0b, sizeof(key1));
	assert_int_equal(crypto_hmac_sha256(key1, sizeof(key1), "Hi There", 8,
					    mac),
			 SESCTL_OK);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	assert_int_equal(crypto_hmac_sha256("Jefe", 4,
					    "what do ya want for nothing?", 28,
					    mac),
			 SESCTL_OK);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Empty key and message are valid HMAC inputs. */
	assert_int_equal(crypto_hmac_sha256(NULL, 0, NULL, 0, mac), SESCTL_OK);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_crypto_sha256(void **state)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	assert_int_equal(crypto_sha256("abc", 3, d), SESCTL_OK);
	hex_of(d, sizeof(d), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(crypto_sha256(NULL, 0, d), SESCTL_OK);
	hex_of(d, sizeof(d), hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_crypto_base64_rfc4648(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
					  "fooba", "foobar" };
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v",
					    "Zm9vYg==", "Zm9vYmE=",
					    "Zm9vYmFy" };
	char out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(crypto_base64((const unsigned char *)in[i],
					       strlen(in[i]), out, sizeof(out)),
				 SESCTL_OK);
		assert_string_equal(out, want[i]);
		assert_int_equal(crypto_base64_size(strlen(in[i])),
				 strlen(want[i]) + 1);
	}
	/* One byte short of room is refused, not truncated. */
	assert_int_equal(crypto_base64((const unsigned char *)"foobar", 6, out,
				       8),
			 SESCTL_ERR_INPUT);
}

/* Random bytes: filled (a large request too: getrandom may return
 * short), two draws differ, nothing asked is nothing done. */
static void test_crypto_random(void **state)
{
	static unsigned char a[4096], b[4096];
	unsigned char untouched = 0x5a;

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	/* 4096 zero bytes from the kernel would mean nothing was written */
	memset(b, 0, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(&untouched, 0), 0);
	assert_int_equal(untouched, 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_hmac_rfc4231),
		cmocka_unit_test(test_crypto_sha256),
		cmocka_unit_test(test_crypto_base64_rfc4648),
		cmocka_unit_test(test_crypto_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
