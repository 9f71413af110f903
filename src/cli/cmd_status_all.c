/* cmd_status_all.c - which users `sesctl smtp status --all` reports on:
 * every SMTP user of the account, found by path, by the SES console's
 * names, by the ManagedBy tag of users taken over, and by an inline policy
 * that only sends mail (see cmd_status_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/cli/cmd_smtp.h"
#include "sesctl/cli/lifecycle.h"

#include "cmd_status_int.h"

/* An SES console user's name: "ses-smtp-user.YYYYMMDD-HHMMSS". */
bool status_console_name(const char *name)
{
	return strncmp(name, SES_CONSOLE_PREFIX,
		       strlen(SES_CONSOLE_PREFIX)) == 0;
}

/* A policy that lets its user send mail and do nothing else: an SMTP
 * user's, whoever made it. */
bool status_sends_only(const char *doc)
{
	struct policy_beyond pb;

	if (!output_policy_allows_send(doc))
		return false;
	output_policy_beyond(doc, &pb);
	return pb.n == 0;
}

#define SELECT_DOCS_MAX 4 /* inline policies read per other user */

/* --all: every SMTP user of the account.  Those under LC_PATH and those
 * whose name the SES console gives; elsewhere, those that carry
 * ManagedBy=sesctl (taken over with --adopt) and those with an inline
 * policy that only sends mail (made by hand or by another tool): their
 * tags and policy names are read, all at once, then (for the others) up
 * to SELECT_DOCS_MAX policies each, all at once.
 *
 * A user whose tags IAM refuses to show is left out, and said (the
 * permission is optional: cmd_caller_policy.c).  One whose ListUserTags
 * fails otherwise (after the retries) has its tags read again, by GetUser
 * (which gives them, and which --all needs anyway), in the second round;
 * if that fails too, it goes in *unsure, to be reported as unreadable:
 * whether it is an SMTP user is not known, and a monitoring job must not
 * lose sight of one in silence. */
sesctl_err status_select_users(struct lc *lc, const struct iam_user_list *all,
				const char ***names, size_t *n,
				struct status_unsure **unsure, size_t *n_unsure)
{
	struct iam_read *rd = NULL, *rd2 = NULL;
	struct iam_tag_list *tags = NULL;
	struct iam_id_list *pols = NULL;
	struct iam_user_policy *docs = NULL;
	struct iam_user_result *again = NULL;
	struct status_unsure *why = NULL; /* by user */
	size_t *owner = NULL;
	bool *pick = NULL, *unread = NULL;
	size_t i, k, m = 0, m2 = 0, denied = 0, c = all->count ? all->count : 1;
	sesctl_err rc = SESCTL_OK;

