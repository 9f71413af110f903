/* creds.c - the caller's credentials: the provider chain and the parser of
 * the AWS CLI's shared config and credentials files (see creds.h).
 *
 * Behaviour follows the AWS CLI v2 and the botocore it bundles
 * (aws/aws-cli v2 awscli/botocore/{credentials,configloader,session,
 * configprovider}.py; stock botocore 1.43 behaves the same except where
 * noted):
 *
 * - Profile: --profile > AWS_PROFILE > AWS_DEFAULT_PROFILE > "default"
 *   (configprovider.py 'profile' env list; stock botocore and AWS CLI v1
 *   check AWS_DEFAULT_PROFILE first, so we warn when the two differ).
 * - An explicit --profile removes the env provider from the chain
 *   (credentials.py create_credential_resolver, "An explicitly provided
 *   profile will negate an EnvProvider"); AWS_PROFILE does not.
 * - A named profile (--profile or either variable) must exist in one of
 *   the two files, even when the environment has credentials
 *   (session.py get_scoped_config: ProfileNotFound).
 * - Env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, token from
 *   AWS_SECURITY_TOKEN then AWS_SESSION_TOKEN (EnvProvider.TOKENS order);
 *   empty variables count as unset.  Divergence: botocore ignores a lone
 *   AWS_SECRET_ACCESS_KEY; we refuse it, as we refuse a lone key id, so a
 *   typo never silently selects another identity.
 * - Shared credentials file: section [name] (no "profile " prefix);
 *   tried before the config file's [profile name] / [default]
 *   (ProfileProviderBuilder.providers order).  A provider applies when its
 *   section has aws_access_key_id; the secret must then be in the same
 *   section (PartialCredentialsError); token aws_security_token, else
 *   aws_session_token (SharedCredentialProvider.TOKENS: the first present).
 *   Divergence as for env: a section with only the secret is an error.
 * - Region: the profile's `region` from the credentials file section if
 *   it has one, else from the config file (session.py full_config merges
 *   credentials-file sections over config profiles key by key).
 * - Files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (a leading "~/"
 *   is $HOME, else the passwd entry's home, as expanduser), else
 *   ~/.aws/config and ~/.aws/credentials.  A missing file (ENOENT,
 *   ENOTDIR) is no file.  Divergence: one that exists but cannot be read
 *   (permissions, a directory) is an error with the path and strerror;
 *   botocore skips it silently, which turns into a baffling "no
 *   credentials".  Each file is read whole with read(2) into a struct
 *   secret (at most CREDS_FILE_MAX), parsed in place, and wiped after.
 * - Values (stricter than botocore, which passes anything on to AWS): a
 *   key id is 16 to 128 of [A-Z0-9]; a secret or token has no whitespace
 *   or control characters; a value continued on indented lines is
 *   refused for the keys sesctl reads.  No message quotes a value.
 *
 * Exit-code choices are in creds.h.
 */
#include "sesctl/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define NO_INDEX UINT32_MAX
/* Longest file-derived name (section) quoted back in a message. */
#define ECHO_MAX 64

/* ------------------------------------------------------------------ */
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

enum { ENT_MULTILINE = 1u, ENT_NESTED = 2u };

struct ini_section {
	uint32_t name_off, name_len;
	uint32_t line;
	uint32_t prof_off, prof_len; /* config file: the profile it defines */
	bool is_default;             /* "[DEFAULT]" */
	bool is_profile;             /* config file: defines prof_* */
	bool rewritten;              /* name overwritten by shlex_split2() */
};

struct ini_entry {
	uint32_t sect;
	uint32_t key_off, key_len;
	uint32_t val_off, val_len;
	uint32_t line;
	uint32_t flags;
};

struct ini_file {
	char path[PATH_MAX];
	bool is_config;
	bool present;            /* the file existed and was read */
	struct secret text;      /* the whole file; parsed in place */
	struct ini_section *sect;
	uint32_t nsect, sect_cap;
	struct ini_entry *ent;
	uint32_t nent, ent_cap;
	uint32_t dflt;           /* the [DEFAULT] section or NO_INDEX */
};

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

/* Python's shlex.split() (POSIX mode, no comments) of b[off, off + len),
 * rewriting the words in place (they never get longer).  Returns the
 * number of words, with the second's place in *w2_off and *w2_len, or -1 for
 * an unterminated quote or escape (shlex's ValueError). */
