/* test_credfile.c - credentials to a new file, an atomically replaced file
 * and standard output: modes, refusals, and what is left behind when a
 * write fails.
 *
 * Every test works in its own mkdtemp() directory and runs with --debug
 * on, standard error captured in a memfd: the teardown checks that neither
 * the error message nor anything printed contains the fake password.
 *
 * Failures are injected two ways, neither needing -Wl,--wrap:
 *  - write(2): a tiny RLIMIT_FSIZE makes the kernel refuse to grow a file
 *    (EFBIG; SIGXFSZ is ignored so the process survives);
 *  - fsync(2) and renameat(2): this file defines both.  The core library
 *    is static, so the linker binds credfile.c's calls to these
 *    definitions instead of libc's; they call the kernel directly unless a
 *    test asked for a failure.
 * The tests may run as root, for whom permission bits do not stop a write:
 * an unwritable directory is /proc/self (procfs creates no files there) and
 * a broken one is a path under a regular file (ENOTDIR).
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sesctl/smtp/credfile.h"
#include "sesctl/base/ctx.h"
#include "sesctl/base/secret.h"

#define FAKE_PASS "FAKE-SMTP-PASS-BJ3x9QzKq7WmVd2"
#define CONTENT                                                              \
	"SMTP_HOST=email-smtp.eu-west-1.amazonaws.com\n"                     \
	"SMTP_PORT=587\n"                                                    \
	"SMTP_USER=AKIAIOSFODNN7EXAMPLE\n"                                   \
	"SMTP_PASS=" FAKE_PASS "\n"
#define OLD_CONTENT "SMTP_PASS=the-old-one\n"
/* Another user and a group for ownership tests (as root). */
#define OTHER_UID 65534
#define TEST_GID 4242

/* --- failure injection ------------------------------------------------ */

static struct {
	int fsync_fail_at; /* fail the n-th fsync from now (1: the next) */
	int fsync_errno;
	int fsync_calls;
	int fsync_last_fd;
	int rename_errno; /* fail every renameat with this, if not 0 */
	int rename_calls;
	int fsync_exit; /* _exit(42) in the next fsync, as if killed */
} inject;

int fsync(int fd)
{
	inject.fsync_calls++;
	inject.fsync_last_fd = fd;
	if (inject.fsync_exit)
		_exit(42);
	if (inject.fsync_fail_at > 0 && --inject.fsync_fail_at == 0) {
		errno = inject.fsync_errno;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd,
	     const char *newpath)
{
	inject.rename_calls++;
	if (inject.rename_errno) {
		errno = inject.rename_errno;
		return -1;
	}
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd,
			    newpath, 0);
}

/* --- fixture ---------------------------------------------------------- */

struct fixture {
	char dir[64];
	struct ctx ctx;
	struct secret content;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&inject, 0, sizeof(inject));
	strcpy(f->dir, "/tmp/sesctl-credfile-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	ctx_init(&f->ctx);
	f->ctx.debug = true;
	f->ctx.err_fd = memfd_create("stderr", MFD_CLOEXEC);
	assert_true(f->ctx.err_fd >= 0);
	assert_int_equal(secret_set(&f->content, CONTENT, strlen(CONTENT)),
			 SESCTL_OK);
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* What the module printed on standard error so far. */
static void stderr_text(const struct fixture *f, char *buf, size_t size)
{
	ssize_t n = pread(f->ctx.err_fd, buf, size - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char buf[16384];

	/* Nothing the module said may carry the password. */
	assert_null(strstr(f->ctx.err.msg, FAKE_PASS));
	stderr_text(f, buf, sizeof(buf));
	assert_null(strstr(buf, FAKE_PASS));
	close(f->ctx.err_fd);

	assert_int_equal(nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS),
			 0);
	secret_free(&f->content);
	free(f);
	return 0;
}

static void path_in(const struct fixture *f, char *out, size_t size,
		    const char *name)
{
	int n = snprintf(out, size, "%s/%s", f->dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void assert_file_is(const char *path, const char *text)
{
	char *got = read_text_file(path, NULL);

	assert_string_equal(got, text);
	free(got);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

/* Entries in the test directory, and how many look like our temp files. */
static size_t count_entries(const struct fixture *f, size_t *temps)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	*temps = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (strstr(e->d_name, ".sesctl-"))
			(*temps)++;
	}
	closedir(d);
	return n;
}

static void assert_entries(const struct fixture *f, size_t want)
{
	size_t temps;

	assert_int_equal(count_entries(f, &temps), want);
	assert_int_equal(temps, 0);
}

static void assert_failed(struct fixture *f, sesctl_err got, sesctl_err want,
			  const char *needle)
{
	assert_int_equal(got, want);
	assert_int_equal(f->ctx.err.code, want);
	if (!strstr(f->ctx.err.msg, needle))
		fail_msg("message '%s' lacks '%s'", f->ctx.err.msg, needle);
}

/* Lower the file size limit to a few bytes around `call` (the soft limit
 * only, so it can go back up without privileges). */
#define WITH_TINY_FSIZE(call)                                                \
	do {                                                                 \
		struct rlimit saved_, tiny_;                                 \
		assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_), 0);       \
		tiny_ = saved_;                                              \
		tiny_.rlim_cur = 8;                                          \
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny_), 0);        \
		call;                                                        \
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved_), 0);       \
	} while (0)

/* --- create ----------------------------------------------------------- */

static void test_credfile_create_mode_and_content(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	mode_t old_umask;
	sesctl_err rc;

	path_in(f, path, sizeof(path), "creds.env");
	old_umask = umask(0); /* main sets 077; the module must not need it */
	rc = credfile_create(&f->ctx, path, &f->content);
	umask(old_umask);
	assert_int_equal(rc, SESCTL_OK);
	assert_int_equal(mode_of(path), S_IFREG | 0600);
	assert_file_is(path, CONTENT);
	assert_entries(f, 1);
}

