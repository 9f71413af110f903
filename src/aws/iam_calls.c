/* iam_calls.c - the typed IAM calls (see iam.h): one function per
 * action, iam_create_user() to iam_untag_user(), each building its
 * parameters and reading its answer with iam_xml.  Three shapes cover
 * them: a call with one result struct (call_one), a paginated list
 * followed to its end (call_list, one struct list_desc per list type), and
 * a change whose answer is only ResponseMetadata (call_change), which
 * reads the state back through its resolver in iam_resolve.c when its
 * outcome is unknown.
 */
#include "sesctl/aws/iam.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sesctl/base/backoff.h"

#include "iam_int.h"

/* ---- typed calls --------------------------------------------------- */

#define MAX_PAGES 1000
#define MAX_LIST_ITEMS ((size_t)100000)

/* The value of parameter `name` in `p`, or NULL. */
const char *param(const struct aws_param *p, size_t n,
		  const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

/* Where the user sees the state change `a` was to make: "'aws iam
 * list-access-keys --user-name u' or 'sesctl smtp status'". */
static void state_hint(const struct iam_client *c, const struct iam_action *a,
		       const struct aws_param *p, size_t n, char *buf,
		       size_t size)
{
	const char *user = param(p, n, "UserName");
	bool in_status = a->flags & IAM_IN_STATUS;

	snprintf(buf, size, "'aws iam %s%s%s'%s%s%s", a->shows ? a->shows : "",
		 user ? " --user-name " : "", user ? user : "",
		 in_status ? " or '" : "",
		 in_status ? (c->status_cmd ? c->status_cmd :
					      "sesctl smtp status") :
			     "",
		 in_status ? "'" : "");
}

/* Make change `action` (its answer is only ResponseMetadata).  When its
 * outcome is unknown (see aws_judge) and the action has a resolver, read the
 * state back: applied is success; not applied sends it once more, now
 * known to be safe, and resolves that attempt the same way, within
 * max_attempts sends in all.  Fails with c->outcome_unknown set when the
 * outcome stays unknown.  `sent`: its first send(s) already made beside
 * other calls (iam_call_many), judged from there on; NULL: not yet. */
static sesctl_err change_from(struct iam_client *c, const char *action,
			      const struct aws_param *p, size_t n,
			      struct iam_call_item *sent)
{
	const struct iam_action *a = NULL;
	struct secret body = SECRET_INIT;
	struct iam_metadata meta;
	struct aws_outcome o = { &c->ctx->err, &c->last_error, false, false,
				 false };
	struct iam_error sent_error;
	char why[ERR_MSG_MAX], hint[512];
	char *form = NULL;
	int left = c->aws.max_attempts, attempt = 0;
	bool applied = false;
	sesctl_err rc = SESCTL_OK, sent_rc;

	memset(&meta, 0, sizeof(meta));
	TRY(call_start(c, action, p, n, &a, &form));
	for (;;) {
		if (sent) {
			/* The first send's outcome, as aws_send_until would
			 * have left it. */
			attempt = (int)sent->attempts;
			left = c->aws.max_attempts - attempt;
			rc = sent->rc;
			o.answered = rc == SESCTL_OK;
			o.unknown = sent->outcome_unknown;
			o.retry = false;
			c->ctx->err = sent->err;
			c->last_error = sent->error;
			secret_free(&body);
			body = sent->body;
			sent->body = (struct secret)SECRET_INIT;
			sent = NULL;
		} else {
			rc = aws_send_until(&c->aws, action, a->flags, form,
					    &body, &o, &left, &attempt);
		}
		if (o.answered) {
			rc = iam_xml_parse_ack(&body, action, &meta,
					       &c->ctx->err);
			if (rc == SESCTL_OK || rc == SESCTL_ERR_NOMEM)
				goto out;
			/* IAM said 2xx, but what came cannot be read. */
			o.unknown = true;
		}
		if (!o.unknown) {
			rc = aws_give_up(&c->aws, action, rc, attempt, &o);
			goto out;
		}
		state_hint(c, a, p, n, hint, sizeof(hint));
		if (!a->resolve) {
			rc = aws_give_up(&c->aws, action, rc, attempt, &o);
			rc = err_set(&c->ctx->err, rc, "%s\n%s shows what IAM has",
				     c->ctx->err.msg, hint);
			goto out;
		}
		/* Read back; the reads' own errors must not be taken for the
		 * change's. */
		snprintf(why, sizeof(why), "%s", c->ctx->err.msg);
		sent_rc = rc;
		sent_error = c->last_error;
		ctx_debug(c->ctx, "%s may or may not have been applied (%s); "
				  "reading the state back",
			  action, why);
		rc = a->resolve(c, a, p, n, &applied);
		c->last_error = sent_error;
		if (rc != SESCTL_OK) {
			rc = err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
				     "%s may or may not have been applied (%s), "
				     "and reading the state back failed (%s); "
				     "the outcome is unknown: %s shows what "
				     "IAM has",
				     action, why, c->ctx->err.msg, hint);
			goto out;
		}
		o.unknown = false;
		if (applied) {
			ctx_debug(c->ctx, "%s was applied; its answer was lost",
				  action);
			memset(&c->last_error, 0, sizeof(c->last_error));
			goto out;
		}
		if (left <= 0) {
			rc = err_set(&c->ctx->err, sent_rc,
				     "%s was not applied after %d attempts: %s",
				     action, attempt, why);
			goto out;
		}
		{
			long ms = backoff_jitter_ms(c->aws.retry_base_ms, attempt);

			ctx_debug(c->ctx, "%s was not applied; sending it again "
					  "in %ld ms",
				  action, ms);
			backoff_sleep_ms(ms);
		}
		secret_free(&body);
		memset(&c->last_error, 0, sizeof(c->last_error));
	}
out:
	c->outcome_unknown = o.unknown;
	iam_metadata_release(&meta);
	secret_free(&body);
	free(form);
	return rc;
}

