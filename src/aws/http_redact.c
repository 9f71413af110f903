/* http_redact.c - the debug log's redaction (see http.h, http_int.h).
 *
 * What --debug may show of a request or an answer: http_redact() copies a
 * body with the values of secret XML elements, JSON members and form
 * fields replaced by "<redacted>"; debug_lines() prints libcurl's header
 * lines with the Authorization signature and secret-named headers hidden,
 * and debug_body() a whole body, redacted.  Nothing here calls libcurl:
 * http.c's CURLOPT_DEBUGFUNCTION hands the lines over. */
#include "sesctl/aws/http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"

/* ---- redaction ----------------------------------------------------- */

static bool ci_contains(const char *p, size_t n, const char *needle)
{
	size_t m = strlen(needle), i, j;

	for (i = 0; i + m <= n; i++) {
		for (j = 0; j < m; j++)
			if (tolower((unsigned char)p[i + j]) != needle[j])
				break;
		if (j == m)
			return true;
	}
	return false;
}

static bool sensitive_name(const char *p, size_t n)
{
	return ci_contains(p, n, "secret") || ci_contains(p, n, "token") ||
	       ci_contains(p, n, "password") || ci_contains(p, n, "signature");
}

struct strbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
	char *np;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

#define REDACTED "<redacted>"

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == ':' ||
	       c == '.';
}

/* XML: the text of any element whose name is sensitive. */
static void redact_xml(struct strbuf *b, const char *in, size_t len)
{
	size_t i = 0, start, name_end;

	while (i < len) {
		if (in[i] != '<' || i + 1 >= len || in[i + 1] == '/' ||
		    !is_name_char(in[i + 1])) {
			sb_add(b, in + i, 1);
			i++;
			continue;
		}
		start = i;
		i++;
		while (i < len && is_name_char(in[i]))
			i++;
		name_end = i;
		while (i < len && in[i] != '>')
			i++;
		if (i >= len) {
			sb_add(b, in + start, len - start);
			return;
		}
		i++; /* past '>' */
		sb_add(b, in + start, i - start);
		if (in[i - 2] != '/' &&
		    sensitive_name(in + start + 1, name_end - start - 1)) {
			while (i < len && in[i] != '<')
				i++;
			sb_str(b, REDACTED);
		}
	}
}

/* JSON: "sensitiveName": "value" */
static void redact_json(struct strbuf *b, const char *in, size_t len)
{
	size_t i = 0, start, end;

	while (i < len) {
		if (in[i] != '"') {
			sb_add(b, in + i, 1);
			i++;
			continue;
		}
		start = i++;
		while (i < len && in[i] != '"') {
			if (in[i] == '\\' && i + 1 < len)
				i++;
			i++;
		}
		if (i >= len) {
			sb_add(b, in + start, len - start);
			return;
		}
		end = ++i; /* past the closing quote */
		sb_add(b, in + start, end - start);
		while (i < len && isspace((unsigned char)in[i]))
			i++;
		if (i >= len || in[i] != ':' ||
		    !sensitive_name(in + start + 1, end - start - 2))
			continue;
		sb_add(b, in + end, i + 1 - end); /* whitespace and ':' */
		i++;
		while (i < len && isspace((unsigned char)in[i]))
			sb_add(b, in + i++, 1);
		if (i < len && in[i] == '"') {
			i++;
			while (i < len && in[i] != '"') {
				if (in[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			if (i < len)
				i++;
			sb_str(b, "\"" REDACTED "\"");
		}
	}
}

/* application/x-www-form-urlencoded: name=value&... */
static void redact_form(struct strbuf *b, const char *in, size_t len)
{
	size_t i = 0, start, eq;

	while (i < len) {
		start = i;
		while (i < len && in[i] != '&' && in[i] != '=')
			i++;
		eq = i;
		while (i < len && in[i] != '&')
			i++;
		if (eq < i && sensitive_name(in + start, eq - start)) {
			sb_add(b, in + start, eq + 1 - start);
			sb_str(b, REDACTED);
		} else {
			sb_add(b, in + start, i - start);
		}
		if (i < len)
			sb_add(b, in + i++, 1);
	}
}

char *http_redact(const char *in, size_t len)
{
	struct strbuf b = { NULL, 0, 0, false };
	size_t i = 0;

	while (i < len && isspace((unsigned char)in[i]))
		i++;
	if (i < len && in[i] == '<')
		redact_xml(&b, in, len);
	else if (i < len && (in[i] == '{' || in[i] == '['))
		redact_json(&b, in, len);
	else
		redact_form(&b, in, len);
	sb_add(&b, "", 0);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* One header line for the debug log, with its secret parts hidden. */
static void debug_header_line(struct ctx *ctx, const char *pfx, char dir,
			      const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t name_len = colon ? (size_t)(colon - line) : 0;

	if (n == 0)
		return;
	if (colon && name_len == strlen("authorization") &&
	    strncasecmp(line, "authorization", name_len) == 0) {
		const char *sig = NULL, *p;

		for (p = line; p + 10 <= line + n; p++)
			if (strncmp(p, "Signature=", 10) == 0)
				sig = p + 10;
		if (sig)
			ctx_debug(ctx, "%s%c %.*s%s", pfx, dir,
				  (int)(sig - line), line, REDACTED);
		else
			ctx_debug(ctx, "%s%c %.*s: %s", pfx, dir, (int)name_len,
				  line, REDACTED);
		return;
	}
	if (colon && sensitive_name(line, name_len)) {
		ctx_debug(ctx, "%s%c %.*s: %s", pfx, dir, (int)name_len, line,
			  REDACTED);
		return;
	}
	ctx_debug(ctx, "%s%c %.*s", pfx, dir, (int)n, line);
}

void debug_lines(struct ctx *ctx, const char *pfx, char dir,
			const char *data, size_t size)
{
	size_t i = 0, start;

	while (i < size) {
		start = i;
		while (i < size && data[i] != '\n' && data[i] != '\r')
			i++;
		debug_header_line(ctx, pfx, dir, data + start, i - start);
		while (i < size && (data[i] == '\n' || data[i] == '\r'))
			i++;
	}
}

void debug_body(struct ctx *ctx, const char *pfx, char dir,
		       const void *body, size_t len)
{
	char *red;

	if (!ctx->debug || len == 0)
		return;
	red = http_redact(body, len);
	if (red)
		ctx_debug(ctx, "%s%c (body, %zu bytes) %s", pfx, dir, len, red);
	free(red);
}
