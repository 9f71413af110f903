/* test_record.c - the delivery record (record.c), the run lock and its
 * journal (runlock.c), and the interrupt flag (interrupt.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sesctl/base/interrupt.h"
#include "sesctl/smtp/record.h"
#include "sesctl/base/runlock.h"

static struct iam_user user_with(struct iam_tag *tags, size_t n)
{
	struct iam_user u;

	memset(&u, 0, sizeof(u));
	u.tags = tags;
	u.tag_count = n;
	return u;
}

static struct iam_access_key_meta key(const char *id, time_t created)
{
	struct iam_access_key_meta k;

	memset(&k, 0, sizeof(k));
	snprintf(k.access_key_id, sizeof(k.access_key_id), "%s", id);
	k.create_date.present = created != 0;
	k.create_date.t = created;
	return k;
}

static void test_record_read_and_roles(void **state)
{
	struct iam_tag tags[4] = { { "SesctlCurrentKey", "AKIACURRENT000000001" },
				   { "SesctlKeptKey", "AKIAKEPT000000000001" },
				   { "SesctlRegions", "eu-west-1  us-east-1" },
				   { "SesctlFormat", "json" } };
	struct iam_user u = user_with(tags, 4);
	struct iam_access_key_meta k;
	struct record r;
	time_t now = 2000000000;

	(void)state;
	record_read(&u, &r);
	assert_true(r.present);
	assert_int_equal(r.n_regions, 2);
	assert_string_equal(r.regions[0], "eu-west-1");
	assert_string_equal(r.regions[1], "us-east-1");
	assert_string_equal(r.format, "json");
	assert_true(record_has_region(&r, "us-east-1"));
	assert_false(record_has_region(&r, "ap-south-1"));
	k = key("AKIACURRENT000000001", now - 100000);
	assert_int_equal(record_role(&r, &k, now), KEY_CURRENT);
	k = key("AKIAKEPT000000000001", now - 100000);
	assert_int_equal(record_role(&r, &k, now), KEY_KEPT);
	/* Unrecorded: in flight during the grace period, then lost. */
	k = key("AKIAOTHER00000000001", now - RECORD_GRACE_SECONDS + 1);
	assert_int_equal(record_role(&r, &k, now), KEY_IN_FLIGHT);
	k = key("AKIAOTHER00000000001", now - RECORD_GRACE_SECONDS);
	assert_int_equal(record_role(&r, &k, now), KEY_LOST);
	/* No date: never deleted on a guess. */
	k = key("AKIAOTHER00000000001", 0);
	assert_int_equal(record_role(&r, &k, now), KEY_IN_FLIGHT);
	/* Lost only beside a recorded key: alone, it may be the app's. */
	{
		struct iam_access_key_meta items[2];
		struct iam_access_key_list keys;

		memset(&keys, 0, sizeof(keys));
		items[0] = key("AKIAOTHER00000000001", now - 100000);
		items[1] = key("AKIACURRENT000000001", now - 100000);
		keys.items = items;
		keys.count = 1;
		assert_false(record_anchored(&r, &keys));
		assert_int_equal(record_role_in(&r, &keys, &items[0], now),
				 KEY_LEGACY);
		keys.count = 2;
		assert_true(record_anchored(&r, &keys));
		assert_int_equal(record_role_in(&r, &keys, &items[0], now),
				 KEY_LOST);
		/* The kept key alone anchors nothing: the current key is
		 * gone, and the unrecorded one may be what the app holds. */
		items[1] = key("AKIAKEPT000000000001", now - 100000);
		assert_false(record_anchored(&r, &keys));
		assert_int_equal(record_role_in(&r, &keys, &items[0], now),
				 KEY_LEGACY);
	}
}

