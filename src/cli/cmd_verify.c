/* cmd_verify.c - sesctl smtp verify, and --verify for enable and rotate
 * (see cmd_verify.h); the login itself is smtp/smtp_verify.c. */
#include "sesctl/cli/cmd_verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sesctl/aws/creds.h"
#include "sesctl/aws/region.h"
#include "sesctl/base/term.h"
#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/smtp/output.h"
#include "sesctl/smtp/smtp_login.h"
#include "sesctl/smtp/smtp_pw.h"
#include "sesctl/smtp/smtp_verify.h"

#define SETTINGS_INPUT_MAX ((size_t)64 << 10)

static sesctl_err parse_timeout(struct ctx *ctx, const struct opts *o,
				long dflt, long *out)
{
	return opts_number(&ctx->err, o, OPT_VERIFY_TIMEOUT, 0,
			   SMTP_VERIFY_MAX_TIMEOUT_S, dflt, "seconds", out);
}

static const char *ca_bundle(const struct opts *o)
{
	const char *v = opts_get(o, OPT_CA_BUNDLE);

	if (!v || !*v)
		v = getenv("AWS_CA_BUNDLE");
	return v && *v ? v : NULL;
}

sesctl_err smtp_verify_check_opts(struct ctx *ctx, const struct opts *o,
				  size_t n_regions)
{
	long t;
	sesctl_err rc = SESCTL_OK;
	struct smtp_login_target target;

	if (!opts_has(o, OPT_VERIFY)) {
		ENSURE(!opts_has(o, OPT_VERIFY_TIMEOUT) &&
			       !opts_has(o, OPT_SMTP_ENDPOINT_URL),
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--%s only applies with --verify",
			       opts_has(o, OPT_VERIFY_TIMEOUT) ?
				       "verify-timeout" :
				       "smtp-endpoint-url"));
		return SESCTL_OK;
	}
	TRY(parse_timeout(ctx, o, SMTP_VERIFY_DEFAULT_TIMEOUT_S, &t));
	if (opts_has(o, OPT_SMTP_ENDPOINT_URL)) {
		ENSURE(n_regions <= 1,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "--smtp-endpoint-url names one SMTP server, but "
			       "there are %zu regions; verify them one at a "
			       "time",
			       n_regions));
		TRY(smtp_login_target_from_url(
			ctx, opts_get(o, OPT_SMTP_ENDPOINT_URL), &target));
	}
out:
	return rc;
}

sesctl_err smtp_verify_new_key(struct lc *lc, const char *key_id,
			       const struct secret *secret_key)
{
	struct smtp_verify_opts vo;
	struct secret pw = SECRET_INIT;
	char host[REGION_HOST_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i;

	memset(&vo, 0, sizeof(vo));
	vo.ca_bundle = ca_bundle(lc->o);
	vo.endpoint_url = opts_get(lc->o, OPT_SMTP_ENDPOINT_URL);
	vo.new_key = true;
	TRY(parse_timeout(lc->ctx, lc->o, SMTP_VERIFY_DEFAULT_TIMEOUT_S,
			  &vo.timeout_s));
	for (i = 0; i < lc->n_regions; i++) {
		TRY(region_smtp_host(lc->regions[i], host, sizeof(host)));
		rc = smtp_pw_v4(secret_key, lc->regions[i], &pw);
		ENSURE(rc == SESCTL_OK,
		       err_set(&lc->ctx->err, rc,
			       "could not derive the SMTP password"));
		TRY(smtp_verify_login(lc->ctx, &vo, lc->regions[i], host,
				      SMTP_PORT_STARTTLS, key_id, &pw));
		secret_free(&pw);
	}
out:
	secret_free(&pw);
	return rc;
}

/* ---- sesctl smtp verify --------------------------------------------- */

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* SMTP_USER, SMTP_PASS, SMTP_HOST, SMTP_PORT from the environment. */
static sesctl_err settings_from_env(struct ctx *ctx, struct smtp_settings *s)
{
	struct smtp_setting *st = &s->item[0];
	const char *user = env_nonempty("SMTP_USER");
	const char *host = env_nonempty("SMTP_HOST");
	const char *port = env_nonempty("SMTP_PORT");
	char *pass = getenv("SMTP_PASS");
	sesctl_err rc = SESCTL_OK;

	ENSURE(user && pass && *pass,
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "--from-env: %s is not set",
		       user ? "SMTP_PASS" : "SMTP_USER"));
	ENSURE(strlen(user) < sizeof(st->user),
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "--from-env: SMTP_USER is too long"));
	strcpy(st->user, user);
	TRY(secret_set(&st->password, pass, strlen(pass)));
	/* Our copy is enough: /proc/PID/environ would show this one. */
	secret_wipe(pass, strlen(pass));
	if (host) {
		ENSURE(strlen(host) < sizeof(st->host),
		       err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "--from-env: SMTP_HOST is too long"));
		strcpy(st->host, host);
	}
	if (port) {
		char *end = NULL;
		long p = strtol(port, &end, 10);

		ENSURE(*end == '\0' && p >= 1 && p <= 65535,
		       err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "--from-env: SMTP_PORT '%s' is not a port", port));
		st->port = (int)p;
	}
	s->n = 1;
