/* ctx.h - what one run of sesctl carries around: the error being built,
 * the verbosity flags and the standard streams as file descriptors. */
#ifndef SESCTL_CTX_H
#define SESCTL_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/base/err.h"

struct ctx {
	struct err_info err;
	bool debug;  /* --debug: requests and steps on stderr, secrets redacted */
	bool quiet;  /* --quiet: no warnings or progress, errors only */
	int in_fd;   /* standard input (0; tests may change it) */
	int out_fd;  /* standard output (1) */
	int err_fd;  /* standard error (2) */
	/* fd 1 was closed when sesctl started; main pointed it at /dev/null
	 * (as fds 0 and 2 when closed), so nothing written there reaches
	 * anyone: ctx_write_out() refuses, credfile_check_stdout() says so
	 * before anything changes in IAM. */
	bool stdout_was_closed;
	/* status --check (monitoring plugin conventions): the exit status is
	 * check_status (0 OK, 1 warning, 2 critical), or 3 (unknown) when
	 * sesctl fails. */
	bool check;
	int check_status;
	/* --format json: a failure is reported on stderr as one JSON object
	 * (output_error_json), for scripts. */
	bool json_errors;
};

void ctx_init(struct ctx *ctx);

/* "sesctl: warning: ..." on stderr unless --quiet.  Never pass a secret. */
void ctx_warn(struct ctx *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* "sesctl: ..." on stderr unless --quiet (progress, notes). */
void ctx_info(struct ctx *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* "sesctl: debug: ..." on stderr with --debug. */
void ctx_debug(struct ctx *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The current time.  Test builds (-Dtest_hooks=true) honour
 * SESCTL_TEST_NOW=<epoch seconds> so signatures and output are repeatable
 * (curl's CURL_FORCETIME). */
time_t ctx_now(const struct ctx *ctx);

/* Write the command's result to stdout with write(2), so no stdio buffer
 * keeps a copy of a secret.  Short writes are retried; EPIPE, ENOSPC and
 * other errors become SESCTL_ERR_IO with a message in ctx->err, and so
 * does a standard output that was closed when sesctl started
 * (ctx->stdout_was_closed): the result would only reach /dev/null. */
MUST_USE sesctl_err ctx_write_out(struct ctx *ctx, const void *buf, size_t len);

#endif
