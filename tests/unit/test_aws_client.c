/* test_aws_client.c - the AWS client core: where the endpoint comes from
 * (flag, service variable, global variable, default), the Query form with
 * a service's version, JSON 1.1 error answers read as AWS writes them, and
 * JSON 1.1 calls against a loopback server: the framing headers signed
 * and sent, an error's __type mapped to its exit code, a throttled change
 * sent again, a 5xx after a change never repeated and reported as of
 * unknown outcome. */
#include "testutil.h"

#include <stdbool.h>

#include "sesctl/aws/aws_client.h"

#include "loopback_server.h"

static const struct aws_service json_svc = {
	"Secrets Manager", "secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	AWS_JSON_11,       NULL,             "secretsmanager",
	"Secrets Manager ", NULL,
};

/* ---- the endpoint ---------------------------------------------------- */

static const char *fake_env_names[4], *fake_env_values[4];

static const char *fake_env(const char *name)
{
	size_t i;

	for (i = 0; i < 4 && fake_env_names[i]; i++)
		if (strcmp(fake_env_names[i], name) == 0)
			return fake_env_values[i];
	return NULL;
}

static void set_env(size_t i, const char *name, const char *value)
{
	fake_env_names[i] = name;
	fake_env_values[i] = value;
}

static void test_endpoint_order(void **state)
{
	struct aws_config cfg;
	const char *src = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(fake_env_names, 0, sizeof(fake_env_names));
	cfg.env = fake_env;
	assert_null(aws_endpoint_override(&json_svc, &cfg, &src));

	set_env(0, "AWS_ENDPOINT_URL", "https://global.example");
	assert_string_equal(aws_endpoint_override(&json_svc, &cfg, &src),
			    "https://global.example");
	assert_string_equal(src, "AWS_ENDPOINT_URL");

	set_env(1, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://sm.example");
	assert_string_equal(aws_endpoint_override(&json_svc, &cfg, &src),
			    "https://sm.example");
	assert_string_equal(src, "AWS_ENDPOINT_URL_SECRETS_MANAGER");

	cfg.endpoint_url = "https://flag.example";
	assert_string_equal(aws_endpoint_override(&json_svc, &cfg, &src),
			    "https://flag.example");
	assert_string_equal(src, "--endpoint-url");

	/* "" is not set */
	cfg.endpoint_url = NULL;
	set_env(1, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "");
	assert_string_equal(aws_endpoint_override(&json_svc, &cfg, &src),
			    "https://global.example");
}

/* ---- the Query form -------------------------------------------------- */

static void test_query_body(void **state)
{
	struct aws_param p[3] = { { "RoleArn", "arn:aws:iam::1:role/a b" },
				  { "ExternalId", NULL },
				  { "DurationSeconds", "900" } };
	char *got = NULL;

	(void)state;
	assert_int_equal(aws_query_body("AssumeRole", "2011-06-15", p, 3,
					&got),
			 SESCTL_OK);
	assert_string_equal(got, "Action=AssumeRole&Version=2011-06-15&"
				 "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&"
				 "DurationSeconds=900");
	free(got);
}

/* ---- JSON 1.1 errors ------------------------------------------------- */

static sesctl_err parse_json_error(const char *body, long status,
				   struct iam_error *e, struct err_info *ei)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	sesctl_err rc;

	resp.status = status;
	snprintf(resp.request_id, sizeof(resp.request_id), "rid-1");
	assert_int_equal(secret_set(&resp.body, body, strlen(body)), SESCTL_OK);
	rc = aws_json_parse_error(&resp, "PutSecretValue", e, ei);
	http_response_release(&resp);
	return rc;
}

