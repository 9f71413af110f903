/* credfile.c - the SMTP credentials to a new file, an atomically replaced
 * file or standard output, durably (see credfile.h).
 *
 * Every file operation is relative to one descriptor of the target's
 * directory, opened once: the existence check, the O_EXCL create, the
 * temporary file, the rename, the directory fsync and any cleanup all act
 * on the same directory even if a component of the path is renamed
 * meanwhile.  That is also why the temporary name is made here rather than
 * by mkostemp(3), which has no *at() form; it is opened the same way
 * (O_CREAT|O_EXCL, 0600, retried on a collision).
 *
 * The checks of the directory itself (StrictModes) and the removal of
 * stale temporary files are in credfile_dir.c (credfile_int.h).
 */
#include "sesctl/smtp/credfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config.h"
#include "sesctl/base/backoff.h"
#include "sesctl/base/crypto.h"

#include "credfile_int.h"

#define CRED_MODE 0600
#define CRED_OPEN_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

static bool disk_full(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

/* "cannot <what> '<path>': <reason>", saying plainly when the disk is
 * full.  `e` is the saved errno. */
static sesctl_err io_error(struct ctx *ctx, const char *what, const char *path,
			   int e)
{
	if (disk_full(e))
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot %s '%s': the disk is full (%s)", what,
			       path, strerror(e));
	return err_set(&ctx->err, SESCTL_ERR_IO, "cannot %s '%s': %s", what,
		       path, strerror(e));
}

static sesctl_err exists_error(struct ctx *ctx, const char *path)
{
	return err_setk(&ctx->err, SESCTL_ERR_USAGE, "output-file-exists",
		       "'%s' already exists; sesctl does not overwrite "
		       "credentials (use 'sesctl smtp rotate', which replaces "
		       "them atomically, or choose another path)",
		       path);
}

static sesctl_err symlink_error(struct ctx *ctx, const char *path)
{
	return err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'%s' is a symbolic link; sesctl writes credentials "
		       "only to regular files",
		       path);
}

/* Split `path` into directory and name and open the directory. */
static sesctl_err target_open(struct ctx *ctx, const char *path,
			      struct target *t)
{
	const char *slash;
	size_t dirlen;
	int e;

	t->path = path;
	t->name = NULL;
	t->dir[0] = '\0';
	t->real[0] = '\0';
	t->dirfd = -1;

	if (!path || !*path)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "the output file name is empty");
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "the output file path is too long (the limit "
			       "is %d bytes)",
			       PATH_MAX - 1);
	slash = strrchr(path, '/');
	t->name = slash ? slash + 1 : path;
	if (!*t->name || strcmp(t->name, ".") == 0 ||
	    strcmp(t->name, "..") == 0)
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "'%s' names a directory; give the path of a "
			       "file",
			       path);
	if (!slash) {
		memcpy(t->dir, ".", 2);
	} else {
		/* "a//b" -> "a", "/b" and "//b" -> "/". */
		dirlen = (size_t)(slash - path);
		while (dirlen > 0 && path[dirlen - 1] == '/')
			dirlen--;
		if (dirlen == 0)
			dirlen = 1;
		memcpy(t->dir, path, dirlen); /* dirlen < strlen(path) */
		t->dir[dirlen] = '\0';
	}

	t->dirfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd >= 0)
		return SESCTL_OK;
	e = errno;
	switch (e) {
	case ENOENT:
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "directory '%s' does not exist; create it or "
			       "choose another path",
			       t->dir);
	case ENOTDIR:
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "'%s' is not a directory; choose another path",
			       t->dir);
	default:
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot open directory '%s': %s", t->dir,
			       strerror(e));
	}
}

static void target_close(struct target *t)
{
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->dirfd = -1;
}

/* lstat of the target: *exists says whether there is anything at all. */
static sesctl_err target_lookup(struct ctx *ctx, const struct target *t,
				struct stat *st, bool *exists)
{
	int e;

