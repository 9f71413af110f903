/* aws_proto.c - the protocols' own pieces for the AWS client core (see
 * aws_client.h): the Query protocol's form body, and JSON 1.1's error
 * answers.  Query's XML errors are iam_xml's (iam_xml_parse_error).
 */
#include "sesctl/aws/aws_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define FORM_MAX ((size_t)256 << 10)

/* ---- Query: the form body ------------------------------------------ */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* Append `s`, percent-encoded (RFC 3986) when `encode`, growing *buf. */
static sesctl_err form_append(char **buf, size_t *len, size_t *cap,
			      const char *s, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		size_t need = encode && !unreserved(*p) ? 3 : 1;

		if (*len + need + 1 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			char *nb;

			while (ncap < *len + need + 1)
				ncap *= 2;
			if (ncap > FORM_MAX)
				return SESCTL_ERR_INPUT;
			nb = realloc(*buf, ncap);
			if (!nb)
				return SESCTL_ERR_NOMEM;
			*buf = nb;
			*cap = ncap;
		}
		if (need == 3) {
			(*buf)[(*len)++] = '%';
			(*buf)[(*len)++] = hex[*p >> 4];
			(*buf)[(*len)++] = hex[*p & 0xf];
		} else {
			(*buf)[(*len)++] = (char)*p;
		}
	}
	if (*buf)
		(*buf)[*len] = '\0';
	return SESCTL_OK;
}

sesctl_err aws_query_body(const char *action, const char *version,
			  const struct aws_param *params, size_t n_params,
			  char **out)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, i;
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	TRY(form_append(&buf, &len, &cap, "Action=", false));
	TRY(form_append(&buf, &len, &cap, action, true));
	TRY(form_append(&buf, &len, &cap, "&Version=", false));
	TRY(form_append(&buf, &len, &cap, version, true));
	for (i = 0; i < n_params; i++) {
		if (!params[i].value)
			continue;
		TRY(form_append(&buf, &len, &cap, "&", false));
		TRY(form_append(&buf, &len, &cap, params[i].name, true));
		TRY(form_append(&buf, &len, &cap, "=", false));
		TRY(form_append(&buf, &len, &cap, params[i].value, true));
	}
	*out = buf;
	buf = NULL;
out:
	free(buf);
	return rc;
}

/* ---- JSON 1.1: errors ---------------------------------------------- */

/* Copy `s` into dst[size], cut with "..." when it does not fit. */
static void copy_cut(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n < size) {
		memcpy(dst, s, n + 1);
		return;
	}
	memcpy(dst, s, size - 4);
	memcpy(dst + size - 4, "...", 4);
}

