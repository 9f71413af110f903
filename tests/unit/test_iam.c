/* test_iam.c - the IAM request builder: form bodies byte-identical to the
 * RFC 3986-encoded IAM vectors, encoding edge cases, limits; calls made
 * at once (iam_call_many, iam_read_many) against a loopback server that
 * answers nothing until they all wait: each retried on its own, each with
 * its own error, the first failure in the order given reported, pages
 * followed, and only read-only actions let through. */
#include "testutil.h"

#include <stdbool.h>

#include "sesctl/aws/iam.h"

#include "loopback_server.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode `s` in place. */
static void pct_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Decode a vector's body into action + params, rebuild it with
 * iam_form_body and compare byte for byte. */
static void round_trip(const char *case_dir)
{
	char path[4096], *want, *copy, *save = NULL, *pair, *got = NULL;
	struct aws_param params[32];
	const char *action = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "sigv4/iam-query/%s/body.txt", case_dir);
	{
		char full[4096];

		vector_path(full, sizeof(full), path);
		want = read_text_file(full, NULL);
	}
	copy = strdup(want);
	assert_non_null(copy);
	for (pair = strtok_r(copy, "&", &save); pair;
	     pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');

		assert_non_null(eq);
		*eq = '\0';
		pct_decode(pair);
		pct_decode(eq + 1);
		if (strcmp(pair, "Action") == 0) {
			action = eq + 1;
		} else if (strcmp(pair, "Version") != 0) {
			assert_true(n < 32);
			params[n++] = (struct aws_param){ pair, eq + 1 };
		}
	}
	assert_non_null(action);
	assert_int_equal(iam_form_body(action, params, n, &got), SESCTL_OK);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got: %s\nwant: %s", case_dir, got, want);
	free(got);
	free(copy);
	free(want);
}

static void test_iam_form_body_matches_vectors(void **state)
{
	(void)state;
	round_trip("iam-create-user-path-tags-rfc3986");
	round_trip("iam-put-user-policy-rfc3986");
}