	*exists = false;
	if (fstatat(t->dirfd, t->name, st, AT_SYMLINK_NOFOLLOW) == 0) {
		*exists = true;
		return SESCTL_OK;
	}
	e = errno;
	if (e == ENOENT)
		return SESCTL_OK;
	return err_set(&ctx->err, SESCTL_ERR_IO, "cannot check '%s': %s",
		       t->path, strerror(e));
}

/* Only a pre-check (as root it passes almost everywhere); the open that
 * follows is the proof. */
static sesctl_err target_check_writable(struct ctx *ctx,
					const struct target *t)
{
	int e;

	if (faccessat(t->dirfd, ".", W_OK | X_OK, AT_EACCESS) == 0)
		return SESCTL_OK;
	e = errno;
	return err_set(&ctx->err, SESCTL_ERR_IO,
		       "directory '%s' is not writable: %s", t->dir,
		       strerror(e));
}

static sesctl_err check_regular(struct ctx *ctx, const char *path,
				const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return symlink_error(ctx, path);
	if (!S_ISREG(st->st_mode))
		return err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "'%s' is not a regular file; sesctl writes "
			       "credentials only to regular files",
			       path);
	return SESCTL_OK;
}

/* fsync the directory.  A file system that cannot (EINVAL, EOPNOTSUPP)
 * offers nothing better, so that is not a failure.  -1 with errno set on
 * a real error. */
int sync_dir(struct ctx *ctx, const struct target *t)
{
	int e;

	if (fsync(t->dirfd) == 0)
		return 0;
	e = errno;
	if (e == EINVAL || e == EOPNOTSUPP) {
		ctx_debug(ctx, "directory '%s' cannot be flushed on its file "
			       "system (%s)",
			  t->dir, strerror(e));
		return 0;
	}
	errno = e;
	return -1;
}

/* Remove `name` (in the target's directory) if it is still the file `id`
 * describes, so a failure never deletes something another process put
 * there meanwhile.  Failing to remove it only warns: the error the caller
 * is returning matters more, but the user must learn that a file holding
 * (part of) a secret is left behind. */
