/* assume_role.c - the assume-role provider: a profile's role_arn through
 * STS AssumeRole (see creds_int.h). */
#include "creds_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/aws/sts.h"

/* ------------------------------------------------------------------ */
/* Assume role
 *
 * botocore's AssumeRoleProvider, for a profile with role_arn (and no
 * web_identity_token_file):
 * - The source is source_profile or credential_source, exactly one of
 *   them.  credential_source is Environment, EcsContainer or
 *   Ec2InstanceMetadata (case as written), and must find credentials.
 * - source_profile must exist.  If it has static keys
 *   (aws_access_key_id or aws_secret_access_key) or no role_arn, its
 *   credentials come from its own shared-credentials-file,
 *   credential_process and config-file providers (never the
 *   environment) and must be found there; otherwise it is assumed in
 *   turn.  A profile met twice is a loop, except a profile that names
 *   itself and has static keys.
 * - Parameters: role_session_name (default "sesctl-<epoch seconds>",
 *   botocore's "botocore-session-<epoch>"), external_id,
 *   duration_seconds.  mfa_serial is refused (sesctl never prompts).
 * - STS is called in the region of the session (--region, AWS_REGION,
 *   AWS_DEFAULT_REGION, the top profile's region), see sts.h.
 * Divergences: a duration_seconds that is not a number is an error
 * (botocore drops it silently), as is an empty role_arn. */

/* Credentials of source_profile `s` without assuming a role in it. */
static sesctl_err source_chain(struct state *st, const struct prof *s,
			       const char *parent, struct creds *out)
{
	size_t mark = st->looked_len;
	bool found = false;
	sesctl_err rc = SESCTL_OK;

	TRY(creds_check_unsupported(st, s, false));
	TRY(creds_from_credentials_file(st, s, out, &found));
	if (!found)
		TRY(creds_from_process(st, s, out, &found));
	if (!found)
		TRY(creds_from_config_file(st, s, out, &found));
	ENSURE(found, err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			      "source profile '%s' of profile '%s' has no "
			      "credentials; looked in %s",
			      s->name, parent, creds_looked_since(st, mark)));
out:
	return rc;
}

static sesctl_err loop_error(struct state *st, const char *again)
{
	char chain[ERR_MSG_MAX / 2] = "";
	size_t i, len = 0;
	int n;

	for (i = 0; i < st->n_visited && len < sizeof(chain); i++) {
		n = snprintf(chain + len, sizeof(chain) - len, "'%s' -> ",
			     st->visited[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len < sizeof(chain))
		snprintf(chain + len, sizeof(chain) - len, "'%s'", again);
	return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profiles %s form a loop through 'source_profile'; give "
		       "one of them credentials of its own "
		       "(aws_access_key_id, credential_process) or a "
		       "credential_source",
		       chain);
}

static sesctl_err role_source(struct state *st, const struct prof *p,
			      struct creds *src)
{
	struct val sp, cs, v;
	bool have_sp, have_cs, found = false, is_static, is_role;
	char name[PROFILE_MAX + 1], source[32];
	size_t mark = st->looked_len, i;
	struct prof s;
	sesctl_err rc = SESCTL_OK;

	have_sp = creds_prof_get(st, p, "source_profile", &sp);
	have_cs = creds_prof_get(st, p, "credential_source", &cs);
	ENSURE(!(have_sp && have_cs),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' has both 'source_profile' and "
		       "'credential_source'; keep one",
		       p->name));
	ENSURE(have_sp || have_cs,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' has 'role_arn' but neither "
		       "'source_profile' nor 'credential_source' to get the "
		       "credentials that assume it (e.g. 'source_profile = "
		       "default')",
		       p->name));
	if (have_cs) {
		TRY(creds_val_text(st, &cs, false, source, sizeof(source)));
		if (strcmp(source, "Environment") == 0)
			TRY(creds_from_env(st, src, &found));
		else if (strcmp(source, "EcsContainer") == 0)
			TRY(creds_from_container(st, src, &found));
		else if (strcmp(source, "Ec2InstanceMetadata") == 0) {
			char note[CREDS_SOURCE_MAX];

			TRY(creds_from_imds(st, src, &found, note,
					    sizeof(note)));
			if (!found)
				creds_looked_add(st, "%s", note);
		} else {
			rc = creds_val_error(
				st, &cs,
				"is not one of 'Environment', "
				"'EcsContainer', 'Ec2InstanceMetadata'");
			goto out;
		}
		ENSURE(found,
		       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "credential_source '%s' of profile '%s' "
			       "found no credentials: %s",
			       source, p->name, creds_looked_since(st, mark)));
		goto out;
	}

	TRY(creds_val_text(st, &sp, false, name, sizeof(name)));
	ENSURE(creds_prof_find(st, name, strlen(name), &s),
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "source profile '%s' of profile '%s' does not exist in "
		       "'%s' or '%s'",
		       name, p->name, st->config.path, st->credentials.path));
	is_static = creds_prof_get(st, &s, "aws_access_key_id", &v) ||
		    creds_prof_get(st, &s, "aws_secret_access_key", &v);
	is_role = creds_prof_get(st, &s, "role_arn", &v) &&
		  !creds_prof_get(st, &s, "web_identity_token_file", &v);
	for (i = 0; i < st->n_visited; i++) {
		if (strcmp(st->visited[i], s.name) != 0)
			continue;
		/* A profile may name itself to use its own keys. */
		ENSURE(strcmp(s.name, p->name) == 0 && is_static,
		       loop_error(st, s.name));
	}
	ENSURE(st->n_visited < CHAIN_MAX,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' is more than %d 'source_profile' steps "
		       "away from credentials",
		       st->visited[0], CHAIN_MAX));
	memcpy(st->visited[st->n_visited++], s.name, sizeof(s.name));
	if (is_static || !is_role)
		TRY(source_chain(st, &s, p->name, src));
	else
		TRY(creds_assume_role(st, &s, src));