static int shlex_split2(unsigned char *b, uint32_t off, uint32_t len,
			uint32_t *w2_off, uint32_t *w2_len)
{
	size_t r = off, w = off, end = (size_t)off + len, start = off;
	bool in_word = false;
	int words = 0;

	while (r < end) {
		unsigned char c = b[r];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (in_word && words == 2) {
				*w2_off = (uint32_t)start;
				*w2_len = (uint32_t)(w - start);
			}
			in_word = false;
			r++;
			continue;
		}
		if (!in_word) {
			in_word = true;
			words++;
			start = w;
		}
		if (c == '\'') {
			for (r++; r < end && b[r] != '\''; )
				b[w++] = b[r++];
			if (r == end)
				return -1;
			r++;
		} else if (c == '"') {
			for (r++; r < end && b[r] != '"'; ) {
				if (b[r] == '\\' && r + 1 < end &&
				    (b[r + 1] == '"' || b[r + 1] == '\\'))
					r++;
				b[w++] = b[r++];
			}
			if (r == end)
				return -1;
			r++;
		} else if (c == '\\') {
			if (r + 1 == end)
				return -1;
			b[w++] = b[r + 1];
			r += 2;
		} else {
			b[w++] = b[r++];
		}
	}
	if (in_word && words == 2) {
		*w2_off = (uint32_t)start;
		*w2_len = (uint32_t)(w - start);
	}
	return words;
}

/* Config files: which sections are profiles (build_profile_map). */
static void ini_map_profiles(struct ini_file *f)
{
	unsigned char *b = f->text.p;
	uint32_t i, off, len;
	struct ini_section *s;

	for (i = 0; i < f->nsect; i++) {
		s = &f->sect[i];
		if (s->is_default)
			continue;
		if (s->name_len >= 7 && memcmp(b + s->name_off, "profile", 7) == 0) {
			s->rewritten = true;
			off = len = 0;
			if (shlex_split2(b, s->name_off, s->name_len, &off,
					 &len) == 2) {
				s->is_profile = true;
				s->prof_off = off;
				s->prof_len = len;
			}
		} else if (bytes_eq(b + s->name_off, s->name_len, "default")) {
			s->is_profile = true;
			s->prof_off = s->name_off;
			s->prof_len = s->name_len;
		}
	}
}

static void ini_release(struct ini_file *f)
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
static sesctl_err ini_load(struct ctx *ctx, struct ini_file *f)
{
	struct stat st;
	sesctl_err rc = SESCTL_OK;
	int fd = -1, e;

	f->dflt = NO_INDEX;
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR) {
			ctx_debug(ctx, "'%s' does not exist", f->path);
			return SESCTL_OK;
		}
		return err_set(&ctx->err, SESCTL_ERR_IO, "cannot open '%s': %s",
			       f->path, strerror(e));
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		ENSURE((uintmax_t)st.st_size <= CREDS_FILE_MAX,
		       err_set(&ctx->err, SESCTL_ERR_INPUT,
			       "'%s' is larger than %zu KiB; is it really an "
			       "AWS configuration file?",
			       f->path, CREDS_FILE_MAX >> 10));
		TRY(secret_alloc(&f->text, (size_t)st.st_size));
	}
	rc = secret_read_fd(&f->text, fd, CREDS_FILE_MAX);
	e = errno;
	if (rc == SESCTL_ERR_INPUT)
		rc = err_set(&ctx->err, rc,
			     "'%s' is larger than %zu KiB; is it really an AWS "
			     "configuration file?",
			     f->path, CREDS_FILE_MAX >> 10);
	else if (rc == SESCTL_ERR_IO)
		rc = err_set(&ctx->err, rc, "cannot read '%s': %s", f->path,
			     strerror(e));
	if (rc != SESCTL_OK)
		goto out;
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
	if (fd >= 0)
		close(fd);
	if (rc != SESCTL_OK)
		ini_release(f);
	return rc;
}