static void remove_ours(struct ctx *ctx, const struct target *t,
			const char *name, const struct stat *id)
{
	struct stat now;
	int e;

	if (fstatat(t->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (now.st_dev != id->st_dev || now.st_ino != id->st_ino) {
		ctx_debug(ctx, "'%s' in '%s' is no longer our file; left alone",
			  name, t->dir);
		return;
	}
	if (unlinkat(t->dirfd, name, 0) != 0) {
		e = errno;
		ctx_warn(ctx, "cannot remove '%s' in '%s': %s; delete it by hand",
			 name, t->dir, strerror(e));
		return;
	}
	ctx_debug(ctx, "removed '%s' in '%s'", name, t->dir);
	(void)sync_dir(ctx, t); /* best effort: already failing */
}

sesctl_err credfile_remove_stale(struct ctx *ctx, const char *path)
{
	struct target t = { .dirfd = -1 };
	sesctl_err rc = SESCTL_OK;

	TRY(target_open(ctx, path, &t));
	TRY(target_remove_stale(ctx, &t));
out:
	target_close(&t);
	return rc;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) { /* cannot happen for len > 0; never spin */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Give the new file `fd` its final mode (fchmod'ed whatever the umask,
 * and verified, since some file systems accept fchmod and ignore it), then
 * write `content` straight from the secret's buffer and fsync, which also
 * makes the owner and mode durable.  Messages name `path`. */
static sesctl_err fill(struct ctx *ctx, int fd, const char *path, mode_t mode,
		       const struct secret *content)
{
	struct stat st;

	if (fchmod(fd, mode) != 0)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot set mode %04o on '%s': %s",
			       (unsigned)mode, path, strerror(errno));
	if (fstat(fd, &st) != 0)
		return io_error(ctx, "check", path, errno);
	if ((st.st_mode & 07777 & ~mode) != 0)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "'%s' cannot be made private: its file system "
			       "keeps mode %04o instead of %04o; choose a path "
			       "on another file system",
			       path, (unsigned)(st.st_mode & 07777),
			       (unsigned)mode);
	if (content->len > 0 && write_all(fd, content->p, content->len) != 0)
		return io_error(ctx, "write", path, errno);
#if SESCTL_TEST_HOOKS
	/* A window inside the write, for the tests that kill sesctl there. */
	if (getenv("SESCTL_TEST_WRITE_PAUSE_MS"))
		backoff_sleep_ms(
			strtol(getenv("SESCTL_TEST_WRITE_PAUSE_MS"), NULL, 10));
#endif
	if (fsync(fd) != 0)
		return io_error(ctx, "flush to disk", path, errno);
	return SESCTL_OK;
}

/* close(2) with its error checked; *fd is -1 afterwards either way.  On
 * Linux the descriptor is gone even after EINTR, and the data was already
 * flushed by fill(), so EINTR is not a failure. */
static sesctl_err close_checked(struct ctx *ctx, int *fd, const char *path)
{
	int rc = close(*fd);
	int e = errno;

	*fd = -1;
	if (rc != 0 && e != EINTR)
		return io_error(ctx, "close", path, e);
	return SESCTL_OK;
}

sesctl_err credfile_check_new(struct ctx *ctx, const char *path)
{
	struct target t = { .dirfd = -1 };
	struct stat st;
	bool exists = false;
	sesctl_err rc = SESCTL_OK;

	TRY(target_open(ctx, path, &t));
	TRY(target_lookup(ctx, &t, &st, &exists));
	ENSURE(!exists, exists_error(ctx, path));
	TRY(target_check_writable(ctx, &t));
	TRY(target_check_strict(ctx, &t));
out:
	target_close(&t);
	return rc;
}

sesctl_err credfile_check_replace(struct ctx *ctx, const char *path)
{
	struct target t = { .dirfd = -1 };
	struct stat st;
	bool exists = false;
	sesctl_err rc = SESCTL_OK;

	TRY(target_open(ctx, path, &t));
	TRY(target_lookup(ctx, &t, &st, &exists));
	if (exists)
		TRY(check_regular(ctx, path, &st));
	TRY(target_check_writable(ctx, &t));
	TRY(target_check_strict(ctx, &t));
out:
	target_close(&t);
	return rc;
}

sesctl_err credfile_create(struct ctx *ctx, const char *path,
			   const struct secret *content)
{
	struct target t = { .dirfd = -1 };
	struct stat id = { 0 };
	bool created = false;
	int fd = -1, e;
	sesctl_err rc = SESCTL_OK;

	TRY(target_open(ctx, path, &t));
	TRY(target_check_strict(ctx, &t));
	TRY(target_remove_stale(ctx, &t));
	fd = openat(t.dirfd, t.name, CRED_OPEN_FLAGS, CRED_MODE);
	if (fd < 0) {
		e = errno;
		/* O_EXCL: an existing name, symbolic links included (even
		 * dangling ones), is EEXIST and is never followed. */
		if (e == EEXIST)
			rc = exists_error(ctx, path);
		else if (e == ELOOP)
			rc = symlink_error(ctx, path);
		else
			rc = io_error(ctx, "create", path, e);
		goto out;
	}
	if (fstat(fd, &id) != 0) {
		/* Cannot tell our file from another later: unlink it now. */
		rc = io_error(ctx, "check", path, errno);
		if (unlinkat(t.dirfd, t.name, 0) != 0) {
			e = errno;
			ctx_warn(ctx, "cannot remove '%s': %s; delete it by hand",
				 path, strerror(e));
		}
		goto out;
	}
	created = true;
	TRY(fill(ctx, fd, path, CRED_MODE, content));
	TRY(close_checked(ctx, &fd, path));
	if (sync_dir(ctx, &t) != 0) {
		e = errno;
		rc = err_set(&ctx->err, SESCTL_ERR_IO,
			     "cannot flush directory '%s' of '%s' to disk: %s",
			     t.dir, path, strerror(e));
		goto out;
	}
	ctx_debug(ctx, "wrote '%s' (mode 0600)", path);
out:
	if (fd >= 0)
		close(fd);
	if (rc != SESCTL_OK && created)
		remove_ours(ctx, &t, t.name, &id);
	target_close(&t);
	return rc;
}

/* Open a new 0600 ".<name>.sesctl-XXXXXX" beside the target; its name goes
 * to `name` (size NAME_MAX + 1). */
static sesctl_err temp_open(struct ctx *ctx, const struct target *t,
			    char name[NAME_MAX + 1], int *fd)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[TEMP_SUFFIX_LEN];
	char suffix[TEMP_SUFFIX_LEN + 1];
	size_t i;
	int tries, n, e;

	for (tries = 0; tries < TEMP_TRIES; tries++) {
		e = crypto_random(rnd, sizeof(rnd));
		if (e)
			return io_error(ctx, "name a temporary file for",
					t->path, e);
		for (i = 0; i < TEMP_SUFFIX_LEN; i++)
			suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		suffix[TEMP_SUFFIX_LEN] = '\0';
		n = snprintf(name, NAME_MAX + 1, ".%.*s.sesctl-%s",
			     TEMP_NAME_KEEP, t->name, suffix);
		if (n < 0 || n > NAME_MAX)
			return err_set(&ctx->err, SESCTL_ERR_FAIL,
				       "temporary name for '%s' does not fit",
				       t->path);
		*fd = openat(t->dirfd, name, CRED_OPEN_FLAGS, CRED_MODE);
		if (*fd >= 0)
			return SESCTL_OK;
		e = errno;
		if (e != EEXIST)
			return io_error(ctx, "create a temporary file for",
					t->path, e);
	}
	return err_set(&ctx->err, SESCTL_ERR_IO,
		       "cannot create a temporary file for '%s': %d names "
		       "in '%s' were taken",
		       t->path, TEMP_TRIES, t->dir);
}

