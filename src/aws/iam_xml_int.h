/* iam_xml_int.h - what the files of iam_xml share; not a public interface
 * (that is include/sesctl/aws/iam_xml.h).
 *
 *   iam_xml.c          libxml2: its set-up and the wiping allocator,
 *                      reading a body safely, element names and text, error
 *                      documents, and the success envelope of every action
 *                      (parse_action: <Action>Response, <Action>Result,
 *                      the request id)
 *   iam_xml_fields.c   the field-table walker: parse_fields() fills and
 *                      release_fields() frees any struct a table describes,
 *                      with the value conversions (dates, percent-decoding,
 *                      access key ids, statuses)
 *   iam_xml_actions.c  the field table of every result, the action table
 *                      entries and the iam_xml_<action>() functions
 *
 * The three are the one module that includes libxml2 (STYLE.md module
 * boundaries); only they include this header.
 */
#ifndef SESCTL_IAM_XML_INT_H
#define SESCTL_IAM_XML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "sesctl/aws/iam_xml.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* Longest action name we build "<Action>Response" from. */
#define ACTION_NAME_MAX 64

/* ---- iam_xml.c: parse context, names, text ------------------------- */

/* The first error libxml2 reported while parsing one body. */
struct xml_errors {
	bool have;
	bool nomem;
	int code;
	int line;
	int column;
};

/* One body being parsed. */
struct pctx {
	const char *action;     /* for messages */
	struct err_info *ei;
	struct secret scratch;  /* joins multi-node text; wiped */
	bool doctype;           /* the body had a DOCTYPE */
	bool doctype_html;
	struct xml_errors xerr;
};

/* err_set with the action prepended: "CreateUser: <detail>". */
sesctl_err fail(struct pctx *pc, sesctl_err code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

bool is_elem(const xmlNode *n, const char *name);
const char *printable_name(const xmlNode *n);
MUST_USE sesctl_err elem_text(struct pctx *pc, const xmlNode *el,
			      const unsigned char **p, size_t *n);
void trim(const unsigned char **p, size_t *n);

/* ---- iam_xml_fields.c: field tables and the walker ------------------ */

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

static inline void *at(void *obj, size_t off)
{
	return (unsigned char *)obj + off;
}

void release_fields(void *obj, const struct field *fields);
MUST_USE sesctl_err parse_fields(struct pctx *pc, const xmlNode *parent,
				 const struct field *fields, void *obj);

/* ---- iam_xml.c: success documents ---------------------------------- */

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

MUST_USE sesctl_err parse_action(const struct action *a,
				 const struct secret *body, void *out,
				 struct err_info *ei);
void release_action(const struct action *a, void *obj);

#endif
