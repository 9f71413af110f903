/* credfile_int.h - what the files of credfile share; not a public
 * interface (that is include/sesctl/smtp/credfile.h).
 *
 *   credfile.c      the target path and its directory opened, the new or
 *                   replacing file written and made durable, standard
 *                   output, reading a settings file back
 *   credfile_dir.c  whether the directory is safe for a secret
 *                   (StrictModes), and removing the temporary files an
 *                   interrupted run left in it
 *
 * Only those files include it.
 */
#ifndef SESCTL_CREDFILE_INT_H
#define SESCTL_CREDFILE_INT_H

#include <limits.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"

/* ".<name>.sesctl-XXXXXX": at most this much of <name> is kept, so the
 * temporary name fits NAME_MAX even when <name> nearly fills it. */
#define TEMP_NAME_KEEP 200
#define TEMP_SUFFIX_LEN 6
#define TEMP_TRIES 100

struct target {
	const char *path;   /* as the user gave it, for messages */
	const char *name;   /* its last component (points into path) */
	char dir[PATH_MAX]; /* its directory; "." for a bare name */
	char real[PATH_MAX]; /* dir by realpath(3), once checked */
	int dirfd;          /* dir opened O_RDONLY|O_DIRECTORY, or -1 */
};

/* credfile.c: fsync the target's directory; 0, or -1 with errno set (a
 * file system that cannot is no failure). */
int sync_dir(struct ctx *ctx, const struct target *t);

/* credfile_dir.c: StrictModes for the opened target (fills t->real). */
MUST_USE sesctl_err target_check_strict(struct ctx *ctx, struct target *t);
/* credfile_dir.c: remove our own leftover temporary files for `t`. */
MUST_USE sesctl_err target_remove_stale(struct ctx *ctx,
					const struct target *t);

#endif
