/* test_err.c - the error table: exit codes as DESIGN.md documents them,
 * messages, truncation. */
#include "testutil.h"

#include "sesctl/base/err.h"

static void test_err_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(err_exit_code(SESCTL_OK), 0);
	assert_int_equal(err_exit_code(SESCTL_ERR_FAIL), 1);
	assert_int_equal(err_exit_code(SESCTL_ERR_IO), 1);
	assert_int_equal(err_exit_code(SESCTL_ERR_INPUT), 1);
	assert_int_equal(err_exit_code(SESCTL_ERR_USAGE), 2);
	assert_int_equal(err_exit_code(SESCTL_ERR_AUTH), 3);
	assert_int_equal(err_exit_code(SESCTL_ERR_NOT_FOUND), 4);
	assert_int_equal(err_exit_code(SESCTL_ERR_CONFLICT), 5);
	assert_int_equal(err_exit_code(SESCTL_ERR_NETWORK), 6);
	assert_int_equal(err_exit_code(SESCTL_ERR_SMTP_VERIFY), 7);
	assert_int_equal(err_exit_code((sesctl_err)9999), 1);
	assert_string_equal(err_name(SESCTL_ERR_USAGE), "SESCTL_ERR_USAGE");
	assert_string_equal(err_name((sesctl_err)-1), "SESCTL_ERR_UNKNOWN");
	assert_string_equal(err_desc((sesctl_err)9999), "unknown error");
}

static void test_err_set_formats_and_returns_code(void **state)
{
	struct err_info ei = { SESCTL_OK, "", "" };

	(void)state;
	assert_int_equal(err_set(&ei, SESCTL_ERR_CONFLICT, "user '%s' exists",
				 "sesctl-smtp"),
			 SESCTL_ERR_CONFLICT);
	assert_int_equal(ei.code, SESCTL_ERR_CONFLICT);
	assert_string_equal(ei.msg, "user 'sesctl-smtp' exists");
	/* NULL is allowed: the code still comes back. */
	assert_int_equal(err_set(NULL, SESCTL_ERR_IO, "x"), SESCTL_ERR_IO);
}

static void test_err_set_wraps_its_own_message(void **state)
{
	struct err_info ei = { SESCTL_OK, "", "" };

	(void)state;
	err_set(&ei, SESCTL_ERR_NETWORK, "no answer from '%s'", "iam");
	assert_int_equal(err_set(&ei, SESCTL_ERR_NETWORK, "%s: %s",
				 "GetUser", ei.msg),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "GetUser: no answer from 'iam'");
	err_set(&ei, SESCTL_ERR_FAIL, "gave up: %s (%s)", ei.msg, ei.msg);
	assert_string_equal(ei.msg, "gave up: GetUser: no answer from 'iam' "
				    "(GetUser: no answer from 'iam')");
}

static void test_err_kinds(void **state)
{
	struct err_info ei = { SESCTL_OK, "", "" };

	(void)state;
	/* Each code has a kind of its own ... */
	err_set(&ei, SESCTL_ERR_AUTH, "no");
	assert_string_equal(err_kind_of(&ei), "access-denied");
	err_set(&ei, SESCTL_ERR_USAGE, "no");
	assert_string_equal(err_kind_of(&ei), "usage");
	/* ... a refusal may name its own, which survives a wrapped message
	 * of the same code ... */
	err_set(&ei, SESCTL_ERR_CONFLICT, "already enabled");
	assert_int_equal(err_kind(&ei, "already-enabled"), SESCTL_ERR_CONFLICT);
	err_set(&ei, SESCTL_ERR_CONFLICT, "%s; use rotate", ei.msg);
	assert_string_equal(err_kind_of(&ei), "already-enabled");
	/* ... and not another error's. */
	err_set(&ei, SESCTL_ERR_NETWORK, "later: no answer");
	assert_string_equal(err_kind_of(&ei), "network");
}

static void test_err_set_truncates_visibly(void **state)
{
	struct err_info ei = { SESCTL_OK, "", "" };
	char big[ERR_MSG_MAX * 2];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(err_set(&ei, SESCTL_ERR_FAIL, "%s", big),
			 SESCTL_ERR_FAIL);
	assert_int_equal(strlen(ei.msg), ERR_MSG_MAX - 1);
	assert_string_equal(ei.msg + ERR_MSG_MAX - 4, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_exit_codes),
		cmocka_unit_test(test_err_set_formats_and_returns_code),
		cmocka_unit_test(test_err_set_wraps_its_own_message),
		cmocka_unit_test(test_err_kinds),
		cmocka_unit_test(test_err_set_truncates_visibly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
