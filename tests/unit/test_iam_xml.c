/* test_iam_xml.c - IAM/STS response bodies: every fixture in
 * tests/fixtures/iam with every field checked, the quirks real bodies
 * have, and bodies that must be refused (malformed, truncated, HTML,
 * DOCTYPE/entity attacks, oversize, missing fields).
 *
 * Fixture sources (see ../shared/vectors/iam-api.md):
 *   <Action>.xml without a suffix: the AWS API Reference sample response,
 *     verbatim (ListUserPolicies: the copy in erlcloud's tests; GetUserPolicy:
 *     botocore's recorded response, percent-encoded); TagUser, PutUserPolicy
 *     and ListUserTags are built from the botocore model (iam-api.md
 *     [DERIVED]), as are the -suffixed variants.
 *   error-*.xml: real captures quoted in iam-api.md, plus the EC2 and S3
 *     error shapes other AWS front ends use.
 *   quirk-*.xml, bad-*.xml: made here.
 * Fixtures are found through $SESCTL_TEST_FIXTURES, else
 * $SESCTL_TEST_VECTORS/../fixtures/iam.
 */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "sesctl/aws/iam_xml.h"
#include "sesctl/base/secret.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static void fixture_path(char *out, size_t size, const char *name)
{
	const char *dir = getenv("SESCTL_TEST_FIXTURES");
	int n;

	if (dir) {
		n = snprintf(out, size, "%s/%s", dir, name);
	} else {
		dir = getenv("SESCTL_TEST_VECTORS");
		if (!dir)
			fail_msg("SESCTL_TEST_VECTORS is not set (run through meson test)");
		n = snprintf(out, size, "%s/../fixtures/iam/%s", dir, name);
	}
	assert_true(n > 0 && (size_t)n < size);
}

/* The fixture `name` into `body` (read(2) into the wiping buffer, as the
 * transport does). */
static void load(struct secret *body, const char *name)
{
	char path[4096];
	int fd;

	fixture_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot open '%s'", path);
	secret_clear(body);
	assert_int_equal(secret_read_fd(body, fd, (size_t)4 << 20), SESCTL_OK);
	close(fd);
}

static void load_str(struct secret *body, const char *s)
{
	assert_int_equal(secret_set(body, s, strlen(s)), SESCTL_OK);
}

static void assert_msg_has(const struct err_info *ei, const char *needle)
{
	if (!strstr(ei->msg, needle))
		fail_msg("message '%s' lacks '%s'", ei->msg, needle);
}

static void assert_date(const struct iam_date *d, const char *iso, time_t t)
{
	assert_true(d->present);
	assert_string_equal(d->iso, iso);
	assert_int_equal(d->t, t);
}

static void assert_no_date(const struct iam_date *d)
{
	assert_false(d->present);
	assert_string_equal(d->iso, "");
	assert_int_equal(d->t, 0);
}

static const char *const doc_request_id = "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE";

/* ------------------------------------------------------------------ */
/* Users                                                              */

static void test_iam_xml_create_user_doc_example(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_user_result r;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "CreateUser.xml");
	assert_int_equal(iam_xml_create_user(&body, &r, &ei), SESCTL_OK);
	assert_string_equal(r.user.path, "/division_abc/subdivision_xyz/");
	assert_string_equal(r.user.user_name, "Bob");
	assert_string_equal(r.user.user_id, "AIDACKCEVSQ6C2EXAMPLE");
	assert_string_equal(r.user.arn,
			    "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob");
	assert_no_date(&r.user.create_date); /* the doc example has none */
	assert_no_date(&r.user.password_last_used);
	assert_null(r.user.tags);
	assert_int_equal(r.user.tag_count, 0);
	assert_string_equal(r.meta.request_id, doc_request_id);
	iam_user_result_release(&r);
	iam_user_result_release(&r); /* idempotent */
	secret_free(&body);
}

static void test_iam_xml_create_user_tags_kept_verbatim(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_user_result r;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "CreateUser-tags.xml");
	assert_int_equal(iam_xml_create_user(&body, &r, &ei), SESCTL_OK);
	assert_string_equal(r.user.user_name, "sesctl-smtp");
	assert_string_equal(r.user.path, "/sesctl/");
	assert_string_equal(r.user.user_id, "AIDAEXAMPLESESCTL0001");
	assert_string_equal(r.user.arn,
			    "arn:aws:iam::123456789012:user/sesctl/sesctl-smtp");
	assert_date(&r.user.create_date, "2024-02-29T23:59:59Z", 1709251199);
	assert_int_equal(r.user.tag_count, 4);
	assert_string_equal(r.user.tags[0].key, "ManagedBy");
	assert_string_equal(r.user.tags[0].value, "sesctl");
	assert_string_equal(r.user.tags[1].key, "SesctlName");
	assert_string_equal(r.user.tags[1].value, "");
	/* Tag keys and values may have spaces at either end (\p{Z}). */
	assert_string_equal(r.user.tags[2].key, " padded key ");
	assert_string_equal(r.user.tags[2].value, "  two spaces each side  ");
	assert_string_equal(r.user.tags[3].key, "caf\xc3\xa9");
	assert_string_equal(r.user.tags[3].value, "a & b <c>");
	assert_string_equal(r.meta.request_id,
			    "11111111-2222-3333-4444-555555555555");
	iam_user_result_release(&r);
	assert_null(r.user.tags);
	secret_free(&body);
}

static void test_iam_xml_get_user_doc_example(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_user_result r;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "GetUser.xml");
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_OK);
	assert_string_equal(r.user.user_id, "AIDACKCEVSQ6C2EXAMPLE");
	assert_string_equal(r.user.path, "/division_abc/subdivision_xyz/");
	assert_string_equal(r.user.user_name, "Bob");
	assert_string_equal(r.user.arn,
			    "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob");
	assert_date(&r.user.create_date, "2013-10-02T17:01:44Z", 1380733304);
	assert_date(&r.user.password_last_used, "2014-10-10T14:37:51Z",
		    1412951871);
	assert_int_equal(r.user.tag_count, 0);
	assert_string_equal(r.meta.request_id, doc_request_id);
	iam_user_result_release(&r);

	/* The same body is not a CreateUser response. */
	assert_int_equal(iam_xml_create_user(&body, &r, &ei),
			 SESCTL_ERR_NETWORK);
	assert_msg_has(&ei, "CreateUser: expected root element "
			    "'CreateUserResponse', got 'GetUserResponse'");
	secret_free(&body);
}

static void test_iam_xml_get_user_root_and_tags(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_user_result r;
	struct err_info ei = { 0 };

	(void)state;
	/* Signed by root credentials: no Path, no UserName. */
	load(&body, "GetUser-root.xml");
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_OK);
	assert_string_equal(r.user.user_name, "");
	assert_string_equal(r.user.path, "");
	assert_string_equal(r.user.user_id, "123456789012");
	assert_string_equal(r.user.arn, "arn:aws:iam::123456789012:root");
	assert_date(&r.user.create_date, "2009-10-13T22:00:36Z", 1255471236);
	assert_string_equal(r.meta.request_id,
			    "c8c8e2e0-b7f8-11e2-8d39-e3a125f625ee");
	iam_user_result_release(&r);

	/* Tags, fractional seconds, and PermissionsBoundary (ignored). */
	load(&body, "GetUser-tags.xml");
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_OK);
	assert_string_equal(r.user.user_name, "sesctl-smtp-app");
	assert_string_equal(r.user.user_id, "AIDAEXAMPLESESCTL0002");
	assert_string_equal(r.user.path, "/sesctl/");
	assert_string_equal(r.user.arn,
			    "arn:aws:iam::123456789012:user/sesctl/sesctl-smtp-app");
	assert_date(&r.user.create_date, "2023-06-01T08:30:00.123Z",
		    1685608200);
	assert_no_date(&r.user.password_last_used);
	assert_int_equal(r.user.tag_count, 2);
	assert_string_equal(r.user.tags[0].key, "ManagedBy");
	assert_string_equal(r.user.tags[0].value, "sesctl");
	assert_string_equal(r.user.tags[1].key, "SesctlName");
	assert_string_equal(r.user.tags[1].value, "app");
	assert_string_equal(r.meta.request_id,
			    "22222222-2222-3333-4444-555555555555");
	iam_user_result_release(&r);
	secret_free(&body);
}

static void test_iam_xml_list_users(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_user_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListUsers.xml");
	assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].user_id, "AID2MAB8DPLSRHEXAMPLE");
	assert_string_equal(l.items[0].path,
			    "/division_abc/subdivision_xyz/engineering/");
	assert_string_equal(l.items[0].user_name, "Andrew");
	assert_string_equal(l.items[0].arn,
			    "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/engineering/Andrew");
	assert_date(&l.items[0].create_date, "2012-09-05T19:38:48Z",
		    1346873928);
	assert_date(&l.items[0].password_last_used, "2014-09-08T21:47:36Z",
		    1410212856);
	assert_string_equal(l.items[1].user_id, "AIDIODR4TAW7CSEXAMPLE");
	assert_string_equal(l.items[1].path,
			    "/division_abc/subdivision_xyz/engineering/");
	assert_string_equal(l.items[1].user_name, "Jackie");
	assert_string_equal(l.items[1].arn,
			    "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/engineering/Jackie");
	assert_date(&l.items[1].create_date, "2014-04-09T15:43:45Z",
		    1397058225);
	assert_date(&l.items[1].password_last_used, "2014-09-24T16:18:07Z",
		    1411575487);
	assert_false(l.is_truncated);
	assert_string_equal(l.marker, "");
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_user_list_release(&l);
	assert_null(l.items);
	assert_int_equal(l.count, 0);
	secret_free(&body);
}

