/* test_http.c - what --debug may print: redaction of secrets in XML, JSON
 * and form bodies; URL checks (https only, http to loopback). */
#include "testutil.h"

#include "sesctl/ctx.h"
#include "sesctl/http.h"

static void check_redact(const char *in, const char *want)
{
	char *got = http_redact(in, strlen(in));

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("redact(%s)\n got: %s\nwant: %s", in, got, want);
	free(got);
}

static void test_http_redact_xml(void **state)
{
	(void)state;
	check_redact("<CreateAccessKeyResult><AccessKey><UserName>u</UserName>"
		     "<AccessKeyId>AKIAX</AccessKeyId><Status>Active</Status>"
		     "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>"
		     "</AccessKey></CreateAccessKeyResult>",
		     "<CreateAccessKeyResult><AccessKey><UserName>u</UserName>"
		     "<AccessKeyId>AKIAX</AccessKeyId><Status>Active</Status>"
		     "<SecretAccessKey><redacted></SecretAccessKey>"
		     "</AccessKey></CreateAccessKeyResult>");
	/* namespace prefixes, whitespace inside, STS session tokens */
	check_redact("<x:SecretAccessKey>\n  abc\n</x:SecretAccessKey>",
		     "<x:SecretAccessKey><redacted></x:SecretAccessKey>");
	check_redact("<Credentials><SessionToken>AQoD//+x==</SessionToken>"
		     "<Expiration>2026</Expiration></Credentials>",
		     "<Credentials><SessionToken><redacted></SessionToken>"
		     "<Expiration>2026</Expiration></Credentials>");
	check_redact("<ServicePassword a=\"1\">pw</ServicePassword>",
		     "<ServicePassword a=\"1\"><redacted></ServicePassword>");
	/* empty elements and ordinary ones are left alone */
	check_redact("<SecretAccessKey/><UserName>x</UserName>",
		     "<SecretAccessKey/><UserName>x</UserName>");
	/* truncated input does not leak the rest or crash */
	check_redact("<SecretAccessKey>abc", "<SecretAccessKey><redacted>");
	check_redact("<SecretAccess", "<SecretAccess");
}

static void test_http_redact_json_and_form(void **state)
{
	(void)state;
	check_redact("{\"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\": \"s/e+c\", "
		     "\"Token\":\"t\\\"q\", \"Expiration\": \"2026\"}",
		     "{\"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\": "
		     "\"<redacted>\", \"Token\":\"<redacted>\", \"Expiration\": "
		     "\"2026\"}");
	check_redact("Action=X&Version=1&SecretAccessKey=abc&UserName=u",
		     "Action=X&Version=1&SecretAccessKey=<redacted>&UserName=u");
	check_redact("Action=ListUsers&Version=2010-05-08",
		     "Action=ListUsers&Version=2010-05-08");
	check_redact("", "");
}

static void test_http_check_url(void **state)
{
	static const struct {
		const char *url;
		sesctl_err want;
	} cases[] = {
		{ "https://iam.amazonaws.com", SESCTL_OK },
		{ "https://iam.amazonaws.com/", SESCTL_OK },
		{ "https://127.0.0.1:8443", SESCTL_OK },
		{ "http://127.0.0.1:8080", SESCTL_OK },
		{ "http://localhost:8080/", SESCTL_OK },
		{ "http://[::1]:8080", SESCTL_OK },
		{ "http://iam.amazonaws.com", SESCTL_ERR_USAGE },
		{ "http://127.0.0.1.evil.example:80", SESCTL_ERR_USAGE },
		{ "http://10.0.0.1", SESCTL_ERR_USAGE },
		{ "ftp://iam.amazonaws.com", SESCTL_ERR_USAGE },
		{ "not a url", SESCTL_ERR_USAGE },
		{ "", SESCTL_ERR_USAGE },
	};
	struct ctx ctx;
	size_t i;

	(void)state;
	ctx_init(&ctx);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (http_check_url(&ctx, cases[i].url) != cases[i].want)
			fail_msg("'%s': want %s", cases[i].url,
				 err_name(cases[i].want));
}

static void test_http_url_parts(void **state)
{
	struct ctx ctx;
	char host[64], path[64], tiny[4];

	(void)state;
	ctx_init(&ctx);
	assert_int_equal(http_url_parts(&ctx, "https://iam.amazonaws.com", host,
					sizeof(host), path, sizeof(path)),
			 SESCTL_OK);
	assert_string_equal(host, "iam.amazonaws.com");
	assert_string_equal(path, "/");
	assert_int_equal(http_url_parts(&ctx, "https://127.0.0.1:8443/iam/",
					host, sizeof(host), path,
					sizeof(path)),
			 SESCTL_OK);
	assert_string_equal(host, "127.0.0.1:8443");
	assert_string_equal(path, "/iam/");
	/* a default port is not part of the Host header libcurl sends */
	assert_int_equal(http_url_parts(&ctx, "https://iam.amazonaws.com:443/",
					host, sizeof(host), path,
					sizeof(path)),
			 SESCTL_OK);
	assert_string_equal(host, "iam.amazonaws.com");
	assert_int_equal(http_url_parts(&ctx, "https://x.example/?a=b", host,
					sizeof(host), path, sizeof(path)),
			 SESCTL_ERR_USAGE);
	assert_int_equal(http_url_parts(&ctx, "https://u:p@x.example/", host,
					sizeof(host), path, sizeof(path)),
			 SESCTL_ERR_USAGE);
	assert_int_equal(http_url_parts(&ctx, "https://iam.amazonaws.com", tiny,
					sizeof(tiny), path, sizeof(path)),
			 SESCTL_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_redact_xml),
		cmocka_unit_test(test_http_redact_json_and_form),
		cmocka_unit_test(test_http_check_url),
		cmocka_unit_test(test_http_url_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