static void test_credfile_create_never_overwrites(void **state)
{
	struct fixture *f = *state;
	struct secret other = SECRET_INIT;
	char path[PATH_MAX];

	path_in(f, path, sizeof(path), "creds.env");
	assert_int_equal(credfile_create(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_int_equal(secret_set(&other, OLD_CONTENT, strlen(OLD_CONTENT)),
			 SESCTL_OK);
	assert_failed(f, credfile_create(&f->ctx, path, &other),
		      SESCTL_ERR_USAGE, "already exists");
	assert_non_null(strstr(f->ctx.err.msg, path));
	assert_non_null(strstr(f->ctx.err.msg, "sesctl smtp rotate"));
	assert_file_is(path, CONTENT);
	assert_int_equal(mode_of(path), S_IFREG | 0600);
	secret_free(&other);
}

static void test_credfile_create_refuses_symlinks(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX], link[PATH_MAX], missing[PATH_MAX],
		dangling[PATH_MAX];

	path_in(f, target, sizeof(target), "target");
	path_in(f, link, sizeof(link), "link");
	path_in(f, missing, sizeof(missing), "missing");
	path_in(f, dangling, sizeof(dangling), "dangling");
	write_file(target, OLD_CONTENT, 0644);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(symlink(missing, dangling), 0);

	assert_failed(f, credfile_create(&f->ctx, link, &f->content),
		      SESCTL_ERR_USAGE, "already exists");
	assert_file_is(target, OLD_CONTENT);
	assert_int_equal(mode_of(target), S_IFREG | 0644);
	assert_true(S_ISLNK(mode_of(link)));

	/* O_CREAT alone would create the dangling link's target. */
	assert_failed(f, credfile_create(&f->ctx, dangling, &f->content),
		      SESCTL_ERR_USAGE, "already exists");
	assert_false(exists(missing));
	assert_true(S_ISLNK(mode_of(dangling)));
	assert_entries(f, 3);
}

static void test_credfile_create_bad_paths(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], sub[PATH_MAX], file[PATH_MAX];
	char *huge;

	path_in(f, path, sizeof(path), "nope/creds.env");
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_USAGE, "does not exist");
	path_in(f, sub, sizeof(sub), "nope");
	assert_non_null(strstr(f->ctx.err.msg, sub));
	assert_false(exists(sub));

	/* A directory: as the path itself, and named with a slash. */
	path_in(f, sub, sizeof(sub), "sub");
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_failed(f, credfile_create(&f->ctx, sub, &f->content),
		      SESCTL_ERR_USAGE, "already exists");
	path_in(f, path, sizeof(path), "sub/");
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_USAGE, "names a directory");
	path_in(f, path, sizeof(path), "sub/..");
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_USAGE, "names a directory");

	/* Under a regular file: ENOTDIR, whoever we are. */
	path_in(f, file, sizeof(file), "file");
	write_file(file, OLD_CONTENT, 0600);
	path_in(f, path, sizeof(path), "file/creds.env");
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_USAGE, "is not a directory");
	assert_file_is(file, OLD_CONTENT);

	assert_failed(f, credfile_create(&f->ctx, "", &f->content),
		      SESCTL_ERR_USAGE, "empty");
	huge = malloc(PATH_MAX + 16);
	assert_non_null(huge);
	memset(huge, 'a', PATH_MAX + 15);
	huge[PATH_MAX + 15] = '\0';
	assert_failed(f, credfile_create(&f->ctx, huge, &f->content),
		      SESCTL_ERR_USAGE, "too long");
	free(huge);
	assert_entries(f, 2);
}

/* Even root cannot create files in /proc/self (procfs has no such
 * entries); an ordinary user is also stopped by a 0500 directory. */
static void test_credfile_create_unwritable_dir(void **state)
{
	struct fixture *f = *state;
	char ro[PATH_MAX], path[PATH_MAX];

	assert_failed(f, credfile_create(&f->ctx, "/proc/self/creds.env",
					 &f->content),
		      SESCTL_ERR_IO, "cannot create '/proc/self/creds.env'");
	assert_false(exists("/proc/self/creds.env"));

	if (geteuid() == 0)
		return; /* permission bits do not stop root */
	path_in(f, ro, sizeof(ro), "ro");
	assert_int_equal(mkdir(ro, 0500), 0);
	path_in(f, path, sizeof(path), "ro/creds.env");
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "Permission denied");
	assert_int_equal(chmod(ro, 0700), 0);
}

/* --- check_new and check_replace -------------------------------------- */

static void test_credfile_check_new(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], file[PATH_MAX], link[PATH_MAX], sub[PATH_MAX];

	path_in(f, path, sizeof(path), "creds.env");
	assert_int_equal(credfile_check_new(&f->ctx, path), SESCTL_OK);
	assert_false(exists(path)); /* a check creates nothing */

	path_in(f, file, sizeof(file), "file");
	write_file(file, OLD_CONTENT, 0600);
	assert_failed(f, credfile_check_new(&f->ctx, file), SESCTL_ERR_USAGE,
		      "already exists; sesctl does not overwrite credentials");

	path_in(f, link, sizeof(link), "dangling");
	assert_int_equal(symlink(path, link), 0);
	assert_failed(f, credfile_check_new(&f->ctx, link), SESCTL_ERR_USAGE,
		      "already exists");
	assert_false(exists(path));

	path_in(f, link, sizeof(link), "link");
	assert_int_equal(symlink(file, link), 0);
	assert_failed(f, credfile_check_new(&f->ctx, link), SESCTL_ERR_USAGE,
		      "already exists");

	path_in(f, sub, sizeof(sub), "sub");
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_failed(f, credfile_check_new(&f->ctx, sub), SESCTL_ERR_USAGE,
		      "already exists");

	path_in(f, path, sizeof(path), "nope/creds.env");
	assert_failed(f, credfile_check_new(&f->ctx, path), SESCTL_ERR_USAGE,
		      "does not exist");
	path_in(f, path, sizeof(path), "file/creds.env");
	assert_failed(f, credfile_check_new(&f->ctx, path), SESCTL_ERR_USAGE,
		      "is not a directory");
	assert_failed(f, credfile_check_new(&f->ctx, "/proc/self/creds.env"),
		      SESCTL_ERR_IO, "directory '/proc/self' is not writable");
	assert_file_is(file, OLD_CONTENT);
	assert_entries(f, 4);
}

