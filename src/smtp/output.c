/* output.c - env, export, dotenv, json, postfix and k8s-secret renderings
 * of the SMTP settings (see output.h), and status, plan and errors as JSON;
 * the IAM policy is in output_policy.c, YAML quoting and Kubernetes' name
 * rules in output_k8s.c. */
#include "sesctl/smtp/output.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Largest rendering we produce: a few short fields a region. */
#define OUTPUT_MAX 65536
#define OUTPUT_MAX_REGIONS 64

static sesctl_err put(struct secret *o, const char *s)
{
	return secret_append(o, s, strlen(s));
}

static sesctl_err put_port(struct secret *o, int port)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", port);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return SESCTL_ERR_INPUT;
	return put(o, buf);
}

/* Shell single quotes: ' becomes '\'' . */
static sesctl_err put_shell_quoted(struct secret *o, const char *s)
{
	sesctl_err rc = SESCTL_OK;

	TRY(put(o, "'"));
	for (; *s; s++)
		TRY(*s == '\'' ? put(o, "'\\''") : secret_append(o, s, 1));
	TRY(put(o, "'"));
out:
	return rc;
}

/* dotenv double quotes: backslash-escape \ " and $ . */
static sesctl_err put_dotenv_quoted(struct secret *o, const char *s)
{
	sesctl_err rc = SESCTL_OK;

	TRY(put(o, "\""));
	for (; *s; s++) {
		if (*s == '\\' || *s == '"' || *s == '$')
			TRY(put(o, "\\"));
		TRY(secret_append(o, s, 1));
	}
	TRY(put(o, "\""));
out:
	return rc;
}

/* LINE_YAML: "  NAME: "value"", a stringData entry of a Secret. */
enum line_style { LINE_PLAIN, LINE_EXPORT, LINE_DOTENV, LINE_YAML };

static sesctl_err put_line(struct secret *o, enum line_style style,
			   const char *name, const char *value)
{
	sesctl_err rc = SESCTL_OK;

	if (style == LINE_EXPORT)
		TRY(put(o, "export "));
	if (style == LINE_YAML)
		TRY(put(o, "  "));
	TRY(put(o, name));
	TRY(put(o, style == LINE_YAML ? ": " : "="));
	switch (style) {
	case LINE_YAML:
		TRY(output_yaml_quote(o, value));
		break;
	case LINE_EXPORT:
		TRY(put_shell_quoted(o, value));
		break;
	case LINE_DOTENV:
		TRY(put_dotenv_quoted(o, value));
		break;
	case LINE_PLAIN:
	default:
		TRY(put(o, value));
		break;
	}
	TRY(put(o, "\n"));
out:
	return rc;
}

/* "_EU_WEST_1" for eu-west-1 when there are several regions, else "". */
static void region_suffix(const struct smtp_creds *c, size_t n, char *out,
			  size_t size)
{
	size_t i, j = 0;

	out[0] = '\0';
	if (n < 2 || size < 2)
		return;
	out[j++] = '_';
	for (i = 0; c->region[i] && j + 1 < size; i++)
		out[j++] = c->region[i] == '-' ?
				   '_' :
				   (char)toupper((unsigned char)c->region[i]);
	out[j] = '\0';
}

static sesctl_err render_lines(const struct smtp_creds *c, size_t n,
			       struct secret *o, enum line_style style)
{
	char port[16], suffix[40], name[64];
	sesctl_err rc = SESCTL_OK;
	size_t i;
	int len;

