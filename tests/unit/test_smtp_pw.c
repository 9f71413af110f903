/* test_smtp_pw.c - known answers for the SES SMTP password (v4 and v2)
 * from tests/vectors/smtp-password-*.tsv, shape checks, bad input. */
#include "testutil.h"

#include "sesctl/base/secret.h"
#include "sesctl/smtp/smtp_pw.h"

static void set_secret(struct secret *s, const char *v)
{
	assert_int_equal(secret_set(s, v, strlen(v)), SESCTL_OK);
}

/* Run every data row of a TSV; `cols` says where key, region, password
 * and (optionally) the version column are. Returns the rows checked. */
struct tsv_layout {
	const char *file;
	int key, region, password, version; /* column numbers, -1 = none */
	size_t ncols;
};

static size_t run_tsv(const struct tsv_layout *l)
{
	char path[4096], *text, *line, *save = NULL, *f[16];
	struct secret key = SECRET_INIT, pw = SECRET_INIT;
	size_t rows = 0, n;

	vector_path(path, sizeof(path), l->file);
	text = read_text_file(path, NULL);
	line = strtok_r(text, "\n", &save); /* header */
	assert_non_null(line);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		const char *version;

		n = split_tabs(line, f, 16);
		assert_true(n >= l->ncols);
		version = l->version >= 0 ? f[l->version] : NULL;
		set_secret(&key, f[l->key]);
		if ((version && strcmp(version, "v2") == 0) ||
		    (!version && l->region < 0))
			assert_int_equal(smtp_pw_v2(&key, &pw), SESCTL_OK);
		else
			assert_int_equal(smtp_pw_v4(&key, f[l->region], &pw),
					 SESCTL_OK);
		if (strcmp(secret_str(&pw), f[l->password]) != 0)
			fail_msg("%s: key '%s' region '%s': got '%s', want '%s'",
				 l->file, f[l->key],
				 l->region >= 0 ? f[l->region] : "-",
				 secret_str(&pw), f[l->password]);
		assert_int_equal(pw.len, SMTP_PW_LEN);
		rows++;
	}
	secret_free(&key);
	secret_free(&pw);
	free(text);
	return rows;
}

static void test_smtp_pw_v4_vectors(void **state)
{
	const struct tsv_layout l = { "smtp-password-v4.tsv", 0, 1, 2, -1, 3 };

	(void)state;
	assert_int_equal(run_tsv(&l), 77);
}

static void test_smtp_pw_v2_vectors(void **state)
{
	const struct tsv_layout l = { "smtp-password-v2.tsv", 0, -1, 1, -1, 2 };

	(void)state;
	assert_int_equal(run_tsv(&l), 16);
}

static void test_smtp_pw_published_vectors(void **state)
{
	const struct tsv_layout l = { "smtp-password-published.tsv", 1, 2, 3, 0,
				      4 };

	(void)state;
	assert_int_equal(run_tsv(&l), 8);
}