static void test_credfile_check_replace(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], file[PATH_MAX], link[PATH_MAX], fifo[PATH_MAX];

	path_in(f, path, sizeof(path), "creds.env");
	assert_int_equal(credfile_check_replace(&f->ctx, path), SESCTL_OK);
	path_in(f, file, sizeof(file), "file");
	write_file(file, OLD_CONTENT, 0644);
	assert_int_equal(credfile_check_replace(&f->ctx, file), SESCTL_OK);

	path_in(f, link, sizeof(link), "link");
	assert_int_equal(symlink(file, link), 0);
	assert_failed(f, credfile_check_replace(&f->ctx, link),
		      SESCTL_ERR_USAGE,
		      "is a symbolic link; sesctl writes credentials only to "
		      "regular files");
	path_in(f, link, sizeof(link), "dangling");
	assert_int_equal(symlink(path, link), 0);
	assert_failed(f, credfile_check_replace(&f->ctx, link),
		      SESCTL_ERR_USAGE, "is a symbolic link");

	path_in(f, fifo, sizeof(fifo), "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_failed(f, credfile_check_replace(&f->ctx, fifo),
		      SESCTL_ERR_USAGE, "is not a regular file");
	assert_failed(f, credfile_check_replace(&f->ctx, f->dir),
		      SESCTL_ERR_USAGE, "is not a regular file");
	path_in(f, path, sizeof(path), "nope/creds.env");
	assert_failed(f, credfile_check_replace(&f->ctx, path),
		      SESCTL_ERR_USAGE, "does not exist");
	assert_file_is(file, OLD_CONTENT);
	assert_entries(f, 4);
}

/* --- replace ---------------------------------------------------------- */

static void test_credfile_replace_atomically(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct stat before, after;
	int fd;

	path_in(f, path, sizeof(path), "creds.env");
	write_file(path, OLD_CONTENT, 0644);
	assert_int_equal(stat(path, &before), 0);
	/* A reader holding the old file keeps seeing all of it. */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);

	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_file_is(path, CONTENT);
	assert_int_equal(mode_of(path), S_IFREG | 0640); /* no o+r */
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_ino != before.st_ino); /* renamed, not rewritten */
	assert_int_equal(inject.rename_calls, 1);
	assert_int_equal(inject.fsync_calls, 2); /* the file, the directory */
	{
		char buf[64] = "";

		assert_int_equal(read(fd, buf, sizeof(buf) - 1),
				 (ssize_t)strlen(OLD_CONTENT));
		assert_string_equal(buf, OLD_CONTENT);
	}
	close(fd);
	assert_entries(f, 1);
}

static void test_credfile_replace_creates_missing(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	mode_t old_umask;
	sesctl_err rc;

	path_in(f, path, sizeof(path), "creds.env");
	old_umask = umask(0);
	rc = credfile_replace(&f->ctx, path, &f->content);
	umask(old_umask);
	assert_int_equal(rc, SESCTL_OK);
	assert_file_is(path, CONTENT);
	assert_int_equal(mode_of(path), S_IFREG | 0600);
	assert_int_equal(inject.rename_calls, 1); /* through a temp file too */
	assert_entries(f, 1);
}

static void test_credfile_replace_refuses_symlinks(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX], link[PATH_MAX], missing[PATH_MAX];

	path_in(f, target, sizeof(target), "target");
	path_in(f, link, sizeof(link), "link");
	write_file(target, OLD_CONTENT, 0644);
	assert_int_equal(symlink(target, link), 0);
	assert_failed(f, credfile_replace(&f->ctx, link, &f->content),
		      SESCTL_ERR_USAGE, "is a symbolic link");
	assert_file_is(target, OLD_CONTENT);
	assert_int_equal(mode_of(target), S_IFREG | 0644);
	assert_true(S_ISLNK(mode_of(link)));

	path_in(f, missing, sizeof(missing), "missing");
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(missing, link), 0);
	assert_failed(f, credfile_replace(&f->ctx, link, &f->content),
		      SESCTL_ERR_USAGE, "is a symbolic link");
	assert_false(exists(missing));
	assert_true(S_ISLNK(mode_of(link)));

	assert_failed(f, credfile_replace(&f->ctx, f->dir, &f->content),
		      SESCTL_ERR_USAGE, "is not a regular file");
	assert_int_equal(inject.rename_calls, 0);
	assert_entries(f, 2);
}

/* An application user reading its .env through its group must still be
 * able to after a rotation run as root: owner, group and mode are kept,
 * and nothing is said about it. */
static void test_credfile_replace_keeps_owner_group_mode(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], err[4096];
	struct stat st;

	if (geteuid() != 0)
		skip();
	path_in(f, path, sizeof(path), "creds.env");
	write_file(path, OLD_CONTENT, 0640);
	assert_int_equal(chown(path, OTHER_UID, TEST_GID), 0);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, OTHER_UID);
	assert_int_equal(st.st_gid, TEST_GID);
	assert_int_equal(st.st_mode, S_IFREG | 0640);
	assert_file_is(path, CONTENT);
	stderr_text(f, err, sizeof(err));
	assert_null(strstr(err, "warning"));

	/* 0440 and 0400 too: the mode is the old one, not a fixed one. */
	assert_int_equal(chmod(path, 0440), 0);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_int_equal(mode_of(path), S_IFREG | 0440);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_int_equal(mode_of(path), S_IFREG | 0400);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, OTHER_UID);
	assert_int_equal(st.st_gid, TEST_GID);
	assert_entries(f, 1);
}

