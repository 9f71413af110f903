/* creds_int.h - what the files of src/aws/creds/ share; not a public
 * interface (that is include/sesctl/aws/creds.h).
 *
 *   chain.c        the provider order, the resolution state, creds_resolve()
 *                  and creds_region()
 *   ini.c          the shared config and credentials file parser
 *   shlex.c        Python's shlex.split(), for ini.c and credential_process
 */
#ifndef SESCTL_CREDS_INT_H
#define SESCTL_CREDS_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesctl/aws/creds.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define NO_INDEX UINT32_MAX

/* ---- ini.c ---------------------------------------------------------- */

enum { ENT_MULTILINE = 1u, ENT_NESTED = 2u };

struct ini_section {
	uint32_t name_off, name_len;
	uint32_t line;
	uint32_t prof_off, prof_len; /* config file: the profile it defines */
	bool is_default;             /* "[DEFAULT]" */
	bool is_profile;             /* config file: defines prof_* */
	bool rewritten;              /* name overwritten by shlex_split() */
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

/* Read f->path (a missing file is no error: f->present stays false) and
 * parse it; ini_release() frees and wipes it. */
MUST_USE sesctl_err ini_load(struct ctx *ctx, struct ini_file *f);
void ini_release(struct ini_file *f);
/* Credentials file: the section called `name` (never [DEFAULT]). */
uint32_t ini_section_named(const struct ini_file *f, const char *name);
/* Config file: the last section that defines profile `name`. */
uint32_t ini_profile_section(const struct ini_file *f, const char *name);
/* The entry for `key` in section `sect`, else in [DEFAULT]. */
const struct ini_entry *ini_get(const struct ini_file *f, uint32_t sect,
				const char *key);

/* ---- shlex.c -------------------------------------------------------- */

/* One word of shlex_split(): b[off, off + len). */
struct shlex_word {
	size_t off, len;
};

/* Python's shlex.split() in POSIX mode without comments: words are
 * separated by ' ', \t, \r, \n; '...' keeps everything; "..." keeps
 * everything but a backslash before '"' or '\'; outside quotes a
 * backslash keeps the next character.  Splits b[0, len) in place (words
 * never grow) and describes the words in w[0..n); a '\0' follows every
 * word that ends before b + len, so the words of a C string are C strings.
 * Returns n; -1 for an unterminated quote or a trailing backslash (shlex's
 * ValueError); -2 as soon as word max + 1 starts. */
int shlex_split(unsigned char *b, size_t len, struct shlex_word *w,
		size_t max);

#endif