out:
	return rc;
}

/* A line typed on the terminal, with echo (the user name). */
static sesctl_err read_tty_line(struct ctx *ctx, const char *prompt, char *out,
				size_t size)
{
	size_t n = 0;
	char c;
	ssize_t r;

	(void)!write(ctx->err_fd, prompt, strlen(prompt));
	for (;;) {
		r = read(ctx->in_fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 < size)
			out[n++] = c;
	}
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	if (n == 0)
		return err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "no SMTP user name given");
	return SESCTL_OK;
}

static sesctl_err settings_from_tty(struct ctx *ctx, struct smtp_settings *s)
{
	struct smtp_setting *st = &s->item[0];
	sesctl_err rc = SESCTL_OK;

	TRY(read_tty_line(ctx, "SMTP user name (the access key id): ",
			  st->user, sizeof(st->user)));
	rc = term_read_secret(ctx->in_fd, ctx->err_fd,
			      "SMTP password (input hidden): ", &st->password,
			      SETTINGS_INPUT_MAX);
	ENSURE(rc == SESCTL_OK,
	       err_set(&ctx->err, rc,
		       "could not read the SMTP password from the terminal"));
	ENSURE(st->password.len > 0,
	       err_set(&ctx->err, SESCTL_ERR_INPUT, "the SMTP password is "
						    "empty"));
	s->n = 1;
out:
	return rc;
}

static sesctl_err settings_from_file(struct ctx *ctx, const char *path,
				     struct smtp_settings *s)
{
	struct secret text = SECRET_INIT;
	char source[600];
	sesctl_err rc = SESCTL_OK;
	unsigned mode = 0;

	snprintf(source, sizeof(source), "'%s'", path);
	rc = secret_read_file(&ctx->err, NULL, path, 0, SETTINGS_INPUT_MAX,
			      &text, NULL, &mode);
	ENSURE(rc != SESCTL_ERR_INPUT,
	       err_set(&ctx->err, rc, "'%s' is over %zu bytes; it is not "
				      "an SMTP settings file",
		       path, SETTINGS_INPUT_MAX));
	TRY(rc);
	if (S_ISREG(mode) && (mode & 077))
		ctx_warn(ctx,
			 "'%s' holds an SMTP password and others can read it "
			 "(mode %03o); chmod 600 '%s'",
			 path, mode & 0777, path);
	TRY(output_parse(&ctx->err, secret_str(&text), text.len, source, s));
out:
	secret_free(&text);
	return rc;
}

static sesctl_err settings_from_stdin(struct ctx *ctx, struct smtp_settings *s)
{
	struct secret text = SECRET_INIT;
	sesctl_err rc = secret_read_fd(&text, ctx->in_fd, SETTINGS_INPUT_MAX);

	ENSURE(rc != SESCTL_ERR_INPUT,
	       err_set(&ctx->err, rc, "more than %zu bytes on standard input",
		       SETTINGS_INPUT_MAX));
	ENSURE(rc == SESCTL_OK,
	       err_set(&ctx->err, rc, "could not read standard input"));
	TRY(output_parse(&ctx->err, secret_str(&text), text.len,
			 "standard input", s));
out:
	secret_free(&text);
	return rc;
}

