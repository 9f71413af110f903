/* runlock.c - the per-user run lock and its journal (see runlock.h). */
#include "sesctl/base/runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "sesctl-journal 1"
#define JOURNAL_MAX 8192
/* IAM dates have whole seconds, and this machine's clock may run ahead
 * of IAM's (no NTP): by up to 5 minutes, beyond which AWS refuses the
 * requests' signatures ("Signature expired"), so no run gets this far. */
#define JOURNAL_SKEW 300

/* mkdir -p, each new directory 0700. */
static int make_dirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static sesctl_err state_dir(struct ctx *ctx, char *out, size_t size)
{
	const char *d = getenv("SESCTL_STATE_DIR");
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct stat st;
	int n;

	if (d && *d)
		n = snprintf(out, size, "%s", d);
	else if (xdg && *xdg == '/')
		n = snprintf(out, size, "%s/sesctl", xdg);
	else if (home && *home == '/')
		n = snprintf(out, size, "%s/.local/state/sesctl", home);
	else
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "no directory for sesctl's run lock: HOME is not "
			       "set; set HOME or SESCTL_STATE_DIR");
	if (n < 0 || (size_t)n >= size)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "the state directory path is too long");
	if (make_dirs(out) != 0)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot create sesctl's state directory '%s': "
			       "%s; set SESCTL_STATE_DIR to a directory only "
			       "you can write",
			       out, strerror(errno));
	if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode))
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "sesctl's state directory '%s' is not a "
			       "directory",
			       out);
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "sesctl's state directory '%s' belongs to "
			       "another user or others can write it; fix it "
			       "with 'chmod 700' (as its owner) or set "
			       "SESCTL_STATE_DIR",
			       out);
	return SESCTL_OK;
}

/* "lock.<host_port>.<user>": the endpoint's authority, with anything but
 * [A-Za-z0-9.-] as '_'. */
static void lock_name(const char *endpoint, const char *user, char *out,
		      size_t size)
{
	const char *p = strstr(endpoint, "://");
	size_t n = 0, len;

	p = p ? p + 3 : endpoint;
	len = strcspn(p, "/?#");
	n = (size_t)snprintf(out, size, "lock.");
	for (; len > 0 && n + 1 < size; p++, len--) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-'))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	snprintf(out + n, size - n, ".%s", user);
}

static void journal_parse(const char *text, struct journal *j)
{
	const char *line = text, *next;

	memset(j, 0, sizeof(*j));
	if (strncmp(text, JOURNAL_MAGIC "\n", strlen(JOURNAL_MAGIC) + 1) != 0)
		return;
	for (; *line; line = next) {
		size_t len = strcspn(line, "\n");
		char buf[PATH_MAX + 32];

		next = line[len] ? line + len + 1 : line + len;
		if (len >= sizeof(buf))
			continue;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strncmp(buf, "command ", 8) == 0)
			(void)str_copy(j->command, sizeof(j->command), buf + 8);
		else if (strncmp(buf, "mode ", 5) == 0)
			(void)str_copy(j->mode, sizeof(j->mode), buf + 5);
		else if (strncmp(buf, "user-id ", 8) == 0)
			(void)str_copy(j->user_id, sizeof(j->user_id), buf + 8);
		else if (strcmp(buf, "verify yes") == 0)
			j->verify = true;
		else if (strcmp(buf, "hook yes") == 0)
			j->hook = true;
		else if (strncmp(buf, "started ", 8) == 0)
			j->started = (time_t)strtoll(buf + 8, NULL, 10);
		else if (strncmp(buf, "output ", 7) == 0)
			(void)str_copy(j->output, sizeof(j->output), buf + 7);
		else if (strncmp(buf, "before ", 7) == 0 &&
			 j->n_before < JOURNAL_KEYS_MAX)
			(void)str_copy(j->before[j->n_before++],
				       sizeof(j->before[0]), buf + 7);
	}
	j->present = j->command[0] && j->started > 0;
}

