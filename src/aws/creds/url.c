/* url.c - metadata endpoint URLs: where plain http is allowed (see
 * creds_int.h). */
#include "creds_int.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "sesctl/aws/http.h"

/* ------------------------------------------------------------------ */
/* Metadata endpoints (container, instance metadata): where plain http
 * is allowed.  The URL is parsed by libcurl (http_url_host), which then
 * connects to it; hosts are compared literally, as botocore does (no
 * DNS). */

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
bool creds_url_allowed(const char *url, const char *const *hosts, size_t n,
		       char *host, size_t size)
{
	bool https;
	size_t i;

	if (!http_url_host(url, &https, host, size))
		return false;
	if (https || host_is_loopback(host))
		return true;
	for (i = 0; i < n; i++)
		if (host_is(host, hosts[i]))
			return true;
	return false;
}
