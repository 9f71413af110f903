/* ini.c - the parser of the AWS CLI's shared config and credentials
 * files (see creds_int.h; tests/unit/test_creds.c and
 * tests/fuzz/fuzz_creds.c reach it through creds.h).
 */
#include "creds_int.h"

#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest file-derived name (section) quoted back in a message. */
#define ECHO_MAX 64

/* The shared-file parser.
 *
 * botocore reads both files with Python's configparser.RawConfigParser
 * (defaults) and then configloader.raw_config_parse/build_profile_map.
 * What that means, and what this parser does, byte for byte:
 *
 * - Lines end at "\n", "\r\n" or a lone "\r" (Python universal newlines).
 *   A UTF-8 BOM at the start is skipped (divergence: botocore fails with
 *   MissingSectionHeaderError on it).  A NUL byte is an error (we keep C
 *   strings; Python would take it as a character).  Bytes are not decoded:
 *   invalid UTF-8, which Python rejects, passes.
 * - Whitespace is Python's ASCII whitespace: space, \t \n \v \f \r and
 *   \x1c-\x1f (Unicode spaces such as U+00A0 are not stripped).
 * - A line whose first non-blank character is '#' or ';' is a comment,
 *   wherever it is; comments after a value are NOT recognised (no
 *   inline_comment_prefixes): "region = x # c" has the value "x # c".
 *   Blank and comment lines are skipped.
 * - A line indented deeper than the previous key line, after a key line
 *   in a section, continues that key's value.  If the key's value was
 *   empty, the indented lines are a nested block ("s3 =\n  a = b"), each
 *   of whose lines must contain '=' (configloader._parse_nested); such
 *   blocks are checked and otherwise ignored.  (We check them in every
 *   section; botocore skips [DEFAULT]'s when the file has no other.)  If the value was not
 *   empty it becomes multi-line; we reject that for the keys we use.
 * - "[name]" starts a section: '[' then the name up to the LAST ']' on
 *   the line, at least one character, not trimmed; anything after that
 *   ']' is ignored (SECTCRE `\[(?P<header>.+)\]`, re.match).  A section
 *   name repeated in one file is an error (strict=True), except
 *   "[DEFAULT]", whose keys are the fallback for every section of the
 *   file and which is never a profile itself.
 * - Otherwise "key = value" or "key: value": the key runs to the first
 *   '=' or ':', both trimmed; the key is lowercased (optionxform) and
 *   must not be empty; a key repeated in one section is an error.
 * - Anything else, including any line before the first section header,
 *   is an error naming the file and line number - never the line, which
 *   may hold a secret.
 * - Config file only: a section is a profile if it is "default" or its
 *   name starts with "profile" and shlex.split() makes exactly two words
 *   of it (the second is the name: [profile "a b"] is profile "a b",
 *   [profile a b] is nothing).  When two sections name one profile
 *   ([default] and [profile default]) the later one wins, whole.
 * - Credentials file: section [name] is profile name; [profile x] is a
 *   profile called "profile x".
 */

/* Keys whose names may appear in messages.  Any other key could, in a
 * mangled file, be a pasted secret, so it is never quoted back. */
static const char *const known_keys[] = {
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	"aws_security_token", "region", "output", "role_arn",
	"source_profile", "credential_source", "credential_process",
	"mfa_serial", "external_id", "role_session_name", "duration_seconds",
	"web_identity_token_file", "sso_session", "sso_start_url",
	"sso_region", "sso_account_id", "sso_role_name", "ca_bundle",
	"endpoint_url", "max_attempts", "retry_mode", "cli_pager", "s3",
	"sso_registration_scopes", "metadata_service_timeout",
	"metadata_service_num_attempts", "ec2_metadata_service_endpoint",
	"ec2_metadata_service_endpoint_mode", "ec2_metadata_v1_disabled",
	"sts_regional_endpoints",
};

static bool py_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static sesctl_err file_error(struct ctx *ctx, const struct ini_file *f,
			     uint32_t line, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

static sesctl_err file_error(struct ctx *ctx, const struct ini_file *f,
			     uint32_t line, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0)
		what[0] = '\0';
	return err_set(&ctx->err, SESCTL_ERR_INPUT, "'%s' line %u: %s",
		       f->path, (unsigned)line, what);
}

/* True if the bytes may be quoted in a message: short printable ASCII. */
static bool echo_safe(const unsigned char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > ECHO_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static const char *known_key(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strlen(known_keys[i]) == len &&
		    memcmp(known_keys[i], p, len) == 0)
			return known_keys[i];
	return NULL;
}