static void test_iam_xml_list_users_pagination(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_user_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListUsers-truncated.xml");
	assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_OK);
	assert_true(l.is_truncated);
	assert_string_equal(l.marker, "AAFpZXhhbXBsZSttYXJrZXIvd2l0aD1wYWRkaW5n");
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].user_id, "AIDAEXAMPLESESCTL0001");
	assert_string_equal(l.items[0].path, "/sesctl/");
	assert_string_equal(l.items[0].user_name, "sesctl-smtp");
	assert_string_equal(l.items[0].arn,
			    "arn:aws:iam::123456789012:user/sesctl/sesctl-smtp");
	assert_date(&l.items[0].create_date, "2024-01-15T10:00:00Z",
		    1705312800);
	assert_no_date(&l.items[0].password_last_used);
	assert_string_equal(l.meta.request_id,
			    "33333333-2222-3333-4444-555555555555");
	iam_user_list_release(&l);

	load(&body, "ListUsers-empty.xml");
	assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 0);
	assert_null(l.items);
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id,
			    "44444444-2222-3333-4444-555555555555");
	iam_user_list_release(&l);

	/* IsTruncated true without a Marker: a paginator could not go on. */
	load(&body, "bad-ListUsers-truncated-no-marker.xml");
	assert_int_equal(iam_xml_list_users(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListUsers: 'IsTruncated' is true but "
				    "there is no 'Marker'");
	assert_null(l.items);
	assert_int_equal(l.count, 0);

	/* No IsTruncated at all is false; no list at all is empty. */
	load_str(&body, "<ListUsersResponse><ListUsersResult/></ListUsersResponse>");
	assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_OK);
	assert_false(l.is_truncated);
	assert_int_equal(l.count, 0);
	assert_string_equal(l.meta.request_id, "");
	iam_user_list_release(&l);
	secret_free(&body);
}

static void test_iam_xml_list_user_tags(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_tag_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListUserTags.xml");
	assert_int_equal(iam_xml_list_user_tags(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].key, "Purpose");
	assert_string_equal(l.items[0].value, "SES SMTP relay");
	assert_false(l.is_truncated);
	assert_string_equal(l.marker, "");
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_tag_list_release(&l);

	load(&body, "ListUserTags-truncated.xml");
	assert_int_equal(iam_xml_list_user_tags(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].key, "ManagedBy");
	assert_string_equal(l.items[0].value, "sesctl");
	assert_string_equal(l.items[1].key, "SesctlName");
	assert_string_equal(l.items[1].value, "app");
	assert_true(l.is_truncated);
	assert_string_equal(l.marker, "tag-page-2");
	assert_string_equal(l.meta.request_id,
			    "55555555-2222-3333-4444-555555555555");
	iam_tag_list_release(&l);
	secret_free(&body);
}

/* ------------------------------------------------------------------ */
/* Policies                                                           */

static void test_iam_xml_get_user_policy_decoded(void **state)
{
	static const char fix_doc[] =
		"{\n  \"Statement\": [\n    {\n      \"Sid\": \"Stmt1331504410389\",\n"
		"      \"Action\": [\n        \"ec2:CreateSnapshot\",\n"
		"        \"ec2:DescribeInstances\",\n        \"ec2:DescribeVolumes\"\n"
		"      ],\n      \"Effect\": \"Allow\",\n      \"Resource\": \"*\"\n"
		"    }\n  ]\n}";
	/* urllib.parse.unquote: %2B is '+', '+' stays '+', %20 is ' ', a
	 * stray '%' stays, lowercase hex works, %e2%82%ac is the euro sign. */
	static const char enc_doc[] =
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
		"\"Action\":\"ses:SendRawEmail\",\"Resource\":\"*\",\"Condition\":"
		"{\"StringLike\":{\"ses:FromAddress\":\"a+b@example.com\"}},"
		"\"Sid\":\"x+y z%%zz~\xe2\x82\xac\"}]}";
	struct secret body = SECRET_INIT;
	struct iam_user_policy p;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "GetUserPolicy.xml");
	assert_int_equal(iam_xml_get_user_policy(&body, &p, &ei), SESCTL_OK);
	assert_string_equal(p.user_name, "test");
	assert_string_equal(p.policy_name, "test");
	assert_string_equal(p.policy_document, fix_doc);
	assert_int_equal(p.policy_document_len, strlen(fix_doc));
	assert_string_equal(p.meta.request_id,
			    "5a2702d5-bcfd-11e2-b2db-2f18d5db5f10");
	iam_user_policy_release(&p);
	assert_null(p.policy_document);

	load(&body, "GetUserPolicy-encoding.xml");
	assert_int_equal(iam_xml_get_user_policy(&body, &p, &ei), SESCTL_OK);
	assert_string_equal(p.user_name, "sesctl-smtp");
	assert_string_equal(p.policy_name, "sesctl-ses-send");
	assert_string_equal(p.policy_document, enc_doc);
	assert_int_equal(p.policy_document_len, strlen(enc_doc));
	assert_string_equal(p.meta.request_id,
			    "66666666-2222-3333-4444-555555555555");
	iam_user_policy_release(&p);

	/* The doc page's raw-JSON sample decodes to itself (trimmed). */
	load(&body, "GetUserPolicy-raw.xml");
	assert_int_equal(iam_xml_get_user_policy(&body, &p, &ei), SESCTL_OK);
	assert_string_equal(p.user_name, "Bob");
	assert_string_equal(p.policy_name, "AllAccessPolicy");
	assert_string_equal(p.policy_document,
			    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
			    "\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}");
	assert_string_equal(p.meta.request_id, doc_request_id);
	iam_user_policy_release(&p);

	/* A trailing '%' or '%X' at the very end stays literal. */
	load_str(&body, "<GetUserPolicyResponse><GetUserPolicyResult>"
			"<UserName>u</UserName><PolicyName>p</PolicyName>"
			"<PolicyDocument>%41%4</PolicyDocument>"
			"</GetUserPolicyResult></GetUserPolicyResponse>");
	assert_int_equal(iam_xml_get_user_policy(&body, &p, &ei), SESCTL_OK);
	assert_string_equal(p.policy_document, "A%4");
	iam_user_policy_release(&p);

	/* %00 would cut the C string. */
	load(&body, "bad-GetUserPolicy-nul.xml");
	assert_int_equal(iam_xml_get_user_policy(&body, &p, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "GetUserPolicy: 'PolicyDocument' decodes "
				    "to a NUL byte");
	assert_null(p.policy_document);
	secret_free(&body);
}