/* Credentials file: the section called `name` (never [DEFAULT]). */
static uint32_t ini_section_named(const struct ini_file *f, const char *name)
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
static uint32_t ini_profile_section(const struct ini_file *f, const char *name)
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
static const struct ini_entry *ini_get(const struct ini_file *f, uint32_t sect,
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

/* ------------------------------------------------------------------ */
/* Resolution state shared by the providers. */

struct state {
	struct ctx *ctx;
	creds_env_fn env;
	const char *profile;        /* never NULL */
	const char *profile_origin; /* NULL: the implicit "default" */
	bool cli_profile;           /* --profile given: no env provider */
	bool files_loaded;
	struct ini_file config, credentials;
	char home[PATH_MAX];
	bool home_looked;
	char looked[ERR_MSG_MAX];   /* "where we looked", for the last error */
	size_t looked_len;
};

static const char *env_get(creds_env_fn env, const char *name)
{
	const char *v = env ? env(name) : getenv(name);

	return (v && *v) ? v : NULL;
}

/* Format into a fixed buffer; on truncation end it with "...". */
static void set_text(char *dst, size_t size, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void set_text(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		dst[0] = '\0';
	else if ((size_t)n >= size && size >= 4)
		memcpy(dst + size - 4, "...", 4);
}

static void looked_add(struct state *st, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

static void looked_add(struct state *st, const char *fmt, ...)
{
	size_t room = sizeof(st->looked) - st->looked_len;
	va_list ap;
	int n;

	if (room < 8)
		return;
	if (st->looked_len) {
		memcpy(st->looked + st->looked_len, ", ", 3);
		st->looked_len += 2;
		room -= 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(st->looked + st->looked_len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		st->looked[st->looked_len] = '\0';
	else if ((size_t)n >= room)
		st->looked_len = sizeof(st->looked) - 1;
	else
		st->looked_len += (size_t)n;
}

/* $HOME, else the password database (as Python's expanduser); NULL if
 * neither knows. */
static const char *home_dir(struct state *st)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	const char *h;

	if (st->home_looked)
		return st->home[0] ? st->home : NULL;
	st->home_looked = true;
	h = env_get(st->env, "HOME");
	if (!h && getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res && res->pw_dir && *res->pw_dir)
		h = res->pw_dir;
	if (h && strlen(h) < sizeof(st->home))
		memcpy(st->home, h, strlen(h) + 1);
	return st->home[0] ? st->home : NULL;
}

/* The path of a shared file: $var (a leading "~/" expanded), else
 * ~/.aws/<base>.  $VAR references inside are not expanded (botocore
 * applies os.path.expandvars; sesctl does not). */
static sesctl_err file_path(struct state *st, const char *var,
			    const char *base, char *out, size_t size)
{
	const char *v = env_get(st->env, var), *home;
	int n;

	if (v && !(v[0] == '~' && (v[1] == '/' || v[1] == '\0'))) {
		n = snprintf(out, size, "%s", v);
	} else {
		home = home_dir(st);
		if (v)
			n = snprintf(out, size, "%s%s", home ? home : "~", v + 1);
		else
			n = snprintf(out, size, "%s/.aws/%s", home ? home : "~",
				     base);
	}
	if (n < 0 || (size_t)n >= size)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "the path of the AWS %s file is too long%s%s",
			       base, v ? "; check " : "", v ? var : "");
	return SESCTL_OK;
}

static void state_init(struct state *st, struct ctx *ctx,
		       const struct creds_opts *o)
{
	memset(st, 0, sizeof(*st));
	st->ctx = ctx;
	st->env = o->env;
	st->profile = creds_profile(o, &st->profile_origin);
	st->cli_profile = o->profile != NULL;
	st->config.is_config = true;
	st->config.dflt = NO_INDEX;
	st->credentials.dflt = NO_INDEX;
}

static void state_release(struct state *st)
{
	ini_release(&st->config);
	ini_release(&st->credentials);
}

/* The "profile not found" error, with a hint for the usual mix-up of the
 * two files' section names. */
static sesctl_err profile_not_found(struct state *st)
{
	const struct ini_file *c = &st->config, *k = &st->credentials;
	char hint[ERR_MSG_MAX / 2] = "";
	char wrong[CREDS_SOURCE_MAX];

	set_text(wrong, sizeof(wrong), "profile %s", st->profile);
	if (k->present && ini_section_named(k, wrong) != NO_INDEX)
		set_text(hint, sizeof(hint),
			 "\nin '%s' the section is '[%s]', without 'profile'",
			 k->path, st->profile);
	else if (c->present && strcmp(st->profile, "default") != 0 &&
		 ini_section_named(c, st->profile) != NO_INDEX)
		set_text(hint, sizeof(hint),
			 "\nin '%s' the section is '[profile %s]'", c->path,
			 st->profile);
	return err_set(&st->ctx->err, SESCTL_ERR_USAGE,
		       "profile '%s' (from %s) not found in '%s'%s or "
		       "'%s'%s%s",
		       st->profile, st->profile_origin, c->path,
		       c->present ? "" : " (no such file)", k->path,
		       k->present ? "" : " (no such file)", hint);
}

/* Find and read both files; check that a named profile exists. */
static sesctl_err state_load(struct state *st)
{
	sesctl_err rc = SESCTL_OK;

	if (st->files_loaded)
		return SESCTL_OK;
	st->files_loaded = true;
	TRY(file_path(st, "AWS_CONFIG_FILE", "config", st->config.path,
		      sizeof(st->config.path)));
	TRY(file_path(st, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
		      st->credentials.path, sizeof(st->credentials.path)));
	TRY(ini_load(st->ctx, &st->config));
	TRY(ini_load(st->ctx, &st->credentials));
	if (st->profile_origin &&
	    ini_profile_section(&st->config, st->profile) == NO_INDEX &&
	    ini_section_named(&st->credentials, st->profile) == NO_INDEX)
		rc = profile_not_found(st);
out:
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checking and copying values. */

/* A value from the environment (file == NULL) or a file entry. */
struct val {
	const unsigned char *p;
	size_t len;
	const struct ini_file *file;
	uint32_t line;
	uint32_t flags;
	const char *name; /* "AWS_SECRET_ACCESS_KEY" or "aws_secret_access_key" */
};

static bool val_from_env(struct state *st, const char *name, struct val *v)
{
	const char *s = env_get(st->env, name);

	memset(v, 0, sizeof(*v));
	v->name = name;
	if (!s)
		return false;
	v->p = (const unsigned char *)s;
	v->len = strlen(s);
	return true;
}

static bool val_from_file(const struct ini_file *f, uint32_t sect,
			  const char *key, struct val *v)
{
	const struct ini_entry *e = ini_get(f, sect, key);

	memset(v, 0, sizeof(*v));
	v->name = key;
	if (!e)
		return false;
	v->p = f->text.p + e->val_off;
	v->len = e->val_len;
	v->file = f;
	v->line = e->line;
	v->flags = e->flags;
	return true;
}

/* "AWS_SECRET_ACCESS_KEY <problem>" or "'<path>' line N:
 * 'aws_secret_access_key' of profile 'x' <problem>". */
static sesctl_err val_error(struct state *st, const struct val *v,
			    const char *problem)
{
	if (!v->file)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT, "%s %s",
			       v->name, problem);
	return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
		       "'%s' line %u: '%s' of profile '%s' %s", v->file->path,
		       (unsigned)v->line, v->name, st->profile, problem);
}

static sesctl_err val_check_shape(struct state *st, const struct val *v)
{
	if (v->flags & ENT_NESTED)
		return val_error(st, v, "is an indented block, not a value");
	if (v->flags & ENT_MULTILINE)
		return val_error(st, v,
				 "continues on the indented line after it; "
				 "a value must fit on one line");
	return SESCTL_OK;
}

/* Secret key or session token: non-empty, no whitespace or controls. */
static sesctl_err val_check_secret(struct state *st, const struct val *v)
{
	sesctl_err rc = val_check_shape(st, v);
	bool bad = false, comment = false;
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	if (v->len == 0)
		return val_error(st, v, "is empty");
	for (i = 0; i < v->len; i++) {
		if (v->p[i] <= 0x20 || v->p[i] == 0x7f) {
			bad = true;
			if (i + 1 < v->len &&
			    (v->p[i + 1] == '#' || v->p[i + 1] == ';'))
				comment = true;
		}
	}
	if (!bad)
		return SESCTL_OK;
	return val_error(st, v,
			 comment && v->file ?
				 "contains whitespace; comments must be on "
				 "lines of their own" :
				 "contains whitespace or control characters");
}

static sesctl_err val_check_key_id(struct state *st, const struct val *v)
{
	sesctl_err rc = val_check_shape(st, v);
	bool upper = true, secret_like = true;
	size_t i;

	if (rc != SESCTL_OK)
		return rc;
	for (i = 0; i < v->len; i++) {
		unsigned char c = v->p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			upper = false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '/' || c == '+'))
			secret_like = false;
	}
	if (upper && v->len >= CREDS_ACCESS_KEY_ID_MIN &&
	    v->len <= CREDS_ACCESS_KEY_ID_MAX)
		return SESCTL_OK;
	/* Never quote the value: it may be the secret, pasted in the
	 * wrong place. */
	return val_error(st, v,
			 secret_like && v->len == 40 ?
				 "is not an access key id but looks like a "
				 "secret access key; are the two swapped?" :
				 "is not an access key id (16 to 128 capital "
				 "letters and digits, like "
				 "'AKIAIOSFODNN7EXAMPLE')");
}

