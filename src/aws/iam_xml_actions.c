/* iam_xml.c - IAM and STS Query API response bodies into structs (see
 * iam_xml.h).
 *
 * The only file that includes libxml2.  The shape of every result is data:
 * a table of `struct field` per action says which element goes where, and
 * one walker fills (parse_fields) and frees (release_fields) any of them.
 *
 * Secret hygiene.  A body may hold a SecretAccessKey, and libxml2 copies
 * what it parses: its input buffer, text nodes (grown with realloc when the
 * text arrives in several pieces), a converted copy of a non-UTF-8 body,
 * interned strings in the document dictionary.  So:
 *  - the first use installs a wiping allocator for libxml2 (xmlMemSetup):
 *    every block libxml2 frees or reallocates is wiped first.  That is
 *    process-wide, which is fine because this module is the only user of
 *    libxml2 in sesctl (STYLE.md module boundaries); nothing may call
 *    libxml2 before iam_xml does.
 *  - values are copied out of the tree straight into their destination; the
 *    SecretAccessKey goes from the text node into a struct secret with no
 *    intermediate copy (or, if it arrived as several text/CDATA nodes, they
 *    are joined in a struct secret);
 *  - before xmlFreeDoc every text, CDATA, comment and attribute text node is
 *    wiped with secret_wipe() (redundant with the allocator, and what
 *    STYLE.md asks for should the allocator ever be dropped).
 * Residual: libxml2's static and stack buffers (it parses names and
 * character references through small fixed arrays on the stack), and memory
 * libxml2 might obtain without going through xmlMalloc.  The input buffer
 * cannot be avoided: libxml2 2.9.14 cannot parse a static (non-copied)
 * buffer longer than a few hundred bytes (xmlParserInputShrink moves the
 * read position twice for an immutable buffer), so
 * xmlParserInputBufferCreateMem copies the body and the allocator wipes the
 * copy.
 */
#include "sesctl/aws/iam_xml.h"

#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlmemory.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/* libxml2 2.12 made the structured error handler take a const pointer. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Longest action name we build "<Action>Response" from. */
#define ACTION_NAME_MAX 64

/* ------------------------------------------------------------------ */
/* libxml2 set-up and error capture                                   */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

/* libxml2's allocator: plain malloc, but every block is wiped before it
 * is freed or moved.  malloc_usable_size (glibc) gives the size to wipe,
 * so blocks need no header and valgrind still sees libxml2's globals as
 * reachable. */
static void *xml_malloc(size_t n)
{
	return malloc(n ? n : 1);
}

static void xml_free(void *q)
{
	if (!q)
		return;
	secret_wipe(q, malloc_usable_size(q));
	free(q);
}

/* Always moves, so the old block can be wiped. */
static void *xml_realloc(void *q, size_t n)
{
	void *d;
	size_t old;

	if (!q)
		return xml_malloc(n);
	d = xml_malloc(n);
	if (!d)
		return NULL;
	old = malloc_usable_size(q);
	memcpy(d, q, old < n ? old : n);
	xml_free(q);
	return d;
}

static char *xml_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xml_malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static void xml_init_once(void)
{
	/* Before anything else in libxml2 allocates. */
	(void)xmlMemSetup(xml_free, xml_malloc, xml_realloc, xml_strdup);
	xmlInitParser();
}

/* The first error libxml2 reported while parsing one body. */
struct xml_errors {
	bool have;
	bool nomem;
	int code;
	int line;
	int column;
};

static void capture_error(void *ctx, xml_error_arg e)
{
	struct xml_errors *xe = ctx;

	if (!xe || !e)
		return;
	if (e->code == XML_ERR_NO_MEMORY)
		xe->nomem = true;
	if (xe->have || e->level < XML_ERR_ERROR)
		return;
	xe->have = true;
	xe->code = e->code;
	xe->line = e->line;
	xe->column = e->int2; /* the parser puts the column here */
}

/* Swallows anything libxml2 would print through its generic channel. */
static void ignore_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* Wording for the errors a truncated or garbled body produces; libxml2's
 * own messages quote names and values from the body, so they are not
 * used. */
