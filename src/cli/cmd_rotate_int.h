/* cmd_rotate_int.h - what the files of 'sesctl smtp rotate' share; not a
 * public interface (that is smtp_rotate() in include/sesctl/cli/cmd_smtp.h).
 *
 *   cmd_rotate.c       the command: its options, the order of the steps,
 *                      what to deliver, finishing what an interrupted run
 *                      began, the rollback
 *   cmd_rotate_keys.c  the user's access keys: which one the app holds,
 *                      retiring one, --finish, making room for a new one
 *
 * Only those files include it.
 */
#ifndef SESCTL_CMD_ROTATE_INT_H
#define SESCTL_CMD_ROTATE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/aws/iam.h"
#include "sesctl/base/err.h"
#include "sesctl/cli/lifecycle.h"
#include "sesctl/smtp/output.h"

/* qsort() order of access keys: oldest first. */
int by_create_date(const void *a, const void *b);
/* The key `id` of `keys`, or NULL (also for a NULL or empty `id`). */
const struct iam_access_key_meta *
find_key(const struct iam_access_key_list *keys, const char *id);

/* Delete or deactivate one key, or plan to (`dry`). */
MUST_USE sesctl_err retire(struct lc *lc, const char *key_id,
			   bool deactivate, bool dry);
/* Which key the app holds: the record's, corrected after a rollback,
 * or the output file's when no record names it. */
void current_after_rollback(struct lc *lc,
			    const struct iam_access_key_list *keys);
void current_from_file(struct lc *lc,
		       const struct iam_access_key_list *keys,
		       const struct smtp_settings *file);

/* rotate --finish: delete the user's other keys (not one another run may
 * be delivering) and record the app's as the only one. */
MUST_USE sesctl_err finish(struct lc *lc, struct iam_access_key_list *keys,
			   bool dry);
/* IAM allows two keys: retire one for the new key, or refuse. */
MUST_USE sesctl_err make_room(struct lc *lc,
			      struct iam_access_key_list *keys,
			      size_t in_flight, bool dry);

#endif
