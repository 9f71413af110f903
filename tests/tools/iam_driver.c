/* iam_driver.c - a test-only front end to sesctl's IAM client.
 *
 *   iam_driver [--profile P] [--region R] [--endpoint-url U] [--ca-bundle F]
 *              [--debug] Action [Name=Value...]
 *
 * Resolves the caller's credentials and the endpoint exactly as sesctl
 * does (creds, iam_client_init), makes the typed call for Action and
 * prints its parsed result as one JSON object on stdout; on failure prints
 * sesctl's error message on stderr and exits with sesctl's exit code.
 * The integration tests use it to drive every IAM action against the IAM
 * stand-in before the lifecycle commands exist to do so.  Its output
 * includes a created key's secret: it is a test tool for fake accounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sesctl/aws/creds.h"
#include "sesctl/base/ctx.h"
#include "sesctl/aws/iam.h"

#define MAX_ARGS 64

struct args {
	const char *name[MAX_ARGS];
	const char *value[MAX_ARGS];
	size_t n;
};

static const char *arg(const struct args *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->name[i], name) == 0)
			return a->value[i];
	return NULL;
}

static cJSON *date_json(const struct iam_date *d)
{
	return d->present ? cJSON_CreateString(d->iso) : cJSON_CreateNull();
}

static cJSON *tags_json(const struct iam_tag *t, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "Key", t[i].key);
		cJSON_AddStringToObject(o, "Value", t[i].value);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *user_json(const struct iam_user *u)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "UserName", u->user_name);
	cJSON_AddStringToObject(o, "UserId", u->user_id);
	cJSON_AddStringToObject(o, "Arn", u->arn);
	cJSON_AddStringToObject(o, "Path", u->path);
	cJSON_AddItemToObject(o, "CreateDate", date_json(&u->create_date));
	cJSON_AddItemToObject(o, "Tags", tags_json(u->tags, u->tag_count));
	return o;
}

static cJSON *ids_json(const struct iam_id_list *l)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < l->count; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(l->items[i].id));
	return arr;
}

/* Tags from Key1=.. Value1=.. Key2=.. */
static size_t tags_from_args(const struct args *a, struct iam_tag_in *t)
{
	char k[16], v[16];
	size_t n = 0;

	for (;;) {
		snprintf(k, sizeof(k), "Key%zu", n + 1);
		snprintf(v, sizeof(v), "Value%zu", n + 1);
		if (!arg(a, k) || n >= 50)
			return n;
		t[n].key = arg(a, k);
		t[n].value = arg(a, v) ? arg(a, v) : "";
		n++;
	}
}

