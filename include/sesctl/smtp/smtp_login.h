/* smtp_login.h - one SMTP login attempt against an SES SMTP endpoint.
 *
 * libcurl does the talking (the second and last module, after http, that
 * includes <curl/curl.h>): connect, EHLO, STARTTLS (smtp://, port 587) or
 * TLS from the first byte (smtps://, port 465), AUTH, QUIT.  No mail is
 * ever sent: the transfer stops after the connect phase, which for SMTP
 * ends with the authentication.  TLS is always required and verified,
 * against the CAs the AWS connections trust, from the same store, read
 * once per process (http_ca_new in aws/http.h).
 *
 * libcurl would call a server that offers no AUTH at all a success, so
 * "accepted" here means the server itself answered 235.
 *
 * --debug shows the dialogue with the AUTH arguments (the user name and
 * password, base64) replaced by <redacted>.
 */
#ifndef SESCTL_SMTP_LOGIN_H
#define SESCTL_SMTP_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#define SMTP_LOGIN_URL_MAX 512
#define SMTP_LOGIN_REPLY_MAX 256

struct smtp_login_target {
	/* "smtp://host:587" (STARTTLS) or "smtps://host:465" (TLS). */
	char url[SMTP_LOGIN_URL_MAX];
	const char *ca_bundle;   /* PEM file of trusted CAs, besides the
				    system's CA directory; NULL: the
				    system's CAs */
	long timeout_ms;         /* the whole attempt; 0: 30 s */
	void *share;             /* TLS sessions the attempts share
				    (smtp_login_share_new); NULL: none */
};

enum smtp_login_result {
	SMTP_LOGIN_ACCEPTED, /* 235 */
	SMTP_LOGIN_REFUSED,  /* 535 (or another 5xx answer to AUTH) */
	SMTP_LOGIN_BUSY,     /* a 4xx answer: try again later */
	SMTP_LOGIN_NETWORK,  /* could not connect, or the connection died */
	SMTP_LOGIN_DNS,      /* the host name does not resolve */
	SMTP_LOGIN_TLS,      /* certificate or handshake failure */
	SMTP_LOGIN_PROTOCOL, /* no STARTTLS, no AUTH, or a reply that makes
				no sense */
};

struct smtp_login_answer {
	enum smtp_login_result result;
	int code;                          /* the last reply code, 0 if none */
	char reply[SMTP_LOGIN_REPLY_MAX];  /* the last reply line, printable */
	char detail[SMTP_LOGIN_REPLY_MAX]; /* libcurl's account of a failure */
	bool ca_unreadable; /* SMTP_LOGIN_TLS: no CA certificate could be
			       read from the trusted file (detail names it) */
};

/* The target URL for `host` and `port`: 465 and 2465 are TLS, anything
 * else STARTTLS.  SESCTL_ERR_USAGE if it does not fit. */
MUST_USE sesctl_err smtp_login_target_for(struct ctx *ctx, const char *host,
					  int port,
					  struct smtp_login_target *t);

/* Check an --smtp-endpoint-url: smtp:// or smtps://, a host, an optional
 * port (default 587 / 465), nothing else.  SESCTL_ERR_USAGE otherwise. */
MUST_USE sesctl_err smtp_login_target_from_url(struct ctx *ctx,
					       const char *url,
					       struct smtp_login_target *t);

/* TLS sessions for the attempts of one login to share (t->share): the
 * retries while IAM propagates a new key resume the first handshake
 * instead of repeating it.  Free with smtp_login_share_free after the
 * last attempt. */
MUST_USE sesctl_err smtp_login_share_new(struct ctx *ctx, void **share);
void smtp_login_share_free(void *share);

/* Try to log in as `user` with `password`.  Returns SESCTL_OK whenever the
 * attempt ran to an answer, whatever it was (see ans->result); an error
 * only when sesctl itself failed (out of memory, libcurl setup), with a
 * message in ctx->err. */
MUST_USE sesctl_err smtp_login(struct ctx *ctx,
			       const struct smtp_login_target *t,
			       const char *user, const struct secret *password,
			       struct smtp_login_answer *ans);

#endif