/* Check and copy a provider's find into `out`. */
static sesctl_err creds_fill(struct state *st, const struct val *id,
			     const struct val *secret, const struct val *token,
			     struct creds *out)
{
	sesctl_err rc = SESCTL_OK;

	TRY(val_check_key_id(st, id));
	TRY(val_check_secret(st, secret));
	if (token) {
		TRY(val_check_shape(st, token));
		if (token->len == 0) /* botocore: '' is no token */
			token = NULL;
		else
			TRY(val_check_secret(st, token));
	}
	memcpy(out->access_key_id, id->p, id->len);
	out->access_key_id[id->len] = '\0';
	rc = secret_set(&out->secret_key, secret->p, secret->len);
	if (rc == SESCTL_OK && token)
		rc = secret_set(&out->session_token, token->p, token->len);
	if (rc != SESCTL_OK)
		rc = err_set(&st->ctx->err, rc,
			     "cannot hold the credentials in memory");
out:
	return rc;
}

/* ------------------------------------------------------------------ */
/* The providers.  Each returns SESCTL_OK with *found false when it has
 * nothing (having said where it looked with looked_add()), SESCTL_OK with
 * *found and `out` filled, or an error that ends the chain. */

static sesctl_err provider_env(struct state *st, struct creds *out,
			       bool *found)
{
	struct val id, secret, token;
	bool have_id, have_secret, have_token;
	sesctl_err rc;

	/* The environment's copies are left as they are: the getter hands
	 * out const strings, a second resolve must see the same, and the
	 * initial environment block is readable only by its owner, who
	 * put the secret there. */
	if (st->cli_profile) {
		if (env_get(st->env, "AWS_ACCESS_KEY_ID"))
			ctx_debug(st->ctx,
				  "ignoring AWS_ACCESS_KEY_ID: --profile "
				  "takes precedence, as in the AWS CLI");
		looked_add(st, "the environment (skipped: --profile given)");
		return SESCTL_OK;
	}
	have_id = val_from_env(st, "AWS_ACCESS_KEY_ID", &id);
	have_secret = val_from_env(st, "AWS_SECRET_ACCESS_KEY", &secret);
	if (!have_id && !have_secret) {
		looked_add(st, "the environment (AWS_ACCESS_KEY_ID is not set)");
		return SESCTL_OK;
	}
	if (!have_secret)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_ACCESS_KEY_ID is set but "
			       "AWS_SECRET_ACCESS_KEY is not; set both, or "
			       "unset AWS_ACCESS_KEY_ID to use a profile");
	if (!have_id)
		return err_set(&st->ctx->err, SESCTL_ERR_INPUT,
			       "AWS_SECRET_ACCESS_KEY is set but "
			       "AWS_ACCESS_KEY_ID is not; set both, or unset "
			       "AWS_SECRET_ACCESS_KEY to use a profile");
	/* botocore's order: the legacy name first. */
	have_token = val_from_env(st, "AWS_SECURITY_TOKEN", &token) ||
		     val_from_env(st, "AWS_SESSION_TOKEN", &token);
	rc = creds_fill(st, &id, &secret, have_token ? &token : NULL, out);
	if (rc != SESCTL_OK)
		return rc;
	set_text(out->source, sizeof(out->source), "environment");
	*found = true;
	return SESCTL_OK;
}

