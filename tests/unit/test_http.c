/* test_http.c - what --debug may print: redaction of secrets in XML, JSON
 * and form bodies; URL checks (https only, http to loopback); requests
 * started together really overlap (against a loopback server that answers
 * nothing until they all wait), each with its own answer, error, body cap
 * and "#N" debug prefix, on connections that later requests reuse. */
#include "testutil.h"

#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "sesctl/base/ctx.h"
#include "sesctl/aws/http.h"

#include "loopback_server.h"

static void check_redact(const char *in, const char *want)
{
	char *got = http_redact(in, strlen(in));

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("redact(%s)\n got: %s\nwant: %s", in, got, want);
	free(got);
}

static void test_http_redact_xml(void **state)
{
	(void)state;
	check_redact("<CreateAccessKeyResult><AccessKey><UserName>u</UserName>"
		     "<AccessKeyId>AKIAX</AccessKeyId><Status>Active</Status>"
		     "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>"
		     "</AccessKey></CreateAccessKeyResult>",
		     "<CreateAccessKeyResult><AccessKey><UserName>u</UserName>"
		     "<AccessKeyId>AKIAX</AccessKeyId><Status>Active</Status>"
		     "<SecretAccessKey><redacted></SecretAccessKey>"
		     "</AccessKey></CreateAccessKeyResult>");
	/* namespace prefixes, whitespace inside, STS session tokens */
	check_redact("<x:SecretAccessKey>\n  abc\n</x:SecretAccessKey>",
		     "<x:SecretAccessKey><redacted></x:SecretAccessKey>");
	check_redact("<Credentials><SessionToken>AQoD//+x==</SessionToken>"
		     "<Expiration>2026</Expiration></Credentials>",
		     "<Credentials><SessionToken><redacted></SessionToken>"
		     "<Expiration>2026</Expiration></Credentials>");
	check_redact("<ServicePassword a=\"1\">pw</ServicePassword>",
		     "<ServicePassword a=\"1\"><redacted></ServicePassword>");
	/* empty elements and ordinary ones are left alone */
	check_redact("<SecretAccessKey/><UserName>x</UserName>",
		     "<SecretAccessKey/><UserName>x</UserName>");
	/* truncated input does not leak the rest or crash */
	check_redact("<SecretAccessKey>abc", "<SecretAccessKey><redacted>");
	check_redact("<SecretAccess", "<SecretAccess");
}

static void test_http_redact_json_and_form(void **state)
{
	(void)state;
	check_redact("{\"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\": \"s/e+c\", "
		     "\"Token\":\"t\\\"q\", \"Expiration\": \"2026\"}",
		     "{\"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\": "
		     "\"<redacted>\", \"Token\":\"<redacted>\", \"Expiration\": "
		     "\"2026\"}");
	check_redact("Action=X&Version=1&SecretAccessKey=abc&UserName=u",
		     "Action=X&Version=1&SecretAccessKey=<redacted>&UserName=u");
	check_redact("Action=ListUsers&Version=2010-05-08",
		     "Action=ListUsers&Version=2010-05-08");
	check_redact("", "");
}

static void test_http_check_url(void **state)
{
	static const struct {
		const char *url;
		sesctl_err want;
	} cases[] = {
		{ "https://iam.amazonaws.com", SESCTL_OK },
		{ "https://iam.amazonaws.com/", SESCTL_OK },
		{ "https://127.0.0.1:8443", SESCTL_OK },
		{ "http://127.0.0.1:8080", SESCTL_OK },
		{ "http://localhost:8080/", SESCTL_OK },
		{ "http://[::1]:8080", SESCTL_OK },
		{ "http://iam.amazonaws.com", SESCTL_ERR_USAGE },
		{ "http://127.0.0.1.evil.example:80", SESCTL_ERR_USAGE },
		{ "http://10.0.0.1", SESCTL_ERR_USAGE },
		{ "ftp://iam.amazonaws.com", SESCTL_ERR_USAGE },
		{ "not a url", SESCTL_ERR_USAGE },
		{ "", SESCTL_ERR_USAGE },
	};
	struct ctx ctx;
	size_t i;

	(void)state;
	ctx_init(&ctx);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (http_check_url(&ctx, cases[i].url) != cases[i].want)
			fail_msg("'%s': want %s", cases[i].url,
				 err_name(cases[i].want));
}

