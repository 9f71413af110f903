/* http_url.c - endpoint URLs, parsed by libcurl's URL API (see http.h).
 *
 * Whether a URL may be used (https, or plain http to loopback only), the
 * host plain-http checks judge, and the Host header and path a request is
 * signed for: all from the parse libcurl itself will connect with, so
 * that what is checked and signed is what is reached. */
#include "sesctl/aws/http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

/* ---- URLs ---------------------------------------------------------- */

static bool is_loopback_host(const char *host)
{
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return true;
	if (strncmp(host, "127.", 4) == 0) {
		for (host += 4; *host; host++)
			if (!isdigit((unsigned char)*host) && *host != '.')
				return false;
		return true;
	}
	return false;
}

/* Parse `url` into `*u` and its scheme and host (freed by the caller with
 * curl_free/curl_url_cleanup, also on error). */
static sesctl_err parse_url(struct ctx *ctx, const char *url, CURLU **u,
			    char **scheme, char **host)
{
	*u = curl_url();
	if (!*u)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory");
	if (strlen(url) >= HTTP_URL_MAX ||
	    curl_url_set(*u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(*u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
	    curl_url_get(*u, CURLUPART_HOST, host, 0) != CURLUE_OK)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "invalid endpoint URL '%s'", url);
	return SESCTL_OK;
}

bool http_url_host(const char *url, bool *https, char *host, size_t size)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL, *user = NULL, *pw = NULL;
	const char *start;
	size_t len;
	bool ok = false;

	if (!u || strlen(url) >= HTTP_URL_MAX ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK)
		goto out;
	if (strcmp(scheme, "https") == 0)
		*https = true;
	else if (strcmp(scheme, "http") == 0)
		*https = false;
	else
		goto out;
	start = h;
	len = strlen(h);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		start = h + 1;
		len -= 2;
	}
	if (len == 0 || len >= size)
		goto out;
	memcpy(host, start, len);
	host[len] = '\0';
	ok = true;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(user);
	curl_free(pw);
	curl_url_cleanup(u);
	return ok;
}

sesctl_err http_check_url(struct ctx *ctx, const char *url)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL;
	sesctl_err rc = SESCTL_OK;

	TRY(parse_url(ctx, url, &u, &scheme, &host));
	if (strcmp(scheme, "https") == 0)
		goto out;
	ENSURE(strcmp(scheme, "http") == 0,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "endpoint URL '%s' must use https", url));
	ENSURE(is_loopback_host(host),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "endpoint URL '%s' uses plain http to a host that is not "
		       "loopback; use https so credentials and the secret "
		       "access key are not sent in the clear",
		       url));
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

sesctl_err http_url_parts(struct ctx *ctx, const char *url, char *host,
			  size_t host_size, char *path, size_t path_size)
{
	CURLU *u = NULL;
	char *scheme = NULL, *h = NULL, *port = NULL, *p = NULL, *extra = NULL;
	sesctl_err rc = SESCTL_OK;
	int n;

	TRY(parse_url(ctx, url, &u, &scheme, &h));
	ENSURE(curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "invalid endpoint URL '%s'", url));
	ENSURE(curl_url_get(u, CURLUPART_QUERY, &extra, 0) != CURLUE_OK &&
		       curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) !=
			       CURLUE_OK &&
		       curl_url_get(u, CURLUPART_USER, &extra, 0) != CURLUE_OK,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "endpoint URL '%s' may not have a query, fragment or "
		       "user name",
		       url));
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    !((strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0) ||
	      (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0)))
		n = snprintf(host, host_size, "%s:%s", h, port);
	else
		n = snprintf(host, host_size, "%s", h);
	ENSURE(n > 0 && (size_t)n < host_size,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "endpoint URL '%s' has a host name that is too long", url));
	n = snprintf(path, path_size, "%s", *p ? p : "/");
	ENSURE(n > 0 && (size_t)n < path_size,
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "endpoint URL '%s' has a path that is too long", url));
out:
	curl_free(extra);
	curl_free(scheme);
	curl_free(h);
	curl_free(port);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}