static void test_iam_form_body_encoding(void **state)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{ "plain-Name_1.~", "plain-Name_1.~" },
		{ "a b", "a%20b" },
		{ "a+b@example.com", "a%2Bb%40example.com" },
		{ "/sesctl/", "%2Fsesctl%2F" },
		{ "{\"k\":\"v*\"}", "%7B%22k%22%3A%22v%2A%22%7D" },
		{ "caf\xc3\xa9", "caf%C3%A9" },
		{ "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_param p = { "V", cases[i].value };
		char want[256], *got = NULL;

		snprintf(want, sizeof(want),
			 "Action=GetUser&Version=2010-05-08&V=%s", cases[i].want);
		assert_int_equal(iam_form_body("GetUser", &p, 1, &got),
				 SESCTL_OK);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_iam_form_body_skips_null_and_limits(void **state)
{
	struct aws_param p[2] = { { "UserName", NULL }, { "Path", "/" } };
	char *got = NULL, *big;

	(void)state;
	assert_int_equal(iam_form_body("GetUser", p, 2, &got), SESCTL_OK);
	assert_string_equal(got, "Action=GetUser&Version=2010-05-08&Path=%2F");
	free(got);
	/* A body past the cap is refused, not truncated. */
	big = malloc(200000);
	assert_non_null(big);
	memset(big, '/', 199999);
	big[199999] = '\0';
	p[1].value = big;
	got = (char *)1;
	assert_int_equal(iam_form_body("GetUser", p, 2, &got), SESCTL_ERR_INPUT);
	assert_null(got);
	free(big);
}

/* ---- IAM answers -------------------------------------------------- */

#define NS "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\""
#define META "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"

#define GET_USER_XML \
	"<GetUserResponse " NS "><GetUserResult><User><UserId>AIDAEXAMPLE" \
	"</UserId><Path>/sesctl/</Path><UserName>u</UserName><Arn>" \
	"arn:aws:iam::123456789012:user/sesctl/u</Arn><CreateDate>" \
	"2026-01-02T03:04:05Z</CreateDate></User></GetUserResult>" META \
	"</GetUserResponse>"
#define LIST_KEYS_XML \
	"<ListAccessKeysResponse " NS "><ListAccessKeysResult><UserName>u" \
	"</UserName><AccessKeyMetadata><member><UserName>u</UserName>" \
	"<AccessKeyId>AKIAFIRSTPAGE0000001</AccessKeyId><Status>Active</Status>" \
	"<CreateDate>2026-01-02T03:04:05Z</CreateDate></member>" \
	"</AccessKeyMetadata><IsTruncated>%s</IsTruncated>%s" \
	"</ListAccessKeysResult>" META "</ListAccessKeysResponse>"
#define LIST_KEYS_PAGE2_XML \
	"<ListAccessKeysResponse " NS "><ListAccessKeysResult><UserName>u" \
	"</UserName><AccessKeyMetadata><member><UserName>u</UserName>" \
	"<AccessKeyId>AKIASECONDPAGE000002</AccessKeyId><Status>Inactive" \
	"</Status><CreateDate>2026-01-03T03:04:05Z</CreateDate></member>" \
	"</AccessKeyMetadata><IsTruncated>false</IsTruncated>" \
	"</ListAccessKeysResult>" META "</ListAccessKeysResponse>"
#define GET_POLICY_XML \
	"<GetUserPolicyResponse " NS "><GetUserPolicyResult><PolicyName>p" \
	"</PolicyName><UserName>u</UserName><PolicyDocument>%%7B%%7D" \
	"</PolicyDocument></GetUserPolicyResult>" META \
	"</GetUserPolicyResponse>"
#define LAST_USED_XML \
	"<GetAccessKeyLastUsedResponse " NS "><GetAccessKeyLastUsedResult>" \
	"<AccessKeyLastUsed><Region>eu-west-1</Region><LastUsedDate>" \
	"2026-01-04T00:00:00Z</LastUsedDate><ServiceName>ses</ServiceName>" \
	"</AccessKeyLastUsed><UserName>u</UserName>" \
	"</GetAccessKeyLastUsedResult>" META "</GetAccessKeyLastUsedResponse>"
#define ERROR_XML \
	"<ErrorResponse " NS "><Error><Type>%s</Type><Code>%s</Code>" \
	"<Message>%s</Message></Error><RequestId>e-1</RequestId>" \
	"</ErrorResponse>"

static char *xml(const char *fmt, ...) PRINTF_LIKE(1, 2);

static char *xml(const char *fmt, ...)
{
	char *out = malloc(4096);
	va_list ap;

	assert_non_null(out);
	va_start(ap, fmt);
	vsnprintf(out, 4096, fmt, ap);
	va_end(ap);
	return out;
}

static bool is_action(const char *body, const char *action)
{
	char want[64];

	snprintf(want, sizeof(want), "Action=%s&", action);
	return strncmp(body, want, strlen(want)) == 0;
}

/* What each test's IAM says (runs in the server thread; `data` counts). */
enum script { RETRY_ONE, FAIL_SOME, ALWAYS_500, PAGES };

static char *iam_reply(struct srv *s, unsigned seq, const char *body,
		       int *status, const char **ctype)
{
	enum script how = *(enum script *)s->data;
	static unsigned get_users;

	(void)seq;
	(void)ctype;
	*status = 200;
	if (seq == 1)
		get_users = 0;
	if (is_action(body, "GetUser")) {
		get_users++;
		if ((how == RETRY_ONE && get_users == 1) || how == ALWAYS_500) {
			*status = how == RETRY_ONE ? 400 : 500;
			return how == RETRY_ONE ?
				       xml(ERROR_XML, "Sender", "Throttling",
					   "Rate exceeded") :
				       xml(ERROR_XML, "Receiver",
					   "ServiceFailure", "oops");
		}
		return xml(GET_USER_XML);
	}
	if (is_action(body, "ListAccessKeys")) {
		if (how == FAIL_SOME) {
			*status = 403;
			return xml(ERROR_XML, "Sender", "AccessDenied",
				   "not authorized to perform: "
				   "iam:ListAccessKeys");
		}
		if (how == PAGES && strstr(body, "Marker=m%2B1%2F"))
			return xml(LIST_KEYS_PAGE2_XML);
		if (how == PAGES)
			return xml(LIST_KEYS_XML, "true",
				   "<Marker>m+1/</Marker>");
		return xml(LIST_KEYS_XML, "false", "");
	}
	if (is_action(body, "GetUserPolicy")) {
		if (how == FAIL_SOME || how == PAGES) {
			*status = 404;
			return xml(ERROR_XML, "Sender", "NoSuchEntity",
				   "The user policy with name p cannot be "
				   "found.");
		}
		return xml(GET_POLICY_XML);
	}
	if (is_action(body, "GetAccessKeyLastUsed"))
		return xml(LAST_USED_XML);
	*status = 400;
	return xml(ERROR_XML, "Sender", "InvalidAction", "no");
}

struct fixture {
	struct srv srv;
	enum script how;
	struct ctx ctx;
	struct secret sk;
	struct iam_client c;
	char url[64];
};

static void fixture_open(struct fixture *f, enum script how, size_t barrier)
{
	struct iam_config cfg;

	memset(f, 0, sizeof(*f));
	f->how = how;
	f->srv.barrier = barrier;
	f->srv.never = barrier == 0;
	f->srv.reply = iam_reply;
	f->srv.data = &f->how;
	srv_start(&f->srv);
	ctx_init(&f->ctx);
	assert_int_equal(secret_set(&f->sk, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				    40),
			 SESCTL_OK);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/", f->srv.port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = "us-east-1";
	cfg.endpoint_url = f->url;
	cfg.access_key_id = "AKIAIOSFODNN7EXAMPLE";
	cfg.secret_key = &f->sk;
	cfg.max_attempts = 3;
	cfg.timeout_ms = 10000;
	assert_int_equal(iam_client_init(&f->c, &f->ctx, &cfg), SESCTL_OK);
	f->c.aws.retry_base_ms = 1;
}

static void fixture_close(struct fixture *f)
{
	iam_client_release(&f->c);
	secret_free(&f->sk);
	srv_stop(&f->srv);
}

static void release_calls(struct iam_call_item *calls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		secret_free(&calls[i].body);
}

static const struct aws_param user_u[] = { { "UserName", "u" } };
static const struct aws_param policy_p[] = { { "UserName", "u" },
					     { "PolicyName", "p" } };

#define CALL(action, params, n)                                             \
	{ action, params, n, SESCTL_OK, SECRET_INIT, { SESCTL_OK, "", "" }, \
	  { "", "", "", "" }, 0, false }

/* Open `f` on an IAM that follows `how` and answers nothing before three
 * requests wait, then make GetUser, ListAccessKeys and GetUserPolicy for
 * user u at once in `calls`; returns iam_call_many's result.  The caller
 * releases `calls` and closes `f`. */
static sesctl_err call_three_reads(struct fixture *f, enum script how,
				   struct iam_call_item calls[3])
{
	const struct iam_call_item reads[3] = {
		CALL("GetUser", user_u, 1),
		CALL("ListAccessKeys", user_u, 1),
		CALL("GetUserPolicy", policy_p, 2),
	};

	memcpy(calls, reads, sizeof(reads));
	fixture_open(f, how, 3);
	return iam_call_many(&f->c, calls, 3, 0);
}

static void test_iam_call_many_overlap_and_retry(void **state)
{
	struct fixture f;
	struct iam_call_item calls[3];

	(void)state;
	/* No answer before all three wait; the throttled GetUser is tried
	 * again on its own while the others are done. */
	assert_int_equal(call_three_reads(&f, RETRY_ONE, calls), SESCTL_OK);
	assert_int_equal(calls[0].rc, SESCTL_OK);
	assert_int_equal(calls[0].attempts, 2);
	assert_non_null(strstr(secret_str(&calls[0].body), "<GetUserResult>"));
	assert_int_equal(calls[1].attempts, 1);
	assert_non_null(strstr(secret_str(&calls[1].body), "AKIAFIRSTPAGE"));
	assert_int_equal(calls[2].attempts, 1);
	assert_non_null(strstr(secret_str(&calls[2].body), "<PolicyName>p<"));
	assert_int_equal(f.c.aws.requests, 4);
	assert_false(f.c.outcome_unknown);
	release_calls(calls, 3);
	fixture_close(&f);
	assert_true(f.srv.max_waiting >= 3);
	assert_int_equal(f.srv.requests, 4);
	assert_int_equal(f.srv.accepted, 3);
}

static void test_iam_call_many_first_failure_wins(void **state)
{
	struct fixture f;
	struct iam_call_item calls[3];

	(void)state;
	/* ListAccessKeys and GetUserPolicy fail; the earlier one in the
	 * order given is the result, as if called one after the other. */
	assert_int_equal(call_three_reads(&f, FAIL_SOME, calls),
			 SESCTL_ERR_AUTH);
	assert_non_null(strstr(f.ctx.err.msg, "IAM refused ListAccessKeys"));
	assert_string_equal(f.c.last_error.code, "AccessDenied");
	assert_int_equal(calls[0].rc, SESCTL_OK);
	assert_int_equal(calls[1].rc, SESCTL_ERR_AUTH);
	assert_string_equal(calls[1].error.code, "AccessDenied");
	assert_int_equal(calls[1].body.len, 0);
	assert_int_equal(calls[2].rc, SESCTL_ERR_NOT_FOUND);
	assert_string_equal(calls[2].error.code, "NoSuchEntity");
	assert_non_null(strstr(calls[2].err.msg, "GetUserPolicy: NoSuchEntity"));
	/* 4xx answers are not retried. */
	assert_int_equal(calls[1].attempts, 1);
	assert_int_equal(calls[2].attempts, 1);
	release_calls(calls, 3);
	fixture_close(&f);
	assert_int_equal(f.srv.requests, 3);
}

static void test_iam_call_many_gives_up(void **state)
{
	struct fixture f;
	struct iam_call_item calls[] = {
		CALL("ListAccessKeys", user_u, 1),
		CALL("GetUser", user_u, 1),
	};

	(void)state;
	fixture_open(&f, ALWAYS_500, 1);
	assert_int_equal(iam_call_many(&f.c, calls, 2, 1), SESCTL_ERR_NETWORK);
	assert_int_equal(calls[0].rc, SESCTL_OK);
	assert_int_equal(calls[0].attempts, 1);
	assert_int_equal(calls[1].rc, SESCTL_ERR_NETWORK);
	assert_int_equal(calls[1].attempts, 3);
	assert_non_null(strstr(calls[1].err.msg, "gave up after 3 attempts: "
						 "GetUser: ServiceFailure"));
	assert_string_equal(f.ctx.err.msg, calls[1].err.msg);
	assert_int_equal(f.c.aws.requests, 4);
	release_calls(calls, 2);
	fixture_close(&f);
	/* A cap of 1: the server never saw two requests at once. */
	assert_int_equal(f.srv.max_waiting, 1);
}

static void test_iam_call_many_refuses_changes(void **state)
{
	struct fixture f;
	struct iam_call_item calls[] = {
		CALL("GetUser", user_u, 1),
		CALL("CreateAccessKey", user_u, 1),
		CALL("NoSuchAction", user_u, 1),
	};

	(void)state;
	fixture_open(&f, RETRY_ONE, 0);
	assert_int_equal(iam_call_many(&f.c, calls, 2, 0), SESCTL_ERR_FAIL);
	assert_non_null(strstr(f.ctx.err.msg, "'CreateAccessKey'"));
	assert_int_equal(calls[0].rc, SESCTL_ERR_FAIL);
	assert_int_equal(calls[1].rc, SESCTL_ERR_FAIL);
	assert_int_equal(calls[0].attempts, 0);
	assert_int_equal(iam_call_many(&f.c, calls + 2, 1, 0), SESCTL_ERR_FAIL);
	assert_non_null(strstr(f.ctx.err.msg, "unknown"));
	assert_int_equal(f.c.aws.requests, 0);
	release_calls(calls, 3);
	fixture_close(&f);
	assert_int_equal(f.srv.accepted, 0);
}

static void test_iam_read_many_pages_and_errors(void **state)
{
	struct fixture f;
	struct iam_access_key_list keys;
	struct iam_access_key_last_used used;
	struct iam_user_policy pol;
	struct iam_read reads[3];
	size_t i;
	bool marker_sent = false;

	(void)state;
	fixture_open(&f, PAGES, 3);
	reads[0] = (struct iam_read){ .kind = IAM_READ_LIST_ACCESS_KEYS,
				      .user = "u", .out = &keys };
	reads[1] = (struct iam_read){ .kind = IAM_READ_GET_ACCESS_KEY_LAST_USED,
				      .arg = "AKIAFIRSTPAGE0000001",
				      .out = &used };
	reads[2] = (struct iam_read){ .kind = IAM_READ_GET_USER_POLICY,
				      .user = "u", .arg = "p", .out = &pol };
	assert_int_equal(iam_read_many(&f.c, reads, 3, 0),
			 SESCTL_ERR_NOT_FOUND);
	/* Both pages, merged in order. */
	assert_int_equal(reads[0].rc, SESCTL_OK);
	assert_int_equal(keys.count, 2);
	assert_string_equal(keys.items[0].access_key_id, "AKIAFIRSTPAGE0000001");
	assert_string_equal(keys.items[1].access_key_id, "AKIASECONDPAGE000002");
	assert_int_equal(keys.items[1].status, IAM_STATUS_INACTIVE);
	assert_int_equal(reads[1].rc, SESCTL_OK);
	assert_string_equal(used.service_name, "ses");
	assert_string_equal(used.region, "eu-west-1");
	assert_true(used.last_used_date.present);
	/* The missing policy is this read's own error, and the result. */
	assert_int_equal(reads[2].rc, SESCTL_ERR_NOT_FOUND);
	assert_string_equal(reads[2].error.code, "NoSuchEntity");
	assert_string_equal(f.ctx.err.msg, reads[2].err.msg);
	assert_int_equal(iam_read_result(&f.c, &reads[0]), SESCTL_OK);
	assert_int_equal(iam_read_result(&f.c, &reads[2]),
			 SESCTL_ERR_NOT_FOUND);
	assert_int_equal(f.c.aws.requests, 4);
	iam_access_key_list_release(&keys);
	iam_access_key_last_used_release(&used);
	iam_user_policy_release(&pol);
	fixture_close(&f);
	for (i = 0; i < f.srv.requests && i < 64; i++)
		if (strstr(f.srv.log[i], "Action=ListAccessKeys&") &&
		    strstr(f.srv.log[i], "&Marker=m%2B1%2F"))
			marker_sent = true;
	assert_true(marker_sent);
	assert_true(f.srv.max_waiting >= 3);
}

/* ---- changes whose outcome is unknown --------------------------------
 * A stand-in for one change and the read that shows its effect: the
 * change's first send (or every send) is answered 500 or throttled,
 * applied or not; the read answers what IAM's state then is. */

#define ACK_XML "<%sResponse " NS ">" META "</%sResponse>"
#define KEYS_XML(members) \
	"<ListAccessKeysResponse " NS "><ListAccessKeysResult>" \
	"<AccessKeyMetadata>" members "</AccessKeyMetadata><IsTruncated>" \
	"false</IsTruncated></ListAccessKeysResult>" META \
	"</ListAccessKeysResponse>"
#define KEY_MEMBER(status) \
	"<member><UserName>u</UserName><AccessKeyId>AKIAOLDKEY0000000001" \
	"</AccessKeyId><Status>" status "</Status><CreateDate>" \
	"2026-01-02T03:04:05Z</CreateDate></member>"
#define TAGS_XML(members) \
	"<ListUserTagsResponse " NS "><ListUserTagsResult><Tags>" members \
	"</Tags><IsTruncated>false</IsTruncated></ListUserTagsResult>" META \
	"</ListUserTagsResponse>"
#define ATTACHED_XML(members) \
	"<ListAttachedUserPoliciesResponse " NS \
	"><ListAttachedUserPoliciesResult><AttachedPolicies>" members \
	"</AttachedPolicies><IsTruncated>false</IsTruncated>" \
	"</ListAttachedUserPoliciesResult>" META \
	"</ListAttachedUserPoliciesResponse>"
#define ARN "arn:aws:iam::aws:policy/AmazonSESFullAccess"
#define POLICY_DOC "{\"Version\": \"2012-10-17\", \"Statement\": []}"
/* IAM's copy: URL-encoded, and here without the blanks. */
#define POLICY_XML(encoded) \
	"<GetUserPolicyResponse " NS "><GetUserPolicyResult><PolicyName>p" \
	"</PolicyName><UserName>u</UserName><PolicyDocument>" encoded \
	"</PolicyDocument></GetUserPolicyResult>" META \
	"</GetUserPolicyResponse>"
#define NO_SUCH \
	"<ErrorResponse " NS "><Error><Type>Sender</Type><Code>NoSuchEntity" \
	"</Code><Message>cannot be found</Message></Error><RequestId>e-1" \
	"</RequestId></ErrorResponse>"

static sesctl_err do_delete_key(struct iam_client *c)
{
	return iam_delete_access_key(c, "u", "AKIAOLDKEY0000000001");
}

static sesctl_err do_update_key(struct iam_client *c)
{
	return iam_update_access_key(c, "u", "AKIAOLDKEY0000000001",
				     "Inactive");
}

static sesctl_err do_tag(struct iam_client *c)
{
	const struct iam_tag_in t[] = { { "SesctlCurrent", "AKIANEW" },
					{ "ManagedBy", "sesctl" } };

	return iam_tag_user(c, "u", t, 2);
}

static sesctl_err do_untag(struct iam_client *c)
{
	const char *const keys[] = { "SesctlKept" };

	return iam_untag_user(c, "u", keys, 1);
}

static sesctl_err do_put_policy(struct iam_client *c)
{
	return iam_put_user_policy(c, "u", "p", POLICY_DOC);
}

static sesctl_err do_delete_policy(struct iam_client *c)
{
	return iam_delete_user_policy(c, "u", "p");
}

static sesctl_err do_delete_user(struct iam_client *c)
{
	return iam_delete_user(c, "u");
}

static sesctl_err do_attach(struct iam_client *c)
{
	return iam_attach_user_policy(c, "u", ARN);
}

static sesctl_err do_detach(struct iam_client *c)
{
	return iam_detach_user_policy(c, "u", ARN);
}

struct change_case {
	const char *action, *read;
	sesctl_err (*call)(struct iam_client *c);
	/* The read's answer before and after the change (404: NO_SUCH). */
	const char *before, *after;
	const char *shows; /* in the message when the read fails */
};

static const struct change_case change_cases[] = {
	{ "DeleteAccessKey", "ListAccessKeys", do_delete_key,
	  KEYS_XML(KEY_MEMBER("Active")), KEYS_XML(""), "list-access-keys" },
	{ "UpdateAccessKey", "ListAccessKeys", do_update_key,
	  KEYS_XML(KEY_MEMBER("Active")), KEYS_XML(KEY_MEMBER("Inactive")),
	  "list-access-keys" },
	{ "TagUser", "ListUserTags", do_tag,
	  TAGS_XML("<member><Key>managedby</Key><Value>sesctl</Value>"
		   "</member><member><Key>SesctlCurrent</Key><Value>AKIAOLD"
		   "</Value></member>"),
	  TAGS_XML("<member><Key>ManagedBy</Key><Value>sesctl</Value>"
		   "</member><member><Key>SesctlCurrent</Key><Value>AKIANEW"
		   "</Value></member>"),
	  "list-user-tags" },
	{ "UntagUser", "ListUserTags", do_untag,
	  TAGS_XML("<member><Key>sesctlkept</Key><Value>x</Value></member>"),
	  TAGS_XML("<member><Key>Other</Key><Value>x</Value></member>"),
	  "list-user-tags" },
	{ "PutUserPolicy", "GetUserPolicy", do_put_policy, NULL,
	  POLICY_XML("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22"
		     "%3A%5B%5D%7D"),
	  "list-user-policies" },
	{ "DeleteUserPolicy", "GetUserPolicy", do_delete_policy,
	  POLICY_XML("%7B%7D"), NULL, "list-user-policies" },
	{ "DeleteUser", "GetUser", do_delete_user, GET_USER_XML, NULL,
	  "get-user" },
	{ "AttachUserPolicy", "ListAttachedUserPolicies", do_attach,
	  ATTACHED_XML(""),
	  ATTACHED_XML("<member><PolicyName>AmazonSESFullAccess</PolicyName>"
		       "<PolicyArn>" ARN "</PolicyArn></member>"),
	  "list-attached-user-policies" },
	{ "DetachUserPolicy", "ListAttachedUserPolicies", do_detach,
	  ATTACHED_XML("<member><PolicyName>AmazonSESFullAccess</PolicyName>"
		       "<PolicyArn>" ARN "</PolicyArn></member>"),
	  ATTACHED_XML(""), "list-attached-user-policies" },
};

enum change_mode {
	CH_APPLIED,     /* first send: applied, then 500 */
	CH_NOT_APPLIED, /* first send: 500, not applied */
	CH_NEVER,       /* every send: 503, not applied */
	CH_READ_FAILS,  /* first send: 500; the read is denied */
	CH_THROTTLED,   /* first send: throttled (never applied) */
	CH_GARBLED,     /* first send: applied, 200 with a broken body */
};

struct change_srv {
	const struct change_case *cc;
	enum change_mode mode;
	bool applied;
};

static char *change_reply(struct srv *s, unsigned seq, const char *body,
			  int *status, const char **ctype)
{
	struct change_srv *cs = s->data;
	const char *answer;

	(void)ctype;
	*status = 200;
	if (is_action(body, cs->cc->action)) {
		if (seq == 1 || cs->mode == CH_NEVER) {
			if (cs->mode == CH_THROTTLED) {
				*status = 400;
				return xml(ERROR_XML, "Sender", "Throttling",
					   "Rate exceeded");
			}
			if (cs->mode == CH_GARBLED) {
				cs->applied = true;
				return strdup("<DeleteAccessKeyResponse><oops");
			}
			cs->applied = cs->mode == CH_APPLIED;
			*status = cs->mode == CH_NEVER ? 503 : 500;
			return xml(ERROR_XML, "Receiver", "ServiceFailure",
				   "oops");
		}
		cs->applied = true;
		return xml(ACK_XML, cs->cc->action, cs->cc->action);
	}
	if (is_action(body, cs->cc->read)) {
		if (cs->mode == CH_READ_FAILS) {
			*status = 403;
			return xml(ERROR_XML, "Sender", "AccessDenied", "no");
		}
		answer = cs->applied ? cs->cc->after : cs->cc->before;
		if (!answer) {
			*status = 404;
			answer = NO_SUCH;
		}
		return strdup(answer);
	}
	*status = 400;
	return xml(ERROR_XML, "Sender", "InvalidAction", "no");
}

/* Run change `cc` against an IAM that behaves as `mode`; the server's
 * log is left in f->srv.log (f is closed). */
static sesctl_err run_change(struct fixture *f, const struct change_case *cc,
			     enum change_mode mode, struct change_srv *cs)
{
	sesctl_err rc;

	*cs = (struct change_srv){ cc, mode, false };
	fixture_open(f, RETRY_ONE, 1);
	f->srv.data = cs;
	f->srv.reply = change_reply;
	rc = cc->call(&f->c);
	fixture_close(f);
	return rc;
}

/* The actions of the requests the server saw, as "A,B,C". */
static void log_actions(const struct srv *s, char *out, size_t size)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < s->requests && i < 64; i++) {
		const char *a = s->log[i] + strlen("Action=");
		size_t n = strcspn(a, "&");

		if (len + n + 2 >= size)
			break;
		if (len)
			out[len++] = ',';
		memcpy(out + len, a, n);
		len += n;
		out[len] = '\0';
	}
}

