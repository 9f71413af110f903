/* test_output.c - the policy sesctl writes (exactly DESIGN.md's text),
 * recognising it again (drift), and multi-region renderings. */
#include "testutil.h"

#include "sesctl/output.h"

#define DEFAULT_POLICY                                                       \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","   \
	"\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\"}]}"

static void test_output_policy_default(void **state)
{
	struct policy_spec s = { "aws", NULL, NULL, 0, NULL, 0, NULL, 0 };
	char *doc = NULL, desc[128];
	bool ok = false;

	(void)state;
	assert_int_equal(output_policy(&s, &doc), SESCTL_OK);
	assert_string_equal(doc, DEFAULT_POLICY);
	assert_int_equal(output_policy_check(doc, &ok, desc, sizeof(desc)),
			 SESCTL_OK);
	assert_true(ok);
	assert_string_equal(desc, "ses:SendRawEmail on any identity");
	free(doc);
}

static void test_output_policy_narrowed(void **state)
{
	static const char *const regions[] = { "eu-west-1", "us-east-1" };
	static const char *const ids[] = { "example.com" };
	static const char *const from[] = { "*@example.com", "a@example.org" };
	struct policy_spec s = { "aws", "123456789012", regions, 2, ids, 1,
				 from, 2 };
	char *doc = NULL, desc[256];
	bool ok = false;

	(void)state;
	assert_int_equal(output_policy(&s, &doc), SESCTL_OK);
	assert_string_equal(
		doc,
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
		"\"Action\":\"ses:SendRawEmail\",\"Resource\":["
		"\"arn:aws:ses:eu-west-1:123456789012:identity/example.com\","
		"\"arn:aws:ses:us-east-1:123456789012:identity/example.com\"],"
		"\"Condition\":{\"StringLike\":{\"ses:FromAddress\":["
		"\"*@example.com\",\"a@example.org\"]}}}]}");
	assert_int_equal(output_policy_check(doc, &ok, desc, sizeof(desc)),
			 SESCTL_OK);
	assert_true(ok);
	assert_non_null(strstr(desc, "example.com"));
	assert_non_null(strstr(desc, "2 regions"));
	free(doc);
	/* identities without an account cannot be written */
	s.account = NULL;
	assert_int_equal(output_policy(&s, &doc), SESCTL_ERR_INPUT);
	assert_null(doc);
}

static void test_output_policy_drift(void **state)
{
	static const char *const changed[] = {
		/* wider action */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:*\",\"Resource\":\"*\"}]}",
		/* a second statement */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\"}]}",
		/* another condition */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\","
		"\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"1.2.3.4\"}}}]}",
		/* a resource that is not an SES identity */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:SendRawEmail\",\"Resource\":"
		"\"arn:aws:s3:::bucket\"}]}",
		/* Deny */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Deny\",\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\"}]}",
		"not json", "", "[]", "{}",
	};
	char desc[128];
	bool ok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		ok = true;
		assert_int_equal(output_policy_check(changed[i], &ok, desc,
						     sizeof(desc)),
				 SESCTL_OK);
		if (ok)
			fail_msg("case %zu taken for sesctl's policy", i);
	}
	/* whitespace is not drift: IAM may keep the author's formatting */
	ok = false;
	assert_int_equal(output_policy_check(
				 "{ \"Version\": \"2012-10-17\",\n \"Statement\": [ {"
				 "\"Effect\": \"Allow\", \"Action\": "
				 "\"ses:SendRawEmail\", \"Resource\": \"*\" } ] }",
				 &ok, desc, sizeof(desc)),
			 SESCTL_OK);
	assert_true(ok);
}

static void test_output_several_regions(void **state)
{
	struct secret p1 = SECRET_INIT, p2 = SECRET_INIT, out = SECRET_INIT;
	struct smtp_creds c[2];

	(void)state;
	assert_int_equal(secret_set(&p1, "BPASS1", 6), SESCTL_OK);
	assert_int_equal(secret_set(&p2, "BPASS2", 6), SESCTL_OK);
	c[0] = (struct smtp_creds){ "eu-west-1",
				    "email-smtp.eu-west-1.amazonaws.com", 587,
				    "AKIAX", &p1 };
	c[1] = (struct smtp_creds){ "us-east-1",
				    "email-smtp.us-east-1.amazonaws.com", 587,
				    "AKIAX", &p2 };
	assert_int_equal(output_render(output_lookup("env"), c, 2, &out),
			 SESCTL_OK);
	assert_string_equal(secret_str(&out),
			    "SMTP_USER=AKIAX\n"
			    "SMTP_HOST_EU_WEST_1=email-smtp.eu-west-1.amazonaws.com\n"
			    "SMTP_PORT_EU_WEST_1=587\n"
			    "SMTP_PASS_EU_WEST_1=BPASS1\n"
			    "SMTP_HOST_US_EAST_1=email-smtp.us-east-1.amazonaws.com\n"
			    "SMTP_PORT_US_EAST_1=587\n"
			    "SMTP_PASS_US_EAST_1=BPASS2\n");
	assert_int_equal(output_render(output_lookup("postfix"), c, 2, &out),
			 SESCTL_OK);
	assert_string_equal(secret_str(&out),
			    "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAX:BPASS1\n"
			    "[email-smtp.us-east-1.amazonaws.com]:587 AKIAX:BPASS2\n");
	assert_int_equal(output_render(output_lookup("json"), c, 2, &out),
			 SESCTL_OK);
	assert_int_equal(secret_str(&out)[0], '[');
	assert_int_equal(output_render(output_lookup("env"), c, 0, &out),
			 SESCTL_ERR_INPUT);
	c[1].user = NULL;
	assert_int_equal(output_render(output_lookup("postfix"), c, 2, &out),
			 SESCTL_ERR_INPUT);
	secret_free(&p1);
	secret_free(&p2);
	secret_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_policy_default),
		cmocka_unit_test(test_output_policy_narrowed),
		cmocka_unit_test(test_output_policy_drift),
		cmocka_unit_test(test_output_several_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
