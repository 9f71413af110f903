/* output_parse.c - reading SMTP settings back from a file sesctl wrote, in
 * any of its formats (see output.h): rotate and verify find the key and the
 * regions an app was given. */
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
