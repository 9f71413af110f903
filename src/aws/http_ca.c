/* http_ca.c - the CA certificates sesctl's TLS connections trust (see
 * http.h, http_int.h).
 *
 * One X509_STORE per process, built at the first TLS connection and handed
 * to every connection after it through CURLOPT_SSL_CTX_FUNCTION: the HTTP
 * clients' (IAM, STS, Secrets Manager, SSM, credential endpoints; http.c
 * through http_ca_setopt) and the SMTP logins' (smtp/smtp_login.c, whose
 * easy handles are its own, through http_ca_use), so a run that calls IAM
 * and then logs in to SES SMTP, or logs in to several regions, reads the
 * CAs once.  Without
 * --ca-bundle/AWS_CA_BUNDLE it is the system's hashed CA directory
 * (libcurl's built-in CApath, /etc/ssl/certs on Debian), which OpenSSL
 * consults only for the issuer a chain needs; where there is no hashed
 * directory, the system's bundle file (libcurl's built-in CAinfo), loaded
 * once.  With a bundle, its certificates are parsed once, and the system
 * directory is still consulted, as libcurl's default CApath was beside
 * CURLOPT_CAINFO.  Left to libcurl, Debian's default CAinfo had OpenSSL
 * parse all ~145 system certificates for every connection, a bundle too,
 * since libcurl's own CA cache is off while a CApath is set.  Test builds
 * can stand a directory or file of their own in for the system's
 * (SESCTL_TEST_SYSTEM_CA_DIR, SESCTL_TEST_SYSTEM_CA_FILE).
 *
 * This file includes OpenSSL, which is otherwise base/crypto.c's: the
 * SSL_CTX is libcurl's, handed over in a libcurl callback, so the code
 * that gives it the store lives with the other libcurl code.  A libcurl
 * built on another TLS library, or on another major version of OpenSSL
 * than the one sesctl links, gets CURLOPT_CAINFO as before. */
#include "sesctl/aws/http.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "config.h"
#include "http_int.h"

static X509_STORE *store;  /* the process's trust, once built */
static char *store_bundle; /* the bundle in it; NULL: none */

/* Whether libcurl verifies with OpenSSL of the major version sesctl
 * links ("OpenSSL/3.0.22"), so that the store can be handed over. */
static bool same_openssl(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *p = v ? v->ssl_version : NULL;
	char *end = NULL;
	long major;

	if (!p || strncmp(p, "OpenSSL/", 8) != 0)
		return false;
	major = strtol(p + 8, &end, 10);
	return end != p + 8 && *end == '.' &&
	       major == (long)OPENSSL_version_major();
}

/* "1a2b3c4d.0": a certificate's link in a directory made by c_rehash or
 * `openssl rehash`. */
static bool is_hash_name(const char *n)
{
	size_t i;

	for (i = 0; i < 8; i++)
		if (!n[i] || !strchr("0123456789abcdef", n[i]))
			return false;
	if (n[8] != '.' || !n[9])
		return false;
	for (i = 9; n[i]; i++)
		if (n[i] < '0' || n[i] > '9')
			return false;
	return true;
}

static bool hashed_dir(const char *dir)
{
	DIR *d = dir && *dir ? opendir(dir) : NULL;
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)) != NULL)
		found = is_hash_name(e->d_name);
	closedir(d);
	return found;
}

/* The system's CA directory and bundle file: libcurl's built-in ones. */
static void system_cas(CURL *curl, const char **dir, const char **file)
{
	char *p = NULL, *f = NULL;

	if (curl_easy_getinfo(curl, CURLINFO_CAPATH, &p) != CURLE_OK)
		p = NULL;
	if (curl_easy_getinfo(curl, CURLINFO_CAINFO, &f) != CURLE_OK)
		f = NULL;
	*dir = p;
	*file = f;
#if SESCTL_TEST_HOOKS
	if (getenv("SESCTL_TEST_SYSTEM_CA_DIR"))
		*dir = getenv("SESCTL_TEST_SYSTEM_CA_DIR");
	if (getenv("SESCTL_TEST_SYSTEM_CA_FILE"))
		*file = getenv("SESCTL_TEST_SYSTEM_CA_FILE");
#endif
}

/* Certificates in `s` so far (before any directory lookup). */
static int n_certs(X509_STORE *s)
{
	return sk_X509_OBJECT_num(X509_STORE_get0_objects(s));
}

/* Build the process's store for `ca`: ca->bundle and the system's hashed
 * directory, or that directory alone, or the system's bundle file where
 * there is no such directory.  CURLE_SSL_CACERT_BADFILE, with the file in
 * ca->unreadable, when a file gives no certificate. */
