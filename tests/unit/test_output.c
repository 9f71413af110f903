/* test_output.c - the policy sesctl writes (exactly DESIGN.md's text),
 * recognising it again (drift), multi-region renderings, the Kubernetes
 * Secret and its YAML quoting, and reading every format back. */
#include "testutil.h"

#include "sesctl/smtp/output.h"

#define DEFAULT_POLICY                                                       \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","   \
	"\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\"}]}"

static void test_output_policy_default(void **state)
{
	struct policy_spec s = { "aws", NULL, NULL, 0, NULL, 0, NULL, 0 };
	char *doc = NULL, desc[128];
	bool ok = false;

	(void)state;
	assert_int_equal(output_policy(&s, &doc), SESCTL_OK);
	assert_string_equal(doc, DEFAULT_POLICY);
	assert_int_equal(output_policy_check(doc, &ok, desc, sizeof(desc)),
			 SESCTL_OK);
	assert_true(ok);
	assert_string_equal(desc, "ses:SendRawEmail on any identity");
	free(doc);
}

static void test_output_policy_narrowed(void **state)
{
	static const char *const regions[] = { "eu-west-1", "us-east-1" };
	static const char *const ids[] = { "example.com" };
	static const char *const from[] = { "*@example.com", "a@example.org" };
	struct policy_spec s = { "aws", "123456789012", regions, 2, ids, 1,
				 from, 2 };
	char *doc = NULL, desc[256];
	bool ok = false;

	(void)state;
	assert_int_equal(output_policy(&s, &doc), SESCTL_OK);
	assert_string_equal(
		doc,
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
		"\"Action\":\"ses:SendRawEmail\",\"Resource\":["
		"\"arn:aws:ses:eu-west-1:123456789012:identity/example.com\","
		"\"arn:aws:ses:us-east-1:123456789012:identity/example.com\"],"
		"\"Condition\":{\"StringLike\":{\"ses:FromAddress\":["
		"\"*@example.com\",\"a@example.org\"]}}}]}");
	assert_int_equal(output_policy_check(doc, &ok, desc, sizeof(desc)),
			 SESCTL_OK);
	assert_true(ok);
	assert_non_null(strstr(desc, "example.com"));
	assert_non_null(strstr(desc, "2 regions"));
	free(doc);
	/* identities without an account cannot be written */
	s.account = NULL;
	assert_int_equal(output_policy(&s, &doc), SESCTL_ERR_INPUT);
	assert_null(doc);
}

static void test_output_policy_drift(void **state)
{
	static const char *const changed[] = {
		/* wider action */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:*\",\"Resource\":\"*\"}]}",
		/* a second statement */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\"}]}",
		/* another condition */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\","
		"\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"1.2.3.4\"}}}]}",
		/* a resource that is not an SES identity */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Allow\",\"Action\":\"ses:SendRawEmail\",\"Resource\":"
		"\"arn:aws:s3:::bucket\"}]}",
		/* Deny */
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
		"\"Deny\",\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\"}]}",
		"not json", "", "[]", "{}",
	};
	char desc[128];
	bool ok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		ok = true;
		assert_int_equal(output_policy_check(changed[i], &ok, desc,
						     sizeof(desc)),
				 SESCTL_OK);
		if (ok)
			fail_msg("case %zu taken for sesctl's policy", i);
	}
	/* whitespace is not drift: IAM may keep the author's formatting */
	ok = false;
	assert_int_equal(output_policy_check(
				 "{ \"Version\": \"2012-10-17\",\n \"Statement\": [ {"
				 "\"Effect\": \"Allow\", \"Action\": "
				 "\"ses:SendRawEmail\", \"Resource\": \"*\" } ] }",
				 &ok, desc, sizeof(desc)),
			 SESCTL_OK);
	assert_true(ok);
}