	*n = 0;
	*n_unsure = 0;
	*names = calloc(c, sizeof(**names));
	*unsure = calloc(c, sizeof(**unsure));
	rd = calloc(2 * c, sizeof(*rd));
	tags = calloc(c, sizeof(*tags));
	pols = calloc(c, sizeof(*pols));
	pick = calloc(c, sizeof(*pick));
	unread = calloc(c, sizeof(*unread));
	again = calloc(c, sizeof(*again));
	why = calloc(c, sizeof(*why));
	/* each user's policies, or its GetUser, or both */
	rd2 = calloc((SELECT_DOCS_MAX + 1) * c, sizeof(*rd2));
	docs = calloc(SELECT_DOCS_MAX * c, sizeof(*docs));
	owner = calloc((SELECT_DOCS_MAX + 1) * c, sizeof(*owner));
	ENSURE(*names && *unsure && rd && tags && pols && pick && unread &&
		       again && why && rd2 && docs && owner,
	       err_set(&lc->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < all->count; i++) {
		const struct iam_user *u = &all->items[i];

		pick[i] = strncmp(u->path, LC_PATH, strlen(LC_PATH)) == 0 ||
			  status_console_name(u->user_name);
		if (pick[i])
			continue;
		rd[m++] = (struct iam_read){ .kind = IAM_READ_LIST_USER_TAGS,
					     .user = u->user_name,
					     .out = &tags[i] };
		rd[m++] = (struct iam_read){
			.kind = IAM_READ_LIST_USER_POLICIES,
			.user = u->user_name, .out = &pols[i]
		};
	}
	rc = iam_read_many(&lc->iam, rd, m, STATUS_ALL_IN_FLIGHT);
	for (i = 0, m = 0; i < all->count; i++) {
		if (pick[i])
			continue;
		/* NoSuchEntity: deleted since ListUsers, nothing to tell */
		if (rd[m].rc == SESCTL_ERR_AUTH)
			denied++;
		if (rd[m].rc == SESCTL_ERR_AUTH ||
		    rd[m].rc == SESCTL_ERR_NOT_FOUND) {
			m += 2;
			continue;
		}
		if (rd[m].rc != SESCTL_OK) {
			unread[i] = true;
			why[i].name = all->items[i].user_name;
			why[i].rc = rd[m].rc;
			snprintf(why[i].msg, sizeof(why[i].msg), "%.*s",
				 (int)sizeof(why[i].msg) - 1, rd[m].err.msg);
			owner[m2] = i;
			rd2[m2++] = (struct iam_read){
				.kind = IAM_READ_GET_USER,
				.user = all->items[i].user_name,
				.out = &again[i]
			};
		}
		for (k = 0; k < tags[i].count; k++)
			pick[i] |= strcmp(tags[i].items[k].key,
					  LC_TAG_MANAGED_BY) == 0 &&
				   strcmp(tags[i].items[k].value,
					  LC_TAG_MANAGED_VALUE) == 0;
		for (k = 0; !pick[i] && rd[m + 1].rc == SESCTL_OK &&
			    k < pols[i].count && k < SELECT_DOCS_MAX;
		     k++) {
			owner[m2] = i;
			rd2[m2++] = (struct iam_read){
				.kind = IAM_READ_GET_USER_POLICY,
				.user = all->items[i].user_name,
				.arg = pols[i].items[k].id,
				.out = &docs[k + SELECT_DOCS_MAX * i]
			};
		}
		m += 2;
	}
	rc = iam_read_many(&lc->iam, rd2, m2, STATUS_ALL_IN_FLIGHT);
	for (k = 0; k < m2; k++) {
		i = owner[k];
		if (rd2[k].kind == IAM_READ_GET_USER) {
			/* its tags after all; or deleted meanwhile */
			if (rd2[k].rc == SESCTL_OK)
				pick[i] |= lc_is_managed(&again[i].user);
			unread[i] = rd2[k].rc != SESCTL_OK &&
				    rd2[k].rc != SESCTL_ERR_NOT_FOUND;
		} else if (rd2[k].rc == SESCTL_OK &&
			   status_sends_only(
				   ((struct iam_user_policy *)rd2[k].out)
					   ->policy_document)) {
			pick[i] = true;
		}
	}
	for (i = 0; i < all->count; i++) {
		if (pick[i])
			(*names)[(*n)++] = all->items[i].user_name;
		else if (unread[i])
			(*unsure)[(*n_unsure)++] = why[i];
	}
	if (denied)
		ctx_warn(lc->ctx, "could not read the tags of %zu user%s "
				  "outside %s (IAM refused: the caller needs "
				  "iam:ListUserTags): users taken over with "
				  "--adopt among them are not shown",
			 denied, denied == 1 ? "" : "s", LC_PATH);
	if (*n_unsure)
		ctx_warn(lc->ctx, "could not read the tags of %zu user%s "
				  "outside %s: IAM failed after the retries "
				  "(the first, '%s': %s); whether %s SMTP "
				  "users is not known, so %s listed as "
				  "unreadable",
			 *n_unsure, *n_unsure == 1 ? "" : "s", LC_PATH,
			 (*unsure)[0].name, (*unsure)[0].msg,
			 *n_unsure == 1 ? "it is one of the" : "they are",
			 *n_unsure == 1 ? "it is" : "they are");
	rc = SESCTL_OK;
out:
	for (i = 0; tags && pols && again && i < all->count; i++) {
		iam_tag_list_release(&tags[i]);
		iam_id_list_release(&pols[i]);
		iam_user_result_release(&again[i]);
	}
	for (k = 0; docs && k < SELECT_DOCS_MAX * c; k++)
		iam_user_policy_release(&docs[k]);
	free(owner);
	free(docs);
	free(rd2);
	free(why);
	free(again);
	free(unread);
	free(pick);
	free(pols);
	free(tags);
	free(rd);
	return rc;
}

void status_mark_unsure(struct user_status *us, const struct status_unsure *u,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		us[i].name = u[i].name;
		us[i].gone = true;
		us[i].failed = true;
		us[i].fail_rc = u[i].rc;
		snprintf(us[i].fail_msg, sizeof(us[i].fail_msg),
			 "%.*s (whether it is an SMTP user is not known: its "
			 "tags could not be read)",
			 (int)sizeof(u[i].msg) - 1, u[i].msg);
	}
}
