/* credfile.h - writing the SMTP credentials where the user asked: a new
 * file (enable --output-file), an atomic replacement (rotate
 * --output-file) or standard output, each written durably.
 *
 * Files are written 0600 whatever the umask, only to regular files (never
 * through a symbolic link), and flushed with fsync(2) together with their
 * directory before success is reported, so a caller may retire the old
 * access key once one of these functions has returned SESCTL_OK.  On
 * failure nothing this module created is left behind, and the message in
 * ctx->err names the path and the system's reason but never the content.
 *
 * Error codes:
 *   SESCTL_ERR_USAGE  the path itself is unusable and the user has to give
 *                     another: empty, too long, ends in '/', already exists
 *                     (check_new, create), is a symbolic link or not a
 *                     regular file (check_replace, replace), its directory
 *                     does not exist or is not a directory;
 *   SESCTL_ERR_IO     everything the environment decides: permission denied,
 *                     read-only file system, disk full, write/fsync/rename
 *                     errors, standard output closed.
 * The write functions can return SESCTL_ERR_USAGE too, when the file system
 * changed after the check (someone created the file in between).
 */
#ifndef SESCTL_CREDFILE_H
#define SESCTL_CREDFILE_H

#include "sesctl/ctx.h"
#include "sesctl/err.h"
#include "sesctl/secret.h"

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

/* Replace (or create) `path` atomically: write `content` to a new 0600
 * file ".<name>.sesctl-XXXXXX" in the same directory, fsync it, rename it
 * over `path` and fsync the directory.  An existing `path` must be a
 * regular file; its mode is not kept (the result is always 0600), its
 * owner is kept when we may (as root), with a warning when we may not.
 *
 * On failure before the rename, the temporary file is removed and `path`
 * is untouched.  The one failure after the rename is the fsync of the
 * directory: then `path` already holds the new content (but a crash might
 * still bring the old one back), the error is SESCTL_ERR_IO and the
 * message says so. */
MUST_USE sesctl_err credfile_replace(struct ctx *ctx, const char *path,
				     const struct secret *content);

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
