/* secret.c - wiping, locked, non-dumpable buffers for secrets.
 *
 * Modelled on s2n-tls utils/s2n_mem.c.  OpenSSL is otherwise owned by
 * crypto.c; this file uses only OPENSSL_cleanse, because secret.h must not
 * depend on any module above it.
 */
#include "sesctl/base/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

/* Bytes actually reserved for a usable capacity of `cap`: cap + 1 for the
 * terminator, rounded up to whole pages so madvise/mlock cover only us. */
static size_t region_size(size_t cap)
{
	size_t ps = page_size();

	return (cap + 1 + ps - 1) / ps * ps;
}

void secret_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

static void region_release(unsigned char *p, size_t cap)
{
	size_t sz;

	if (!p)
		return;
	sz = region_size(cap);
	OPENSSL_cleanse(p, sz);
	(void)munlock(p, sz);
#ifdef MADV_DODUMP
	(void)madvise(p, sz, MADV_DODUMP);
#endif
	free(p);
}

static sesctl_err region_get(unsigned char **out, size_t cap)
{
	size_t sz = region_size(cap);
	void *p = NULL;

	if (posix_memalign(&p, page_size(), sz) != 0)
		return SESCTL_ERR_NOMEM;
	memset(p, 0, sz);
	/* Best effort: RLIMIT_MEMLOCK may be small and that is not fatal. */
	(void)mlock(p, sz);
#ifdef MADV_DONTDUMP
	(void)madvise(p, sz, MADV_DONTDUMP);
#endif
	*out = p;
	return SESCTL_OK;
}

sesctl_err secret_alloc(struct secret *s, size_t cap)
{
	unsigned char *p = NULL;
	sesctl_err rc;

	if (cap > SECRET_MAX)
		return SESCTL_ERR_INPUT;
	if (cap == 0)
		cap = 1;
	rc = region_get(&p, cap);
	if (rc != SESCTL_OK)
		return rc;
	secret_free(s);
	s->p = p;
	s->len = 0;
	s->cap = region_size(cap) - 1;
	return SESCTL_OK;
}

static sesctl_err secret_reserve(struct secret *s, size_t need)
{
	unsigned char *p = NULL;
	size_t cap;
	sesctl_err rc;

	if (need > SECRET_MAX)
		return SESCTL_ERR_INPUT;
	if (s->p && need <= s->cap)
		return SESCTL_OK;
	cap = s->cap ? s->cap : 64;
	while (cap < need)
		cap = cap > SECRET_MAX / 2 ? SECRET_MAX : cap * 2;
	rc = region_get(&p, cap);
	if (rc != SESCTL_OK)
		return rc;
	if (s->p) {
		memcpy(p, s->p, s->len);
		region_release(s->p, s->cap);
	}
	s->p = p;
	s->cap = region_size(cap) - 1;
	return SESCTL_OK;
}

sesctl_err secret_append(struct secret *s, const void *data, size_t n)
{
	sesctl_err rc;

	if (n > SECRET_MAX - s->len)
		return SESCTL_ERR_INPUT;
	rc = secret_reserve(s, s->len + n);
	if (rc != SESCTL_OK)
		return rc;
	if (n)
		memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = 0;
	return SESCTL_OK;
}

sesctl_err secret_set(struct secret *s, const void *data, size_t n)
{
	secret_clear(s);
	return secret_append(s, data, n);
}

sesctl_err secret_read_fd(struct secret *s, int fd, size_t max)
{
	unsigned char buf[512];
	sesctl_err rc = SESCTL_OK;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = SESCTL_ERR_IO;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > max || s->len > max - (size_t)n) {
			rc = SESCTL_ERR_INPUT;
			break;
		}
		rc = secret_append(s, buf, (size_t)n);
		if (rc != SESCTL_OK)
			break;
	}
	secret_wipe(buf, sizeof(buf));
	if (rc != SESCTL_OK)
		secret_clear(s);
	return rc;
}

/* What a non-regular file is, for the message. */
static const char *file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

/* Whether `st` is /dev/null itself (by device number, not by name). */
static bool is_dev_null(const struct stat *st)
{
	struct stat null;

	return S_ISCHR(st->st_mode) && stat("/dev/null", &null) == 0 &&
	       S_ISCHR(null.st_mode) && null.st_rdev == st->st_rdev;
}

sesctl_err secret_read_file(struct err_info *ei, const char *what,
			    const char *path, int oflags, size_t max,
			    struct secret *s, bool *missing, unsigned *mode)
{
	const char *w = what ? what : "", *sp = what ? " " : "";
	struct stat st;
	sesctl_err rc = SESCTL_OK;
	int fd = -1, fl, e;