/* The replacement gets the old file's owner, group and mode (an
 * application user reading its .env through its group, say), minus what a
 * file holding a secret must never have: permissions for other users and
 * the setuid, setgid and sticky bits.  Group permissions are kept only
 * with the group: when we may not give the file to that group (not root,
 * not a member), they would open it to ours instead.  The mode to set is
 * returned in *mode.
 *
 * Order, for secrecy: this runs on the new, still empty temporary file,
 * while it is ours and at most 0600; fill() then sets *mode and only then
 * writes the secret.  So the secret is only ever in a file whose owner,
 * group and mode are already the final ones: no reader exists at any time
 * who could not read the final file (between fchown and fchmod the file is
 * still 0600 and empty, open to its future owner alone).  Doing it after
 * the write would be as private but needs the fsync after it to cover the
 * new owner and mode, and a failure would come after the secret is on
 * disk. */
static void keep_attrs(struct ctx *ctx, const char *path, int fd,
		       const struct stat *old, mode_t *mode)
{
	struct stat st;
	mode_t want = old->st_mode & 0770;
	int e = 0;

	*mode = CRED_MODE;
	if (fstat(fd, &st) != 0)
		return; /* fill() reports a failing fstat */
	if (st.st_uid != old->st_uid || st.st_gid != old->st_gid) {
		if (fchown(fd, old->st_uid, old->st_gid) != 0) {
			e = errno;
			/* A member of the group may still give it that;
			 * if not, the warning below says what we have. */
			if (st.st_gid != old->st_gid &&
			    fchown(fd, (uid_t)-1, old->st_gid) != 0)
				ctx_debug(ctx, "cannot give '%s' to gid %ju "
					       "either",
					  path, (uintmax_t)old->st_gid);
		}
		if (fstat(fd, &st) != 0)
			return;
	}
	if (st.st_uid != old->st_uid || st.st_gid != old->st_gid)
		ctx_warn(ctx,
			 "'%s' was owned by uid %ju, gid %ju; the new file "
			 "belongs to uid %ju, gid %ju (%s); chown it if another "
			 "user reads it",
			 path, (uintmax_t)old->st_uid, (uintmax_t)old->st_gid,
			 (uintmax_t)st.st_uid, (uintmax_t)st.st_gid,
			 strerror(e ? e : EPERM));
	else
		ctx_debug(ctx, "'%s' stays owned by uid %ju, gid %ju", path,
			  (uintmax_t)old->st_uid, (uintmax_t)old->st_gid);
	if (st.st_gid != old->st_gid)
		want &= 0700;
	if ((old->st_mode & 07007) != 0)
		ctx_warn(ctx,
			 "'%s' was mode %04o; the new file is mode %04o: a file "
			 "holding a secret gets no permissions for other users "
			 "and no setuid, setgid or sticky bit",
			 path, (unsigned)(old->st_mode & 07777),
			 (unsigned)want);
	*mode = want;
}