static CURLcode build(struct http_ca *ca, CURL *curl)
{
	X509_STORE *s = X509_STORE_new();
	const char *dir = NULL, *sys_file = NULL, *file;
	char *bundle = NULL;
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	bool use_dir;

	system_cas(curl, &dir, &sys_file);
	use_dir = hashed_dir(dir);
	/* A bundle adds to the system's directory, as it did to libcurl's
	 * default CApath; the system's file is for when there is neither. */
	file = ca->bundle ? ca->bundle : use_dir ? NULL : sys_file;
	if (!s || (ca->bundle && !(bundle = strdup(ca->bundle))))
		goto out;
	if ((file || !use_dir) && (!file || X509_STORE_load_file(s, file) != 1)) {
		ca->unreadable = file ? file : "(libcurl has no CA file)";
		ctx_debug(ca->ctx, "no CA certificates read from '%s'",
			  ca->unreadable);
		cc = CURLE_SSL_CACERT_BADFILE;
		goto out;
	}
	if (use_dir && X509_STORE_load_path(s, dir) != 1)
		goto out;
	if (file && use_dir)
		ctx_debug(ca->ctx, "CA store: %d certificates from '%s', and the "
				   "hashed directory '%s'",
			  n_certs(s), file, dir);
	else if (file)
		ctx_debug(ca->ctx, "CA store: %d certificates from '%s' (no "
				   "hashed CA directory at '%s')",
			  n_certs(s), file, dir ? dir : "");
	else
		ctx_debug(ca->ctx, "CA store: the system's hashed directory "
				   "'%s', each issuer read when a certificate "
				   "needs it",
			  dir);
	/* As libcurl sets up the stores it builds: chains end at the first
	 * trusted certificate, an intermediate in the bundle included. */
	X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST |
					X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_free(store);
	free(store_bundle);
	store = s;
	store_bundle = bundle;
	s = NULL;
	bundle = NULL;
	cc = CURLE_OK;
out:
	if (cc != CURLE_OK)
		ERR_clear_error();
	X509_STORE_free(s);
	free(bundle);
	return cc;
}

/* CURLOPT_SSL_CTX_FUNCTION: every new TLS connection gets the store. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *userp)
{
	struct http_ca *ca = userp;
	CURLcode cc = CURLE_OK;
	bool built = store && (store_bundle && ca->bundle ?
				       strcmp(store_bundle, ca->bundle) == 0 :
				       store_bundle == ca->bundle);

	if (!built)
		cc = build(ca, curl);
	if (cc == CURLE_OK && X509_STORE_up_ref(store) != 1)
		cc = CURLE_OUT_OF_MEMORY;
	if (cc == CURLE_OK)
		SSL_CTX_set_cert_store(ssl_ctx, store);
	return cc;
}

CURLcode http_ca_setopt(CURL *curl, struct http_ca *ca)
{
	CURLcode cc;

	if (!same_openssl())
		return ca->bundle ? curl_easy_setopt(curl, CURLOPT_CAINFO,
						     ca->bundle) :
				    CURLE_OK;
	/* libcurl loads nothing itself; on_ssl_ctx hands over the store. */
	cc = curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, ca);
	return cc;
}

sesctl_err http_ca_new(struct ctx *ctx, const char *ca_bundle,
		       struct http_ca **out)
{
	struct http_ca *ca = calloc(1, sizeof(*ca));
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	ENSURE(ca, err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	ca->ctx = ctx;
	if (ca_bundle) {
		ca->bundle = strdup(ca_bundle);
		ENSURE(ca->bundle,
		       err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	}
	*out = ca;
	ca = NULL;
out:
	http_ca_free(ca);
	return rc;
}

sesctl_err http_ca_use(struct http_ca *ca, void *curl)
{
	CURLcode cc = http_ca_setopt(curl, ca);

	if (cc != CURLE_OK)
		return err_set(&ca->ctx->err, SESCTL_ERR_FAIL,
			       "libcurl setup failed: %s",
			       curl_easy_strerror(cc));
	return SESCTL_OK;
}

const char *http_ca_unreadable(const struct http_ca *ca)
{
	return ca->unreadable;
}

void http_ca_free(struct http_ca *ca)
{
	if (!ca)
		return;
	free(ca->bundle);
	free(ca);
}

void http_ca_global_cleanup(void)
{
	X509_STORE_free(store);
	store = NULL;
	free(store_bundle);
	store_bundle = NULL;
}
