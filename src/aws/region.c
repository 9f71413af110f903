/* region.c - region shape, partitions and the SES SMTP endpoint table. */
#include "sesctl/aws/region.h"

#include <stdio.h>
#include <string.h>

/* From tests/vectors/ses-smtp-endpoints.tsv (region, SMTP host, FIPS SMTP
 * host; NULL where the table says "-").  Rows with a NULL SMTP host are
 * regions where SES has no SMTP endpoint: no SES at all there, or only its
 * API (the SES Developer Guide lists af-south-1, ap-southeast-3,
 * eu-south-1, il-central-1 and me-south-1 among the regions without SMTP
 * endpoints).  test_region checks this table against the TSV row by row. */
static const struct region_info regions[] = {
	{ "af-south-1", NULL, NULL, "eu-west-1, eu-central-1" },
	{ "ap-east-1", NULL, NULL, "ap-southeast-1, ap-northeast-1" },
	{ "ap-east-2", NULL, NULL, "ap-northeast-1, ap-southeast-1" },
	{ "ap-northeast-1", "email-smtp.ap-northeast-1.amazonaws.com", NULL, NULL },
	{ "ap-northeast-2", "email-smtp.ap-northeast-2.amazonaws.com", NULL, NULL },
	{ "ap-northeast-3", "email-smtp.ap-northeast-3.amazonaws.com", NULL, NULL },
	{ "ap-south-1", "email-smtp.ap-south-1.amazonaws.com", NULL, NULL },
	{ "ap-south-2", "email-smtp.ap-south-2.amazonaws.com", NULL, NULL },
	{ "ap-southeast-1", "email-smtp.ap-southeast-1.amazonaws.com", NULL, NULL },
	{ "ap-southeast-2", "email-smtp.ap-southeast-2.amazonaws.com", NULL, NULL },
	{ "ap-southeast-3", NULL, NULL, "ap-southeast-1, ap-southeast-5" },
	{ "ap-southeast-4", NULL, NULL, "ap-southeast-2" },
	{ "ap-southeast-5", "email-smtp.ap-southeast-5.amazonaws.com", NULL, NULL },
	{ "ap-southeast-6", NULL, NULL, "ap-southeast-2" },
	{ "ap-southeast-7", NULL, NULL, "ap-southeast-1, ap-southeast-5" },
	{ "ca-central-1", "email-smtp.ca-central-1.amazonaws.com", NULL, NULL },
	{ "ca-west-1", "email-smtp.ca-west-1.amazonaws.com", NULL, NULL },
	{ "eu-central-1", "email-smtp.eu-central-1.amazonaws.com", NULL, NULL },
	{ "eu-central-2", "email-smtp.eu-central-2.amazonaws.com", NULL, NULL },
	{ "eu-north-1", "email-smtp.eu-north-1.amazonaws.com", NULL, NULL },
	{ "eu-south-1", NULL, NULL, "eu-central-1, eu-west-3" },
	{ "eu-south-2", NULL, NULL, "eu-west-3, eu-west-1" },
	{ "eu-west-1", "email-smtp.eu-west-1.amazonaws.com", NULL, NULL },
	{ "eu-west-2", "email-smtp.eu-west-2.amazonaws.com", NULL, NULL },
	{ "eu-west-3", "email-smtp.eu-west-3.amazonaws.com", NULL, NULL },
	{ "il-central-1", NULL, NULL, "me-central-1, eu-central-1" },
	{ "me-central-1", "email-smtp.me-central-1.amazonaws.com", NULL, NULL },
	{ "me-south-1", NULL, NULL, "me-central-1, ap-south-1" },
	{ "mx-central-1", NULL, NULL, "us-east-2, us-west-1" },
	{ "sa-east-1", "email-smtp.sa-east-1.amazonaws.com", NULL, NULL },
	{ "us-east-1", "email-smtp.us-east-1.amazonaws.com", "email-smtp-fips.us-east-1.amazonaws.com", NULL },
	{ "us-east-2", "email-smtp.us-east-2.amazonaws.com", NULL, NULL },
	{ "us-west-1", "email-smtp.us-west-1.amazonaws.com", NULL, NULL },
	{ "us-west-2", "email-smtp.us-west-2.amazonaws.com", "email-smtp-fips.us-west-2.amazonaws.com", NULL },
	{ "us-gov-east-1", "email-smtp.us-gov-east-1.amazonaws.com", NULL, NULL },
	{ "us-gov-west-1", "email-smtp.us-gov-west-1.amazonaws.com", "email-smtp-fips.us-gov-west-1.amazonaws.com", NULL },
	{ "cn-north-1", NULL, NULL, NULL },
	{ "cn-northwest-1", NULL, NULL, NULL },
	{ "eusc-de-east-1", "email-smtp.eusc-de-east-1.amazonaws.eu", NULL, NULL },
};