static void test_http_url_parts(void **state)
{
	struct ctx ctx;
	char host[64], path[64], tiny[4];

	(void)state;
	ctx_init(&ctx);
	assert_int_equal(http_url_parts(&ctx, "https://iam.amazonaws.com", host,
					sizeof(host), path, sizeof(path)),
			 SESCTL_OK);
	assert_string_equal(host, "iam.amazonaws.com");
	assert_string_equal(path, "/");
	assert_int_equal(http_url_parts(&ctx, "https://127.0.0.1:8443/iam/",
					host, sizeof(host), path,
					sizeof(path)),
			 SESCTL_OK);
	assert_string_equal(host, "127.0.0.1:8443");
	assert_string_equal(path, "/iam/");
	/* a default port is not part of the Host header libcurl sends */
	assert_int_equal(http_url_parts(&ctx, "https://iam.amazonaws.com:443/",
					host, sizeof(host), path,
					sizeof(path)),
			 SESCTL_OK);
	assert_string_equal(host, "iam.amazonaws.com");
	assert_int_equal(http_url_parts(&ctx, "https://x.example/?a=b", host,
					sizeof(host), path, sizeof(path)),
			 SESCTL_ERR_USAGE);
	assert_int_equal(http_url_parts(&ctx, "https://u:p@x.example/", host,
					sizeof(host), path, sizeof(path)),
			 SESCTL_ERR_USAGE);
	assert_int_equal(http_url_parts(&ctx, "https://iam.amazonaws.com", tiny,
					sizeof(tiny), path, sizeof(path)),
			 SESCTL_ERR_USAGE);
}

/* Echo the request's N=<digits> back in an answer that holds a secret;
 * N=big gets an answer over the 1 MiB cap. */
static char *echo_reply(struct srv *s, unsigned seq, const char *body,
			int *status, const char **ctype)
{
	const char *n = strstr(body, "N=");
	char id[16] = "?";
	char *out;
	size_t i;

	(void)s;
	(void)seq;
	(void)ctype;
	*status = 200;
	for (i = 0; n && n[2 + i] && n[2 + i] != '&' && i < sizeof(id) - 1; i++)
		id[i] = n[2 + i];
	if (n)
		id[i] = '\0';
	if (strcmp(id, "big") == 0) {
		out = malloc(((size_t)2 << 20) + 1);
		assert_non_null(out);
		memset(out, 'x', (size_t)2 << 20);
		out[(size_t)2 << 20] = '\0';
		return out;
	}
	out = malloc(256);
	assert_non_null(out);
	snprintf(out, 256,
		 "<R><N>%s</N><SecretAccessKey>s3cr3t-%s</SecretAccessKey></R>",
		 id, id);
	return out;
}

/* A debug log in a temporary file. */
static int debug_fd(void)
{
	char path[] = "/tmp/test_http_debug_XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static char *read_fd(int fd)
{
	char *buf;
	off_t len = lseek(fd, 0, SEEK_END);
	ssize_t n;

	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	n = pread(fd, buf, (size_t)len, 0);
	assert_int_equal(n, len);
	return buf;
}

struct job {
	char url[64], body[64];
	struct http_header hh[3];
	struct http_request req;
	struct http_response resp;
	struct err_info err;
	sesctl_err rc;
	unsigned id;
	bool done;
};

static void job_init(struct job *j, unsigned short port, const char *n)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->url, sizeof(j->url), "http://127.0.0.1:%u/", port);
	snprintf(j->body, sizeof(j->body), "Action=Test&N=%s&Password=hunter2",
		 n);
	j->hh[0] = (struct http_header){ "Content-Type",
					 "application/x-www-form-urlencoded" };
	j->hh[1] = (struct http_header){
		"Authorization",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, "
		"SignedHeaders=host, Signature=deadbeefcafe"
	};
	j->hh[2] = (struct http_header){ "X-Amz-Security-Token", "tok-secret" };
	j->req = (struct http_request){ "POST", j->url, j->hh, 3, j->body,
					strlen(j->body) };
	j->resp = (struct http_response)HTTP_RESPONSE_INIT;
}

/* Start every job, then poll until all are reported. */
static void run_jobs(struct http_client *c, struct job *jobs, size_t n)
{
	size_t i, polls = 0;

	for (i = 0; i < n; i++)
		assert_int_equal(http_start(c, &jobs[i].req, &jobs[i].resp,
					    &jobs[i].err, &jobs[i], &jobs[i].id),
				 SESCTL_OK);
	assert_int_equal(http_pending(c), n);
	while (http_pending(c) > 0) {
		void *tag = NULL;
		sesctl_err res;

		assert_int_equal(http_poll(c, 1000, &tag, &res), SESCTL_OK);
		assert_true(++polls < 100);
		if (tag) {
			struct job *j = tag;

			assert_false(j->done);
			j->done = true;
			j->rc = res;
		}
	}
	for (i = 0; i < n; i++)
		assert_true(jobs[i].done);
}