static const char *xml_error_text(int code)
{
	switch (code) {
	case XML_ERR_DOCUMENT_EMPTY:
		return "document is empty";
	case XML_ERR_DOCUMENT_START:
		return "start tag expected";
	case XML_ERR_DOCUMENT_END:
	case XML_ERR_EXTRA_CONTENT:
		return "extra content at the end of the document";
	case XML_ERR_TAG_NAME_MISMATCH:
		return "opening and ending tag mismatch";
	case XML_ERR_TAG_NOT_FINISHED:
	case XML_ERR_LTSLASH_REQUIRED:
	case XML_ERR_GT_REQUIRED:
		return "premature end of data (truncated response?)";
	case XML_ERR_NAME_REQUIRED:
		return "element name expected";
	case XML_ERR_INVALID_CHAR:
	case XML_ERR_INVALID_CHARREF:
	case XML_ERR_INVALID_DEC_CHARREF:
	case XML_ERR_INVALID_HEX_CHARREF:
		return "invalid character";
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_ENTITYREF_SEMICOL_MISSING:
	case XML_ERR_ENTITYREF_NO_NAME:
		return "undeclared or malformed entity reference";
	case XML_ERR_LT_IN_ATTRIBUTE:
	case XML_ERR_ATTRIBUTE_NOT_STARTED:
	case XML_ERR_ATTRIBUTE_NOT_FINISHED:
	case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
	case XML_ERR_ATTRIBUTE_REDEFINED:
		return "malformed attribute";
	case XML_ERR_INVALID_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
		return "invalid or unsupported encoding";
	case XML_ERR_RESERVED_XML_NAME:
		return "XML declaration not at the start";
	case XML_ERR_COMMENT_NOT_FINISHED:
		return "unfinished comment";
	case XML_ERR_CDATA_NOT_FINISHED:
		return "unfinished CDATA section";
	case XML_ERR_SPACE_REQUIRED:
		return "whitespace required";
	case XML_ERR_LT_REQUIRED:
		return "'<' required";
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Parse context                                                      */

struct pctx {
	const char *action;     /* for messages */
	struct err_info *ei;
	struct secret scratch;  /* joins multi-node text; wiped */
	bool doctype;           /* the body had a DOCTYPE */
	bool doctype_html;
	struct xml_errors xerr;
};

static sesctl_err fail(struct pctx *pc, sesctl_err code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* err_set with the action prepended: "CreateUser: <detail>". */
static sesctl_err fail(struct pctx *pc, sesctl_err code, const char *fmt, ...)
{
	char detail[ERR_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n < 0)
		detail[0] = '\0';
	return err_set(pc->ei, code, "%s: %s", pc->action, detail);
}

/* ------------------------------------------------------------------ */
/* Names                                                              */

/* The local part of an element name: namespaces are matched by local name
 * only, and an unbound prefix ("iam:X" without xmlns:iam) leaves the
 * prefix in the name, so strip it here too. */
static const char *local_name(const xmlNode *n)
{
	const char *name = (const char *)n->name;
	const char *colon;

	if (!name)
		return "";
	colon = strrchr(name, ':');
	return colon ? colon + 1 : name;
}

static bool is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       strcmp(local_name(n), name) == 0;
}

/* An element name fit to quote in a message: a plain identifier of a
 * sane length, otherwise "?" (names come from the body). */
static const char *printable_name(const xmlNode *n)
{
	const char *s = n ? local_name(n) : "";
	size_t i, len = strlen(s);

	if (len == 0 || len > 64)
		return "?";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return "?";
	}
	return s;
}

/* The first child element called `name`, or NULL. */
static xmlNode *child(const xmlNode *parent, const char *name)
{
	xmlNode *c;

	if (!parent)
		return NULL;
	for (c = parent->children; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Reading the document                                               */

static void wipe_nodes(const xmlDoc *doc, xmlNode *n)
{
	for (; n; n = n->next) {
		switch (n->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
		case XML_COMMENT_NODE:
		case XML_PI_NODE:
			/* Dictionary strings are shared (libxml2 interns only
			 * whitespace runs and values of 3 bytes or less):
			 * leave them alone. */
			if (n->content &&
			    n->content != (xmlChar *)&n->properties &&
			    !(doc->dict && xmlDictOwns(doc->dict, n->content)))
				secret_wipe(n->content,
					    strlen((const char *)n->content));
			break;
		case XML_ELEMENT_NODE: {
			xmlAttr *a;

			for (a = n->properties; a; a = a->next)
				wipe_nodes(doc, a->children);
			/* Depth is bounded by libxml2's nesting limit (256). */
			wipe_nodes(doc, n->children);
			break;
		}
		default:
			break;
		}
	}
}

static void free_doc(xmlDoc *doc)
{
	if (!doc)
		return;
	wipe_nodes(doc, doc->children);
	xmlFreeDoc(doc);
}

/* SAX internalSubset: called as soon as "<!DOCTYPE name ...>" has been
 * read, before any declaration inside it.  IAM never sends a DOCTYPE, so
 * the parse stops here and the document is refused. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
		       const xmlChar *sys_id)
{
	xmlParserCtxt *ctxt = ctx;
	struct pctx *pc = ctxt->_private;

	(void)ext_id;
	(void)sys_id;
	pc->doctype = true;
	if (name && xmlStrcasecmp(name, (const xmlChar *)"html") == 0)
		pc->doctype_html = true;
	xmlStopParser(ctxt);
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A proxy's or load balancer's error page rather than an AWS answer. */
static bool looks_like_html(const unsigned char *p, size_t len)
{
	static const char *const starts[] = { "<!doctype html", "<html" };
	size_t i = 0, k;

	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	while (i < len && is_space(p[i]))
		i++;
	for (k = 0; k < ARRAY_LEN(starts); k++) {
		size_t n = strlen(starts[k]);

		if (len - i >= n && strncasecmp((const char *)p + i, starts[k],
						n) == 0)
			return true;
	}
	return false;
}

static bool starts_like_xml(const unsigned char *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	while (i < len && is_space(p[i]))
		i++;
	/* '<', or a UTF-16 byte order mark libxml2 can decode. */
	return i < len && (p[i] == '<' || p[i] == 0xFE || p[i] == 0xFF);
}

static sesctl_err parse_failure(struct pctx *pc, const unsigned char *p,
				size_t len)
{
	const char *what;

	if (pc->xerr.nomem)
		return fail(pc, SESCTL_ERR_NOMEM, "out of memory parsing the response");
	if (!starts_like_xml(p, len))
		return fail(pc, SESCTL_ERR_NETWORK, "response is not XML");
	if (!pc->xerr.have)
		return fail(pc, SESCTL_ERR_NETWORK, "response is not valid XML");
	what = xml_error_text(pc->xerr.code);
	if (what)
		return fail(pc, SESCTL_ERR_NETWORK,
			    "response is not valid XML (line %d, column %d: %s)",
			    pc->xerr.line, pc->xerr.column, what);
	return fail(pc, SESCTL_ERR_NETWORK,
		    "response is not valid XML (line %d, column %d: libxml2 error %d)",
		    pc->xerr.line, pc->xerr.column, pc->xerr.code);
}

/* Run libxml2 over `body`.  libxml2 must not print: its errors go
 * to pc->xerr for this parse only (the handlers are per-thread) and the
 * previous handlers are put back.  *doc is whatever libxml2 built, even for
 * a body that is not well-formed; the caller decides. */
static sesctl_err run_parser(struct pctx *pc, const struct secret *body,
			     xmlDoc **doc, bool *well_formed)
{
	xmlStructuredErrorFunc old_serror = xmlStructuredError;
	void *old_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_generic = xmlGenericError;
	void *old_gctx = xmlGenericErrorContext;
	xmlParserCtxt *ctxt = NULL;
	xmlParserInputBuffer *ibuf = NULL;
	xmlParserInput *input = NULL;
	sesctl_err rc = SESCTL_OK;

	*doc = NULL;
	*well_formed = false;
	xmlSetStructuredErrorFunc(&pc->xerr, capture_error);
	xmlSetGenericErrorFunc(NULL, ignore_generic);

	ctxt = xmlNewParserCtxt();
	ENSURE(ctxt, SESCTL_ERR_NOMEM);
	ctxt->_private = pc;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = NULL;
	/* NONET; never NOENT, DTDLOAD or DTDATTR (this also overrides any
	 * process-wide defaults someone may have set). */
	(void)xmlCtxtUseOptions(ctxt, XML_PARSE_NONET);
	ctxt->replaceEntities = 0;
	ctxt->loadsubset = 0;
	ctxt->validate = 0;
	/* A copy of the body, wiped by xml_free (see the top of the file
	 * for why not a static buffer). */
	ibuf = xmlParserInputBufferCreateMem((const char *)body->p,
					     (int)body->len,
					     XML_CHAR_ENCODING_NONE);
	ENSURE(ibuf, SESCTL_ERR_NOMEM);
	input = xmlNewIOInputStream(ctxt, ibuf, XML_CHAR_ENCODING_NONE);
	if (!input)
		xmlFreeParserInputBuffer(ibuf);
	ENSURE(input, SESCTL_ERR_NOMEM);
	/* A fresh context has room for 5 inputs: this cannot fail. */
	ENSURE(inputPush(ctxt, input) >= 0, SESCTL_ERR_NOMEM);
	(void)xmlParseDocument(ctxt);
	*well_formed = ctxt->wellFormed != 0;
	*doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
out:
	if (ctxt)
		xmlFreeParserCtxt(ctxt);
	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_gctx, old_generic);
	if (rc != SESCTL_OK)
		rc = fail(pc, rc, "out of memory parsing the response");
	return rc;
}

/* Parse `body` into a document with a root element that is not an HTML
 * page and has no DOCTYPE. */
static sesctl_err read_doc(struct pctx *pc, const struct secret *body,
			   xmlDoc **out)
{
	xmlDoc *doc = NULL;
	const xmlNode *root;
	sesctl_err rc = SESCTL_OK;
	bool well_formed = false;
	size_t i;

	*out = NULL;
	ENSURE(body && body->p && body->len > 0,
	       fail(pc, SESCTL_ERR_NETWORK, "response is empty"));
	ENSURE(body->len <= IAM_XML_BODY_MAX,
	       fail(pc, SESCTL_ERR_NETWORK,
		    "response is larger than %zu bytes", IAM_XML_BODY_MAX));
	for (i = 0; i < body->len && is_space(body->p[i]); i++)
		;
	ENSURE(i < body->len,
	       fail(pc, SESCTL_ERR_NETWORK, "response is empty"));
	ENSURE(!looks_like_html(body->p, body->len),
	       fail(pc, SESCTL_ERR_NETWORK,
		    "response is an HTML page, not an IAM response"));

	(void)pthread_once(&xml_once, xml_init_once);
	TRY(run_parser(pc, body, &doc, &well_formed));
	ENSURE(!pc->doctype_html,
	       fail(pc, SESCTL_ERR_NETWORK,
		    "response is an HTML page, not an IAM response"));
	ENSURE(!pc->doctype && !(doc && (doc->intSubset || doc->extSubset)),
	       fail(pc, SESCTL_ERR_NETWORK,
		    "response has a DOCTYPE declaration, which IAM never sends"));
	ENSURE(well_formed && doc && !pc->xerr.nomem,
	       parse_failure(pc, body->p, body->len));
	root = xmlDocGetRootElement(doc);
	ENSURE(root, fail(pc, SESCTL_ERR_NETWORK, "response has no root element"));
	ENSURE(!is_elem(root, "html"),
	       fail(pc, SESCTL_ERR_NETWORK,
		    "response is an HTML page, not an IAM response"));
	*out = doc;
	doc = NULL;
out:
	free_doc(doc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Text                                                               */

/* The text of element `el`: its text and CDATA children joined.  The usual
 * single text node is returned in place; several are joined in
 * pc->scratch, so the result is only good until the next call. */
static sesctl_err elem_text(struct pctx *pc, const xmlNode *el,
			    const unsigned char **p, size_t *n)
{
	const xmlNode *c;
	const xmlChar *only = NULL;
	size_t count = 0;
	sesctl_err rc = SESCTL_OK;

	for (c = el->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return fail(pc, SESCTL_ERR_NETWORK,
				    "'%s' holds elements where text was expected",
				    printable_name(el));
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) &&
		    c->content && c->content[0]) {
			only = c->content;
			count++;
		}
	}
	if (count <= 1) {
		*p = only ? only : (const unsigned char *)"";
		*n = strlen((const char *)*p);
		return SESCTL_OK;
	}
	secret_clear(&pc->scratch);
	for (c = el->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) && c->content)
			TRY(secret_append(&pc->scratch, c->content,
					  strlen((const char *)c->content)));
	*p = pc->scratch.p;
	*n = pc->scratch.len;
out:
	if (rc != SESCTL_OK) /* over SECRET_MAX cannot happen for 1 MiB */
		rc = fail(pc, rc == SESCTL_ERR_NOMEM ? rc : SESCTL_ERR_NETWORK,
			  "cannot hold the text of '%s'", printable_name(el));
	return rc;
}

static void trim(const unsigned char **p, size_t *n)
{
	while (*n > 0 && is_space((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

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
/* Field tables                                                       */

enum kind {
	K_END,    /* end of a table */
	K_STR,    /* char[size], trimmed */
	K_RAW,    /* char[size], kept byte for byte (tag keys and values) */
	K_KEYID,  /* char[size], trimmed, an access key id (key_id_ok) */
	K_DATE,   /* struct iam_date */
	K_BOOL,   /* bool */
	K_STATUS, /* enum iam_status at off, its text as char[size] at off2 */
	K_SECRET, /* struct secret, trimmed */
	K_DOC,    /* char * (malloc'd, percent-decoded) at off, its length
		   * (size_t) at off2 */
	K_STRUCT, /* nested element whose fields (sub) live at off */
	K_LIST,   /* <member> list: items pointer at off, size_t count at off2,
		   * item size in size, item fields in sub */
};

struct field {
	const char *name;  /* element local name; NULL: the element's own
			    * text (a list of plain strings) */
	enum kind kind;
	bool required;     /* must be present (and non-empty for strings) */
	size_t off, off2;
	size_t size;
	const struct field *sub;
};

#define MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
#define F_END { NULL, K_END, false, 0, 0, 0, NULL }
#define F_STR(name, req, type, m) \
	{ name, K_STR, req, offsetof(type, m), 0, MEMBER_SIZE(type, m), NULL }
#define F_KEYID(name, type, m) \
	{ name, K_KEYID, true, offsetof(type, m), 0, MEMBER_SIZE(type, m), NULL }
#define F_RAW(name, req, type, m) \
	{ name, K_RAW, req, offsetof(type, m), 0, MEMBER_SIZE(type, m), NULL }
#define F_DATE(name, req, type, m) \
	{ name, K_DATE, req, offsetof(type, m), 0, 0, NULL }
#define F_BOOL(name, type, m) \
	{ name, K_BOOL, false, offsetof(type, m), 0, 0, NULL }
#define F_STATUS(name, req, type, m, text) \
	{ name, K_STATUS, req, offsetof(type, m), offsetof(type, text), \
	  MEMBER_SIZE(type, text), NULL }
#define F_SECRET(name, type, m) \
	{ name, K_SECRET, true, offsetof(type, m), 0, 0, NULL }
#define F_DOC(name, type, m, len) \
	{ name, K_DOC, true, offsetof(type, m), offsetof(type, len), 0, NULL }
#define F_STRUCT(name, req, off, sub) \
	{ name, K_STRUCT, req, off, 0, 0, sub }
#define F_LIST(name, type, items, count, item_type, sub) \
	{ name, K_LIST, false, offsetof(type, items), offsetof(type, count), \
	  sizeof(item_type), sub }
/* IsTruncated and Marker of a paginated result. */
#define F_PAGE(type) \
	F_BOOL("IsTruncated", type, is_truncated), \
	F_STR("Marker", false, type, marker)

static const struct field tag_fields[] = {
	F_RAW("Key", true, struct iam_tag, key),
	F_RAW("Value", false, struct iam_tag, value),
	F_END,
};

static const struct field user_fields[] = {
	F_STR("UserName", false, struct iam_user, user_name),
	F_STR("UserId", true, struct iam_user, user_id),
	F_STR("Arn", true, struct iam_user, arn),
	F_STR("Path", false, struct iam_user, path),
	F_DATE("CreateDate", false, struct iam_user, create_date),
	F_DATE("PasswordLastUsed", false, struct iam_user, password_last_used),
	F_LIST("Tags", struct iam_user, tags, tag_count, struct iam_tag,
	       tag_fields),
	F_END,
};

static const struct field user_result_fields[] = {
	F_STRUCT("User", true, offsetof(struct iam_user_result, user),
		 user_fields),
	F_END,
};

static const struct field user_list_fields[] = {
	F_LIST("Users", struct iam_user_list, items, count, struct iam_user,
	       user_fields),
	F_PAGE(struct iam_user_list),
	F_END,
};

static const struct field tag_list_fields[] = {
	F_LIST("Tags", struct iam_tag_list, items, count, struct iam_tag,
	       tag_fields),
	F_PAGE(struct iam_tag_list),
	F_END,
};

static const struct field user_policy_fields[] = {
	F_STR("UserName", true, struct iam_user_policy, user_name),
	F_STR("PolicyName", true, struct iam_user_policy, policy_name),
	F_DOC("PolicyDocument", struct iam_user_policy, policy_document,
	      policy_document_len),
	F_END,
};

static const struct field attached_policy_fields[] = {
	F_STR("PolicyName", true, struct iam_attached_policy, policy_name),
	F_STR("PolicyArn", true, struct iam_attached_policy, policy_arn),
	F_END,
};

static const struct field attached_policy_list_fields[] = {
	F_LIST("AttachedPolicies", struct iam_attached_policy_list, items,
	       count, struct iam_attached_policy, attached_policy_fields),
	F_PAGE(struct iam_attached_policy_list),
	F_END,
};

/* The id lists: one item table per action, one list table per action. */
static const struct field policy_name_item[] = {
	F_STR(NULL, true, struct iam_id, id),
	F_END,
};
static const struct field group_item[] = {
	F_STR("GroupName", true, struct iam_id, id),
	F_END,
};
static const struct field cert_item[] = {
	F_STR("CertificateId", true, struct iam_id, id),
	F_END,
};
static const struct field ssh_key_item[] = {
	F_STR("SSHPublicKeyId", true, struct iam_id, id),
	F_END,
};
static const struct field ssc_item[] = {
	F_STR("ServiceSpecificCredentialId", true, struct iam_id, id),
	F_STR("ServiceName", true, struct iam_id, service_name),
	F_END,
};
static const struct field mfa_item[] = {
	F_STR("SerialNumber", true, struct iam_id, id),
	F_END,
};

#define ID_LIST_FIELDS(var, list_name, item)                                \
	static const struct field var[] = {                                \
		F_LIST(list_name, struct iam_id_list, items, count,         \
		       struct iam_id, item),                                \
		F_PAGE(struct iam_id_list),                                 \
		F_END,                                                      \
	}

ID_LIST_FIELDS(policy_names_fields, "PolicyNames", policy_name_item);
ID_LIST_FIELDS(groups_fields, "Groups", group_item);
ID_LIST_FIELDS(certs_fields, "Certificates", cert_item);
ID_LIST_FIELDS(ssh_keys_fields, "SSHPublicKeys", ssh_key_item);
ID_LIST_FIELDS(sscs_fields, "ServiceSpecificCredentials", ssc_item);
ID_LIST_FIELDS(mfa_fields, "MFADevices", mfa_item);

static const struct field access_key_fields[] = {
	F_STR("UserName", false, struct iam_access_key, user_name),
	F_KEYID("AccessKeyId", struct iam_access_key, access_key_id),
	F_STATUS("Status", true, struct iam_access_key, status, status_text),
	F_DATE("CreateDate", false, struct iam_access_key, create_date),
	F_SECRET("SecretAccessKey", struct iam_access_key, secret_access_key),
	F_END,
};

static const struct field create_access_key_fields[] = {
	F_STRUCT("AccessKey", true, 0, access_key_fields),
	F_END,
};

static const struct field access_key_meta_fields[] = {
	F_STR("UserName", false, struct iam_access_key_meta, user_name),
	F_KEYID("AccessKeyId", struct iam_access_key_meta, access_key_id),
	F_STATUS("Status", true, struct iam_access_key_meta, status,
		 status_text),
	F_DATE("CreateDate", false, struct iam_access_key_meta, create_date),
	F_END,
};

static const struct field access_key_list_fields[] = {
	F_LIST("AccessKeyMetadata", struct iam_access_key_list, items, count,
	       struct iam_access_key_meta, access_key_meta_fields),
	F_PAGE(struct iam_access_key_list),
	F_END,
};

static const struct field last_used_inner[] = {
	F_DATE("LastUsedDate", false, struct iam_access_key_last_used,
	       last_used_date),
	F_STR("ServiceName", true, struct iam_access_key_last_used,
	      service_name),
	F_STR("Region", true, struct iam_access_key_last_used, region),
	F_END,
};

static const struct field last_used_fields[] = {
	F_STR("UserName", false, struct iam_access_key_last_used, user_name),
	F_STRUCT("AccessKeyLastUsed", true, 0, last_used_inner),
	F_END,
};

static const struct field login_profile_inner[] = {
	F_STR("UserName", false, struct iam_login_profile, user_name),
	F_DATE("CreateDate", false, struct iam_login_profile, create_date),
	F_BOOL("PasswordResetRequired", struct iam_login_profile,
	       password_reset_required),
	F_END,
};

static const struct field login_profile_fields[] = {
	F_STRUCT("LoginProfile", true, 0, login_profile_inner),
	F_END,
};

static const struct field caller_identity_fields[] = {
	F_STR("Arn", true, struct iam_caller_identity, arn),
	F_STR("UserId", true, struct iam_caller_identity, user_id),
	F_STR("Account", true, struct iam_caller_identity, account),
	F_END,
};

/* ------------------------------------------------------------------ */
/* The walker                                                         */

static void *at(void *obj, size_t off)
{
	return (unsigned char *)obj + off;
}

static void release_fields(void *obj, const struct field *fields)
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

static sesctl_err parse_fields(struct pctx *pc, const xmlNode *parent,
			       const struct field *fields, void *obj);

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
static sesctl_err parse_fields(struct pctx *pc, const xmlNode *parent,
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

/* ------------------------------------------------------------------ */
/* Error documents                                                    */

/* Copy an element's text for display: trimmed, line breaks and tabs made
 * spaces, C1 control characters made '?', cut at a UTF-8 character
 * boundary with "..." if it does not fit. */
static sesctl_err copy_display(struct pctx *pc, const xmlNode *el, char *dst,
			       size_t size)
{
	const unsigned char *p;
	size_t n, i, j = 0;
	sesctl_err rc = SESCTL_OK;
	bool cut = false;

	dst[0] = '\0';
	if (!el)
		return SESCTL_OK;
	TRY(elem_text(pc, el, &p, &n));
	trim(&p, &n);
	if (n > size - 1) {
		n = size - 4;
		while (n > 0 && (p[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
			dst[j++] = ' ';
		} else if (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 &&
			   p[i + 1] <= 0x9F) {
			dst[j++] = '?';
			i++;
		} else {
			dst[j++] = (char)p[i];
		}
	}
	dst[j] = '\0';
	if (cut)
		memcpy(dst + j, "...", 4);
out:
	return rc;
}

/* If `root` is one of the AWS error shapes with a Code, fill `e`. */
static sesctl_err error_tree(struct pctx *pc, const xmlNode *root,
			     struct iam_error *e, bool *found)
{
	const xmlNode *err = NULL, *rid;
	sesctl_err rc = SESCTL_OK;

	*found = false;
	memset(e, 0, sizeof(*e));
	if (is_elem(root, "ErrorResponse"))
		err = child(root, "Error");
	else if (is_elem(root, "Response"))
		err = child(child(root, "Errors"), "Error");
	else if (is_elem(root, "Error"))
		err = root;
	if (!err)
		return SESCTL_OK;
	TRY(copy_display(pc, child(err, "Code"), e->code, sizeof(e->code)));
	if (e->code[0] == '\0')
		goto out;
	TRY(copy_display(pc, child(err, "Type"), e->type, sizeof(e->type)));
	TRY(copy_display(pc, child(err, "Message"), e->message,
			 sizeof(e->message)));
	rid = child(root, "RequestId");
	if (!rid)
		rid = child(root, "RequestID");
	if (!rid)
		rid = child(err, "RequestId");
	if (!rid)
		rid = child(child(root, "ResponseMetadata"), "RequestId");
	TRY(copy_display(pc, rid, e->request_id, sizeof(e->request_id)));
	*found = true;
out:
	if (rc != SESCTL_OK || !*found)
		memset(e, 0, sizeof(*e));
	return rc;
}

sesctl_err iam_xml_parse_error(const struct secret *body, const char *action,
			       struct iam_error *out, struct err_info *ei)
{
	struct pctx pc = { .action = action ? action : "IAM", .ei = ei,
			   .scratch = SECRET_INIT };
	xmlDoc *doc = NULL;
	const xmlNode *root;
	sesctl_err rc = SESCTL_OK;
	bool found = false;

	if (out)
		memset(out, 0, sizeof(*out));
	ENSURE(out, fail(&pc, SESCTL_ERR_INPUT, "no result struct"));
	TRY(read_doc(&pc, body, &doc));
	root = xmlDocGetRootElement(doc);
	TRY(error_tree(&pc, root, out, &found));
	ENSURE(found, fail(&pc, SESCTL_ERR_NETWORK,
			   "response is not an AWS error document (root element '%s')",
			   printable_name(root)));
out:
	free_doc(doc);
	secret_free(&pc.scratch);
	return rc;
}

static bool in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

/* botocore retries/standard.py: throttling and transient codes. */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	/* Receiver faults IAM and the query front end send. */
	"ServiceFailure", "ServiceFailureException", "InternalFailure",
	"InternalError", "ServiceUnavailable", "ServiceUnavailableException",
};
static const char *const auth_codes[] = {
	"AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
	"SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
	"IncompleteSignature", "MissingAuthenticationToken",
	"MissingAuthenticationTokenException", "RequestExpired",
	/* The clock-skew refusal of the S3-style front ends. */
	"RequestTimeTooSkewed",
	"UnrecognizedClient", "UnrecognizedClientException",
	"InvalidAccessKeyId", "AuthFailure",
};
static const char *const not_found_codes[] = {
	"NoSuchEntity", "NoSuchEntityException",
	/* ListServiceSpecificCredentials, 404: the service has none. */
	"NotSupportedService",
};
static const char *const conflict_codes[] = {
	"EntityAlreadyExists", "EntityAlreadyExistsException",
	"LimitExceeded", "DeleteConflict", "DeleteConflictException",
	"ConcurrentModification", "ConcurrentModificationException",
	"EntityTemporarilyUnmodifiable",
	"EntityTemporarilyUnmodifiableException",
};
static const char *const input_codes[] = {
	"InvalidInput", "InvalidInputException", "MalformedPolicyDocument",
	"MalformedPolicyDocumentException", "PolicyNotAttachable",
	"PolicyNotAttachableException", "ValidationError",
	"ValidationException", "InvalidParameterValue",
	"InvalidParameterCombination", "MissingParameter",
	"MalformedQueryString", "InvalidAction", "MissingAction",
	"InvalidQueryParameter", "UnmodifiableEntity",
	"UnmodifiableEntityException",
};

bool iam_xml_error_retryable(const struct iam_error *e, long http_status)
{
	if (http_status == 500 || http_status == 502 || http_status == 503 ||
	    http_status == 504)
		return true;
	if (!e)
		return false;
	return in_list(e->code, throttle_codes, ARRAY_LEN(throttle_codes)) ||
	       in_list(e->code, transient_codes, ARRAY_LEN(transient_codes));
}

sesctl_err iam_xml_error_err(const struct iam_error *e, long http_status)
{
	const char *code = e ? e->code : "";

	if (in_list(code, auth_codes, ARRAY_LEN(auth_codes)))
		return SESCTL_ERR_AUTH;
	if (in_list(code, not_found_codes, ARRAY_LEN(not_found_codes)))
		return SESCTL_ERR_NOT_FOUND;
	if (in_list(code, conflict_codes, ARRAY_LEN(conflict_codes)))
		return SESCTL_ERR_CONFLICT;
	if (in_list(code, throttle_codes, ARRAY_LEN(throttle_codes)) ||
	    in_list(code, transient_codes, ARRAY_LEN(transient_codes)))
		return SESCTL_ERR_NETWORK;
	if (in_list(code, input_codes, ARRAY_LEN(input_codes)))
		return SESCTL_ERR_INPUT;
	if ((e && strcmp(e->type, "Receiver") == 0) || http_status >= 500)
		return SESCTL_ERR_NETWORK;
	if (http_status == 401 || http_status == 403)
		return SESCTL_ERR_AUTH;
	return SESCTL_ERR_FAIL;
}

/* ------------------------------------------------------------------ */
/* Success documents                                                  */

struct action {
	const char *name;             /* "ListUsers" */
	const struct field *result;   /* NULL: no {name}Result expected */
	size_t size;                  /* of the result struct */
	size_t meta_off;              /* its struct iam_metadata */
	bool paged;
	size_t truncated_off, marker_off;
};

#define ACTION(n, fields, type) \
	{ n, fields, sizeof(type), offsetof(type, meta), false, 0, 0 }
#define PAGED_ACTION(n, fields, type) \
	{ n, fields, sizeof(type), offsetof(type, meta), true, \
	  offsetof(type, is_truncated), offsetof(type, marker) }

static void copy_request_id(struct pctx *pc, const xmlNode *root,
			    struct iam_metadata *meta)
{
	const xmlNode *rid = child(child(root, "ResponseMetadata"),
				   "RequestId");
	const unsigned char *p;
	size_t n;

	if (!rid)
		rid = child(root, "RequestId");
	if (!rid || elem_text(pc, rid, &p, &n) != SESCTL_OK) {
		meta->request_id[0] = '\0';
		return;
	}
	trim(&p, &n);
	if (n > sizeof(meta->request_id) - 1)
		n = sizeof(meta->request_id) - 1;
	memcpy(meta->request_id, p, n);
	meta->request_id[n] = '\0';
}

static sesctl_err check_root(struct pctx *pc, const xmlNode *root)
{
	char want[ACTION_NAME_MAX + sizeof("Response")];
	struct iam_error e;
	sesctl_err rc = SESCTL_OK;
	bool is_error = false;
	int n;

	n = snprintf(want, sizeof(want), "%sResponse", pc->action);
	ENSURE(n > 0 && (size_t)n < sizeof(want),
	       fail(pc, SESCTL_ERR_INPUT, "action name is too long"));
	if (is_elem(root, want))
		return SESCTL_OK;
	TRY(error_tree(pc, root, &e, &is_error));
	ENSURE(!is_error, fail(pc, SESCTL_ERR_NETWORK,
			       "response is an AWS error ('%s') where '%s' was expected",
			       e.code, want));
	rc = fail(pc, SESCTL_ERR_NETWORK, "expected root element '%s', got '%s'",
		  want, printable_name(root));
out:
	return rc;
}

static sesctl_err parse_action(const struct action *a,
			       const struct secret *body, void *out,
			       struct err_info *ei)
{
	struct pctx pc = { .action = a->name, .ei = ei,
			   .scratch = SECRET_INIT };
	char result_name[ACTION_NAME_MAX + sizeof("Result")];
	xmlDoc *doc = NULL;
	const xmlNode *root, *c, *result = NULL;
	sesctl_err rc = SESCTL_OK;

	ENSURE(out, fail(&pc, SESCTL_ERR_INPUT, "no result struct"));
	memset(out, 0, a->size);
	TRY(read_doc(&pc, body, &doc));
	root = xmlDocGetRootElement(doc);
	TRY(check_root(&pc, root));
	copy_request_id(&pc, root, at(out, a->meta_off));
	if (!a->result)
		goto out;

	(void)snprintf(result_name, sizeof(result_name), "%sResult", a->name);
	for (c = root->children; c; c = c->next) {
		if (!is_elem(c, result_name))
			continue;
		ENSURE(!result, fail(&pc, SESCTL_ERR_NETWORK,
				     "'%s' appears more than once", result_name));
		result = c;
	}
	ENSURE(result, fail(&pc, SESCTL_ERR_NETWORK, "'%s' is missing",
			    result_name));
	TRY(parse_fields(&pc, result, a->result, out));
	if (a->paged) {
		bool truncated;

		memcpy(&truncated, at(out, a->truncated_off),
		       sizeof(truncated));
		ENSURE(!truncated || *(const char *)at(out, a->marker_off),
		       fail(&pc, SESCTL_ERR_NETWORK,
			    "'IsTruncated' is true but there is no 'Marker'"));
	}
out:
	if (rc != SESCTL_OK && out) {
		release_fields(out, a->result);
		memset(out, 0, a->size);
	}
	free_doc(doc);
	secret_free(&pc.scratch);
	return rc;
}

static void release_action(const struct action *a, void *obj)
{
	if (!obj)
		return;
	release_fields(obj, a->result);
	memset(obj, 0, a->size);
}

/* ------------------------------------------------------------------ */
/* The actions                                                        */

static const struct action act_create_user =
	ACTION("CreateUser", user_result_fields, struct iam_user_result);
static const struct action act_get_user =
	ACTION("GetUser", user_result_fields, struct iam_user_result);
static const struct action act_list_users =
	PAGED_ACTION("ListUsers", user_list_fields, struct iam_user_list);
static const struct action act_list_user_tags =
	PAGED_ACTION("ListUserTags", tag_list_fields, struct iam_tag_list);
static const struct action act_get_user_policy =
	ACTION("GetUserPolicy", user_policy_fields, struct iam_user_policy);
static const struct action act_list_attached =
	PAGED_ACTION("ListAttachedUserPolicies", attached_policy_list_fields,
		     struct iam_attached_policy_list);
static const struct action act_list_user_policies =
	PAGED_ACTION("ListUserPolicies", policy_names_fields,
		     struct iam_id_list);
static const struct action act_list_groups =
	PAGED_ACTION("ListGroupsForUser", groups_fields, struct iam_id_list);
static const struct action act_list_certs =
	PAGED_ACTION("ListSigningCertificates", certs_fields,
		     struct iam_id_list);
static const struct action act_list_ssh_keys =
	PAGED_ACTION("ListSSHPublicKeys", ssh_keys_fields, struct iam_id_list);
static const struct action act_list_sscs =
	PAGED_ACTION("ListServiceSpecificCredentials", sscs_fields,
		     struct iam_id_list);
static const struct action act_list_mfa =
	PAGED_ACTION("ListMFADevices", mfa_fields, struct iam_id_list);
static const struct action act_create_access_key =
	ACTION("CreateAccessKey", create_access_key_fields,
	       struct iam_access_key);
static const struct action act_list_access_keys =
	PAGED_ACTION("ListAccessKeys", access_key_list_fields,
		     struct iam_access_key_list);
static const struct action act_last_used =
	ACTION("GetAccessKeyLastUsed", last_used_fields,
	       struct iam_access_key_last_used);
static const struct action act_login_profile =
	ACTION("GetLoginProfile", login_profile_fields,
	       struct iam_login_profile);
static const struct action act_caller_identity =
	ACTION("GetCallerIdentity", caller_identity_fields,
	       struct iam_caller_identity);

sesctl_err iam_xml_parse_ack(const struct secret *body, const char *action,
			     struct iam_metadata *out, struct err_info *ei)
{
	struct action a = { action, NULL, sizeof(struct iam_metadata), 0,
			    false, 0, 0 };

	if (!action || !*action || strlen(action) > ACTION_NAME_MAX) {
		if (out)
			memset(out, 0, sizeof(*out));
		return err_set(ei, SESCTL_ERR_INPUT, "invalid action name");
	}
	return parse_action(&a, body, out, ei);
}

void iam_metadata_release(struct iam_metadata *m)
{
	if (m)
		memset(m, 0, sizeof(*m));
}

sesctl_err iam_xml_create_user(const struct secret *body,
			       struct iam_user_result *out, struct err_info *ei)
{
	return parse_action(&act_create_user, body, out, ei);
}

sesctl_err iam_xml_get_user(const struct secret *body,
			    struct iam_user_result *out, struct err_info *ei)
{
	return parse_action(&act_get_user, body, out, ei);
}

void iam_user_result_release(struct iam_user_result *r)
{
	release_action(&act_get_user, r);
}

sesctl_err iam_xml_list_users(const struct secret *body,
			      struct iam_user_list *out, struct err_info *ei)
{
	return parse_action(&act_list_users, body, out, ei);
}

void iam_user_list_release(struct iam_user_list *l)
{
	release_action(&act_list_users, l);
}

sesctl_err iam_xml_list_user_tags(const struct secret *body,
				  struct iam_tag_list *out, struct err_info *ei)
{
	return parse_action(&act_list_user_tags, body, out, ei);
}

void iam_tag_list_release(struct iam_tag_list *l)
{
	release_action(&act_list_user_tags, l);
}

sesctl_err iam_xml_get_user_policy(const struct secret *body,
				   struct iam_user_policy *out,
				   struct err_info *ei)
{
	return parse_action(&act_get_user_policy, body, out, ei);
}

void iam_user_policy_release(struct iam_user_policy *p)
{
	release_action(&act_get_user_policy, p);
}

sesctl_err iam_xml_list_attached_user_policies(
	const struct secret *body, struct iam_attached_policy_list *out,
	struct err_info *ei)
{
	return parse_action(&act_list_attached, body, out, ei);
}

void iam_attached_policy_list_release(struct iam_attached_policy_list *l)
{
	release_action(&act_list_attached, l);
}

sesctl_err iam_xml_list_user_policies(const struct secret *body,
				      struct iam_id_list *out,
				      struct err_info *ei)
{
	return parse_action(&act_list_user_policies, body, out, ei);
}

sesctl_err iam_xml_list_groups_for_user(const struct secret *body,
					struct iam_id_list *out,
					struct err_info *ei)
{
	return parse_action(&act_list_groups, body, out, ei);
}

sesctl_err iam_xml_list_signing_certificates(const struct secret *body,
					     struct iam_id_list *out,
					     struct err_info *ei)
{
	return parse_action(&act_list_certs, body, out, ei);
}

sesctl_err iam_xml_list_ssh_public_keys(const struct secret *body,
					struct iam_id_list *out,
					struct err_info *ei)
{
	return parse_action(&act_list_ssh_keys, body, out, ei);
}

sesctl_err iam_xml_list_service_specific_credentials(
	const struct secret *body, struct iam_id_list *out,
	struct err_info *ei)
{
	return parse_action(&act_list_sscs, body, out, ei);
}

sesctl_err iam_xml_list_mfa_devices(const struct secret *body,
				    struct iam_id_list *out,
				    struct err_info *ei)
{
	return parse_action(&act_list_mfa, body, out, ei);
}

void iam_id_list_release(struct iam_id_list *l)
{
	/* Every id-list table has the same shape; any of them frees. */
	release_action(&act_list_sscs, l);
}

sesctl_err iam_xml_create_access_key(const struct secret *body,
				     struct iam_access_key *out,
				     struct err_info *ei)
{
	return parse_action(&act_create_access_key, body, out, ei);
}

void iam_access_key_release(struct iam_access_key *k)
{
	release_action(&act_create_access_key, k);
}

sesctl_err iam_xml_list_access_keys(const struct secret *body,
				    struct iam_access_key_list *out,
				    struct err_info *ei)
{
	return parse_action(&act_list_access_keys, body, out, ei);
}

void iam_access_key_list_release(struct iam_access_key_list *l)
{
	release_action(&act_list_access_keys, l);
}

sesctl_err iam_xml_get_access_key_last_used(
	const struct secret *body, struct iam_access_key_last_used *out,
	struct err_info *ei)
{
	return parse_action(&act_last_used, body, out, ei);
}

void iam_access_key_last_used_release(struct iam_access_key_last_used *u)
{
	release_action(&act_last_used, u);
}

sesctl_err iam_xml_get_login_profile(const struct secret *body,
				     struct iam_login_profile *out,
				     struct err_info *ei)
{
	return parse_action(&act_login_profile, body, out, ei);
}

void iam_login_profile_release(struct iam_login_profile *p)
{
	release_action(&act_login_profile, p);
}

sesctl_err iam_xml_get_caller_identity(const struct secret *body,
				       struct iam_caller_identity *out,
				       struct err_info *ei)
{
	return parse_action(&act_caller_identity, body, out, ei);
}

void iam_caller_identity_release(struct iam_caller_identity *c)
{
	release_action(&act_caller_identity, c);
}

void iam_xml_global_cleanup(void)
{
	xmlCleanupParser();
}

/* ------------------------------------------------------------------ */
/* STS AssumeRole (for sts.c; see iam_xml.h)                          */

static const struct field assume_role_credentials[] = {
	F_KEYID("AccessKeyId", struct iam_assume_role, access_key_id),
	F_SECRET("SecretAccessKey", struct iam_assume_role,
		 secret_access_key),
	F_SECRET("SessionToken", struct iam_assume_role, session_token),
	F_DATE("Expiration", true, struct iam_assume_role, expiration),
	F_END,
};

static const struct field assume_role_user[] = {
	F_STR("Arn", true, struct iam_assume_role, assumed_role_arn),
	F_STR("AssumedRoleId", false, struct iam_assume_role,
	      assumed_role_id),
	F_END,
};

static const struct field assume_role_fields[] = {
	F_STRUCT("Credentials", true, 0, assume_role_credentials),
	F_STRUCT("AssumedRoleUser", false, 0, assume_role_user),
	F_END,
};

static const struct action act_assume_role =
	ACTION("AssumeRole", assume_role_fields, struct iam_assume_role);

sesctl_err iam_xml_assume_role(const struct secret *body,
			       struct iam_assume_role *out,
			       struct err_info *ei)
{
	return parse_action(&act_assume_role, body, out, ei);
}

void iam_assume_role_release(struct iam_assume_role *r)
{
	release_action(&act_assume_role, r);
}