static void test_output_several_regions(void **state)
{
	struct secret p1 = SECRET_INIT, p2 = SECRET_INIT, out = SECRET_INIT;
	struct smtp_creds c[2];

	(void)state;
	assert_int_equal(secret_set(&p1, "BPASS1", 6), SESCTL_OK);
	assert_int_equal(secret_set(&p2, "BPASS2", 6), SESCTL_OK);
	c[0] = (struct smtp_creds){ "eu-west-1",
				    "email-smtp.eu-west-1.amazonaws.com", 587,
				    "AKIAX", &p1 };
	c[1] = (struct smtp_creds){ "us-east-1",
				    "email-smtp.us-east-1.amazonaws.com", 587,
				    "AKIAX", &p2 };
	assert_int_equal(output_render(output_lookup("env"), c, 2, NULL,
				       &out),
			 SESCTL_OK);
	assert_string_equal(secret_str(&out),
			    "SMTP_USER=AKIAX\n"
			    "SMTP_HOST_EU_WEST_1=email-smtp.eu-west-1.amazonaws.com\n"
			    "SMTP_PORT_EU_WEST_1=587\n"
			    "SMTP_PASS_EU_WEST_1=BPASS1\n"
			    "SMTP_HOST_US_EAST_1=email-smtp.us-east-1.amazonaws.com\n"
			    "SMTP_PORT_US_EAST_1=587\n"
			    "SMTP_PASS_US_EAST_1=BPASS2\n");
	assert_int_equal(output_render(output_lookup("postfix"), c, 2, NULL,
				       &out),
			 SESCTL_OK);
	assert_string_equal(secret_str(&out),
			    "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAX:BPASS1\n"
			    "[email-smtp.us-east-1.amazonaws.com]:587 AKIAX:BPASS2\n");
	/* json: one object whatever the number of regions; json-array (not
	 * a --format: for files earlier versions wrote) an array. */
	assert_int_equal(output_render(output_lookup("json"), c, 2, NULL,
				       &out),
			 SESCTL_OK);
	assert_int_equal(secret_str(&out)[0], '{');
	assert_non_null(strstr(secret_str(&out),
			       "\"schema\":\"sesctl/smtp-settings/1\""));
	assert_non_null(strstr(secret_str(&out), "\"regions\":[{"));
	assert_int_equal(output_render(output_lookup("json-array"), c, 2, NULL,
				       &out),
			 SESCTL_OK);
	assert_int_equal(secret_str(&out)[0], '[');
	assert_int_equal(output_render(output_lookup("env"), c, 0, NULL,
				       &out),
			 SESCTL_ERR_INPUT);
	c[1].user = NULL;
	assert_int_equal(output_render(output_lookup("postfix"), c, 2, NULL,
				       &out),
			 SESCTL_ERR_INPUT);
	secret_free(&p1);
	secret_free(&p2);
	secret_free(&out);
}


/* ---- reading settings back ------------------------------------------ */

static struct smtp_settings *parse_ok(const char *text)
{
	struct smtp_settings *s = calloc(1, sizeof(*s));
	struct err_info err = { SESCTL_OK, "", "" };

	memset(&err, 0, sizeof(err));
	assert_non_null(s);
	if (output_parse(&err, text, strlen(text), "'f'", s) != SESCTL_OK)
		fail_msg("parse failed: %s", err.msg);
	return s;
}