static bool bytes_eq(const unsigned char *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

static sesctl_err add_section(struct ini_file *f, size_t off, size_t len,
			      uint32_t line, uint32_t *idx)
{
	struct ini_section *s;

	if (f->nsect == f->sect_cap) {
		uint32_t cap = f->sect_cap ? f->sect_cap * 2 : 8;

		s = realloc(f->sect, (size_t)cap * sizeof(*s));
		if (!s)
			return SESCTL_ERR_NOMEM;
		f->sect = s;
		f->sect_cap = cap;
	}
	s = &f->sect[f->nsect];
	memset(s, 0, sizeof(*s));
	s->name_off = (uint32_t)off;
	s->name_len = (uint32_t)len;
	s->line = line;
	s->is_default = bytes_eq(f->text.p + off, len, "DEFAULT");
	*idx = f->nsect++;
	return SESCTL_OK;
}

static sesctl_err add_entry(struct ini_file *f, uint32_t sect, size_t key_off,
			    size_t key_len, size_t val_off, size_t val_len,
			    uint32_t line, uint32_t *idx)
{
	struct ini_entry *e;

	if (f->nent == f->ent_cap) {
		uint32_t cap = f->ent_cap ? f->ent_cap * 2 : 16;

		e = realloc(f->ent, (size_t)cap * sizeof(*e));
		if (!e)
			return SESCTL_ERR_NOMEM;
		f->ent = e;
		f->ent_cap = cap;
	}
	e = &f->ent[f->nent];
	e->sect = sect;
	e->key_off = (uint32_t)key_off;
	e->key_len = (uint32_t)key_len;
	e->val_off = (uint32_t)val_off;
	e->val_len = (uint32_t)val_len;
	e->line = line;
	e->flags = 0;
	*idx = f->nent++;
	return SESCTL_OK;
}

/* One line [s, e) (trimmed, not blank, not a comment) that is not a
 * continuation: a section header or a key.  `sect` is the current
 * section (NO_INDEX before the first). */
static sesctl_err parse_line(struct ctx *ctx, struct ini_file *f, size_t s,
			     size_t e, uint32_t line, uint32_t *sect,
			     uint32_t *ent)
{
	unsigned char *b = f->text.p;
	size_t r, d, k, v;
	sesctl_err rc;

	if (b[s] == '[') {
		for (r = e - 1; r >= s + 2 && b[r] != ']'; r--)
			;
		if (r >= s + 2) {
			*ent = NO_INDEX;
			if (bytes_eq(b + s + 1, r - s - 1, "DEFAULT") &&
			    f->dflt != NO_INDEX) {
				*sect = f->dflt;
				return SESCTL_OK;
			}
			rc = add_section(f, s + 1, r - s - 1, line, sect);
			if (rc != SESCTL_OK)
				return err_set(&ctx->err, rc,
					       "out of memory parsing '%s'",
					       f->path);
			if (f->sect[*sect].is_default)
				f->dflt = *sect;
			return SESCTL_OK;
		}
	}
	for (d = s; d < e && b[d] != '=' && b[d] != ':'; d++)
		;
	if (b[s] == '[' && (d == e || *sect == NO_INDEX))
		return file_error(ctx, f, line,
				  memchr(b + s + 1, ']', e - s - 1) ?
					  "expected '[section]' or 'key = value'" :
					  "unterminated section header");
	if (*sect == NO_INDEX)
		return file_error(ctx, f, line,
				  "expected a section header such as "
				  "'[default]' before the first setting");
	if (d == e)
		return file_error(ctx, f, line, "expected 'key = value'");
	for (k = d; k > s && py_space(b[k - 1]); k--)
		;
	if (k == s)
		return file_error(ctx, f, line,
				  "expected 'key = value', found no key "
				  "before '%c'",
				  b[d]);
	for (v = d + 1; v < e && py_space(b[v]); v++)
		;
	for (r = s; r < k; r++)
		if (b[r] >= 'A' && b[r] <= 'Z')
			b[r] = (unsigned char)(b[r] - 'A' + 'a');
	rc = add_entry(f, *sect, s, k - s, v, e - v, line, ent);
	if (rc != SESCTL_OK)
		return err_set(&ctx->err, rc, "out of memory parsing '%s'",
			       f->path);
	return SESCTL_OK;
}

static sesctl_err ini_scan(struct ctx *ctx, struct ini_file *f)
{
	unsigned char *b = f->text.p;
	size_t len = f->text.len, pos = 0, start, end, s, e, indent;
	size_t indent_level = 0;
	uint32_t line = 0, sect = NO_INDEX, ent = NO_INDEX;
	sesctl_err rc;

	if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		pos = 3;
	while (pos < len) {
		start = pos;
		while (pos < len && b[pos] != '\n' && b[pos] != '\r' &&
		       b[pos] != '\0')
			pos++;
		line++;
		if (pos < len && b[pos] == '\0')
			return file_error(ctx, f, line,
					  "NUL byte; is this a text file?");
		end = pos;
		if (pos < len)
			pos += (b[pos] == '\r' && pos + 1 < len &&
				b[pos + 1] == '\n') ? 2 : 1;

		for (s = start; s < end && py_space(b[s]); s++)
			;
		for (e = end; e > s && py_space(b[e - 1]); e--)
			;
		if (s == e || b[s] == '#' || b[s] == ';')
			continue;
		indent = s - start;
		if (ent != NO_INDEX && indent > indent_level) {
			struct ini_entry *c = &f->ent[ent];

			if (c->val_len == 0) {
				c->flags |= ENT_NESTED;
				if (!memchr(b + s, '=', e - s))
					return file_error(
						ctx, f, line,
						"expected 'key = value' in the "
						"indented block under line %u",
						(unsigned)c->line);
			} else {
				c->flags |= ENT_MULTILINE;
			}
			continue;
		}
		indent_level = indent;
		rc = parse_line(ctx, f, s, e, line, &sect, &ent);
		if (rc != SESCTL_OK)
			return rc;
	}
	return SESCTL_OK;
}

struct dup_key {
	const unsigned char *p;
	uint32_t len, sect, line;
};

static int dup_cmp(const void *va, const void *vb)
{
	const struct dup_key *a = va, *b = vb;
	int c;

	if (a->sect != b->sect)
		return a->sect < b->sect ? -1 : 1;
	c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Sort `n` keys and find the repeat that comes first in the file: its
 * index in `k` (and the earlier copy at index - 1), or n if none. */
static uint32_t first_repeat(struct dup_key *k, uint32_t n)
{
	uint32_t i, best = n;

	qsort(k, n, sizeof(*k), dup_cmp);
	for (i = 1; i < n; i++)
		if (k[i].sect == k[i - 1].sect && k[i].len == k[i - 1].len &&
		    memcmp(k[i].p, k[i - 1].p, k[i].len) == 0 &&
		    (best == n || k[i].line < k[best].line))
			best = i;
	return best;
}

/* configparser's strict mode: no section twice, no key twice in one. */
static sesctl_err ini_check_repeats(struct ctx *ctx, struct ini_file *f)
{
	const unsigned char *b = f->text.p;
	struct dup_key *k = NULL;
	uint32_t i, n = 0, r;
	sesctl_err rc = SESCTL_OK;
	size_t count = f->nent > f->nsect ? f->nent : f->nsect;

	if (count < 2)
		return SESCTL_OK;
	k = calloc(count, sizeof(*k));
	if (!k)
		return err_set(&ctx->err, SESCTL_ERR_NOMEM,
			       "out of memory parsing '%s'", f->path);
	for (i = 0; i < f->nsect; i++) {
		if (f->sect[i].is_default)
			continue;
		k[n].p = b + f->sect[i].name_off;
		k[n].len = f->sect[i].name_len;
		k[n].sect = 0;
		k[n].line = f->sect[i].line;
		n++;
	}
	r = first_repeat(k, n);
	if (r < n) {
		if (echo_safe(k[r].p, k[r].len))
			rc = file_error(ctx, f, k[r].line,
					"section '[%.*s]' already started on "
					"line %u",
					(int)k[r].len, (const char *)k[r].p,
					(unsigned)k[r - 1].line);
		else
			rc = file_error(ctx, f, k[r].line,
					"this section already started on "
					"line %u",
					(unsigned)k[r - 1].line);
		goto out;
	}
	for (i = 0; i < f->nent; i++) {
		k[i].p = b + f->ent[i].key_off;
		k[i].len = f->ent[i].key_len;
		k[i].sect = f->ent[i].sect;
		k[i].line = f->ent[i].line;
	}
	r = first_repeat(k, f->nent);
	if (r < f->nent) {
		const char *name = known_key(k[r].p, k[r].len);

		rc = file_error(ctx, f, k[r].line,
				"%s%s%s is already set on line %u of this "
				"section",
				name ? "'" : "", name ? name : "this key",
				name ? "'" : "", (unsigned)k[r - 1].line);
	}
out:
	free(k);
	return rc;
}

/* Config files: which sections are profiles (build_profile_map). */
static void ini_map_profiles(struct ini_file *f)
{
	unsigned char *b = f->text.p;
	struct shlex_word w[2];
	struct ini_section *s;
	uint32_t i;

	for (i = 0; i < f->nsect; i++) {
		s = &f->sect[i];
		if (s->is_default)
			continue;
		if (s->name_len >= 7 && memcmp(b + s->name_off, "profile", 7) == 0) {
			s->rewritten = true;
			if (creds_shlex_split(b + s->name_off, s->name_len, w,
					      2) == 2) {
				s->is_profile = true;
				s->prof_off = s->name_off + (uint32_t)w[1].off;
				s->prof_len = (uint32_t)w[1].len;
			}
		} else if (bytes_eq(b + s->name_off, s->name_len, "default")) {
			s->is_profile = true;
			s->prof_off = s->name_off;
			s->prof_len = s->name_len;
		}
	}
}

void creds_ini_release(struct ini_file *f)
{
	secret_free(&f->text);
	free(f->sect);
	free(f->ent);
	f->sect = NULL;
	f->ent = NULL;
	f->nsect = f->sect_cap = f->nent = f->ent_cap = 0;
	f->dflt = NO_INDEX;
	f->present = false;
}

/* Read f->path (a missing file is no error: f->present stays false) and
 * parse it. */
sesctl_err creds_ini_load(struct ctx *ctx, struct ini_file *f)
{
	sesctl_err rc = SESCTL_OK;
	bool missing = false;

	f->dflt = NO_INDEX;
	rc = secret_read_file(&ctx->err, NULL, f->path, 0, CREDS_FILE_MAX,
			      &f->text, &missing, NULL);
	if (rc == SESCTL_ERR_INPUT)
		rc = err_set(&ctx->err, rc,
			     "'%s' is larger than %zu KiB; is it really an AWS "
			     "configuration file?",
			     f->path, CREDS_FILE_MAX >> 10);
	if (rc != SESCTL_OK)
		goto out;
	if (missing) {
		ctx_debug(ctx, "'%s' does not exist", f->path);
		return SESCTL_OK;
	}
	f->present = true;
	ctx_debug(ctx, "read '%s' (%zu bytes)", f->path, f->text.len);
	TRY(ini_scan(ctx, f));
	TRY(ini_check_repeats(ctx, f));
	if (f->is_config)
		ini_map_profiles(f);
out:
	if (rc == SESCTL_ERR_NOMEM && ctx->err.code != SESCTL_ERR_NOMEM)
		rc = err_set(&ctx->err, rc, "out of memory reading '%s'",
			     f->path);
	if (rc != SESCTL_OK)
		creds_ini_release(f);
	return rc;
}

/* Credentials file: the section called `name` (never [DEFAULT]). */
uint32_t creds_ini_section_named(const struct ini_file *f, const char *name)
{
	uint32_t i;

	for (i = 0; i < f->nsect; i++)
		if (!f->sect[i].is_default && !f->sect[i].rewritten &&
		    bytes_eq(f->text.p + f->sect[i].name_off,
			     f->sect[i].name_len, name))
			return i;
	return NO_INDEX;
}

/* Config file: the last section that defines profile `name`. */
uint32_t creds_ini_profile_section(const struct ini_file *f, const char *name)
{
	uint32_t i, found = NO_INDEX;

	for (i = 0; i < f->nsect; i++)
		if (f->sect[i].is_profile &&
		    bytes_eq(f->text.p + f->sect[i].prof_off,
			     f->sect[i].prof_len, name))
			found = i;
	return found;
}

/* The entry for `key` in section `sect`, else in [DEFAULT]. */
const struct ini_entry *creds_ini_get(const struct ini_file *f, uint32_t sect,
				      const char *key)
{
	const struct ini_entry *dflt = NULL;
	uint32_t i;

	if (sect == NO_INDEX)
		return NULL;
	for (i = 0; i < f->nent; i++) {
		const struct ini_entry *e = &f->ent[i];

		if ((e->sect != sect && e->sect != f->dflt) ||
		    !bytes_eq(f->text.p + e->key_off, e->key_len, key))
			continue;
		if (e->sect == sect)
			return e;
		dflt = e;
	}
	return dflt;
}