out:
	return rc;
}

sesctl_err creds_assume_role(struct state *st, const struct prof *p,
			     struct creds *out)
{
	struct sts_assume_role_in in;
	struct sts_config cfg;
	struct iam_assume_role r;
	struct creds src;
	struct val v;
	char arn[IAM_XML_ARN_MAX + 1], session[80], ext[1300], dur[24];
	char *end = NULL;
	const char *region = NULL;
	size_t i, n;
	bool ok;
	sesctl_err rc = SESCTL_OK;

	creds_init(&src);
	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	if (!creds_prof_get(st, p, "role_arn", &v))
		return err_set(&st->ctx->err, SESCTL_ERR_FAIL,
			       "profile '%s' has no 'role_arn'", p->name);
	TRY(creds_val_text(st, &v, false, arn, sizeof(arn)));
	ENSURE(strncmp(arn, "arn:", 4) == 0 && !strpbrk(arn, " \t"),
	       creds_val_error(st, &v,
			       "is not a role ARN (like "
			       "'arn:aws:iam::123456789012:role/name')"));
	in.role_arn = arn;
	if (creds_prof_get(st, p, "mfa_serial", &v)) {
		rc = creds_val_error(
			st, &v,
			"is set, but sesctl cannot ask for an MFA code; "
			"use a credential_process that asks for it, or "
			"run sesctl with temporary credentials in "
			"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
			"AWS_SESSION_TOKEN (e.g. from 'aws sts "
			"get-session-token')");
		goto out;
	}
	if (creds_prof_get(st, p, "external_id", &v)) {
		TRY(creds_val_text(st, &v, false, ext, sizeof(ext)));
		in.external_id = ext;
	}
	if (creds_prof_get(st, p, "role_session_name", &v)) {
		TRY(creds_val_text(st, &v, false, session, sizeof(session)));
	} else {
		creds_set_text(session, sizeof(session), "sesctl-%lld",
			       (long long)ctx_now(st->ctx));
	}
	in.role_session_name = session;
	if (creds_prof_get(st, p, "duration_seconds", &v)) {
		TRY(creds_val_text(st, &v, false, dur, sizeof(dur)));
		errno = 0;
		in.duration_seconds = strtol(dur, &end, 10);
		ENSURE(!errno && end && !*end && dur[0] >= '0' &&
			       dur[0] <= '9' && in.duration_seconds > 0,
		       creds_val_error(st, &v, "is not a number of seconds"));
	}
	ENSURE(!st->net->offline,
	       err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "profile '%s' assumes role '%s', which is disabled "
		       "here",
		       p->name, arn));

	TRY(role_source(st, p, &src));

	creds_sts_region(st, &region);
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = region;
	cfg.ca_bundle = creds_ca_bundle(st);
	cfg.connect_timeout_ms = st->net->connect_timeout_ms;
	cfg.timeout_ms = st->net->timeout_ms;
	cfg.env = st->env;
	cfg.access_key_id = src.access_key_id;
	cfg.secret_key = &src.secret_key;
	cfg.session_token = src.session_token.len ? &src.session_token : NULL;
	ctx_debug(st->ctx,
		  "profile '%s': assuming role '%s' with credentials from %s",
		  p->name, arn, src.source);
	rc = sts_assume_role(st->ctx, &cfg, &in, &r);
	if (rc != SESCTL_OK) {
		rc = err_set(&st->ctx->err, rc,
			     "cannot assume role '%s' of profile '%s': %s", arn,
			     p->name, st->ctx->err.msg);
		goto out;
	}
	/* Check the id like any other (it goes into every signature), then
	 * move the secrets over without another copy. */
	n = strlen(r.access_key_id);
	ok = n >= CREDS_ACCESS_KEY_ID_MIN && n <= CREDS_ACCESS_KEY_ID_MAX;
	for (i = 0; ok && i < n; i++)
		ok = (r.access_key_id[i] >= 'A' && r.access_key_id[i] <= 'Z') ||
		     (r.access_key_id[i] >= '0' && r.access_key_id[i] <= '9');
	ENSURE(ok, err_set(&st->ctx->err, SESCTL_ERR_NETWORK,
			   "STS answered AssumeRole of role '%s' with an "
			   "access key id that is not one",
			   arn));
	memcpy(out->access_key_id, r.access_key_id, n + 1);
	out->secret_key = r.secret_access_key;
	out->session_token = r.session_token;
	memset(&r.secret_access_key, 0, sizeof(r.secret_access_key));
	memset(&r.session_token, 0, sizeof(r.session_token));
	out->expiration = r.expiration.t;
	creds_set_text(out->source, sizeof(out->source),
		       "role '%s' of profile '%s' (session '%s'), assumed with "
		       "credentials from %s",
		       arn, p->name, session, src.source);
out:
	iam_assume_role_release(&r);
	creds_release(&src);
	return rc;
}

sesctl_err creds_provider_assume_role(struct state *st, struct creds *out,
				      bool *found)
{
	struct val v;
	sesctl_err rc;

	if (!creds_prof_get(st, &st->top, "role_arn", &v) ||
	    creds_prof_get(st, &st->top, "web_identity_token_file", &v))
		return SESCTL_OK;
	st->n_visited = 0;
	memcpy(st->visited[st->n_visited++], st->top.name,
	       sizeof(st->top.name));
	rc = creds_assume_role(st, &st->top, out);
	if (rc == SESCTL_OK)
		*found = true;
	return rc;
}