static void test_http_parallel_requests_overlap(void **state)
{
	struct srv srv;
	struct ctx ctx;
	struct http_options ho = { NULL, 5000, 10000 };
	struct http_client *c = NULL;
	struct job jobs[4], again;
	char n[4][4], *log, *line;
	size_t i;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.barrier = 4; /* nothing is answered before all four wait */
	srv.reply = echo_reply;
	srv_start(&srv);
	ctx_init(&ctx);
	ctx.debug = true;
	ctx.err_fd = debug_fd();
	assert_int_equal(http_client_new(&ctx, &ho, &c), SESCTL_OK);
	for (i = 0; i < 4; i++) {
		snprintf(n[i], sizeof(n[i]), "%zu", i + 1);
		job_init(&jobs[i], srv.port, n[i]);
	}
	run_jobs(c, jobs, 4);
	for (i = 0; i < 4; i++) {
		char want[32];

		assert_int_equal(jobs[i].rc, SESCTL_OK);
		assert_int_equal(jobs[i].resp.status, 200);
		assert_int_equal(jobs[i].resp.failure, HTTP_OK);
		assert_int_equal(jobs[i].resp.sends, 1);
		assert_int_equal(jobs[i].resp.new_connections, 1);
		assert_string_equal(jobs[i].resp.content_type, "text/xml");
		assert_int_equal(jobs[i].id, i + 1);
		snprintf(want, sizeof(want), "<N>%zu</N>", i + 1);
		assert_non_null(strstr(secret_str(&jobs[i].resp.body), want));
	}
	assert_int_equal(http_client_connections(c), 4);

	/* One after the other again: an idle connection is reused. */
	job_init(&again, srv.port, "5");
	assert_int_equal(http_send(c, &again.req, &again.resp), SESCTL_OK);
	assert_int_equal(again.resp.status, 200);
	assert_int_equal(again.resp.new_connections, 0);
	assert_int_equal(http_client_connections(c), 4);

	log = read_fd(ctx.err_fd);
	for (i = 1; i <= 4; i++) {
		char want[64];

		snprintf(want, sizeof(want), "debug: #%zu > POST / HTTP/1.1",
			 i);
		assert_non_null(strstr(log, want));
		snprintf(want, sizeof(want), "debug: #%zu < HTTP/1.1 200", i);
		assert_non_null(strstr(log, want));
	}
	/* http_send's lines carry no prefix. */
	assert_non_null(strstr(log, "debug: > POST / HTTP/1.1"));
	assert_non_null(strstr(log, "Signature=<redacted>"));
	assert_non_null(strstr(log, "X-Amz-Security-Token: <redacted>"));
	assert_non_null(strstr(log, "Password=<redacted>"));
	assert_non_null(strstr(log, "<SecretAccessKey><redacted></SecretAccessKey>"));
	assert_null(strstr(log, "deadbeef"));
	assert_null(strstr(log, "tok-secret"));
	assert_null(strstr(log, "hunter2"));
	assert_null(strstr(log, "s3cr3t"));
	/* Every line of a transfer says which it is. */
	for (line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "sesctl: debug: #", 16) == 0)
			assert_true(line[16] >= '1' && line[16] <= '4');
	free(log);

	for (i = 0; i < 4; i++)
		http_response_release(&jobs[i].resp);
	http_response_release(&again.resp);
	http_client_free(c);
	close(ctx.err_fd);
	srv_stop(&srv);
	assert_int_equal(srv.accepted, 4);
	assert_int_equal(srv.requests, 5);
	assert_true(srv.max_waiting >= 4);
}

static void test_http_parallel_body_cap(void **state)
{
	struct srv srv;
	struct ctx ctx;
	struct http_options ho = { NULL, 5000, 10000 };
	struct http_client *c = NULL;
	struct job jobs[3];
	size_t i;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.barrier = 3;
	srv.reply = echo_reply;
	srv_start(&srv);
	ctx_init(&ctx);
	assert_int_equal(http_client_new(&ctx, &ho, &c), SESCTL_OK);
	job_init(&jobs[0], srv.port, "1");
	job_init(&jobs[1], srv.port, "big");
	job_init(&jobs[2], srv.port, "3");
	run_jobs(c, jobs, 3);
	/* Only the oversized answer fails, with its own message. */
	assert_int_equal(jobs[1].rc, SESCTL_ERR_NETWORK);
	assert_int_equal(jobs[1].resp.failure, HTTP_TOO_LARGE);
	assert_int_equal(jobs[1].resp.body.len, 0);
	assert_non_null(strstr(jobs[1].err.msg, "larger than 1048576 bytes"));
	assert_int_equal(jobs[0].rc, SESCTL_OK);
	assert_int_equal(jobs[2].rc, SESCTL_OK);
	assert_string_equal(jobs[0].err.msg, "");
	assert_non_null(strstr(secret_str(&jobs[0].resp.body), "<N>1</N>"));
	assert_non_null(strstr(secret_str(&jobs[2].resp.body), "<N>3</N>"));
	for (i = 0; i < 3; i++)
		http_response_release(&jobs[i].resp);
	http_client_free(c);
	srv_stop(&srv);
}