static sesctl_err run(struct iam_client *c, const char *action,
		      const struct args *a, cJSON *out)
{
	const char *user = arg(a, "UserName");
	struct iam_tag_in tags[50];
	sesctl_err rc = SESCTL_OK;

	if (strcmp(action, "CreateUser") == 0) {
		struct iam_user_result r;

		memset(&r, 0, sizeof(r));
		rc = iam_create_user(c, user, arg(a, "Path"), tags,
				     tags_from_args(a, tags), &r);
		if (rc == SESCTL_OK)
			cJSON_AddItemToObject(out, "User", user_json(&r.user));
		iam_user_result_release(&r);
	} else if (strcmp(action, "GetUser") == 0) {
		struct iam_user_result r;

		memset(&r, 0, sizeof(r));
		rc = iam_get_user(c, user, &r);
		if (rc == SESCTL_OK)
			cJSON_AddItemToObject(out, "User", user_json(&r.user));
		iam_user_result_release(&r);
	} else if (strcmp(action, "TagUser") == 0) {
		rc = iam_tag_user(c, user, tags, tags_from_args(a, tags));
	} else if (strcmp(action, "UntagUser") == 0) {
		const char *keys[50];
		char k[16];
		size_t n = 0;

		for (;;) {
			snprintf(k, sizeof(k), "TagKey%zu", n + 1);
			if (!arg(a, k) || n >= 50)
				break;
			keys[n++] = arg(a, k);
		}
		rc = iam_untag_user(c, user, keys, n);
	} else if (strcmp(action, "ListUserTags") == 0) {
		struct iam_tag_list l;

		rc = iam_list_user_tags(c, user, &l);
		if (rc == SESCTL_OK)
			cJSON_AddItemToObject(out, "Tags",
					      tags_json(l.items, l.count));
		iam_tag_list_release(&l);
	} else if (strcmp(action, "ListUsers") == 0) {
		struct iam_user_list l;
		cJSON *arr = cJSON_CreateArray();
		size_t i;

		rc = iam_list_users(c, arg(a, "PathPrefix"), &l);
		for (i = 0; rc == SESCTL_OK && i < l.count; i++)
			cJSON_AddItemToArray(arr, user_json(&l.items[i]));
		cJSON_AddItemToObject(out, "Users", arr);
		iam_user_list_release(&l);
	} else if (strcmp(action, "DeleteUser") == 0) {
		rc = iam_delete_user(c, user);
	} else if (strcmp(action, "PutUserPolicy") == 0) {
		rc = iam_put_user_policy(c, user, arg(a, "PolicyName"),
					 arg(a, "PolicyDocument"));
	} else if (strcmp(action, "GetUserPolicy") == 0) {
		struct iam_user_policy p;

		memset(&p, 0, sizeof(p));
		rc = iam_get_user_policy(c, user, arg(a, "PolicyName"), &p);
		if (rc == SESCTL_OK) {
			cJSON_AddStringToObject(out, "PolicyName", p.policy_name);
			cJSON_AddStringToObject(out, "PolicyDocument",
						p.policy_document);
		}
		iam_user_policy_release(&p);
	} else if (strcmp(action, "ListUserPolicies") == 0) {
		struct iam_id_list l;

		rc = iam_list_user_policies(c, user, &l);
		if (rc == SESCTL_OK)
			cJSON_AddItemToObject(out, "PolicyNames", ids_json(&l));
		iam_id_list_release(&l);
	} else if (strcmp(action, "DeleteUserPolicy") == 0) {
		rc = iam_delete_user_policy(c, user, arg(a, "PolicyName"));
	} else if (strcmp(action, "AttachUserPolicy") == 0) {
		rc = iam_attach_user_policy(c, user, arg(a, "PolicyArn"));
	} else if (strcmp(action, "DetachUserPolicy") == 0) {
		rc = iam_detach_user_policy(c, user, arg(a, "PolicyArn"));
	} else if (strcmp(action, "ListAttachedUserPolicies") == 0) {
		struct iam_attached_policy_list l;
		cJSON *arr = cJSON_CreateArray();
		size_t i;

		rc = iam_list_attached_user_policies(c, user, &l);
		for (i = 0; rc == SESCTL_OK && i < l.count; i++)
			cJSON_AddItemToArray(
				arr, cJSON_CreateString(l.items[i].policy_arn));
		cJSON_AddItemToObject(out, "PolicyArns", arr);
		iam_attached_policy_list_release(&l);
	} else if (strcmp(action, "CreateAccessKey") == 0) {
		struct iam_access_key k;

		memset(&k, 0, sizeof(k));
		rc = iam_create_access_key(c, user, &k);
		if (rc == SESCTL_OK) {
			cJSON_AddStringToObject(out, "AccessKeyId",
						k.access_key_id);
			cJSON_AddStringToObject(out, "Status", k.status_text);
			cJSON_AddStringToObject(
				out, "SecretAccessKey",
				secret_str(&k.secret_access_key));
		}
		iam_access_key_release(&k);
	} else if (strcmp(action, "ListAccessKeys") == 0) {
		struct iam_access_key_list l;
		cJSON *arr = cJSON_CreateArray();
		size_t i;

		rc = iam_list_access_keys(c, user, &l);
		for (i = 0; rc == SESCTL_OK && i < l.count; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "AccessKeyId",
						l.items[i].access_key_id);
			cJSON_AddStringToObject(o, "Status",
						l.items[i].status_text);
			cJSON_AddItemToObject(o, "CreateDate",
					      date_json(&l.items[i].create_date));
			cJSON_AddItemToArray(arr, o);
		}
		cJSON_AddItemToObject(out, "AccessKeys", arr);
		iam_access_key_list_release(&l);
	} else if (strcmp(action, "UpdateAccessKey") == 0) {
		rc = iam_update_access_key(c, user, arg(a, "AccessKeyId"),
					   arg(a, "Status"));
	} else if (strcmp(action, "DeleteAccessKey") == 0) {
		rc = iam_delete_access_key(c, user, arg(a, "AccessKeyId"));
	} else if (strcmp(action, "GetAccessKeyLastUsed") == 0) {
		struct iam_access_key_last_used u;

		memset(&u, 0, sizeof(u));
		rc = iam_get_access_key_last_used(c, arg(a, "AccessKeyId"), &u);
		if (rc == SESCTL_OK) {
			cJSON_AddStringToObject(out, "UserName", u.user_name);
			cJSON_AddItemToObject(out, "LastUsedDate",
					      date_json(&u.last_used_date));
			cJSON_AddStringToObject(out, "ServiceName",
						u.service_name);
			cJSON_AddStringToObject(out, "Region", u.region);
		}
		iam_access_key_last_used_release(&u);
	} else if (strcmp(action, "ListGroupsForUser") == 0 ||
		   strcmp(action, "ListSigningCertificates") == 0 ||
		   strcmp(action, "ListSSHPublicKeys") == 0 ||
		   strcmp(action, "ListServiceSpecificCredentials") == 0 ||
		   strcmp(action, "ListMFADevices") == 0) {
		struct iam_id_list l;

		if (action[4] == 'G')
			rc = iam_list_groups_for_user(c, user, &l);
		else if (action[5] == 'i')
			rc = iam_list_signing_certificates(c, user, &l);
		else if (action[5] == 'S')
			rc = iam_list_ssh_public_keys(c, user, &l);
		else if (action[5] == 'e')
			rc = iam_list_service_specific_credentials(c, user, &l);
		else
			rc = iam_list_mfa_devices(c, user, &l);
		if (rc == SESCTL_OK)
			cJSON_AddItemToObject(out, "Ids", ids_json(&l));
		iam_id_list_release(&l);
	} else if (strcmp(action, "RemoveUserFromGroup") == 0) {
		rc = iam_remove_user_from_group(c, user, arg(a, "GroupName"));
	} else if (strcmp(action, "GetLoginProfile") == 0) {
		struct iam_login_profile p;

		memset(&p, 0, sizeof(p));
		rc = iam_get_login_profile(c, user, &p);
		if (rc == SESCTL_OK)
			cJSON_AddStringToObject(out, "UserName", p.user_name);
		iam_login_profile_release(&p);
	} else if (strcmp(action, "DeleteLoginProfile") == 0) {
		rc = iam_delete_login_profile(c, user);
	} else if (strcmp(action, "DeleteSigningCertificate") == 0) {
		rc = iam_delete_signing_certificate(c, user,
						    arg(a, "CertificateId"));
	} else if (strcmp(action, "DeleteSSHPublicKey") == 0) {
		rc = iam_delete_ssh_public_key(c, user,
					       arg(a, "SSHPublicKeyId"));
	} else if (strcmp(action, "DeleteServiceSpecificCredential") == 0) {
		rc = iam_delete_service_specific_credential(
			c, user, arg(a, "ServiceSpecificCredentialId"));
	} else if (strcmp(action, "DeactivateMFADevice") == 0) {
		rc = iam_deactivate_mfa_device(c, user, arg(a, "SerialNumber"));
	} else if (strcmp(action, "DeleteVirtualMFADevice") == 0) {
		rc = iam_delete_virtual_mfa_device(c, arg(a, "SerialNumber"));
	} else {
		rc = err_set(&c->ctx->err, SESCTL_ERR_USAGE,
			     "iam_driver: unknown action '%s'", action);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct ctx ctx;
	struct creds cr;
	struct creds_region region;
	struct creds_opts co = { NULL, NULL, NULL };
	struct iam_config cfg;
	struct iam_client c;
	struct args a;
	const char *endpoint = NULL, *ca = NULL, *action = NULL;
	cJSON *out = NULL;
	char *text = NULL;
	sesctl_err rc = SESCTL_OK;
	int i;

	ctx_init(&ctx);
	creds_init(&cr);
	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc; i++) {
		char *eq;

		if (strcmp(argv[i], "--debug") == 0)
			ctx.debug = true;
		else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			co.profile = argv[++i];
		else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
			co.region = argv[++i];
		else if (strcmp(argv[i], "--endpoint-url") == 0 && i + 1 < argc)
			endpoint = argv[++i];
		else if (strcmp(argv[i], "--ca-bundle") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (!action)
			action = argv[i];
		else if ((eq = strchr(argv[i], '=')) && a.n < MAX_ARGS) {
			*eq = '\0';
			a.name[a.n] = argv[i];
			a.value[a.n++] = eq + 1;
		}
	}
	if (!action) {
		fprintf(stderr, "usage: iam_driver [options] Action [Name=Value...]\n");
		return 2;
	}
	memset(&region, 0, sizeof(region));
	rc = creds_region(&ctx, &co, &region);
	if (rc != SESCTL_OK)
		goto out;
	rc = creds_resolve(&ctx, &co, &cr);
	if (rc != SESCTL_OK)
		goto out;
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = region.name[0] ? region.name : "us-east-1";
	cfg.endpoint_url = endpoint;
	cfg.ca_bundle = ca;
	cfg.access_key_id = cr.access_key_id;
	cfg.secret_key = &cr.secret_key;
	cfg.session_token = cr.session_token.len ? &cr.session_token : NULL;
	rc = iam_client_init(&c, &ctx, &cfg);
	if (rc != SESCTL_OK)
		goto out;
	out = cJSON_CreateObject();
	rc = run(&c, action, &a, out);
	cJSON_AddNumberToObject(out, "requests", c.aws.requests);
	cJSON_AddNumberToObject(out, "connections",
				(double)http_client_connections(c.aws.http));
	cJSON_AddBoolToObject(out, "outcome_unknown", c.outcome_unknown);
	cJSON_AddStringToObject(out, "error_code", c.last_error.code);
	text = cJSON_PrintUnformatted(out);
	if (text)
		printf("%s\n", text);
out:
	if (rc != SESCTL_OK)
		fprintf(stderr, "sesctl: error: %s\n",
			ctx.err.msg[0] ? ctx.err.msg : err_desc(rc));
	free(text);
	cJSON_Delete(out);
	iam_client_release(&c);
	creds_release(&cr);
	return err_exit_code(rc);
}