static void test_json_errors(void **state)
{
	struct iam_error e;
	struct err_info ei;

	(void)state;
	memset(&ei, 0, sizeof(ei));
	assert_int_equal(
		parse_json_error("{\"__type\":\"com.amazonaws.secretsmanager#"
				 "ResourceNotFoundException\",\"message\":"
				 "\"Secrets Manager can't find it.\"}",
				 400, &e, &ei),
		SESCTL_OK);
	assert_string_equal(e.code, "ResourceNotFoundException");
	assert_string_equal(e.message, "Secrets Manager can't find it.");
	assert_string_equal(e.request_id, "rid-1");
	assert_string_equal(e.type, "Sender");
	assert_int_equal(iam_xml_error_err(&e, 400), SESCTL_ERR_NOT_FOUND);

	/* "Message", and a ":http://..." tail after the name */
	assert_int_equal(
		parse_json_error("{\"__type\":\"ParameterAlreadyExists:http://"
				 "internal.amazon.com/coral/x/\",\"Message\":"
				 "\"exists\"}",
				 400, &e, &ei),
		SESCTL_OK);
	assert_string_equal(e.code, "ParameterAlreadyExists");
	assert_string_equal(e.message, "exists");
	assert_int_equal(iam_xml_error_err(&e, 400), SESCTL_ERR_CONFLICT);

	assert_int_equal(parse_json_error("{\"__type\":\"InternalServiceError\""
					  "}",
					  500, &e, &ei),
			 SESCTL_OK);
	assert_string_equal(e.type, "Receiver");
	assert_true(iam_xml_error_retryable(&e, 500));

	/* not an AWS error: HTML, JSON without __type, nothing */
	assert_int_equal(parse_json_error("<html>proxy</html>", 502, &e, &ei),
			 SESCTL_ERR_NETWORK);
	assert_non_null(strstr(ei.msg, "PutSecretValue"));
	assert_int_equal(parse_json_error("{\"message\":\"x\"}", 400, &e, &ei),
			 SESCTL_ERR_NETWORK);
	assert_int_equal(parse_json_error("", 400, &e, &ei),
			 SESCTL_ERR_NETWORK);
	assert_int_equal(parse_json_error("{\"__type\":\"ns#\"}", 400, &e,
					  &ei),
			 SESCTL_ERR_NETWORK);
}

/* ---- JSON 1.1 calls -------------------------------------------------- */

enum script { ANSWER_OK, THROTTLE_ONCE, FAIL_500, NOT_FOUND };

static char *json_reply(struct srv *s, unsigned seq, const char *body,
			int *status, const char **ctype)
{
	enum script how = *(enum script *)s->data;

	(void)body;
	*ctype = "application/x-amz-json-1.1";
	*status = 200;
	if (how == THROTTLE_ONCE && seq == 1) {
		*status = 400;
		return strdup("{\"__type\":\"ThrottlingException\","
			      "\"message\":\"Rate exceeded\"}");
	}
	if (how == FAIL_500) {
		*status = 500;
		return strdup("{\"__type\":\"InternalServiceError\","
			      "\"message\":\"oops\"}");
	}
	if (how == NOT_FOUND) {
		*status = 400;
		return strdup("{\"__type\":\"ResourceNotFoundException\","
			      "\"Message\":\"no such secret\"}");
	}
	return strdup("{\"ARN\":\"arn:aws:secretsmanager:eu-west-1:1:secret:"
		      "s-AbCdEf\",\"VersionId\":\"v1\"}");
}

struct fixture {
	struct srv srv;
	enum script how;
	struct ctx ctx;
	struct secret sk;
	struct aws_client c;
	char url[64];
};

static void fixture_open(struct fixture *f, enum script how)
{
	struct aws_config cfg;

	memset(f, 0, sizeof(*f));
	f->how = how;
	f->srv.reply = json_reply;
	f->srv.data = &f->how;
	srv_start(&f->srv);
	ctx_init(&f->ctx);
	assert_int_equal(secret_set(&f->sk,
				    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				    40),
			 SESCTL_OK);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/", f->srv.port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint_url = f->url;
	cfg.signing_region = "eu-west-1";
	cfg.access_key_id = "AKIAIOSFODNN7EXAMPLE";
	cfg.secret_key = &f->sk;
	cfg.max_attempts = 3;
	cfg.timeout_ms = 10000;
	assert_int_equal(aws_client_init(&f->c, &f->ctx, &json_svc, &cfg),
			 SESCTL_OK);
	f->c.retry_base_ms = 1;
}

