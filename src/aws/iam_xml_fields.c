/* iam_xml_fields.c - the field-table walker of iam_xml (see
 * iam_xml_int.h): parse_fields() fills any result struct from the children
 * of an element as its `struct field` table says (strings, raw tag text,
 * access key ids, dates, booleans, statuses, secrets, percent-encoded
 * policy documents, nested structs and <member> lists), and
 * release_fields() frees what it filled.  With the value conversions it
 * needs: ISO 8601 dates (iam_xml_parse_date) and percent-decoding.
 */
#include "sesctl/aws/iam_xml.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "iam_xml_int.h"

/* ------------------------------------------------------------------ */
/* Dates and percent-decoding                                         */

static bool digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

sesctl_err iam_xml_parse_date(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, tzh = 0, tzm = 0, sign = 0, dim;
	int64_t t;

	if (!s || !out || strlen(s) < 19)
		return SESCTL_ERR_INPUT;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return SESCTL_ERR_INPUT;
	s += 19;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return SESCTL_ERR_INPUT;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s++;
		if (!digits(s, 2, &tzh))
			return SESCTL_ERR_INPUT;
		s += 2;
		if (*s == ':')
			s++;
		if (!digits(s, 2, &tzm))
			return SESCTL_ERR_INPUT;
		s += 2;
	}
	if (*s != '\0')
		return SESCTL_ERR_INPUT;
	if (mo < 1 || mo > 12)
		return SESCTL_ERR_INPUT;
	dim = mdays[mo - 1] + (mo == 2 && leap_year(y));
	/* 60 seconds: a leap second, which ISO 8601 allows. */
	if (d < 1 || d > dim || h > 23 || mi > 59 || sec > 60 || tzh > 23 ||
	    tzm > 59)
		return SESCTL_ERR_INPUT;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (tzh * 3600 + tzm * 60);
	if ((int64_t)(time_t)t != t)
		return SESCTL_ERR_INPUT;
	*out = (time_t)t;
	return SESCTL_OK;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 percent-decoding the way botocore reads GetUserPolicy
 * (urllib.parse.unquote, not unquote_plus): "%XX" is the byte 0xXX, '+'
 * stays '+', a '%' without two hex digits after it is kept as it is. */