static void expect_log(const struct srv *s, const struct change_case *cc,
		       const char *pattern)
{
	char got[512], want[512] = "";
	const char *p;

	log_actions(s, got, sizeof(got));
	for (p = pattern; *p; p++) {
		if (want[0])
			strcat(want, ",");
		strcat(want, *p == 'C' ? cc->action : cc->read);
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s: requests %s, want %s", cc->action, got, want);
}

static void test_iam_change_applied_is_read_back(void **state)
{
	struct fixture f;
	struct change_srv cs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *cc = &change_cases[i];
		sesctl_err rc = run_change(&f, cc, CH_APPLIED, &cs);

		if (rc != SESCTL_OK)
			fail_msg("%s: %s", cc->action, f.ctx.err.msg);
		/* Sent once, then read: never repeated blindly. */
		expect_log(&f.srv, cc, "CR");
		assert_false(f.c.outcome_unknown);
		assert_string_equal(f.c.last_error.code, "");
	}
}

static void test_iam_change_garbled_answer_is_read_back(void **state)
{
	struct fixture f;
	struct change_srv cs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *cc = &change_cases[i];
		sesctl_err rc = run_change(&f, cc, CH_GARBLED, &cs);

		if (rc != SESCTL_OK)
			fail_msg("%s: %s", cc->action, f.ctx.err.msg);
		expect_log(&f.srv, cc, "CR");
	}
}

