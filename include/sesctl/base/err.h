/* err.h - sesctl's error codes, their exit codes and the detail message.
 *
 * One table (an X-macro, after s2n-tls ERR_ENTRIES) says for every error
 * what process exit code it maps to and a short default description.
 * Fallible functions return a MUST_USE sesctl_err and put results in
 * out-parameters; detail for the user goes through err_set().
 */
#ifndef SESCTL_ERR_H
#define SESCTL_ERR_H

#include <stdbool.h>

#include <stddef.h>

#define MUST_USE __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/*       name                   exit  kind (stable)     description */
#define SESCTL_ERR_LIST(X)                                                   \
	X(SESCTL_OK,              0, "ok",            "success")             \
	X(SESCTL_ERR_FAIL,        1, "failure",       "failure")             \
	X(SESCTL_ERR_NOMEM,       1, "out-of-memory", "out of memory")       \
	X(SESCTL_ERR_IO,          1, "io-error",      "input/output error")  \
	X(SESCTL_ERR_INPUT,       1, "invalid-input", "invalid input")       \
	X(SESCTL_ERR_CRYPTO,      1, "crypto-failure",                       \
	  "cryptographic library failure")                                   \
	X(SESCTL_ERR_USAGE,       2, "usage",         "usage error")         \
	X(SESCTL_ERR_AUTH,        3, "access-denied",                        \
	  "AWS refused the caller's credentials")                            \
	X(SESCTL_ERR_NOT_FOUND,   4, "not-found",                            \
	  "not enabled or not found")                                        \
	X(SESCTL_ERR_CONFLICT,    5, "conflict",      "conflict")            \
	X(SESCTL_ERR_NETWORK,     6, "network",                              \
	  "network or service failure")                                      \
	X(SESCTL_ERR_SMTP_VERIFY, 7, "smtp-refused",                         \
	  "SMTP verification failed")

#define SESCTL_ERR_X_ENUM(name, exit_code, kind, desc) name,
typedef enum { SESCTL_ERR_LIST(SESCTL_ERR_X_ENUM) SESCTL_ERR_COUNT } sesctl_err;

/* Jump to the function's single `out:` label on failure; `rc` must be a
 * sesctl_err local. */
#define TRY(e)                                                               \
	do {                                                                 \
		rc = (e);                                                    \
		if (rc != SESCTL_OK)                                         \
			goto out;                                            \
	} while (0)
#define ENSURE(c, e)                                                         \
	do {                                                                 \
		if (!(c)) {                                                  \
			rc = (e);                                            \
			goto out;                                            \
		}                                                            \
	} while (0)

#define ERR_MSG_MAX 1024

/* The error a command ends with: its code and a git-style message
 * (lowercase, no trailing period, subjects quoted). Never holds a secret. */
struct err_info {
	sesctl_err code;
	char msg[ERR_MSG_MAX];
	/* A stable, machine-readable name for the failure, for scripts
	 * (--format json errors): set by err_kind() where a command refuses
	 * for a reason of its own ("already-enabled", "key-limit"); "" for
	 * the code's own kind.  err_set() keeps it while the code stays the
	 * same (a message wrapped in more context) and clears it otherwise. */
	char kind[32];
};

/* Record `code` with a formatted message in `ei` (if not NULL) and return
 * `code`, so callers can write `return err_set(ei, ..., "...")`.  A message
 * already set is replaced; it may itself be an argument, to wrap it. */
sesctl_err err_set(struct err_info *ei, sesctl_err code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* err_set, and name the failure `kind` (see struct err_info). */
sesctl_err err_setk(struct err_info *ei, sesctl_err code, const char *kind,
		    const char *fmt, ...) PRINTF_LIKE(4, 5);

/* Name the failure in `ei` (see struct err_info); returns ei->code. */
sesctl_err err_kind(struct err_info *ei, const char *kind);

/* The failure's kind: the one err_kind() set, else the code's own
 * ("usage", "access-denied", "not-found", "conflict", ...). */
const char *err_kind_of(const struct err_info *ei);

/* The process exit code for `code` (1 for unknown values). */
int err_exit_code(sesctl_err code);

/* The enum name, e.g. "SESCTL_ERR_USAGE" (for tests and debug output). */
const char *err_name(sesctl_err code);

/* The default description of `code`. */
const char *err_desc(sesctl_err code);

/* Copy `src` (NULL: "") into dst[size] if it fits; else make dst "" and
 * return false.  (A small string helper for every layer: a value that
 * does not fit is no value sesctl wrote, never a truncated one.) */
bool str_copy(char *dst, size_t size, const char *src);

#endif
