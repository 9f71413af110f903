/* runlock.h - one state-changing run per IAM user on this machine, and a
 * journal that tells the next run what a dead one was doing.
 *
 * The lock is an flock(2) on a file named by the IAM endpoint and the user
 * ("lock.127.0.0.1_8443.sesctl-smtp-blog") in the state directory:
 * $SESCTL_STATE_DIR, else $XDG_STATE_HOME/sesctl, else
 * $HOME/.local/state/sesctl, made 0700 and refused when it is not ours or
 * others can write it.  The kernel drops the lock when the process dies,
 * however it dies.  (The endpoint stands in for the account, which is not
 * known before the first IAM call: two accounts behind one endpoint share
 * a lock, which only serialises a little more than needed.)
 *
 * The journal is the lock file's content, written (and fsync'ed) by a run
 * just before it asks IAM for a new key and cleared when it is done.  A
 * run that takes the lock and finds a journal knows the run that wrote it
 * is dead (it held the lock), and which keys it may have made: those
 * created after `started` that are not in `before`.
 */
#ifndef SESCTL_RUNLOCK_H
#define SESCTL_RUNLOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"

#define JOURNAL_KEYS_MAX 2
#define JOURNAL_ID_MAX 256 /* IAM_XML_ID_MAX */

struct journal {
	bool present;
	char command[16]; /* "enable", "rotate" */
	char mode[16];    /* rotate: "delete", "deactivate", "keep" */
	/* The IAM user's UserId (unique across accounts): a journal of
	 * another account's user of the same name, reached through the same
	 * endpoint with another profile, is not this user's.  "" when an
	 * enable died before CreateUser answered (it made no key then). */
	char user_id[JOURNAL_ID_MAX + 1];
	bool verify;      /* --verify: the old key waits for SES */
	bool hook;        /* --deploy-hook: the old key waits for it */
	time_t started;   /* just before CreateAccessKey went out */
	char output[PATH_MAX]; /* --output-file, absolute; "" for stdout */
	char before[JOURNAL_KEYS_MAX][JOURNAL_ID_MAX + 1];
	size_t n_before;
};

struct runlock {
	int fd;
	char path[PATH_MAX];
	struct journal prev; /* what a dead run left, if anything */
};

/* Take the lock for `user` at the IAM endpoint `endpoint` (a URL),
 * waiting (with a message) while another run holds it, and read the
 * journal a dead run left.  Release with runlock_release. */
MUST_USE sesctl_err runlock_acquire(struct ctx *ctx, const char *endpoint,
				    const char *user, struct runlock *l);
void runlock_release(struct runlock *l);

/* Write `j` durably before a key is made. */
MUST_USE sesctl_err runlock_journal_write(struct ctx *ctx, struct runlock *l,
					  const struct journal *j);
/* The run is done (or undone): forget the journal, durably. */
MUST_USE sesctl_err runlock_journal_clear(struct ctx *ctx, struct runlock *l);

/* Whether key `id`, created at `created`, may have been made by the run
 * that wrote `j`: the journal names a user (see runlock_journal_own), the
 * key was not among its keys before, and was created no earlier than a
 * little before the run started. */
bool journal_made(const struct journal *j, const char *id, time_t created);

/* The user is known now (`user_id`, GetUser's or CreateUser's UserId):
 * forget a journal that names another user of the same name (another
 * account behind the same endpoint, or a user deleted and made again).
 * A journal naming no user is kept only when it is an enable's (it died
 * before CreateUser answered, so made no key).  Returns whether the
 * journal stays. */
bool runlock_journal_own(struct ctx *ctx, struct runlock *l,
			 const char *user_id);

#endif