/* The old file's access ACL (setfacl -m u:app:r FILE, the usual way to
 * let one more user read it) onto the new one, before fill()'s fchmod,
 * which then sets the ACL's mask from the old group bits (the old mask):
 * without it the app user loses the file and the mask reads as the
 * owning group's permission.  No ACL: nothing to do. */
static sesctl_err copy_acl(struct ctx *ctx, const struct target *t, int fd)
{
	static const char name[] = "system.posix_acl_access";
	char old[PATH_MAX + 32], buf[4096];
	ssize_t n;
	int e;

	/* l*: the last component is never followed (check_regular saw a
	 * regular file there). */
	snprintf(old, sizeof(old), "/proc/self/fd/%d/%s", t->dirfd, t->name);
	n = lgetxattr(old, name, buf, sizeof(buf));
	if (n < 0) {
		e = errno;
		if (e == ENODATA || e == ENOTSUP || e == ENOENT)
			return SESCTL_OK;
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot read the ACL of '%s' (%s), so the new "
			       "file could not keep it; nothing was replaced",
			       t->path, strerror(e));
	}
	if (fsetxattr(fd, name, buf, (size_t)n, 0) != 0) {
		e = errno;
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "'%s' has an ACL that the new file cannot get "
			       "(%s); nothing was replaced",
			       t->path, strerror(e));
	}
	ctx_debug(ctx, "'%s' keeps its ACL", t->path);
	return SESCTL_OK;
}

sesctl_err credfile_replace(struct ctx *ctx, const char *path,
			    const struct secret *content)
{
	struct target t = { .dirfd = -1 };
	struct stat old = { 0 }, id = { 0 };
	char tmp[NAME_MAX + 1] = "";
	bool exists = false, have_tmp = false;
	mode_t mode = CRED_MODE;
	int fd = -1, e;
	sesctl_err rc = SESCTL_OK;

	TRY(target_open(ctx, path, &t));
	TRY(target_lookup(ctx, &t, &old, &exists));
	if (exists)
		TRY(check_regular(ctx, path, &old));
	TRY(target_check_strict(ctx, &t));
	TRY(target_remove_stale(ctx, &t));
	TRY(temp_open(ctx, &t, tmp, &fd));
	if (fstat(fd, &id) != 0) {
		rc = io_error(ctx, "check a temporary file for", path, errno);
		if (unlinkat(t.dirfd, tmp, 0) != 0) {
			e = errno;
			ctx_warn(ctx, "cannot remove '%s' in '%s': %s; delete "
				      "it by hand",
				 tmp, t.dir, strerror(e));
		}
		goto out;
	}
	have_tmp = true;
	ctx_debug(ctx, "writing '%s' in '%s'", tmp, t.dir);
	if (exists) {
		keep_attrs(ctx, path, fd, &old, &mode);
		rc = copy_acl(ctx, &t, fd);
		if (rc != SESCTL_OK)
			goto out;
		if (old.st_nlink > 1)
			ctx_warn(ctx, "'%s' has other hard links; they keep "
				      "the old credentials",
				 path);
	}
	TRY(fill(ctx, fd, path, mode, content));
	TRY(close_checked(ctx, &fd, path));
	/* rename(2) replaces a name, never follows it: should a symbolic
	 * link have appeared at `path` since the check, it is replaced
	 * itself and its target is not written. */
	if (renameat(t.dirfd, tmp, t.dirfd, t.name) != 0) {
		rc = io_error(ctx, "replace", path, errno);
		goto out;
	}
	have_tmp = false;
	if (sync_dir(ctx, &t) != 0) {
		e = errno;
		rc = err_set(&ctx->err, SESCTL_ERR_IO,
			     "'%s' holds the new credentials, but flushing "
			     "directory '%s' to disk failed (%s); after a "
			     "crash it may hold the old ones",
			     path, t.dir, strerror(e));
		goto out;
	}
	ctx_debug(ctx, "replaced '%s' (mode %04o)", path, (unsigned)mode);
out:
	if (fd >= 0)
		close(fd);
	if (rc != SESCTL_OK && have_tmp)
		remove_ours(ctx, &t, tmp, &id);
	target_close(&t);
	return rc;
}