static void fixture_close(struct fixture *f)
{
	aws_client_release(&f->c);
	srv_stop(&f->srv);
	secret_free(&f->sk);
}

static const char put_body[] =
	"{\"SecretId\":\"s\",\"SecretString\":\"{}\","
	"\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000000\"}";

static void test_json_call_framing(void **state)
{
	struct fixture f;
	struct secret answer = SECRET_INIT;
	struct iam_error ie;
	bool unknown = true;

	(void)state;
	fixture_open(&f, ANSWER_OK);
	assert_int_equal(aws_call(&f.c, "PutSecretValue", 0, put_body, &answer,
				  &ie, &unknown),
			 SESCTL_OK);
	assert_false(unknown);
	assert_non_null(strstr(secret_str(&answer), "\"VersionId\":\"v1\""));
	fixture_close(&f);
	assert_string_equal(f.srv.log[0], put_body);
	assert_non_null(strstr(f.srv.last_head,
			       "X-Amz-Target: secretsmanager.PutSecretValue"));
	assert_non_null(strstr(f.srv.last_head,
			       "Content-Type: application/x-amz-json-1.1"));
	/* the target and the content type are signed, for the service and
	 * region of the client */
	assert_non_null(strstr(f.srv.last_head,
			       "/eu-west-1/secretsmanager/aws4_request"));
	assert_non_null(strstr(f.srv.last_head,
			       "SignedHeaders=content-type;host;x-amz-date;"
			       "x-amz-target"));
	secret_free(&answer);
}

static void test_json_throttled_change_is_sent_again(void **state)
{
	struct fixture f;
	struct secret answer = SECRET_INIT;
	bool unknown = true;

	(void)state;
	fixture_open(&f, THROTTLE_ONCE);
	assert_int_equal(aws_call(&f.c, "PutSecretValue", 0, put_body, &answer,
				  NULL, &unknown),
			 SESCTL_OK);
	assert_false(unknown);
	assert_int_equal(f.c.requests, 2);
	fixture_close(&f);
	secret_free(&answer);
}

static void test_json_5xx_after_change_is_unknown(void **state)
{
	struct fixture f;
	struct secret answer = SECRET_INIT;
	struct iam_error ie;
	bool unknown = false;

	(void)state;
	fixture_open(&f, FAIL_500);
	assert_int_equal(aws_call(&f.c, "PutSecretValue", 0, put_body, &answer,
				  &ie, &unknown),
			 SESCTL_ERR_NETWORK);
	assert_true(unknown);
	assert_int_equal(f.c.requests, 1);
	assert_string_equal(ie.code, "InternalServiceError");
	assert_non_null(strstr(f.ctx.err.msg, "may or may not have been "
					      "applied"));
	fixture_close(&f);

	/* a read is retried instead */
	fixture_open(&f, FAIL_500);
	assert_int_equal(aws_call(&f.c, "GetSecretValue", AWS_READ, "{}",
				  &answer, &ie, &unknown),
			 SESCTL_ERR_NETWORK);
	assert_false(unknown);
	assert_int_equal(f.c.requests, 3);
	assert_non_null(strstr(f.ctx.err.msg, "gave up after 3 attempts"));
	fixture_close(&f);
	secret_free(&answer);
}

static void test_json_error_message(void **state)
{
	struct fixture f;
	struct secret answer = SECRET_INIT;
	struct iam_error ie;

	(void)state;
	fixture_open(&f, NOT_FOUND);
	assert_int_equal(aws_call(&f.c, "GetSecretValue", AWS_READ, "{}",
				  &answer, &ie, NULL),
			 SESCTL_ERR_NOT_FOUND);
	assert_int_equal(f.c.requests, 1);
	assert_string_equal(f.ctx.err.msg,
			    "Secrets Manager GetSecretValue: "
			    "ResourceNotFoundException: no such secret "
			    "(request id req-1)");
	fixture_close(&f);
	secret_free(&answer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_order),
		cmocka_unit_test(test_query_body),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_call_framing),
		cmocka_unit_test(test_json_throttled_change_is_sent_again),
		cmocka_unit_test(test_json_5xx_after_change_is_unknown),
		cmocka_unit_test(test_json_error_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
