/* test_region.c - the endpoint table against the TSV it came from, region
 * shapes, partitions and SMTP hosts. */
#include "testutil.h"

#include "sesctl/aws/region.h"

static void test_region_table_matches_tsv(void **state)
{
	char path[4096], *text, *line, *save = NULL, *f[8];
	size_t rows = 0, count;
	const struct region_info *table = region_table(&count);

	assert_non_null(table);

	(void)state;
	vector_path(path, sizeof(path), "ses-smtp-endpoints.tsv");
	text = read_text_file(path, NULL);
	line = strtok_r(text, "\n", &save);
	assert_string_equal(line, "region\tsmtp_host\tfips_host\tnotes");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		const struct region_info *ri;

		assert_true(split_tabs(line, f, 8) >= 3);
		ri = region_lookup(f[0]);
		if (!ri)
			fail_msg("region '%s' from the TSV is not in the table",
				 f[0]);
		if (strcmp(f[1], "-") == 0)
			assert_null(ri->smtp_host);
		else
			assert_string_equal(ri->smtp_host, f[1]);
		if (strcmp(f[2], "-") == 0)
			assert_null(ri->fips_host);
		else
			assert_string_equal(ri->fips_host, f[2]);
		assert_true(region_is_well_formed(f[0]));
		rows++;
	}
	assert_int_equal(rows, count);
	assert_int_equal(rows, 39);
	free(text);
}

static void test_region_well_formed(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "us-east-1", true },      { "eu-west-1", true },
		{ "us-gov-west-1", true },  { "eusc-de-east-1", true },
		{ "cn-northwest-1", true }, { "xx-future-12", true },
		{ "US-EAST-1", false },     { "us-east-1a", false },
		{ "us-east", false },       { "useast1", false },
		{ "us--east-1", false },    { "-us-east-1", false },
		{ "us-east-1-", false },    { "us_east_1", false },
		{ "", false },              { "us-east-1 ", false },
		{ "email-smtp.us-east-1.amazonaws.com", false },
		{ "aaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbb-1", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (region_is_well_formed(cases[i].name) != cases[i].ok)
			fail_msg("'%s': want %s", cases[i].name,
				 cases[i].ok ? "well formed" : "malformed");
	assert_false(region_is_well_formed(NULL));
}

static void test_region_partition(void **state)
{
	static const struct {
		const char *region, *partition, *endpoint, *signing;
	} cases[] = {
		{ "us-east-1", "aws", "https://iam.amazonaws.com", "us-east-1" },
		{ "eu-central-2", "aws", "https://iam.amazonaws.com",
		  "us-east-1" },
		{ "us-gov-east-1", "aws-us-gov",
		  "https://iam.us-gov.amazonaws.com", "us-gov-west-1" },
		{ "cn-northwest-1", "aws-cn",
		  "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
		{ "us-iso-east-1", "aws-iso",
		  "https://iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
		{ "us-isob-east-1", "aws-iso-b",
		  "https://iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1" },
		{ "eusc-de-east-1", "aws-eusc",
		  "https://iam.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct partition_info *p = region_partition(cases[i].region);

		assert_string_equal(p->name, cases[i].partition);
		assert_string_equal(p->iam_endpoint, cases[i].endpoint);
		assert_string_equal(p->iam_region, cases[i].signing);
	}
}

static void test_region_smtp_host(void **state)
{
	char host[REGION_HOST_MAX], tiny[8];

	(void)state;
	assert_int_equal(region_smtp_host("eu-west-1", host, sizeof(host)),
			 SESCTL_OK);
	assert_string_equal(host, "email-smtp.eu-west-1.amazonaws.com");
	assert_int_equal(region_smtp_host("eusc-de-east-1", host, sizeof(host)),
			 SESCTL_OK);
	assert_string_equal(host, "email-smtp.eusc-de-east-1.amazonaws.eu");
	/* Not in the table: the naming pattern of the partition. */
	assert_null(region_lookup("xx-future-1"));
	assert_int_equal(region_smtp_host("xx-future-1", host, sizeof(host)),
			 SESCTL_OK);
	assert_string_equal(host, "email-smtp.xx-future-1.amazonaws.com");
	assert_int_equal(region_smtp_host("cn-north-1", host, sizeof(host)),
			 SESCTL_OK);
	assert_string_equal(host, "email-smtp.cn-north-1.amazonaws.com.cn");
	/* Bad input is an error, never a truncated host. */
	assert_int_equal(region_smtp_host("US-EAST-1", host, sizeof(host)),
			 SESCTL_ERR_INPUT);
	assert_int_equal(region_smtp_host("us-east-1", tiny, sizeof(tiny)),
			 SESCTL_ERR_INPUT);
}

/* The region an SMTP host names, and where it ends. */
static void test_region_from_smtp_host(void **state)
{
	static const struct {
		const char *host, *region, *rest;
	} cases[] = {
		{ "email-smtp.eu-west-1.amazonaws.com", "eu-west-1",
		  ".amazonaws.com" },
		{ "email-smtp.cn-north-1.amazonaws.com.cn", "cn-north-1",
		  ".amazonaws.com.cn" },
		{ "vpce-0a1.email-smtp.ap-south-1.vpce.amazonaws.com",
		  "ap-south-1", ".vpce.amazonaws.com" },
		{ "email-smtp.us-east-1", "us-east-1", "" },
		{ "email-smtp.amazonaws.com", NULL, NULL },
		{ "email-smtp..amazonaws.com", NULL, NULL },
		{ "email-smtp.EU-WEST-1.amazonaws.com", NULL, NULL },
		{ "mail.example.com", NULL, NULL },
		{ "email-smtp.a-very-long-name-that-is-no-region-at-all-9.x",
		  NULL, NULL },
	};
	char out[REGION_NAME_MAX + 1];
	const char *end;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		end = region_from_smtp_host(cases[i].host, out, sizeof(out));
		if (!cases[i].region) {
			if (end || out[0])
				fail_msg("'%s' names region '%s'",
					 cases[i].host, out);
			continue;
		}
		if (!end)
			fail_msg("'%s' names no region", cases[i].host);
		assert_string_equal(out, cases[i].region);
		assert_string_equal(end, cases[i].rest);
	}
	/* Too small a buffer is no region, not a cut one. */
	assert_null(region_from_smtp_host("email-smtp.eu-west-1.x", out, 9));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_table_matches_tsv),
		cmocka_unit_test(test_region_well_formed),
		cmocka_unit_test(test_region_partition),
		cmocka_unit_test(test_region_smtp_host),
		cmocka_unit_test(test_region_from_smtp_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
