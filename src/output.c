/* output.c - env, export, dotenv, json and postfix renderings of the SMTP
 * settings (see output.h). */
#include "sesctl/output.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Largest rendering we produce: a few short fields. */
#define OUTPUT_MAX 8192

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

static sesctl_err render_lines(const struct smtp_creds *c, struct secret *o,
			       enum line_style style)
{
	char port[16];
	sesctl_err rc = SESCTL_OK;
	int n = snprintf(port, sizeof(port), "%d", c->port);

	ENSURE(n > 0 && (size_t)n < sizeof(port), SESCTL_ERR_INPUT);
	TRY(put_line(o, style, "SMTP_HOST", c->host));
	TRY(put_line(o, style, "SMTP_PORT", port));
	if (c->user)
		TRY(put_line(o, style, "SMTP_USER", c->user));
	TRY(put_line(o, style, "SMTP_PASS", secret_str(c->password)));
out:
	return rc;
}

static sesctl_err render_env(const struct smtp_creds *c, struct secret *o)
{
	return render_lines(c, o, LINE_PLAIN);
}

static sesctl_err render_export(const struct smtp_creds *c, struct secret *o)
{
	return render_lines(c, o, LINE_EXPORT);
}

static sesctl_err render_dotenv(const struct smtp_creds *c, struct secret *o)
{
	return render_lines(c, o, LINE_DOTENV);
}

/* Postfix sasl_passwd: "[host]:port user:password". */
static sesctl_err render_postfix(const struct smtp_creds *c, struct secret *o)
{
	sesctl_err rc = SESCTL_OK;

	TRY(put(o, "["));
	TRY(put(o, c->host));
	TRY(put(o, "]:"));
	TRY(put_port(o, c->port));
	TRY(put(o, " "));
	TRY(put(o, c->user));
	TRY(put(o, ":"));
	TRY(put(o, secret_str(c->password)));
	TRY(put(o, "\n"));
out:
	return rc;
}

static sesctl_err render_json(const struct smtp_creds *c, struct secret *o)
{
	cJSON *root = NULL;
	sesctl_err rc = SESCTL_OK;

	root = cJSON_CreateObject();
	ENSURE(root, SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddStringToObject(root, "region", c->region),
	       SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddStringToObject(root, "host", c->host), SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddNumberToObject(root, "port", c->port), SESCTL_ERR_NOMEM);
	ENSURE(cJSON_AddStringToObject(root, "tls",
				       c->port == 465 ? "tls" : "starttls"),
	       SESCTL_ERR_NOMEM);
	if (c->user)
		ENSURE(cJSON_AddStringToObject(root, "user", c->user),
		       SESCTL_ERR_NOMEM);
	/* A reference, so cJSON never holds its own copy of the password. */
	ENSURE(cJSON_AddItemToObject(
		       root, "password",
		       cJSON_CreateStringReference(secret_str(c->password))),
	       SESCTL_ERR_NOMEM);

	secret_clear(o);
	TRY(secret_alloc(o, OUTPUT_MAX));
	ENSURE(cJSON_PrintPreallocated(root, (char *)o->p, (int)o->cap, 0),
	       SESCTL_ERR_NOMEM);
	o->len = strlen((char *)o->p);
	TRY(put(o, "\n"));
out:
	cJSON_Delete(root);
	return rc;
}

static const struct output_format formats[] = {
	{ "env", render_env, 0,
	  "SMTP_HOST=, SMTP_PORT=, SMTP_USER=, SMTP_PASS= lines (default)" },
	{ "export", render_export, 0,
	  "the same as shell-quoted 'export' lines, for eval or source" },
	{ "dotenv", render_dotenv, 0,
	  "the same with double-quoted values, for .env files" },
	{ "json", render_json, 0,
	  "one JSON object: region, host, port, tls, user, password" },
	{ "postfix", render_postfix, OUTPUT_NEEDS_USER,
	  "a Postfix sasl_passwd line: [host]:port user:password" },
};

const struct output_format *output_lookup(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const struct output_format *output_formats(size_t *count)
{
	*count = sizeof(formats) / sizeof(formats[0]);
	return formats;
}

sesctl_err output_render(const struct output_format *fmt,
			 const struct smtp_creds *c, struct secret *out)
{
	sesctl_err rc;

	if (!fmt || !c || !c->host || !c->region || !c->password)
		return SESCTL_ERR_INPUT;
	if ((fmt->flags & OUTPUT_NEEDS_USER) && !c->user)
		return SESCTL_ERR_INPUT;
	secret_clear(out);
	rc = fmt->render(c, out);
	if (rc != SESCTL_OK)
		secret_clear(out);
	return rc;
}