static void test_iam_xml_list_user_policies(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_id_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListUserPolicies.xml"); /* no xmlns */
	assert_int_equal(iam_xml_list_user_policies(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].id, "AllAccessPolicy");
	assert_string_equal(l.items[0].service_name, "");
	assert_string_equal(l.items[1].id, "KeyPolicy");
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_id_list_release(&l);

	load(&body, "ListUserPolicies-truncated.xml");
	assert_int_equal(iam_xml_list_user_policies(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].id, "sesctl-ses-send");
	assert_true(l.is_truncated);
	assert_string_equal(l.marker, "AAECAwQFBgcICQ==");
	assert_string_equal(l.meta.request_id,
			    "77777777-2222-3333-4444-555555555555");
	iam_id_list_release(&l);

	/* An empty member is not a policy name. */
	load_str(&body, "<ListUserPoliciesResponse><ListUserPoliciesResult>"
			"<PolicyNames><member>a</member><member> </member>"
			"</PolicyNames></ListUserPoliciesResult>"
			"</ListUserPoliciesResponse>");
	assert_int_equal(iam_xml_list_user_policies(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListUserPolicies: 'member' is empty");
	assert_null(l.items);
	secret_free(&body);
}

static void test_iam_xml_list_attached_user_policies(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_attached_policy_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListAttachedUserPolicies.xml");
	assert_int_equal(iam_xml_list_attached_user_policies(&body, &l, &ei),
			 SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].policy_name, "AdministratorAccess");
	assert_string_equal(l.items[0].policy_arn,
			    "arn:aws:iam::aws:policy/AdministratorAccess");
	assert_false(l.is_truncated);
	assert_string_equal(l.marker, "");
	assert_string_equal(l.meta.request_id,
			    "75980e78-3ea6-11e4-9d0d-6f969EXAMPLE");
	iam_attached_policy_list_release(&l);
	secret_free(&body);
}

/* ------------------------------------------------------------------ */
/* Access keys                                                        */

static void test_iam_xml_create_access_key_secret_trimmed(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_access_key k;
	struct err_info ei = { 0 };

	(void)state;
	/* The doc example: a newline and indentation inside the element. */
	load(&body, "CreateAccessKey.xml");
	assert_int_equal(iam_xml_create_access_key(&body, &k, &ei), SESCTL_OK);
	assert_string_equal(k.user_name, "Bob");
	assert_string_equal(k.access_key_id, "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(k.status, IAM_STATUS_ACTIVE);
	assert_string_equal(k.status_text, "Active");
	assert_no_date(&k.create_date);
	assert_non_null(k.secret_access_key.p);
	/* 41 characters: the doc's key has a 'z' the usual example lacks. */
	assert_int_equal(k.secret_access_key.len, 41);
	assert_string_equal(secret_str(&k.secret_access_key),
			    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	assert_string_equal(k.meta.request_id, doc_request_id);
	/* The body itself is the caller's and is left as it was. */
	assert_non_null(strstr(secret_str(&body), "wJalrXUtnFEMI"));
	iam_access_key_release(&k);
	assert_null(k.secret_access_key.p);
	assert_int_equal(k.secret_access_key.len, 0);

	load(&body, "CreateAccessKey-createdate.xml");
	assert_int_equal(iam_xml_create_access_key(&body, &k, &ei), SESCTL_OK);
	assert_string_equal(k.user_name, "sesctl-smtp");
	assert_string_equal(k.access_key_id, "AKIAEXAMPLESESCTL001");
	assert_int_equal(k.status, IAM_STATUS_ACTIVE);
	assert_string_equal(secret_str(&k.secret_access_key),
			    "abcd+EFGH/ijkl+MNOP/qrst+UVWX/yz01+2345");
	assert_date(&k.create_date, "2024-03-01T12:00:00Z", 1709294400);
	assert_string_equal(k.meta.request_id,
			    "88888888-2222-3333-4444-555555555555");
	iam_access_key_release(&k);
	secret_free(&body);
}

static void test_iam_xml_create_access_key_quirks(void **state)
{
	static const char *const files[] = {
		"quirk-CreateAccessKey-prefix.xml",   /* iam: prefix everywhere */
		"quirk-CreateAccessKey-other-ns.xml", /* another namespace */
		"quirk-CreateAccessKey-cdata.xml",    /* text + CDATA + comment */
	};
	struct secret body = SECRET_INIT;
	struct iam_access_key k;
	struct err_info ei = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(files); i++) {
		load(&body, files[i]);
		if (iam_xml_create_access_key(&body, &k, &ei) != SESCTL_OK)
			fail_msg("%s: %s", files[i], ei.msg);
		assert_string_equal(k.user_name, "Bob");
		assert_string_equal(k.access_key_id, "AKIAIOSFODNN7EXAMPLE");
		assert_int_equal(k.status, IAM_STATUS_ACTIVE);
		assert_string_equal(secret_str(&k.secret_access_key),
				    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
		assert_string_equal(k.meta.request_id, doc_request_id);
		iam_access_key_release(&k);
	}
	secret_free(&body);
}

static void test_iam_xml_create_access_key_refused(void **state)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{ "bad-CreateAccessKey-no-secret.xml",
		  "CreateAccessKey: 'SecretAccessKey' is missing from 'AccessKey'" },
		{ "bad-CreateAccessKey-empty-secret.xml",
		  "CreateAccessKey: 'SecretAccessKey' is empty" },
		{ "bad-CreateAccessKey-two-secrets.xml",
		  "CreateAccessKey: 'SecretAccessKey' appears more than once in 'AccessKey'" },
		{ "bad-CreateAccessKey-no-result.xml",
		  "CreateAccessKey: 'CreateAccessKeyResult' is missing" },
		{ "bad-truncated.xml",
		  "CreateAccessKey: response is not valid XML (line 8, column " },
	};
	struct secret body = SECRET_INIT;
	struct iam_access_key k;
	struct err_info ei = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		load(&body, cases[i].file);
		memset(&k, 0xA5, sizeof(k)); /* garbage in: must come out zeroed */
		assert_int_equal(iam_xml_create_access_key(&body, &k, &ei),
				 SESCTL_ERR_NETWORK);
		assert_int_equal(ei.code, SESCTL_ERR_NETWORK);
		if (strncmp(ei.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("%s: got '%s'", cases[i].file, ei.msg);
		/* Never any of the secret in the message. */
		assert_null(strstr(ei.msg, "secret"));
		assert_null(strstr(ei.msg, "abcd+EFGH"));
		assert_null(k.secret_access_key.p);
		assert_string_equal(k.access_key_id, "");
		iam_access_key_release(&k);
	}
	secret_free(&body);
}

static void test_iam_xml_list_access_keys(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_access_key_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListAccessKeys.xml");
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].user_name, "Bob");
	assert_string_equal(l.items[0].access_key_id, "AKIA1234567890EXAMPLE");
	assert_int_equal(l.items[0].status, IAM_STATUS_ACTIVE);
	assert_string_equal(l.items[0].status_text, "Active");
	assert_date(&l.items[0].create_date, "2016-12-03T18:53:41Z",
		    1480791221);
	assert_string_equal(l.items[1].user_name, "Susan");
	assert_string_equal(l.items[1].access_key_id, "AKIA2345678901EXAMPLE");
	assert_int_equal(l.items[1].status, IAM_STATUS_INACTIVE);
	assert_string_equal(l.items[1].status_text, "Inactive");
	assert_date(&l.items[1].create_date, "2017-03-25T20:38:14Z",
		    1490474294);
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_access_key_list_release(&l);
	secret_free(&body);
}

static void test_iam_xml_list_access_keys_unknown_elements(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_access_key_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "quirk-ListAccessKeys-extra.xml");
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 3); /* <notAMember> is not counted */
	assert_string_equal(l.items[0].user_name, "Bob");
	assert_string_equal(l.items[0].access_key_id, "AKIA1234567890EXAMPLE");
	assert_int_equal(l.items[0].status, IAM_STATUS_ACTIVE);
	assert_date(&l.items[0].create_date, "2016-12-03T18:53:41.000Z",
		    1480791221);
	assert_string_equal(l.items[1].user_name, "");
	assert_string_equal(l.items[1].access_key_id, "AKIA2345678901EXAMPLE");
	assert_int_equal(l.items[1].status, IAM_STATUS_EXPIRED);
	assert_no_date(&l.items[1].create_date);
	assert_string_equal(l.items[2].access_key_id, "AKIA3456789012EXAMPLE");
	assert_int_equal(l.items[2].status, IAM_STATUS_OTHER);
	assert_string_equal(l.items[2].status_text, "Pending");
	/* 22:38:14+02:00 is 20:38:14Z. */
	assert_date(&l.items[2].create_date, "2017-03-25T22:38:14+02:00",
		    1490474294);
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_access_key_list_release(&l);
	secret_free(&body);
}

static void test_iam_xml_get_access_key_last_used(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_access_key_last_used u;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "GetAccessKeyLastUsed.xml");
	assert_int_equal(iam_xml_get_access_key_last_used(&body, &u, &ei),
			 SESCTL_OK);
	assert_string_equal(u.user_name, "bob");
	assert_string_equal(u.region, "us-west-2");
	assert_string_equal(u.service_name, "s3");
	assert_date(&u.last_used_date, "2015-03-13T10:45:00Z", 1426243500);
	assert_string_equal(u.meta.request_id,
			    "510a6abf-d022-11e4-abe8-9b0ebEXAMPLE");
	iam_access_key_last_used_release(&u);

	load(&body, "GetAccessKeyLastUsed-never.xml");
	assert_int_equal(iam_xml_get_access_key_last_used(&body, &u, &ei),
			 SESCTL_OK);
	assert_string_equal(u.user_name, "sesctl-smtp");
	assert_string_equal(u.service_name, "N/A");
	assert_string_equal(u.region, "N/A");
	assert_no_date(&u.last_used_date);
	assert_string_equal(u.meta.request_id,
			    "99999999-2222-3333-4444-555555555555");
	iam_access_key_last_used_release(&u);
	secret_free(&body);
}

/* ------------------------------------------------------------------ */
/* Things `disable` deletes, login profile, caller identity           */

static void test_iam_xml_id_lists(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_id_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "ListGroupsForUser.xml");
	assert_int_equal(iam_xml_list_groups_for_user(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].id, "Admins");
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_id_list_release(&l);

	load(&body, "ListSigningCertificates.xml");
	assert_int_equal(iam_xml_list_signing_certificates(&body, &l, &ei),
			 SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].id, "TA7SMEXAMPLEZ26OBPJE7EXAMPLE");
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_id_list_release(&l);

	load(&body, "ListSSHPublicKeys.xml");
	assert_int_equal(iam_xml_list_ssh_public_keys(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].id, "APKAEIVFHP46CEXAMPLE");
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id,
			    "9f8e2d77-f36c-11e4-97db-33c4eEXAMPLE");
	iam_id_list_release(&l);

	load(&body, "ListServiceSpecificCredentials.xml");
	assert_int_equal(iam_xml_list_service_specific_credentials(&body, &l,
								   &ei),
			 SESCTL_OK);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].id, "ACCA12345ABCDEXAMPLE");
	assert_string_equal(l.items[0].service_name, "codecommit.amazonaws.com");
	assert_string_equal(l.items[1].id, "ACCA67890FGHIEXAMPLE");
	assert_string_equal(l.items[1].service_name, "codecommit.amazonaws.com");
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id,
			    "EXAMPLE8-90ab-cdef-fedc-ba987EXAMPLE");
	iam_id_list_release(&l);

	load(&body, "ListMFADevices.xml");
	assert_int_equal(iam_xml_list_mfa_devices(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].id, "R1234");
	assert_false(l.is_truncated);
	assert_string_equal(l.meta.request_id, doc_request_id);
	iam_id_list_release(&l);

	/* Each parser insists on its own action. */
	load(&body, "ListMFADevices.xml");
	assert_int_equal(iam_xml_list_ssh_public_keys(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListSSHPublicKeys: expected root element "
				    "'ListSSHPublicKeysResponse', got "
				    "'ListMFADevicesResponse'");
	secret_free(&body);
}