static sesctl_err read_journal(struct ctx *ctx, struct runlock *l)
{
	char *buf = malloc(JOURNAL_MAX + 1);
	ssize_t n;
	size_t len = 0;

	if (!buf)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM, "out of memory");
	if (lseek(l->fd, 0, SEEK_SET) < 0) {
		free(buf);
		return err_set(&ctx->err, SESCTL_ERR_IO, "cannot read '%s': %s",
			       l->path, strerror(errno));
	}
	while (len < JOURNAL_MAX &&
	       (n = read(l->fd, buf + len, JOURNAL_MAX - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	journal_parse(buf, &l->prev);
	free(buf);
	return SESCTL_OK;
}

sesctl_err runlock_acquire(struct ctx *ctx, const char *endpoint,
			   const char *user, struct runlock *l)
{
	char dir[PATH_MAX - 128], name[256];
	struct stat st;
	sesctl_err rc = SESCTL_OK;
	int n;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	TRY(state_dir(ctx, dir, sizeof(dir)));
	lock_name(endpoint, user, name, sizeof(name));
	n = snprintf(l->path, sizeof(l->path), "%s/%s", dir, name);
	ENSURE(n > 0 && (size_t)n < sizeof(l->path),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "the lock file path is too long"));
	l->fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
				      O_NONBLOCK,
		     0600);
	ENSURE(l->fd >= 0, err_set(&ctx->err, SESCTL_ERR_IO,
				   "cannot open the run lock '%s': %s",
				   l->path, strerror(errno)));
	ENSURE(fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		       st.st_uid == geteuid(),
	       err_set(&ctx->err, SESCTL_ERR_IO,
		       "the run lock '%s' is not a regular file of ours; "
		       "remove it",
		       l->path));
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		ENSURE(errno == EWOULDBLOCK,
		       err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot lock '%s': %s", l->path,
			       strerror(errno)));
		ctx_info(ctx, "waiting for another sesctl run on IAM user "
			      "'%s' to finish (lock '%s')",
			 user, l->path);
		while (flock(l->fd, LOCK_EX) != 0)
			ENSURE(errno == EINTR,
			       err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot lock '%s': %s", l->path,
				       strerror(errno)));
	}
	TRY(read_journal(ctx, l));
	if (l->prev.present)
		ctx_debug(ctx, "journal of an interrupted %s run found (%s)",
			  l->prev.command, l->path);
out:
	if (rc != SESCTL_OK)
		runlock_release(l);
	return rc;
}

void runlock_release(struct runlock *l)
{
	if (l->fd >= 0)
		close(l->fd); /* drops the flock */
	l->fd = -1;
}

static sesctl_err put(struct ctx *ctx, struct runlock *l, const char *text,
		      size_t len)
{
	size_t off = 0;

	if (ftruncate(l->fd, 0) != 0 || lseek(l->fd, 0, SEEK_SET) < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(l->fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(l->fd) != 0)
		goto fail;
	return SESCTL_OK;
fail:
	return err_set(&ctx->err, SESCTL_ERR_IO,
		       "cannot write the run journal '%s': %s", l->path,
		       strerror(errno));
}

/* Append "key value\n" to buf (a value with a line break is left out: it
 * would forge lines).  False when it does not fit. */
static bool add_line(char *buf, size_t size, size_t *len, const char *key,
		     const char *value)
{
	int n;

	if (!value[0] || strchr(value, '\n'))
		return true;
	n = snprintf(buf + *len, size - *len, "%s %s\n", key, value);
	if (n < 0 || (size_t)n >= size - *len)
		return false;
	*len += (size_t)n;
	return true;
}

sesctl_err runlock_journal_write(struct ctx *ctx, struct runlock *l,
				 const struct journal *j)
{
	char buf[JOURNAL_MAX] = JOURNAL_MAGIC "\n", started[24];
	size_t len = strlen(buf), i;
	bool fits;

	snprintf(started, sizeof(started), "%lld", (long long)j->started);
	fits = add_line(buf, sizeof(buf), &len, "command", j->command) &&
	       add_line(buf, sizeof(buf), &len, "mode",
			j->mode[0] ? j->mode : "-") &&
	       add_line(buf, sizeof(buf), &len, "started", started) &&
	       add_line(buf, sizeof(buf), &len, "verify",
			j->verify ? "yes" : "") &&
	       add_line(buf, sizeof(buf), &len, "hook", j->hook ? "yes" : "") &&
	       add_line(buf, sizeof(buf), &len, "user-id", j->user_id) &&
	       add_line(buf, sizeof(buf), &len, "output", j->output);
	for (i = 0; fits && i < j->n_before; i++)
		fits = add_line(buf, sizeof(buf), &len, "before", j->before[i]);
	if (!fits)
		return err_set(&ctx->err, SESCTL_ERR_FAIL, "journal too long");
	return put(ctx, l, buf, len);
}

sesctl_err runlock_journal_clear(struct ctx *ctx, struct runlock *l)
{
	memset(&l->prev, 0, sizeof(l->prev));
	return put(ctx, l, "", 0);
}

bool journal_made(const struct journal *j, const char *id, time_t created)
{
	size_t i;

	if (!j->present || !j->user_id[0] ||
	    created + JOURNAL_SKEW < j->started)
		return false;
	for (i = 0; i < j->n_before; i++)
		if (strcmp(j->before[i], id) == 0)
			return false;
	return true;
}

bool runlock_journal_own(struct ctx *ctx, struct runlock *l,
			 const char *user_id)
{
	struct journal *j = &l->prev;

	if (!j->present)
		return false;
	if (j->user_id[0] ? strcmp(j->user_id, user_id) == 0 :
			    strcmp(j->command, "enable") == 0)
		return true;
	ctx_debug(ctx, "the journal in '%s' is of another IAM user of this "
		       "name (UserId %s, not %s): not this user's",
		  l->path, j->user_id[0] ? j->user_id : "unknown", user_id);
	memset(j, 0, sizeof(*j));
	return false;
}
