/* test_secret.c - the wiping buffer: growth, limits, reading a descriptor,
 * and that every release goes through OPENSSL_cleanse (wrapped here with
 * -Wl,--wrap so the test sees each wipe). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sesctl/base/secret.h"

void __real_OPENSSL_cleanse(void *ptr, size_t len);
void __wrap_OPENSSL_cleanse(void *ptr, size_t len);

/* The last wipes seen: where, how long, and whether the bytes were all
 * zero afterwards (checked before the memory is freed). */
static struct {
	void *ptr;
	size_t len;
	unsigned calls;
} wiped;

void __wrap_OPENSSL_cleanse(void *ptr, size_t len)
{
	__real_OPENSSL_cleanse(ptr, len);
	wiped.ptr = ptr;
	wiped.len = len;
	wiped.calls++;
}

static void test_secret_append_grows_and_terminates(void **state)
{
	struct secret s = SECRET_INIT;
	char chunk[100];
	size_t i;

	(void)state;
	assert_string_equal(secret_str(&s), "");
	memset(chunk, 'k', sizeof(chunk));
	for (i = 0; i < 100; i++)
		assert_int_equal(secret_append(&s, chunk, sizeof(chunk)),
				 SESCTL_OK);
	assert_int_equal(s.len, 10000);
	assert_true(s.cap >= s.len);
	assert_int_equal(s.p[s.len], 0);
	assert_int_equal(strlen(secret_str(&s)), 10000);
	assert_int_equal(secret_set(&s, "abc", 3), SESCTL_OK);
	assert_string_equal(secret_str(&s), "abc");
	secret_free(&s);
	assert_null(s.p);
	assert_int_equal(s.len, 0);
	secret_free(&s); /* idempotent */
	secret_free(NULL);
}

static void test_secret_free_and_clear_wipe(void **state)
{
	struct secret s = SECRET_INIT;
	unsigned char *p;
	size_t cap;

	(void)state;
	assert_int_equal(secret_set(&s, "wJalrXUtnFEMI/K7MDENG", 21), SESCTL_OK);
	p = s.p;
	memset(&wiped, 0, sizeof(wiped));
	secret_clear(&s);
	assert_int_equal(wiped.calls, 1);
	assert_ptr_equal(wiped.ptr, p);
	assert_true(wiped.len >= 21);
	assert_int_equal(s.len, 0);
	assert_int_equal(p[0], 0);
	assert_int_equal(p[20], 0);

	assert_int_equal(secret_set(&s, "again", 5), SESCTL_OK);
	cap = s.cap;
	memset(&wiped, 0, sizeof(wiped));
	secret_free(&s);
	assert_true(wiped.calls >= 1);
	assert_ptr_equal(wiped.ptr, p);
	assert_true(wiped.len >= cap);
}

static void test_secret_growth_wipes_old_buffer(void **state)
{
	struct secret s = SECRET_INIT;
	char big[9000];
	unsigned char *old;

	(void)state;
	assert_int_equal(secret_set(&s, "short", 5), SESCTL_OK);
	old = s.p;
	memset(&wiped, 0, sizeof(wiped));
	memset(big, 'x', sizeof(big));
	assert_int_equal(secret_append(&s, big, sizeof(big)), SESCTL_OK);
	assert_ptr_not_equal(s.p, old);
	assert_true(wiped.calls >= 1);
	assert_ptr_equal(wiped.ptr, old);
	assert_memory_equal(s.p, "shortxxx", 8);
	secret_free(&s);
}

static void test_secret_limits(void **state)
{
	struct secret s = SECRET_INIT;
	unsigned char *big = calloc(1, SECRET_MAX + 1);

	(void)state;
	assert_non_null(big);
	assert_int_equal(secret_alloc(&s, SECRET_MAX + 1), SESCTL_ERR_INPUT);
	assert_int_equal(secret_append(&s, big, SECRET_MAX), SESCTL_OK);
	assert_int_equal(secret_append(&s, big, 1), SESCTL_ERR_INPUT);
	assert_int_equal(s.len, SECRET_MAX);
	secret_free(&s);
	free(big);
}

static void test_secret_read_fd(void **state)
{
	struct secret s = SECRET_INIT;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "secret\n", 7), 7);
	close(fds[1]);
	assert_int_equal(secret_read_fd(&s, fds[0], 64), SESCTL_OK);
	close(fds[0]);
	assert_string_equal(secret_str(&s), "secret\n");

	/* Over the limit: refused and wiped. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	secret_clear(&s);
	assert_int_equal(secret_read_fd(&s, fds[0], 9), SESCTL_ERR_INPUT);
	close(fds[0]);
	assert_int_equal(s.len, 0);

	/* A bad descriptor is an I/O error. */
	assert_int_equal(secret_read_fd(&s, -1, 9), SESCTL_ERR_IO);
	secret_free(&s);
}