/* Permissions for other users, setuid, setgid and sticky never survive,
 * and the warning names the path and the new mode. */
static void test_credfile_replace_drops_other_bits(void **state)
{
	static const struct {
		mode_t old, want;
	} cases[] = {
		{ 0644, 0640 }, { 0666, 0660 }, { 0604, 0600 },
		{ 0607, 0600 }, { 04750, 0750 }, { 02640, 0640 },
		{ 01600, 0600 }, { 06777, 0770 },
	};
	struct fixture *f = *state;
	char path[PATH_MAX], err[16384], want[64];
	size_t i;

	path_in(f, path, sizeof(path), "creds.env");
	write_file(path, OLD_CONTENT, 0600);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(chmod(path, cases[i].old), 0);
		assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
				 SESCTL_OK);
		assert_int_equal(mode_of(path), S_IFREG | cases[i].want);
		assert_file_is(path, CONTENT);
		stderr_text(f, err, sizeof(err));
		snprintf(want, sizeof(want), "was mode %04o; the new file is "
					     "mode %04o",
			 (unsigned)cases[i].old, (unsigned)cases[i].want);
		if (!strstr(err, want) || !strstr(err, path))
			fail_msg("no warning '%s' for '%s' in: %s", want, path,
				 err);
	}
	assert_entries(f, 1);
}

/* Not root: the file cannot be given away.  It stays ours (today's
 * behaviour) with a warning, and group permissions go with the group. */
static void test_credfile_replace_cannot_chown(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], err[4096];
	struct stat st;
	sesctl_err rc;

	if (geteuid() != 0)
		skip(); /* needs a second identity to act as */
	path_in(f, path, sizeof(path), "creds.env");
	write_file(path, OLD_CONTENT, 0640); /* root:root */
	assert_int_equal(chown(f->dir, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(setegid(OTHER_UID), 0);
	assert_int_equal(seteuid(OTHER_UID), 0);
	rc = credfile_replace(&f->ctx, path, &f->content);
	assert_int_equal(seteuid(0), 0);
	assert_int_equal(setegid(0), 0);
	assert_int_equal(rc, SESCTL_OK);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, OTHER_UID);
	assert_int_equal(st.st_gid, OTHER_UID);
	assert_int_equal(st.st_mode, S_IFREG | 0600);
	assert_file_is(path, CONTENT);
	stderr_text(f, err, sizeof(err));
	assert_non_null(strstr(err, "was owned by uid 0, gid 0"));
	assert_non_null(strstr(err, "chown it"));
}

/* rename() replaces one name; other links keep the old secret: warn. */
static void test_credfile_replace_warns_hard_links(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], other[PATH_MAX], err[4096];

	path_in(f, path, sizeof(path), "creds.env");
	path_in(f, other, sizeof(other), "other");
	write_file(path, OLD_CONTENT, 0600);
	assert_int_equal(link(path, other), 0);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	stderr_text(f, err, sizeof(err));
	assert_non_null(strstr(err, "other hard links"));
	assert_file_is(path, CONTENT);
	assert_file_is(other, OLD_CONTENT);
}

static void test_credfile_replace_long_name(void **state)
{
	struct fixture *f = *state;
	char name[NAME_MAX + 1], path[PATH_MAX];

	/* The temp name (".<name>.sesctl-XXXXXX") must still fit NAME_MAX. */
	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	path_in(f, path, sizeof(path), name);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_file_is(path, CONTENT);
	assert_entries(f, 1);
}

/* --- StrictModes ------------------------------------------------------ */

static void make_dir(const char *path, mode_t mode, uid_t uid)
{
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0); /* whatever the umask */
	if (uid != geteuid())
		assert_int_equal(chown(path, uid, (gid_t)-1), 0);
}

/* All four entry points refuse `path`, with `needle` in the message, and
 * nothing is created. */
static void assert_all_refuse(struct fixture *f, const char *path,
			      const char *needle)
{
	bool existed = exists(path);

	inject.rename_calls = 0;
	assert_failed(f, credfile_check_replace(&f->ctx, path),
		      SESCTL_ERR_USAGE, needle);
	assert_failed(f, credfile_replace(&f->ctx, path, &f->content),
		      SESCTL_ERR_USAGE, needle);
	if (!existed) {
		assert_failed(f, credfile_check_new(&f->ctx, path),
			      SESCTL_ERR_USAGE, needle);
		assert_failed(f, credfile_create(&f->ctx, path, &f->content),
			      SESCTL_ERR_USAGE, needle);
		assert_false(exists(path));
	}
	assert_non_null(strstr(f->ctx.err.msg, "mkdir -m 700"));
	assert_int_equal(inject.rename_calls, 0);
}