static void test_record_legacy_and_bad_values(void **state)
{
	char long_value[400];
	struct iam_tag tags[2];
	struct iam_user u;
	struct iam_access_key_meta k = key("AKIAOTHER00000000001", 1);
	struct record r;

	(void)state;
	/* Before the record: no SesctlRegions; every key counts as
	 * delivered, whatever its age. */
	snprintf(tags[0].key, sizeof(tags[0].key), "SesctlCurrentKey");
	snprintf(tags[0].value, sizeof(tags[0].value), "AKIACURRENT000000001");
	u = user_with(tags, 1);
	record_read(&u, &r);
	assert_false(r.present);
	assert_string_equal(r.current, "AKIACURRENT000000001");
	assert_int_equal(record_role(&r, &k, 2000000000), KEY_LEGACY);
	/* A value too long for a key id is no key id sesctl wrote. */
	memset(long_value, 'A', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	snprintf(tags[0].value, sizeof(tags[0].value), "%s", long_value);
	snprintf(tags[1].key, sizeof(tags[1].key), "SesctlRegions");
	snprintf(tags[1].value, sizeof(tags[1].value), "%s", "");
	u = user_with(tags, 2);
	record_read(&u, &r);
	assert_true(r.present);
	assert_string_equal(r.current, "");
	assert_int_equal(r.n_regions, 0);
}

/* A store tag longer than sesctl writes is kept cut short and flagged,
 * never read as "no store". */
static void test_record_store_tag_too_long(void **state)
{
	struct iam_tag tags[3];
	struct iam_user u;
	struct record r;
	size_t n = sizeof(tags[0].value) - 1;

	(void)state;
	assert_true(n > RECORD_STORES_MAX);
	snprintf(tags[0].key, sizeof(tags[0].key), "SesctlRegions");
	snprintf(tags[0].value, sizeof(tags[0].value), "eu-west-1");
	snprintf(tags[1].key, sizeof(tags[1].key), "SesctlSecretsManager");
	memset(tags[1].value, 's', n);
	memcpy(tags[1].value, "eu-west-1 ", 10);
	tags[1].value[n] = '\0';
	snprintf(tags[2].key, sizeof(tags[2].key), "SesctlSsmPath");
	snprintf(tags[2].value, sizeof(tags[2].value), "eu-west-1 /app/smtp");
	u = user_with(tags, 3);
	record_read(&u, &r);
	assert_true(r.secrets_cut);
	assert_int_equal(strlen(r.secrets), RECORD_STORES_MAX);
	assert_memory_equal(r.secrets, "eu-west-1 ss", 12);
	assert_false(r.ssm_cut);
	assert_string_equal(r.ssm, "eu-west-1 /app/smtp");
	/* Exactly as long as an IAM tag value may be: read whole. */
	tags[1].value[RECORD_STORES_MAX] = '\0';
	record_read(&u, &r);
	assert_false(r.secrets_cut);
	assert_int_equal(strlen(r.secrets), RECORD_STORES_MAX);
}

static void test_record_tags(void **state)
{
	const char *regions[] = { "eu-west-1", "us-east-1" };
	struct iam_tag_in tags[4];
	char buf[256];
	size_t n;

	(void)state;
	n = record_tags("AKIANEW", NULL, regions, 2, "env", tags, buf,
			sizeof(buf));
	assert_int_equal(n, 4);
	assert_string_equal(tags[0].key, "SesctlCurrentKey");
	assert_string_equal(tags[0].value, "AKIANEW");
	assert_string_equal(tags[1].key, "SesctlKeptKey");
	assert_string_equal(tags[1].value, "");
	assert_string_equal(tags[2].value, "eu-west-1 us-east-1");
	assert_string_equal(tags[3].value, "env");
}

/* ---- the lock and the journal --------------------------------------- */

static char state_dir[PATH_MAX];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(state_dir, sizeof(state_dir), "/tmp/sesctl-test-record-XXXXXX");
	if (!mkdtemp(state_dir))
		return -1;
	return setenv("SESCTL_STATE_DIR", state_dir, 1);
}

