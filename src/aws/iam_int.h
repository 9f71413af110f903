/* iam_int.h - what the files of the IAM client share; not a public
 * interface (that is include/sesctl/aws/iam.h).
 *
 *   iam.c          the form body, the client, IAM's errors into sesctl's,
 *                  and sending one call: signing, judging an attempt,
 *                  retrying (iam_call)
 *   iam_many.c     several calls at once (iam_call_many) and typed reads
 *                  several at once (iam_read_many)
 *   iam_calls.c    the typed calls (iam_create_user() ...), the paginated
 *                  lists they follow, and changes whose outcome is read
 *                  back when unknown (call_change)
 *   iam_resolve.c  the resolvers that read such a change back, and
 *                  actions[], the table of every action
 *
 * Only those files include it.
 */
#ifndef SESCTL_IAM_INT_H
#define SESCTL_IAM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/aws/aws_client.h"
#include "sesctl/aws/http.h"
#include "sesctl/aws/iam.h"
#include "sesctl/aws/iam_xml.h"
#include "sesctl/aws/sigv4.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* How safe it is to send an action again when its first try may or may
 * not have been applied. */
#define IAM_READ       AWS_READ /* reads only: repeat freely */
#define IAM_IDEMPOTENT 0x2 /* a change whose effect can be read back: its
			      typed call resolves an unknown outcome that
			      way, and sends it again only if not applied */
#define IAM_CREATES    AWS_CREATES /* a repeat would create a second thing: the
			      caller resolves an unknown outcome */
#define IAM_IN_STATUS  0x8 /* 'sesctl smtp status' shows its effect */
#define IAM_REMOVES   0x10 /* an idempotent removal: sent again after it
			      was applied, IAM says NoSuchEntity; several
			      may run at once (iam_call_many) */

struct iam_action;
struct list_desc;

/* Read back whether change `a`, sent with `p`, shows in IAM's state. */
typedef sesctl_err (*resolve_fn)(struct iam_client *c,
				 const struct iam_action *a,
				 const struct aws_param *p, size_t n,
				 bool *applied);

struct iam_action {
	const char *name;
	unsigned flags;
	/* Changes only. */
	resolve_fn resolve;           /* NULL: an unknown outcome stays so */
	const struct list_desc *list; /* the listing `resolve` reads, if any */
	const char *id_param;         /* the parameter naming the list item */
	size_t id_off;                /* where an item's name is in the item */
	const char *shows;            /* the aws CLI command showing the state */
};

/* iam_resolve.c: the entry of actions[] for `name`, or NULL. */
const struct iam_action *find_action(const char *name);

/* ---- iam.c ---------------------------------------------------------
 * Signing, judging an attempt, retrying and giving up are the core's
 * (aws_sign, aws_judge, aws_send_until, aws_give_up in aws_client.h),
 * called with the action's flags (only IAM_READ and IAM_CREATES matter
 * to it). */

MUST_USE sesctl_err call_start(struct iam_client *c, const char *action,
			       const struct aws_param *params,
			       size_t n_params, const struct iam_action **a,
			       char **form);

/* ---- iam_many.c ------------------------------------------------------ */

/* iam_call_many, with the actions whose flags meet `allowed` let through
 * (iam_call_many: IAM_READ | IAM_REMOVES). */
MUST_USE sesctl_err call_many(struct iam_client *c,
			      struct iam_call_item *calls, size_t n,
			      size_t max_in_flight, unsigned allowed);

/* ---- iam_calls.c: typed calls --------------------------------------- */

/* Actions with one result struct. */
typedef sesctl_err (*parse_fn)(const struct secret *body, void *out,
			       struct err_info *ei);

/* The paginated lists all share one shape: items, count, is_truncated,
 * marker.  One description per list type lets call_list() follow the
 * pages for all of them. */
struct list_desc {
	const char *action;
	parse_fn parse;
	void (*release)(void *list);
	size_t list_size, item_size;
	size_t items_off, count_off, truncated_off, marker_off;
};

#define FIELD(base, off, type) ((type *)((char *)(base) + (off)))

extern const struct list_desc list_tags, list_attached, list_keys,
	list_policies, list_groups, list_certs, list_ssh, list_svc, list_mfa;

const char *param(const struct aws_param *p, size_t n, const char *name);
const char *max_items(void);
MUST_USE sesctl_err list_merge(const struct list_desc *d, void *out,
			       void *page, char *marker, size_t *pages,
			       bool *more, struct err_info *ei);
MUST_USE sesctl_err call_list(struct iam_client *c,
			      const struct list_desc *d, const char *user,
			      const char *path_prefix, void *out);
MUST_USE sesctl_err parse_user(const struct secret *b, void *o,
			       struct err_info *ei);
MUST_USE sesctl_err parse_user_policy(const struct secret *b, void *o,
				      struct err_info *ei);
MUST_USE sesctl_err parse_last_used(const struct secret *b, void *o,
				    struct err_info *ei);
MUST_USE sesctl_err parse_login_profile(const struct secret *b, void *o,
					struct err_info *ei);

#endif