static sesctl_err call_change(struct iam_client *c, const char *action,
			      const struct aws_param *p, size_t n)
{
	return change_from(c, action, p, n, NULL);
}

/* Parse the 2xx answer `body` of `action` into `out`. */
static sesctl_err parse_answer(struct iam_client *c, const char *action,
			       const struct secret *body, parse_fn parse,
			       void *out)
{
	sesctl_err rc = parse(body, out, &c->ctx->err);

	if (rc != SESCTL_OK && (find_action(action)->flags & IAM_CREATES)) {
		/* IAM said 2xx, so it made the thing, but what it made (a
		 * new key's secret) cannot be read: as good as lost. */
		c->outcome_unknown = true;
		rc = err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
			     "%s was applied but its answer cannot be read (%s)",
			     action, c->ctx->err.msg);
	}
	return rc;
}

static sesctl_err call_one(struct iam_client *c, const char *action,
			   const struct aws_param *p, size_t n, parse_fn parse,
			   void *out)
{
	struct secret body = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;

	TRY(iam_call(c, action, p, n, &body));
	rc = parse_answer(c, action, &body, parse, out);
out:
	secret_free(&body);
	return rc;
}

/* A call made beside another (call_many) ends as call_one would have:
 * return value, ctx->err, c->last_error, c->outcome_unknown. */
static sesctl_err one_of_many(struct iam_client *c,
			      const struct iam_call_item *it, parse_fn parse,
			      void *out)
{
	memset(&c->last_error, 0, sizeof(c->last_error));
	c->outcome_unknown = it->outcome_unknown;
	if (it->rc != SESCTL_OK) {
		c->last_error = it->error;
		return err_set(&c->ctx->err, it->rc, "%s", it->err.msg);
	}
	return parse_answer(c, it->action, &it->body, parse, out);
}

#define LIST_DESC(act, type, item_type, parse_name, release_name)            \
	{ act, parse_name, release_name, sizeof(type), sizeof(item_type),     \
	  offsetof(type, items), offsetof(type, count),                       \
	  offsetof(type, is_truncated), offsetof(type, marker) }

#define LIST_ADAPTERS(name, type, parse, release)                            \
	static sesctl_err parse_##name(const struct secret *b, void *o,      \
				       struct err_info *ei)                  \
	{                                                                    \
		return parse(b, o, ei);                                      \
	}                                                                    \
	static void release_##name(void *l)                                  \
	{                                                                    \
		release(l);                                                  \
	}

LIST_ADAPTERS(users, struct iam_user_list, iam_xml_list_users,
	      iam_user_list_release)
