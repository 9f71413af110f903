/* smtp_verify.c - log in to SES until it accepts or the time is up, and
 * explain a refusal (see smtp_verify.h); the command and --verify are
 * cli/cmd_verify.c. */
#include "sesctl/smtp/smtp_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sesctl/base/interrupt.h"

#include "config.h"
#include "sesctl/base/backoff.h"
#include "sesctl/smtp/smtp_login.h"
#include "sesctl/smtp/smtp_pw.h"
#include "sesctl/base/term.h"

#define VERIFY_BACKOFF_CAP_MS 10000L

/* Whether stderr shows a progress line that rewrites itself. */
static bool show_progress(const struct ctx *ctx)
{
	return !ctx->quiet && term_is_tty(ctx->err_fd);
}

static void progress(struct ctx *ctx, const char *where, unsigned attempt,
		     long elapsed_ms, long timeout_s)
{
	char line[512];
	int n = snprintf(line, sizeof(line),
			 "\rsesctl: waiting for SES to accept the new SMTP "
			 "password at %s: attempt %u, %ld s of %ld s\033[K",
			 where, attempt, elapsed_ms / 1000, timeout_s);

	if (n > 0)
		(void)!write(ctx->err_fd, line,
			     (size_t)n < sizeof(line) ? (size_t)n :
							sizeof(line) - 1);
}

static void progress_done(struct ctx *ctx)
{
	(void)!write(ctx->err_fd, "\r\033[K", 4);
}

/* What the password looks like, for explaining a refusal. */
enum pw_shape { PW_V4, PW_V2, PW_RAW_SECRET, PW_OTHER };

static enum pw_shape shape_of(const struct secret *pw)
{
	if (pw->len == SMTP_PW_LEN && pw->p[0] == 'B')
		return PW_V4;
	/* base64 of 0x02 and an HMAC-SHA256: 44 characters, 'A' first */
	if (pw->len == SMTP_PW_LEN && pw->p[0] == 'A')
		return PW_V2;
	if (pw->len == SMTP_PW_SECRET_KEY_LEN)
		return PW_RAW_SECRET;
	return PW_OTHER;
}

/* The refusal, and the usual causes with the most likely first. */
static sesctl_err explain_refusal(struct ctx *ctx,
				  const struct smtp_verify_opts *o,
				  const char *region, const char *where,
				  const char *user, const struct secret *pw,
				  const struct smtp_login_answer *ans,
				  unsigned attempts, long waited_s)
{
	char causes[ERR_MSG_MAX] = "", waited[96] = "";
	size_t n = 0;
	const char *r = region && region[0] ? region : "REGION";

#define CAUSE(...)                                                           \
	do {                                                                 \
		if (n < sizeof(causes))                                      \
			n += (size_t)snprintf(causes + n, sizeof(causes) - n, \
					      "\n  - " __VA_ARGS__);         \
	} while (0)
	if (strncmp(user, "ASIA", 4) == 0)
		CAUSE("'%s' is a temporary (STS) access key, which never "
		      "works for SMTP; use an IAM user's key ('sesctl smtp "
		      "enable')",
		      user);
	switch (shape_of(pw)) {
	case PW_RAW_SECRET:
		CAUSE("the password is 40 characters: it looks like the IAM "
		      "secret access key itself, not the SMTP password "
		      "derived from it ('sesctl smtp derive --region %s')",
		      r);
		break;
	case PW_V2:
		CAUSE("the password looks like a legacy v2 SMTP password, "
		      "which SES refuses; derive the v4 one ('sesctl smtp "
		      "derive --region %s')",
		      r);
		break;
	case PW_OTHER:
		CAUSE("the password is %zu characters; SES SMTP passwords are "
		      "%d starting with 'B'; check for a truncated paste",
		      pw->len, SMTP_PW_LEN);
		break;
	case PW_V4:
	default:
		break;
	}
	if (o->new_key)
		CAUSE("the key is new and IAM has not propagated it yet; "
		      "this can take minutes: check again later with 'sesctl "
		      "smtp verify' or wait longer with --verify-timeout");
	CAUSE("the password was derived for another region: SMTP passwords "
	      "differ per region and this host is %s%s%s",
	      region && region[0] ? "for " : "not a known SES region host",
	      region && region[0] ? region : "",
	      region && region[0] ? "" : "; pass --region");
	if (!o->new_key)
		CAUSE("the key is new: IAM takes a few seconds, sometimes "
		      "minutes, to make it usable; retry with "
		      "--verify-timeout 120");
	CAUSE("the access key '%s' is inactive or was deleted ('sesctl "
	      "smtp status')",
	      user);
#undef CAUSE
	if (attempts > 1)
		snprintf(waited, sizeof(waited), " (%u attempts over %ld s)",
			 attempts, waited_s);
	return err_set(&ctx->err, SESCTL_ERR_SMTP_VERIFY,
		       "SES refused the SMTP login of '%s' at %s%s: %s\nthe "
		       "usual causes, most likely first:%s",
		       user, where, waited,
		       ans->reply[0] ? ans->reply : ans->detail, causes);
}