static void test_iam_change_not_applied_is_sent_again(void **state)
{
	struct fixture f;
	struct change_srv cs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *cc = &change_cases[i];
		sesctl_err rc = run_change(&f, cc, CH_NOT_APPLIED, &cs);

		if (rc != SESCTL_OK)
			fail_msg("%s: %s", cc->action, f.ctx.err.msg);
		expect_log(&f.srv, cc, "CRC");
		assert_true(cs.applied);
		assert_false(f.c.outcome_unknown);
	}
}

static void test_iam_change_bounded_by_max_attempts(void **state)
{
	struct fixture f;
	struct change_srv cs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *cc = &change_cases[i];

		assert_int_equal(run_change(&f, cc, CH_NEVER, &cs),
				 SESCTL_ERR_NETWORK);
		/* Three sends in all (max_attempts), each read back. */
		expect_log(&f.srv, cc, "CRCRCR");
		assert_false(f.c.outcome_unknown);
		assert_non_null(strstr(f.ctx.err.msg,
				       "was not applied after 3 attempts"));
		assert_string_equal(f.c.last_error.code, "ServiceFailure");
	}
}

static void test_iam_change_read_back_fails(void **state)
{
	struct fixture f;
	struct change_srv cs;
	char want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *cc = &change_cases[i];

		assert_int_equal(run_change(&f, cc, CH_READ_FAILS, &cs),
				 SESCTL_ERR_NETWORK);
		expect_log(&f.srv, cc, "CR");
		assert_true(f.c.outcome_unknown);
		assert_non_null(strstr(f.ctx.err.msg, "the outcome is unknown"));
		assert_non_null(strstr(f.ctx.err.msg, "ServiceFailure"));
		assert_non_null(strstr(f.ctx.err.msg, "AccessDenied"));
		snprintf(want, sizeof(want), "'aws iam %s --user-name u'",
			 cc->shows);
		if (!strstr(f.ctx.err.msg, want))
			fail_msg("%s: no %s in: %s", cc->action, want,
				 f.ctx.err.msg);
		/* The change's error, not the read's. */
		assert_string_equal(f.c.last_error.code, "ServiceFailure");
	}
}