static void parse_fails(const char *text, const char *msg_part)
{
	struct smtp_settings *s = calloc(1, sizeof(*s));
	struct err_info err = { SESCTL_OK, "", "" };

	memset(&err, 0, sizeof(err));
	assert_non_null(s);
	assert_int_equal(output_parse(&err, text, strlen(text), "'f'", s),
			 SESCTL_ERR_INPUT);
	if (!strstr(err.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
	/* Messages never quote a value: the password must not be in it. */
	assert_null(strstr(err.msg, "BPASS"));
	output_settings_release(s);
	free(s);
}

static void release(struct smtp_settings *s)
{
	output_settings_release(s);
	free(s);
}

/* Every format sesctl writes reads back to what was written, one region
 * and several; passwords with the characters base64 uses. */
static void test_output_parse_round_trip(void **state)
{
	static const char *const regions[] = { "eu-west-1", "us-east-1" };
	struct secret pw[2] = { SECRET_INIT, SECRET_INIT }, out = SECRET_INIT;
	struct smtp_creds c[2];
	const struct output_meta meta = { "smtp.example-1", "mail" };
	const struct output_format *fmts;
	size_t nf, i, n, k;

	(void)state;
	assert_int_equal(secret_set(&pw[0], "BA4s+gz/Xj9k=", 13), SESCTL_OK);
	assert_int_equal(secret_set(&pw[1], "BPzt/+Aa", 8), SESCTL_OK);
	for (i = 0; i < 2; i++) {
		c[i].region = regions[i];
		c[i].host = i ? "email-smtp.us-east-1.amazonaws.com" :
				"email-smtp.eu-west-1.amazonaws.com";
		c[i].port = i ? 587 : 465;
		c[i].user = "AKIAIOSFODNN7EXAMPLE";
		c[i].password = &pw[i];
	}
	fmts = output_formats(&nf);
	for (i = 0; i < nf; i++) {
		for (n = 1; n <= 2; n++) {
			struct smtp_settings *s;

			assert_int_equal(output_render(&fmts[i], c, n, &meta,
						       &out),
					 SESCTL_OK);
			s = parse_ok(secret_str(&out));
			if (s->n != n)
				fail_msg("%s, %zu regions: read %zu back",
					 fmts[i].name, n, s->n);
			/* The format comes back too, so rotate can write
			 * the same kind of file again. */
			if (s->format != &fmts[i])
				fail_msg("%s, %zu regions: read back as %s",
					 fmts[i].name, n,
					 s->format ? s->format->name : "NULL");
			assert_ptr_equal(output_lookup(s->format->name),
					 &fmts[i]);
			/* A Secret's name and namespace too. */
			if (fmts[i].flags & OUTPUT_NEEDS_K8S_NAME) {
				assert_string_equal(s->k8s_name,
						    "smtp.example-1");
				assert_string_equal(s->k8s_namespace, "mail");
			} else {
				assert_string_equal(s->k8s_name, "");
			}
			for (k = 0; k < n; k++) {
				assert_string_equal(s->item[k].user,
						    "AKIAIOSFODNN7EXAMPLE");
				assert_string_equal(s->item[k].host, c[k].host);
				assert_string_equal(s->item[k].region,
						    regions[k]);
				assert_int_equal(s->item[k].port, c[k].port);
				assert_int_equal(s->item[k].password.len,
						 pw[k].len);
				assert_memory_equal(s->item[k].password.p,
						    pw[k].p, pw[k].len);
			}
			release(s);
		}
	}
	secret_free(&out);
	secret_free(&pw[0]);
	secret_free(&pw[1]);
}

/* What people write by hand: comments, blanks, CRLF, export without
 * quotes, other variables around. */
static void test_output_parse_by_hand(void **state)
{
	struct smtp_settings *s;

	(void)state;
	s = parse_ok("# smtp\r\n\r\nAPP=1\r\nexport SMTP_USER=AKIAX\r\n"
		     "  SMTP_PASS='BPASS'  # the password\r\n");
	assert_int_equal(s->n, 1);
	assert_string_equal(s->item[0].user, "AKIAX");
	assert_string_equal(secret_str(&s->item[0].password), "BPASS");
	assert_string_equal(s->item[0].host, "");
	assert_int_equal(s->item[0].port, 0);
	assert_string_equal(s->format->name, "export");
	release(s);

	/* Shell and dotenv quoting undone. */
	s = parse_ok("export SMTP_USER='AKIAX'\nexport SMTP_PASS='B'\\''P\"$'"
		     "\nSMTP_PORT=\"2587\"\n");
	assert_string_equal(secret_str(&s->item[0].password), "B'P\"$");
	assert_int_equal(s->item[0].port, 2587);
	release(s);
	s = parse_ok("SMTP_USER=\"AKIAX\"\nSMTP_PASS=\"B\\\"P\\$\\\\\"\n");
	assert_string_equal(secret_str(&s->item[0].password), "B\"P$\\");
	assert_string_equal(s->format->name, "dotenv");
	release(s);

	/* A VPC endpoint still names the region. */
	s = parse_ok("SMTP_HOST=vpce-1.email-smtp.ap-south-1.vpce.amazonaws."
		     "com\nSMTP_USER=AKIAX\nSMTP_PASS=BPASS\n");
	assert_string_equal(s->item[0].region, "ap-south-1");
	release(s);
	/* A host that is not SES's names none. */
	s = parse_ok("SMTP_HOST=mail.example.com\nSMTP_USER=AKIAX\n"
		     "SMTP_PASS=BPASS\n");
	assert_string_equal(s->item[0].region, "");
	release(s);
}

/* The format is told by the first SMTP_* line; other variables around it
 * do not count.  A JSON "region" names the region of a host that is not
 * SES's own; an SES host wins over it. */
static void test_output_parse_format(void **state)
{
	struct smtp_settings *s;

	(void)state;
	s = parse_ok("APP=\"x\"\nexport OTHER=1\nSMTP_USER=AKIAX\n"
		     "SMTP_PASS=BPASS\n");
	assert_string_equal(s->format->name, "env");
	release(s);
	s = parse_ok("APP=1\nSMTP_USER=\"AKIAX\"\nSMTP_PASS=\"BPASS\"\n");
	assert_string_equal(s->format->name, "dotenv");
	release(s);
	s = parse_ok("# x\nexport SMTP_USER='AKIAX'\nexport SMTP_PASS='BP'\n");
	assert_string_equal(s->format->name, "export");
	release(s);
	s = parse_ok("  [ {\"user\":\"AKIAX\",\"password\":\"BPASS\","
		     "\"region\":\"eu-west-1\",\"host\":\"mail.example.com\"},"
		     "{\"user\":\"AKIAX\",\"password\":\"BPASS2\","
		     "\"region\":\"eu-west-1\",\"host\":"
		     "\"email-smtp.us-east-1.amazonaws.com\"},"
		     "{\"user\":\"AKIAX\",\"password\":\"BPASS3\","
		     "\"region\":\"not a region\"} ]");
	/* the array earlier versions wrote: written back as one */
	assert_string_equal(s->format->name, "json-array");
	assert_int_equal(s->n, 3);
	assert_string_equal(s->item[0].region, "eu-west-1");
	assert_string_equal(s->item[1].region, "us-east-1");
	assert_string_equal(s->item[2].region, "");
	release(s);
	s = parse_ok("{\"region\":\"eu-west-1\",\"user\":\"AKIAX\","
		     "\"password\":\"BPASS\",\"schema\":\"sesctl/smtp-settings/1\","
		     "\"regions\":[{\"region\":\"eu-west-1\",\"password\":"
		     "\"BPASS\"},{\"region\":\"us-east-1\",\"password\":"
		     "\"BPASS2\"}]}");
	assert_string_equal(s->format->name, "json");
	assert_int_equal(s->n, 2);
	assert_string_equal(s->item[1].region, "us-east-1");
	assert_string_equal(s->item[1].user, "AKIAX");
	assert_string_equal(secret_str(&s->item[1].password), "BPASS2");
	release(s);
	s = parse_ok("\n[email-smtp.us-east-1.amazonaws.com]:587 AKIAX:BPASS\n");
	assert_string_equal(s->format->name, "postfix");
	release(s);
}

static void test_output_parse_bad(void **state)
{
	(void)state;
	parse_fails("", "is empty");
	parse_fails(" \n\t\n", "is empty");
	parse_fails("HELLO=1\n", "has no SMTP settings");
	parse_fails("SMTP_USER=AKIAX\n", "has no SMTP_PASS");
	parse_fails("SMTP_PASS=BPASS\n", "has no SMTP_USER");
	parse_fails("SMTP_USER=AKIAX\nSMTP_PASS='BPASS\n", "line 2: a quote");
	parse_fails("SMTP_USER=AKIAX\nSMTP_PORT=58x7\nSMTP_PASS=BPASS\n",
		    "line 2: the value of SMTP_PORT");
	parse_fails("SMTP_USER=AKIAX\nSMTP_PORT=70000\nSMTP_PASS=BPASS\n",
		    "SMTP_PORT");
	parse_fails("SMTP_USER=AKIAX\nSMTP_PASS_EU_WEST_1=BPASS\n"
		    "SMTP_HOST_US_EAST_1=email-smtp.us-east-1.amazonaws.com\n",
		    "has no SMTP_PASS_US_EAST_1");
	parse_fails("{\"user\":\"AKIAX\",\"password\":\"BPASS\"",
		    "not valid JSON");
	parse_fails("{\"user\":\"AKIAX\"}", "has no SMTP_PASS");
	parse_fails("[{\"user\":\"AKIAX\",\"password\":\"BPASS\"}, 3]",
		    "is not SMTP settings");
	parse_fails("[email-smtp.us-east-1.amazonaws.com]:587 AKIAX-BPASS\n",
		    "line 1 is not a postfix");
	parse_fails("[email-smtp.us-east-1.amazonaws.com]587 AKIAX:BPASS\n",
		    "line 1 is not a postfix");
	parse_fails("[email-smtp.us-east-1.amazonaws.com]:5x7 AKIAX:BPASS\n",
		    "line 1 is not a postfix");
}

/* ---- k8s-secret ------------------------------------------------------ */

/* The Secret, exactly: one region with a namespace, several without;
 * no valid name, no Secret. */
static void test_output_k8s_secret(void **state)
{
	struct secret p1 = SECRET_INIT, p2 = SECRET_INIT, out = SECRET_INIT;
	const struct output_format *k8s = output_lookup("k8s-secret");
	struct output_meta meta = { "sesctl-smtp-blog", "mail" };
	struct smtp_creds c[2];

	(void)state;
	assert_non_null(k8s);
	assert_int_equal(secret_set(&p1, "BA+/=1", 6), SESCTL_OK);
	assert_int_equal(secret_set(&p2, "BPASS2", 6), SESCTL_OK);
	c[0] = (struct smtp_creds){ "eu-west-1",
				    "email-smtp.eu-west-1.amazonaws.com", 587,
				    "AKIAX", &p1 };
	c[1] = (struct smtp_creds){ "us-east-1",
				    "email-smtp.us-east-1.amazonaws.com", 587,
				    "AKIAX", &p2 };
	assert_int_equal(output_render(k8s, c, 1, &meta, &out), SESCTL_OK);
	assert_string_equal(secret_str(&out),
			    "apiVersion: v1\n"
			    "kind: Secret\n"
			    "metadata:\n"
			    "  name: \"sesctl-smtp-blog\"\n"
			    "  namespace: \"mail\"\n"
			    "  labels:\n"
			    "    app.kubernetes.io/managed-by: \"sesctl\"\n"
			    "type: Opaque\n"
			    "stringData:\n"
			    "  SMTP_HOST: \"email-smtp.eu-west-1.amazonaws.com\"\n"
			    "  SMTP_PORT: \"587\"\n"
			    "  SMTP_USER: \"AKIAX\"\n"
			    "  SMTP_PASS: \"BA+/=1\"\n");
	meta.k8s_namespace = NULL;
	assert_int_equal(output_render(k8s, c, 2, &meta, &out), SESCTL_OK);
	assert_string_equal(secret_str(&out),
			    "apiVersion: v1\n"
			    "kind: Secret\n"
			    "metadata:\n"
			    "  name: \"sesctl-smtp-blog\"\n"
			    "  labels:\n"
			    "    app.kubernetes.io/managed-by: \"sesctl\"\n"
			    "type: Opaque\n"
			    "stringData:\n"
			    "  SMTP_USER: \"AKIAX\"\n"
			    "  SMTP_HOST_EU_WEST_1: "
			    "\"email-smtp.eu-west-1.amazonaws.com\"\n"
			    "  SMTP_PORT_EU_WEST_1: \"587\"\n"
			    "  SMTP_PASS_EU_WEST_1: \"BA+/=1\"\n"
			    "  SMTP_HOST_US_EAST_1: "
			    "\"email-smtp.us-east-1.amazonaws.com\"\n"
			    "  SMTP_PORT_US_EAST_1: \"587\"\n"
			    "  SMTP_PASS_US_EAST_1: \"BPASS2\"\n");
	/* No name, or one Kubernetes refuses: nothing rendered. */
	assert_int_equal(output_render(k8s, c, 1, NULL, &out),
			 SESCTL_ERR_INPUT);
	assert_int_equal(out.len, 0);
	meta.k8s_name = "Sesctl_Smtp";
	assert_int_equal(output_render(k8s, c, 1, &meta, &out),
			 SESCTL_ERR_INPUT);
	meta.k8s_name = "ok";
	meta.k8s_namespace = "a.b";
	assert_int_equal(output_render(k8s, c, 1, &meta, &out),
			 SESCTL_ERR_INPUT);
	assert_int_equal(out.len, 0);
	secret_free(&p1);
	secret_free(&p2);
	secret_free(&out);
}

static void test_output_k8s_names(void **state)
{
	static const char *const subdomain_ok[] = {
		"a", "0", "sesctl-smtp", "smtp.example.com", "a-b.c-d", "123",
		"true", "x--y",
	};
	static const char *const subdomain_bad[] = {
		"", "A", "sesctl_smtp", "-a", "a-", ".a", "a.", "a..b", "a.-b",
		"a-.b", "a b", "a/b", "é", "a:b",
	};
	static const char *const label_ok[] = { "default", "mail-1", "0" };
	static const char *const label_bad[] = { "", "a.b", "Mail", "-a",
						  "a-", "a_b" };
	char long_name[K8S_NAME_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(subdomain_ok) / sizeof(*subdomain_ok); i++)
		if (!output_k8s_name_ok(subdomain_ok[i], false))
			fail_msg("'%s' refused", subdomain_ok[i]);
	for (i = 0; i < sizeof(subdomain_bad) / sizeof(*subdomain_bad); i++)
		if (output_k8s_name_ok(subdomain_bad[i], false))
			fail_msg("'%s' taken", subdomain_bad[i]);
	for (i = 0; i < sizeof(label_ok) / sizeof(*label_ok); i++)
		if (!output_k8s_name_ok(label_ok[i], true))
			fail_msg("namespace '%s' refused", label_ok[i]);
	for (i = 0; i < sizeof(label_bad) / sizeof(*label_bad); i++)
		if (output_k8s_name_ok(label_bad[i], true))
			fail_msg("namespace '%s' taken", label_bad[i]);
	/* The lengths: 253 for a name, 63 for a namespace. */
	memset(long_name, 'a', sizeof(long_name));
	long_name[K8S_NAME_MAX] = '\0';
	assert_true(output_k8s_name_ok(long_name, false));
	assert_false(output_k8s_name_ok(long_name, true));
	long_name[K8S_NAME_MAX] = 'a';
	long_name[K8S_NAME_MAX + 1] = '\0';
	assert_false(output_k8s_name_ok(long_name, false));
	long_name[K8S_NAMESPACE_MAX] = '\0';
	assert_true(output_k8s_name_ok(long_name, true));
	long_name[K8S_NAMESPACE_MAX] = 'a';
	long_name[K8S_NAMESPACE_MAX + 1] = '\0';
	assert_false(output_k8s_name_ok(long_name, true));
}

/* YAML double quotes: each escape, and back again. */
static void test_output_yaml_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "BA4s+gz/Xj9k=", "\"BA4s+gz/Xj9k=\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "#: -? {}[],&*!|>'%@`", "\"#: -? {}[],&*!|>'%@`\"" },
		{ "tab\there\nline\r\x01\x1f\x7f", "\"tab\\x09here\\x0Aline\\x0D"
						   "\\x01\\x1F\\x7F\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
		{ "\xc2\x85|\xe2\x80\xa8|\xef\xbb\xbf|\xef\xbf\xbf",
		  "\"\\x85|\\u2028|\\uFEFF|\\uFFFF\"" },
		{ "\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\"" },
	};
	static const char *const not_utf8[] = {
		"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82",
	};
	static const char *const not_ours[] = {
		"", "\"", "abc", "\"a\"b\"", "\"a\\n\"", "\"a\\x41\"",
		"\"\\x0\"", "\"\\u00\"", "\"\\u0000\"", "\"a\tb\"", "\"a\\\"",
		"\"\xff\"", "'a'", "\"a\" ", "\"\\U0001F4E7\"",
	};
	struct secret o = SECRET_INIT, back = SECRET_INIT;
	size_t i;
	bool ok;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		secret_clear(&o);
		assert_int_equal(output_yaml_quote(&o, cases[i].in), SESCTL_OK);
		assert_string_equal(secret_str(&o), cases[i].out);
		assert_int_equal(output_yaml_unquote(secret_str(&o), o.len,
						     &back, &ok),
				 SESCTL_OK);
		if (!ok)
			fail_msg("%s not read back", cases[i].out);
		assert_string_equal(secret_str(&back), cases[i].in);
	}
	for (i = 0; i < sizeof(not_utf8) / sizeof(*not_utf8); i++) {
		secret_clear(&o);
		assert_int_equal(output_yaml_quote(&o, not_utf8[i]),
				 SESCTL_ERR_INPUT);
	}
	for (i = 0; i < sizeof(not_ours) / sizeof(*not_ours); i++) {
		assert_int_equal(output_yaml_unquote(not_ours[i],
						     strlen(not_ours[i]),
						     &back, &ok),
				 SESCTL_OK);
		if (ok)
			fail_msg("%s taken", not_ours[i]);
		assert_int_equal(back.len, 0);
	}
	secret_free(&o);
	secret_free(&back);
}

