/* output.c - env, export, dotenv, json and postfix renderings of the SMTP
 * settings (see output.h). */
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

enum line_style { LINE_PLAIN, LINE_EXPORT, LINE_DOTENV };

static sesctl_err put_line(struct secret *o, enum line_style style,
			   const char *name, const char *value)
{
	sesctl_err rc = SESCTL_OK;

	if (style == LINE_EXPORT)
		TRY(put(o, "export "));
	TRY(put(o, name));
	TRY(put(o, "="));
	switch (style) {
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
			     struct secret *o)
{
	return render_lines(c, n, o, LINE_PLAIN);
}

static sesctl_err render_export(const struct smtp_creds *c, size_t n,
				struct secret *o)
{
	return render_lines(c, n, o, LINE_EXPORT);
}

static sesctl_err render_dotenv(const struct smtp_creds *c, size_t n,
				struct secret *o)
{
	return render_lines(c, n, o, LINE_DOTENV);
}

/* Postfix sasl_passwd: "[host]:port user:password", one line a region. */
static sesctl_err render_postfix(const struct smtp_creds *c, size_t n,
				 struct secret *o)
{
	sesctl_err rc = SESCTL_OK;
	size_t i;

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
			      struct secret *o)
{
	cJSON *root = NULL, *arr, *item;
	sesctl_err rc = SESCTL_OK;
	size_t i;

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
				    struct secret *o)
{
	cJSON *root = NULL, *item;
	sesctl_err rc = SESCTL_OK;
	size_t i;

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
			 struct secret *out)
{
	sesctl_err rc;
	size_t i;

	if (!fmt || !c || n == 0 || n > OUTPUT_MAX_REGIONS)
		return SESCTL_ERR_INPUT;
	for (i = 0; i < n; i++) {
		if (!c[i].host || !c[i].region || !c[i].password)
			return SESCTL_ERR_INPUT;
		if ((fmt->flags & OUTPUT_NEEDS_USER) && !c[i].user)
			return SESCTL_ERR_INPUT;
	}
	secret_clear(out);
	rc = fmt->render(c, n, out);
	if (rc != SESCTL_OK)
		secret_clear(out);
	return rc;
}

/* ---- the IAM policy ------------------------------------------------ */

#define POLICY_VERSION "2012-10-17"
#define POLICY_ACTION "ses:SendRawEmail"
#define POLICY_MAX_VALUES 256

/* One value as a string, several as an array. */
static cJSON *one_or_many(const char *const *v, size_t n)
{
	cJSON *arr;
	size_t i;

	if (n == 1)
		return cJSON_CreateString(v[0]);
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++) {
		cJSON *s = cJSON_CreateString(v[i]);

		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static sesctl_err policy_tree(const struct policy_spec *s, cJSON **out)
{
	const char **arns = NULL;
	char **owned = NULL;
	cJSON *root = NULL, *stmts, *st, *res = NULL, *cond, *like, *from;
	size_t n_arns = 0, i, j;
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	ENSURE(s->n_identities == 0 ||
		       (s->n_regions > 0 && s->partition && s->account),
	       SESCTL_ERR_INPUT);
	ENSURE(s->n_identities * (s->n_regions ? s->n_regions : 1) <=
			       POLICY_MAX_VALUES &&
		       s->n_from <= POLICY_MAX_VALUES,
	       SESCTL_ERR_INPUT);
	root = cJSON_CreateObject();
	ENSURE(root, SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddStringToObject(root, "Version", POLICY_VERSION),
	       SESCTL_ERR_NOMEM);
	stmts = cJSON_AddArrayToObject(root, "Statement");
	st = cJSON_CreateObject();
	ENSURE(stmts && st && cJSON_AddItemToArray(stmts, st), SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddStringToObject(st, "Effect", "Allow") &&
		       cJSON_AddStringToObject(st, "Action", POLICY_ACTION),
	       SESCTL_ERR_NOMEM);
	if (s->n_identities == 0) {
		ENSURE(cJSON_AddStringToObject(st, "Resource", "*"),
		       SESCTL_ERR_NOMEM);
	} else {
		n_arns = s->n_identities * s->n_regions;
		arns = calloc(n_arns, sizeof(*arns));
		owned = calloc(n_arns, sizeof(*owned));
		ENSURE(arns && owned, SESCTL_ERR_NOMEM);
		for (i = 0; i < s->n_regions; i++)
			for (j = 0; j < s->n_identities; j++) {
				size_t k = i * s->n_identities + j;
				int len = asprintf(&owned[k],
						   "arn:%s:ses:%s:%s:identity/%s",
						   s->partition, s->regions[i],
						   s->account, s->identities[j]);

				ENSURE(len > 0, SESCTL_ERR_NOMEM);
				arns[k] = owned[k];
			}
		res = one_or_many(arns, n_arns);
		ENSURE(res && cJSON_AddItemToObject(st, "Resource", res),
		       SESCTL_ERR_NOMEM);
	}
	if (s->n_from > 0) {
		cond = cJSON_AddObjectToObject(st, "Condition");
		like = cond ? cJSON_AddObjectToObject(cond, "StringLike") : NULL;
		from = one_or_many(s->from, s->n_from);
		ENSURE(like && from &&
			       cJSON_AddItemToObject(like, "ses:FromAddress", from),
		       SESCTL_ERR_NOMEM);
	}
	*out = root;
	root = NULL;
out:
	for (i = 0; owned && i < n_arns; i++)
		free(owned[i]);
	free(owned);
	free(arns);
	cJSON_Delete(root);
	return rc;
}

sesctl_err output_policy(const struct policy_spec *spec, char **out)
{
	cJSON *tree = NULL;
	sesctl_err rc = SESCTL_OK;

	*out = NULL;
	TRY(policy_tree(spec, &tree));
	*out = cJSON_PrintUnformatted(tree);
	ENSURE(*out, SESCTL_ERR_NOMEM);
out:
	cJSON_Delete(tree);
	return rc;
}

/* Strings of a string-or-array value into v[]; false if it is neither or
 * holds something else. */
static bool strings_of(const cJSON *item, const char **v, size_t *n,
		       size_t max)
{
	const cJSON *e;

	*n = 0;
	if (cJSON_IsString(item)) {
		v[(*n)++] = item->valuestring;
		return true;
	}
	if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) == 0)
		return false;
	cJSON_ArrayForEach(e, item) {
		if (!cJSON_IsString(e) || *n >= max)
			return false;
		v[(*n)++] = e->valuestring;
	}
	return true;
}

