/* output_parse.c - reading SMTP settings back from a file sesctl wrote, in
 * any of its formats (see output.h): rotate and verify find the key, the
 * regions (and a Secret's name and namespace) an app was given. */
#include "sesctl/smtp/output.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

static const char *const setting_names[] = { "SMTP_HOST", "SMTP_PORT",
					     "SMTP_USER", "SMTP_PASS" };

/* Which of setting_names `name` (nl bytes) is, with or without a
 * "_<SUFFIX>"; 4 when none.  *n: the length of the name without it. */
static size_t setting_kind(const char *name, size_t nl, size_t *n)
{
	size_t k;

	for (k = 0; k < 4; k++) {
		*n = strlen(setting_names[k]);
		if (nl >= *n && strncmp(name, setting_names[k], *n) == 0 &&
		    (nl == *n || name[*n] == '_'))
			break;
	}
	return k;
}

/* Set field `k` (setting_kind) of the setting for `name`'s suffix to `v`.
 * `once`: a field given twice is an error (YAML keys are unique); else
 * the last one counts, as in a shell. */
static sesctl_err set_field(struct err_info *err, const char *source,
			    size_t lineno, struct smtp_settings *s,
			    const char *name, size_t nl, size_t k, size_t n,
			    const struct secret *v, bool once)
{
	struct smtp_setting *st = setting_for(s, name + n, nl - n);
	sesctl_err rc = SESCTL_OK;
	bool ok, given;

	ENSURE(st, err_set(err, SESCTL_ERR_INPUT,
			   "%s has more than %d sets of SMTP settings", source,
			   SMTP_SETTINGS_MAX));
	given = k == 0 ? st->host[0] != '\0' :
		k == 1 ? st->port != 0 :
		k == 2 ? st->user[0] != '\0' :
			 st->password.len > 0;
	ENSURE(!once || !given,
	       err_set(err, SESCTL_ERR_INPUT, "%s line %zu: %.*s is given twice",
		       source, lineno, (int)nl, name));
	switch (k) {
	case 0:
		ok = copy_field(st->host, sizeof(st->host), v);
		break;
	case 1:
		ok = parse_port(secret_str(v), v->len, &st->port);
		break;
	case 2:
		ok = copy_field(st->user, sizeof(st->user), v);
		break;
	default:
		ok = secret_set(&st->password, v->p, v->len) == SESCTL_OK;
		break;
	}
	ENSURE(ok, err_set(err, SESCTL_ERR_INPUT,
			   "%s line %zu: the value of %.*s is not valid",
			   source, lineno, (int)nl, name));
out:
	return rc;
}

/* NAME=VALUE lines (env, export, dotenv). */
static sesctl_err parse_lines(struct err_info *err, const char *text,
			      size_t len, const char *source,
			      struct smtp_settings *s)
{
	struct secret v = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;
	size_t pos = 0, lineno = 0, n, k;
	bool ok, exported;

	while (pos < len) {
		size_t ll, nl;
		const char *line = next_line(text, len, &pos, &ll), *eq;

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
		k = setting_kind(line, nl, &n);
		if (k == 4)
			continue; /* someone else's variable */
		if (!s->format) /* the first SMTP_* line tells the format */
			s->format = output_lookup(
				exported ? "export" :
				nl + 1 < ll && eq[1] == '"' ? "dotenv" :
							      "env");
		TRY(unquote(eq + 1, ll - nl - 1, &v, &ok));
		ENSURE(ok, err_set(err, SESCTL_ERR_INPUT,
				   "%s line %zu: a quote is not closed",
				   source, lineno));
		TRY(set_field(err, source, lineno, s, line, nl, k, n, &v,
			      false));
	}
out:
	secret_free(&v);
	return rc;
}

/* ---- k8s-secret -------------------------------------------------------
 * Exactly what render_k8s_secret (output.c) writes, line by line:
 *
 *   apiVersion: v1
 *   kind: Secret
 *   metadata:
 *     name: "NAME"
 *     namespace: "NS"                    (optional)
 *     labels:
 *       app.kubernetes.io/managed-by: "sesctl"
 *   type: Opaque
 *   stringData:
 *     SMTP_...: "VALUE"                  (one or more, then nothing)
 *
 * Anything else is refused rather than guessed at: a Secret someone
 * edited may hold keys or fields sesctl would drop when rotate writes it
 * again.  Messages name the line and what was expected there, never the
 * line itself (it may hold the password). */

#define K8S_NOT_OURS "%s is not a Kubernetes Secret as 'sesctl smtp enable " \
		     "--format k8s-secret' writes it: line %zu"

/* Whether the line is `want` exactly. */
static bool line_is(const char *line, size_t ll, const char *want)
{
	return ll == strlen(want) && memcmp(line, want, ll) == 0;
}

/* `line` is "<key>: "<quoted>"": the unquoted value to `v`. */
static sesctl_err yaml_entry(const char *line, size_t ll, const char *key,
			     struct secret *v, bool *ok)
{
	size_t kl = strlen(key);

	*ok = false;
	if (ll < kl + 2 || memcmp(line, key, kl) != 0 || line[kl] != ':' ||
	    line[kl + 1] != ' ')
		return SESCTL_OK;
	return output_yaml_unquote(line + kl + 2, ll - kl - 2, v, ok);
}