#define K8S_HEAD                                                             \
	"apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"app\"\n"
#define K8S_LABELS                                                           \
	"  labels:\n    app.kubernetes.io/managed-by: \"sesctl\"\n"         \
	"type: Opaque\nstringData:\n"
#define K8S_DATA "  SMTP_USER: \"AKIAX\"\n  SMTP_PASS: \"BPASS\"\n"

/* A Secret is read strictly: what sesctl writes, nothing else. */
static void test_output_parse_k8s(void **state)
{
	struct smtp_settings *s;

	(void)state;
	s = parse_ok(K8S_HEAD K8S_LABELS K8S_DATA "\n");
	assert_string_equal(s->format->name, "k8s-secret");
	assert_string_equal(s->k8s_name, "app");
	assert_string_equal(s->k8s_namespace, "");
	assert_string_equal(s->item[0].user, "AKIAX");
	assert_string_equal(secret_str(&s->item[0].password), "BPASS");
	release(s);
	/* CRLF line ends (an editor's) are the same lines. */
	s = parse_ok("apiVersion: v1\r\nkind: Secret\r\nmetadata:\r\n  name: "
		     "\"app\"\r\n  namespace: \"ns\"\r\n  labels:\r\n    "
		     "app.kubernetes.io/managed-by: \"sesctl\"\r\ntype: "
		     "Opaque\r\nstringData:\r\n  SMTP_USER: \"AKIAX\"\r\n  "
		     "SMTP_PASS: \"B\\\"P\\x0A\"\r\n");
	assert_string_equal(s->k8s_namespace, "ns");
	assert_string_equal(secret_str(&s->item[0].password), "B\"P\n");
	release(s);

	parse_fails("---\n" K8S_HEAD K8S_LABELS K8S_DATA,
		    "line 1 should be 'apiVersion: v1'");
	parse_fails("kind: Secret\n", "line 1 should be 'apiVersion: v1'");
	parse_fails("apiVersion: v1\nkind: ConfigMap\n",
		    "line 2 should be 'kind: Secret'");
	parse_fails("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n",
		    "line 4 should be the name");
	parse_fails("apiVersion: v1\nkind: Secret\nmetadata:\n  name: "
		    "\"App\"\n",
		    "line 4: the name is not a DNS-1123 subdomain");
	parse_fails(K8S_HEAD "  namespace: \"a.b\"\n",
		    "line 5: the namespace is not a DNS-1123 label");
	parse_fails(K8S_HEAD "  labels:\n    app: \"x\"\n",
		    "line 6 should be '    app.kubernetes.io/managed-by: "
		    "\"sesctl\"'");
	parse_fails(K8S_HEAD K8S_LABELS "  OTHER: \"x\"\n" K8S_DATA,
		    "line 9 is not an SMTP_HOST, SMTP_PORT, SMTP_USER or "
		    "SMTP_PASS entry");
	parse_fails(K8S_HEAD K8S_LABELS "  smtp_user: \"x\"\n",
		    "line 9 is not an SMTP_HOST");
	parse_fails(K8S_HEAD K8S_LABELS "  SMTP_USER: AKIAX\n",
		    "line 9: the value of SMTP_USER is not one double-quoted");
	parse_fails(K8S_HEAD K8S_LABELS "  SMTP_PASS: \"BPASS\" # x\n",
		    "line 9: the value of SMTP_PASS is not one");
	parse_fails(K8S_HEAD K8S_LABELS "  SMTP_PASS:\n",
		    "line 9: the value of SMTP_PASS is not one");
	parse_fails(K8S_HEAD K8S_LABELS K8S_DATA "  SMTP_PASS: \"BPASS2\"\n",
		    "line 11: SMTP_PASS is given twice");
	parse_fails(K8S_HEAD K8S_LABELS "  SMTP_PORT: \"x\"\n",
		    "line 9: the value of SMTP_PORT is not valid");
	parse_fails(K8S_HEAD K8S_LABELS K8S_DATA "\ndata:\n",
		    "line 12 follows a blank line");
	parse_fails(K8S_HEAD K8S_LABELS, "with no SMTP settings");
	parse_fails(K8S_HEAD K8S_LABELS "  SMTP_USER: \"AKIAX\"\n",
		    "has no SMTP_PASS");
	parse_fails(K8S_HEAD, "line 5 should be '  labels:'");
}

