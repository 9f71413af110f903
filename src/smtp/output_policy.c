/* output_policy.c - the IAM policy sesctl writes for the SMTP user
 * (output_policy), how a policy found on a user compares with it
 * (output_policy_check, output_policy_allows_region), and what a policy
 * allows beyond sending mail (output_policy_beyond, for status's
 * least-privilege verdict), and the document caller-policy prints
 * (output_policy_document); see output.h. */
#include "sesctl/smtp/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fnmatch.h>

#include <cjson/cJSON.h>

/* ---- the IAM policy ------------------------------------------------ */

static void beyond_add(struct policy_beyond *b, const char *prefix,
		       const char *what)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strncmp(b->what[i], prefix, strlen(prefix)) == 0 &&
		    strcmp(b->what[i] + strlen(prefix), what) == 0)
			return;
	if (b->n >= POLICY_BEYOND_MAX) {
		b->more = true;
		return;
	}
	snprintf(b->what[b->n++], POLICY_BEYOND_LEN, "%s%s", prefix, what);
}

static bool sends_mail_only(const char *action)
{
	return strcasecmp(action, "ses:SendRawEmail") == 0 ||
	       strcasecmp(action, "ses:SendEmail") == 0;
}

static void statement_beyond(const cJSON *st, struct policy_beyond *b)
{
	const cJSON *effect = cJSON_GetObjectItemCaseSensitive(st, "Effect");
	const cJSON *v, *e;

	if (!cJSON_IsString(effect) || strcmp(effect->valuestring, "Allow"))
		return;
	v = cJSON_GetObjectItemCaseSensitive(st, "NotAction");
	if (v) {
		if (cJSON_IsString(v))
			beyond_add(b, "NotAction ", v->valuestring);
		if (cJSON_IsArray(v))
			cJSON_ArrayForEach(e, v)
				if (cJSON_IsString(e))
					beyond_add(b, "NotAction ",
						   e->valuestring);
		if (!cJSON_IsString(v) && !cJSON_IsArray(v))
			beyond_add(b, "", "NotAction");
		return;
	}
	v = cJSON_GetObjectItemCaseSensitive(st, "Action");
	if (cJSON_IsString(v) && !sends_mail_only(v->valuestring))
		beyond_add(b, "", v->valuestring);
	if (cJSON_IsArray(v))
		cJSON_ArrayForEach(e, v)
			if (cJSON_IsString(e) &&
			    !sends_mail_only(e->valuestring))
				beyond_add(b, "", e->valuestring);
}

void output_policy_beyond(const char *doc, struct policy_beyond *b)
{
	cJSON *tree = doc ? cJSON_Parse(doc) : NULL;
	const cJSON *st, *e;

	memset(b, 0, sizeof(*b));
	if (!tree) {
		beyond_add(b, "", "not valid JSON");
		return;
	}
	st = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
	if (cJSON_IsObject(st))
		statement_beyond(st, b);
	if (cJSON_IsArray(st))
		cJSON_ArrayForEach(e, st)
			if (cJSON_IsObject(e))
				statement_beyond(e, b);
	cJSON_Delete(tree);
}

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

/* Whether IAM action pattern `pat` ("ses:Send*", "*") matches `action`. */
static bool action_matches(const char *pat, const char *action)
{
	return fnmatch(pat, action, FNM_CASEFOLD) == 0;
}

static bool any_matches(const cJSON *v, const char *action)
{
	const cJSON *e;

	if (cJSON_IsString(v))
		return action_matches(v->valuestring, action);
	if (cJSON_IsArray(v))
		cJSON_ArrayForEach(e, v)
			if (cJSON_IsString(e) &&
			    action_matches(e->valuestring, action))
				return true;
	return false;
}

static bool statement_allows(const cJSON *st, const char *action)
{
	const cJSON *effect = cJSON_GetObjectItemCaseSensitive(st, "Effect");
	const cJSON *na = cJSON_GetObjectItemCaseSensitive(st, "NotAction");

	if (!cJSON_IsString(effect) || strcmp(effect->valuestring, "Allow"))
		return false;
	if (na)
		return !any_matches(na, action);
	return any_matches(cJSON_GetObjectItemCaseSensitive(st, "Action"),
			   action);
}

bool output_policy_allows_send(const char *doc)
{
	cJSON *tree = doc ? cJSON_Parse(doc) : NULL;
	const cJSON *st, *e;
	bool yes = false;

	if (!tree)
		return false;
	st = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
	if (cJSON_IsObject(st))
		yes = statement_allows(st, "ses:SendRawEmail");
	if (cJSON_IsArray(st))
		cJSON_ArrayForEach(e, st)
			yes = yes || (cJSON_IsObject(e) &&
				      statement_allows(e, "ses:SendRawEmail"));
	cJSON_Delete(tree);
	return yes;
}

static void scope_add(char (*v)[256], size_t *n, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i], s) == 0)
			return;
	if (*n < POLICY_SCOPE_MAX && strlen(s) < 256)
		snprintf(v[(*n)++], 256, "%s", s);
}

static void scope_of_resource(const char *arn, struct policy_scope *s)
{
	char *copy = strdup(arn), *part, *region, *account, *identity;
	size_t k;

	if (copy && split_identity_arn(copy, &part, &region, &account,
				       &identity) &&
	    strlen(region) < sizeof(s->regions[0]) &&
	    strlen(part) < sizeof(s->partition) &&
	    strlen(account) < sizeof(s->account)) {
		snprintf(s->partition, sizeof(s->partition), "%s", part);
		snprintf(s->account, sizeof(s->account), "%s", account);
		scope_add(s->identities, &s->n_identities, identity);
		for (k = 0; k < s->n_regions; k++)
			if (strcmp(s->regions[k], region) == 0)
				break;
		if (k == s->n_regions && k < POLICY_SCOPE_MAX)
			snprintf(s->regions[s->n_regions++],
				 sizeof(s->regions[0]), "%s", region);
	}
	free(copy);
}

