/* region.h - AWS regions: shape, partition, IAM endpoint and SES SMTP host.
 *
 * The table of SES SMTP endpoints comes from
 * tests/vectors/ses-smtp-endpoints.tsv (a unit test keeps them equal).
 * A well-formed region missing from the table is not an error: regions are
 * added faster than tables are updated, so callers warn and go on with the
 * host the naming pattern gives.
 */
#ifndef SESCTL_REGION_H
#define SESCTL_REGION_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/err.h"

#define REGION_NAME_MAX 32
#define REGION_HOST_MAX 128

#define SMTP_PORT_STARTTLS 587
#define SMTP_PORT_TLS 465

struct partition_info {
	const char *name;          /* "aws", "aws-cn", "aws-us-gov", ... */
	const char *dns_suffix;    /* "amazonaws.com", "amazonaws.com.cn", ... */
	const char *iam_endpoint;  /* "https://iam.amazonaws.com" */
	const char *iam_region;    /* the region IAM requests are signed for */
};

struct region_info {
	const char *name;      /* "eu-west-1" */
	const char *smtp_host; /* NULL: SES has no endpoint in this region */
	const char *fips_host; /* NULL unless a source lists one */
	const char *nearby;    /* without an SMTP host: the nearest regions
				  with one ("eu-west-1, eu-central-1"), NULL
				  if its partition has none */
};

/* True if `name` has the shape of an AWS region: lowercase letters, digits
 * and '-', at least three '-'-separated parts, the last a number, e.g.
 * "us-east-1", "us-gov-west-1", "eusc-de-east-1". */
bool region_is_well_formed(const char *name);

/* The table row for `name`, or NULL when the table does not know it. */
const struct region_info *region_lookup(const char *name);

/* The partition a well-formed region belongs to, from its prefix ("cn-" is
 * aws-cn, "us-gov-" aws-us-gov, ...; everything else aws). */
const struct partition_info *region_partition(const char *name);

/* The SES SMTP host for `name` into `out`: the table's host, or
 * "email-smtp.<region>.<dns suffix>" when the table does not know the
 * region or says SES has no endpoint there (the caller warns).
 * SESCTL_ERR_INPUT for a malformed region or a too-small buffer. */
MUST_USE sesctl_err region_smtp_host(const char *name, char *out,
				     size_t out_size);

/* The region named in an SES SMTP host, "email-smtp.<region>...", as in
 * "email-smtp.eu-west-1.amazonaws.com" or a VPC endpoint's
 * "vpce-1.email-smtp.eu-west-1.vpce.amazonaws.com", into `out`.  Returns
 * where the region ends in `host` ('.' or the end), or NULL (and `out`
 * "") when `host` names no well-formed region that fits. */
const char *region_from_smtp_host(const char *host, char *out, size_t size);

/* The rows of the table, for tests and completion. */
const struct region_info *region_table(size_t *count);

/* The region names joined with `sep` into out (always terminated); the
 * names that do not fit whole are left out.  Returns out. */
char *region_join(const char *const *regions, size_t n, const char *sep,
		  char *out, size_t size);

#endif