LIST_ADAPTERS(tags, struct iam_tag_list, iam_xml_list_user_tags,
	      iam_tag_list_release)
LIST_ADAPTERS(attached, struct iam_attached_policy_list,
	      iam_xml_list_attached_user_policies,
	      iam_attached_policy_list_release)
LIST_ADAPTERS(keys, struct iam_access_key_list, iam_xml_list_access_keys,
	      iam_access_key_list_release)
LIST_ADAPTERS(policies, struct iam_id_list, iam_xml_list_user_policies,
	      iam_id_list_release)
LIST_ADAPTERS(groups, struct iam_id_list, iam_xml_list_groups_for_user,
	      iam_id_list_release)
LIST_ADAPTERS(certs, struct iam_id_list, iam_xml_list_signing_certificates,
	      iam_id_list_release)
LIST_ADAPTERS(ssh, struct iam_id_list, iam_xml_list_ssh_public_keys,
	      iam_id_list_release)
LIST_ADAPTERS(svc, struct iam_id_list,
	      iam_xml_list_service_specific_credentials, iam_id_list_release)
LIST_ADAPTERS(mfa, struct iam_id_list, iam_xml_list_mfa_devices,
	      iam_id_list_release)

static const struct list_desc list_users = LIST_DESC(
	"ListUsers", struct iam_user_list, struct iam_user, parse_users,
	release_users);
const struct list_desc list_tags = LIST_DESC(
	"ListUserTags", struct iam_tag_list, struct iam_tag, parse_tags,
	release_tags);
const struct list_desc list_attached = LIST_DESC(
	"ListAttachedUserPolicies", struct iam_attached_policy_list,
	struct iam_attached_policy, parse_attached, release_attached);
const struct list_desc list_keys = LIST_DESC(
	"ListAccessKeys", struct iam_access_key_list,
	struct iam_access_key_meta, parse_keys, release_keys);
const struct list_desc list_policies = LIST_DESC(
	"ListUserPolicies", struct iam_id_list, struct iam_id, parse_policies,
	release_policies);
const struct list_desc list_groups = LIST_DESC(
	"ListGroupsForUser", struct iam_id_list, struct iam_id, parse_groups,
	release_groups);
const struct list_desc list_certs = LIST_DESC(
	"ListSigningCertificates", struct iam_id_list, struct iam_id,
	parse_certs, release_certs);
const struct list_desc list_ssh = LIST_DESC(
	"ListSSHPublicKeys", struct iam_id_list, struct iam_id, parse_ssh,
	release_ssh);
const struct list_desc list_svc = LIST_DESC(
	"ListServiceSpecificCredentials", struct iam_id_list, struct iam_id,
	parse_svc, release_svc);
const struct list_desc list_mfa = LIST_DESC(
	"ListMFADevices", struct iam_id_list, struct iam_id, parse_mfa,
	release_mfa);

/* Page size to ask for: IAM's default unless a test asks for small pages
 * to exercise pagination. */
const char *max_items(void)
{
#if SESCTL_TEST_HOOKS
	const char *v = getenv("SESCTL_TEST_MAX_ITEMS");

	if (v && *v)
		return v;
#endif
	return NULL;
}

/* Move the items of `page` (a page of list `d` just parsed) to the end of
 * `out`'s and empty it; *more says whether another page follows, and then
 * `marker` (IAM_XML_MARKER_MAX + 1 bytes) is where it starts.  `pages`
 * counts the pages so far. */
sesctl_err list_merge(const struct list_desc *d, void *out, void *page,
		      char *marker, size_t *pages, bool *more,
		      struct err_info *ei)
{
	void **items = FIELD(out, d->items_off, void *);
	size_t *count = FIELD(out, d->count_off, size_t);
	void **page_items = FIELD(page, d->items_off, void *);
	size_t *page_count = FIELD(page, d->count_off, size_t);
	void *grown;
	sesctl_err rc = SESCTL_OK;

