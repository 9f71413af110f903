/* secretsmanager.h - the AWS Secrets Manager client (JSON 1.1, on the
 * AWS client core), for delivering SMTP settings to a secret.
 *
 * Endpoint: AWS_ENDPOINT_URL_SECRETS_MANAGER, else AWS_ENDPOINT_URL, else
 * https://secretsmanager.<region>.<partition's DNS suffix>; signed for
 * the region, service "secretsmanager".
 *
 * Changes are never repeated blindly (aws_client.h).  Each typed change
 * below resolves an unknown outcome itself by reading the state back, as
 * the IAM changes do: a version written with ClientRequestToken T is
 * looked up by VersionId T (and its value compared); a staging label is
 * looked up in DescribeSecret's VersionIdsToStages; a deletion by
 * DescribeSecret.  Applied: SESCTL_OK.  Not applied: sent once more, now
 * known to be safe.  The read-back fails: SESCTL_ERR_NETWORK with
 * c->outcome_unknown set and a message saying which 'aws secretsmanager'
 * command shows the state.
 *
 * Secret values live only in struct secret (cJSON's allocations are
 * wiped, output_init); the --debug log never shows a request body.
 */
#ifndef SESCTL_SECRETSMANAGER_H
#define SESCTL_SECRETSMANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/aws/aws_client.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#define SM_ARN_MAX 2048
#define SM_NAME_MAX 512     /* SecretId: a name (<= 512) or an ARN */
#define SM_VERSION_MAX 64   /* VersionId: 32 to 64 characters */
#define SM_TAG_VALUE_MAX 256
#define SM_VERSIONS_MAX 32  /* versions DescribeSecret's map may list */
#define SM_STAGE_CURRENT "AWSCURRENT"
#define SM_STAGE_PENDING "AWSPENDING"
#define SM_STAGE_PREVIOUS "AWSPREVIOUS"


struct sm_client {
	struct aws_client aws;
	struct ctx *ctx;
	bool outcome_unknown;      /* the last change's, as iam_client's */
	struct iam_error last_error; /* the last failed call's (code "") */
};

/* What DescribeSecret says about a secret. */
struct sm_secret_info {
	char arn[SM_ARN_MAX + 1];
	char name[SM_NAME_MAX + 1];
	bool deleted;            /* DeletedDate: scheduled for deletion */
	bool tagged_managed;     /* ManagedBy=sesctl */
	char user[SM_TAG_VALUE_MAX + 1]; /* SesctlUser, "" if none */
	char current[SM_VERSION_MAX + 1]; /* AWSCURRENT's version, "" none */
	char pending[SM_VERSION_MAX + 1]; /* AWSPENDING's */
	char previous[SM_VERSION_MAX + 1]; /* AWSPREVIOUS's */
};

MUST_USE sesctl_err sm_client_init(struct sm_client *c, struct ctx *ctx,
				   const struct aws_regional_config *cfg);
void sm_client_release(struct sm_client *c);

/* A fresh ClientRequestToken (a random UUID, as the SDKs make), into
 * out[37]. */
MUST_USE sesctl_err sm_token(struct ctx *ctx, char out[37]);

/* DescribeSecret.  SESCTL_ERR_NOT_FOUND: no such secret. */
MUST_USE sesctl_err sm_describe(struct sm_client *c, const char *id,
				struct sm_secret_info *out);

/* CreateSecret `name` with `value` as its first version (VersionId
 * `token`, staged AWSCURRENT), encrypted with `kms_key_id` (NULL: the
 * account's aws/secretsmanager key), tagged with `tags`.  The new ARN
 * into arn[SM_ARN_MAX + 1] (may be NULL). */
MUST_USE sesctl_err sm_create(struct sm_client *c, const char *name,
			      const struct secret *value, const char *token,
			      const char *kms_key_id, const struct aws_tag *tags,
			      size_t n_tags, char *arn);

/* PutSecretValue: a new version `token` of secret `id` holding `value`,
 * staged `stage` only (SM_STAGE_PENDING; NULL: Secrets Manager's default,
 * AWSCURRENT). */
MUST_USE sesctl_err sm_put(struct sm_client *c, const char *id,
			   const struct secret *value, const char *token,
			   const char *stage);

/* GetSecretValue of version `version_id` (or, when NULL, stage `stage`):
 * its SecretString into `value`, its VersionId into
 * version[SM_VERSION_MAX + 1] (may be NULL).  SESCTL_ERR_NOT_FOUND: no
 * such secret or version. */
MUST_USE sesctl_err sm_get_value(struct sm_client *c, const char *id,
				 const char *version_id, const char *stage,
				 struct secret *value, char *version);

/* UpdateSecretVersionStage: put `stage` on version `to` (NULL: only
 * remove it) and take it off `from` (NULL: it is on no version).  Moving
 * AWSCURRENT makes the version it leaves AWSPREVIOUS. */
MUST_USE sesctl_err sm_move_stage(struct sm_client *c, const char *id,
				  const char *stage, const char *to,
				  const char *from);

/* TagResource: set `tags` on secret `id` (idempotent). */
MUST_USE sesctl_err sm_tag(struct sm_client *c, const char *id,
			   const struct aws_tag *tags, size_t n_tags);

/* DeleteSecret without a recovery window (the settings it holds are of a
 * deleted key).  A secret that is already gone counts as deleted. */
MUST_USE sesctl_err sm_delete(struct sm_client *c, const char *id);

#endif
