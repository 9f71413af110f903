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
 * to SELECT_DOCS_MAX policies each, all at once.  A user whose tags
 * cannot be read is left out, and said. */
sesctl_err status_select_users(struct lc *lc, const struct iam_user_list *all,
				const char ***names, size_t *n)
{
	struct iam_read *rd = NULL, *rd2 = NULL;
	struct iam_tag_list *tags = NULL;
	struct iam_id_list *pols = NULL;
	struct iam_user_policy *docs = NULL;
	size_t *owner = NULL;
	bool *pick = NULL;
	size_t i, k, m = 0, m2 = 0, unread = 0, c = all->count ? all->count : 1;
	sesctl_err rc = SESCTL_OK;

	*n = 0;
	*names = calloc(c, sizeof(**names));
	rd = calloc(2 * c, sizeof(*rd));
	tags = calloc(c, sizeof(*tags));
	pols = calloc(c, sizeof(*pols));
	pick = calloc(c, sizeof(*pick));
	rd2 = calloc(SELECT_DOCS_MAX * c, sizeof(*rd2));
	docs = calloc(SELECT_DOCS_MAX * c, sizeof(*docs));
	owner = calloc(SELECT_DOCS_MAX * c, sizeof(*owner));
	ENSURE(*names && rd && tags && pols && pick && rd2 && docs && owner,
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
		if (rd[m].rc != SESCTL_OK) {
			unread += rd[m].rc != SESCTL_ERR_NOT_FOUND;
			m += 2;
			continue;
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
			rd2[m2] = (struct iam_read){
				.kind = IAM_READ_GET_USER_POLICY,
				.user = all->items[i].user_name,
				.arg = pols[i].items[k].id, .out = &docs[m2]
			};
			m2++;
		}
		m += 2;
	}
	rc = iam_read_many(&lc->iam, rd2, m2, STATUS_ALL_IN_FLIGHT);
	for (k = 0; k < m2; k++)
		if (rd2[k].rc == SESCTL_OK &&
		    status_sends_only(docs[k].policy_document))
			pick[owner[k]] = true;
	for (i = 0; i < all->count; i++)
		if (pick[i])
			(*names)[(*n)++] = all->items[i].user_name;
	if (unread)
		ctx_warn(lc->ctx, "could not read the tags of %zu user%s "
				  "outside %s (the caller needs "
				  "iam:ListUserTags): users taken over with "
				  "--adopt among them are not shown",
			 unread, unread == 1 ? "" : "s", LC_PATH);
	rc = SESCTL_OK;
out:
	for (i = 0; tags && pols && i < all->count; i++) {
		iam_tag_list_release(&tags[i]);
		iam_id_list_release(&pols[i]);
	}
	for (k = 0; docs && k < m2; k++)
		iam_user_policy_release(&docs[k]);
	free(owner);
	free(docs);
	free(rd2);
	free(pick);
	free(pols);
	free(tags);
	free(rd);
	return rc;
}