	/* One region: HOST, PORT, USER, PASS.  Several: the user (the same
	 * key for all) first, then a block per region. */
	if (c[0].user && n > 1)
		TRY(put_line(o, style, "SMTP_USER", c[0].user));
	for (i = 0; i < n; i++) {
		len = snprintf(port, sizeof(port), "%d", c[i].port);
		ENSURE(len > 0 && (size_t)len < sizeof(port), SESCTL_ERR_INPUT);
		region_suffix(&c[i], n, suffix, sizeof(suffix));
		snprintf(name, sizeof(name), "SMTP_HOST%s", suffix);
		TRY(put_line(o, style, name, c[i].host));
		snprintf(name, sizeof(name), "SMTP_PORT%s", suffix);
		TRY(put_line(o, style, name, port));
		if (c[i].user && n == 1)
			TRY(put_line(o, style, "SMTP_USER", c[i].user));
		snprintf(name, sizeof(name), "SMTP_PASS%s", suffix);
		TRY(put_line(o, style, name, secret_str(c[i].password)));
	}
out:
	return rc;
}

static sesctl_err render_env(const struct smtp_creds *c, size_t n,
			     const struct output_meta *meta,
			     struct secret *o)
{
	(void)meta;
	return render_lines(c, n, o, LINE_PLAIN);
}

static sesctl_err render_export(const struct smtp_creds *c, size_t n,
				const struct output_meta *meta,
				struct secret *o)
{
	(void)meta;
	return render_lines(c, n, o, LINE_EXPORT);
}

static sesctl_err render_dotenv(const struct smtp_creds *c, size_t n,
				const struct output_meta *meta,
				struct secret *o)
{
	(void)meta;
	return render_lines(c, n, o, LINE_DOTENV);
}

/* "k8s-secret": a v1 Secret for kubectl apply, whose stringData holds the
 * keys env writes, in its order.  Every value is double-quoted
 * (output_k8s.c says why); sesctl reads it back strictly
 * (output_parse.c), so any change here is a change there. */
static sesctl_err render_k8s_secret(const struct smtp_creds *c, size_t n,
				    const struct output_meta *meta,
				    struct secret *o)
{
	sesctl_err rc = SESCTL_OK;

	ENSURE(meta && meta->k8s_name &&
		       output_k8s_name_ok(meta->k8s_name, false) &&
		       (!meta->k8s_namespace ||
			output_k8s_name_ok(meta->k8s_namespace, true)),
	       SESCTL_ERR_INPUT);
	TRY(put(o, "apiVersion: v1\n"
		   "kind: Secret\n"
		   "metadata:\n"
		   "  name: "));
	TRY(output_yaml_quote(o, meta->k8s_name));
	if (meta->k8s_namespace) {
		TRY(put(o, "\n  namespace: "));
		TRY(output_yaml_quote(o, meta->k8s_namespace));
	}
	TRY(put(o, "\n  labels:\n"
		   "    " K8S_MANAGED_BY_LABEL ": \"" K8S_MANAGED_BY_VALUE "\"\n"
		   "type: Opaque\n"
		   "stringData:\n"));
	TRY(render_lines(c, n, o, LINE_YAML));
out:
	return rc;
}

/* Postfix sasl_passwd: "[host]:port user:password", one line a region. */
static sesctl_err render_postfix(const struct smtp_creds *c, size_t n,
				 const struct output_meta *meta,
				 struct secret *o)
{
	sesctl_err rc = SESCTL_OK;
	size_t i;

	(void)meta;
	for (i = 0; i < n; i++) {
		TRY(put(o, "["));
		TRY(put(o, c[i].host));
		TRY(put(o, "]:"));
		TRY(put_port(o, c[i].port));
		TRY(put(o, " "));
		TRY(put(o, c[i].user));
		TRY(put(o, ":"));
		TRY(put(o, secret_str(c[i].password)));
		TRY(put(o, "\n"));
	}
out:
	return rc;
}

static cJSON *creds_object(const struct smtp_creds *c)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj || !cJSON_AddStringToObject(obj, "region", c->region) ||
	    !cJSON_AddStringToObject(obj, "host", c->host) ||
	    !cJSON_AddNumberToObject(obj, "port", c->port) ||
	    !cJSON_AddStringToObject(obj, "tls",
				     c->port == 465 ? "tls" : "starttls") ||
	    (c->user && !cJSON_AddStringToObject(obj, "user", c->user)) ||
	    /* A reference: cJSON never holds its own copy of the password. */
	    !cJSON_AddItemToObject(
		    obj, "password",
		    cJSON_CreateStringReference(secret_str(c->password)))) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* cJSON to text in `o` (wiped memory), with a final newline. */
