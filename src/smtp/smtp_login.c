/* smtp_login.c - one SMTP login attempt with libcurl (see smtp_login.h).
 *
 * Each attempt is an easy handle of its own (no connection is reused
 * between logins), which trusts the CAs the AWS connections trust through
 * the process's one CA store (http_ca_use): the certificates are read at
 * the run's first TLS connection, not at every login. */
#include "sesctl/smtp/smtp_login.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sesctl/aws/http.h"

#define DEFAULT_TIMEOUT_MS 30000L

struct attempt {
	struct ctx *ctx;
	struct smtp_login_answer *ans;
	bool accepted;     /* the server answered 235 */
	bool auth_sent;    /* an AUTH command went out */
	int auth_code;     /* the final reply to AUTH (not 334), 0 if none */
	bool redact_next;  /* the next client line answers a 334 challenge */
};

/* Keep `line` (len bytes) as the last reply, printable and NUL-ended. */
static void keep_reply(struct smtp_login_answer *ans, const char *line,
		       size_t len)
{
	size_t i, j = 0;

	for (i = 0; i < len && j + 1 < sizeof(ans->reply); i++)
		ans->reply[j++] = isprint((unsigned char)line[i]) ? line[i] :
								    '?';
	ans->reply[j] = '\0';
}

/* One line from the server: "NNN-text" (more follow) or "NNN text". */
static void server_line(struct attempt *a, const char *line, size_t len)
{
	int code;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len > 3 && line[3] == '-')
		return; /* a continuation: the final line decides */
	a->ans->code = code;
	keep_reply(a->ans, line, len);
	if (code == 334) {
		a->redact_next = true; /* a challenge: the answer is secret */
	} else if (a->auth_sent && a->auth_code == 0) {
		a->auth_code = code;
		if (code == 235)
			a->accepted = true;
	}
}

/* One line from us.  Only the verb of AUTH is shown: its argument and the
 * answers to 334 challenges are the base64 user name and password. */
static void client_line(struct attempt *a, const char *line, size_t len)
{
	bool is_auth = len >= 4 && strncasecmp(line, "AUTH", 4) == 0 &&
		       (len == 4 || line[4] == ' ');

	if (is_auth) {
		size_t verb = 5;

		a->auth_sent = true;
		a->auth_code = 0;
		while (verb < len && line[verb] != ' ')
			verb++;
		if (a->ctx->debug)
			ctx_debug(a->ctx, "> %.*s%s", (int)(verb < len ? verb :
								   len),
				  line, verb < len ? " <redacted>" : "");
		return;
	}
	if (a->redact_next) {
		a->redact_next = false;
		ctx_debug(a->ctx, "> <redacted>");
		return;
	}
	ctx_debug(a->ctx, "> %.*s", (int)len, line);
}

static void each_line(struct attempt *a, char dir, const char *data,
		      size_t size)
{
	while (size > 0) {
		size_t len = 0, next;

		while (len < size && data[len] != '\n')
			len++;
		next = len < size ? len + 1 : len;
		if (len > 0 && data[len - 1] == '\r')
			len--;
		if (dir == '<') {
			server_line(a, data, len);
			ctx_debug(a->ctx, "< %.*s", (int)len, data);
		} else {
			client_line(a, data, len);
		}
		data += next;
		size -= next;
	}
}

static int on_debug(CURL *handle, curl_infotype type, char *data, size_t size,
		    void *userp)
{
	struct attempt *a = userp;

	(void)handle;
	switch (type) {
	case CURLINFO_HEADER_IN:
		each_line(a, '<', data, size);
		break;
	case CURLINFO_HEADER_OUT:
		each_line(a, '>', data, size);
		break;
	case CURLINFO_TEXT:
		if (a->ctx->debug && size > 0)
			ctx_debug(a->ctx, "* %.*s",
				  (int)(data[size - 1] == '\n' ? size - 1 :
								 size),
				  data);
		break;
	case CURLINFO_DATA_IN:
	case CURLINFO_DATA_OUT:
	case CURLINFO_SSL_DATA_IN:
	case CURLINFO_SSL_DATA_OUT:
	case CURLINFO_END:
	default:
		break;
	}
	return 0;
}