/* Longest prefixes first: "us-gov-" must win over the default. */
static const struct {
	const char *prefix;
	struct partition_info info;
} partitions[] = {
	{ "cn-", { "aws-cn", "amazonaws.com.cn",
		   "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1" } },
	{ "us-gov-", { "aws-us-gov", "amazonaws.com",
		       "https://iam.us-gov.amazonaws.com", "us-gov-west-1" } },
	{ "us-isob-", { "aws-iso-b", "sc2s.sgov.gov",
			"https://iam.us-isob-east-1.sc2s.sgov.gov",
			"us-isob-east-1" } },
	{ "us-iso-", { "aws-iso", "c2s.ic.gov",
		       "https://iam.us-iso-east-1.c2s.ic.gov",
		       "us-iso-east-1" } },
	{ "us-isof-", { "aws-iso-f", "csp.hci.ic.gov",
			"https://iam.us-isof-south-1.csp.hci.ic.gov",
			"us-isof-south-1" } },
	{ "eu-isoe-", { "aws-iso-e", "cloud.adc-e.uk",
			"https://iam.eu-isoe-west-1.cloud.adc-e.uk",
			"eu-isoe-west-1" } },
	{ "eusc-", { "aws-eusc", "amazonaws.eu",
		     "https://iam.eusc-de-east-1.amazonaws.eu",
		     "eusc-de-east-1" } },
};

static const struct partition_info partition_aws = {
	"aws", "amazonaws.com", "https://iam.amazonaws.com", "us-east-1"
};

bool region_is_well_formed(const char *name)
{
	size_t len, i, parts = 1;
	const char *last;

	if (!name)
		return false;
	len = strlen(name);
	if (len < 5 || len > REGION_NAME_MAX)
		return false;
	if (name[0] < 'a' || name[0] > 'z' || name[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '-') {
			if (name[i + 1] == '-')
				return false;
			parts++;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			return false;
		}
	}
	if (parts < 3)
		return false;
	last = strrchr(name, '-') + 1;
	for (; *last; last++)
		if (*last < '0' || *last > '9')
			return false;
	return true;
}

const struct region_info *region_lookup(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		if (strcmp(regions[i].name, name) == 0)
			return &regions[i];
	return NULL;
}

const struct partition_info *region_partition(const char *name)
{
	size_t i;

	if (!name)
		return &partition_aws;
	for (i = 0; i < sizeof(partitions) / sizeof(partitions[0]); i++)
		if (strncmp(name, partitions[i].prefix,
			    strlen(partitions[i].prefix)) == 0)
			return &partitions[i].info;
	return &partition_aws;
}

sesctl_err region_smtp_host(const char *name, char *out, size_t out_size)
{
	const struct region_info *ri;
	int n;

	if (!region_is_well_formed(name))
		return SESCTL_ERR_INPUT;
	ri = region_lookup(name);
	if (ri && ri->smtp_host)
		n = snprintf(out, out_size, "%s", ri->smtp_host);
	else
		n = snprintf(out, out_size, "email-smtp.%s.%s", name,
			     region_partition(name)->dns_suffix);
	if (n < 0 || (size_t)n >= out_size)
		return SESCTL_ERR_INPUT;
	return SESCTL_OK;
}

const struct region_info *region_table(size_t *count)
{
	*count = sizeof(regions) / sizeof(regions[0]);
	return regions;
}

const char *region_from_smtp_host(const char *host, char *out, size_t size)
{
	const char *p = strstr(host, "email-smtp.");
	size_t len;

	if (size > 0)
		out[0] = '\0';
	if (!p)
		return NULL;
	p += strlen("email-smtp.");
	len = strcspn(p, ".");
	if (len == 0 || len >= size)
		return NULL;
	memcpy(out, p, len);
	out[len] = '\0';
	if (!region_is_well_formed(out)) {
		out[0] = '\0';
		return NULL;
	}
	return p + len;
}

char *region_join(const char *const *names, size_t n, const char *sep,
		  char *out, size_t size)
{
	size_t i, len = 0;

	if (size == 0)
		return out;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		int w = snprintf(out + len, size - len, "%s%s", i ? sep : "",
				 names[i]);

		if (w < 0 || (size_t)w >= size - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	return out;
}
