/* cmd_smtp.c - the `sesctl smtp` commands. */
#include "sesctl/cli/cmd_smtp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/aws/creds.h"
#include "sesctl/cli/lifecycle.h"
#include "sesctl/smtp/output.h"
#include "sesctl/aws/region.h"
#include "sesctl/base/secret.h"
#include "sesctl/smtp/smtp_pw.h"
#include "sesctl/base/term.h"

/* Most we read from stdin when looking for a 40-character secret. */
#define SECRET_INPUT_MAX ((size_t)64 << 10)
#define ACCESS_KEY_ID_MIN 16
#define ACCESS_KEY_ID_MAX 128

/* A malformed region is a usage error; say what was probably meant. */
sesctl_err smtp_check_region(struct ctx *ctx, const char *region)
{
	char lower[REGION_NAME_MAX + 1];
	size_t len = strlen(region), i;

	if (region_is_well_formed(region))
		return SESCTL_OK;
	if (len <= REGION_NAME_MAX) {
		for (i = 0; i <= len; i++)
			lower[i] = (char)tolower((unsigned char)region[i]);
		if (region_is_well_formed(lower))
			return err_set(&ctx->err, SESCTL_ERR_USAGE,
				       "invalid region '%s'; did you mean '%s'?",
				       region, lower);
		/* us-east-1a: an availability zone */
		if (len > 1 && isalpha((unsigned char)region[len - 1])) {
			memcpy(lower, region, len - 1);
			lower[len - 1] = '\0';
			if (region_is_well_formed(lower))
				return err_set(&ctx->err, SESCTL_ERR_USAGE,
					       "'%s' is an availability zone; "
					       "the region is '%s'",
					       region, lower);
		}
	}
	if (region_from_smtp_host(region, lower, sizeof(lower)))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "'%s' is an SMTP host; pass the region, "
			       "'--region %s'",
			       region, lower);
	return err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "invalid region '%s'; a region looks like 'us-east-1' "
		       "or 'eu-west-1'",
		       region);
}

/* Warn about regions the endpoint table does not vouch for. */
void smtp_warn_region(struct ctx *ctx, const char *region, const char *host)
{
	const struct region_info *ri = region_lookup(region);

	if (!ri)
		ctx_warn(ctx,
			 "region '%s' is not in sesctl's table of SES SMTP "
			 "endpoints; deriving anyway%s%s",
			 region, host ? ", assuming SMTP host " : "",
			 host ? host : "");
	else if (!ri->smtp_host && host)
		ctx_warn(ctx,
			 "SES has no SMTP endpoint in '%s' as far as sesctl "
			 "knows (the SES Developer Guide lists none there), so "
			 "the host %s does not exist unless AWS has added it; "
			 "send through another region's SMTP endpoint",
			 region, host);
	else if (!ri->smtp_host)
		ctx_warn(ctx,
			 "SES has no SMTP endpoint in '%s' as far as sesctl "
			 "knows (the SES Developer Guide lists none there): a "
			 "password for it works only if AWS has added one; "
			 "send through another region's SMTP endpoint",
			 region);
}

sesctl_err smtp_refuse_no_endpoint(struct ctx *ctx, const char *region,
				   const char *escape)
{
	const struct region_info *ri = region_lookup(region);

	if (!ri || ri->smtp_host)
		return SESCTL_OK;
	if (!ri->nearby)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "SES has no SMTP endpoint in '%s' (nor anywhere "
			       "in its partition, %s), so its SMTP settings "
			       "would name a host that does not exist%s",
			       region, region_partition(region)->name,
			       escape ? escape : "");
	return err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "SES has no SMTP endpoint in '%s' (the SES Developer "
		       "Guide lists none there), so its SMTP settings would "
		       "name a host that does not exist; send through a "
		       "region that has one nearby: %s (--region %.*s)%s",
		       region, ri->nearby, (int)strcspn(ri->nearby, ","),
		       ri->nearby, escape ? escape : "");
}

static sesctl_err check_access_key_id(struct ctx *ctx, const char *id)
{
	size_t len = strlen(id), i;

	for (i = 0; i < len; i++)
		if (!isupper((unsigned char)id[i]) &&
		    !isdigit((unsigned char)id[i]))
			break;
	/* Not quoted: a value that is no key id may be the secret itself,
	 * pasted into the wrong option. */
	if (i < len || len < ACCESS_KEY_ID_MIN || len > ACCESS_KEY_ID_MAX)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "invalid --access-key-id; access key ids are "
			       "%d to %d capital letters and digits, like "
			       "'AKIAIOSFODNN7EXAMPLE'",
			       ACCESS_KEY_ID_MIN, ACCESS_KEY_ID_MAX);
	if (strncmp(id, "ASIA", 4) == 0)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "'%s' is a temporary (STS) access key, which "
			       "never works for SES SMTP\nuse a long-term IAM "
			       "user key (AKIA...); 'sesctl smtp enable' creates "
			       "one",
			       id);
	if (strncmp(id, "AKIA", 4) != 0)
		ctx_warn(ctx,
			 "access key id '%s' does not start with 'AKIA' as IAM "
			 "user keys do",
			 id);
	return SESCTL_OK;
}