static void test_iam_xml_get_login_profile(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_login_profile p;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "GetLoginProfile.xml");
	assert_int_equal(iam_xml_get_login_profile(&body, &p, &ei), SESCTL_OK);
	assert_string_equal(p.user_name, "Bob");
	assert_date(&p.create_date, "2011-09-19T23:00:56Z", 1316473256);
	assert_false(p.password_reset_required);
	assert_string_equal(p.meta.request_id, doc_request_id);
	iam_login_profile_release(&p);

	load_str(&body, "<GetLoginProfileResponse><GetLoginProfileResult>"
			"<LoginProfile><UserName>x</UserName>"
			"<PasswordResetRequired>true</PasswordResetRequired>"
			"</LoginProfile></GetLoginProfileResult>"
			"</GetLoginProfileResponse>");
	assert_int_equal(iam_xml_get_login_profile(&body, &p, &ei), SESCTL_OK);
	assert_true(p.password_reset_required);
	assert_no_date(&p.create_date);
	iam_login_profile_release(&p);

	/* No login profile is an error response (NoSuchEntity). */
	load(&body, "error-NoSuchEntity.xml");
	assert_int_equal(iam_xml_get_login_profile(&body, &p, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "GetLoginProfile: response is an AWS error "
				    "('NoSuchEntity') where "
				    "'GetLoginProfileResponse' was expected");
	secret_free(&body);
}

static void test_iam_xml_get_caller_identity(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_caller_identity c;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "GetCallerIdentity.xml");
	assert_int_equal(iam_xml_get_caller_identity(&body, &c, &ei), SESCTL_OK);
	assert_string_equal(c.arn, "arn:aws:iam::123456789012:user/Alice");
	assert_string_equal(c.user_id, "AIDACKCEVSQ6C2EXAMPLE");
	assert_string_equal(c.account, "123456789012");
	assert_string_equal(c.meta.request_id,
			    "01234567-89ab-cdef-0123-456789abcdef");
	iam_caller_identity_release(&c);

	load(&body, "GetCallerIdentity-assumed-role.xml");
	assert_int_equal(iam_xml_get_caller_identity(&body, &c, &ei), SESCTL_OK);
	assert_string_equal(c.arn, "arn:aws:sts::123456789012:assumed-role/"
				   "sesctl-test-role/sesctl-test-session");
	assert_string_equal(c.user_id,
			    "AROAEXAMPLEROLEID0001:sesctl-test-session");
	assert_string_equal(c.account, "123456789012");
	assert_string_equal(c.meta.request_id,
			    "01234567-89ab-cdef-0123-456789abcdee");
	iam_caller_identity_release(&c);
	secret_free(&body);
}

static void test_iam_xml_ack_actions(void **state)
{
	static const struct {
		const char *action, *rid;
	} cases[] = {
		{ "DeleteUserPolicy", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE" },
		{ "AttachUserPolicy", "ed7e72d3-3d07-11e4-bfad-8d1c6EXAMPLE" },
		{ "DetachUserPolicy", "85ba31fa-3d1f-11e4-a4a0-cffb9EXAMPLE" },
		{ "UpdateAccessKey", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE" },
		{ "DeleteAccessKey", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE" },
		{ "DeleteUser", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE" },
		{ "TagUser", "aaaaaaaa-2222-3333-4444-555555555555" },
		{ "PutUserPolicy", "bbbbbbbb-2222-3333-4444-555555555555" },
	};
	struct secret body = SECRET_INIT;
	struct iam_metadata m;
	struct err_info ei = { 0 };
	char name[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(name, sizeof(name), "%s.xml", cases[i].action);
		load(&body, name);
		if (iam_xml_parse_ack(&body, cases[i].action, &m, &ei) != SESCTL_OK)
			fail_msg("%s: %s", cases[i].action, ei.msg);
		assert_string_equal(m.request_id, cases[i].rid);
		iam_metadata_release(&m);
		/* Another action's envelope is refused. */
		assert_int_equal(iam_xml_parse_ack(&body, "CreateUser", &m, &ei),
				 SESCTL_ERR_NETWORK);
		assert_msg_has(&ei, "CreateUser: expected root element "
				    "'CreateUserResponse', got '");
	}
	/* A result element where none is expected is ignored. */
	load(&body, "CreateUser.xml");
	assert_int_equal(iam_xml_parse_ack(&body, "CreateUser", &m, &ei),
			 SESCTL_OK);
	assert_string_equal(m.request_id, doc_request_id);

	/* Nonsense action names. */
	assert_int_equal(iam_xml_parse_ack(&body, NULL, &m, &ei),
			 SESCTL_ERR_INPUT);
	assert_int_equal(iam_xml_parse_ack(&body, "", &m, &ei),
			 SESCTL_ERR_INPUT);
	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(iam_xml_parse_ack(&body, name, &m, &ei),
			 SESCTL_ERR_INPUT);
	secret_free(&body);
}

/* ------------------------------------------------------------------ */
/* Error documents                                                    */

static void test_iam_xml_error_responses(void **state)
{
	static const struct {
		const char *file, *type, *code, *message, *rid;
		long status;
		sesctl_err err;
		bool retry;
	} cases[] = {
		{ "error-NoSuchEntity.xml", "Sender", "NoSuchEntity",
		  "The user with name foobar cannot be found.",
		  "358299bb-b7f8-11e2-8d39-e3a125f625ee", 404,
		  SESCTL_ERR_NOT_FOUND, false },
		{ "error-Throttling.xml", "Sender", "Throttling", "Rate exceeded",
		  "b70a15bc-1a52-11e5-a0f5-9f4ba966731e", 400,
		  SESCTL_ERR_NETWORK, true },
		{ "error-AccessDenied.xml", "Sender", "AccessDenied",
		  "User: arn:aws:iam::959094731163:user/mperry is not authorized "
		  "to perform: iam:GetUser on resource: "
		  "arn:aws:iam::959094731163:user/mperry",
		  "cccccccc-2222-3333-4444-555555555555", 403, SESCTL_ERR_AUTH,
		  false },
		{ "error-ExpiredToken.xml", "Sender", "ExpiredToken",
		  "The security token included in the request is expired",
		  "dddddddd-2222-3333-4444-555555555555", 403, SESCTL_ERR_AUTH,
		  false },
		{ "error-EntityAlreadyExists.xml", "Sender",
		  "EntityAlreadyExists", "User with name Bob already exists.",
		  "1d5f5000-1316-11e2-a60f-91a8e6fb6d21", 409,
		  SESCTL_ERR_CONFLICT, false },
		{ "error-LimitExceeded.xml", "Sender", "LimitExceeded",
		  "Cannot exceed quota for AccessKeysPerUser: 2",
		  "eeeeeeee-2222-3333-4444-555555555555", 409,
		  SESCTL_ERR_CONFLICT, false },
		{ "error-DeleteConflict.xml", "Sender", "DeleteConflict",
		  "Cannot delete entity, must delete MFA device first.",
		  "ffffffff-2222-3333-4444-555555555555", 409,
		  SESCTL_ERR_CONFLICT, false },
		{ "error-ServiceFailure.xml", "Receiver", "ServiceFailure",
		  "An internal error occurred.",
		  "12121212-2222-3333-4444-555555555555", 500,
		  SESCTL_ERR_NETWORK, true },
		{ "error-InvalidAction-awsfault.xml", "Sender", "InvalidAction",
		  "Could not find operation CreateUsr for version 2010-05-08",
		  "13131313-2222-3333-4444-555555555555", 400,
		  SESCTL_ERR_INPUT, false },
		{ "error-ec2-style.xml", "", "RequestLimitExceeded",
		  "Request limit exceeded.",
		  "14141414-2222-3333-4444-555555555555", 503,
		  SESCTL_ERR_NETWORK, true },
		{ "error-s3-style.xml", "", "SlowDown",
		  "Please reduce your request rate.", "15151515", 503,
		  SESCTL_ERR_NETWORK, true },
	};
	struct secret body = SECRET_INIT;
	struct iam_error e;
	struct err_info ei = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		load(&body, cases[i].file);
		if (iam_xml_parse_error(&body, "GetUser", &e, &ei) != SESCTL_OK)
			fail_msg("%s: %s", cases[i].file, ei.msg);
		assert_string_equal(e.type, cases[i].type);
		assert_string_equal(e.code, cases[i].code);
		assert_string_equal(e.message, cases[i].message);
		assert_string_equal(e.request_id, cases[i].rid);
		if (iam_xml_error_err(&e, cases[i].status) != cases[i].err)
			fail_msg("%s: %s", cases[i].file,
				 err_name(iam_xml_error_err(&e, cases[i].status)));
		assert_int_equal(iam_xml_error_retryable(&e, 400), cases[i].retry);
	}
	secret_free(&body);
}

static void test_iam_xml_error_not_recognised(void **state)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{ "error-no-code.xml",
		  "DeleteUser: response is not an AWS error document (root "
		  "element 'ErrorResponse')" },
		{ "ListUsers.xml",
		  "DeleteUser: response is not an AWS error document (root "
		  "element 'ListUsersResponse')" },
		{ "bad-html.xml",
		  "DeleteUser: response is an HTML page, not an IAM response" },
		{ "bad-html-doctype.xml",
		  "DeleteUser: response is an HTML page, not an IAM response" },
		{ "bad-xhtml.xml",
		  "DeleteUser: response is an HTML page, not an IAM response" },
		{ "bad-json.xml", "DeleteUser: response is not XML" },
		{ "bad-text.xml", "DeleteUser: response is not XML" },
		{ "bad-empty.xml", "DeleteUser: response is empty" },
		{ "bad-whitespace.xml", "DeleteUser: response is empty" },
		{ "bad-malformed.xml",
		  "DeleteUser: response is not valid XML (line 4, column 31: "
		  "opening and ending tag mismatch)" },
		{ "bad-doctype-xxe.xml",
		  "DeleteUser: response has a DOCTYPE declaration, which IAM "
		  "never sends" },
		{ "bad-huge.xml",
		  "DeleteUser: response is larger than 1048576 bytes" },
	};
	struct secret body = SECRET_INIT;
	struct iam_error e;
	struct err_info ei = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		load(&body, cases[i].file);
		memset(&e, 'x', sizeof(e));
		assert_int_equal(iam_xml_parse_error(&body, "DeleteUser", &e, &ei),
				 SESCTL_ERR_NETWORK);
		if (strcmp(ei.msg, cases[i].msg) != 0)
			fail_msg("%s: got '%s'", cases[i].file, ei.msg);
		assert_string_equal(e.code, "");
		assert_string_equal(e.message, "");
	}
	assert_int_equal(iam_xml_parse_error(NULL, "DeleteUser", &e, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "DeleteUser: response is empty");
	secret_free(&body);
}

static void test_iam_xml_error_message_truncated(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_error e;
	struct err_info ei = { 0 };
	size_t len;

	(void)state;
	load(&body, "error-long-message.xml");
	assert_int_equal(iam_xml_parse_error(&body, "GetUser", &e, &ei),
			 SESCTL_OK);
	assert_string_equal(e.code, "ValidationError");
	len = strlen(e.message);
	assert_true(len <= IAM_XML_ERR_MESSAGE_MAX);
	assert_true(len > IAM_XML_ERR_MESSAGE_MAX - 8);
	assert_string_equal(e.message + len - 3, "...");
	/* Cut on a character boundary: the byte before "..." ends an "é". */
	assert_int_equal((unsigned char)e.message[len - 4], 0xA9);
	assert_int_equal((unsigned char)e.message[len - 5], 0xC3);
	assert_int_equal(strncmp(e.message, "1 validation error detected: ", 29), 0);

	/* Line breaks, tabs and C1 controls are not passed to a terminal. */
	load_str(&body, "<ErrorResponse><Error><Code>X</Code><Message>a\nb\tc"
			"\xc2\x9b" "31md</Message></Error></ErrorResponse>");
	assert_int_equal(iam_xml_parse_error(&body, "GetUser", &e, &ei),
			 SESCTL_OK);
	assert_string_equal(e.message, "a b c?31md");
	assert_string_equal(e.request_id, "");
	assert_string_equal(e.type, "");
	secret_free(&body);
}

static void test_iam_xml_error_err_mapping(void **state)
{
	static const struct {
		const char *code, *type;
		long status;
		sesctl_err want;
		bool retry;
	} cases[] = {
		{ "AccessDenied", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "AccessDeniedException", "", 403, SESCTL_ERR_AUTH, false },
		{ "InvalidClientTokenId", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "SignatureDoesNotMatch", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "ExpiredToken", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "ExpiredTokenException", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "IncompleteSignature", "Sender", 400, SESCTL_ERR_AUTH, false },
		{ "MissingAuthenticationToken", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "RequestExpired", "Sender", 400, SESCTL_ERR_AUTH, false },
		{ "NoSuchEntity", "Sender", 404, SESCTL_ERR_NOT_FOUND, false },
		{ "NotSupportedService", "Sender", 404, SESCTL_ERR_NOT_FOUND, false },
		{ "EntityAlreadyExists", "Sender", 409, SESCTL_ERR_CONFLICT, false },
		{ "LimitExceeded", "Sender", 409, SESCTL_ERR_CONFLICT, false },
		{ "DeleteConflict", "Sender", 409, SESCTL_ERR_CONFLICT, false },
		{ "ConcurrentModification", "Sender", 409, SESCTL_ERR_CONFLICT, false },
		{ "MalformedPolicyDocument", "Sender", 400, SESCTL_ERR_INPUT, false },
		{ "InvalidInput", "Sender", 400, SESCTL_ERR_INPUT, false },
		{ "PolicyNotAttachable", "Sender", 400, SESCTL_ERR_INPUT, false },
		{ "ValidationError", "Sender", 400, SESCTL_ERR_INPUT, false },
		{ "Throttling", "Sender", 400, SESCTL_ERR_NETWORK, true },
		{ "ThrottlingException", "Sender", 400, SESCTL_ERR_NETWORK, true },
		{ "LimitExceededException", "Sender", 400, SESCTL_ERR_NETWORK, true },
		{ "ServiceFailure", "Receiver", 500, SESCTL_ERR_NETWORK, true },
		{ "ServiceUnavailable", "Receiver", 503, SESCTL_ERR_NETWORK, true },
		{ "InternalFailure", "Receiver", 500, SESCTL_ERR_NETWORK, true },
		{ "RequestTimeout", "Sender", 400, SESCTL_ERR_NETWORK, true },
		/* Unknown codes: by Type, then by status. */
		{ "SomethingNew", "Receiver", 400, SESCTL_ERR_NETWORK, false },
		{ "SomethingNew", "Sender", 502, SESCTL_ERR_NETWORK, true },
		{ "SomethingNew", "Sender", 403, SESCTL_ERR_AUTH, false },
		{ "SomethingNew", "Sender", 400, SESCTL_ERR_FAIL, false },
		{ "", "", 0, SESCTL_ERR_FAIL, false },
	};
	struct iam_error e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.code, sizeof(e.code), "%s", cases[i].code);
		snprintf(e.type, sizeof(e.type), "%s", cases[i].type);
		if (iam_xml_error_err(&e, cases[i].status) != cases[i].want)
			fail_msg("%s/%ld: got %s", cases[i].code, cases[i].status,
				 err_name(iam_xml_error_err(&e, cases[i].status)));
		if (iam_xml_error_retryable(&e, cases[i].status) != cases[i].retry)
			fail_msg("%s/%ld: retryable wrong", cases[i].code,
				 cases[i].status);
	}
	assert_int_equal(iam_xml_error_err(NULL, 500), SESCTL_ERR_NETWORK);
	assert_true(iam_xml_error_retryable(NULL, 504));
	assert_false(iam_xml_error_retryable(NULL, 501));
}

