/* fuzz_creds.c - libFuzzer target over the shared config and credentials
 * file parser and the profile lookups behind creds_resolve() and
 * creds_region().  Not built by default; from the top of the tree, with a
 * configured build directory (for config.h):
 *
 *   meson setup build
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ibuild \
 *       tests/fuzz/fuzz_creds.c src/aws/creds/[a-z]*.c src/base/secret.c \
 *       src/base/err.c src/base/ctx.c -lcrypto -o build/fuzz_creds
 *   mkdir -p build/corpus-creds
 *   build/fuzz_creds -max_total_time=60 -max_len=4096 \
 *       build/corpus-creds tests/fuzz/corpus/creds
 *
 * (Debian: apt-get install libclang-rt-14-dev for the fuzzer runtime.)
 *
 * Input: the first byte picks the profile and how it is named (bits 0-2)
 * and which file gets the rest (bits 3-4): the credentials file, the
 * config file, or both, split at the first "\n====\n" (config first).
 * The files are memfds reached through /proc/self/fd (no disk I/O, which
 * made the first version crawl); an absent file is a path that does not
 * exist.  The environment is a stand-in, so the real one is never read.
 *
 * Checks beyond the sanitizers: a success gives a well-formed key id and
 * a secret without whitespace; a failure leaves the result empty and a
 * message; and no message quotes the canary secret "wJalrXUtnFEMI" unless
 * the input has it in a section header (section names may be quoted).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, memfd_create */
#endif
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sesctl/aws/creds.h"

#define CANARY "wJalrXUtnFEMI"
#define SPLIT "\n====\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char home[] = "/nonexistent/fuzz-home";
static char config_path[64];
static char credentials_path[64];
static int config_fd = -1, credentials_fd = -1;
static bool have_config, have_credentials;
static const char *aws_profile;

static const char *fuzz_env(const char *name)
{
	if (strcmp(name, "HOME") == 0)
		return home;
	if (strcmp(name, "AWS_CONFIG_FILE") == 0)
		return have_config ? config_path : "/nonexistent/config";
	if (strcmp(name, "AWS_SHARED_CREDENTIALS_FILE") == 0)
		return have_credentials ? credentials_path :
					  "/nonexistent/credentials";
	if (strcmp(name, "AWS_PROFILE") == 0)
		return aws_profile;
	return NULL;
}

static int memfd_path(const char *name, char *path, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		abort();
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_fd = memfd_path("config", config_path, sizeof(config_path));
	credentials_fd = memfd_path("credentials", credentials_path,
				    sizeof(credentials_path));
	return 0;
}

static bool put_file(int fd, const uint8_t *p, size_t n)
{
	if (!p)
		return false;
	if (ftruncate(fd, 0) != 0 ||
	    (n && pwrite(fd, p, n, 0) != (ssize_t)n))
		abort();
	return true;
}

/* The canary may be quoted only as part of a section name. */
static int canary_in_header(const uint8_t *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '\n' && p[i] != '\r')
			continue;
		if (memmem(p + start, i - start, CANARY, strlen(CANARY)) &&
		    memchr(p + start, '[', i - start))
			return 1;
		start = i + 1;
	}
	return 0;
}

static void check(struct ctx *ctx, sesctl_err rc, const struct creds *c,
		  const uint8_t *data, size_t size)
{
	size_t i, n;

	if (rc == SESCTL_OK) {
		n = strlen(c->access_key_id);
		if (n < CREDS_ACCESS_KEY_ID_MIN || n > CREDS_ACCESS_KEY_ID_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (!((c->access_key_id[i] >= 'A' &&
			       c->access_key_id[i] <= 'Z') ||
			      (c->access_key_id[i] >= '0' &&
			       c->access_key_id[i] <= '9')))
				abort();
		if (c->secret_key.len == 0)
			abort();
		for (i = 0; i < c->secret_key.len; i++)
			if (c->secret_key.p[i] <= ' ')
				abort();
		if (!c->provider)
			abort();
		return;
	}
	if (c->secret_key.p || c->session_token.p || c->access_key_id[0] ||
	    !ctx->err.msg[0])
		abort();
	if (strstr(ctx->err.msg, CANARY) && !canary_in_header(data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = { NULL, "x", "default", "a b" };
	struct creds_opts o = { NULL, NULL, fuzz_env };
	struct creds_net_opts net = { .offline = true };
	struct creds c = { 0 };
	struct creds_region r;
	const uint8_t *cfg = NULL, *cred = NULL, *rest, *split;
	size_t cfg_len = 0, cred_len = 0, len;
	struct ctx ctx;
	sesctl_err rc;
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0];
	rest = data + 1;
	len = size - 1;
	switch ((mode >> 3) & 3) {
	case 0:
		cred = rest;
		cred_len = len;
		break;
	case 1:
		cfg = rest;
		cfg_len = len;
		break;
	default:
		split = memmem(rest, len, SPLIT, strlen(SPLIT));
		cfg = rest;
		cfg_len = split ? (size_t)(split - rest) : len;
		if (split) {
			cred = split + strlen(SPLIT);
			cred_len = len - cfg_len - strlen(SPLIT);
		}
		break;
	}
	have_config = put_file(config_fd, cfg, cfg_len);
	have_credentials = put_file(credentials_fd, cred, cred_len);

	aws_profile = NULL;
	if (mode & 4)
		o.profile = profiles[mode & 3];
	else
		aws_profile = profiles[mode & 3];

	ctx_init(&ctx);
	ctx.quiet = true;
	ctx.err_fd = -1;

	/* Offline: a fuzzed credential_process must never run, and no
	 * input may make the fuzzer probe a metadata endpoint. */
	rc = creds_resolve_net(&ctx, &o, &net, &c);
	check(&ctx, rc, &c, data, size);
	creds_release(&c);

	memset(&ctx.err, 0, sizeof(ctx.err));
	rc = creds_region(&ctx, &o, &r);
	if (rc == SESCTL_OK && strlen(r.name) > CREDS_REGION_MAX)
		abort();
	if (rc != SESCTL_OK && (r.name[0] || !ctx.err.msg[0]))
		abort();
	return 0;
}