static void test_http_start_limit_and_cancel(void **state)
{
	struct srv srv;
	struct ctx ctx;
	struct http_options ho = { NULL, 5000, 10000 };
	struct http_client *c = NULL;
	struct job *jobs;
	void *tag = &srv;
	sesctl_err res;
	size_t i;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.never = true;
	srv.reply = echo_reply;
	srv_start(&srv);
	ctx_init(&ctx);
	jobs = calloc(HTTP_MAX_PARALLEL + 1, sizeof(*jobs));
	assert_non_null(jobs);
	assert_int_equal(http_client_new(&ctx, &ho, &c), SESCTL_OK);
	for (i = 0; i <= HTTP_MAX_PARALLEL; i++)
		job_init(&jobs[i], srv.port, "1");
	for (i = 0; i < HTTP_MAX_PARALLEL; i++)
		assert_int_equal(http_start(c, &jobs[i].req, &jobs[i].resp,
					    &jobs[i].err, &jobs[i], NULL),
				 SESCTL_OK);
	/* One too many: refused, nothing sent. */
	assert_int_equal(http_start(c, &jobs[i].req, &jobs[i].resp,
				    &jobs[i].err, &jobs[i], NULL),
			 SESCTL_ERR_FAIL);
	assert_int_equal(jobs[i].resp.failure, HTTP_NOT_SENT);
	assert_non_null(strstr(jobs[i].err.msg, "at once"));
	/* Nothing answers: polling times out empty-handed. */
	assert_int_equal(http_poll(c, 50, &tag, &res), SESCTL_OK);
	assert_null(tag);
	assert_int_equal(http_pending(c), HTTP_MAX_PARALLEL);
	http_cancel(c);
	assert_int_equal(http_pending(c), 0);
	/* The client is still usable after a cancel. */
	assert_int_equal(http_poll(c, 0, &tag, &res), SESCTL_OK);
	assert_null(tag);
	http_client_free(c);
	for (i = 0; i <= HTTP_MAX_PARALLEL; i++)
		http_response_release(&jobs[i].resp);
	free(jobs);
	srv_stop(&srv);
}

/* A plain-http endpoint (loopback only) is never reached through a proxy,
 * whatever the environment says: the IAM answers, CreateAccessKey's secret
 * among them, would cross the proxy in the clear.  The "proxy" is a second
 * loopback server that would answer too; it must see no connection. */
static void test_http_plain_http_never_proxied(void **state)
{
	static const char *const vars[] = { "http_proxy", "HTTP_PROXY",
					    "ALL_PROXY", "all_proxy" };
	struct srv srv, proxy;
	struct ctx ctx;
	struct http_options ho = { NULL, 5000, 10000 };
	struct http_client *c = NULL;
	struct job j;
	char url[64];
	size_t i;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	memset(&proxy, 0, sizeof(proxy));
	srv.reply = echo_reply;
	proxy.reply = echo_reply;
	srv_start(&srv);
	srv_start(&proxy);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", proxy.port);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		assert_int_equal(setenv(vars[i], url, 1), 0);
	assert_int_equal(unsetenv("no_proxy"), 0);
	assert_int_equal(unsetenv("NO_PROXY"), 0);

	ctx_init(&ctx);
	assert_int_equal(http_client_new(&ctx, &ho, &c), SESCTL_OK);
	job_init(&j, srv.port, "1");
	assert_int_equal(http_send(c, &j.req, &j.resp), SESCTL_OK);
	assert_int_equal(j.resp.status, 200);
	assert_non_null(strstr(secret_str(&j.resp.body), "<N>1</N>"));
	http_response_release(&j.resp);
	http_client_free(c);

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		assert_int_equal(unsetenv(vars[i]), 0);
	srv_stop(&srv);
	srv_stop(&proxy);
	assert_int_equal(srv.requests, 1);
	assert_int_equal(proxy.accepted, 0);
	assert_int_equal(proxy.requests, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_redact_xml),
		cmocka_unit_test(test_http_redact_json_and_form),
		cmocka_unit_test(test_http_check_url),
		cmocka_unit_test(test_http_url_parts),
		cmocka_unit_test(test_http_parallel_requests_overlap),
		cmocka_unit_test(test_http_parallel_body_cap),
		cmocka_unit_test(test_http_start_limit_and_cancel),
		cmocka_unit_test(test_http_plain_http_never_proxied),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	http_global_cleanup();
	return rc;
}