static void assert_all_accept(struct fixture *f, const char *path)
{
	assert_int_equal(credfile_check_new(&f->ctx, path), SESCTL_OK);
	assert_int_equal(credfile_create(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_int_equal(credfile_check_replace(&f->ctx, path), SESCTL_OK);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_file_is(path, CONTENT);
}

static void test_credfile_strict_group_writable_dir(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], path[PATH_MAX], want[2 * PATH_MAX + 256];

	path_in(f, dir, sizeof(dir), "gw");
	make_dir(dir, 0770, geteuid());
	path_in(f, path, sizeof(path), "gw/app.env");
	snprintf(want, sizeof(want),
		 "'%s': its directory '%s' can be written by other users "
		 "(mode 0770), who could plant or swap the file; choose a "
		 "directory only you (and root) can write",
		 path, dir);
	assert_all_refuse(f, path, want);
	/* Existing file, and sticky or world-writable: the same. */
	write_file(path, OLD_CONTENT, 0600);
	assert_all_refuse(f, path, "can be written by other users");
	assert_file_is(path, OLD_CONTENT);
	assert_int_equal(chmod(dir, 01770), 0);
	assert_all_refuse(f, path, "(mode 1770)");
	assert_int_equal(chmod(dir, 0702), 0);
	assert_all_refuse(f, path, "(mode 0702)");
	assert_file_is(path, OLD_CONTENT);
	assert_int_equal(mode_of(path), S_IFREG | 0600);
}

/* /tmp itself is the classic case; only the checks, nothing is written. */
static void test_credfile_strict_sticky_dir(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;

	path_in(f, dir, sizeof(dir), "shared");
	make_dir(dir, 01777, geteuid());
	path_in(f, path, sizeof(path), "shared/app.env");
	assert_all_refuse(f, path, "its directory");
	assert_non_null(strstr(f->ctx.err.msg, "(mode 1777)"));

	if (stat("/tmp", &st) != 0 || (st.st_mode & 01002) != 01002)
		return;
	assert_failed(f, credfile_check_new(&f->ctx, "/tmp/sesctl-nope.env"),
		      SESCTL_ERR_USAGE,
		      "'/tmp/sesctl-nope.env': its directory '/tmp' can be "
		      "written by other users");
	assert_failed(f, credfile_check_replace(&f->ctx,
						"/tmp/sesctl-nope.env"),
		      SESCTL_ERR_USAGE, "its directory '/tmp'");
	assert_false(exists("/tmp/sesctl-nope.env"));
}

/* The fixture's own directory is a mkdtemp() 0700 directory of ours in
 * sticky /tmp: accepted, as are deeper ones. */
static void test_credfile_strict_private_dir_under_sticky(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], path[PATH_MAX];

	path_in(f, path, sizeof(path), "app.env");
	assert_all_accept(f, path);
	path_in(f, dir, sizeof(dir), "shared");
	make_dir(dir, 01777, geteuid());
	path_in(f, dir, sizeof(dir), "shared/mine");
	make_dir(dir, 0700, geteuid());
	path_in(f, path, sizeof(path), "shared/mine/app.env");
	assert_all_accept(f, path);
	/* 0755 is as good as 0700: others may read, not write. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
}

/* Above the directory: sticky is not enough when the entry below belongs
 * to someone else, and a non-sticky writable directory never is. */
static void test_credfile_strict_unsafe_ancestors(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], path[PATH_MAX], want[2 * PATH_MAX + 256];

	if (geteuid() != 0)
		skip(); /* chown to another user */
	path_in(f, dir, sizeof(dir), "shared");
	make_dir(dir, 01777, geteuid());
	path_in(f, dir, sizeof(dir), "shared/theirs");
	make_dir(dir, 0755, OTHER_UID);
	path_in(f, path, sizeof(path), "shared/theirs/app.env");
	path_in(f, want, sizeof(want), "shared");
	assert_all_refuse(f, path, "directory '");
	assert_non_null(strstr(f->ctx.err.msg, want));
	assert_non_null(strstr(f->ctx.err.msg, "above it"));
	snprintf(want, sizeof(want), "it is sticky, but '%s' belongs to uid %d",
		 dir, OTHER_UID);
	assert_non_null(strstr(f->ctx.err.msg, want));
	/* Root's entry is fine. */
	assert_int_equal(chown(dir, 0, 0), 0);
	assert_all_accept(f, path);

	path_in(f, dir, sizeof(dir), "open");
	make_dir(dir, 0777, geteuid());
	path_in(f, dir, sizeof(dir), "open/mine");
	make_dir(dir, 0700, geteuid());
	path_in(f, path, sizeof(path), "open/mine/app.env");
	path_in(f, dir, sizeof(dir), "open");
	snprintf(want, sizeof(want), "directory '%s' above it can be written "
				     "by other users (mode 0777)",
		 dir);
	assert_all_refuse(f, path, want);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_all_refuse(f, path, "(mode 0775)");
}

/* Rotate into a sticky shared directory where another user planted the
 * file: refused, and the planted file is not touched. */
static void test_credfile_strict_planted_file(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat before, after;

	if (geteuid() != 0)
		skip();
	path_in(f, dir, sizeof(dir), "shared");
	make_dir(dir, 01777, geteuid());
	path_in(f, path, sizeof(path), "shared/app.env");
	write_file(path, OLD_CONTENT, 0644);
	assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(lstat(path, &before), 0);
	assert_failed(f, credfile_check_replace(&f->ctx, path),
		      SESCTL_ERR_USAGE, "who could plant or swap the file");
	assert_failed(f, credfile_replace(&f->ctx, path, &f->content),
		      SESCTL_ERR_USAGE, "who could plant or swap the file");
	assert_int_equal(lstat(path, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_uid, OTHER_UID);
	assert_int_equal(after.st_mode, S_IFREG | 0644);
	assert_int_equal(after.st_mtime, before.st_mtime);
	assert_file_is(path, OLD_CONTENT);
	assert_int_equal(inject.rename_calls, 0);
	assert_int_equal(inject.fsync_calls, 0);
}

/* The directory is judged after realpath(): a symbolic link to a safe
 * directory is fine, one to a shared directory is not. */
static void test_credfile_strict_resolves_links(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], link[PATH_MAX], path[PATH_MAX];

	path_in(f, dir, sizeof(dir), "real");
	make_dir(dir, 0700, geteuid());
	path_in(f, link, sizeof(link), "via");
	assert_int_equal(symlink(dir, link), 0);
	path_in(f, path, sizeof(path), "via/app.env");
	assert_all_accept(f, path);

	path_in(f, dir, sizeof(dir), "shared");
	make_dir(dir, 01777, geteuid());
	path_in(f, link, sizeof(link), "safe-looking");
	assert_int_equal(symlink(dir, link), 0);
	path_in(f, path, sizeof(path), "safe-looking/app.env");
	assert_all_refuse(f, path, dir);
}

/* --- stale temporary files -------------------------------------------- */