/* The port: --port (cli checked it against SES's ports), else the
 * settings', else 587. */
static int pick_port(const struct opts *o, const struct smtp_setting *st)
{
	const char *v = opts_get(o, OPT_PORT);

	if (v)
		return atoi(v);
	return st->port ? st->port : SMTP_PORT_STARTTLS;
}

sesctl_err smtp_verify(struct ctx *ctx, const struct opts *o, int argc,
		       char **argv)
{
	struct smtp_settings *s = NULL;
	struct smtp_verify_opts vo;
	struct creds_opts co;
	struct creds_region reg;
	const char *file = opts_get(o, OPT_CREDENTIALS_FILE);
	const char *want = opts_get(o, OPT_REGION);
	char host[REGION_HOST_MAX];
	sesctl_err rc = SESCTL_OK;
	size_t i, done = 0;
	int j;

	memset(&vo, 0, sizeof(vo));
	memset(&co, 0, sizeof(co));
	if (argc > 0) {
		/* Possibly the password itself: blank it in our argv. */
		for (j = 0; j < argc; j++)
			cli_wipe_arg(argv[j]);
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
			     "'sesctl smtp verify' takes no arguments; the "
			     "password is never read from the command line\n"
			     "pass --credentials-file FILE (as 'sesctl smtp "
			     "enable --output-file' wrote it), pipe the "
			     "settings on standard input, or use --from-env");
		goto out;
	}
	ENSURE(opts_count(o, OPT_REGION) <= 1,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'sesctl smtp verify' takes one --region; run it once "
		       "per region"));
	ENSURE(!(file && opts_has(o, OPT_FROM_ENV)),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--credentials-file and --from-env exclude each other"));
	TRY(parse_timeout(ctx, o, 0, &vo.timeout_s));
	vo.ca_bundle = ca_bundle(o);
	vo.endpoint_url = opts_get(o, OPT_SMTP_ENDPOINT_URL);
	if (vo.endpoint_url) {
		struct smtp_login_target t;

		TRY(smtp_login_target_from_url(ctx, vo.endpoint_url, &t));
	}
	if (want)
		TRY(smtp_check_region(ctx, want));

	s = calloc(1, sizeof(*s));
	ENSURE(s, err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	if (file)
		TRY(settings_from_file(ctx, file, s));
	else if (opts_has(o, OPT_FROM_ENV))
		TRY(settings_from_env(ctx, s));
	else if (term_is_tty(ctx->in_fd))
		TRY(settings_from_tty(ctx, s));
	else
		TRY(settings_from_stdin(ctx, s));
	ENSURE(!vo.endpoint_url || s->n == 1 || want,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "--smtp-endpoint-url names one SMTP server, but there "
		       "are %zu sets of settings; pick one with --region",
		       s->n));

	for (i = 0; i < s->n; i++) {
		struct smtp_setting *st = &s->item[i];
		const char *region = st->region[0] ? st->region : NULL;

		if (want && s->n > 1 && (!region || strcmp(region, want)))
			continue; /* another region's block */
		if (want && region && strcmp(region, want) != 0) {
			ctx_warn(ctx,
				 "the settings are for %s (%s) but --region "
				 "is %s: verifying against %s's SMTP host",
				 st->host, region, want, want);
		}
		if (want) {
			region = want;
		} else if (!region && !st->host[0]) {
			/* A typed-in password: the usual region chain. */
			co.region = NULL;
			co.profile = opts_get(o, OPT_PROFILE);
			TRY(creds_region(ctx, &co, &reg));
			TRY(smtp_check_region(ctx, reg.name));
			region = reg.name;
		}
		if (region && (want || !st->host[0])) {
			TRY(region_smtp_host(region, host, sizeof(host)));
			smtp_warn_region(ctx, region, host);
		} else {
			snprintf(host, sizeof(host), "%s", st->host);
		}
		TRY(smtp_verify_login(ctx, &vo, region, host, pick_port(o, st),
				      st->user, &st->password));
		done++;
	}
	ENSURE(done > 0, err_set(&ctx->err, SESCTL_ERR_NOT_FOUND,
				 "the settings have no SMTP host for region "
				 "'%s'",
				 want));
out:
	if (s)
		output_settings_release(s);
	free(s);
	return rc;
}
