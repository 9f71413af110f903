/* hook.c - the --deploy-hook runner (see hook.h). */
#include "sesctl/base/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sesctl/base/backoff.h"
#include "sesctl/base/interrupt.h"
#include "sesctl/base/spawn.h"

#define GRACE_MS 2000

/* Never handed to a hook (nor could they be of use: sesctl blanks them in
 * its own environment once read). */
static const char *const withheld[] = { "AWS_SECRET_ACCESS_KEY",
					"AWS_SESSION_TOKEN",
					"AWS_SECURITY_TOKEN",
					"AWS_CONTAINER_AUTHORIZATION_TOKEN",
					"SMTP_PASS" };

static bool named(const char *entry, const char *name)
{
	size_t len = strlen(name);

	return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

static bool keep_var(const char *entry, const struct hook_var *vars,
		     size_t n_vars)
{
	size_t i;

	for (i = 0; i < sizeof(withheld) / sizeof(withheld[0]); i++)
		if (named(entry, withheld[i]))
			return false;
	for (i = 0; i < n_vars; i++)
		if (named(entry, vars[i].name))
			return false; /* ours replaces it */
	return true;
}

/* environ less the withheld variables, plus `vars`: *envp and the strings
 * in owned[] are malloc'd, and the caller frees them (also on failure). */
static sesctl_err build_env(struct ctx *ctx, const struct hook_var *vars,
			    size_t n_vars, char ***envp, char **owned)
{
	extern char **environ;
	size_t n = 0, i, k = 0;
	char **env;

	for (i = 0; environ[i]; i++)
		n++;
	env = calloc(n + n_vars + 1, sizeof(*env));
	if (!env)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory");
	*envp = env;
	for (i = 0; environ[i]; i++)
		if (keep_var(environ[i], vars, n_vars))
			env[k++] = environ[i];
	for (i = 0; i < n_vars; i++) {
		size_t len;

		if (!vars[i].value)
			continue;
		len = strlen(vars[i].name) + strlen(vars[i].value) + 2;
		owned[i] = malloc(len);
		if (!owned[i])
			return err_set(&ctx->err, SESCTL_ERR_NOMEM,
				       "out of memory");
		snprintf(owned[i], len, "%s=%s", vars[i].name, vars[i].value);
		env[k++] = owned[i];
	}
	env[k] = NULL;
	return SESCTL_OK;
}

/* SIGTERM to the hook's process group, a grace period, then SIGKILL;
 * reaps the hook. */
static void stop_group(pid_t pid)
{
	long end = backoff_now_ms() + GRACE_MS;
	int status;

	(void)kill(-pid, SIGTERM);
	while (backoff_now_ms() < end) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			(void)kill(-pid, SIGKILL); /* what it left behind */
			return;
		}
		usleep(10000);
	}
	(void)kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

sesctl_err hook_run(struct ctx *ctx, const char *cmd,
		    const struct hook_var *vars, size_t n_vars,
		    long timeout_ms)
{
	struct spawn_setup sp;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char **envp = NULL, *owned[HOOK_VARS_MAX];
	int devnull = -1, e = 0, status = 0, r, out_fd;
	long deadline;
	pid_t pid = -1;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	memset(owned, 0, sizeof(owned));
	memset(&sp, 0, sizeof(sp));
	ENSURE(n_vars <= HOOK_VARS_MAX,
	       err_set(&ctx->err, SESCTL_ERR_FAIL, "too many hook variables"));
	TRY(build_env(ctx, vars, n_vars, &envp, owned));
	ENSURE((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0,
	       err_set(&ctx->err, SESCTL_ERR_IO,
		       "cannot run the deploy hook: /dev/null: %s",
		       strerror(errno)));
	/* Its output goes where our messages go: standard output may hold
	 * the settings, and nothing else belongs there. */
	out_fd = ctx->err_fd >= 0 ? ctx->err_fd : devnull;
	e = spawn_setup_init(&sp, devnull, out_fd, out_fd, true);
	ENSURE(!e, err_set(&ctx->err, SESCTL_ERR_FAIL,
			   "cannot run the deploy hook: %s", strerror(e)));
	e = posix_spawn(&pid, "/bin/sh", &sp.fa, &sp.attr, argv, envp);
	if (e) {
		pid = -1;
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "cannot run the deploy hook with /bin/sh: %s",
			     strerror(e));
		goto out;
	}
	ctx_debug(ctx, "deploy hook started (pid %ld)", (long)pid);

	deadline = backoff_now_ms() + timeout_ms;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		ENSURE(r == 0 || errno == EINTR,
		       err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot wait for the deploy hook: %s",
			       strerror(errno)));
		ENSURE(!interrupt_caught(),
		       err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "interrupted by %s: the deploy hook was stopped",
			       interrupt_name(interrupt_caught())));
		ENSURE(backoff_now_ms() < deadline,
		       err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "the deploy hook did not finish within %ld s, "
			       "so it was stopped",
			       (timeout_ms + 999) / 1000));
		usleep(10000);
	}
	pid = -1;
	if (WIFSIGNALED(status))
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "the deploy hook was killed by signal %d (%s)",
			     WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
			     "the deploy hook failed (exit status %d%s); its "
			     "own messages, if any, are above",
			     WEXITSTATUS(status),
			     WEXITSTATUS(status) == 127 ? ": command not found" :
							  "");
out:
	if (pid > 0)
		stop_group(pid);
	if (devnull >= 0)
		close(devnull);
	spawn_setup_release(&sp);
	for (i = 0; i < HOOK_VARS_MAX; i++)
		free(owned[i]);
	free(envp);
	return rc;
}