sesctl_err smtp_verify_login(struct ctx *ctx, const struct smtp_verify_opts *o,
			     const char *region, const char *host, int port,
			     const char *user, const struct secret *password)
{
	struct smtp_login_target t;
	struct smtp_login_answer ans;
	const char *where;
	long start = backoff_now_ms(), delay = backoff_base_ms(), elapsed = 0;
	unsigned attempt = 0;
	bool told = false, shown = false;
	sesctl_err rc = SESCTL_OK;

	memset(&t, 0, sizeof(t));
	if (o->endpoint_url)
		TRY(smtp_login_target_from_url(ctx, o->endpoint_url, &t));
	else
		TRY(smtp_login_target_for(ctx, host, port, &t));
	t.ca_bundle = o->ca_bundle;
#if SESCTL_TEST_HOOKS
	if (getenv("SESCTL_TEST_TIMEOUT_MS"))
		t.timeout_ms =
			strtol(getenv("SESCTL_TEST_TIMEOUT_MS"), NULL, 10);
#endif
	where = strstr(t.url, "://") + 3;
	TRY(smtp_login_share_new(ctx, &t.share));

	for (;;) {
		attempt++;
		TRY(smtp_login(ctx, &t, user, password, &ans));
		elapsed = backoff_now_ms() - start;
		if (ans.result == SMTP_LOGIN_ACCEPTED)
			break;
		/* Certificates and protocol do not fix themselves. */
		if (ans.result == SMTP_LOGIN_TLS ||
		    ans.result == SMTP_LOGIN_PROTOCOL ||
		    elapsed + delay > o->timeout_s * 1000L ||
		    interrupt_caught())
			break;
		if (show_progress(ctx)) {
			progress(ctx, where, attempt + 1,
				 elapsed + delay, o->timeout_s);
			shown = true;
		} else if (!told) {
			ctx_info(ctx,
				 "SES does not accept the %sSMTP password at "
				 "%s yet (%s); trying again for up to %ld s",
				 o->new_key ? "new " : "", where,
				 ans.reply[0] ? ans.reply : ans.detail,
				 o->timeout_s);
			told = true;
		}
		backoff_sleep_ms(delay);
		delay = delay * 2 > VERIFY_BACKOFF_CAP_MS ? VERIFY_BACKOFF_CAP_MS :
							  delay * 2;
	}
	if (shown)
		progress_done(ctx);
	ENSURE(ans.result == SMTP_LOGIN_ACCEPTED || !interrupt_caught(),
	       err_set(&ctx->err, SESCTL_ERR_SMTP_VERIFY,
		       "interrupted by %s while waiting for SES to accept the "
		       "login of %s",
		       interrupt_name(interrupt_caught()), user));

	switch (ans.result) {
	case SMTP_LOGIN_ACCEPTED:
		ctx_info(ctx, "SES accepted the SMTP login of %s at %s%s", user,
			 where, attempt > 1 ? " (after retries)" : "");
		break;
	case SMTP_LOGIN_REFUSED:
		rc = explain_refusal(ctx, o, region, where, user, password,
				     &ans, attempt, elapsed / 1000);
		break;
	case SMTP_LOGIN_BUSY:
		rc = err_set(&ctx->err, SESCTL_ERR_SMTP_VERIFY,
			     "SES did not let '%s' log in at %s and asked to "
			     "try later: %s",
			     user, where, ans.reply);
		break;
	case SMTP_LOGIN_TLS:
		rc = err_set(&ctx->err, SESCTL_ERR_NETWORK,
			     "TLS with %s failed: %s\n%s",
			     where, ans.detail,
			     ans.ca_unreadable ?
				     "name a readable PEM file of CA "
				     "certificates" :
				     "if a proxy or private CA sits in between, "
				     "pass its certificates with --ca-bundle");
		break;
	case SMTP_LOGIN_DNS:
		/* Not SES's doing, and no port helps. */
		rc = err_set(&ctx->err, SESCTL_ERR_NETWORK,
			     "could not resolve the SMTP host of %s: %s\ncheck "
			     "the region (SES has no SMTP endpoint in some) and "
			     "this machine's DNS",
			     where, ans.detail);
		break;
	case SMTP_LOGIN_NETWORK:
		rc = err_set(&ctx->err, SESCTL_ERR_NETWORK,
			     "could not reach the SMTP server %s: %s\noutbound "
			     "SMTP ports are often blocked (EC2 blocks 25); %s",
			     where, ans.detail,
			     o->new_key ? "check the settings on another port "
					  "with 'sesctl smtp verify --port "
					  "2587' (or 465)" :
					  "try --port 2587 or --port 465");
		break;
	case SMTP_LOGIN_PROTOCOL:
	default:
		rc = err_set(&ctx->err, SESCTL_ERR_SMTP_VERIFY,
			     "%s does not behave like an SES SMTP server: %s%s%s",
			     where, ans.detail, ans.reply[0] ? "; last reply: " :
							      "",
			     ans.reply);
		break;
	}
out:
	smtp_login_share_free(t.share);
	return rc;
}
