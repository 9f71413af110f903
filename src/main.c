/* main.c - the only code that exits: maps sesctl_err to the documented
 * exit code and checks that stdout was really written (git run_builtin). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sesctl/cli.h"
#include "sesctl/crypto.h"
#include "sesctl/http.h"
#include "sesctl/iam_xml.h"
#include "sesctl/output.h"
#include "sesctl/secret.h"
#include "sesctl/ctx.h"

int main(int argc, char **argv)
{
	struct ctx ctx;
	sesctl_err rc;

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

	rc = cli_run(&ctx, argc, argv);
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
	if (rc != SESCTL_OK)
		fprintf(stderr, "sesctl: error: %s\n",
			ctx.err.code == rc && ctx.err.msg[0] ? ctx.err.msg :
							       err_desc(rc));
	return err_exit_code(rc);
}