	if (missing)
		*missing = false;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | oflags);
	if (fd < 0) {
		e = errno;
		if (missing && (e == ENOENT || e == ENOTDIR)) {
			*missing = true;
			return SESCTL_OK;
		}
		rc = err_set(ei, SESCTL_ERR_IO, "cannot open %s%s'%s': %s", w,
			     sp, path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		rc = err_set(ei, SESCTL_ERR_IO, "cannot read %s%s'%s': %s", w,
			     sp, path, strerror(e));
		goto out;
	}
	if (mode)
		*mode = (unsigned)st.st_mode;
	if (!S_ISREG(st.st_mode)) {
		ENSURE(is_dev_null(&st),
		       err_set(ei, SESCTL_ERR_USAGE,
			       "%s%s'%s' is not a regular file (%s); give the "
			       "path of a file",
			       w, sp, path, file_kind(st.st_mode)));
		goto out;
	}
	/* A regular file never blocks; reads behave as they always do. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		e = errno;
		rc = err_set(ei, SESCTL_ERR_IO, "cannot read %s%s'%s': %s", w,
			     sp, path, strerror(e));
		goto out;
	}
	ENSURE((uintmax_t)st.st_size <= max,
	       err_set(ei, SESCTL_ERR_INPUT, "%s%s'%s' is larger than %zu KiB",
		       w, sp, path, max >> 10));
	if (s->len == 0 && st.st_size > 0)
		TRY(secret_alloc(s, (size_t)st.st_size));
	rc = secret_read_fd(s, fd, max);
	e = errno;
	if (rc == SESCTL_ERR_INPUT)
		rc = err_set(ei, rc, "%s%s'%s' is larger than %zu KiB", w, sp,
			     path, max >> 10);
	else if (rc == SESCTL_ERR_IO)
		rc = err_set(ei, rc, "cannot read %s%s'%s': %s", w, sp, path,
			     strerror(e));
out:
	if (rc == SESCTL_ERR_NOMEM)
		rc = err_set(ei, rc, "out of memory reading %s%s'%s'", w, sp,
			     path);
	if (rc != SESCTL_OK)
		secret_clear(s);
	if (fd >= 0)
		close(fd);
	return rc;
}

void secret_clear(struct secret *s)
{
	if (!s || !s->p)
		return;
	OPENSSL_cleanse(s->p, s->cap + 1);
	s->len = 0;
}

void secret_free(struct secret *s)
{
	if (!s)
		return;
	region_release(s->p, s->cap);
	s->p = NULL;
	s->len = 0;
	s->cap = 0;
}

const char *secret_str(const struct secret *s)
{
	return (s && s->p) ? (const char *)s->p : "";
}

#define SCRUB_BYTES 65536

void secret_scrub_stack(void)
{
	unsigned char buf[SCRUB_BYTES];

	explicit_bzero(buf, sizeof(buf));
	/* Keep the compiler from dropping the frame. */
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* Every vector register is caller-saved in the System V x86-64 ABI, so a
 * called function may destroy them all without telling the compiler: no
 * clobber list is needed (nor could name zmm16-31 without -mavx512f). */
__attribute__((noinline)) void secret_wipe_registers(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		__asm__ __volatile__(
			"vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
			"vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
			"vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
			"vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
			"vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
			"vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
			"vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
			"vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
			"vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
			"vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
			"vpxord %%zmm26, %%zmm26, %%zmm26\n\t"
			"vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
			"vpxord %%zmm28, %%zmm28, %%zmm28\n\t"
			"vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
			"vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
			"vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
			"vpxord %%zmm0, %%zmm0, %%zmm0\n\t" ::: "memory");
	if (__builtin_cpu_supports("avx"))
		__asm__ __volatile__("vzeroall" ::: "memory");
	else
		__asm__ __volatile__(
			"pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\t"
			"pxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
			"pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
			"pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
			"pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\t"
			"pxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
			"pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\t"
			"pxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15"
			::: "memory");
#endif
}

/* ---- wiping allocator for libraries ----------------------------------- */

void *secret_lib_malloc(size_t n)
{
	return malloc(n);
}

void *secret_lib_calloc(size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}

void secret_lib_free(void *p)
{
	if (!p)
		return;
	/* explicit_bzero, not OPENSSL_cleanse: this runs inside OpenSSL's
	 * own free() and must not call back into it. */
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void *secret_lib_realloc(void *p, size_t n)
{
	size_t old;
	void *np;

	if (!p)
		return malloc(n);
	if (n == 0) {
		secret_lib_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	np = malloc(n);
	if (!np)
		return NULL;
	memcpy(np, p, old < n ? old : n);
	secret_lib_free(p);
	return np;
}

char *secret_lib_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}