static int teardown_dir(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_runlock_journal_round_trip(void **state)
{
	struct ctx ctx;
	struct runlock l;
	struct journal j;

	(void)state;
	ctx_init(&ctx);
	ctx.quiet = true;
	assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:8443/",
					 "sesctl-smtp-app", &l),
			 SESCTL_OK);
	assert_false(l.prev.present);
	memset(&j, 0, sizeof(j));
	snprintf(j.command, sizeof(j.command), "rotate");
	snprintf(j.mode, sizeof(j.mode), "deactivate");
	j.started = 1700000000;
	j.verify = true;
	snprintf(j.output, sizeof(j.output), "/etc/app dir/smtp.env");
	snprintf(j.before[0], sizeof(j.before[0]), "AKIAOLD0000000000001");
	j.n_before = 1;
	snprintf(j.user_id, sizeof(j.user_id), "AIDAUSERAPP0000000001");
	assert_int_equal(runlock_journal_write(&ctx, &l, &j), SESCTL_OK);
	runlock_release(&l);

	/* The next run finds what the dead one was doing. */
	assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:8443/",
					 "sesctl-smtp-app", &l),
			 SESCTL_OK);
	assert_true(l.prev.present);
	assert_string_equal(l.prev.command, "rotate");
	assert_string_equal(l.prev.mode, "deactivate");
	assert_true(l.prev.verify);
	assert_int_equal(l.prev.started, 1700000000);
	assert_string_equal(l.prev.output, "/etc/app dir/smtp.env");
	assert_int_equal(l.prev.n_before, 1);
	assert_string_equal(l.prev.user_id, "AIDAUSERAPP0000000001");
	assert_true(runlock_journal_own(&ctx, &l, "AIDAUSERAPP0000000001"));
	assert_true(journal_made(&l.prev, "AKIANEW0000000000001", 1700000001));
	assert_false(journal_made(&l.prev, "AKIAOLD0000000000001", 1700000001));
	/* Made well before the run started: not that run's. */
	assert_false(journal_made(&l.prev, "AKIANEW0000000000001", 1600000000));
	/* Another user of this name (another account, or made anew): the
	 * journal is forgotten, and makes no key that user's. */
	assert_false(runlock_journal_own(&ctx, &l, "AIDAOTHERACCOUNT00001"));
	assert_false(l.prev.present);
	assert_false(journal_made(&l.prev, "AKIANEW0000000000001", 1700000001));
	/* A journal that names no user makes no key anyone's; an enable's
	 * (it died before CreateUser answered) is still its user's. */
	j.user_id[0] = '\0';
	assert_int_equal(runlock_journal_write(&ctx, &l, &j), SESCTL_OK);
	runlock_release(&l);
	assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:8443/",
					 "sesctl-smtp-app", &l),
			 SESCTL_OK);
	assert_false(journal_made(&l.prev, "AKIANEW0000000000001", 1700000001));
	assert_false(runlock_journal_own(&ctx, &l, "AIDAUSERAPP0000000001"));
	snprintf(j.command, sizeof(j.command), "enable");
	assert_int_equal(runlock_journal_write(&ctx, &l, &j), SESCTL_OK);
	runlock_release(&l);
	assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:8443/",
					 "sesctl-smtp-app", &l),
			 SESCTL_OK);
	assert_true(runlock_journal_own(&ctx, &l, "AIDAUSERAPP0000000001"));
	assert_false(journal_made(&l.prev, "AKIANEW0000000000001", 1700000001));
	assert_int_equal(runlock_journal_clear(&ctx, &l), SESCTL_OK);
	runlock_release(&l);
	assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:8443/",
					 "sesctl-smtp-app", &l),
			 SESCTL_OK);
	assert_false(l.prev.present);
	runlock_release(&l);
}

static void test_runlock_excludes_a_second_run(void **state)
{
	struct ctx ctx;
	struct runlock l;
	char path[PATH_MAX];
	int fd, status;
	pid_t pid;

	(void)state;
	ctx_init(&ctx);
	ctx.quiet = true;
	assert_int_equal(runlock_acquire(&ctx, "https://iam.amazonaws.com",
					 "sesctl-smtp", &l),
			 SESCTL_OK);
	snprintf(path, sizeof(path), "%s", l.path);
	assert_non_null(strstr(path, "lock.iam.amazonaws.com.sesctl-smtp"));
	/* Another process cannot take it while we hold it... */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = open(path, O_RDWR);

		_exit(cfd >= 0 && flock(cfd, LOCK_EX | LOCK_NB) != 0 &&
				      errno == EWOULDBLOCK ?
			      0 :
			      1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	/* ...and can once we are gone. */
	runlock_release(&l);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
}

static void test_runlock_refuses_a_shared_dir(void **state)
{
	struct ctx ctx;
	struct runlock l;

	(void)state;
	ctx_init(&ctx);
	ctx.quiet = true;
	assert_int_equal(chmod(state_dir, 0777), 0);
	assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:1",
					 "sesctl-smtp", &l),
			 SESCTL_ERR_IO);
	assert_non_null(strstr(ctx.err.msg, "others can write it"));
	assert_int_equal(chmod(state_dir, 0700), 0);
	/* A FIFO where the lock should be is no lock. */
	{
		char fifo[PATH_MAX + 64];

		snprintf(fifo, sizeof(fifo), "%s/lock.127.0.0.1_2.sesctl-smtp",
			 state_dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(runlock_acquire(&ctx, "https://127.0.0.1:2",
						 "sesctl-smtp", &l),
				 SESCTL_ERR_IO);
	}
}

static void test_interrupt_held_in_critical_section(void **state)
{
	(void)state;
	assert_int_equal(interrupt_caught(), 0);
	interrupt_arm();
	assert_int_equal(raise(SIGTERM), 0); /* would kill us if not held */
	assert_int_equal(interrupt_caught(), SIGTERM);
	assert_int_equal(raise(SIGINT), 0);
	assert_int_equal(interrupt_caught(), SIGTERM); /* the first counts */
	interrupt_disarm();
	assert_string_equal(interrupt_name(SIGINT), "SIGINT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_read_and_roles),
		cmocka_unit_test(test_record_legacy_and_bad_values),
		cmocka_unit_test(test_record_store_tag_too_long),
		cmocka_unit_test(test_record_tags),
		cmocka_unit_test_setup_teardown(test_runlock_journal_round_trip,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_runlock_excludes_a_second_run, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_runlock_refuses_a_shared_dir, setup_dir,
			teardown_dir),
		cmocka_unit_test(test_interrupt_held_in_critical_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