static void test_credfile_stale_temps_removed(void **state)
{
	static const char *const left[] = {
		".app.env.sesctl-AbC12",   /* too short */
		".app.env.sesctl-AbC1234", /* too long */
		".app.env.sesctl-AbC12_",  /* not mkstemp's alphabet */
		".app.env.sesctl-AbC12.",
		".other.env.sesctl-AbC123", /* another file's */
		"app.env.sesctl-AbC123",
		".app.env.sesctl-",
	};
	struct fixture *f = *state;
	char path[PATH_MAX], p[PATH_MAX], err[16384];
	size_t i, temps;

	path_in(f, path, sizeof(path), "app.env");
	write_file(path, OLD_CONTENT, 0600);
	path_in(f, p, sizeof(p), ".app.env.sesctl-AbC123");
	write_file(p, CONTENT, 0600);
	path_in(f, p, sizeof(p), ".app.env.sesctl-zz9ZZ0");
	write_file(p, "", 0600);
	for (i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		path_in(f, p, sizeof(p), left[i]);
		write_file(p, OLD_CONTENT, 0600);
	}
	assert_int_equal(credfile_remove_stale(&f->ctx, path), SESCTL_OK);
	stderr_text(f, err, sizeof(err));
	assert_non_null(strstr(err, "removed '.app.env.sesctl-AbC123' in '"));
	assert_non_null(strstr(err, "removed '.app.env.sesctl-zz9ZZ0' in '"));
	assert_non_null(strstr(err, "interrupted run"));
	path_in(f, p, sizeof(p), ".app.env.sesctl-AbC123");
	assert_false(exists(p));
	path_in(f, p, sizeof(p), ".app.env.sesctl-zz9ZZ0");
	assert_false(exists(p));
	for (i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		path_in(f, p, sizeof(p), left[i]);
		assert_true(exists(p));
	}
	assert_file_is(path, OLD_CONTENT); /* not the target itself */
	assert_int_equal(count_entries(f, &temps),
			 1 + sizeof(left) / sizeof(left[0]));
	/* Nothing to do is not an error, a missing target neither. */
	assert_int_equal(credfile_remove_stale(&f->ctx, path), SESCTL_OK);
	path_in(f, p, sizeof(p), "missing.env");
	assert_int_equal(credfile_remove_stale(&f->ctx, p), SESCTL_OK);
	path_in(f, p, sizeof(p), "nope/app.env");
	assert_failed(f, credfile_remove_stale(&f->ctx, p), SESCTL_ERR_USAGE,
		      "does not exist");
}

/* Someone else's file, a symbolic link and a directory with a matching
 * name are not ours to remove. */
static void test_credfile_stale_temps_not_ours(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], theirs[PATH_MAX], link[PATH_MAX],
		target[PATH_MAX], dir[PATH_MAX], err[8192];

	path_in(f, path, sizeof(path), "app.env");
	path_in(f, theirs, sizeof(theirs), ".app.env.sesctl-Their5");
	path_in(f, link, sizeof(link), ".app.env.sesctl-Link00");
	path_in(f, target, sizeof(target), "target");
	path_in(f, dir, sizeof(dir), ".app.env.sesctl-Dir000");
	write_file(target, OLD_CONTENT, 0600);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(theirs, OLD_CONTENT, 0600);
	if (geteuid() == 0)
		assert_int_equal(chown(theirs, OTHER_UID, OTHER_UID), 0);
	else
		assert_int_equal(unlink(theirs), 0);

	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	if (geteuid() == 0)
		assert_file_is(theirs, OLD_CONTENT);
	assert_true(S_ISLNK(mode_of(link)));
	assert_true(S_ISDIR(mode_of(dir)));
	assert_file_is(target, OLD_CONTENT);
	assert_file_is(path, CONTENT);
	stderr_text(f, err, sizeof(err));
	assert_null(strstr(err, "removed '.app.env.sesctl-"));
}

/* What the issue saw: rotate dies inside the write and leaves its temp
 * file (0600, holding the new secret); the next run removes it. */
