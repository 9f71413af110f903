/* credfile_dir.c - the directory a credentials file goes into (see
 * credfile.h): StrictModes, which refuses a directory where another user
 * could plant or swap the file, and the removal of the temporary files an
 * interrupted run left there.  credfile.c opens the target and its
 * directory, writes the file and calls these (credfile_int.h).
 */
#include "sesctl/smtp/credfile.h"

#include <dirent.h>
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
#include <unistd.h>

#include "credfile_int.h"

/* ---- StrictModes ------------------------------------------------------
 * A secret goes only where no other user can plant or swap the file (the
 * rule OpenSSH's StrictModes applies to authorized_keys):
 *  - the file's own directory is neither group- nor world-writable, sticky
 *    or not: in a sticky shared directory another user may create the name
 *    first, and rotate would then give that user the new secret;
 *  - every directory above it is not group- or world-writable either,
 *    except a sticky one (/tmp) whose entry on our path belongs to root or
 *    to us, so nobody else can rename it away and put their own in place.
 * Directories owned by another user are accepted: their owner (an app user
 * whose home holds the file) is the one the file is for.  The path is
 * resolved with realpath(3) first, and the directory checked is the one
 * held open (its identity is compared with the resolved path). */

static sesctl_err unsafe_dir_error(struct ctx *ctx, const struct target *t,
				   const char *dir, bool above,
				   const char *detail)
{
	return err_set(&ctx->err, SESCTL_ERR_USAGE,
		       "'%s': %s '%s'%s can be written by other users%s, "
		       "who could plant or swap the file; choose a directory "
		       "only you (and root) can write, e.g. mkdir -m 700 "
		       "~/smtp",
		       t->path, above ? "directory" : "its directory", dir,
		       above ? " above it" : "", detail);
}

sesctl_err target_check_strict(struct ctx *ctx, struct target *t)
{
	struct stat dir, up, below;
	char prefix[PATH_MAX], detail[PATH_MAX + 64];
	uid_t me = geteuid();
	size_t len, below_len;
	int e, n;

	if (!realpath(t->dir, t->real)) {
		e = errno;
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot resolve directory '%s': %s", t->dir,
			       strerror(e));
	}
	if (fstat(t->dirfd, &dir) != 0 || stat(t->real, &up) != 0) {
		e = errno;
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "cannot check directory '%s': %s", t->real,
			       strerror(e));
	}
	if (dir.st_dev != up.st_dev || dir.st_ino != up.st_ino)
		return err_set(&ctx->err, SESCTL_ERR_IO,
			       "directory '%s' was moved while sesctl checked "
			       "it; run the command again",
			       t->dir);
	if ((dir.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		n = snprintf(detail, sizeof(detail), " (mode %04o)",
			     (unsigned)(dir.st_mode & 07777));
		if (n < 0 || (size_t)n >= sizeof(detail))
			detail[0] = '\0';
		return unsafe_dir_error(ctx, t, t->real, false, detail);
	}

	/* Upwards from the directory's parent: `below` is the entry of the
	 * path in `prefix`, `up` is `prefix` itself. */
	below = dir;
	len = strlen(t->real);
	memcpy(prefix, t->real, len + 1);
	while (len > 1) {
		below_len = len;
		while (len > 1 && prefix[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* "/a/b" -> "/a", "/a" -> "/" */
		prefix[len] = '\0';
		if (lstat(prefix, &up) != 0) {
			e = errno;
			return err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot check directory '%s': %s",
				       prefix, strerror(e));
		}
		if (!S_ISDIR(up.st_mode))
			return err_set(&ctx->err, SESCTL_ERR_IO,
				       "'%s' was changed while sesctl checked "
				       "it; run the command again",
				       prefix);
		if ((up.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
			if ((up.st_mode & S_ISVTX) == 0) {
				n = snprintf(detail, sizeof(detail),
					     " (mode %04o)",
					     (unsigned)(up.st_mode & 07777));
			} else if (below.st_uid != 0 && below.st_uid != me) {
				n = snprintf(detail, sizeof(detail),
					     " (it is sticky, but '%.*s' "
					     "belongs to uid %ju)",
					     (int)below_len, t->real,
					     (uintmax_t)below.st_uid);
			} else {
				n = 0;
			}
			if (n != 0) {
				if (n < 0 || (size_t)n >= sizeof(detail))
					detail[0] = '\0';
				return unsafe_dir_error(ctx, t, prefix, true,
							detail);
			}
		}
		below = up;
	}
	return SESCTL_OK;
}

/* ---- stale temporary files ------------------------------------------- */

/* ".<name>.sesctl-" as temp_open() writes it, into `out` (NAME_MAX + 1). */
static sesctl_err temp_prefix(struct ctx *ctx, const struct target *t,
			      char *out)
{
	int n = snprintf(out, NAME_MAX + 1, ".%.*s.sesctl-", TEMP_NAME_KEEP,
			 t->name);

	if (n < 0 || n + TEMP_SUFFIX_LEN > NAME_MAX)
		return err_set(&ctx->err, SESCTL_ERR_FAIL,
			       "temporary name for '%s' does not fit",
			       t->path);
	return SESCTL_OK;
}

/* `name` is `prefix` and TEMP_SUFFIX_LEN characters of temp_open()'s (and
 * mkstemp's) alphabet, nothing more. */
static bool is_temp_name(const char *name, const char *prefix, size_t plen)
{
	size_t i;

	if (strncmp(name, prefix, plen) != 0 ||
	    strlen(name) != plen + TEMP_SUFFIX_LEN)
		return false;
	for (i = plen; name[i]; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/* Remove our own leftover temporary files for `t` (see credfile.h). */
sesctl_err target_remove_stale(struct ctx *ctx, const struct target *t)
{
	char prefix[NAME_MAX + 1];
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	uid_t me = geteuid();
	size_t plen, removed = 0;
	int fd, e;
	sesctl_err rc = SESCTL_OK;

	TRY(temp_prefix(ctx, t, prefix));
	plen = strlen(prefix);
	/* A descriptor of its own: closedir() closes it, not t->dirfd. */
	fd = openat(t->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && !(d = fdopendir(fd))) {
		e = errno;
		close(fd);
		errno = e;
	}
	ENSURE(d, err_set(&ctx->err, SESCTL_ERR_IO,
			  "cannot list directory '%s': %s", t->dir,
			  strerror(errno)));
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			e = errno;
			ENSURE(e == 0,
			       err_set(&ctx->err, SESCTL_ERR_IO,
				       "cannot list directory '%s': %s",
				       t->dir, strerror(e)));
			break;
		}
		if (!is_temp_name(de->d_name, prefix, plen))
			continue;
		if (fstatat(t->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0)
			continue; /* gone meanwhile */
		if (!S_ISREG(st.st_mode) || st.st_uid != me) {
			ctx_debug(ctx, "'%s' in '%s' is not a temporary file "
				       "of ours; left alone",
				  de->d_name, t->dir);
			continue;
		}
		if (unlinkat(t->dirfd, de->d_name, 0) != 0) {
			e = errno;
			ctx_warn(ctx, "cannot remove '%s' in '%s', left by an "
				      "interrupted run: %s; delete it by hand",
				 de->d_name, t->dir, strerror(e));
			continue;
		}
		removed++;
		ctx_info(ctx, "removed '%s' in '%s', a temporary file an "
			      "interrupted run left behind",
			 de->d_name, t->dir);
	}
	if (removed > 0)
		(void)sync_dir(ctx, t); /* best effort: nothing depends on it */
out:
	if (d)
		closedir(d);
	return rc;
}