/* ------------------------------------------------------------------ */
/* Bad bodies                                                         */

static void test_iam_xml_bad_bodies_refused(void **state)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{ "bad-empty.xml", "ListUsers: response is empty" },
		{ "bad-whitespace.xml", "ListUsers: response is empty" },
		{ "bad-html.xml",
		  "ListUsers: response is an HTML page, not an IAM response" },
		{ "bad-html-doctype.xml",
		  "ListUsers: response is an HTML page, not an IAM response" },
		{ "bad-xhtml.xml",
		  "ListUsers: response is an HTML page, not an IAM response" },
		{ "bad-json.xml", "ListUsers: response is not XML" },
		{ "bad-text.xml", "ListUsers: response is not XML" },
		{ "bad-malformed.xml",
		  "ListUsers: response is not valid XML (line 4, column 31: "
		  "opening and ending tag mismatch)" },
		{ "bad-truncated.xml",
		  "ListUsers: response is not valid XML (line 8, column 34: "
		  "premature end of data (truncated response?))" },
		{ "bad-undeclared-entity.xml",
		  "ListUsers: response is not valid XML (line 6, column 22: "
		  "undeclared or malformed entity reference)" },
		{ "bad-huge.xml", "ListUsers: response is larger than 1048576 bytes" },
		{ "GetUser.xml",
		  "ListUsers: expected root element 'ListUsersResponse', got "
		  "'GetUserResponse'" },
		{ "error-Throttling.xml",
		  "ListUsers: response is an AWS error ('Throttling') where "
		  "'ListUsersResponse' was expected" },
		{ "bad-ListUsers-nested-value.xml",
		  "ListUsers: 'UserName' holds elements where text was expected" },
		{ "bad-ListUsers-truncated-no-marker.xml",
		  "ListUsers: 'IsTruncated' is true but there is no 'Marker'" },
		{ "bad-doctype-xxe.xml",
		  "ListUsers: response has a DOCTYPE declaration, which IAM never "
		  "sends" },
		{ "bad-billion-laughs.xml",
		  "ListUsers: response has a DOCTYPE declaration, which IAM never "
		  "sends" },
		{ "bad-doctype-external-dtd.xml",
		  "ListUsers: response has a DOCTYPE declaration, which IAM never "
		  "sends" },
	};
	struct secret body = SECRET_INIT;
	struct iam_user_list l;
	struct err_info ei = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		load(&body, cases[i].file);
		memset(&l, 0x5A, sizeof(l));
		assert_int_equal(iam_xml_list_users(&body, &l, &ei),
				 SESCTL_ERR_NETWORK);
		if (strcmp(ei.msg, cases[i].msg) != 0)
			fail_msg("%s: got '%s'", cases[i].file, ei.msg);
		assert_null(l.items);
		assert_int_equal(l.count, 0);
		assert_string_equal(l.meta.request_id, "");
		iam_user_list_release(&l);
	}
	assert_int_equal(iam_xml_list_users(NULL, &l, &ei), SESCTL_ERR_NETWORK);
	assert_int_equal(iam_xml_list_users(&body, NULL, &ei), SESCTL_ERR_INPUT);
	/* A NULL err_info is allowed. */
	load(&body, "bad-malformed.xml");
	assert_int_equal(iam_xml_list_users(&body, &l, NULL), SESCTL_ERR_NETWORK);
	secret_free(&body);
}