/* The part the two file providers share, once `sect` is known. */
static sesctl_err provider_file_section(struct state *st,
					const struct ini_file *f,
					uint32_t sect, const char *missing,
					struct creds *out, bool *found)
{
	struct val id, secret, token;
	bool have_id, have_secret, have_token;
	sesctl_err rc = SESCTL_OK;

	if (sect == NO_INDEX) {
		looked_add(st, "profile '%s' in '%s' (%s)", st->profile,
			   f->path, missing);
		return SESCTL_OK;
	}
	have_id = val_from_file(f, sect, "aws_access_key_id", &id);
	have_secret = val_from_file(f, sect, "aws_secret_access_key", &secret);
	if (!have_id && !have_secret) {
		looked_add(st, "profile '%s' in '%s' (no 'aws_access_key_id')",
			   st->profile, f->path);
		return SESCTL_OK;
	}
	/* A value that swallowed the next lines is the likelier story
	 * than a missing key. */
	if (have_id)
		rc = val_check_shape(st, &id);
	if (rc == SESCTL_OK && have_secret)
		rc = val_check_shape(st, &secret);
	if (rc != SESCTL_OK)
		return rc;
	if (!have_secret)
		return val_error(st, &id,
				 "is set but 'aws_secret_access_key' is not");
	if (!have_id)
		return val_error(st, &secret,
				 "is set but 'aws_access_key_id' is not");
	have_token = val_from_file(f, sect, "aws_security_token", &token) ||
		     val_from_file(f, sect, "aws_session_token", &token);
	rc = creds_fill(st, &id, &secret, have_token ? &token : NULL, out);
	if (rc != SESCTL_OK)
		return rc;
	set_text(out->source, sizeof(out->source), "profile '%s' in '%s'",
		 st->profile, f->path);
	*found = true;
	return SESCTL_OK;
}