static sesctl_err print_settings(cJSON *root, struct secret *o)
{
	sesctl_err rc = SESCTL_OK;

	secret_clear(o);
	TRY(secret_alloc(o, OUTPUT_MAX));
	ENSURE(cJSON_PrintPreallocated(root, (char *)o->p, (int)o->cap, 0),
	       SESCTL_ERR_NOMEM);
	o->len = strlen((char *)o->p);
	TRY(put(o, "\n"));
out:
	return rc;
}

/* "json": one object of the same shape whatever the number of regions
 * (docs/schema/smtp-settings.schema.json): the first region's settings
 * at the top, as the single-region object has always had them, and every
 * region's in "regions". */
static sesctl_err render_json(const struct smtp_creds *c, size_t n,
			      const struct output_meta *meta,
			      struct secret *o)
{
	cJSON *root = NULL, *arr, *item;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	(void)meta;
	ENSURE(n > 0, SESCTL_ERR_INPUT);
	root = creds_object(c);
	ENSURE(root, SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddItemToObject(root, "schema",
				     cJSON_CreateStringReference(
					     JSON_SETTINGS_SCHEMA)) &&
		       (arr = cJSON_AddArrayToObject(root, "regions")),
	       SESCTL_ERR_NOMEM);
	for (i = 0; i < n; i++) {
		struct smtp_creds one = c[i];

		one.user = NULL; /* once, at the top */
		item = creds_object(&one);
		ENSURE(item && cJSON_AddItemToArray(arr, item),
		       SESCTL_ERR_NOMEM);
	}
	TRY(print_settings(root, o));
out:
	cJSON_Delete(root);
	return rc;
}

/* "json-array": what sesctl wrote before the schema, an object for one
 * region and an array for several.  Not a --format: rotate writes it
 * again into a file that holds it, so that an app reading an array keeps
 * working. */
static sesctl_err render_json_array(const struct smtp_creds *c, size_t n,
				    const struct output_meta *meta,
				    struct secret *o)
{
	cJSON *root = NULL, *item;
	sesctl_err rc = SESCTL_OK;
	size_t i;

	(void)meta;
	if (n == 1) {
		root = creds_object(c);
		ENSURE(root, SESCTL_ERR_NOMEM);
	} else {
		root = cJSON_CreateArray();
		ENSURE(root, SESCTL_ERR_NOMEM);
		for (i = 0; i < n; i++) {
			item = creds_object(&c[i]);
			ENSURE(item && cJSON_AddItemToArray(root, item),
			       SESCTL_ERR_NOMEM);
		}
	}
	TRY(print_settings(root, o));
out:
	cJSON_Delete(root);
	return rc;
}

static const struct output_format json_array_format = {
	"json-array", render_json_array, 0,
	"an array of JSON objects, as sesctl wrote several regions before "
	"the settings schema"
};

/* A secret store's value: one JSON object with the env format's keys
 * (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS; with several regions the
 * per-region ones) and SMTP_REGION, the first region.  ECS's valueFrom
 * "<arn>:SMTP_PASS::" picks one. */
static sesctl_err render_store(const struct smtp_creds *c, size_t n,
			       const struct output_meta *meta,
			       struct secret *o)
{
	struct secret lines = SECRET_INIT;
	cJSON *root = cJSON_CreateObject();
	char *text = NULL, *p, *eq, *nl;
	sesctl_err rc = SESCTL_OK;