sesctl_err credfile_write_stdout(struct ctx *ctx, const struct secret *content)
{
	struct stat st;
	int e;
	sesctl_err rc = SESCTL_OK;

	if (content->len > 0)
		TRY(ctx_write_out(ctx, content->p, content->len));
	if (fstat(ctx->out_fd, &st) != 0) {
		e = errno;
		rc = err_set(&ctx->err, SESCTL_ERR_IO,
			     "cannot check standard output: %s", strerror(e));
		goto out;
	}
	/* Pipes and terminals have nothing to flush; a file that stdout was
	 * redirected to must be on disk before the old key goes. */
	if (!S_ISREG(st.st_mode) || fsync(ctx->out_fd) == 0)
		goto out;
	e = errno;
	if (e == EINVAL || e == EROFS) {
		ctx_debug(ctx, "standard output cannot be flushed (%s)",
			  strerror(e));
		goto out;
	}
	rc = err_set(&ctx->err, SESCTL_ERR_IO,
		     "cannot flush standard output to disk: %s%s",
		     disk_full(e) ? "the disk is full; " : "", strerror(e));
out:
	return rc;
}

sesctl_err credfile_check_stdout(struct ctx *ctx)
{
	struct stat st;
	int flags, e;

	if (ctx->stdout_was_closed && ctx->out_fd == STDOUT_FILENO)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "standard output is closed, so the new "
			       "settings would be lost; use --output-file "
			       "FILE or run without '>&-'");
	if (fstat(ctx->out_fd, &st) != 0) {
		e = errno;
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot use standard output (%s), so the new "
			       "settings would be lost; use --output-file "
			       "FILE",
			       strerror(e));
	}
	flags = fcntl(ctx->out_fd, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "standard output is open only for reading, so "
			       "the new settings could not be written; use "
			       "--output-file FILE or redirect it with '>FILE'");
	return SESCTL_OK;
}

sesctl_err credfile_read(struct ctx *ctx, const char *path, size_t max,
			 struct secret *out)
{
	struct stat st;
	int fd = -1, e;
	sesctl_err rc = SESCTL_OK;

	secret_clear(out);
	ENSURE(path && *path, err_set(&ctx->err, SESCTL_ERR_USAGE,
				      "the file name is empty"));
	/* O_NONBLOCK: opening a FIFO with no writer must not wait. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			rc = err_set(&ctx->err, SESCTL_ERR_NOT_FOUND,
				     "'%s' does not exist", path);
		else if (e == ELOOP)
			rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
				     "'%s' is a symbolic link; sesctl reads "
				     "credentials only from regular files",
				     path);
		else
			rc = io_error(ctx, "open", path, e);
		goto out;
	}
	ENSURE(fstat(fd, &st) == 0, io_error(ctx, "check", path, errno));
	ENSURE(S_ISREG(st.st_mode),
	       err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'%s' is not a regular file; sesctl reads credentials "
		       "only from regular files",
		       path));
	ENSURE(st.st_size >= 0 && (uintmax_t)st.st_size <= max,
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "'%s' is %jd bytes, over the %zu an SMTP settings file "
		       "can be; is it the right file?",
		       path, (intmax_t)st.st_size, max));
	rc = secret_read_fd(out, fd, max);
	e = errno;
	/* It grew while being read. */
	ENSURE(rc != SESCTL_ERR_INPUT,
	       err_set(&ctx->err, SESCTL_ERR_INPUT,
		       "'%s' is over %zu bytes, more than an SMTP settings "
		       "file can be; is it the right file?",
		       path, max));
	ENSURE(rc == SESCTL_OK, io_error(ctx, "read", path, e));
out:
	if (fd >= 0)
		close(fd);
	if (rc != SESCTL_OK)
		secret_clear(out);
	return rc;
}
