/* ssm.h - the AWS Systems Manager Parameter Store client (JSON 1.1, on the
 * AWS client core), for delivering SMTP settings as parameters.
 *
 * Endpoint: AWS_ENDPOINT_URL_SSM, else AWS_ENDPOINT_URL, else
 * https://ssm.<region>.<partition's DNS suffix>; signed for the region,
 * service "ssm".
 *
 * PutParameter is never repeated blindly (aws_client.h): after an unknown
 * outcome the parameter is read back (GetParameter with decryption) and
 * its value compared; the same value is "applied", anything else is sent
 * once more, now known to be safe.  A read-back that fails leaves
 * c->outcome_unknown set.  Values live only in struct secret.
 */
#ifndef SESCTL_SSM_H
#define SESCTL_SSM_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/aws/aws_client.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#define SSM_NAME_MAX 1011 /* a parameter name's limit, less "/SMTP_..." */
#define SSM_PARAMS_MAX 32 /* what ssm_list reads under one path */

struct ssm_client {
	struct aws_client aws;
	struct ctx *ctx;
	bool outcome_unknown;        /* the last change's */
	struct iam_error last_error; /* the last failed call's (code "") */
};

/* One parameter read by ssm_list: its full name and value (decrypted). */
struct ssm_param {
	char name[SSM_NAME_MAX + 64];
	struct secret value;
	bool secure; /* SecureString */
};

struct ssm_param_list {
	struct ssm_param items[SSM_PARAMS_MAX];
	size_t count;
};

MUST_USE sesctl_err ssm_client_init(struct ssm_client *c, struct ctx *ctx,
				    const struct aws_regional_config *cfg);
void ssm_client_release(struct ssm_client *c);

/* GetParametersByPath (not recursive, decrypted), every page, into `out`
 * (release with ssm_param_list_release). */
MUST_USE sesctl_err ssm_list(struct ssm_client *c, const char *path,
			     struct ssm_param_list *out);
void ssm_param_list_release(struct ssm_param_list *l);

/* GetParameter, decrypted: `value` (may be NULL); SESCTL_ERR_NOT_FOUND when
 * there is none. */
MUST_USE sesctl_err ssm_get(struct ssm_client *c, const char *name,
			    struct secret *value);

/* PutParameter `name` = `value`: a SecureString (with `kms_key_id`, NULL:
 * alias/aws/ssm) when `secure`, else a String.  `overwrite`: a new version
 * of an existing parameter; else a new one, tagged with `tags`. */
MUST_USE sesctl_err ssm_put(struct ssm_client *c, const char *name,
			    const struct secret *value, bool secure,
			    const char *kms_key_id, bool overwrite,
			    const struct aws_tag *tags, size_t n_tags);

/* ListTagsForResource of parameter `name`: whether it carries every one
 * of tags[n_tags] (key=value). */
MUST_USE sesctl_err ssm_has_tags(struct ssm_client *c, const char *name,
				 const struct aws_tag *tags, size_t n_tags,
				 bool *has);

/* AddTagsToResource (idempotent). */
MUST_USE sesctl_err ssm_tag(struct ssm_client *c, const char *name,
			    const struct aws_tag *tags, size_t n_tags);

/* DeleteParameter; one that is gone already counts as deleted. */
MUST_USE sesctl_err ssm_delete(struct ssm_client *c, const char *name);

#endif