/* Read the secret from stdin (no echo on a terminal) or the environment,
 * never from argv. */
static sesctl_err read_secret(struct ctx *ctx, bool from_env,
			      struct secret *key)
{
	sesctl_err rc = SESCTL_OK;

	if (from_env) {
		char *v = getenv("AWS_SECRET_ACCESS_KEY");

		if (!v)
			return err_set(&ctx->err, SESCTL_ERR_INPUT,
				       "--from-env: AWS_SECRET_ACCESS_KEY is "
				       "not set");
		rc = secret_set(key, v, strlen(v));
		/* Our copy is enough: blank the one in our environment
		 * block, which /proc/PID/environ would otherwise show. */
		secret_wipe(v, strlen(v));
		if (rc != SESCTL_OK)
			return err_set(&ctx->err, rc,
				       "AWS_SECRET_ACCESS_KEY is too long");
		return SESCTL_OK;
	}
	if (term_is_tty(ctx->in_fd)) {
		rc = term_read_secret(ctx->in_fd, ctx->err_fd,
				      "Secret access key (input hidden): ", key,
				      SECRET_INPUT_MAX);
		if (rc == SESCTL_ERR_INPUT)
			return err_set(&ctx->err, rc,
				       "the secret access key typed is over "
				       "%zu bytes",
				       SECRET_INPUT_MAX);
		if (rc != SESCTL_OK)
			return err_set(&ctx->err, rc,
				       "could not read the secret access key "
				       "from the terminal");
		return SESCTL_OK;
	}
	rc = secret_read_fd(key, ctx->in_fd, SECRET_INPUT_MAX);
	if (rc == SESCTL_ERR_INPUT)
		return err_set(&ctx->err, rc,
			       "more than %zu bytes on standard input; pipe "
			       "only the 40-character secret access key",
			       SECRET_INPUT_MAX);
	if (rc != SESCTL_OK)
		return err_set(&ctx->err, rc,
			       "could not read the secret access key from "
			       "standard input");
	/* `echo "$SECRET" |` adds one line break: drop it (and a CR). */
	if (key->len > 0 && key->p[key->len - 1] == '\n') {
		key->p[--key->len] = 0;
		if (key->len > 0 && key->p[key->len - 1] == '\r')
			key->p[--key->len] = 0;
	}
	return SESCTL_OK;
}

static sesctl_err check_secret(struct ctx *ctx, const struct secret *key,
			       bool from_env)
{
	unsigned shape = smtp_pw_check_secret(key);
	const char *src = from_env ? "AWS_SECRET_ACCESS_KEY" :
				     "the secret access key";

	if (shape & SMTP_PW_SHAPE_EMPTY)
		return err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "%s is empty%s", src,
			       from_env ? "" :
					  "\npipe it on standard input: printf "
					  "'%s' \"$SECRET\" | sesctl smtp derive "
					  "--region REGION");
	if (shape & SMTP_PW_SHAPE_TOO_LONG)
		return err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "%s is %zu bytes long; AWS secret access keys "
			       "are %d characters, so pass only the key",
			       src, key->len, SMTP_PW_SECRET_KEY_LEN);
	if (shape & SMTP_PW_SHAPE_KEY_ID)
		return err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "%s looks like an access key id, not a secret "
			       "access key\nthe secret is the %d-character value "
			       "shown once when the key was created",
			       src, SMTP_PW_SECRET_KEY_LEN);
	if (shape & SMTP_PW_SHAPE_WHITESPACE)
		return err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "%s contains spaces, tabs or line breaks; pass "
			       "only the key itself (no quotes, no "
			       "'aws_secret_access_key =' prefix, one line)",
			       src);
	if (shape & SMTP_PW_SHAPE_CONTROL)
		return err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "%s contains control characters; pass only "
			       "the key itself",
			       src);
	if (shape & SMTP_PW_SHAPE_SMTP_PW)
		ctx_warn(ctx,
			 "%s looks like an SES SMTP password already (%d "
			 "characters starting with '%c'); derive from the IAM "
			 "secret access key instead",
			 src, SMTP_PW_LEN, key->p[0]);
	if (shape & SMTP_PW_SHAPE_LENGTH)
		ctx_warn(ctx,
			 "%s is %zu characters; AWS secret access keys are %d, "
			 "so check for a truncated or extended paste",
			 src, key->len, SMTP_PW_SECRET_KEY_LEN);
	if (shape & SMTP_PW_SHAPE_ALPHABET)
		ctx_warn(ctx,
			 "%s contains characters other than A-Z, a-z, 0-9, "
			 "'+' and '/', which AWS secret access keys never do",
			 src);
	return SESCTL_OK;
}

