/* process.c - the credential_process provider (see creds_int.h). */
#include "creds_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "sesctl/base/backoff.h"
#include "sesctl/base/spawn.h"

/* ------------------------------------------------------------------ */
/* credential_process
 *
 * As botocore's ProcessProvider: the profile's credential_process is
 * split like shlex.split() (no shell), run with the environment sesctl
 * has, and its standard output must be Version 1 JSON.  Divergences: its
 * standard input is /dev/null and its standard error goes straight to
 * ours (botocore captures it and shows it only on failure); it must end
 * within PROCESS_TIMEOUT_MS (botocore waits forever); and its output is
 * capped at PROCESS_OUTPUT_MAX.  The output is read with read(2) into a
 * struct secret. */

#define PROCESS_OUTPUT_MAX ((size_t)64 << 10)
#define PROCESS_TIMEOUT_MS (120L * 1000L)
#define PROCESS_ARGS_MAX 256

static long process_timeout_ms(struct state *st)
{
#if SESCTL_TEST_HOOKS
	const char *v =
		creds_env_get(st->env, "SESCTL_TEST_PROCESS_TIMEOUT_MS");

	if (v)
		return strtol(v, NULL, 10);
#else
	(void)st;
#endif
	return PROCESS_TIMEOUT_MS;
}

/* Stop a child that overran: SIGTERM, up to a second's grace, SIGKILL. */
static void stop_child(pid_t pid)
{
	int status, i;

	(void)kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		backoff_sleep_ms(10);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Run argv (argv[0] searched in $PATH) and collect its standard output
 * in `out`.  Errors name `profile`. */
static sesctl_err run_process(struct state *st, const char *profile,
			      char *const *argv, struct secret *out)
{
	extern char **environ;
	struct spawn_setup sp;
	unsigned char buf[4096];
	struct ctx *ctx = st->ctx;
	long timeout = process_timeout_ms(st), deadline, left;
	int pfd[2] = { -1, -1 }, devnull = -1, e = 0, status = 0, r;
	pid_t pid = -1;
	ssize_t n;
	sesctl_err rc = SESCTL_OK;

	memset(&sp, 0, sizeof(sp));
	ENSURE(pipe2(pfd, O_CLOEXEC) == 0 &&
		       (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0,
	       err_set(&ctx->err, SESCTL_ERR_IO,
		       "cannot run credential_process of profile '%s': %s",
		       profile, strerror(errno)));
	/* Its messages go where ours go (stderr; a test's log). */
	e = spawn_setup_init(&sp, devnull, pfd[1],
			     ctx->err_fd >= 0 ? ctx->err_fd : devnull, false);
	ENSURE(!e, err_set(&ctx->err, SESCTL_ERR_FAIL,
			   "cannot run credential_process of profile '%s': %s",
			   profile, strerror(e)));
	e = posix_spawnp(&pid, argv[0], &sp.fa, &sp.attr, argv, environ);
	if (e) {
		pid = -1;
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "cannot run credential_process of profile '%s' "
			     "('%s'): %s",
			     profile, argv[0], strerror(e));
		goto out;
	}
	close(pfd[1]);
	pfd[1] = -1;

	deadline = backoff_now_ms() + timeout;
	for (;;) {
		struct pollfd pf = { pfd[0], POLLIN, 0 };

		left = deadline - backoff_now_ms();
		ENSURE(left > 0,
		       err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "credential_process of profile '%s' did not "
			       "finish within %ld s, so it was stopped",
			       profile, (timeout + 999) / 1000));
		r = poll(&pf, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		ENSURE(r >= 0, err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot read from credential_process of "
				       "profile '%s': %s",
				       profile, strerror(errno)));
		if (r == 0)
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		ENSURE(n >= 0, err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot read from credential_process of "
				       "profile '%s': %s",
				       profile, strerror(errno)));
		if (n == 0)
			break;
		ENSURE(out->len + (size_t)n <= PROCESS_OUTPUT_MAX,
		       err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "credential_process of profile '%s' wrote more "
			       "than %zu KiB; it should print one small JSON "
			       "object",
			       profile, PROCESS_OUTPUT_MAX >> 10));
		TRY(secret_append(out, buf, (size_t)n));
	}
	/* End of output; the exit status, within the same time limit. */
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			e = errno;
			pid = -1;
			rc = err_set(&ctx->err, SESCTL_ERR_IO,
				     "cannot wait for credential_process of "
				     "profile '%s': %s",
				     profile, strerror(e));
			goto out;
		}
		ENSURE(backoff_now_ms() < deadline,
		       err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "credential_process of profile '%s' did not "
			       "exit within %ld s, so it was stopped",
			       profile, (timeout + 999) / 1000));
		backoff_sleep_ms(5);
	}
	pid = -1;
	if (WIFSIGNALED(status))
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "credential_process of profile '%s' was killed by "
			     "signal %d (%s)",
			     profile, WTERMSIG(status),
			     strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		/* What a failed exec looks like where posix_spawnp cannot
		 * report it (valgrind, other C libraries) or from a wrapper
		 * script. */
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "credential_process of profile '%s' failed (exit "
			     "status 127: is '%s' installed and in PATH?)",
			     profile, argv[0]);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "credential_process of profile '%s' failed (exit "
			     "status %d); its own messages, if any, are above",
			     profile,
			     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