	*more = false;
	ENSURE(*count + *page_count <= MAX_LIST_ITEMS,
	       err_set(ei, SESCTL_ERR_NETWORK, "%s: more than %zu entries",
		       d->action, MAX_LIST_ITEMS));
	if (*page_count) {
		grown = realloc(*items, (*count + *page_count) * d->item_size);
		ENSURE(grown, err_set(ei, SESCTL_ERR_NOMEM, "out of memory"));
		*items = grown;
		/* Move the items: what they own now belongs to out. */
		memcpy((char *)grown + *count * d->item_size, *page_items,
		       *page_count * d->item_size);
		*count += *page_count;
		*page_count = 0;
	}
	if (!*FIELD(page, d->truncated_off, bool))
		goto out;
	ENSURE(++*pages < MAX_PAGES &&
		       *FIELD(page, d->marker_off, char) != '\0' &&
		       strcmp(marker, FIELD(page, d->marker_off, char)) != 0,
	       err_set(ei, SESCTL_ERR_NETWORK,
		       "%s: IAM's pagination does not advance (marker "
		       "missing or repeated)",
		       d->action));
	snprintf(marker, IAM_XML_MARKER_MAX + 1, "%s",
		 FIELD(page, d->marker_off, char));
	d->release(page);
	memset(page, 0, d->list_size);
	*more = true;
out:
	return rc;
}