static void test_output_policy_allows_region(void **state)
{
	const char *any = "{\"Version\":\"2012-10-17\",\"Statement\":[{"
			  "\"Effect\":\"Allow\",\"Action\":"
			  "\"ses:SendRawEmail\",\"Resource\":\"*\"}]}";
	const char *one = "{\"Statement\":[{\"Effect\":\"Allow\","
			  "\"Resource\":[\"arn:aws:ses:us-east-1:1:"
			  "identity/a.example\",\"arn:aws:ses:eu-west-1:1:"
			  "identity/a.example\"]}]}";
	const char *odd = "{\"Statement\":[{\"Resource\":"
			  "\"arn:aws:s3:::bucket\"}]}";

	(void)state;
	assert_true(output_policy_allows_region(any, "ap-south-1"));
	assert_true(output_policy_allows_region(one, "us-east-1"));
	assert_true(output_policy_allows_region(one, "eu-west-1"));
	assert_false(output_policy_allows_region(one, "ap-south-1"));
	/* What sesctl cannot read never says no. */
	assert_true(output_policy_allows_region("not json", "ap-south-1"));
	assert_true(output_policy_allows_region(odd, "ap-south-1"));
	/* No statement allows nothing. */
	assert_false(output_policy_allows_region("{\"Statement\":[]}",
						 "us-east-1"));
}