static sesctl_err provider_credentials_file(struct state *st,
					    struct creds *out, bool *found)
{
	const struct ini_file *f = &st->credentials;
	char missing[CREDS_SOURCE_MAX];

	if (!f->present) {
		looked_add(st, "profile '%s' in '%s' (no such file)",
			   st->profile, f->path);
		return SESCTL_OK;
	}
	set_text(missing, sizeof(missing), "no '[%s]' section", st->profile);
	return provider_file_section(st, f,
				     ini_section_named(f, st->profile),
				     missing, out, found);
}

static sesctl_err provider_config_file(struct state *st, struct creds *out,
				       bool *found)
{
	const struct ini_file *f = &st->config;
	char missing[CREDS_SOURCE_MAX];

	if (!f->present) {
		looked_add(st, "profile '%s' in '%s' (no such file)",
			   st->profile, f->path);
		return SESCTL_OK;
	}
	if (strcmp(st->profile, "default") == 0)
		set_text(missing, sizeof(missing), "no '[default]' section");
	else
		set_text(missing, sizeof(missing), "no '[profile %s]' section",
			 st->profile);
	return provider_file_section(st, f,
				     ini_profile_section(f, st->profile),
				     missing, out, found);
}

/* The chain, in the AWS CLI's order.  Later rows, to come:
 * assume-role (role_arn + source_profile) goes before
 * shared-credentials-file, because botocore tries it before a profile's
 * static keys; credential_process goes between the two files
 * (ProfileProviderBuilder.providers); container (ECS) and EC2 instance
 * metadata (IMDSv2) go last. */
static const struct creds_provider {
	const char *name;
	sesctl_err (*load)(struct state *st, struct creds *out, bool *found);
} providers[] = {
	{ "env", provider_env },
	{ "shared-credentials-file", provider_credentials_file },
	{ "config-file", provider_config_file },
};

/* ------------------------------------------------------------------ */
/* The interface. */

void creds_init(struct creds *c)
{
	memset(c, 0, sizeof(*c));
}

void creds_release(struct creds *c)
{
	if (!c)
		return;
	secret_free(&c->secret_key);
	secret_free(&c->session_token);
	memset(c, 0, sizeof(*c));
}

const char *creds_profile(const struct creds_opts *o, const char **origin)
{
	static const char *const vars[] = { "AWS_PROFILE",
					    "AWS_DEFAULT_PROFILE" };
	const char *v;
	size_t i;

	if (o->profile) {
		if (origin)
			*origin = "--profile";
		return o->profile;
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = env_get(o->env, vars[i]);
		if (v) {
			if (origin)
				*origin = vars[i];
			return v;
		}
	}
	if (origin)
		*origin = NULL;
	return "default";
}