static void test_iam_xml_bad_fields_refused(void **state)
{
	struct secret body = SECRET_INIT;
	struct iam_access_key_list l;
	struct err_info ei = { 0 };

	(void)state;
	load(&body, "bad-ListAccessKeys-bad-date.xml"); /* 30 February */
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListAccessKeys: 'CreateDate' is not an "
				    "ISO 8601 date");
	assert_null(l.items);

	load(&body, "bad-ListAccessKeys-bad-bool.xml");
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListAccessKeys: 'IsTruncated' is not a "
				    "boolean");

	load(&body, "bad-ListAccessKeys-no-id.xml");
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListAccessKeys: 'AccessKeyId' is missing "
				    "from 'member'");
	assert_null(l.items);
	assert_int_equal(l.count, 0);

	/* An empty date element is not a date. */
	load_str(&body, "<ListAccessKeysResponse><ListAccessKeysResult>"
			"<AccessKeyMetadata><member><AccessKeyId>"
			"AKIAIOSFODNN7EXAMPLE</AccessKeyId>"
			"<Status>Active</Status><CreateDate/></member>"
			"</AccessKeyMetadata></ListAccessKeysResult>"
			"</ListAccessKeysResponse>");
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListAccessKeys: 'CreateDate' is not an "
				    "ISO 8601 date");

	/* A second result element is not silently ignored. */
	load_str(&body, "<ListAccessKeysResponse><ListAccessKeysResult/>"
			"<ListAccessKeysResult/></ListAccessKeysResponse>");
	assert_int_equal(iam_xml_list_access_keys(&body, &l, &ei),
			 SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "ListAccessKeys: 'ListAccessKeysResult' "
				    "appears more than once");
	secret_free(&body);
}

/* An AccessKeyId reaches env and postfix output as it is: anything but
 * IAM's documented shape ([\w]{16,128}) is a malformed answer, in every
 * answer that carries one. */
static void test_iam_xml_access_key_id_shape(void **state)
{
	static const struct {
		const char *id;
		bool ok;
	} cases[] = {
		{ "AKIAIOSFODNN7EXAMPLE", true },
		{ "ASIAIOSFODNN7EXAMPLE", true },
		{ "AKIA_lower_case_ok9", true },
		{ "AKIAIOSFODNN7EXA", true },   /* 16: the shortest */
		{ "AKIAIOSFODNN7EX", false },   /* 15 */
		{ "AKIAIOSFODNN7EXAMPLE&#10;SMTP_PASS=x", false },
		{ "AKIAIOSFODNN7EXAMPLE\nSMTP_HOST=evil.example", false },
		{ "AKIAIOSFODNN7EXAMPLE=", false },
		{ "AKIAIOSFODNN7 EXAMPLE", false },
		{ "AKIAIOSFODNN7EXAMPLE:x", false },
	};
	char xml[2048], id[200];
	struct secret body = SECRET_INIT;
	struct iam_access_key k;
	struct iam_access_key_list l;
	struct iam_assume_role r;
	struct err_info ei = { 0 };
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases) + 2; i++) {
		const char *v;
		bool ok;

		if (i < ARRAY_LEN(cases)) {
			v = cases[i].id;
			ok = cases[i].ok;
		} else {
			/* 128 and 129 characters. */
			memset(id, 'A', sizeof(id));
			id[i == ARRAY_LEN(cases) ? 128 : 129] = '\0';
			v = id;
			ok = i == ARRAY_LEN(cases);
		}
		n = snprintf(xml, sizeof(xml),
			     "<CreateAccessKeyResponse><CreateAccessKeyResult>"
			     "<AccessKey><UserName>Bob</UserName><AccessKeyId>%s"
			     "</AccessKeyId><Status>Active</Status>"
			     "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCY"
			     "EXAMPLEKEY</SecretAccessKey></AccessKey>"
			     "</CreateAccessKeyResult></CreateAccessKeyResponse>",
			     v);
		assert_true(n > 0 && (size_t)n < sizeof(xml));
		load_str(&body, xml);
		memset(&ei, 0, sizeof(ei));
		if (ok) {
			if (iam_xml_create_access_key(&body, &k, &ei) !=
			    SESCTL_OK)
				fail_msg("'%s': %s", v, ei.msg);
			assert_string_equal(k.access_key_id, v);
			iam_access_key_release(&k);
		} else {
			assert_int_equal(iam_xml_create_access_key(&body, &k,
								   &ei),
					 SESCTL_ERR_NETWORK);
			assert_string_equal(ei.msg,
					    "CreateAccessKey: 'AccessKeyId' is "
					    "not an access key id (16 to 128 "
					    "letters, digits or '_')");
			assert_null(k.secret_access_key.p);
		}

		n = snprintf(xml, sizeof(xml),
			     "<ListAccessKeysResponse><ListAccessKeysResult>"
			     "<AccessKeyMetadata><member><AccessKeyId>%s"
			     "</AccessKeyId><Status>Active</Status></member>"
			     "</AccessKeyMetadata></ListAccessKeysResult>"
			     "</ListAccessKeysResponse>",
			     v);
		assert_true(n > 0 && (size_t)n < sizeof(xml));
		load_str(&body, xml);
		if (ok) {
			assert_int_equal(iam_xml_list_access_keys(&body, &l,
								  &ei),
					 SESCTL_OK);
			assert_int_equal(l.count, 1);
			assert_string_equal(l.items[0].access_key_id, v);
			iam_access_key_list_release(&l);
		} else {
			assert_int_equal(iam_xml_list_access_keys(&body, &l,
								  &ei),
					 SESCTL_ERR_NETWORK);
			assert_msg_has(&ei, "'AccessKeyId' is not an access "
					    "key id");
			assert_null(l.items);
		}

		n = snprintf(xml, sizeof(xml),
			     "<AssumeRoleResponse><AssumeRoleResult>"
			     "<Credentials><AccessKeyId>%s</AccessKeyId>"
			     "<SecretAccessKey>s</SecretAccessKey>"
			     "<SessionToken>t</SessionToken>"
			     "<Expiration>2030-01-01T00:00:00Z</Expiration>"
			     "</Credentials></AssumeRoleResult>"
			     "</AssumeRoleResponse>",
			     v);
		assert_true(n > 0 && (size_t)n < sizeof(xml));
		load_str(&body, xml);
		if (ok) {
			if (iam_xml_assume_role(&body, &r, &ei) != SESCTL_OK)
				fail_msg("AssumeRole '%s': %s", v, ei.msg);
			assert_string_equal(r.access_key_id, v);
			iam_assume_role_release(&r);
		} else {
			assert_int_equal(iam_xml_assume_role(&body, &r, &ei),
					 SESCTL_ERR_NETWORK);
			assert_msg_has(&ei, "'AccessKeyId' is not an access "
					    "key id");
			assert_null(r.secret_access_key.p);
		}
	}
	secret_free(&body);
}

/* A ListUsers body with `n` members, each a complete user. */
static void build_user_list(struct secret *body, size_t n, const char *item)
{
	static const char head[] = "<ListUsersResponse xmlns=\"https://iam."
				   "amazonaws.com/doc/2010-05-08/\">"
				   "<ListUsersResult><Users>";
	static const char tail[] = "</Users><IsTruncated>true</IsTruncated>"
				   "<Marker>next</Marker></ListUsersResult>"
				   "<ResponseMetadata><RequestId>r</RequestId>"
				   "</ResponseMetadata></ListUsersResponse>";
	size_t i;

	secret_clear(body);
	assert_int_equal(secret_append(body, head, strlen(head)), SESCTL_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(secret_append(body, item, strlen(item)), SESCTL_OK);
	assert_int_equal(secret_append(body, tail, strlen(tail)), SESCTL_OK);
}

static void test_iam_xml_list_member_limit(void **state)
{
	static const char item[] =
		"<member><UserId>AIDAEXAMPLE000000001</UserId>"
		"<Arn>arn:aws:iam::123456789012:user/u</Arn>"
		"<UserName>u</UserName><CreateDate>2024-01-01T00:00:00Z"
		"</CreateDate></member>";
	struct secret body = SECRET_INIT;
	struct iam_user_list l;
	struct err_info ei = { 0 };

	(void)state;
	build_user_list(&body, IAM_XML_LIST_MAX, item);
	assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_OK);
	assert_int_equal(l.count, IAM_XML_LIST_MAX);
	assert_string_equal(l.items[0].user_name, "u");
	assert_string_equal(l.items[IAM_XML_LIST_MAX - 1].user_id,
			    "AIDAEXAMPLE000000001");
	assert_int_equal(l.items[IAM_XML_LIST_MAX - 1].create_date.t, 1704067200);
	assert_true(l.is_truncated);
	assert_string_equal(l.marker, "next");
	assert_string_equal(l.meta.request_id, "r");
	iam_user_list_release(&l);

	build_user_list(&body, IAM_XML_LIST_MAX + 1, item);
	assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_ERR_INPUT);
	assert_string_equal(ei.msg, "ListUsers: 'Users' has more than 1000 members");
	assert_null(l.items);

	/* Nested lists have the same limit. */
	{
		static const char tag[] = "<member><Key>k</Key><Value>v</Value></member>";
		static const char head[] = "<GetUserResponse><GetUserResult><User>"
					   "<UserId>i</UserId><Arn>a</Arn><Tags>";
		static const char tail[] = "</Tags></User></GetUserResult>"
					   "</GetUserResponse>";
		struct iam_user_result r;
		size_t i;

		secret_clear(&body);
		assert_int_equal(secret_append(&body, head, strlen(head)), SESCTL_OK);
		for (i = 0; i <= IAM_XML_LIST_MAX; i++)
			assert_int_equal(secret_append(&body, tag, strlen(tag)),
					 SESCTL_OK);
		assert_int_equal(secret_append(&body, tail, strlen(tail)), SESCTL_OK);
		assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_ERR_INPUT);
		assert_string_equal(ei.msg, "GetUser: 'Tags' has more than 1000 members");
		assert_null(r.user.tags);
	}
	secret_free(&body);
}