static const char *string_member(const cJSON *o, const char *a,
				 const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (!cJSON_IsString(v) && b)
		v = cJSON_GetObjectItemCaseSensitive(o, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

sesctl_err aws_json_parse_error(const struct http_response *resp,
				const char *action, struct iam_error *e,
				struct err_info *ei)
{
	cJSON *doc = NULL;
	const char *type, *msg, *hash;
	sesctl_err rc = SESCTL_OK;

	memset(e, 0, sizeof(*e));
	if (resp->body.len > 0)
		doc = cJSON_ParseWithLength((const char *)resp->body.p,
					    resp->body.len);
	type = cJSON_IsObject(doc) ? string_member(doc, "__type", "code") :
				     NULL;
	ENSURE(type && *type,
	       err_set(ei, SESCTL_ERR_NETWORK,
		       "%s: the answer is not an AWS JSON error (%s, %zu "
		       "bytes)",
		       action, doc ? "JSON without __type" : "not JSON",
		       resp->body.len));
	/* "com.amazonaws.secretsmanager#ResourceNotFoundException" is
	 * ResourceNotFoundException; some services add ":http://..." after
	 * the name. */
	hash = strrchr(type, '#');
	if (hash)
		type = hash + 1;
	copy_cut(e->code, sizeof(e->code), type);
	e->code[strcspn(e->code, ":")] = '\0';
	ENSURE(e->code[0],
	       err_set(ei, SESCTL_ERR_NETWORK,
		       "%s: the answer's __type names no error", action));
	msg = string_member(doc, "message", "Message");
	copy_cut(e->message, sizeof(e->message), msg ? msg : "");
	copy_cut(e->type, sizeof(e->type),
		 resp->status >= 500 ? "Receiver" : "Sender");
	copy_cut(e->request_id, sizeof(e->request_id), resp->request_id);
out:
	cJSON_Delete(doc);
	return rc;
}

/* ---- JSON 1.1: a call ---------------------------------------------- */

bool aws_json_add_tags(cJSON *req, const struct aws_tag *tags, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(req, "Tags"), *t;
	size_t i;

	for (i = 0; arr && i < n; i++) {
		t = cJSON_CreateObject();
		if (!t || !cJSON_AddItemToArray(arr, t) ||
		    !cJSON_AddStringToObject(t, "Key", tags[i].key) ||
		    !cJSON_AddStringToObject(t, "Value", tags[i].value))
			return false;
	}
	return arr != NULL;
}

sesctl_err aws_json_call(struct aws_client *c, const char *action,
			 unsigned flags, struct cJSON *req,
			 struct cJSON **answer, struct iam_error *ie,
			 bool *unknown)
{
	struct secret body = SECRET_INIT, got = SECRET_INIT;
	char *text = req ? cJSON_PrintUnformatted(req) : NULL;
	sesctl_err rc = SESCTL_OK;

	if (answer)
		*answer = NULL;
	*unknown = false;
	ENSURE(text, err_set(&c->ctx->err, SESCTL_ERR_NOMEM, "out of memory"));
	rc = secret_set(&body, text, strlen(text));
	ENSURE(rc == SESCTL_OK, err_set(&c->ctx->err, rc, "out of memory"));
	rc = aws_call(c, action, flags, secret_str(&body), &got, ie, unknown);
	if (rc != SESCTL_OK || !answer)
		goto out;
	*answer = cJSON_ParseWithLength((const char *)got.p, got.len);
	if (!*answer) {
		rc = err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
			     "%s: %s's answer is not JSON", action,
			     c->svc->name);
		if (!(flags & AWS_READ))
			*unknown = true; /* answered 2xx: applied, unread */
	}
out:
	if (text)
		cJSON_free(text); /* wiped: the hooks are secret.h's */
	secret_free(&body);
	secret_free(&got);
	return rc;
}

sesctl_err aws_json_change(struct aws_client *c, const char *action,
			   struct cJSON *req, struct cJSON **answer,
			   struct iam_error *ie, const char *what,
			   const char *shows, aws_applied_fn applied,
			   void *arg, bool *unknown)
{
	struct iam_error saved;
	char why[ERR_MSG_MAX];
	bool sent_unknown = false, done = false;
	int sends;
	sesctl_err rc = SESCTL_OK, back;

	*unknown = false;
	for (sends = 0; sends < 2; sends++) {
		rc = aws_json_call(c, action, 0, req, answer, ie,
				   &sent_unknown);
		if (rc == SESCTL_OK || !sent_unknown)
			return rc;
		snprintf(why, sizeof(why), "%s", c->ctx->err.msg);
		ctx_debug(c->ctx, "%s may or may not have been applied (%s); "
				  "reading %s back",
			  action, why, what);
		saved = *ie;
		back = applied(arg, &done);
		*ie = saved;
		if (back != SESCTL_OK) {
			*unknown = true;
			return err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
				       "%s of %s may or may not have been "
				       "applied (%s), and reading it back "
				       "failed: %s\n'%s' shows what %s has",
				       action, what, why, c->ctx->err.msg,
				       shows, c->svc->name);
		}
		if (done) {
			ctx_debug(c->ctx, "%s was applied; its answer was lost",
				  action);
			return SESCTL_OK;
		}
		rc = err_set(&c->ctx->err, SESCTL_ERR_NETWORK,
			     "%s of %s was not applied: %s", action, what, why);
	}
	return rc;
}
