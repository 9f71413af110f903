/* credfile.h - writing the SMTP credentials where the user asked: a new
 * file (enable --output-file), an atomic replacement (rotate
 * --output-file) or standard output, each written durably.
 *
 * New files are written 0600 whatever the umask (a replaced one keeps its
 * owner and mode, see credfile_replace()), only to regular files (never
 * through a symbolic link), and flushed with fsync(2) together with their
 * directory before success is reported, so a caller may retire the old
 * access key once one of these functions has returned SESCTL_OK.  On
 * failure nothing this module created is left behind, and the message in
 * ctx->err names the path and the system's reason but never the content.
 *
 * Where a secret may go (OpenSSH's StrictModes is the model): the file's
 * directory, resolved with realpath(3), must not be group- or
 * world-writable, sticky or not (in a shared sticky directory such as /tmp
 * another user can create the name first and would be handed the secret);
 * every directory above it must not be group- or world-writable either,
 * unless it is sticky and the next component of the path below it is owned
 * by root or by our effective uid (so /tmp/<0700 dir of ours>/app.env is
 * fine, /tmp/app.env is not).  Directories owned by another user (an app
 * user's home) are accepted.  The checks refuse such a path, and the write
 * functions check again on the directory they hold open.
 *
 * Error codes:
 *   SESCTL_ERR_USAGE  the path itself is unusable and the user has to give
 *                     another: empty, too long, ends in '/', already exists
 *                     (check_new, create), is a symbolic link or not a
 *                     regular file (check_replace, replace), its directory
 *                     does not exist or is not a directory, or it or a
 *                     directory above it can be written by other users;
 *   SESCTL_ERR_IO     everything the environment decides: permission denied,
 *                     read-only file system, disk full, write/fsync/rename
 *                     errors, standard output closed.
 * The write functions can return SESCTL_ERR_USAGE too, when the file system
 * changed after the check (someone created the file in between).
 */
#ifndef SESCTL_CREDFILE_H
#define SESCTL_CREDFILE_H

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* Before anything changes in IAM (enable): fail early when `path` cannot
 * become a new credentials file.  The path must not exist in any form (a
 * dangling symbolic link counts), and its directory must exist and be
 * writable by us.  Only a pre-check: credfile_create() is the proof. */
MUST_USE sesctl_err credfile_check_new(struct ctx *ctx, const char *path);

/* The same for rotate: `path` may be missing, but if it exists it must be
 * a regular file (not a symbolic link, directory, FIFO, ...). */
MUST_USE sesctl_err credfile_check_replace(struct ctx *ctx, const char *path);

/* Create `path` with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 (fchmod'ed and
 * checked, so neither the umask nor the file system can widen it), write
 * `content`, fsync the file, close it and fsync its directory.  On any
 * failure the file is unlinked again, if it still is the one we created. */
MUST_USE sesctl_err credfile_create(struct ctx *ctx, const char *path,
				    const struct secret *content);

/* Replace (or create) `path` atomically: write `content` to a new file
 * ".<name>.sesctl-XXXXXX" in the same directory, fsync it, rename it over
 * `path` and fsync the directory.  Stale temporary files of ours are
 * removed first (credfile_remove_stale()).
 *
 * An existing `path` must be a regular file.  The new one keeps its owner,
 * group and mode (an app user's 0640 file, group www-data, stays 0640
 * app:www-data), except that permissions for other users and the setuid,
 * setgid and sticky bits are dropped, with a warning naming the new mode.
 * The owner and group are given to the temporary file while it is still
 * empty and 0600, and the mode set, before the secret is written, so the
 * secret is never readable by anyone the final file does not allow.  When
 * we may not give the file away (not root), it stays ours, with our group
 * unless we are a member of the old one, group permissions are kept only
 * with the old group, and a warning says so.  A missing `path` is made
 * 0600.
 *
 * On failure before the rename, the temporary file is removed and `path`
 * is untouched.  The one failure after the rename is the fsync of the
 * directory: then `path` already holds the new content (but a crash might
 * still bring the old one back), the error is SESCTL_ERR_IO and the
 * message says so. */
MUST_USE sesctl_err credfile_replace(struct ctx *ctx, const char *path,
				     const struct secret *content);

/* Remove, in the directory of `path`, every temporary file an earlier
 * credfile_replace() that was interrupted left behind (it holds a secret):
 * regular files named exactly "." + the name of `path` (its first 200
 * bytes) + ".sesctl-" + 6 characters of [A-Za-z0-9] (mkstemp's alphabet),
 * owned by our effective uid.  Symbolic links, other file types and files
 * of other users are left alone.  Each removal is reported with
 * ctx_info(); a file that cannot be removed is a warning.  SESCTL_ERR_IO
 * (or SESCTL_ERR_USAGE for a bad path, as above) when the directory cannot
 * be opened or listed.
 *
 * Not safe against a concurrent sesctl writing the same path (it would
 * remove that run's temporary file): callers hold the lock of the IAM user
 * whose credentials the file holds, so two runs never write one path at
 * once.  credfile_create() and credfile_replace() call it themselves. */
MUST_USE sesctl_err credfile_remove_stale(struct ctx *ctx, const char *path);

/* Read the whole of `path` into `out` (replacing its contents), e.g. the
 * settings file rotate is about to replace, to keep its format.  Opened
 * O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC and checked with fstat(2): a
 * symbolic link, FIFO, device or directory is SESCTL_ERR_USAGE (a FIFO
 * never blocks the read), a missing file SESCTL_ERR_NOT_FOUND, more than
 * `max` bytes SESCTL_ERR_INPUT, anything else SESCTL_ERR_IO.  On failure
 * `out` is wiped empty; the message never quotes the content. */
MUST_USE sesctl_err credfile_read(struct ctx *ctx, const char *path,
				  size_t max, struct secret *out);

/* No --output-file: write `content` to ctx->out_fd with ctx_write_out(),
 * then, if that is a regular file (stdout redirected to a file), fsync it
 * so the credentials are on disk before the caller goes on.  EPIPE, ENOSPC
 * and the like are SESCTL_ERR_IO with a message naming standard output. */
MUST_USE sesctl_err credfile_write_stdout(struct ctx *ctx,
					  const struct secret *content);

/* Before anything changes in IAM, when the settings are to go to standard
 * output (no --output-file): fail with SESCTL_ERR_IO when they could not
 * reach anyone there.  That is when fd 1 was closed at start
 * (ctx->stdout_was_closed: main pointed it at /dev/null), when fstat(2) on
 * ctx->out_fd fails, or when it is open read-only.  A full disk or a
 * reader that goes away can still fail the write itself. */
MUST_USE sesctl_err credfile_check_stdout(struct ctx *ctx);

#endif