static void test_iam_xml_huge_text_node(void **state)
{
	static const char head[] = "<GetUserResponse><GetUserResult><User>"
				   "<UserId>AIDAEXAMPLE000000001</UserId>"
				   "<Arn>arn:aws:iam::123456789012:user/u</Arn>";
	static const char tail[] = "</User></GetUserResult></GetUserResponse>";
	const size_t fill = IAM_XML_BODY_MAX - 200;
	struct secret body = SECRET_INIT;
	struct iam_user_result r;
	struct err_info ei = { 0 };
	char *big;

	(void)state;
	big = malloc(fill + 1);
	assert_non_null(big);
	memset(big, 'x', fill);
	big[fill] = '\0';

	/* Almost 1 MiB of text in an element nobody asked for: fine. */
	assert_int_equal(secret_set(&body, head, strlen(head)), SESCTL_OK);
	assert_int_equal(secret_append(&body, "<Junk>", 6), SESCTL_OK);
	assert_int_equal(secret_append(&body, big, fill), SESCTL_OK);
	assert_int_equal(secret_append(&body, "</Junk>", 7), SESCTL_OK);
	assert_int_equal(secret_append(&body, tail, strlen(tail)), SESCTL_OK);
	assert_true(body.len <= IAM_XML_BODY_MAX);
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_OK);
	assert_string_equal(r.user.user_id, "AIDAEXAMPLE000000001");
	iam_user_result_release(&r);

	/* The same text where a UserName goes: refused, not truncated. */
	assert_int_equal(secret_set(&body, head, strlen(head)), SESCTL_OK);
	assert_int_equal(secret_append(&body, "<UserName>", 10), SESCTL_OK);
	assert_int_equal(secret_append(&body, big, fill), SESCTL_OK);
	assert_int_equal(secret_append(&body, "</UserName>", 11), SESCTL_OK);
	assert_int_equal(secret_append(&body, tail, strlen(tail)), SESCTL_OK);
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "GetUser: 'UserName' is longer than 128 bytes");

	/* One byte over the cap, however well-formed. */
	assert_int_equal(secret_set(&body, head, strlen(head)), SESCTL_OK);
	assert_int_equal(secret_append(&body, "<Junk>", 6), SESCTL_OK);
	assert_int_equal(secret_append(&body, big, fill), SESCTL_OK);
	assert_int_equal(secret_append(&body, "</Junk>", 7), SESCTL_OK);
	assert_int_equal(secret_append(&body, tail, strlen(tail)), SESCTL_OK);
	while (body.len <= IAM_XML_BODY_MAX)
		assert_int_equal(secret_append(&body, " ", 1), SESCTL_OK);
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "GetUser: response is larger than 1048576 bytes");
	free(big);
	secret_free(&body);
}

static void test_iam_xml_doctype_and_entities_rejected(void **state)
{
	static const char *const files[] = {
		"bad-doctype-xxe.xml", "bad-billion-laughs.xml",
		"bad-doctype-external-dtd.xml",
	};
	/* "<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>" in UTF-16LE with a BOM:
	 * the byte-level sniffing cannot see it, the parser hook does. */
	static const char utf8[] = "<!DOCTYPE GetUserResponse [<!ENTITY e 'x'>]>"
				   "<GetUserResponse>&e;</GetUserResponse>";
	struct secret body = SECRET_INIT;
	struct iam_user_result r;
	struct err_info ei = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(files); i++) {
		load(&body, files[i]);
		assert_int_equal(iam_xml_get_user(&body, &r, &ei),
				 SESCTL_ERR_NETWORK);
		assert_string_equal(ei.msg, "GetUser: response has a DOCTYPE "
					    "declaration, which IAM never sends");
	}
	secret_clear(&body);
	assert_int_equal(secret_append(&body, "\xff\xfe", 2), SESCTL_OK);
	for (i = 0; i < strlen(utf8); i++) {
		char u16[2] = { utf8[i], 0 };

		assert_int_equal(secret_append(&body, u16, 2), SESCTL_OK);
	}
	assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_ERR_NETWORK);
	assert_string_equal(ei.msg, "GetUser: response has a DOCTYPE "
				    "declaration, which IAM never sends");

	/* A well-formed UTF-16 document without one is read. */
	{
		static const char ok[] = "<GetUserResponse><GetUserResult><User>"
					 "<UserId>i</UserId><Arn>a</Arn></User>"
					 "</GetUserResult></GetUserResponse>";

		secret_clear(&body);
		assert_int_equal(secret_append(&body, "\xff\xfe", 2), SESCTL_OK);
		for (i = 0; i < strlen(ok); i++) {
			char u16[2] = { ok[i], 0 };

			assert_int_equal(secret_append(&body, u16, 2), SESCTL_OK);
		}
		assert_int_equal(iam_xml_get_user(&body, &r, &ei), SESCTL_OK);
		assert_string_equal(r.user.arn, "a");
		iam_user_result_release(&r);
	}
	/* And one in Latin-1 is converted to UTF-8. */
	{
		struct iam_user_list l;

		load(&body, "quirk-ListUsers-latin1.xml");
		assert_int_equal(iam_xml_list_users(&body, &l, &ei), SESCTL_OK);
		assert_int_equal(l.count, 1);
		assert_string_equal(l.items[0].user_name, "r\xc3\xa9mi");
		assert_string_equal(l.items[0].arn,
				    "arn:aws:iam::123456789012:user/r\xc3\xa9mi");
		iam_user_list_release(&l);
	}
	secret_free(&body);
}

/* libxml2 must not write to stderr, whatever the body. */
static void test_iam_xml_libxml2_is_silent(void **state)
{
	static const char *const files[] = {
		"bad-malformed.xml", "bad-truncated.xml", "bad-doctype-xxe.xml",
		"bad-billion-laughs.xml", "bad-undeclared-entity.xml",
		"bad-json.xml", "bad-xhtml.xml", "quirk-ListUsers-latin1.xml",
	};
	struct secret body = SECRET_INIT;
	struct iam_user_list l;
	struct iam_error e;
	struct err_info ei = { 0 };
	char buf[256];
	FILE *tmp;
	int saved;
	size_t i;
	long size;

	(void)state;
	tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	for (i = 0; i < ARRAY_LEN(files); i++) {
		load(&body, files[i]);
		if (iam_xml_list_users(&body, &l, &ei) == SESCTL_OK)
			iam_user_list_release(&l);
		if (iam_xml_parse_error(&body, "X", &e, &ei) == SESCTL_OK)
			assert_string_not_equal(e.code, "");
	}
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	size = ftell(tmp);
	if (size != 0) {
		rewind(tmp);
		buf[fread(buf, 1, sizeof(buf) - 1, tmp)] = '\0';
		fail_msg("libxml2 wrote to stderr: %s", buf);
	}
	fclose(tmp);
	secret_free(&body);
}

static void test_iam_xml_dates(void **state)
{
	static const struct {
		const char *s;
		time_t t;
	} good[] = {
		{ "2013-10-02T17:01:44Z", 1380733304 },
		{ "2013-10-02T17:01:44", 1380733304 },
		{ "2013-10-02T17:01:44.5Z", 1380733304 },
		{ "2013-10-02T17:01:44.123456789Z", 1380733304 },
		{ "2013-10-02t17:01:44z", 1380733304 },
		{ "2013-10-02T19:01:44+02:00", 1380733304 },
		{ "2013-10-02T12:31:44-0430", 1380733304 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59Z", -1 },
		{ "2000-02-29T00:00:00Z", 951782400 },
		{ "2024-02-29T23:59:59Z", 1709251199 },
		{ "2038-01-19T03:14:08Z", (time_t)2147483648LL },
		{ "9999-12-31T23:59:59Z", (time_t)253402300799LL },
		{ "0001-01-01T00:00:00Z", (time_t)-62135596800LL },
		{ "2016-12-31T23:59:60Z", 1483228800 }, /* leap second */
	};
	static const char *const bad[] = {
		"", "2013", "2013-10-02", "2013-10-02 17:01:44Z",
		"2013-10-02T17:01Z", "2013-1-02T17:01:44Z", "2013-10-02T17:01:44ZZ",
		"2013-10-02T17:01:44.Z", "2013-13-02T17:01:44Z",
		"2013-00-02T17:01:44Z", "2013-10-00T17:01:44Z",
		"2013-10-32T17:01:44Z", "2013-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2013-10-02T24:00:00Z",
		"2013-10-02T17:60:44Z", "2013-10-02T17:01:61Z",
		"2013-10-02T17:01:44+24:00", "2013-10-02T17:01:44+02:60",
		"2013-10-02T17:01:44+2", "2013-10-02T17:01:44 ",
		" 2013-10-02T17:01:44Z", "20131002T170144Z", "+2013-10-02T17:01:44Z",
		"2013-10-02T17:01:44.12x", "N/A", "2013-1O-02T17:01:44Z",
	};
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(good); i++) {
		t = 42;
		if (iam_xml_parse_date(good[i].s, &t) != SESCTL_OK)
			fail_msg("'%s' refused", good[i].s);
		if (t != good[i].t)
			fail_msg("'%s': got %lld, want %lld", good[i].s,
				 (long long)t, (long long)good[i].t);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++)
		if (iam_xml_parse_date(bad[i], &t) != SESCTL_ERR_INPUT)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(iam_xml_parse_date(NULL, &t), SESCTL_ERR_INPUT);
	assert_int_equal(iam_xml_parse_date("2013-10-02T17:01:44Z", NULL),
			 SESCTL_ERR_INPUT);
}