static void test_output_policy_document(void **state)
{
	const char *one[] = { "iam:ListUsers" };
	const char *two[] = { "iam:GetUser", "iam:TagUser" };
	const char *any[] = { "*" };
	const char *users[] = { "arn:aws:iam::123456789012:user/sesctl/*" };
	const struct policy_statement st[] = {
		{ "Reads", two, 2, users, 1 },
		{ "List\"All", one, 1, any, 1 },
	};
	const struct policy_statement empty[] = { { "None", two, 0, any, 1 } };
	char *doc = NULL;

	(void)state;
	assert_int_equal(output_policy_document(st, 2, &doc), SESCTL_OK);
	assert_string_equal(
		doc, "{\n"
		     "    \"Version\": \"2012-10-17\",\n"
		     "    \"Statement\": [\n"
		     "        {\n"
		     "            \"Sid\": \"Reads\",\n"
		     "            \"Effect\": \"Allow\",\n"
		     "            \"Action\": [\n"
		     "                \"iam:GetUser\",\n"
		     "                \"iam:TagUser\"\n"
		     "            ],\n"
		     "            \"Resource\": "
		     "\"arn:aws:iam::123456789012:user/sesctl/*\"\n"
		     "        },\n"
		     "        {\n"
		     "            \"Sid\": \"List\\\"All\",\n"
		     "            \"Effect\": \"Allow\",\n"
		     "            \"Action\": \"iam:ListUsers\",\n"
		     "            \"Resource\": \"*\"\n"
		     "        }\n"
		     "    ]\n"
		     "}\n");
	free(doc);
	doc = NULL;
	assert_int_equal(output_policy_document(st, 0, &doc), SESCTL_OK);
	assert_string_equal(doc, "{\n    \"Version\": \"2012-10-17\",\n"
				 "    \"Statement\": []\n}\n");
	free(doc);
	doc = NULL;
	/* A statement that allows nothing is no statement IAM takes. */
	assert_int_equal(output_policy_document(empty, 1, &doc),
			 SESCTL_ERR_INPUT);
	assert_null(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_policy_default),
		cmocka_unit_test(test_output_policy_narrowed),
		cmocka_unit_test(test_output_policy_drift),
		cmocka_unit_test(test_output_several_regions),
		cmocka_unit_test(test_output_parse_round_trip),
		cmocka_unit_test(test_output_parse_by_hand),
		cmocka_unit_test(test_output_parse_format),
		cmocka_unit_test(test_output_parse_bad),
		cmocka_unit_test(test_output_k8s_secret),
		cmocka_unit_test(test_output_k8s_names),
		cmocka_unit_test(test_output_yaml_quote),
		cmocka_unit_test(test_output_parse_k8s),
		cmocka_unit_test(test_output_policy_allows_region),
		cmocka_unit_test(test_output_policy_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
