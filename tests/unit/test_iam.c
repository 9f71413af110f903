/* test_iam.c - the IAM request builder: form bodies byte-identical to the
 * RFC 3986-encoded IAM vectors, encoding edge cases, limits; calls made
 * at once (iam_call_many, iam_read_many) against a loopback server that
 * answers nothing until they all wait: each retried on its own, each with
 * its own error, the first failure in the order given reported, pages
 * followed, and only read-only actions let through. */
#include "testutil.h"

#include <stdbool.h>

#include "sesctl/iam.h"

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
	struct iam_param params[32];
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
			params[n++] = (struct iam_param){ pair, eq + 1 };
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
		struct iam_param p = { "V", cases[i].value };
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
	struct iam_param p[2] = { { "UserName", NULL }, { "Path", "/" } };
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
	f->c.retry_base_ms = 1;
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

static const struct iam_param user_u[] = { { "UserName", "u" } };
static const struct iam_param policy_p[] = { { "UserName", "u" },
					     { "PolicyName", "p" } };

#define CALL(action, params, n)                                             \
	{ action, params, n, SESCTL_OK, SECRET_INIT, { SESCTL_OK, "" },     \
	  { "", "", "", "" }, 0 }

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
	assert_int_equal(f.c.requests, 4);
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
	assert_int_equal(f.c.requests, 4);
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
	assert_int_equal(f.c.requests, 0);
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
	assert_int_equal(f.c.requests, 4);
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
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	http_global_cleanup();
	return rc;
}