sesctl_err smtp_login_target_for(struct ctx *ctx, const char *host, int port,
				 struct smtp_login_target *t)
{
	int n;

	memset(t, 0, sizeof(*t));
	n = snprintf(t->url, sizeof(t->url), "%s://%s:%d",
		     port == 465 || port == 2465 ? "smtps" : "smtp", host,
		     port);
	if (n < 0 || (size_t)n >= sizeof(t->url))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "SMTP host name '%s' is too long", host);
	return SESCTL_OK;
}

sesctl_err smtp_login_target_from_url(struct ctx *ctx, const char *url,
				      struct smtp_login_target *t)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *extra = NULL;
	sesctl_err rc = SESCTL_OK;
	long pn = 0;
	int n;

	memset(t, 0, sizeof(*t));
	u = curl_url();
	ENSURE(u, err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	ENSURE(strlen(url) < sizeof(t->url) &&
		       curl_url_set(u, CURLUPART_URL, url,
				    CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		       curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ==
			       CURLUE_OK &&
		       curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "invalid SMTP endpoint URL '%s'; it looks like "
		       "smtp://HOST:587 (STARTTLS) or smtps://HOST:465 (TLS)",
		       url));
	ENSURE(strcmp(scheme, "smtp") == 0 || strcmp(scheme, "smtps") == 0,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "SMTP endpoint URL '%s' must start with smtp:// "
		       "(STARTTLS) or smtps:// (TLS)",
		       url));
	ENSURE(curl_url_get(u, CURLUPART_QUERY, &extra, 0) != CURLUE_OK &&
		       curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) !=
			       CURLUE_OK &&
		       curl_url_get(u, CURLUPART_USER, &extra, 0) !=
			       CURLUE_OK &&
		       curl_url_get(u, CURLUPART_PATH, &extra, 0) ==
			       CURLUE_OK &&
		       (strcmp(extra, "/") == 0 || extra[0] == '\0'),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "SMTP endpoint URL '%s' may have only a scheme, a host "
		       "and a port",
		       url));
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		pn = strtol(port, NULL, 10);
	else
		pn = strcmp(scheme, "smtps") == 0 ? 465 : 587;
	n = snprintf(t->url, sizeof(t->url), "%s://%s:%ld", scheme, host, pn);
	ENSURE(n > 0 && (size_t)n < sizeof(t->url),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "SMTP endpoint URL '%s' is too long", url));
out:
	curl_free(extra);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static enum smtp_login_result classify(CURLcode cc, const struct attempt *a)
{
	switch (cc) {
	case CURLE_OK:
		return a->accepted ? SMTP_LOGIN_ACCEPTED : SMTP_LOGIN_PROTOCOL;
	case CURLE_LOGIN_DENIED:
		if (a->auth_code >= 400 && a->auth_code < 500)
			return SMTP_LOGIN_BUSY;
		return a->auth_code >= 500 ? SMTP_LOGIN_REFUSED :
					     SMTP_LOGIN_PROTOCOL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return SMTP_LOGIN_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
		return SMTP_LOGIN_DNS;
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return SMTP_LOGIN_NETWORK;
	case CURLE_WEIRD_SERVER_REPLY:
		/* "421 Too many connections", "454 Throttling failure" */
		if (a->ans->code >= 400 && a->ans->code < 500)
			return SMTP_LOGIN_BUSY;
		return SMTP_LOGIN_PROTOCOL;
	case CURLE_USE_SSL_FAILED: /* no STARTTLS */
	default:
		return SMTP_LOGIN_PROTOCOL;
	}
}

sesctl_err smtp_login_share_new(struct ctx *ctx, void **share)
{
	CURLSH *sh;
	sesctl_err rc = SESCTL_OK;

	*share = NULL;
	TRY(http_global_init(ctx));
	sh = curl_share_init();
	ENSURE(sh, err_set(&ctx->err, SESCTL_ERR_NOMEM,
			   "libcurl could not create a share handle"));
	if (curl_share_setopt(sh, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		curl_share_cleanup(sh);
		return err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "libcurl cannot share TLS sessions");
	}
	*share = sh;
out:
	return rc;
}