static sesctl_err percent_decode(struct pctx *pc, const char *name,
				 const unsigned char *p, size_t n, char **out,
				 size_t *out_len)
{
	char *d;
	size_t i, j = 0;

	d = malloc(n + 1);
	if (!d)
		return fail(pc, SESCTL_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		int hi, lo;

		if (p[i] == '%' && n - i > 2 &&
		    (hi = hex_value(p[i + 1])) >= 0 &&
		    (lo = hex_value(p[i + 2])) >= 0) {
			d[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			d[j++] = (char)p[i];
		}
		if (d[j - 1] == '\0') {
			free(d);
			return fail(pc, SESCTL_ERR_NETWORK,
				    "'%s' decodes to a NUL byte", name);
		}
	}
	d[j] = '\0';
	*out = d;
	*out_len = j;
	return SESCTL_OK;
}

/* ------------------------------------------------------------------ */
/* The walker                                                         */

void release_fields(void *obj, const struct field *fields)
{
	const struct field *f;

	if (!obj || !fields)
		return;
	for (f = fields; f->kind != K_END; f++) {
		switch (f->kind) {
		case K_SECRET:
			secret_free(at(obj, f->off));
			break;
		case K_DOC: {
			char *doc;

			memcpy(&doc, at(obj, f->off), sizeof(doc));
			free(doc);
			break;
		}
		case K_STRUCT:
			release_fields(at(obj, f->off), f->sub);
			break;
		case K_LIST: {
			unsigned char *items;
			size_t n, i;

			memcpy(&items, at(obj, f->off), sizeof(items));
			memcpy(&n, at(obj, f->off2), sizeof(n));
			for (i = 0; items && i < n; i++)
				release_fields(items + i * f->size, f->sub);
			free(items);
			break;
		}
		case K_END:
		case K_STR:
		case K_RAW:
		case K_KEYID:
		case K_DATE:
		case K_BOOL:
		case K_STATUS:
		default:
			break;
		}
	}
}

static const char *field_name(const struct field *f, const xmlNode *el)
{
	return f->name ? f->name : printable_name(el);
}

/* Copy `n` bytes into the char[size] at `dst`; too long is an error. */
static sesctl_err put_str(struct pctx *pc, const struct field *f,
			  const xmlNode *el, char *dst, size_t size,
			  const unsigned char *p, size_t n)
{
	if (n >= size)
		return fail(pc, SESCTL_ERR_NETWORK,
			    "'%s' is longer than %zu bytes", field_name(f, el),
			    size - 1);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return SESCTL_OK;
}

/* An access key id as IAM documents it (AccessKeyId: 16 to 128 characters
 * of [\w]+; in practice AKIA or ASIA and 16 upper-case letters and
 * digits).  It reaches output files and headers as it is, so anything
 * else (a line break, '=', a space) makes the answer malformed. */
static bool key_id_ok(const unsigned char *p, size_t n)
{
	size_t i;

	if (n < 16 || n > 128)
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	return true;
}

static enum iam_status status_of(const char *s)
{
	if (strcmp(s, "Active") == 0)
		return IAM_STATUS_ACTIVE;
	if (strcmp(s, "Inactive") == 0)
		return IAM_STATUS_INACTIVE;
	if (strcmp(s, "Expired") == 0)
		return IAM_STATUS_EXPIRED;
	return IAM_STATUS_OTHER;
}

static sesctl_err parse_list(struct pctx *pc, const xmlNode *el,
			     const struct field *f, void *obj)
{
	const xmlNode *c;
	unsigned char *items;
	size_t n = 0, i = 0;
	sesctl_err rc = SESCTL_OK;

	for (c = el->children; c; c = c->next)
		if (is_elem(c, "member") && ++n > IAM_XML_LIST_MAX)
			return fail(pc, SESCTL_ERR_INPUT,
				    "'%s' has more than %d members", f->name,
				    IAM_XML_LIST_MAX);
	if (n == 0)
		return SESCTL_OK;
	items = calloc(n, f->size);
	if (!items)
		return fail(pc, SESCTL_ERR_NOMEM, "out of memory");
	/* Owned by `obj` from here: release_fields frees it on failure. */
	memcpy(at(obj, f->off), &items, sizeof(items));
	memcpy(at(obj, f->off2), &n, sizeof(n));
	for (c = el->children; c; c = c->next) {
		if (!is_elem(c, "member"))
			continue;
		TRY(parse_fields(pc, c, f->sub, items + i * f->size));
		i++;
	}
out:
	return rc;
}

/* Element `el` holds the value of field `f` of `obj`. */
static sesctl_err parse_value(struct pctx *pc, const xmlNode *el,
			      const struct field *f, void *obj)
{
	const char *name = field_name(f, el);
	const unsigned char *p = NULL;
	size_t n = 0;
	sesctl_err rc = SESCTL_OK;

	if (f->kind == K_STRUCT)
		return parse_fields(pc, el, f->sub, at(obj, f->off));
	if (f->kind == K_LIST)
		return parse_list(pc, el, f, obj);

	TRY(elem_text(pc, el, &p, &n));
	if (f->kind != K_RAW)
		trim(&p, &n);
	ENSURE(!(f->required && n == 0),
	       fail(pc, SESCTL_ERR_NETWORK, "'%s' is empty", name));

	switch (f->kind) {
	case K_STR:
	case K_RAW:
		TRY(put_str(pc, f, el, at(obj, f->off), f->size, p, n));
		break;
	case K_KEYID:
		ENSURE(key_id_ok(p, n),
		       fail(pc, SESCTL_ERR_NETWORK,
			    "'%s' is not an access key id (16 to 128 letters, "
			    "digits or '_')",
			    name));
		TRY(put_str(pc, f, el, at(obj, f->off), f->size, p, n));
		break;
	case K_STATUS: {
		char *text = at(obj, f->off2);
		enum iam_status st;

		TRY(put_str(pc, f, el, text, f->size, p, n));
		st = status_of(text);
		memcpy(at(obj, f->off), &st, sizeof(st));
		break;
	}
	case K_DATE: {
		struct iam_date *d = at(obj, f->off);

		ENSURE(n > 0 && n <= IAM_XML_DATE_MAX,
		       fail(pc, SESCTL_ERR_NETWORK,
			    "'%s' is not an ISO 8601 date", name));
		memcpy(d->iso, p, n);
		d->iso[n] = '\0';
		if (iam_xml_parse_date(d->iso, &d->t) != SESCTL_OK) {
			memset(d, 0, sizeof(*d));
			rc = fail(pc, SESCTL_ERR_NETWORK,
				  "'%s' is not an ISO 8601 date", name);
			goto out;
		}
		d->present = true;
		break;
	}
	case K_BOOL: {
		bool v;

		if (n == 4 && memcmp(p, "true", 4) == 0)
			v = true;
		else if (n == 5 && memcmp(p, "false", 5) == 0)
			v = false;
		else if (n == 1 && (p[0] == '1' || p[0] == '0'))
			v = p[0] == '1';
		else {
			rc = fail(pc, SESCTL_ERR_NETWORK,
				  "'%s' is not a boolean", name);
			goto out;
		}
		memcpy(at(obj, f->off), &v, sizeof(v));
		break;
	}
	case K_SECRET:
		/* Straight from the text node into locked, wiped memory. */
		rc = secret_set(at(obj, f->off), p, n);
		ENSURE(rc == SESCTL_OK,
		       fail(pc, rc == SESCTL_ERR_NOMEM ? rc : SESCTL_ERR_NETWORK,
			    "cannot hold '%s'", name));
		break;
	case K_DOC: {
		char *doc = NULL;
		size_t len = 0;

		TRY(percent_decode(pc, name, p, n, &doc, &len));
		memcpy(at(obj, f->off), &doc, sizeof(doc));
		memcpy(at(obj, f->off2), &len, sizeof(len));
		break;
	}
	case K_END:
	case K_STRUCT:
	case K_LIST:
	default:
		break;
	}
out:
	return rc;
}

/* Fill `obj` from the children of `parent` as `fields` say.  Unknown
 * children are ignored; a known one appearing twice is an error. */
sesctl_err parse_fields(struct pctx *pc, const xmlNode *parent,
			const struct field *fields, void *obj)
{
	const struct field *f;
	sesctl_err rc = SESCTL_OK;

	for (f = fields; f->kind != K_END; f++) {
		const xmlNode *c, *found = NULL;

		if (!f->name) {
			TRY(parse_value(pc, parent, f, obj));
			continue;
		}
		for (c = parent->children; c; c = c->next) {
			if (!is_elem(c, f->name))
				continue;
			ENSURE(!found,
			       fail(pc, SESCTL_ERR_NETWORK,
				    "'%s' appears more than once in '%s'",
				    f->name, printable_name(parent)));
			found = c;
		}
		if (!found) {
			ENSURE(!f->required,
			       fail(pc, SESCTL_ERR_NETWORK,
				    "'%s' is missing from '%s'", f->name,
				    printable_name(parent)));
			continue;
		}
		TRY(parse_value(pc, found, f, obj));
	}
out:
	return rc;
}