	(void)meta;
	ENSURE(root, SESCTL_ERR_NOMEM);
	TRY(render_lines(c, n, &lines, LINE_PLAIN));
	ENSURE(cJSON_AddStringToObject(root, "SMTP_REGION", c[0].region),
	       SESCTL_ERR_NOMEM);
	for (p = lines.p ? (char *)lines.p : (char *)""; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		eq = strchr(p, '=');
		ENSURE(nl && eq && eq < nl, SESCTL_ERR_INPUT);
		*eq = '\0';
		*nl = '\0';
		ENSURE(cJSON_AddStringToObject(root, p, eq + 1),
		       SESCTL_ERR_NOMEM);
	}
	text = cJSON_PrintUnformatted(root);
	ENSURE(text, SESCTL_ERR_NOMEM);
	rc = put(o, text);
out:
	if (text)
		cJSON_free(text);
	cJSON_Delete(root);
	secret_free(&lines);
	return rc;
}

static const struct output_format store_format = {
	"store", render_store, OUTPUT_NEEDS_USER,
	"a secret store's value: one JSON object with the env keys"
};

const struct output_format *output_store_format(void)
{
	return &store_format;
}

static const struct output_format formats[] = {
	{ "env", render_env, 0,
	  "SMTP_HOST=, SMTP_PORT=, SMTP_USER=, SMTP_PASS= lines (default)" },
	{ "export", render_export, 0,
	  "the same as shell-quoted 'export' lines, for eval or source" },
	{ "dotenv", render_dotenv, 0,
	  "the same with double-quoted values, for .env files" },
	{ "json", render_json, 0,
	  "one JSON object: region, host, port, tls, user, password, and "
	  "every region's in regions" },
	{ "postfix", render_postfix, OUTPUT_NEEDS_USER,
	  "a Postfix sasl_passwd line: [host]:port user:password" },
	{ "k8s-secret", render_k8s_secret, OUTPUT_NEEDS_K8S_NAME,
	  "a Kubernetes v1 Secret manifest whose stringData holds the env "
	  "keys, for kubectl apply" },
};

const struct output_format *output_lookup(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	/* (Recorded by a rotate that kept an old file's array.) */
	if (name && strcmp(name, json_array_format.name) == 0)
		return &json_array_format;
	return NULL;
}

const struct output_format *output_formats(size_t *count)
{
	*count = sizeof(formats) / sizeof(formats[0]);
	return formats;
}

sesctl_err output_render(const struct output_format *fmt,
			 const struct smtp_creds *c, size_t n,
			 const struct output_meta *meta, struct secret *out)
{
	sesctl_err rc;
	size_t i;

	if (out)
		secret_clear(out); /* nothing left over from before */
	if (!fmt || !c || n == 0 || n > OUTPUT_MAX_REGIONS)
		return SESCTL_ERR_INPUT;
	for (i = 0; i < n; i++) {
		if (!c[i].host || !c[i].region || !c[i].password)
			return SESCTL_ERR_INPUT;
		if ((fmt->flags & OUTPUT_NEEDS_USER) && !c[i].user)
			return SESCTL_ERR_INPUT;
	}
	if ((fmt->flags & OUTPUT_NEEDS_K8S_NAME) && (!meta || !meta->k8s_name))
		return SESCTL_ERR_INPUT;
	rc = fmt->render(c, n, meta, out);
	if (rc != SESCTL_OK)
		secret_clear(out);
	return rc;
}

/* ---- status as JSON ------------------------------------------------ */

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static sesctl_err print_json(cJSON *root, char **out)
{
	char *text = cJSON_PrintUnformatted(root);
	size_t len;

	*out = NULL;
	if (!text)
		return SESCTL_ERR_NOMEM;
	len = strlen(text);
	*out = malloc(len + 2);
	if (!*out) {
		free(text);
		return SESCTL_ERR_NOMEM;
	}
	memcpy(*out, text, len);
	(*out)[len] = '\n';
	(*out)[len + 1] = '\0';
	free(text);
	return SESCTL_OK;
}

/* cJSON's Add* return NULL on allocation failure; one check at the end
 * (cJSON_Add* on a NULL parent is a no-op returning NULL) keeps this
 * readable: `ok` turns false at the first failure. */
#define J(expr) (ok = ok && ((expr) != NULL))