/* Every fixture through every parser: no crash, no leak, and an error
 * always comes with a message naming the action. */
static void test_iam_xml_every_fixture_every_parser(void **state)
{
	static const char *const files[] = {
		"CreateUser.xml", "CreateUser-tags.xml", "GetUser.xml",
		"GetUser-root.xml", "GetUser-tags.xml", "ListUsers.xml",
		"ListUsers-truncated.xml", "ListUsers-empty.xml",
		"ListUserTags.xml", "ListUserTags-truncated.xml",
		"GetUserPolicy.xml", "GetUserPolicy-encoding.xml",
		"GetUserPolicy-raw.xml", "ListUserPolicies.xml",
		"ListUserPolicies-truncated.xml", "ListAttachedUserPolicies.xml",
		"CreateAccessKey.xml", "CreateAccessKey-createdate.xml",
		"ListAccessKeys.xml", "GetAccessKeyLastUsed.xml",
		"GetAccessKeyLastUsed-never.xml", "ListGroupsForUser.xml",
		"ListSigningCertificates.xml", "ListSSHPublicKeys.xml",
		"ListServiceSpecificCredentials.xml", "ListMFADevices.xml",
		"GetLoginProfile.xml", "GetCallerIdentity.xml",
		"GetCallerIdentity-assumed-role.xml", "error-NoSuchEntity.xml",
		"error-ec2-style.xml", "quirk-ListAccessKeys-extra.xml",
		"quirk-CreateAccessKey-cdata.xml", "bad-malformed.xml",
		"bad-truncated.xml", "bad-billion-laughs.xml", "bad-empty.xml",
	};
	struct secret body = SECRET_INIT;
	struct err_info ei = { SESCTL_OK, "", "" };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(files); i++) {
		union {
			struct iam_user_result u;
			struct iam_user_list ul;
			struct iam_tag_list tl;
			struct iam_user_policy up;
			struct iam_attached_policy_list ap;
			struct iam_id_list il;
			struct iam_access_key ak;
			struct iam_access_key_list akl;
			struct iam_access_key_last_used lu;
			struct iam_login_profile lp;
			struct iam_caller_identity ci;
			struct iam_metadata m;
			struct iam_error e;
		} o;
		unsigned ok = 0;

		load(&body, files[i]);
#define TRY_PARSE(call, release, action)                                   \
	do {                                                               \
		memset(&ei, 0, sizeof(ei));                                \
		if ((call) == SESCTL_OK) {                                 \
			ok++;                                              \
			release;                                           \
		} else if (strncmp(ei.msg, action ": ", strlen(action) + 2) != 0) { \
			fail_msg("%s/%s: message '%s'", files[i], action,  \
				 ei.msg);                                  \
		}                                                          \
	} while (0)
		TRY_PARSE(iam_xml_create_user(&body, &o.u, &ei),
			  iam_user_result_release(&o.u), "CreateUser");
		TRY_PARSE(iam_xml_get_user(&body, &o.u, &ei),
			  iam_user_result_release(&o.u), "GetUser");
		TRY_PARSE(iam_xml_list_users(&body, &o.ul, &ei),
			  iam_user_list_release(&o.ul), "ListUsers");
		TRY_PARSE(iam_xml_list_user_tags(&body, &o.tl, &ei),
			  iam_tag_list_release(&o.tl), "ListUserTags");
		TRY_PARSE(iam_xml_get_user_policy(&body, &o.up, &ei),
			  iam_user_policy_release(&o.up), "GetUserPolicy");
		TRY_PARSE(iam_xml_list_attached_user_policies(&body, &o.ap, &ei),
			  iam_attached_policy_list_release(&o.ap),
			  "ListAttachedUserPolicies");
		TRY_PARSE(iam_xml_list_user_policies(&body, &o.il, &ei),
			  iam_id_list_release(&o.il), "ListUserPolicies");
		TRY_PARSE(iam_xml_list_groups_for_user(&body, &o.il, &ei),
			  iam_id_list_release(&o.il), "ListGroupsForUser");
		TRY_PARSE(iam_xml_list_signing_certificates(&body, &o.il, &ei),
			  iam_id_list_release(&o.il), "ListSigningCertificates");
		TRY_PARSE(iam_xml_list_ssh_public_keys(&body, &o.il, &ei),
			  iam_id_list_release(&o.il), "ListSSHPublicKeys");
		TRY_PARSE(iam_xml_list_service_specific_credentials(&body, &o.il,
								    &ei),
			  iam_id_list_release(&o.il),
			  "ListServiceSpecificCredentials");
		TRY_PARSE(iam_xml_list_mfa_devices(&body, &o.il, &ei),
			  iam_id_list_release(&o.il), "ListMFADevices");
		TRY_PARSE(iam_xml_create_access_key(&body, &o.ak, &ei),
			  iam_access_key_release(&o.ak), "CreateAccessKey");
		TRY_PARSE(iam_xml_list_access_keys(&body, &o.akl, &ei),
			  iam_access_key_list_release(&o.akl), "ListAccessKeys");
		TRY_PARSE(iam_xml_get_access_key_last_used(&body, &o.lu, &ei),
			  iam_access_key_last_used_release(&o.lu),
			  "GetAccessKeyLastUsed");
		TRY_PARSE(iam_xml_get_login_profile(&body, &o.lp, &ei),
			  iam_login_profile_release(&o.lp), "GetLoginProfile");
		TRY_PARSE(iam_xml_get_caller_identity(&body, &o.ci, &ei),
			  iam_caller_identity_release(&o.ci),
			  "GetCallerIdentity");
		TRY_PARSE(iam_xml_parse_ack(&body, "DeleteUser", &o.m, &ei),
			  iam_metadata_release(&o.m), "DeleteUser");
		TRY_PARSE(iam_xml_parse_error(&body, "Err", &o.e, &ei), (void)0,
			  "Err");
#undef TRY_PARSE
		/* A success body fits exactly its own parser, an error body
		 * only the error parser, a bad one none. */
		if (strncmp(files[i], "bad-", 4) == 0)
			assert_int_equal(ok, 0);
		else
			assert_int_equal(ok, 1);
	}
	secret_free(&body);
}

/* status runs calls concurrently: first use of libxml2 from several
 * threads at once must be safe. */
static void *parse_in_thread(void *arg)
{
	const struct secret *body = arg;
	struct iam_access_key k;
	struct err_info ei = { SESCTL_OK, "", "" };
	int i;

	for (i = 0; i < 50; i++) {
		if (iam_xml_create_access_key(body, &k, &ei) != SESCTL_OK)
			return (void *)1;
		if (strcmp(secret_str(&k.secret_access_key),
			   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY") != 0)
			return (void *)1;
		iam_access_key_release(&k);
	}
	return NULL;
}

static void test_iam_xml_threads(void **state)
{
	struct secret body = SECRET_INIT;
	pthread_t t[4];
	void *res;
	size_t i;

	(void)state;
	load(&body, "CreateAccessKey.xml");
	for (i = 0; i < ARRAY_LEN(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, parse_in_thread, &body), 0);
	for (i = 0; i < ARRAY_LEN(t); i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	secret_free(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iam_xml_create_user_doc_example),
		cmocka_unit_test(test_iam_xml_create_user_tags_kept_verbatim),
		cmocka_unit_test(test_iam_xml_get_user_doc_example),
		cmocka_unit_test(test_iam_xml_get_user_root_and_tags),
		cmocka_unit_test(test_iam_xml_list_users),
		cmocka_unit_test(test_iam_xml_list_users_pagination),
		cmocka_unit_test(test_iam_xml_list_user_tags),
		cmocka_unit_test(test_iam_xml_get_user_policy_decoded),
		cmocka_unit_test(test_iam_xml_list_user_policies),
		cmocka_unit_test(test_iam_xml_list_attached_user_policies),
		cmocka_unit_test(test_iam_xml_create_access_key_secret_trimmed),
		cmocka_unit_test(test_iam_xml_create_access_key_quirks),
		cmocka_unit_test(test_iam_xml_create_access_key_refused),
		cmocka_unit_test(test_iam_xml_list_access_keys),
		cmocka_unit_test(test_iam_xml_list_access_keys_unknown_elements),
		cmocka_unit_test(test_iam_xml_get_access_key_last_used),
		cmocka_unit_test(test_iam_xml_id_lists),
		cmocka_unit_test(test_iam_xml_get_login_profile),
		cmocka_unit_test(test_iam_xml_get_caller_identity),
		cmocka_unit_test(test_iam_xml_ack_actions),
		cmocka_unit_test(test_iam_xml_error_responses),
		cmocka_unit_test(test_iam_xml_error_not_recognised),
		cmocka_unit_test(test_iam_xml_error_message_truncated),
		cmocka_unit_test(test_iam_xml_error_err_mapping),
		cmocka_unit_test(test_iam_xml_bad_bodies_refused),
		cmocka_unit_test(test_iam_xml_bad_fields_refused),
		cmocka_unit_test(test_iam_xml_access_key_id_shape),
		cmocka_unit_test(test_iam_xml_list_member_limit),
		cmocka_unit_test(test_iam_xml_huge_text_node),
		cmocka_unit_test(test_iam_xml_doctype_and_entities_rejected),
		cmocka_unit_test(test_iam_xml_libxml2_is_silent),
		cmocka_unit_test(test_iam_xml_dates),
		cmocka_unit_test(test_iam_xml_every_fixture_every_parser),
		cmocka_unit_test(test_iam_xml_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