static void test_smtp_pw_v4_depends_on_region(void **state)
{
	struct secret key = SECRET_INIT, a = SECRET_INIT, b = SECRET_INIT;

	(void)state;
	set_secret(&key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_int_equal(smtp_pw_v4(&key, "us-east-1", &a), SESCTL_OK);
	assert_int_equal(smtp_pw_v4(&key, "us-east-2", &b), SESCTL_OK);
	assert_string_not_equal(secret_str(&a), secret_str(&b));
	assert_int_equal(secret_str(&a)[0], 'B');
	/* The output buffer is reused: the second call replaced the first. */
	assert_int_equal(smtp_pw_v4(&key, "us-east-2", &a), SESCTL_OK);
	assert_string_equal(secret_str(&a), secret_str(&b));
	secret_free(&key);
	secret_free(&a);
	secret_free(&b);
}

static void test_smtp_pw_rejects_bad_input(void **state)
{
	struct secret key = SECRET_INIT, empty = SECRET_INIT, pw = SECRET_INIT;
	char big[5000];

	(void)state;
	set_secret(&key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_int_equal(smtp_pw_v4(&empty, "us-east-1", &pw), SESCTL_ERR_INPUT);
	assert_int_equal(smtp_pw_v4(NULL, "us-east-1", &pw), SESCTL_ERR_INPUT);
	assert_int_equal(smtp_pw_v4(&key, "", &pw), SESCTL_ERR_INPUT);
	assert_int_equal(smtp_pw_v4(&key, NULL, &pw), SESCTL_ERR_INPUT);
	assert_int_equal(smtp_pw_v2(&empty, &pw), SESCTL_ERR_INPUT);
	memset(big, 'a', sizeof(big));
	assert_int_equal(secret_set(&key, big, sizeof(big)), SESCTL_OK);
	assert_int_equal(smtp_pw_v4(&key, "us-east-1", &pw), SESCTL_ERR_INPUT);
	assert_int_equal(smtp_pw_v2(&key, &pw), SESCTL_ERR_INPUT);
	assert_int_equal(pw.len, 0);
	secret_free(&key);
	secret_free(&pw);
}

static void test_smtp_pw_check_secret_shapes(void **state)
{
	static const struct {
		const char *name, *input;
		unsigned want;
	} cases[] = {
		{ "aws example", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 0 },
		{ "empty", "", SMTP_PW_SHAPE_EMPTY },
		{ "short", "some+secret+key", SMTP_PW_SHAPE_LENGTH },
		{ "inner space", "wJalrXUtnFEMI/K7MDENG bPxRfiCYEXAMPLEKEY",
		  SMTP_PW_SHAPE_WHITESPACE },
		{ "trailing newline", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE\n",
		  SMTP_PW_SHAPE_WHITESPACE },
		{ "two lines",
		  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		  SMTP_PW_SHAPE_WHITESPACE | SMTP_PW_SHAPE_LENGTH },
		{ "control", "wJalrXUtnFEMI/K7MDENG\001bPxRfiCYEXAMPLEKEY",
		  SMTP_PW_SHAPE_CONTROL },
		{ "key id", "AKIAIOSFODNN7EXAMPLE", SMTP_PW_SHAPE_KEY_ID },
		{ "session key id", "ASIAIOSFODNN7EXAMPLE", SMTP_PW_SHAPE_KEY_ID },
		{ "v4 password", "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS",
		  SMTP_PW_SHAPE_SMTP_PW },
		{ "v2 password", "An60U4ZD3sd4fg+FvXUjayOipTt8LO4rUUmhpdX6ctDy",
		  SMTP_PW_SHAPE_SMTP_PW },
		{ "odd chars", "wJalrXUtnFEMI-K7MDENG_bPxRfiCYEXAMPLEKEY",
		  SMTP_PW_SHAPE_ALPHABET },
		{ "quoted", "\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
		  SMTP_PW_SHAPE_ALPHABET | SMTP_PW_SHAPE_LENGTH },
	};
	struct secret s = SECRET_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_secret(&s, cases[i].input);
		if (smtp_pw_check_secret(&s) != cases[i].want)
			fail_msg("%s: got 0x%x, want 0x%x", cases[i].name,
				 smtp_pw_check_secret(&s), cases[i].want);
	}
	{
		char big[SMTP_PW_SHAPE_MAX_LEN + 1];

		memset(big, 'A', sizeof(big));
		assert_int_equal(secret_set(&s, big, sizeof(big)), SESCTL_OK);
		assert_true(smtp_pw_check_secret(&s) & SMTP_PW_SHAPE_TOO_LONG);
	}
	assert_int_equal(smtp_pw_check_secret(NULL), SMTP_PW_SHAPE_EMPTY);
	assert_true(SMTP_PW_SHAPE_ERRORS & SMTP_PW_SHAPE_KEY_ID);
	assert_false(SMTP_PW_SHAPE_ERRORS & SMTP_PW_SHAPE_LENGTH);
	secret_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_pw_v4_vectors),
		cmocka_unit_test(test_smtp_pw_v2_vectors),
		cmocka_unit_test(test_smtp_pw_published_vectors),
		cmocka_unit_test(test_smtp_pw_v4_depends_on_region),
		cmocka_unit_test(test_smtp_pw_rejects_bad_input),
		cmocka_unit_test(test_smtp_pw_check_secret_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