void smtp_login_share_free(void *share)
{
	if (share)
		curl_share_cleanup(share);
}

sesctl_err smtp_login(struct ctx *ctx, const struct smtp_login_target *t,
		      const char *user, const struct secret *password,
		      struct smtp_login_answer *ans)
{
	struct attempt a;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct http_ca *ca = NULL;
	CURL *curl = NULL;
	CURLcode cc = CURLE_OK;
	sesctl_err rc = SESCTL_OK;

	memset(ans, 0, sizeof(*ans));
	memset(&a, 0, sizeof(a));
	a.ctx = ctx;
	a.ans = ans;
	/* libcurl keeps copies of the password: wiped when freed. */
	TRY(http_global_init(ctx));
	TRY(http_ca_new(ctx, t->ca_bundle, &ca));
	curl = curl_easy_init();
	ENSURE(curl, err_set(&ctx->err, SESCTL_ERR_NOMEM,
			     "libcurl could not create a handle"));

#define SETOPT(o, v)                                                         \
	do {                                                                 \
		if (cc == CURLE_OK)                                          \
			cc = curl_easy_setopt(curl, o, v);                   \
	} while (0)
	SETOPT(CURLOPT_URL, t->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS is a must: never AUTH in the clear. */
	SETOPT(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	/* Stop after the connect phase, which ends with AUTH: no mail. */
	SETOPT(CURLOPT_CONNECT_ONLY, 1L);
	/* For SMTP the "connect" phase is the whole login (greeting, EHLO,
	 * STARTTLS, AUTH), so it gets the whole attempt's time; the TCP
	 * connect alone still has its own limit. */
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
	       t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS);
	SETOPT(CURLOPT_TIMEOUT_MS,
	       t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS);
	SETOPT(CURLOPT_SERVER_RESPONSE_TIMEOUT,
	       (t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS) /
			       1000L + 1);
	SETOPT(CURLOPT_USERNAME, user);
	SETOPT(CURLOPT_PASSWORD, secret_str(password));
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_DEBUGFUNCTION, on_debug);
	SETOPT(CURLOPT_DEBUGDATA, &a);
	SETOPT(CURLOPT_VERBOSE, 1L);
	if (t->share)
		SETOPT(CURLOPT_SHARE, (CURLSH *)t->share);
#undef SETOPT
	ENSURE(cc == CURLE_OK,
	       err_set(&ctx->err, SESCTL_ERR_FAIL, "libcurl setup failed: %s",
		       curl_easy_strerror(cc)));
	TRY(http_ca_use(ca, curl));

	cc = curl_easy_perform(curl);
	ans->result = classify(cc, &a);
	snprintf(ans->detail, sizeof(ans->detail), "%s",
		 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	/* libcurl's own words would be "error signaled by ssl ctx
	 * callback". */
	if (cc == CURLE_SSL_CACERT_BADFILE && http_ca_unreadable(ca)) {
		ans->ca_unreadable = true;
		snprintf(ans->detail, sizeof(ans->detail),
			 "no CA certificates could be read from '%s' (%s)",
			 http_ca_unreadable(ca),
			 t->ca_bundle ? "--ca-bundle or AWS_CA_BUNDLE" :
					"the system's CA bundle");
	}
	if (cc == CURLE_OK && !a.accepted)
		snprintf(ans->detail, sizeof(ans->detail), "%s",
			 a.auth_sent ? "the server did not accept the login" :
				       "the server offered no AUTH after "
				       "STARTTLS");
	ctx_debug(ctx, "SMTP login to %s: %s (%d)", t->url,
		  ans->result == SMTP_LOGIN_ACCEPTED ? "accepted" :
						       ans->detail,
		  ans->code);
out:
	/* Sends QUIT on a live connection. */
	if (curl)
		curl_easy_cleanup(curl);
	http_ca_free(ca); /* after the handle, which points to it */
	return rc;
}
