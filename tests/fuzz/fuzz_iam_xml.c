/* fuzz_iam_xml.c - libFuzzer target over every iam_xml parse function.
 *
 * Not built by default.  Build and run from the top of the tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I/tmp/bx \
 *     tests/fuzz/fuzz_iam_xml.c src/aws/iam_xml.c src/aws/iam_xml_fields.c \
 *     src/aws/iam_xml_actions.c src/base/secret.c src/base/err.c \
 *     $(pkg-config --cflags --libs libxml-2.0) -lcrypto -o /tmp/fuzz_iam_xml
 *   mkdir -p /tmp/fuzz_iam_xml_corpus
 *   /tmp/fuzz_iam_xml -max_len=65536 -max_total_time=60 \
 *     /tmp/fuzz_iam_xml_corpus tests/fuzz/corpus/iam_xml
 *
 * (/tmp/bx is a build directory holding config.h; Debian needs the package
 * libclang-rt-14-dev for -fsanitize=fuzzer.)  New inputs go to the first
 * corpus directory, so the seeds in the tree are left alone.
 *
 * Each input goes through the error parser, the parser of every action
 * whose "<Action>Response" appears in it (so the seeds reach deep), and one
 * more parser picked by the input length (so every parser sees everything);
 * results are checked for invariants the callers rely on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sesctl/aws/iam_xml.h"
#include "sesctl/base/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                  \
	do {                      \
		if (!(c))         \
			abort();  \
	} while (0)

/* A fixed char array holds a terminated string. */
#define TERMINATED(a) CHECK(memchr((a), '\0', sizeof(a)) != NULL)

static void check_date(const struct iam_date *d)
{
	TERMINATED(d->iso);
	CHECK(d->present || (d->iso[0] == '\0' && d->t == 0));
}

static void check_page(bool truncated, const char *marker, size_t count)
{
	CHECK(!truncated || marker[0] != '\0');
	CHECK(count <= IAM_XML_LIST_MAX);
}

static void check_user(const struct iam_user *u)
{
	size_t i;

	TERMINATED(u->user_name);
	TERMINATED(u->user_id);
	TERMINATED(u->arn);
	TERMINATED(u->path);
	CHECK(u->user_id[0] && u->arn[0]);
	check_date(&u->create_date);
	check_date(&u->password_last_used);
	CHECK(u->tag_count <= IAM_XML_LIST_MAX);
	CHECK((u->tags == NULL) == (u->tag_count == 0));
	for (i = 0; i < u->tag_count; i++) {
		TERMINATED(u->tags[i].key);
		TERMINATED(u->tags[i].value);
		CHECK(u->tags[i].key[0]);
	}
}

static void run_create_user(const struct secret *b)
{
	struct iam_user_result r;

	if (iam_xml_create_user(b, &r, NULL) != SESCTL_OK)
		return;
	check_user(&r.user);
	iam_user_result_release(&r);
}

static void run_get_user(const struct secret *b)
{
	struct iam_user_result r;

	if (iam_xml_get_user(b, &r, NULL) != SESCTL_OK)
		return;
	check_user(&r.user);
	iam_user_result_release(&r);
}

static void run_list_users(const struct secret *b)
{
	struct iam_user_list l;
	size_t i;

	if (iam_xml_list_users(b, &l, NULL) != SESCTL_OK)
		return;
	check_page(l.is_truncated, l.marker, l.count);
	for (i = 0; i < l.count; i++)
		check_user(&l.items[i]);
	iam_user_list_release(&l);
}

static void run_list_user_tags(const struct secret *b)
{
	struct iam_tag_list l;
	size_t i;

	if (iam_xml_list_user_tags(b, &l, NULL) != SESCTL_OK)
		return;
	check_page(l.is_truncated, l.marker, l.count);
	for (i = 0; i < l.count; i++)
		CHECK(l.items[i].key[0]);
	iam_tag_list_release(&l);
}

static void run_get_user_policy(const struct secret *b)
{
	struct iam_user_policy p;

	if (iam_xml_get_user_policy(b, &p, NULL) != SESCTL_OK)
		return;
	CHECK(p.policy_document != NULL);
	CHECK(strlen(p.policy_document) == p.policy_document_len);
	CHECK(p.user_name[0] && p.policy_name[0]);
	iam_user_policy_release(&p);
}

static void run_list_attached(const struct secret *b)
{
	struct iam_attached_policy_list l;
	size_t i;

	if (iam_xml_list_attached_user_policies(b, &l, NULL) != SESCTL_OK)
		return;
	check_page(l.is_truncated, l.marker, l.count);
	for (i = 0; i < l.count; i++)
		CHECK(l.items[i].policy_arn[0] && l.items[i].policy_name[0]);
	iam_attached_policy_list_release(&l);
}

typedef sesctl_err (*id_list_fn)(const struct secret *, struct iam_id_list *,
				 struct err_info *);

static void run_id_list(const struct secret *b, id_list_fn fn)
{
	struct iam_id_list l;
	size_t i;

	if (fn(b, &l, NULL) != SESCTL_OK)
		return;
	check_page(l.is_truncated, l.marker, l.count);
	for (i = 0; i < l.count; i++) {
		TERMINATED(l.items[i].id);
		TERMINATED(l.items[i].service_name);
		CHECK(l.items[i].id[0]);
	}
	iam_id_list_release(&l);
}

static void run_list_user_policies(const struct secret *b)
{
	run_id_list(b, iam_xml_list_user_policies);
}

