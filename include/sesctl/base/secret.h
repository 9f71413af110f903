/* secret.h - the only place secrets live.
 *
 * Secret: secret access key, session token, signing keys, SMTP passwords and
 * response bodies that may contain them.  A struct secret's buffer is
 * page-aligned, best-effort mlock()ed and MADV_DONTDUMP, always
 * NUL-terminated (p[len] == 0), and wiped with OPENSSL_cleanse before it is
 * freed or grown.  There is deliberately no non-wiping free.
 */
#ifndef SESCTL_SECRET_H
#define SESCTL_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/err.h"

/* Hard ceiling for any one secret buffer (response bodies are capped at
 * 1 MiB by the transport; this leaves room for that plus slack). */
#define SECRET_MAX ((size_t)4 << 20)

struct secret {
	unsigned char *p; /* NULL until allocated; p[len] is always 0 */
	size_t len;       /* bytes in use */
	size_t cap;       /* usable bytes, not counting the terminating 0 */
};

#define SECRET_INIT { NULL, 0, 0 }

/* Allocate room for at least `cap` bytes (plus the terminator), zeroed.
 * Frees (wiping) whatever `s` held before.  SESCTL_ERR_INPUT if cap is over
 * SECRET_MAX. */
MUST_USE sesctl_err secret_alloc(struct secret *s, size_t cap);

/* Append `n` bytes, growing (allocate new, copy, wipe old) up to
 * SECRET_MAX; SESCTL_ERR_INPUT past that. */
MUST_USE sesctl_err secret_append(struct secret *s, const void *data, size_t n);

/* Replace the contents with `n` bytes of `data`. */
MUST_USE sesctl_err secret_set(struct secret *s, const void *data, size_t n);

/* Read `fd` to end of file with read(2) (no stdio buffer keeps a copy),
 * appending to `s`.  More than `max` bytes is SESCTL_ERR_INPUT, a read
 * error SESCTL_ERR_IO; on either, `s` is wiped to empty. */
MUST_USE sesctl_err secret_read_fd(struct secret *s, int fd, size_t max);

/* Read the file at `path` into `s` (appending, as secret_read_fd), for
 * every file sesctl reads: AWS config and credentials files, token files,
 * verify's settings file.
 *
 * It is opened O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOCTTY plus `oflags` (e.g.
 * O_NOFOLLOW), so a FIFO or device cannot block the open, and anything
 * fstat(2) does not call a regular file is refused before a read could
 * hang on it; O_NONBLOCK is then cleared.  /dev/null is the one exception
 * (read as empty: AWS_CONFIG_FILE=/dev/null is a common way to say "no
 * file").  More than `max` bytes is refused.
 *
 * `missing`: if not NULL, a path that does not exist (ENOENT, ENOTDIR)
 * sets *missing and returns SESCTL_OK with `s` unchanged; if NULL it is an
 * error like any other.  `mode`: if not NULL, gets st_mode.
 *
 * Errors, each with a message in `ei` naming the file as `what` (e.g.
 * "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"; may be NULL) and '<path>':
 *   SESCTL_ERR_USAGE  not a regular file ("'%s' is not a regular file (a
 *                     FIFO); give the path of a file");
 *   SESCTL_ERR_INPUT  larger than `max` ("'%s' is larger than N KiB";
 *                     callers may reword it);
 *   SESCTL_ERR_IO     open, fstat or read failed (the system's reason);
 *   SESCTL_ERR_NOMEM.
 * On any error `s` is wiped to empty. */
MUST_USE sesctl_err secret_read_file(struct err_info *ei, const char *what,
				     const char *path, int oflags, size_t max,
				     struct secret *s, bool *missing,
				     unsigned *mode);

/* Wipe the contents and set len to 0; keeps the buffer. */
void secret_clear(struct secret *s);

/* Wipe, unlock and free; leaves `s` as SECRET_INIT.  NULL-safe, idempotent. */
void secret_free(struct secret *s);

/* The contents as a C string; "" when nothing is allocated. */
const char *secret_str(const struct secret *s);

/* Wipe `n` bytes at `p` in a way the compiler may not elide (for key
 * material on the stack). */
void secret_wipe(void *p, size_t n);

/* Zero 64 KiB of stack below the caller: what library code (libxml2's
 * character buffers, OpenSSL's record decryption) left there after
 * handling a secret.  Best effort, called after a secret-bearing answer is
 * parsed and before exit. */
void secret_scrub_stack(void);

/* Zero the vector registers (x86-64: xmm/ymm/zmm, as far as the CPU has
 * them): memcpy and friends leave the last bytes they moved there, and the
 * dynamic linker's lazy-binding trampoline saves them onto the stack when
 * library destructors run at exit.  A no-op on other architectures. */
void secret_wipe_registers(void);

/* Allocator functions that wipe every block before it goes back to the
 * C library (the whole usable size, so also bytes past what was asked
 * for), and move on realloc instead of resizing in place.  Installed as
 * libcurl's (http.c) and OpenSSL's (crypto.c) allocators, so that their
 * receive and TLS record buffers, which hold IAM answers with secret keys,
 * do not linger in freed memory. */
void *secret_lib_malloc(size_t n);
void *secret_lib_calloc(size_t nmemb, size_t size);
void *secret_lib_realloc(void *p, size_t n);
void secret_lib_free(void *p);
char *secret_lib_strdup(const char *s);

#endif
