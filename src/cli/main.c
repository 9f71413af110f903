/* main.c - the only code that exits: maps sesctl_err to the documented
 * exit code and checks that stdout was really written (git run_builtin). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sesctl/cli/cli.h"
#include "sesctl/base/crypto.h"
#include "sesctl/aws/http.h"
#include "sesctl/base/interrupt.h"
#include "sesctl/aws/iam_xml.h"
#include "sesctl/smtp/output.h"
#include "sesctl/base/secret.h"
#include "sesctl/base/ctx.h"

/* Point every one of fds 0, 1 and 2 that is closed at /dev/null, before
 * anything opens a file or socket that would take its number: a "closed"
 * stdout would otherwise be libcurl's socketpair or the IAM connection,
 * and the settings or messages would be written into it (git's
 * sanitize_stdfds, OpenSSH's sanitise_stdfd).  Returns a bit per fd that
 * was closed, or -1 when /dev/null cannot be opened. */
static int std_fds_sanitize(void)
{
	int fd, null, closed = 0;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* Not O_CLOEXEC: these are the standard streams a child
		 * (credential_process) inherits. */
		null = open("/dev/null", O_RDWR);
		if (null < 0)
			return -1;
		if (null != fd) {
			/* Only when a lower slot was taken meanwhile. */
			if (dup2(null, fd) != fd) {
				close(null);
				return -1;
			}
			close(null);
		}
		closed |= 1 << fd;
	}
	return closed;
}

int main(int argc, char **argv)
{
	struct ctx ctx;
	sesctl_err rc;
	int closed;

	/* First of all: see std_fds_sanitize(). */
	closed = std_fds_sanitize();
	if (closed < 0) {
		int e = errno;

		/* stderr may be what is closed; nothing else can be said. */
		if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
			fprintf(stderr, "sesctl: error: cannot open "
					"'/dev/null' for a closed standard "
					"stream: %s\n",
				strerror(e));
		return err_exit_code(SESCTL_ERR_IO);
	}
	/* Registered first, so it runs last: library clean-up at exit
	 * (OpenSSL's, libxml2's) can leave pieces of answers on the stack. */
	(void)atexit(secret_scrub_stack);
	/* Before anything touches OpenSSL: its freed blocks are wiped. */
	(void)crypto_init();
	/* cJSON's copies of parsed settings are wiped when freed. */
	output_init();
	/* A closed pipe is an error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* Whatever sesctl creates is for the user alone. */
	umask(077);
	ctx_init(&ctx);
	ctx.stdout_was_closed = (closed & (1 << STDOUT_FILENO)) != 0;

	rc = cli_run(&ctx, argc, argv);
	if (ctx.check && rc != SESCTL_OK) {
		const char *msg = ctx.err.code == rc && ctx.err.msg[0] ?
					  ctx.err.msg :
					  err_desc(rc);

		printf("SESCTL UNKNOWN - %.*s\n", (int)strcspn(msg, "\n"), msg);
	}
	/* Library state goes now, wiped by their allocators, and the stack
	 * they used after it. */
	http_global_cleanup();
	iam_xml_global_cleanup();
	crypto_cleanup();
	secret_scrub_stack();
	secret_wipe_registers();

	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (rc == SESCTL_OK)
			rc = err_set(&ctx.err, SESCTL_ERR_IO,
				     "cannot write to standard output: %s",
				     strerror(errno));
	}
	if (rc != SESCTL_OK && ctx.json_errors) {
		const char *msg = ctx.err.code == rc && ctx.err.msg[0] ?
					  ctx.err.msg :
					  err_desc(rc);
		char *doc = NULL;

		if (ctx.err.code != rc)
			err_set(&ctx.err, rc, "%s", msg);
		if (output_error_json(interrupt_caught() ? "interrupted" :
							   err_kind_of(&ctx.err),
				      interrupt_caught() ?
					      128 + interrupt_caught() :
					      err_exit_code(rc),
				      msg, &doc) == SESCTL_OK)
			fputs(doc, stderr);
		free(doc);
	} else if (rc != SESCTL_OK) {
		fprintf(stderr, "sesctl: error: %s\n",
			ctx.err.code == rc && ctx.err.msg[0] ? ctx.err.msg :
							       err_desc(rc));
	}
	/* A signal held back during a critical section: the work was
	 * finished or undone; say how we stopped as the shell would. */
	if (interrupt_caught())
		return 128 + interrupt_caught();
	if (ctx.check)
		return rc == SESCTL_OK ? ctx.check_status : 3;
	return err_exit_code(rc);
}
