/* iam_many.c - IAM calls several at once (see iam.h): iam_call_many
 * sends reads side by side over one libcurl multi handle, each with its
 * own retries as the core's aws_judge() and aws_give_up() decide, and
 * iam_read_many builds on it to run typed reads (a single answer or a
 * paginated list, page by page in rounds) several at once.
 */
#include "sesctl/aws/iam.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/base/backoff.h"

#include "iam_int.h"

/* ---- several calls at once ------------------------------------------ */

/* The state of one call of iam_call_many. */
struct flight {
	const struct iam_action *a;
	char *form;
	struct http_response resp;
	struct aws_outcome o;
	int attempt;   /* attempts started */
	long due;      /* backoff_now_ms() at which the next attempt may start */
	unsigned id;   /* "#N" of the current attempt in the debug log */
	enum { F_WAITING, F_FLYING, F_DONE } state;
};

/* Start the next attempt of call `it`.  Failing here (signing, out of
 * memory) ends the call: nothing went out, and trying again would fail
 * the same way. */
static void flight_start(struct iam_client *c, struct iam_call_item *it,
			 struct flight *f)
{
	struct aws_signed sr;
	sesctl_err rc = SESCTL_OK;

	memset(&sr, 0, sizeof(sr));
	sr.auth = (struct sigv4_auth)SIGV4_AUTH_INIT;
	f->attempt++;
	it->attempts = (unsigned)f->attempt;
	TRY(aws_sign(&c->aws, it->action, f->form, &sr, &it->err));
	c->aws.requests++;
	rc = http_start(c->aws.http, &sr.req, &f->resp, &it->err, f, &f->id);
	if (rc == SESCTL_OK)
		ctx_debug(c->ctx, "IAM %s (#%u)", it->action, f->id);
out:
	sigv4_auth_release(&sr.auth);
	if (rc == SESCTL_OK) {
		f->state = F_FLYING;
	} else {
		it->rc = rc;
		f->state = F_DONE;
	}
}

/* An attempt of call `it` has finished with `rc`: done, or wait and
 * retry. */
static void flight_land(struct iam_client *c, struct iam_call_item *it,
			struct flight *f, sesctl_err rc)
{
	long ms;

	rc = aws_judge(&c->aws, it->action, f->a->flags, rc, &f->resp,
		       &it->body, &f->o);
	http_response_release(&f->resp);
	if (f->o.answered || !f->o.retry ||
	    f->attempt >= c->aws.max_attempts) {
		it->rc = f->o.answered ? rc :
					 aws_give_up(&c->aws, it->action, rc,
						     f->attempt, &f->o);
		it->outcome_unknown = f->o.unknown;
		f->state = F_DONE;
		return;
	}
	ms = backoff_jitter_ms(c->aws.retry_base_ms, f->attempt);
	ctx_debug(c->ctx, "%s (#%u): attempt %d of %d failed; retrying in %ld "
			  "ms",
		  it->action, f->id, f->attempt, c->aws.max_attempts, ms);
	f->due = backoff_now_ms() + ms;
	f->state = F_WAITING;
}

/* Give every call not yet done the error in ctx->err. */
static void fail_rest(struct iam_client *c, struct iam_call_item *calls,
		      struct flight *f, size_t n, sesctl_err rc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (f && f[i].state == F_DONE)
			continue;
		/* A change on its way may have been applied. */
		if (f && f[i].state == F_FLYING && !(f[i].a->flags & IAM_READ))
			calls[i].outcome_unknown = true;
		calls[i].rc = rc;
		err_set(&calls[i].err, rc, "%s", c->ctx->err.msg);
		if (f)
			f[i].state = F_DONE;
	}
}

sesctl_err iam_call_many(struct iam_client *c, struct iam_call_item *calls,
			 size_t n, size_t max_in_flight)
{
	return call_many(c, calls, n, max_in_flight, IAM_READ | IAM_REMOVES);
}