static void note_profile(struct state *st)
{
	const char *a = env_get(st->env, "AWS_PROFILE");
	const char *d = env_get(st->env, "AWS_DEFAULT_PROFILE");

	if (!st->cli_profile && a && d && strcmp(a, d) != 0)
		ctx_warn(st->ctx,
			 "AWS_PROFILE ('%s') and AWS_DEFAULT_PROFILE ('%s') "
			 "differ; using '%s' as AWS CLI v2 does (v1 would use "
			 "'%s')",
			 a, d, a, d);
	ctx_debug(st->ctx, "profile '%s'%s%s", st->profile,
		  st->profile_origin ? " from " : " (implicit)",
		  st->profile_origin ? st->profile_origin : "");
}

sesctl_err creds_resolve(struct ctx *ctx, const struct creds_opts *o,
			 struct creds *out)
{
	struct state st;
	sesctl_err rc = SESCTL_OK;
	bool found = false;
	size_t i;

	creds_release(out);
	state_init(&st, ctx, o);
	note_profile(&st);
	TRY(state_load(&st));
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]) && !found;
	     i++) {
		TRY(providers[i].load(&st, out, &found));
		if (found)
			out->provider = providers[i].name;
	}
	if (!found) {
		if (st.cli_profile)
			rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
				     "no AWS credentials found; looked in %s\n"
				     "run 'aws configure --profile %s'",
				     st.looked, st.profile);
		else
			rc = err_set(&ctx->err, SESCTL_ERR_FAIL,
				     "no AWS credentials found; looked in %s\n"
				     "run 'aws configure', or set "
				     "AWS_ACCESS_KEY_ID and "
				     "AWS_SECRET_ACCESS_KEY",
				     st.looked);
		goto out;
	}
	ctx_debug(ctx, "credentials from %s: access key id %s%s", out->source,
		  out->access_key_id,
		  out->session_token.len ? " with a session token" : "");
out:
	state_release(&st);
	if (rc != SESCTL_OK)
		creds_release(out);
	return rc;
}

/* `region` of the profile into `out`: the credentials file's, else the
 * config file's.  *found false if neither has one. */
static sesctl_err profile_region(struct state *st, struct creds_region *out,
				 bool *found)
{
	const struct ini_file *files[] = { &st->credentials, &st->config };
	struct val v;
	uint32_t sect;
	sesctl_err rc;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct ini_file *f = files[i];

		if (!f->present)
			continue;
		sect = f->is_config ? ini_profile_section(f, st->profile) :
				      ini_section_named(f, st->profile);
		/* An empty value counts as unset (botocore would use ''). */
		if (!val_from_file(f, sect, "region", &v) ||
		    (v.len == 0 && !v.flags))
			continue;
		rc = val_check_shape(st, &v);
		if (rc != SESCTL_OK)
			return rc;
		if (v.len > CREDS_REGION_MAX)
			return val_error(st, &v, "is too long for a region");
		memcpy(out->name, v.p, v.len);
		out->name[v.len] = '\0';
		set_text(out->source, sizeof(out->source),
			 "profile '%s' in '%s'", st->profile, f->path);
		*found = true;
		return SESCTL_OK;
	}
	return SESCTL_OK;
}

sesctl_err creds_region(struct ctx *ctx, const struct creds_opts *o,
			struct creds_region *out)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
	const char *v = o->region;
	const char *from = "--region";
	struct state st;
	sesctl_err rc = SESCTL_OK;
	bool found = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	state_init(&st, ctx, o);
	for (i = 0; !v && i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = env_get(o->env, vars[i]);
		from = vars[i];
	}
	if (v) {
		ENSURE(strlen(v) <= CREDS_REGION_MAX,
		       err_set(&ctx->err, SESCTL_ERR_USAGE,
			       "the region from %s is too long (over %d "
			       "characters)",
			       from, CREDS_REGION_MAX));
		memcpy(out->name, v, strlen(v) + 1);
		set_text(out->source, sizeof(out->source), "%s", from);
		found = true;
	} else {
		note_profile(&st);
		TRY(state_load(&st));
		TRY(profile_region(&st, out, &found));
	}
	if (!found) {
		rc = err_set(&ctx->err, SESCTL_ERR_USAGE,
			     "no region: pass --region, set AWS_REGION, or "
			     "set 'region' in profile '%s' in '%s' ('aws "
			     "configure set region us-east-1%s%s')",
			     st.profile, st.config.path,
			     st.profile_origin ? " --profile " : "",
			     st.profile_origin ? st.profile : "");
		goto out;
	}
	ctx_debug(ctx, "region '%s' from %s", out->name, out->source);
out:
	state_release(&st);
	if (rc != SESCTL_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}