sesctl_err call_list(struct iam_client *c, const struct list_desc *d,
		     const char *user, const char *path_prefix,
		     void *out)
{
	struct aws_param p[4];
	char marker[IAM_XML_MARKER_MAX + 1] = "";
	void *page = NULL;
	size_t n, pages = 0;
	sesctl_err rc = SESCTL_OK;
	bool more = true;

	memset(out, 0, d->list_size);
	page = calloc(1, d->list_size);
	ENSURE(page, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	while (more) {
		n = 0;
		if (user)
			p[n++] = (struct aws_param){ "UserName", user };
		if (path_prefix)
			p[n++] = (struct aws_param){ "PathPrefix", path_prefix };
		if (marker[0])
			p[n++] = (struct aws_param){ "Marker", marker };
		if (max_items())
			p[n++] = (struct aws_param){ "MaxItems", max_items() };
		TRY(call_one(c, d->action, p, n, d->parse, page));
		TRY(list_merge(d, out, page, marker, &pages, &more,
			       &c->ctx->err));
	}
out:
	if (page) {
		d->release(page);
		free(page);
	}
	if (rc != SESCTL_OK)
		d->release(out);
	return rc;
}

/* Tags.member.N.Key / .Value parameters; `names` holds their names. */
static sesctl_err tag_params(struct iam_client *c, const struct iam_tag_in *tags,
			     size_t n_tags, struct aws_param *p, size_t *n,
			     char (*names)[40])
{
	size_t i;

	if (n_tags > 50)
		return err_set(&c->ctx->err, SESCTL_ERR_INPUT,
			       "at most 50 tags, not %zu", n_tags);
	for (i = 0; i < n_tags; i++) {
		snprintf(names[2 * i], 40, "Tags.member.%zu.Key", i + 1);
		snprintf(names[2 * i + 1], 40, "Tags.member.%zu.Value", i + 1);
		p[(*n)++] = (struct aws_param){ names[2 * i], tags[i].key };
		p[(*n)++] = (struct aws_param){ names[2 * i + 1],
						tags[i].value };
	}
	return SESCTL_OK;
}

sesctl_err parse_user(const struct secret *b, void *o,
		      struct err_info *ei)
{
	return iam_xml_get_user(b, o, ei);
}

static sesctl_err parse_created_user(const struct secret *b, void *o,
				     struct err_info *ei)
{
	return iam_xml_create_user(b, o, ei);
}

sesctl_err iam_create_user(struct iam_client *c, const char *user,
			   const char *path, const struct iam_tag_in *tags,
			   size_t n_tags, struct iam_user_result *out)
{
	struct aws_param p[104];
	char names[100][40];
	size_t n = 0;
	sesctl_err rc = SESCTL_OK;

	p[n++] = (struct aws_param){ "UserName", user };
	if (path)
		p[n++] = (struct aws_param){ "Path", path };
	TRY(tag_params(c, tags, n_tags, p, &n, names));
	TRY(call_one(c, "CreateUser", p, n, parse_created_user, out));
out:
	return rc;
}

sesctl_err iam_create_user_beside_get(struct iam_client *c, const char *user,
				      const char *path,
				      const struct iam_tag_in *tags,
				      size_t n_tags,
				      struct iam_user_result *out)
{
	struct aws_param p[104];
	struct aws_param gp[1] = { { "UserName", user } };
	char names[100][40];
	struct iam_call_item calls[2];
	size_t n = 0, i;
	sesctl_err rc = SESCTL_OK;

	p[n++] = (struct aws_param){ "UserName", user };
	if (path)
		p[n++] = (struct aws_param){ "Path", path };
	TRY(tag_params(c, tags, n_tags, p, &n, names));
	memset(calls, 0, sizeof(calls));
	calls[0] = (struct iam_call_item){ .action = "CreateUser", .params = p,
					   .n_params = n };
	calls[1] = (struct iam_call_item){ .action = "GetUser", .params = gp,
					   .n_params = 1 };
	for (i = 0; i < 2; i++)
		calls[i].body = (struct secret)SECRET_INIT;
	if (call_many(c, calls, 2, 2, IAM_CREATES | IAM_READ) != SESCTL_OK)
		ctx_debug(c->ctx, "CreateUser with GetUser: %s",
			  c->ctx->err.msg);
	/* The read opened the second connection; what it says is not used
	 * (it may have been answered before the user was made, or after). */
	if (calls[1].rc != SESCTL_OK)
		ctx_debug(c->ctx, "GetUser beside CreateUser: %s",
			  calls[1].err.msg);

	/* CreateUser: as iam_create_user would have ended. */
	rc = one_of_many(c, &calls[0], parse_created_user, out);
	for (i = 0; i < 2; i++)
		secret_free(&calls[i].body);
out:
	return rc;
}

sesctl_err iam_get_user(struct iam_client *c, const char *user,
			struct iam_user_result *out)
{
	struct aws_param p[1] = { { "UserName", user } };

	return call_one(c, "GetUser", p, user ? 1 : 0, parse_user, out);
}

sesctl_err iam_tag_user(struct iam_client *c, const char *user,
			const struct iam_tag_in *tags, size_t n_tags)
{
	struct aws_param p[101];
	char names[100][40];
	size_t n = 0;
	sesctl_err rc = SESCTL_OK;

	p[n++] = (struct aws_param){ "UserName", user };
	TRY(tag_params(c, tags, n_tags, p, &n, names));
	TRY(call_change(c, "TagUser", p, n));
out:
	return rc;
}

sesctl_err iam_list_user_tags(struct iam_client *c, const char *user,
			      struct iam_tag_list *out)
{
	return call_list(c, &list_tags, user, NULL, out);
}

sesctl_err iam_list_users(struct iam_client *c, const char *path_prefix,
			  struct iam_user_list *out)
{
	return call_list(c, &list_users, NULL, path_prefix, out);
}

sesctl_err iam_delete_user(struct iam_client *c, const char *user)
{
	struct aws_param p[] = { { "UserName", user } };

	return call_change(c, "DeleteUser", p, 1);
}

sesctl_err iam_put_user_policy(struct iam_client *c, const char *user,
			       const char *policy_name, const char *document)
{
	struct aws_param p[] = { { "UserName", user },
				 { "PolicyName", policy_name },
				 { "PolicyDocument", document } };

	return call_change(c, "PutUserPolicy", p, 3);
}

sesctl_err parse_user_policy(const struct secret *b, void *o,
			     struct err_info *ei)
{
	return iam_xml_get_user_policy(b, o, ei);
}

sesctl_err iam_get_user_policy(struct iam_client *c, const char *user,
			       const char *policy_name,
			       struct iam_user_policy *out)
{
	struct aws_param p[] = { { "UserName", user },
				 { "PolicyName", policy_name } };

	return call_one(c, "GetUserPolicy", p, 2, parse_user_policy, out);
}

sesctl_err iam_list_user_policies(struct iam_client *c, const char *user,
				  struct iam_id_list *out)
{
	return call_list(c, &list_policies, user, NULL, out);
}

sesctl_err iam_delete_user_policy(struct iam_client *c, const char *user,
				  const char *policy_name)
{
	struct aws_param p[] = { { "UserName", user },
				 { "PolicyName", policy_name } };

	return call_change(c, "DeleteUserPolicy", p, 2);
}

sesctl_err iam_attach_user_policy(struct iam_client *c, const char *user,
				  const char *policy_arn)
{
	struct aws_param p[] = { { "UserName", user },
				 { "PolicyArn", policy_arn } };

	return call_change(c, "AttachUserPolicy", p, 2);
}

sesctl_err iam_detach_user_policy(struct iam_client *c, const char *user,
				  const char *policy_arn)
{
	struct aws_param p[] = { { "UserName", user },
				 { "PolicyArn", policy_arn } };

	return call_change(c, "DetachUserPolicy", p, 2);
}

sesctl_err iam_list_attached_user_policies(struct iam_client *c,
					   const char *user,
					   struct iam_attached_policy_list *out)
{
	return call_list(c, &list_attached, user, NULL, out);
}

static sesctl_err parse_new_key(const struct secret *b, void *o,
				struct err_info *ei)
{
	return iam_xml_create_access_key(b, o, ei);
}

sesctl_err iam_create_access_key(struct iam_client *c, const char *user,
				 struct iam_access_key *out)
{
	struct aws_param p[] = { { "UserName", user } };
	sesctl_err rc = call_one(c, "CreateAccessKey", p, 1, parse_new_key, out);

	/* The answer held the new secret; the parse left pieces of it on
	 * the stack below us. */
	secret_scrub_stack();
	return rc;
}

sesctl_err iam_put_user_policy_create_key(struct iam_client *c,
					  const char *user,
					  const char *policy_name,
					  const char *document,
					  struct iam_access_key *key,
					  struct iam_outcome *policy)
{
	struct aws_param pp[] = { { "UserName", user },
				  { "PolicyName", policy_name },
				  { "PolicyDocument", document } };
	struct aws_param kp[] = { { "UserName", user } };
	struct iam_call_item calls[2];
	sesctl_err rc;
	size_t i;

	memset(calls, 0, sizeof(calls));
	memset(policy, 0, sizeof(*policy));
	calls[0] = (struct iam_call_item){ .action = "PutUserPolicy",
					   .params = pp, .n_params = 3 };
	calls[1] = (struct iam_call_item){ .action = "CreateAccessKey",
					   .params = kp, .n_params = 1 };
	for (i = 0; i < 2; i++)
		calls[i].body = (struct secret)SECRET_INIT;
	/* Each call's outcome is its own, read below. */
	if (call_many(c, calls, 2, 2, IAM_IDEMPOTENT | IAM_CREATES) !=
	    SESCTL_OK)
		ctx_debug(c->ctx, "PutUserPolicy with CreateAccessKey: %s",
			  c->ctx->err.msg);

	/* The policy: judged from its answer on as iam_put_user_policy
	 * does (an answer that is not IAM's, or a lost one, read back; sent
	 * again if not applied, within max_attempts sends in all). */
	policy->rc = change_from(c, "PutUserPolicy", pp, 3, &calls[0]);
	policy->err = c->ctx->err;
	policy->error = c->last_error;

	/* The key: as iam_create_access_key would have ended. */
	rc = one_of_many(c, &calls[1], parse_new_key, key);
	for (i = 0; i < 2; i++)
		secret_free(&calls[i].body);
	secret_scrub_stack();
	return rc;
}

sesctl_err iam_list_access_keys(struct iam_client *c, const char *user,
				struct iam_access_key_list *out)
{
	return call_list(c, &list_keys, user, NULL, out);
}

sesctl_err iam_update_access_key(struct iam_client *c, const char *user,
				 const char *key_id, const char *status)
{
	struct aws_param p[] = { { "UserName", user },
				 { "AccessKeyId", key_id },
				 { "Status", status } };

	return call_change(c, "UpdateAccessKey", p, 3);
}

sesctl_err iam_delete_access_key(struct iam_client *c, const char *user,
				 const char *key_id)
{
	struct aws_param p[] = { { "UserName", user },
				 { "AccessKeyId", key_id } };

	return call_change(c, "DeleteAccessKey", p, 2);
}

sesctl_err parse_last_used(const struct secret *b, void *o,
			   struct err_info *ei)
{
	return iam_xml_get_access_key_last_used(b, o, ei);
}

sesctl_err iam_get_access_key_last_used(struct iam_client *c,
					const char *key_id,
					struct iam_access_key_last_used *out)
{
	struct aws_param p[] = { { "AccessKeyId", key_id } };

	return call_one(c, "GetAccessKeyLastUsed", p, 1, parse_last_used, out);
}

sesctl_err iam_list_groups_for_user(struct iam_client *c, const char *user,
				    struct iam_id_list *out)
{
	return call_list(c, &list_groups, user, NULL, out);
}

sesctl_err iam_remove_user_from_group(struct iam_client *c, const char *user,
				      const char *group)
{
	struct aws_param p[] = { { "GroupName", group },
				 { "UserName", user } };

	return call_change(c, "RemoveUserFromGroup", p, 2);
}

sesctl_err parse_login_profile(const struct secret *b, void *o,
			       struct err_info *ei)
{
	return iam_xml_get_login_profile(b, o, ei);
}

sesctl_err iam_get_login_profile(struct iam_client *c, const char *user,
				 struct iam_login_profile *out)
{
	struct aws_param p[] = { { "UserName", user } };

	return call_one(c, "GetLoginProfile", p, 1, parse_login_profile, out);
}

sesctl_err iam_delete_login_profile(struct iam_client *c, const char *user)
{
	struct aws_param p[] = { { "UserName", user } };

	return call_change(c, "DeleteLoginProfile", p, 1);
}

sesctl_err iam_list_signing_certificates(struct iam_client *c,
					 const char *user,
					 struct iam_id_list *out)
{
	return call_list(c, &list_certs, user, NULL, out);
}

sesctl_err iam_delete_signing_certificate(struct iam_client *c,
					  const char *user, const char *cert_id)
{
	struct aws_param p[] = { { "UserName", user },
				 { "CertificateId", cert_id } };

	return call_change(c, "DeleteSigningCertificate", p, 2);
}

sesctl_err iam_list_ssh_public_keys(struct iam_client *c, const char *user,
				    struct iam_id_list *out)
{
	return call_list(c, &list_ssh, user, NULL, out);
}

sesctl_err iam_delete_ssh_public_key(struct iam_client *c, const char *user,
				     const char *key_id)
{
	struct aws_param p[] = { { "UserName", user },
				 { "SSHPublicKeyId", key_id } };

	return call_change(c, "DeleteSSHPublicKey", p, 2);
}

sesctl_err iam_list_service_specific_credentials(struct iam_client *c,
						 const char *user,
						 struct iam_id_list *out)
{
	return call_list(c, &list_svc, user, NULL, out);
}

sesctl_err iam_delete_service_specific_credential(struct iam_client *c,
						  const char *user,
						  const char *cred_id)
{
	struct aws_param p[] = { { "UserName", user },
				 { "ServiceSpecificCredentialId", cred_id } };

	return call_change(c, "DeleteServiceSpecificCredential", p, 2);
}

sesctl_err iam_list_mfa_devices(struct iam_client *c, const char *user,
				struct iam_id_list *out)
{
	return call_list(c, &list_mfa, user, NULL, out);
}

sesctl_err iam_deactivate_mfa_device(struct iam_client *c, const char *user,
				     const char *serial)
{
	struct aws_param p[] = { { "UserName", user },
				 { "SerialNumber", serial } };

	return call_change(c, "DeactivateMFADevice", p, 2);
}

sesctl_err iam_delete_virtual_mfa_device(struct iam_client *c,
					 const char *serial)
{
	struct aws_param p[] = { { "SerialNumber", serial } };

	return call_change(c, "DeleteVirtualMFADevice", p, 1);
}

sesctl_err iam_untag_user(struct iam_client *c, const char *user,
			  const char *const *keys, size_t n_keys)
{
	struct aws_param p[51];
	char names[50][32];
	size_t i, n = 0;
	sesctl_err rc = SESCTL_OK;

	ENSURE(n_keys <= 50, err_set(&c->ctx->err, SESCTL_ERR_INPUT,
				     "at most 50 tag keys, not %zu", n_keys));
	p[n++] = (struct aws_param){ "UserName", user };
	for (i = 0; i < n_keys; i++) {
		snprintf(names[i], sizeof(names[i]), "TagKeys.member.%zu",
			 i + 1);
		p[n++] = (struct aws_param){ names[i], keys[i] };
	}
	TRY(call_change(c, "UntagUser", p, n));
out:
	return rc;
}