sesctl_err call_many(struct iam_client *c, struct iam_call_item *calls,
		     size_t n, size_t max_in_flight, unsigned allowed)
{
	struct flight *f = NULL;
	size_t i, flying = 0, left = n;
	sesctl_err rc = SESCTL_OK, res;
	void *tag;

	if (max_in_flight == 0)
		max_in_flight = IAM_MAX_IN_FLIGHT;
	if (max_in_flight > HTTP_MAX_PARALLEL)
		max_in_flight = HTTP_MAX_PARALLEL;
	memset(&c->last_error, 0, sizeof(c->last_error));
	c->outcome_unknown = false;
	for (i = 0; i < n; i++) {
		calls[i].rc = SESCTL_OK;
		secret_free(&calls[i].body);
		memset(&calls[i].err, 0, sizeof(calls[i].err));
		memset(&calls[i].error, 0, sizeof(calls[i].error));
		calls[i].attempts = 0;
		calls[i].outcome_unknown = false;
	}
	f = calloc(n ? n : 1, sizeof(*f));
	if (!f) {
		rc = err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory");
		fail_rest(c, calls, NULL, n, rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		f[i].a = find_action(calls[i].action);
		f[i].resp = (struct http_response)HTTP_RESPONSE_INIT;
		f[i].o = (struct aws_outcome){ &calls[i].err, &calls[i].error,
					       false, false, false };
		/* Only calls that change nothing, or remove something, may
		 * overlap (unless the caller allows more: `allowed`): the
		 * order of other changes matters.  A change whose answer is
		 * lost ends with outcome_unknown set, for the caller to
		 * resolve (its typed call, one at a time). */
		if (!f[i].a || !(f[i].a->flags & allowed)) {
			rc = err_set(&c->ctx->err, SESCTL_ERR_FAIL,
				     "IAM action '%s' %s", calls[i].action,
				     f[i].a ? "changes something and may not "
					      "run concurrently" :
					      "is unknown");
			fail_rest(c, calls, NULL, n, rc);
			goto out;
		}
		rc = iam_form_body(calls[i].action, calls[i].params,
				   calls[i].n_params, &f[i].form);
		if (rc != SESCTL_OK) {
			rc = err_set(&c->ctx->err, rc, "%s: request too large",
				     calls[i].action);
			fail_rest(c, calls, NULL, n, rc);
			goto out;
		}
	}

	while (left > 0) {
		long now = backoff_now_ms(), wait = -1;

		/* Start what is due, in order, up to the cap. */
		for (i = 0; i < n && flying < max_in_flight; i++) {
			if (f[i].state != F_WAITING || f[i].due > now)
				continue;
			flight_start(c, &calls[i], &f[i]);
			if (f[i].state == F_FLYING)
				flying++;
			else
				left--;
		}
		/* The nearest retry still to start. */
		for (i = 0; i < n; i++)
			if (f[i].state == F_WAITING &&
			    (wait < 0 || f[i].due - now < wait))
				wait = f[i].due - now > 0 ? f[i].due - now : 0;
		if (flying == 0) {
			if (wait < 0)
				break; /* cannot happen: nothing left to wait for */
			if (wait > 0)
				backoff_sleep_ms(wait);
			continue;
		}
		if (wait < 0 || wait > 1000 || flying >= max_in_flight)
			wait = 1000;
		rc = http_poll(c->aws.http, wait, &tag, &res);
		while (rc == SESCTL_OK && tag) {
			struct flight *done = tag;

			i = (size_t)(done - f);
			flying--;
			flight_land(c, &calls[i], done, res);
			if (done->state == F_DONE)
				left--;
			rc = http_poll(c->aws.http, 0, &tag, &res);
		}
		if (rc != SESCTL_OK) {
			/* libcurl itself failed: nothing more will come. */
			http_cancel(c->aws.http);
			fail_rest(c, calls, f, n, rc);
			goto out;
		}
	}
	rc = SESCTL_OK;
out:
	/* The result is that of the first call that failed, in the order
	 * given: what calling them one after the other would have said. */
	for (i = 0; i < n; i++)
		if (calls[i].rc != SESCTL_OK) {
			rc = err_set(&c->ctx->err, calls[i].rc, "%s",
				     calls[i].err.msg);
			c->last_error = calls[i].error;
			break;
		}
	for (i = 0; f && i < n; i++) {
		http_response_release(&f[i].resp);
		free(f[i].form);
	}
	free(f);
	return rc;
}

/* ---- typed reads, several at once ----------------------------------- */

static void release_user_result(void *o)
{
	iam_user_result_release(o);
}

static void release_user_policy(void *o)
{
	iam_user_policy_release(o);
}

static void release_last_used(void *o)
{
	iam_access_key_last_used_release(o);
}

/* What each kind of read sends and how its answer is read: a single
 * answer (parse) or a paginated list (list). */
struct read_desc {
	const char *action;
	bool user_param;      /* sends UserName */
	const char *arg_name; /* the parameter iam_read.arg fills, or NULL */
	parse_fn parse;
	void (*release)(void *out);
	size_t out_size;
	const struct list_desc *list;
};

static const struct read_desc read_descs[] = {
	[IAM_READ_GET_USER] = { "GetUser", true, NULL, parse_user,
				release_user_result,
				sizeof(struct iam_user_result), NULL },
	[IAM_READ_LIST_USER_TAGS] = { "ListUserTags", true, NULL, NULL, NULL,
				      0, &list_tags },
	[IAM_READ_GET_USER_POLICY] = { "GetUserPolicy", true, "PolicyName",
				       parse_user_policy, release_user_policy,
				       sizeof(struct iam_user_policy), NULL },
	[IAM_READ_LIST_USER_POLICIES] = { "ListUserPolicies", true, NULL, NULL,
					  NULL, 0, &list_policies },
	[IAM_READ_LIST_ATTACHED_USER_POLICIES] = { "ListAttachedUserPolicies",
						   true, NULL, NULL, NULL, 0,
						   &list_attached },
	[IAM_READ_LIST_ACCESS_KEYS] = { "ListAccessKeys", true, NULL, NULL,
					NULL, 0, &list_keys },
	[IAM_READ_GET_ACCESS_KEY_LAST_USED] = {
		"GetAccessKeyLastUsed", false, "AccessKeyId", parse_last_used,
		release_last_used, sizeof(struct iam_access_key_last_used),
		NULL },
	[IAM_READ_LIST_GROUPS_FOR_USER] = { "ListGroupsForUser", true, NULL,
					    NULL, NULL, 0, &list_groups },
	[IAM_READ_GET_LOGIN_PROFILE] = { "GetLoginProfile", true, NULL,
					 parse_login_profile, NULL,
					 sizeof(struct iam_login_profile),
					 NULL },
	[IAM_READ_LIST_SIGNING_CERTIFICATES] = { "ListSigningCertificates",
						 true, NULL, NULL, NULL, 0,
						 &list_certs },
	[IAM_READ_LIST_SSH_PUBLIC_KEYS] = { "ListSSHPublicKeys", true, NULL,
					    NULL, NULL, 0, &list_ssh },
	[IAM_READ_LIST_SERVICE_SPECIFIC_CREDENTIALS] = {
		"ListServiceSpecificCredentials", true, NULL, NULL, NULL, 0,
		&list_svc },
	[IAM_READ_LIST_MFA_DEVICES] = { "ListMFADevices", true, NULL, NULL,
					NULL, 0, &list_mfa },
};

/* Where one read of iam_read_many stands. */
struct read_state {
	const struct read_desc *d;
	struct aws_param p[4];
	char marker[IAM_XML_MARKER_MAX + 1];
	void *page; /* lists: the page being read */
	size_t pages;
	bool done;
};

sesctl_err iam_read_result(struct iam_client *c, const struct iam_read *r)
{
	if (r->rc == SESCTL_OK)
		return SESCTL_OK;
	c->last_error = r->error;
	return err_set(&c->ctx->err, r->rc, "%s", r->err.msg);
}

sesctl_err iam_read_many(struct iam_client *c, struct iam_read *reads,
			 size_t n, size_t max_in_flight)
{
	struct read_state *st = NULL;
	struct iam_call_item *calls = NULL;
	size_t *which = NULL, i, j, m;
	sesctl_err rc = SESCTL_OK, r2;

	for (i = 0; i < n; i++) {
		reads[i].rc = SESCTL_OK;
		memset(&reads[i].err, 0, sizeof(reads[i].err));
		memset(&reads[i].error, 0, sizeof(reads[i].error));
	}
	/* A caller's mistake is caught before anything is touched. */
	for (i = 0; i < n; i++) {
		const struct read_desc *d =
			(size_t)reads[i].kind <
					sizeof(read_descs) / sizeof(read_descs[0]) ?
				&read_descs[reads[i].kind] :
				NULL;

		ENSURE(d && d->action && (!d->arg_name || reads[i].arg) &&
			       reads[i].out,
		       err_set(&c->ctx->err, SESCTL_ERR_FAIL,
			       "bad IAM read %zu (kind %d)", i,
			       (int)reads[i].kind));
	}
	for (i = 0; i < n; i++) {
		const struct read_desc *d = &read_descs[reads[i].kind];

		memset(reads[i].out, 0,
		       d->list ? d->list->list_size : d->out_size);
	}
	st = calloc(n ? n : 1, sizeof(*st));
	calls = calloc(n ? n : 1, sizeof(*calls));
	which = calloc(n ? n : 1, sizeof(*which));
	ENSURE(st && calls && which,
	       err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	for (i = 0; i < n; i++) {
		st[i].d = &read_descs[reads[i].kind];
		if (st[i].d->list) {
			st[i].page = calloc(1, st[i].d->list->list_size);
			ENSURE(st[i].page, err_set(&c->ctx->err,
						   SESCTL_ERR_NOMEM,
						   "out of memory"));
		}
	}

	/* One round per page: most reads need one; a list IAM cut short
	 * goes on with its marker in the next round. */
	for (;;) {
		m = 0;
		for (i = 0; i < n; i++) {
			struct read_state *s = &st[i];
			size_t k = 0;

			if (s->done)
				continue;
			if (s->d->user_param && reads[i].user)
				s->p[k++] = (struct aws_param){ "UserName",
								reads[i].user };
			if (s->d->arg_name)
				s->p[k++] = (struct aws_param){
					s->d->arg_name, reads[i].arg
				};
			if (s->d->list && s->marker[0])
				s->p[k++] = (struct aws_param){ "Marker",
								s->marker };
			if (s->d->list && max_items())
				s->p[k++] = (struct aws_param){ "MaxItems",
								max_items() };
			calls[m] = (struct iam_call_item){
				s->d->action, s->p, k, SESCTL_OK, SECRET_INIT,
				{ SESCTL_OK, "", "" }, { "", "", "", "" }, 0, false
			};
			which[m++] = i;
		}
		if (m == 0)
			break;
		/* r2 is the first failure; each call's own outcome is
		 * looked at below. */
		r2 = iam_call_many(c, calls, m, max_in_flight);
		for (j = 0; j < m; j++) {
			struct iam_read *r = &reads[which[j]];
			struct read_state *s = &st[which[j]];
			bool more = false;

			if (calls[j].rc != SESCTL_OK) {
				r->rc = calls[j].rc;
				r->err = calls[j].err;
				r->error = calls[j].error;
			} else if (!s->d->list) {
				r->rc = s->d->parse(&calls[j].body, r->out,
						    &r->err);
			} else {
				r2 = s->d->list->parse(&calls[j].body, s->page,
						       &r->err);
				if (r2 == SESCTL_OK)
					r2 = list_merge(s->d->list, r->out,
							s->page, s->marker,
							&s->pages, &more,
							&r->err);
				r->rc = r2;
			}
			secret_free(&calls[j].body);
			if (r->rc != SESCTL_OK && s->d->list)
				s->d->list->release(r->out);
			s->done = r->rc != SESCTL_OK || !more;
		}
	}
out:
	if (rc != SESCTL_OK)
		for (i = 0; i < n; i++)
			if (reads[i].rc == SESCTL_OK) {
				reads[i].rc = rc;
				reads[i].err = c->ctx->err;
			}
	/* The first read that failed, in the order given. */
	for (i = 0; i < n; i++)
		if (reads[i].rc != SESCTL_OK) {
			rc = iam_read_result(c, &reads[i]);
			break;
		}
	for (i = 0; st && i < n; i++)
		if (st[i].page) {
			st[i].d->list->release(st[i].page);
			free(st[i].page);
		}
	if (calls)
		for (i = 0; i < n; i++)
			secret_free(&calls[i].body);
	free(which);
	free(calls);
	free(st);
	return rc;
}