static void run_list_groups(const struct secret *b)
{
	run_id_list(b, iam_xml_list_groups_for_user);
}

static void run_list_certs(const struct secret *b)
{
	run_id_list(b, iam_xml_list_signing_certificates);
}

static void run_list_ssh_keys(const struct secret *b)
{
	run_id_list(b, iam_xml_list_ssh_public_keys);
}

static void run_list_sscs(const struct secret *b)
{
	run_id_list(b, iam_xml_list_service_specific_credentials);
}

static void run_list_mfa(const struct secret *b)
{
	run_id_list(b, iam_xml_list_mfa_devices);
}

static void run_create_access_key(const struct secret *b)
{
	struct iam_access_key k;

	if (iam_xml_create_access_key(b, &k, NULL) != SESCTL_OK)
		return;
	CHECK(k.access_key_id[0]);
	CHECK(k.secret_access_key.p && k.secret_access_key.len > 0);
	CHECK(k.secret_access_key.p[k.secret_access_key.len] == 0);
	CHECK(k.secret_access_key.p[0] != ' ' &&
	      k.secret_access_key.p[0] != '\n');
	check_date(&k.create_date);
	iam_access_key_release(&k);
	CHECK(k.secret_access_key.p == NULL);
}

static void run_list_access_keys(const struct secret *b)
{
	struct iam_access_key_list l;
	size_t i;

	if (iam_xml_list_access_keys(b, &l, NULL) != SESCTL_OK)
		return;
	check_page(l.is_truncated, l.marker, l.count);
	for (i = 0; i < l.count; i++) {
		CHECK(l.items[i].access_key_id[0] && l.items[i].status_text[0]);
		check_date(&l.items[i].create_date);
	}
	iam_access_key_list_release(&l);
}

static void run_last_used(const struct secret *b)
{
	struct iam_access_key_last_used u;

	if (iam_xml_get_access_key_last_used(b, &u, NULL) != SESCTL_OK)
		return;
	CHECK(u.service_name[0] && u.region[0]);
	check_date(&u.last_used_date);
	iam_access_key_last_used_release(&u);
}

static void run_login_profile(const struct secret *b)
{
	struct iam_login_profile p;

	if (iam_xml_get_login_profile(b, &p, NULL) != SESCTL_OK)
		return;
	check_date(&p.create_date);
	iam_login_profile_release(&p);
}

static void run_caller_identity(const struct secret *b)
{
	struct iam_caller_identity c;

	if (iam_xml_get_caller_identity(b, &c, NULL) != SESCTL_OK)
		return;
	CHECK(c.arn[0] && c.user_id[0] && c.account[0]);
	iam_caller_identity_release(&c);
}

static void run_ack(const struct secret *b)
{
	struct iam_metadata m;

	if (iam_xml_parse_ack(b, "DeleteUser", &m, NULL) == SESCTL_OK) {
		TERMINATED(m.request_id);
		iam_metadata_release(&m);
	}
}

static const struct {
	const char *root;
	void (*run)(const struct secret *b);
} parsers[] = {
	{ "CreateUserResponse", run_create_user },
	{ "GetUserResponse", run_get_user },
	{ "ListUsersResponse", run_list_users },
	{ "ListUserTagsResponse", run_list_user_tags },
	{ "GetUserPolicyResponse", run_get_user_policy },
	{ "ListAttachedUserPoliciesResponse", run_list_attached },
	{ "ListUserPoliciesResponse", run_list_user_policies },
	{ "ListGroupsForUserResponse", run_list_groups },
	{ "ListSigningCertificatesResponse", run_list_certs },
	{ "ListSSHPublicKeysResponse", run_list_ssh_keys },
	{ "ListServiceSpecificCredentialsResponse", run_list_sscs },
	{ "ListMFADevicesResponse", run_list_mfa },
	{ "CreateAccessKeyResponse", run_create_access_key },
	{ "ListAccessKeysResponse", run_list_access_keys },
	{ "GetAccessKeyLastUsedResponse", run_last_used },
	{ "GetLoginProfileResponse", run_login_profile },
	{ "GetCallerIdentityResponse", run_caller_identity },
	{ "DeleteUserResponse", run_ack },
};

#define NPARSERS (sizeof(parsers) / sizeof(parsers[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret body = SECRET_INIT;
	struct iam_error e;
	struct err_info ei = { SESCTL_OK, "", "" };
	char date[80];
	size_t i;

	if (secret_set(&body, data, size) != SESCTL_OK)
		return 0;

	if (iam_xml_parse_error(&body, "Fuzz", &e, &ei) == SESCTL_OK) {
		TERMINATED(e.code);
		TERMINATED(e.type);
		TERMINATED(e.message);
		TERMINATED(e.request_id);
		CHECK(e.code[0]);
		(void)iam_xml_error_err(&e, 400);
		(void)iam_xml_error_retryable(&e, 400);
	} else {
		TERMINATED(ei.msg);
		CHECK(strncmp(ei.msg, "Fuzz: ", 6) == 0);
	}

	for (i = 0; i < NPARSERS; i++)
		if (memmem(data, size, parsers[i].root,
			   strlen(parsers[i].root)))
			parsers[i].run(&body);
	parsers[size % NPARSERS].run(&body);

	/* The date parser on the raw bytes. */
	if (size < sizeof(date)) {
		time_t t;

		memcpy(date, data, size);
		date[size] = '\0';
		(void)iam_xml_parse_date(date, &t);
	}
	secret_free(&body);
	return 0;
}
