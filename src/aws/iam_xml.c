/* iam_xml.c - IAM and STS Query API response bodies into structs (see
 * iam_xml.h).
 *
 * This file holds what touches libxml2 itself: its set-up, reading a body,
 * element names and text, error documents and the success envelope of
 * every action (parse_action).  The shape of every result is data: a table
 * of `struct field` per action (iam_xml_actions.c) says which element goes
 * where, and one walker (iam_xml_fields.c) fills (parse_fields) and frees
 * (release_fields) any of them; iam_xml_int.h is what the three share.
 * They are the one module that includes libxml2.
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

#include "iam_xml_int.h"

/* libxml2 2.12 made the structured error handler take a const pointer. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

sesctl_err fail(struct pctx *pc, sesctl_err code, const char *fmt, ...)
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

bool is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       strcmp(local_name(n), name) == 0;
}

/* An element name fit to quote in a message: a plain identifier of a
 * sane length, otherwise "?" (names come from the body). */
const char *printable_name(const xmlNode *n)
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
sesctl_err elem_text(struct pctx *pc, const xmlNode *el,
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

void trim(const unsigned char **p, size_t *n)
{
	while (*n > 0 && is_space((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
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
	/* Secrets Manager's and SSM's (JSON 1.1). */
	"InternalServiceError", "InternalServerError",
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
	/* Secrets Manager, SSM. */
	"ResourceNotFoundException", "ParameterNotFound",
	"ParameterVersionNotFound",
};
static const char *const conflict_codes[] = {
	"EntityAlreadyExists", "EntityAlreadyExistsException",
	"LimitExceeded", "DeleteConflict", "DeleteConflictException",
	"ConcurrentModification", "ConcurrentModificationException",
	"EntityTemporarilyUnmodifiable",
	"EntityTemporarilyUnmodifiableException",
	/* Secrets Manager, SSM. */
	"ResourceExistsException", "ParameterAlreadyExists",
	"ParameterLimitExceeded", "ParameterMaxVersionLimitExceeded",
};
static const char *const input_codes[] = {
	"InvalidInput", "InvalidInputException", "MalformedPolicyDocument",
	"MalformedPolicyDocumentException", "PolicyNotAttachable",
	"PolicyNotAttachableException", "ValidationError",
	"ValidationException", "InvalidParameterValue",
	"InvalidParameterCombination", "MissingParameter",
	"MalformedQueryString", "InvalidAction", "MissingAction",
	"InvalidQueryParameter", "UnmodifiableEntity",
	/* Secrets Manager, SSM. */
	"InvalidParameterException", "InvalidRequestException", "InvalidKeyId",
	"ParameterPatternMismatchException",
	"HierarchyLevelLimitExceededException", "UnsupportedParameterType",
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

sesctl_err parse_action(const struct action *a,
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

void release_action(const struct action *a, void *obj)
{
	if (!obj)
		return;
	release_fields(obj, a->result);
	memset(obj, 0, a->size);
}

void iam_xml_global_cleanup(void)
{
	xmlCleanupParser();
}