sesctl_err smtp_derive(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct secret key = SECRET_INIT, pw = SECRET_INIT, out = SECRET_INIT;
	const struct output_format *fmt = NULL;
	struct creds_opts co = { .region = opts_get(o, OPT_REGION) };
	struct creds_region reg;
	const char *region, *akid = opts_get(o, OPT_ACCESS_KEY_ID);
	const char *fmt_name = opts_get(o, OPT_FORMAT);
	bool v2 = opts_has(o, OPT_LEGACY_V2);
	bool from_env = opts_has(o, OPT_FROM_ENV), k8s;
	char host[REGION_HOST_MAX] = "";
	sesctl_err rc = SESCTL_OK;
	int i;

	if (argc > 0) {
		/* Most likely the secret itself: blank it in our argv. */
		for (i = 0; i < argc; i++)
			cli_wipe_arg(argv[i]);
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
			     "'sesctl smtp derive' takes no arguments; the "
			     "secret is never read from the command line, where "
			     "ps and shell history keep it\npipe it on standard "
			     "input: printf '%%s' \"$SECRET\" | sesctl smtp "
			     "derive --region REGION\nor export "
			     "AWS_SECRET_ACCESS_KEY and add --from-env");
		goto out;
	}

	ENSURE(opts_count(o, OPT_REGION) <= 1,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'sesctl smtp derive' takes one --region; run it once "
		       "per region"));
	if (akid || fmt_name) {
		fmt = output_lookup(fmt_name ? fmt_name : "env");
		ENSURE(fmt, err_set(&ctx->err, SESCTL_ERR_USAGE,
				    "--format %s is not an SMTP settings "
				    "format; use env, export, dotenv, json, "
				    "postfix or k8s-secret", fmt_name));
		ENSURE(akid || !(fmt->flags & OUTPUT_NEEDS_USER),
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--format %s needs --access-key-id (the SMTP "
			       "user name)",
			       fmt->name));
	}
	TRY(lc_check_k8s_opts(ctx, o));
	k8s = fmt && (fmt->flags & OUTPUT_NEEDS_K8S_NAME);
	ENSURE(k8s || (!opts_has(o, OPT_K8S_NAME) &&
		       !opts_has(o, OPT_K8S_NAMESPACE)),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--%s only applies with --format k8s-secret",
		       opts_has(o, OPT_K8S_NAME) ? "k8s-name" :
						   "k8s-namespace"));
	/* There is no IAM user here to name the Secret after. */
	ENSURE(!k8s || opts_has(o, OPT_K8S_NAME),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--format k8s-secret needs --k8s-name with derive: "
		       "the name of the Secret the app reads (derive knows "
		       "no IAM user to name it after)"));
	if (akid)
		TRY(check_access_key_id(ctx, akid));

	/* --region > AWS_REGION > AWS_DEFAULT_REGION > the profile's.  A v2
	 * password alone does not depend on the region, so none is needed. */
	region = NULL;
	if (!v2 || fmt || opts_get(o, OPT_REGION)) {
		TRY(creds_region(ctx, &co, &reg));
		region = reg.name;
	}
	if (region) {
		TRY(smtp_check_region(ctx, region));
		if (fmt)
			TRY(smtp_refuse_no_endpoint(ctx, region, NULL));
		if (fmt)
			TRY(region_smtp_host(region, host, sizeof(host)));
		smtp_warn_region(ctx, region, fmt ? host : NULL);
	}
	if (v2)
		ctx_warn(ctx, "--legacy-v2: the v2 algorithm is deprecated and "
			      "SES rejects v2 passwords with '535 Authentication "
			      "Credentials Invalid'; use it only for a server "
			      "that still needs it");

	TRY(read_secret(ctx, from_env, &key));
	TRY(check_secret(ctx, &key, from_env));

	if (v2)
		rc = smtp_pw_v2(&key, &pw);
	else
		rc = smtp_pw_v4(&key, region, &pw);
	ENSURE(rc == SESCTL_OK,
	       err_set(&ctx->err, rc, "could not derive the SMTP password"));
	ctx_debug(ctx, "derived the %s SMTP password%s%s", v2 ? "v2" : "v4",
		  v2 ? "" : " for region ", v2 ? "" : region);

	if (fmt) {
		struct smtp_creds c = { region, host, SMTP_PORT_STARTTLS, akid,
					&pw };
		struct output_meta meta = { opts_get(o, OPT_K8S_NAME),
					    opts_get(o, OPT_K8S_NAMESPACE) };

		TRY(output_render(fmt, &c, 1, &meta, &out));
	} else {
		TRY(secret_set(&out, pw.p, pw.len));
		TRY(secret_append(&out, "\n", 1));
	}
	TRY(ctx_write_out(ctx, out.p, out.len));
out:
	secret_free(&key);
	secret_free(&pw);
	secret_free(&out);
	return rc;
}
