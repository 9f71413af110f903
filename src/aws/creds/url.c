/* url.c - metadata endpoint URLs: where plain http is allowed (see
 * creds_int.h). */
#include "creds_int.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Metadata endpoints (container, instance metadata): where plain http
 * is allowed.  Hosts are compared literally, as botocore does (no DNS). */

/* Whether `url` is http(s):// with a host and no user info; its host
 * (brackets and port removed) into host[size]. */
static bool url_host(const char *url, bool *https, char *host, size_t size)
{
	const char *p, *end, *h, *he;

	if (strncasecmp(url, "https://", 8) == 0) {
		*https = true;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		*https = false;
		p = url + 7;
	} else {
		return false;
	}
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return false;
	if (*p == '[') {
		h = p + 1;
		he = memchr(h, ']', (size_t)(end - h));
		if (!he || (he + 1 != end && he[1] != ':'))
			return false;
	} else {
		h = p;
		he = memchr(h, ':', (size_t)(end - h));
		if (!he)
			he = end;
	}
	if (he == h || (size_t)(he - h) >= size)
		return false;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	return true;
}

/* `host` is the IP address `ip` (any spelling of it). */
static bool host_is(const char *host, const char *ip)
{
	unsigned char a[16], b[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	return inet_pton(fam, host, a) == 1 && inet_pton(fam, ip, b) == 1 &&
	       memcmp(a, b, fam == AF_INET6 ? 16 : 4) == 0;
}

static bool host_is_loopback(const char *host)
{
	struct in6_addr a6;
	unsigned char a4[4];

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a4) == 1)
		return a4[0] == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* https anywhere; http only to loopback or one of `hosts`. */
bool url_allowed(const char *url, const char *const *hosts, size_t n,
		 char *host, size_t size)
{
	bool https;
	size_t i;

	if (!url_host(url, &https, host, size))
		return false;
	if (https || host_is_loopback(host))
		return true;
	for (i = 0; i < n; i++)
		if (host_is(host, hosts[i]))
			return true;
	return false;
}
