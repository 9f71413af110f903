/* cmd_status_int.h - what the two files of sesctl smtp status share:
 * cmd_status.c reads and judges each user, cmd_status_print.c writes the
 * text, --check and prometheus outputs (JSON is output.c's). */
#ifndef SESCTL_CMD_STATUS_INT_H
#define SESCTL_CMD_STATUS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sesctl/cli/lifecycle.h"

/* --all: IAM requests in flight at once. */
#define STATUS_ALL_IN_FLIGHT 8

/* The names the SES console gives the SMTP users it makes. */
#define SES_CONSOLE_PREFIX "ses-smtp-user."
#define MAX_WARNINGS 16
#define WARNING_MAX 512
#define MAX_TAGS 64
#define MAX_BEYOND 24
#define BEYOND_LEN 320

/* What status found wrong, each with a stable code (status --check,
 * JSON, prometheus): see sesctl-smtp(1), WARNINGS. */
struct warnings {
	struct status_warning w[MAX_WARNINGS];
	char msg[MAX_WARNINGS][WARNING_MAX];
	size_t n;
	int worst; /* 0 none, 1 warning, 2 critical */
};
/* What one run of status asks for. */
struct status_opts {
	long warn_age, crit_age;
	bool all; /* advice names each user with --user-name */
	time_t now;
};

/* The first round's reads of a user: the user (with its tags), sesctl's
 * policy and the keys, which status cannot do without; then everything
 * else that may be attached, which status shows as unknown when it
 * cannot read it. */
enum first_read {
	R_USER,
	R_POLICY,
	R_KEYS,
	R_POLICIES,
	R_ATTACHED,
	R_GROUPS,
	R_LOGIN,
	R_CERTS,
	R_SSH,
	R_SVC,
	R_MFA,
	R_COUNT
};

/* Everything status learns about one user, and what it makes of it. */
struct user_status {
	const char *name; /* as asked for */
	bool gone;        /* --all: deleted since ListUsers, or unreadable */
	bool failed;      /* --all: could not be read (fail_msg says why) */
	sesctl_err fail_rc;
	char fail_msg[ERR_MSG_MAX];
	struct iam_user_result u;
	struct iam_user_policy pol;
	struct iam_access_key_list keys;
	struct iam_id_list pols, groups, certs, ssh, svc, mfa;
	struct iam_attached_policy_list att;
	struct iam_login_profile lp;
	sesctl_err first_rc[R_COUNT];
	char first_error[R_COUNT][IAM_XML_ERR_CODE_MAX + 1];
	/* the second round: when each key was last used (keys.count), then
	 * the documents of the other inline policies (n_docs) */
	struct iam_read *second;
	struct iam_access_key_last_used *used;
	struct iam_user_policy *docs;
	size_t n_docs;
	struct status_key *sk;
	struct status_policy *inl;
	const char **att_arns, **group_names;
	struct record rec;
	struct warnings ws;
	struct status_report r;
	const char *tag_keys[MAX_TAGS], *tag_values[MAX_TAGS];
	char beyond[MAX_BEYOND][BEYOND_LEN];
	const char *beyond_p[MAX_BEYOND];
	struct status_unknown unknown[R_COUNT + 8];
	char unknown_perm[R_COUNT + 8][96];
	char desc[256], host[REGION_HOST_MAX];
};

/* --all: a user outside /sesctl/ whose tags IAM failed to show (other
 * than by refusing the caller): it may be an SMTP user taken over with
 * --adopt, so it is reported as unreadable, not left out. */
struct status_unsure {
	const char *name; /* borrowed from the ListUsers list */
	sesctl_err rc;
	char msg[ERR_MSG_MAX - 128]; /* the ListUserTags failure (room
					left for what fail_msg adds) */
};

/* Which users --all reports on (cmd_status_all.c): `all` (ListUsers of
 * the whole account) narrowed to its SMTP users; *names (malloc'd, the
 * strings borrowed from `all`) and their number; *unsure (malloc'd) the
 * users that may be SMTP users, unread, and their number. */
MUST_USE sesctl_err status_select_users(struct lc *lc,
					const struct iam_user_list *all,
					const char ***names, size_t *n,
					struct status_unsure **unsure,
					size_t *n_unsure);
/* Make us[0..n) the unreadable entries of `u` (us zeroed). */
void status_mark_unsure(struct user_status *us, const struct status_unsure *u,
			size_t n);
/* Whether `name` is one the SES console gives ("ses-smtp-user.*"). */
bool status_console_name(const char *name);
/* Whether policy `doc` lets its user send mail and do nothing else. */
bool status_sends_only(const char *doc);

/* The outputs (cmd_status_print.c); each writes to ctx's stdout. */
MUST_USE sesctl_err status_print_text(struct ctx *ctx,
				      const struct user_status *us);
MUST_USE sesctl_err status_print_table(struct ctx *ctx,
				       const struct user_status *us, size_t n);
MUST_USE sesctl_err status_print_check(struct ctx *ctx,
				       const struct user_status *us,
				       const struct status_opts *so);
MUST_USE sesctl_err status_print_check_all(struct ctx *ctx,
					   struct user_status *us, size_t n,
					   int worst);
MUST_USE sesctl_err status_print_prometheus(struct ctx *ctx,
					    struct user_status *us, size_t n,
					    time_t now);

#endif