sesctl_err output_error_json(const char *kind, int exit_code,
			     const char *message, char **out)
{
	cJSON *root = cJSON_CreateObject(), *e;
	char *text;
	bool ok = root != NULL;

	*out = NULL;
	J(cJSON_AddStringToObject(root, "schema", "sesctl/error/1"));
	J(e = cJSON_AddObjectToObject(root, "error"));
	J(cJSON_AddStringToObject(e, "code", kind));
	J(cJSON_AddNumberToObject(e, "exit", exit_code));
	J(cJSON_AddStringToObject(e, "message", message));
	text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return SESCTL_ERR_NOMEM;
	*out = malloc(strlen(text) + 2);
	if (*out)
		sprintf(*out, "%s\n", text);
	cJSON_free(text);
	return *out ? SESCTL_OK : SESCTL_ERR_NOMEM;
}

/* The JSON object of one user's status. */
static cJSON *status_object(const struct status_report *r)
{
	cJSON *root = cJSON_CreateObject(), *o, *arr, *k, *lu;
	bool ok = root != NULL;
	size_t i;

	J(cJSON_AddStringToObject(root, "schema", "sesctl/status/1"));
	J(o = cJSON_AddObjectToObject(root, "user"));
	J(cJSON_AddStringToObject(o, "name", r->user));
	J(cJSON_AddStringToObject(o, "arn", r->arn));
	J(cJSON_AddStringToObject(o, "path", r->path));
	J(cJSON_AddItemToObject(o, "created", str_or_null(r->created)) ? o :
									   NULL);
	J(cJSON_AddBoolToObject(o, "managed", r->managed));
	J(cJSON_AddStringToObject(o, "origin", r->origin ? r->origin : "other"));
	J(arr = cJSON_AddObjectToObject(o, "tags"));
	for (i = 0; ok && i < r->n_tags; i++)
		J(cJSON_AddStringToObject(arr, r->tag_keys[i],
					  r->tag_values[i]));

	J(o = cJSON_AddObjectToObject(root, "policy"));
	J(cJSON_AddStringToObject(o, "name", r->policy_name));
	J(cJSON_AddBoolToObject(o, "present", r->policy_present));
	J(cJSON_AddBoolToObject(o, "drift",
				r->policy_present && !r->policy_matches));
	J(cJSON_AddItemToObject(o, "allows", str_or_null(r->policy_desc)) ?
		  o :
		  NULL);

	J(arr = cJSON_AddArrayToObject(root, "keys"));
	for (i = 0; ok && i < r->n_keys; i++) {
		const struct status_key *sk = &r->keys[i];

		J(k = cJSON_CreateObject());
		J(cJSON_AddItemToArray(arr, k) ? k : NULL);
		J(cJSON_AddStringToObject(k, "id", sk->id));
		J(cJSON_AddStringToObject(k, "status", sk->status));
		J(cJSON_AddItemToObject(k, "created", str_or_null(sk->created)) ?
			  k :
			  NULL);
		J(cJSON_AddNumberToObject(k, "age_days", (double)sk->age_days));
		if (sk->last_used) {
			J(lu = cJSON_AddObjectToObject(k, "last_used"));
			J(cJSON_AddStringToObject(lu, "date", sk->last_used));
			J(cJSON_AddStringToObject(lu, "service",
						  sk->last_service));
			J(cJSON_AddStringToObject(lu, "region",
						  sk->last_region));
		} else {
			J(cJSON_AddNullToObject(k, "last_used"));
		}
		J(cJSON_AddItemToObject(k, "record", str_or_null(sk->role)) ?
			  k :
			  NULL);
	}

	if (r->smtp_host) {
		J(o = cJSON_AddObjectToObject(root, "smtp"));
		J(cJSON_AddStringToObject(o, "region", r->region));
		J(cJSON_AddStringToObject(o, "host", r->smtp_host));
		J(cJSON_AddNumberToObject(o, "port", r->smtp_port));
	} else {
		J(cJSON_AddNullToObject(root, "smtp"));
	}
	J(arr = cJSON_AddArrayToObject(root, "warnings"));
	for (i = 0; ok && i < r->n_warnings; i++) {
		J(o = cJSON_CreateObject());
		J(cJSON_AddItemToArray(arr, o) ? arr : NULL);
		J(cJSON_AddStringToObject(o, "code", r->warnings[i].code));
		J(cJSON_AddStringToObject(o, "severity",
					  r->warnings[i].severity));
		J(cJSON_AddStringToObject(o, "message",
					  r->warnings[i].message));
	}
	J(arr = r->inline_known ? cJSON_AddArrayToObject(root,
							 "inline_policies") :
				  cJSON_AddNullToObject(root,
							"inline_policies"));
	for (i = 0; ok && r->inline_known && i < r->n_inline; i++) {
		const struct status_policy *p = &r->inline_policies[i];
		cJSON *d = p->document ? cJSON_Parse(p->document) : NULL;

		if (!d)
			d = p->document ? cJSON_CreateString(p->document) :
					  cJSON_CreateNull();
		J(o = cJSON_CreateObject());
		if (o && !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			ok = false;
		}
		J(cJSON_AddStringToObject(o, "name", p->name));
		if (ok && d && cJSON_AddItemToObject(o, "document", d))
			d = NULL;
		else
			ok = false;
		cJSON_Delete(d);
	}
	J(arr = r->attached_known ?
			cJSON_AddArrayToObject(root, "attached_policies") :
			cJSON_AddNullToObject(root, "attached_policies"));
	for (i = 0; ok && r->attached_known && i < r->n_attached; i++)
		J(cJSON_AddItemToArray(arr,
				       cJSON_CreateString(r->attached_arns[i])) ?
			  arr :
			  NULL);
	J(arr = r->groups_known ? cJSON_AddArrayToObject(root, "groups") :
				  cJSON_AddNullToObject(root, "groups"));
	for (i = 0; ok && r->groups_known && i < r->n_groups; i++)
		J(cJSON_AddItemToArray(arr, cJSON_CreateString(r->groups[i])) ?
			  arr :
			  NULL);
	J(r->login_profile < 0 ?
		  cJSON_AddNullToObject(root, "login_profile") :
		  cJSON_AddBoolToObject(root, "login_profile",
					r->login_profile > 0));
	J(o = cJSON_AddObjectToObject(root, "other_credentials"));
	{
		static const char *const names[] = {
			"signing_certificates", "ssh_public_keys",
			"service_specific_credentials", "mfa_devices"
		};
		const long counts[] = { r->n_certs, r->n_ssh,
					r->n_service_creds, r->n_mfa };

		for (i = 0; ok && i < 4; i++)
			J(counts[i] < 0 ?
				  cJSON_AddNullToObject(o, names[i]) :
				  cJSON_AddNumberToObject(o, names[i],
							  (double)counts[i]));
	}
	J(o = cJSON_AddObjectToObject(root, "least_privilege"));
	J(cJSON_AddStringToObject(o, "verdict",
				  r->least_privilege > 0 ? "yes" :
				  r->least_privilege == 0 ? "no" :
							    "unknown"));
	J(arr = cJSON_AddArrayToObject(o, "beyond"));
	for (i = 0; ok && i < r->n_beyond; i++)
		J(cJSON_AddItemToArray(arr, cJSON_CreateString(r->beyond[i])) ?
			  arr :
			  NULL);
	J(arr = cJSON_AddArrayToObject(root, "unknown"));
	for (i = 0; ok && i < r->n_unknown; i++) {
		J(o = cJSON_CreateObject());
		if (o && !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			ok = false;
		}
		J(cJSON_AddStringToObject(o, "what", r->unknown[i].what));
		J(cJSON_AddStringToObject(o, "permission",
					  r->unknown[i].permission));
		J(cJSON_AddStringToObject(o, "error", r->unknown[i].error));
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

sesctl_err output_status_json(const struct status_report *r, char **out)
{
	cJSON *root = status_object(r);
	sesctl_err rc = SESCTL_OK;

	ENSURE(root, SESCTL_ERR_NOMEM);
	TRY(print_json(root, out));
out:
	cJSON_Delete(root);
	return rc;
}

sesctl_err output_status_list_json(const struct status_report *const *r,
				   size_t n, const char *const *bad_users,
				   const char *const *bad_errors, size_t n_bad,
				   char **out)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	sesctl_err rc = SESCTL_OK;
	bool ok = root != NULL;
	size_t i;

	J(cJSON_AddStringToObject(root, "schema", "sesctl/status-list/1"));
	J(arr = cJSON_AddArrayToObject(root, "users"));
	for (i = 0; ok && i < n; i++) {
		J(o = status_object(r[i]));
		if (ok && !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			ok = false;
		}
	}
	J(arr = cJSON_AddArrayToObject(root, "unreadable"));
	for (i = 0; ok && i < n_bad; i++) {
		J(o = cJSON_CreateObject());
		if (o && !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			ok = false;
		}
		J(cJSON_AddStringToObject(o, "user", bad_users[i]));
		J(cJSON_AddStringToObject(o, "error", bad_errors[i]));
	}
	ENSURE(ok, SESCTL_ERR_NOMEM);
	TRY(print_json(root, out));
out:
	cJSON_Delete(root);
	return rc;
}

/* Where the parameter after `p` starts: the next " Name=" with Name in
 * CamelCase; NULL at the last one. */
static char *next_param(char *p)
{
	for (p = strchr(p, ' '); p; p = strchr(p + 1, ' ')) {
		const char *q = p + 1;

		if (!isupper((unsigned char)*q))
			continue;
		while (isalnum((unsigned char)*q))
			q++;
		if (*q == '=')
			return p + 1;
	}
	return NULL;
}

/* One step of the plan; `line` is cut up on the way. */
static cJSON *plan_step(char *line)
{
	cJSON *step = cJSON_CreateObject(), *params = NULL;
	char *p, *next, *eq;
	bool ok = step != NULL;

	if (ok && line[0] == '#') {
		J(cJSON_AddStringToObject(step, "note",
					  line + strspn(line, "# ")));
		goto out;
	}
	p = strchr(line, ' ');
	if (p)
		*p++ = '\0';
	J(cJSON_AddStringToObject(step, "action", line));
	J(params = cJSON_AddObjectToObject(step, "params"));
	for (; ok && p && *p; p = next) {
		next = next_param(p);
		eq = strchr(p, '=');
		if (!eq || (next && eq > next))
			break;
		*eq = '\0';
		if (next)
			next[-1] = '\0';
		J(cJSON_AddStringToObject(params, p, eq + 1));
	}
out:
	if (!ok) {
		cJSON_Delete(step);
		return NULL;
	}
	return step;
}

sesctl_err output_plan_json(const char *command, const char *user,
			    const char *const *lines, size_t n, char **out)
{
	cJSON *root = cJSON_CreateObject(), *arr, *step;
	sesctl_err rc = SESCTL_OK;
	bool ok = root != NULL;
	size_t i;

	J(cJSON_AddStringToObject(root, "schema", "sesctl/plan/1"));
	J(cJSON_AddStringToObject(root, "command", command));
	J(cJSON_AddStringToObject(root, "user", user));
	J(arr = cJSON_AddArrayToObject(root, "steps"));
	for (i = 0; ok && i < n; i++) {
		char *copy = strdup(lines[i]);

		J(copy);
		J(step = copy ? plan_step(copy) : NULL);
		free(copy);
		if (ok && !cJSON_AddItemToArray(arr, step)) {
			cJSON_Delete(step);
			ok = false;
		}
	}
	ENSURE(ok, SESCTL_ERR_NOMEM);
	TRY(print_json(root, out));
out:
	cJSON_Delete(root);
	return rc;
}

void output_init(void)
{
	cJSON_Hooks hooks = { secret_lib_malloc, secret_lib_free };

	cJSON_InitHooks(&hooks);
}