static bool add_unique(const char **v, size_t *n, size_t max, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	if (*n >= max)
		return false;
	v[(*n)++] = s;
	return true;
}

/* arn:<partition>:ses:<region>:<account>:identity/<identity>, split in
 * place (the copy is the caller's). */
static bool split_identity_arn(char *arn, char **part, char **region,
			       char **account, char **identity)
{
	char *f[6], *p = arn;
	size_t i;

	for (i = 0; i < 5; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (!p)
			return false;
		*p++ = '\0';
	}
	f[5] = p;
	if (strcmp(f[0], "arn") != 0 || strcmp(f[2], "ses") != 0 ||
	    strncmp(f[5], "identity/", 9) != 0 || !f[5][9])
		return false;
	*part = f[1];
	*region = f[3];
	*account = f[4];
	*identity = f[5] + 9;
	return true;
}

sesctl_err output_policy_check(const char *doc, bool *matches, char *desc,
			       size_t desc_size)
{
	const char *res[POLICY_MAX_VALUES], *from[POLICY_MAX_VALUES];
	const char *regions[POLICY_MAX_VALUES], *ids[POLICY_MAX_VALUES];
	char *copies[POLICY_MAX_VALUES] = { 0 };
	struct policy_spec spec = { 0 };
	cJSON *tree = NULL, *st, *cond = NULL, *like;
	char *want = NULL, *have = NULL;
	size_t n_res = 0, n_from = 0, n_regions = 0, n_ids = 0, i;
	sesctl_err rc = SESCTL_OK;

	*matches = false;
	snprintf(desc, desc_size, "a policy sesctl did not write");
	tree = cJSON_Parse(doc);
	if (!tree) {
		snprintf(desc, desc_size, "not valid JSON");
		goto out;
	}
	st = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
	if (!cJSON_IsArray(st) || cJSON_GetArraySize(st) != 1)
		goto out;
	st = cJSON_GetArrayItem(st, 0);
	if (!strings_of(cJSON_GetObjectItemCaseSensitive(st, "Resource"), res,
			&n_res, POLICY_MAX_VALUES))
		goto out;
	cond = cJSON_GetObjectItemCaseSensitive(st, "Condition");
	like = cond ? cJSON_GetObjectItemCaseSensitive(cond, "StringLike") :
		      NULL;
	if (cond && !strings_of(like ? cJSON_GetObjectItemCaseSensitive(
					       like, "ses:FromAddress") :
				       NULL,
				from, &n_from, POLICY_MAX_VALUES))
		goto out;

	if (!(n_res == 1 && strcmp(res[0], "*") == 0)) {
		for (i = 0; i < n_res; i++) {
			char *part, *region, *account, *identity;

			copies[i] = strdup(res[i]);
			ENSURE(copies[i], SESCTL_ERR_NOMEM);
			if (!split_identity_arn(copies[i], &part, &region,
						&account, &identity))
				goto out;
			if (!spec.partition) {
				spec.partition = part;
				spec.account = account;
			}
			if (!add_unique(regions, &n_regions, POLICY_MAX_VALUES,
					region) ||
			    !add_unique(ids, &n_ids, POLICY_MAX_VALUES,
					identity))
				goto out;
		}
		spec.regions = regions;
		spec.n_regions = n_regions;
		spec.identities = ids;
		spec.n_identities = n_ids;
	}
	spec.from = from;
	spec.n_from = n_from;

	/* What it says, written the way sesctl writes it: equal or not. */
	TRY(output_policy(&spec, &want));
	have = cJSON_PrintUnformatted(tree);
	ENSURE(have, SESCTL_ERR_NOMEM);
	*matches = strcmp(want, have) == 0;
	if (!*matches)
		goto out;
	if (n_ids == 0)
		snprintf(desc, desc_size, POLICY_ACTION " on any identity");
	else
		snprintf(desc, desc_size,
			 POLICY_ACTION " on %zu identit%s (%s%s) in %zu "
				       "region%s",
			 n_ids, n_ids == 1 ? "y" : "ies", ids[0],
			 n_ids > 1 ? ", ..." : "", n_regions,
			 n_regions == 1 ? "" : "s");
	if (n_from) {
		size_t used = strlen(desc);

		snprintf(desc + used, desc_size - used, ", from %s%s", from[0],
			 n_from > 1 ? ", ..." : "");
	}
out:
	for (i = 0; i < n_res; i++)
		free(copies[i]);
	free(want);
	free(have);
	cJSON_Delete(tree);
	return rc;
}