static void test_iam_change_throttled_is_retried(void **state)
{
	struct fixture f;
	struct change_srv cs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *cc = &change_cases[i];

		assert_int_equal(run_change(&f, cc, CH_THROTTLED, &cs),
				 SESCTL_OK);
		/* AWS did not apply a throttled request: no read needed. */
		expect_log(&f.srv, cc, "CC");
	}
}

static char *create_key_reply(struct srv *s, unsigned seq, const char *body,
			      int *status, const char **ctype)
{
	(void)s;
	(void)seq;
	(void)body;
	(void)ctype;
	*status = 500;
	return xml(ERROR_XML, "Receiver", "InternalFailure", "oops");
}

static void test_iam_create_access_key_5xx_is_unknown(void **state)
{
	struct fixture f;
	struct iam_access_key k;

	(void)state;
	memset(&k, 0, sizeof(k));
	fixture_open(&f, RETRY_ONE, 1);
	f.srv.reply = create_key_reply;
	assert_int_equal(iam_create_access_key(&f.c, "u", &k),
			 SESCTL_ERR_NETWORK);
	assert_true(f.c.outcome_unknown);
	assert_non_null(strstr(f.ctx.err.msg, "may or may not have been "
					      "applied"));
	assert_int_equal(f.c.aws.requests, 1);
	iam_access_key_release(&k);
	fixture_close(&f);
	assert_int_equal(f.srv.requests, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iam_form_body_matches_vectors),
		cmocka_unit_test(test_iam_form_body_encoding),
		cmocka_unit_test(test_iam_form_body_skips_null_and_limits),
		cmocka_unit_test(test_iam_call_many_overlap_and_retry),
		cmocka_unit_test(test_iam_call_many_first_failure_wins),
		cmocka_unit_test(test_iam_call_many_gives_up),
		cmocka_unit_test(test_iam_call_many_refuses_changes),
		cmocka_unit_test(test_iam_read_many_pages_and_errors),
		cmocka_unit_test(test_iam_change_applied_is_read_back),
		cmocka_unit_test(test_iam_change_garbled_answer_is_read_back),
		cmocka_unit_test(test_iam_change_not_applied_is_sent_again),
		cmocka_unit_test(test_iam_change_bounded_by_max_attempts),
		cmocka_unit_test(test_iam_change_read_back_fails),
		cmocka_unit_test(test_iam_change_throttled_is_retried),
		cmocka_unit_test(test_iam_create_access_key_5xx_is_unknown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	http_global_cleanup();
	return rc;
}