/* metadata.name (label false) or .namespace (true) at `line` into dst. */
static sesctl_err k8s_meta(struct err_info *err, const char *source,
			   size_t lineno, const char *line, size_t ll,
			   const char *key, bool label, char *dst, size_t size,
			   struct secret *v, bool *ok)
{
	sesctl_err rc = SESCTL_OK;

	TRY(yaml_entry(line, ll, key, v, ok));
	if (!*ok)
		goto out;
	ENSURE(copy_field(dst, size, v) && output_k8s_name_ok(dst, label),
	       err_set(err, SESCTL_ERR_INPUT,
		       K8S_NOT_OURS ": the %s is not %s", source, lineno,
		       label ? "namespace" : "name",
		       label ? K8S_LABEL_RULE : K8S_SUBDOMAIN_RULE));
out:
	return rc;
}

static sesctl_err parse_k8s(struct err_info *err, const char *text,
			    size_t len, const char *source,
			    struct smtp_settings *s)
{
	static const char *const head[] = { "apiVersion: v1", "kind: Secret",
					    "metadata:" };
	static const char *const tail[] = {
		"  labels:",
		"    " K8S_MANAGED_BY_LABEL ": \"" K8S_MANAGED_BY_VALUE "\"",
		"type: Opaque", "stringData:"
	};
	struct secret v = SECRET_INIT;
	sesctl_err rc = SESCTL_OK;
	size_t pos = 0, lineno = 0, i, ll, n, k, entries = 0;
	const char *line;
	bool ok;

	s->format = output_lookup("k8s-secret");
	for (i = 0; i < 3; i++) {
		line = next_line(text, len, &pos, &ll);
		lineno++;
		ENSURE(line_is(line, ll, head[i]),
		       err_set(err, SESCTL_ERR_INPUT,
			       K8S_NOT_OURS " should be '%s'", source, lineno,
			       head[i]));
	}
	line = next_line(text, len, &pos, &ll);
	lineno++;
	TRY(k8s_meta(err, source, lineno, line, ll, "  name", false,
		     s->k8s_name, sizeof(s->k8s_name), &v, &ok));
	ENSURE(ok, err_set(err, SESCTL_ERR_INPUT,
			   K8S_NOT_OURS " should be the name: '  name: "
					"\"NAME\"'",
			   source, lineno));
	line = next_line(text, len, &pos, &ll);
	lineno++;
	TRY(k8s_meta(err, source, lineno, line, ll, "  namespace", true,
		     s->k8s_namespace, sizeof(s->k8s_namespace), &v, &ok));
	if (ok) {
		line = next_line(text, len, &pos, &ll);
		lineno++;
	}
	for (i = 0; i < 4; i++) {
		if (i > 0) {
			line = next_line(text, len, &pos, &ll);
			lineno++;
		}
		ENSURE(line_is(line, ll, tail[i]),
		       err_set(err, SESCTL_ERR_INPUT,
			       K8S_NOT_OURS " should be '%s'", source, lineno,
			       tail[i]));
	}
	while (pos < len) {
		const char *colon;

		line = next_line(text, len, &pos, &ll);
		lineno++;
		if (ll == 0)
			break; /* the end: only blank lines may follow */
		colon = ll > 2 ? memchr(line + 2, ':', ll - 2) : NULL;
		k = colon && line[0] == ' ' && line[1] == ' ' ?
			    setting_kind(line + 2, (size_t)(colon - line - 2),
					 &n) :
			    4;
		for (i = 2; k < 4 && line + i < colon; i++)
			if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
				    line[i]))
				k = 4;
		ENSURE(k < 4, err_set(err, SESCTL_ERR_INPUT,
				      K8S_NOT_OURS " is not an SMTP_HOST, "
						   "SMTP_PORT, SMTP_USER or "
						   "SMTP_PASS entry of "
						   "stringData",
				      source, lineno));
		ok = colon + 1 < line + ll && colon[1] == ' ';
		if (ok)
			TRY(output_yaml_unquote(
				colon + 2, (size_t)(line + ll - colon - 2), &v,
				&ok));
		ENSURE(ok, err_set(err, SESCTL_ERR_INPUT,
				   K8S_NOT_OURS ": the value of %.*s is not one "
						"double-quoted string",
				   source, lineno, (int)(colon - line - 2),
				   line + 2));
		TRY(set_field(err, source, lineno, s, line + 2,
			      (size_t)(colon - line - 2), k, n, &v, true));
		entries++;
	}
	while (pos < len) {
		line = next_line(text, len, &pos, &ll);
		lineno++;
		ENSURE(ll == 0, err_set(err, SESCTL_ERR_INPUT,
					K8S_NOT_OURS " follows a blank line "
						     "at the end of stringData",
					source, lineno));
	}
	ENSURE(entries > 0, err_set(err, SESCTL_ERR_INPUT,
				    "%s is a Kubernetes Secret with no SMTP "
				    "settings in its stringData",
				    source));
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
			s->format = output_lookup("json-array");
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

/* YAML, not NAME=VALUE lines: a Kubernetes manifest starts so ("---",
 * or a key env files never have); parse_k8s says if it is not sesctl's. */
static bool starts_yaml(const char *p, size_t len)
{
	static const char *const starts[] = { "apiVersion:", "kind:",
					      "---" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (len >= strlen(starts[i]) &&
		    memcmp(p, starts[i], strlen(starts[i])) == 0)
			return true;
	return false;
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
	else if (starts_yaml(text + i, len - i))
		TRY(parse_k8s(err, text + i, len - i, source, out));
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