bool output_policy_allows_region(const char *doc, const char *region)
{
	const char *res[POLICY_MAX_VALUES];
	cJSON *tree = cJSON_Parse(doc), *st, *item;
	size_t n = 0, i;
	bool allows = true; /* only a policy we can read says no */

	if (!tree)
		return true;
	st = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
	cJSON_ArrayForEach(item, st)
	{
		char copy[512], *part, *r, *account, *identity;

		n = 0;
		if (!strings_of(cJSON_GetObjectItemCaseSensitive(item,
								 "Resource"),
				res, &n, POLICY_MAX_VALUES))
			goto out;
		for (i = 0; i < n; i++) {
			if (strcmp(res[i], "*") == 0)
				goto out;
			snprintf(copy, sizeof(copy), "%s", res[i]);
			if (!split_identity_arn(copy, &part, &r, &account,
						&identity) ||
			    strcmp(r, region) == 0 || strcmp(r, "*") == 0)
				goto out;
		}
	}
	allows = false;
out:
	cJSON_Delete(tree);
	return allows;
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

sesctl_err output_status_json(const struct status_report *r, char **out)
{
	cJSON *root = cJSON_CreateObject(), *o, *arr, *k, *lu;
	sesctl_err rc = SESCTL_OK;
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
	ENSURE(ok, SESCTL_ERR_NOMEM);
	TRY(print_json(root, out));
out:
	cJSON_Delete(root);
	return rc;
}

sesctl_err output_status_list_json(const struct status_entry *e, size_t n,
				   char **out)
{
	cJSON *root = cJSON_CreateArray(), *o;
	sesctl_err rc = SESCTL_OK;
	bool ok = root != NULL;
	size_t i;

	for (i = 0; ok && i < n; i++) {
		J(o = cJSON_CreateObject());
		J(cJSON_AddItemToArray(root, o) ? o : NULL);
		J(cJSON_AddStringToObject(o, "user", e[i].user));
		J(cJSON_AddItemToObject(o, "name", str_or_null(e[i].name)) ?
			  o :
			  NULL);
		J(cJSON_AddStringToObject(o, "arn", e[i].arn));
		J(cJSON_AddItemToObject(o, "created",
					str_or_null(e[i].created)) ?
			  o :
			  NULL);
		J(cJSON_AddBoolToObject(o, "managed", e[i].managed));
		J(cJSON_AddNumberToObject(o, "keys", (double)e[i].keys));
		J(cJSON_AddNumberToObject(o, "active_keys",
					  (double)e[i].active_keys));
		if (e[i].oldest_key_days >= 0)
			J(cJSON_AddNumberToObject(o, "oldest_key_days",
						  (double)e[i].oldest_key_days));
		else
			J(cJSON_AddNullToObject(o, "oldest_key_days"));
	}
	ENSURE(ok, SESCTL_ERR_NOMEM);
	TRY(print_json(root, out));
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- reading SMTP settings back ------------------------------------- */

void output_init(void)
{
	cJSON_Hooks hooks = { secret_lib_malloc, secret_lib_free };

	cJSON_InitHooks(&hooks);
}

void output_settings_release(struct smtp_settings *s)
{
	size_t i;

	for (i = 0; i < SMTP_SETTINGS_MAX; i++)
		secret_free(&s->item[i].password);
	s->n = 0;
}

/* The setting for `suffix`, made if new; NULL when there are too many. */
static struct smtp_setting *setting_for(struct smtp_settings *s,
					const char *suffix, size_t len)
{
	size_t i;

	if (len >= sizeof(s->item[0].suffix))
		return NULL;
	for (i = 0; i < s->n; i++)
		if (strlen(s->item[i].suffix) == len &&
		    memcmp(s->item[i].suffix, suffix, len) == 0)
			return &s->item[i];
	if (s->n == SMTP_SETTINGS_MAX)
		return NULL;
	memcpy(s->item[s->n].suffix, suffix, len);
	s->item[s->n].suffix[len] = '\0';
	return &s->item[s->n++];
}

/* The region of "email-smtp.<region>.amazonaws.com[.cn]" (or of a VPC
 * endpoint's "...email-smtp.<region>.vpce.amazonaws.com"); a domain must
 * follow it. */
static void region_of_host(const char *host, char *out, size_t size)
{
	const char *end = region_from_smtp_host(host, out, size);

	if (!end || *end != '.')
		out[0] = '\0';
}

/* "_EU_WEST_1" (a multi-region env block) -> "eu-west-1". */
static void region_of_suffix(const char *suffix, char *out, size_t size)
{
	size_t i;

	for (i = 0; suffix[i + 1] && i + 1 < size; i++)
		out[i] = suffix[i + 1] == '_' ?
				 '-' :
				 (char)tolower((unsigned char)suffix[i + 1]);
	out[i < size ? i : size - 1] = '\0';
	if (!region_is_well_formed(out))
		out[0] = '\0';
}

static bool parse_port(const char *s, size_t len, int *port)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

/* One shell-style word: plain, 'single quoted' (as export writes,
 * ' as '\''), "double quoted" with \ escapes (as dotenv writes), or a
 * mix.  Stops at an unquoted blank or '#'.  false on an open quote. */
static sesctl_err unquote(const char *p, size_t len, struct secret *out,
			  bool *ok)
{
	sesctl_err rc = SESCTL_OK;
	size_t i = 0;
	char q = 0;

	*ok = false;
	secret_clear(out);
	while (i < len) {
		char c = p[i];

		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				TRY(secret_append(out, &c, 1));
			i++;
		} else if (q == '"') {
			if (c == '"') {
				q = 0;
			} else if (c == '\\' && i + 1 < len) {
				TRY(secret_append(out, &p[++i], 1));
			} else {
				TRY(secret_append(out, &c, 1));
			}
			i++;
		} else if (c == '\'' || c == '"') {
			q = c;
			i++;
		} else if (c == '\\' && i + 1 < len) {
			TRY(secret_append(out, &p[i + 1], 1));
			i += 2;
		} else if (c == ' ' || c == '\t' || c == '#') {
			break;
		} else {
			TRY(secret_append(out, &c, 1));
			i++;
		}
	}
	*ok = q == 0;
out:
	return rc;
}

static bool copy_field(char *dst, size_t size, const struct secret *v)
{
	if (v->len >= size || memchr(secret_str(v), '\0', v->len))
		return false;
	memcpy(dst, secret_str(v), v->len);
	dst[v->len] = '\0';
	return true;
}

/* The line at text[*pos] (*ll bytes, without "\n" or "\r\n"); *pos moves
 * past it. */
static const char *next_line(const char *text, size_t len, size_t *pos,
			     size_t *ll)
{
	const char *line = text + *pos;
	size_t n = 0;

	while (*pos + n < len && text[*pos + n] != '\n')
		n++;
	*pos += n + (*pos + n < len ? 1 : 0);
	if (n > 0 && line[n - 1] == '\r')
		n--;
	*ll = n;
	return line;
}

/* NAME=VALUE lines (env, export, dotenv). */
static sesctl_err parse_lines(struct err_info *err, const char *text,
			      size_t len, const char *source,
			      struct smtp_settings *s)
{
	static const char *const names[] = { "SMTP_HOST", "SMTP_PORT",
					     "SMTP_USER", "SMTP_PASS" };
	struct secret v = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;
	size_t pos = 0, lineno = 0, n, k;
	bool ok, exported;

	while (pos < len) {
		size_t ll, nl;
		const char *line = next_line(text, len, &pos, &ll), *eq;
		struct smtp_setting *st;

		lineno++;
		while (ll > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			ll--;
		}
		if (ll == 0 || *line == '#')
			continue;
		exported = ll > 7 && strncmp(line, "export ", 7) == 0;
		if (exported) {
			line += 7;
			ll -= 7;
		}
		eq = memchr(line, '=', ll);
		if (!eq)
			continue;
		nl = (size_t)(eq - line);
		for (k = 0; k < 4; k++) {
			n = strlen(names[k]);
			if (nl >= n && strncmp(line, names[k], n) == 0 &&
			    (nl == n || line[n] == '_'))
				break;
		}
		if (k == 4)
			continue; /* someone else's variable */
		if (!s->format) /* the first SMTP_* line tells the format */
			s->format = output_lookup(
				exported ? "export" :
				nl + 1 < ll && eq[1] == '"' ? "dotenv" :
							      "env");
		st = setting_for(s, line + n, nl - n);
		ENSURE(st, err_set(err, SESCTL_ERR_INPUT,
				   "%s has more than %d sets of SMTP settings",
				   source, SMTP_SETTINGS_MAX));
		TRY(unquote(eq + 1, ll - nl - 1, &v, &ok));
		ENSURE(ok, err_set(err, SESCTL_ERR_INPUT,
				   "%s line %zu: a quote is not closed",
				   source, lineno));
		switch (k) {
		case 0:
			ok = copy_field(st->host, sizeof(st->host), &v);
			break;
		case 1:
			ok = parse_port(secret_str(&v), v.len, &st->port);
			break;
		case 2:
			ok = copy_field(st->user, sizeof(st->user), &v);
			break;
		default:
			ok = secret_set(&st->password, v.p, v.len) ==
			     SESCTL_OK;
			break;
		}
		ENSURE(ok, err_set(err, SESCTL_ERR_INPUT,
				   "%s line %zu: the value of %.*s is not valid",
				   source, lineno, (int)nl, line));
	}
out:
	secret_free(&v);
	return rc;
}

/* "[host]:port user:password" lines (postfix sasl_passwd). */
static sesctl_err parse_postfix(struct err_info *err, const char *text,
				size_t len, const char *source,
				struct smtp_settings *s)
{
	sesctl_err rc = SESCTL_OK;
	size_t pos = 0, lineno = 0;

	s->format = output_lookup("postfix");
	while (pos < len) {
		size_t ll;
		const char *line = next_line(text, len, &pos, &ll), *close, *sp,
			   *colon;
		struct smtp_setting *st;
		char suffix[8];

		lineno++;
		if (ll == 0 || *line == '#')
			continue;
		close = memchr(line, ']', ll);
		sp = memchr(line, ' ', ll);
		ENSURE(*line == '[' && close && sp && close < sp &&
			       close[1] == ':',
		       err_set(err, SESCTL_ERR_INPUT,
			       "%s line %zu is not a postfix sasl_passwd line "
			       "('[host]:port user:password')",
			       source, lineno));
		colon = memchr(sp + 1, ':', (size_t)(line + ll - sp - 1));
		snprintf(suffix, sizeof(suffix), "#%zu", s->n);
		st = setting_for(s, suffix, strlen(suffix));
		ENSURE(st && colon && (size_t)(close - line - 1) <
						sizeof(st->host) &&
			       (size_t)(colon - sp - 1) < sizeof(st->user) &&
			       parse_port(close + 2,
					  (size_t)(sp - close - 2),
					  &st->port),
		       err_set(err, SESCTL_ERR_INPUT,
			       "%s line %zu is not a postfix sasl_passwd line "
			       "('[host]:port user:password')",
			       source, lineno));
		memcpy(st->host, line + 1, (size_t)(close - line - 1));
		st->host[close - line - 1] = '\0';
		memcpy(st->user, sp + 1, (size_t)(colon - sp - 1));
		st->user[colon - sp - 1] = '\0';
		TRY(secret_set(&st->password, colon + 1,
			       (size_t)(line + ll - colon - 1)));
	}
out:
	return rc;
}

static bool json_string(const cJSON *o, const char *name, char *dst,
			size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return false;
	strcpy(dst, v->valuestring);
	return true;
}

static sesctl_err json_setting(struct err_info *err, const cJSON *o,
			       const char *user, const char *source,
			       struct smtp_settings *s)
{
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");
	const cJSON *pw = cJSON_GetObjectItemCaseSensitive(o, "password");
	struct smtp_setting *st;
	char suffix[8];
	sesctl_err rc = SESCTL_OK;

	snprintf(suffix, sizeof(suffix), "#%zu", s->n);
	st = setting_for(s, suffix, strlen(suffix));
	ENSURE(st && cJSON_IsObject(o),
	       err_set(err, SESCTL_ERR_INPUT,
		       "%s is not SMTP settings as sesctl writes them in JSON",
		       source));
	(void)json_string(o, "host", st->host, sizeof(st->host));
	if (!json_string(o, "region", st->region, sizeof(st->region)) ||
	    !region_is_well_formed(st->region))
		st->region[0] = '\0';
	if (!json_string(o, "user", st->user, sizeof(st->user)) && user)
		(void)str_copy(st->user, sizeof(st->user), user);
	if (cJSON_IsNumber(port) && port->valuedouble >= 1 &&
	    port->valuedouble <= 65535)
		st->port = (int)port->valuedouble;
	if (cJSON_IsString(pw)) {
		TRY(secret_set(&st->password, pw->valuestring,
			       strlen(pw->valuestring)));
	}
out:
	return rc;
}

static sesctl_err parse_json(struct err_info *err, const char *text,
			     size_t len, const char *source,
			     struct smtp_settings *s)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *o;
	sesctl_err rc = SESCTL_OK;

	ENSURE(root, err_set(err, SESCTL_ERR_INPUT, "%s is not valid JSON",
			     source));
	s->format = output_lookup("json");
	if (cJSON_IsArray(root)) {
		/* Several regions, as sesctl wrote them before the schema:
		 * a rotate writes the array again. */
		if (cJSON_GetArraySize(root) > 1)
			s->format = &json_array_format;
		cJSON_ArrayForEach(o, root)
			TRY(json_setting(err, o, NULL, source, s));
	} else if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(
			   root, "regions"))) {
		const cJSON *user =
			cJSON_GetObjectItemCaseSensitive(root, "user");

		cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(
					      root, "regions"))
			TRY(json_setting(err, o,
					 cJSON_IsString(user) ? user->valuestring :
								NULL,
					 source, s));
	} else {
		TRY(json_setting(err, root, NULL, source, s));
	}
