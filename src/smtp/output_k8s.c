/* output_k8s.c - what the k8s-secret format needs beyond output.c's
 * lines: Kubernetes' name rules, and YAML double-quoted scalars written
 * and read back (see output.h).
 *
 * Every value of the Secret sesctl writes is double-quoted: a plain
 * scalar would turn a port into a number (stringData takes strings only),
 * a name like "true" or "1e3" into a bool or a float, and a password
 * starting with a YAML indicator into something else.  Double quotes
 * carry any Unicode text once '"', '\' and the characters YAML does not
 * allow raw are escaped (YAML 1.2, 5.1 and 5.7). */
#include "sesctl/smtp/output.h"

#include <stdio.h>
#include <string.h>

bool output_k8s_name_ok(const char *s, bool label)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > (label ? K8S_NAMESPACE_MAX : K8S_NAME_MAX))
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		bool edge = i == 0 || i == len - 1 || s[i - 1] == '.' ||
			    s[i + 1] == '.';

		if (c == '.' && !label) {
			/* an empty part ("a..b", ".a", "a.") fails below */
			if (i == 0 || i == len - 1 || s[i + 1] == '.')
				return false;
			continue;
		}
		if (!alnum && !(c == '-' && !edge))
			return false;
	}
	return true;
}

/* The code point of the UTF-8 sequence at s (*n bytes, within `avail`),
 * or -1 when it is not well-formed (overlong, a surrogate, past U+10FFFF,
 * cut short). */
static long utf8_next(const unsigned char *s, size_t avail, size_t *n)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	long cp;

	if (avail == 0)
		return -1;
	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	if (len > avail)
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*n = len;
	return cp;
}

static sesctl_err put_utf8(struct secret *o, long cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return secret_append(o, b, n);
}

/* Whether code point `cp` must be escaped in a double-quoted scalar:
 * what YAML does not allow raw (C0 but tab, DEL, C1, U+FFFE/U+FFFF),
 * what it would fold or take for a line break (tab, LF, CR, NEL, U+2028,
 * U+2029: escaped too, so that the value is on one line), and the BOM,
 * which some readers drop. */
static bool must_escape(long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

sesctl_err output_yaml_quote(struct secret *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;
	sesctl_err rc = SESCTL_OK;
	char esc[8];
	long cp;

	TRY(secret_append(o, "\"", 1));
	while (left > 0) {
		cp = utf8_next(p, left, &n);
		ENSURE(cp >= 0, SESCTL_ERR_INPUT);
		if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			TRY(secret_append(o, esc, 2));
		} else if (must_escape(cp)) {
			/* (esc is big enough for both forms.) */
			snprintf(esc, sizeof(esc), cp <= 0xFF ? "\\x%02lX" :
								"\\u%04lX",
				 (unsigned long)cp);
			TRY(secret_append(o, esc, strlen(esc)));
		} else {
			TRY(secret_append(o, p, n));
		}
		p += n;
		left -= n;
	}
	TRY(secret_append(o, "\"", 1));
out:
	secret_wipe(esc, sizeof(esc));
	return rc;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* `digits` hex digits at p (within len): the value, or -1. */
static long hex_at(const char *p, size_t len, size_t digits)
{
	long v = 0;
	size_t i;

	if (len < digits)
		return -1;
	for (i = 0; i < digits; i++) {
		int h = hex_value(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

sesctl_err output_yaml_unquote(const char *p, size_t len, struct secret *out,
			       bool *ok)
{
	const unsigned char *u = (const unsigned char *)p;
	sesctl_err rc = SESCTL_OK;
	size_t i = 1, n;
	long cp;

	*ok = false;
	secret_clear(out);
	if (len < 2 || p[0] != '"' || p[len - 1] != '"')
		goto out;
	while (i < len - 1) {
		if (p[i] == '"')
			goto out; /* a quote inside that is not escaped */
		if (p[i] == '\\') {
			if (i + 1 >= len - 1)
				goto out;
			switch (p[i + 1]) {
			case '"':
			case '\\':
				TRY(secret_append(out, &p[i + 1], 1));
				i += 2;
				continue;
			case 'x':
				cp = hex_at(p + i + 2, len - 1 - (i + 2), 2);
				i += 4;
				break;
			case 'u':
				cp = hex_at(p + i + 2, len - 1 - (i + 2), 4);
				i += 6;
				break;
			default:
				goto out;
			}
			/* Only what output_yaml_quote escapes comes back:
			 * \u0000 is no value sesctl writes. */
			if (cp <= 0 || !must_escape(cp))
				goto out;
			TRY(put_utf8(out, cp));
			continue;
		}
		/* Raw text: well-formed UTF-8 that needs no escape (a NUL
		 * does), before the closing quote. */
		cp = utf8_next(u + i, len - 1 - i, &n);
		if (cp < 0 || must_escape(cp))
			goto out;
		TRY(secret_append(out, p + i, n));
		i += n;
	}
	*ok = true;
out:
	if (!*ok)
		secret_clear(out);
	return rc;
}