static void scope_of_strings(const cJSON *v, struct policy_scope *s,
			     bool from)
{
	const cJSON *e;

	if (cJSON_IsString(v)) {
		if (from)
			scope_add(s->from, &s->n_from, v->valuestring);
		else
			scope_of_resource(v->valuestring, s);
	}
	if (!cJSON_IsArray(v))
		return;
	cJSON_ArrayForEach(e, v)
		scope_of_strings(e, s, from);
}

static void scope_of_statement(const cJSON *st, struct policy_scope *s)
{
	static const char *const ops[] = { "StringLike", "StringEquals" };
	const cJSON *cond, *op;
	size_t i;

	/* Whatever the statement now does (its Action or Effect may be what
	 * changed), the identities and addresses it names are the scope. */
	scope_of_strings(cJSON_GetObjectItemCaseSensitive(st, "Resource"), s,
			 false);
	cond = cJSON_GetObjectItemCaseSensitive(st, "Condition");
	for (i = 0; cond && i < 2; i++) {
		op = cJSON_GetObjectItemCaseSensitive(cond, ops[i]);
		if (op)
			scope_of_strings(cJSON_GetObjectItemCaseSensitive(
						 op, "ses:FromAddress"),
					 s, true);
	}
}

void output_policy_scope(const char *doc, struct policy_scope *s)
{
	cJSON *tree = doc ? cJSON_Parse(doc) : NULL;
	const cJSON *st, *e;

	memset(s, 0, sizeof(*s));
	if (!tree)
		return;
	st = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
	if (cJSON_IsObject(st))
		scope_of_statement(st, s);
	if (cJSON_IsArray(st))
		cJSON_ArrayForEach(e, st)
			if (cJSON_IsObject(e))
				scope_of_statement(e, s);
	cJSON_Delete(tree);
}

/* ---- a policy for the caller --------------------------------------- */

/* obj[key] = one_or_many(v, n). */
static bool add_one_or_many(cJSON *obj, const char *key, const char *const *v,
			    size_t n)
{
	cJSON *item = one_or_many(v, n);

	if (item && cJSON_AddItemToObject(obj, key, item))
		return true;
	cJSON_Delete(item);
	return false;
}

static void indent(FILE *f, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		fputs("    ", f);
}

/* `item` as JSON, the way the IAM console shows a policy: four spaces a
 * level, every member and array element on its own line.  Strings and
 * numbers are cJSON's own (escaped) rendering.  False when out of
 * memory. */
static bool pretty(FILE *f, const cJSON *item, int depth)
{
	const cJSON *e;
	char *s;
	bool obj = cJSON_IsObject(item), ok = true;

	if (!obj && !cJSON_IsArray(item)) {
		s = cJSON_PrintUnformatted(item);
		if (s)
			fputs(s, f);
		free(s);
		return s != NULL;
	}
	if (!item->child) {
		fputs(obj ? "{}" : "[]", f);
		return true;
	}
	fputs(obj ? "{\n" : "[\n", f);
	cJSON_ArrayForEach(e, item)
	{
		indent(f, depth + 1);
		if (obj) {
			cJSON key = { 0 };

			key.type = cJSON_String;
			key.valuestring = e->string;
			ok = ok && pretty(f, &key, depth + 1);
			fputs(": ", f);
		}
		ok = ok && pretty(f, e, depth + 1);
		fputs(e->next ? ",\n" : "\n", f);
	}
	indent(f, depth);
	fputs(obj ? "}" : "]", f);
	return ok;
}

sesctl_err output_policy_document(const struct policy_statement *st, size_t n,
				  char **out)
{
	cJSON *root = NULL, *stmts, *s;
	FILE *f = NULL;
	char *text = NULL;
	size_t i, len = 0;
	sesctl_err rc = SESCTL_OK;
	bool ok;

	*out = NULL;
	root = cJSON_CreateObject();
	ENSURE(root && cJSON_AddStringToObject(root, "Version", POLICY_VERSION),
	       SESCTL_ERR_NOMEM);
	stmts = cJSON_AddArrayToObject(root, "Statement");
	ENSURE(stmts, SESCTL_ERR_NOMEM);
	for (i = 0; i < n; i++) {
		ENSURE(st[i].n_actions > 0 && st[i].n_resources > 0,
		       SESCTL_ERR_INPUT);
		s = cJSON_CreateObject();
		ENSURE(s, SESCTL_ERR_NOMEM);
		if (!cJSON_AddItemToArray(stmts, s)) {
			cJSON_Delete(s);
			rc = SESCTL_ERR_NOMEM;
			goto out;
		}
		ENSURE(cJSON_AddStringToObject(s, "Sid", st[i].sid) &&
			       cJSON_AddStringToObject(s, "Effect", "Allow"),
		       SESCTL_ERR_NOMEM);
		ENSURE(add_one_or_many(s, "Action", st[i].actions,
				       st[i].n_actions) &&
			       add_one_or_many(s, "Resource", st[i].resources,
					       st[i].n_resources),
		       SESCTL_ERR_NOMEM);
	}
	f = open_memstream(&text, &len);
	ENSURE(f, SESCTL_ERR_NOMEM);
	ok = pretty(f, root, 0);
	fputs("\n", f);
	ok = !ferror(f) && ok;
	ok = fclose(f) == 0 && ok;
	ENSURE(ok, SESCTL_ERR_NOMEM);
	*out = text;
	text = NULL;
out:
	free(text);
	cJSON_Delete(root);
	return rc;
}