out:
	if (pid > 0)
		stop_child(pid);
	secret_wipe(buf, sizeof(buf));
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	spawn_setup_release(&sp);
	if (rc != SESCTL_OK)
		secret_free(out);
	return rc;
}

sesctl_err creds_from_process(struct state *st, const struct prof *p,
			      struct creds *out, bool *found)
{
	char *cmd = NULL, *argv[PROCESS_ARGS_MAX];
	struct shlex_word words[PROCESS_ARGS_MAX - 1];
	char what[CREDS_SOURCE_MAX], where[CREDS_SOURCE_MAX];
	struct secret text = SECRET_INIT;
	struct val v;
	sesctl_err rc = SESCTL_OK;
	int argc, i;

	if (!creds_prof_get(st, p, "credential_process", &v))
		return SESCTL_OK;
	creds_val_where(&v, where, sizeof(where));
	ENSURE(!st->net->offline,
	       creds_val_error(st, &v,
			       "is set, but running it is disabled here"));
	cmd = malloc(v.len + 1);
	ENSURE(cmd, err_set(&st->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	TRY(creds_val_text(st, &v, false, cmd, v.len + 1));
	/* botocore's compat_shell_split: shlex.split() in POSIX mode */
	argc = creds_shlex_split((unsigned char *)cmd, strlen(cmd), words,
				 PROCESS_ARGS_MAX - 1);
	ENSURE(argc != -1,
	       creds_val_error(
		       st, &v,
		       "has an unterminated quote or ends in a backslash"));
	ENSURE(argc != -2, creds_val_error(st, &v, "has too many words"));
	ENSURE(argc > 0, creds_val_error(st, &v, "is empty"));
	for (i = 0; i < argc; i++)
		argv[i] = cmd + words[i].off;
	argv[argc] = NULL;
	/* The arguments may hold anything; only the program is named. */
	ctx_debug(st->ctx,
		  "running credential_process of profile '%s' (%s): '%s' with "
		  "%d argument%s",
		  p->name, where, argv[0], argc - 1, argc == 2 ? "" : "s");
	TRY(run_process(st, p->name, argv, &text));
	creds_set_text(what, sizeof(what),
		       "the output of credential_process of profile '%s'",
		       p->name);
	TRY(creds_json_creds(st, &text, what, "SessionToken", JC_VERSION, out));
	creds_set_text(out->source, sizeof(out->source),
		       "credential_process of profile '%s' (%s)", p->name,
		       where);
	*found = true;
out:
	secret_free(&text);
	if (cmd) {
		secret_wipe(cmd, v.len + 1);
		free(cmd);
	}
	return rc;
}

sesctl_err creds_provider_process(struct state *st, struct creds *out,
				  bool *found)
{
	return creds_from_process(st, &st->top, out, found);
}