/* secret_read_file: regular files only, never blocking on a FIFO. */
static void test_secret_read_file(void **state)
{
	char dir[] = "/tmp/test_secret_XXXXXX", path[128], fifo[128],
	     link[128], want[400];
	struct secret s = SECRET_INIT;
	struct err_info ei = { 0 };
	unsigned mode = 0;
	bool missing = true;
	int fd;

	(void)state;
	alarm(20); /* a hang on the FIFO fails the test */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello\n", 6), 6);
	close(fd);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(path, link), 0);

	assert_int_equal(secret_read_file(&ei, NULL, path, 0, 100, &s,
					  &missing, &mode),
			 SESCTL_OK);
	assert_false(missing);
	assert_string_equal(secret_str(&s), "hello\n");
	assert_true(S_ISREG(mode));
	assert_int_equal(mode & 0777, 0640);
	secret_free(&s);

	/* The FIFO: refused at once, path and kind named. */
	assert_int_equal(secret_read_file(&ei, NULL, fifo, 0, 100, &s, NULL,
					  NULL),
			 SESCTL_ERR_USAGE);
	snprintf(want, sizeof(want), "'%s' is not a regular file (a FIFO); "
		 "give the path of a file", fifo);
	assert_string_equal(ei.msg, want);
	assert_int_equal(s.len, 0);
	/* A directory, with what the file is named as. */
	assert_int_equal(secret_read_file(&ei, "SOME_FILE", dir, 0, 100, &s,
					  NULL, NULL),
			 SESCTL_ERR_USAGE);
	snprintf(want, sizeof(want), "SOME_FILE '%s' is not a regular file "
		 "(a directory); give the path of a file", dir);
	assert_string_equal(ei.msg, want);
	/* /dev/null is the one device read (as empty); /dev/zero is not. */
	assert_int_equal(secret_read_file(&ei, NULL, "/dev/null", 0, 100, &s,
					  NULL, NULL),
			 SESCTL_OK);
	assert_int_equal(s.len, 0);
	assert_int_equal(secret_read_file(&ei, NULL, "/dev/zero", 0, 100, &s,
					  NULL, NULL),
			 SESCTL_ERR_USAGE);
	/* Missing: reported through `missing`, else an error. */
	snprintf(want, sizeof(want), "%s/nope", dir);
	assert_int_equal(secret_read_file(&ei, NULL, want, 0, 100, &s,
					  &missing, NULL),
			 SESCTL_OK);
	assert_true(missing);
	assert_int_equal(secret_read_file(&ei, NULL, want, 0, 100, &s, NULL,
					  NULL),
			 SESCTL_ERR_IO);
	assert_non_null(strstr(ei.msg, strerror(ENOENT)));
	/* Too large, and O_NOFOLLOW passed through. */
	assert_int_equal(secret_read_file(&ei, NULL, path, 0, 5, &s, NULL,
					  NULL),
			 SESCTL_ERR_INPUT);
	assert_int_equal(s.len, 0);
	assert_int_equal(secret_read_file(&ei, NULL, link, 0, 100, &s, NULL,
					  NULL),
			 SESCTL_OK);
	secret_free(&s);
	assert_int_equal(secret_read_file(&ei, NULL, link, O_NOFOLLOW, 100, &s,
					  NULL, NULL),
			 SESCTL_ERR_IO);
	alarm(0);
	secret_free(&s);
	unlink(link);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

static void test_secret_wipe_stack(void **state)
{
	unsigned char k[32];

	(void)state;
	memset(k, 0xaa, sizeof(k));
	memset(&wiped, 0, sizeof(wiped));
	secret_wipe(k, sizeof(k));
	assert_int_equal(wiped.calls, 1);
	assert_int_equal(k[0], 0);
	assert_int_equal(k[31], 0);
	secret_wipe(NULL, 10); /* harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_append_grows_and_terminates),
		cmocka_unit_test(test_secret_free_and_clear_wipe),
		cmocka_unit_test(test_secret_growth_wipes_old_buffer),
		cmocka_unit_test(test_secret_limits),
		cmocka_unit_test(test_secret_read_fd),
		cmocka_unit_test(test_secret_read_file),
		cmocka_unit_test(test_secret_wipe_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