out:
	cJSON_Delete(root);
	return rc;
}

sesctl_err output_parse(struct err_info *err, const char *text, size_t len,
			const char *source, struct smtp_settings *out)
{
	struct smtp_setting *shared = NULL;
	sesctl_err rc = SESCTL_OK;
	size_t i = 0, j;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	ENSURE(i < len, err_set(err, SESCTL_ERR_INPUT,
				"%s is empty; it should hold SMTP settings as "
				"'sesctl smtp enable' writes them",
				source));
	j = i + 1;
	while (j < len && isspace((unsigned char)text[j]))
		j++;
	if (text[i] == '{' || (text[i] == '[' && (j == len || text[j] == '{' ||
						  text[j] == ']')))
		TRY(parse_json(err, text + i, len - i, source, out));
	else if (text[i] == '[')
		TRY(parse_postfix(err, text + i, len - i, source, out));
	else
		TRY(parse_lines(err, text + i, len - i, source, out));

	/* A multi-region env file names SMTP_USER once, unsuffixed. */
	for (i = 0; i < out->n; i++)
		if (out->item[i].suffix[0] == '\0')
			shared = &out->item[i];
	if (shared && out->n > 1 && shared->password.len == 0 &&
	    !shared->host[0]) {
		for (i = 0; i < out->n; i++)
			if (!out->item[i].user[0])
				memcpy(out->item[i].user, shared->user,
				       sizeof(shared->user));
		secret_free(&shared->password);
		j = (size_t)(shared - out->item);
		memmove(shared, shared + 1,
			(out->n - j - 1) * sizeof(*shared));
		memset(&out->item[out->n - 1], 0, sizeof(*shared));
		out->n--;
	}
	ENSURE(out->n > 0,
	       err_set(err, SESCTL_ERR_INPUT,
		       "%s has no SMTP settings (SMTP_USER and SMTP_PASS, as "
		       "'sesctl smtp enable' writes them)",
		       source));
	for (i = 0; i < out->n; i++) {
		struct smtp_setting *st = &out->item[i];
		char host_region[sizeof(st->region)] = "";

		ENSURE(st->user[0] && st->password.len > 0,
		       err_set(err, SESCTL_ERR_INPUT,
			       "%s has no %s%s (the SMTP %s)", source,
			       st->user[0] ? "SMTP_PASS" : "SMTP_USER",
			       st->suffix[0] == '_' ? st->suffix : "",
			       st->user[0] ? "password" : "user name"));
		if (st->host[0])
			region_of_host(st->host, host_region,
				       sizeof(host_region));
		if (host_region[0]) /* the host wins over a JSON "region" */
			memcpy(st->region, host_region, sizeof(st->region));
		else if (!st->region[0] && st->suffix[0] == '_')
			region_of_suffix(st->suffix, st->region,
					 sizeof(st->region));
	}
out:
	return rc;
}