static void test_credfile_stale_temp_after_crash(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], err[8192];
	size_t temps;
	pid_t pid;
	int status;

	path_in(f, path, sizeof(path), "app.env");
	write_file(path, OLD_CONTENT, 0600);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		inject.fsync_exit = 1; /* die at the temp file's fsync */
		(void)!credfile_replace(&f->ctx, path, &f->content);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	assert_int_equal(count_entries(f, &temps), 2);
	assert_int_equal(temps, 1);
	assert_file_is(path, OLD_CONTENT);

	/* The rerun (create or replace) cleans up before it writes. */
	assert_int_equal(credfile_replace(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_file_is(path, CONTENT);
	assert_entries(f, 1);
	stderr_text(f, err, sizeof(err));
	assert_non_null(strstr(err, "removed '.app.env.sesctl-"));

	assert_int_equal(unlink(path), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		inject.fsync_exit = 1;
		(void)!credfile_replace(&f->ctx, path, &f->content);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 42);
	assert_int_equal(count_entries(f, &temps), 1);
	assert_int_equal(temps, 1);
	assert_int_equal(credfile_create(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_entries(f, 1);
}

/* --- reading back ----------------------------------------------------- */

#define READ_MAX 4096

static void test_credfile_read(void **state)
{
	struct fixture *f = *state;
	struct secret got = SECRET_INIT;
	char path[PATH_MAX];

	path_in(f, path, sizeof(path), "app.env");
	write_file(path, CONTENT, 0640);
	assert_int_equal(credfile_read(&f->ctx, path, READ_MAX, &got),
			 SESCTL_OK);
	assert_int_equal(got.len, strlen(CONTENT));
	assert_memory_equal(got.p, CONTENT, got.len);
	/* It replaces what `out` held. */
	assert_int_equal(credfile_read(&f->ctx, path, READ_MAX, &got),
			 SESCTL_OK);
	assert_int_equal(got.len, strlen(CONTENT));
	/* Exactly the maximum is fine; empty too. */
	assert_int_equal(credfile_read(&f->ctx, path, strlen(CONTENT), &got),
			 SESCTL_OK);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(credfile_read(&f->ctx, path, READ_MAX, &got),
			 SESCTL_OK);
	assert_int_equal(got.len, 0);
	secret_free(&got);
}

static void test_credfile_read_refusals(void **state)
{
	struct fixture *f = *state;
	struct secret got = SECRET_INIT;
	char path[PATH_MAX], fifo[PATH_MAX], link[PATH_MAX];

	path_in(f, path, sizeof(path), "missing.env");
	assert_failed(f, credfile_read(&f->ctx, path, READ_MAX, &got),
		      SESCTL_ERR_NOT_FOUND, "does not exist");
	assert_non_null(strstr(f->ctx.err.msg, path));

	/* Too big: nothing is kept. */
	path_in(f, path, sizeof(path), "app.env");
	write_file(path, CONTENT, 0600);
	assert_int_equal(secret_set(&got, "x", 1), SESCTL_OK);
	assert_failed(f, credfile_read(&f->ctx, path, 10, &got),
		      SESCTL_ERR_INPUT, "over the 10");
	assert_int_equal(got.len, 0);

	/* A FIFO with no writer must not hang: alarm() kills a hang. */
	path_in(f, fifo, sizeof(fifo), "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_failed(f, credfile_read(&f->ctx, fifo, READ_MAX, &got),
		      SESCTL_ERR_USAGE, "is not a regular file");
	alarm(0);

	path_in(f, link, sizeof(link), "link");
	assert_int_equal(symlink(path, link), 0);
	assert_failed(f, credfile_read(&f->ctx, link, READ_MAX, &got),
		      SESCTL_ERR_USAGE, "is a symbolic link");
	assert_failed(f, credfile_read(&f->ctx, f->dir, READ_MAX, &got),
		      SESCTL_ERR_USAGE, "is not a regular file");
	assert_failed(f, credfile_read(&f->ctx, "/dev/null", READ_MAX, &got),
		      SESCTL_ERR_USAGE, "is not a regular file");
	assert_failed(f, credfile_read(&f->ctx, "", READ_MAX, &got),
		      SESCTL_ERR_USAGE, "empty");
	path_in(f, path, sizeof(path), "app.env/x");
	assert_failed(f, credfile_read(&f->ctx, path, READ_MAX, &got),
		      SESCTL_ERR_IO, "cannot open");
	assert_int_equal(got.len, 0);
	secret_free(&got);
}

/* --- failures while writing ------------------------------------------- */

static void test_credfile_create_write_fails(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	sesctl_err rc;

	path_in(f, path, sizeof(path), "creds.env");
	signal(SIGXFSZ, SIG_IGN);
	WITH_TINY_FSIZE(rc = credfile_create(&f->ctx, path, &f->content));
	assert_failed(f, rc, SESCTL_ERR_IO, "cannot write '");
	assert_non_null(strstr(f->ctx.err.msg, path));
	assert_non_null(strstr(f->ctx.err.msg, strerror(EFBIG)));
	assert_false(exists(path)); /* the partial file is gone */
	assert_entries(f, 0);
}

static void test_credfile_replace_write_fails(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	sesctl_err rc;

	path_in(f, path, sizeof(path), "creds.env");
	write_file(path, OLD_CONTENT, 0600);
	signal(SIGXFSZ, SIG_IGN);
	WITH_TINY_FSIZE(rc = credfile_replace(&f->ctx, path, &f->content));
	assert_failed(f, rc, SESCTL_ERR_IO, "cannot write '");
	assert_file_is(path, OLD_CONTENT);
	assert_int_equal(inject.rename_calls, 0);
	assert_entries(f, 1); /* and no temp file */
}

static void test_credfile_create_fsync_fails(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	path_in(f, path, sizeof(path), "creds.env");
	inject.fsync_fail_at = 1; /* the file */
	inject.fsync_errno = ENOSPC;
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "the disk is full");
	assert_non_null(strstr(f->ctx.err.msg, path));
	assert_false(exists(path));

	inject.fsync_fail_at = 1;
	inject.fsync_errno = EDQUOT;
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "the disk is full");
	assert_false(exists(path));

	inject.fsync_fail_at = 2; /* the directory */
	inject.fsync_errno = EIO;
	assert_failed(f, credfile_create(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "cannot flush directory");
	assert_non_null(strstr(f->ctx.err.msg, strerror(EIO)));
	assert_false(exists(path));

	/* A file system that cannot sync directories is not a failure. */
	inject.fsync_fail_at = 2;
	inject.fsync_errno = EINVAL;
	assert_int_equal(credfile_create(&f->ctx, path, &f->content),
			 SESCTL_OK);
	assert_file_is(path, CONTENT);
	assert_entries(f, 1);
}

static void test_credfile_replace_fsync_and_rename_fail(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	path_in(f, path, sizeof(path), "creds.env");
	write_file(path, OLD_CONTENT, 0600);

	inject.fsync_fail_at = 1; /* the temp file */
	inject.fsync_errno = ENOSPC;
	assert_failed(f, credfile_replace(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "the disk is full");
	assert_int_equal(inject.rename_calls, 0);
	assert_file_is(path, OLD_CONTENT);
	assert_entries(f, 1);

	inject.rename_errno = EIO;
	assert_failed(f, credfile_replace(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "cannot replace '");
	assert_file_is(path, OLD_CONTENT);
	assert_entries(f, 1);
	inject.rename_errno = 0;

	/* After the rename only the directory sync can fail: the new
	 * content is in place and the message says so. */
	inject.fsync_fail_at = 2;
	inject.fsync_errno = EIO;
	assert_failed(f, credfile_replace(&f->ctx, path, &f->content),
		      SESCTL_ERR_IO, "holds the new credentials");
	assert_file_is(path, CONTENT);
	assert_entries(f, 1);
}

/* --- standard output -------------------------------------------------- */

static void test_credfile_stdout_pipe(void **state)
{
	struct fixture *f = *state;
	char buf[512] = "";
	int p[2];

	assert_int_equal(pipe(p), 0);
	f->ctx.out_fd = p[1];
	assert_int_equal(credfile_write_stdout(&f->ctx, &f->content),
			 SESCTL_OK);
	close(p[1]);
	assert_int_equal(read(p[0], buf, sizeof(buf) - 1),
			 (ssize_t)strlen(CONTENT));
	assert_string_equal(buf, CONTENT);
	assert_int_equal(inject.fsync_calls, 0); /* nothing to flush */
	close(p[0]);
}

static void test_credfile_stdout_regular_file(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	int fd;

	path_in(f, path, sizeof(path), "stdout");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	f->ctx.out_fd = fd;
	assert_int_equal(credfile_write_stdout(&f->ctx, &f->content),
			 SESCTL_OK);
	assert_int_equal(inject.fsync_calls, 1);
	assert_int_equal(inject.fsync_last_fd, fd);
	assert_file_is(path, CONTENT);

	inject.fsync_fail_at = 1;
	inject.fsync_errno = ENOSPC;
	assert_failed(f, credfile_write_stdout(&f->ctx, &f->content),
		      SESCTL_ERR_IO, "cannot flush standard output");
	assert_non_null(strstr(f->ctx.err.msg, "the disk is full"));
	close(fd);
}

static void test_credfile_stdout_full_disk(void **state)
{
	struct fixture *f = *state;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		skip();
	f->ctx.out_fd = fd;
	assert_failed(f, credfile_write_stdout(&f->ctx, &f->content),
		      SESCTL_ERR_IO, "standard output");
	assert_non_null(strstr(f->ctx.err.msg, strerror(ENOSPC)));
	close(fd);
}

static void test_credfile_stdout_closed_pipe(void **state)
{
	struct fixture *f = *state;
	void (*saved)(int) = signal(SIGPIPE, SIG_IGN);
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	f->ctx.out_fd = p[1];
	assert_failed(f, credfile_write_stdout(&f->ctx, &f->content),
		      SESCTL_ERR_IO, "standard output");
	assert_non_null(strstr(f->ctx.err.msg, strerror(EPIPE)));
	close(p[1]);
	signal(SIGPIPE, saved);
}

/* credfile_check_stdout: before IAM changes, a stdout that cannot take
 * the settings is refused. */
static void test_credfile_check_stdout(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	int p[2], fd;

	/* A pipe and a file opened for writing are fine. */
	assert_int_equal(pipe(p), 0);
	f->ctx.out_fd = p[1];
	assert_int_equal(credfile_check_stdout(&f->ctx), SESCTL_OK);

	/* Read-only: the pipe's read end, and a file opened O_RDONLY. */
	f->ctx.out_fd = p[0];
	assert_failed(f, credfile_check_stdout(&f->ctx), SESCTL_ERR_IO,
		      "only for reading");
	assert_non_null(strstr(f->ctx.err.msg, "--output-file"));
	path_in(f, path, sizeof(path), "ro");
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	f->ctx.out_fd = fd;
	assert_failed(f, credfile_check_stdout(&f->ctx), SESCTL_ERR_IO,
		      "only for reading");
	close(fd);

	/* A descriptor that is not open at all. */
	close(p[0]);
	f->ctx.out_fd = p[0];
	assert_failed(f, credfile_check_stdout(&f->ctx), SESCTL_ERR_IO,
		      "cannot use standard output");
	assert_non_null(strstr(f->ctx.err.msg, strerror(EBADF)));
	close(p[1]);

	/* fd 1 was closed at start (main pointed it at /dev/null): refused
	 * although /dev/null itself would take the write. */
	f->ctx.out_fd = STDOUT_FILENO;
	f->ctx.stdout_was_closed = true;
	assert_failed(f, credfile_check_stdout(&f->ctx), SESCTL_ERR_IO,
		      "standard output is closed");
	assert_non_null(strstr(f->ctx.err.msg, "--output-file FILE"));
	/* And the write path refuses it too, writing nothing. */
	assert_failed(f, credfile_write_stdout(&f->ctx, &f->content),
		      SESCTL_ERR_IO, "standard output is closed");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_credfile_create_mode_and_content),
		T(test_credfile_create_never_overwrites),
		T(test_credfile_create_refuses_symlinks),
		T(test_credfile_create_bad_paths),
		T(test_credfile_create_unwritable_dir),
		T(test_credfile_check_new),
		T(test_credfile_check_replace),
		T(test_credfile_replace_atomically),
		T(test_credfile_replace_creates_missing),
		T(test_credfile_replace_refuses_symlinks),
		T(test_credfile_replace_keeps_owner_group_mode),
		T(test_credfile_replace_drops_other_bits),
		T(test_credfile_replace_cannot_chown),
		T(test_credfile_replace_warns_hard_links),
		T(test_credfile_replace_long_name),
		T(test_credfile_strict_group_writable_dir),
		T(test_credfile_strict_sticky_dir),
		T(test_credfile_strict_private_dir_under_sticky),
		T(test_credfile_strict_unsafe_ancestors),
		T(test_credfile_strict_planted_file),
		T(test_credfile_strict_resolves_links),
		T(test_credfile_stale_temps_removed),
		T(test_credfile_stale_temps_not_ours),
		T(test_credfile_stale_temp_after_crash),
		T(test_credfile_read),
		T(test_credfile_read_refusals),
		T(test_credfile_create_write_fails),
		T(test_credfile_replace_write_fails),
		T(test_credfile_create_fsync_fails),
		T(test_credfile_replace_fsync_and_rename_fail),
		T(test_credfile_stdout_pipe),
		T(test_credfile_stdout_regular_file),
		T(test_credfile_stdout_full_disk),
		T(test_credfile_stdout_closed_pipe),
		T(test_credfile_check_stdout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
