"""A review of `smtp enable`'s PutUserPolicy and CreateAccessKey at once
(commit c1f1994), attacked: faults on both calls together, denials,
signals while both are held, stores and stdout, AWS_MAX_ATTEMPTS=1, and a
second enable on another machine.

What is checked is IAM's state in the stand-in (keys, policy, record), the
output file and stores, and what the rerun or the printed advice leads to:
  - nothing is delivered (file, stdout, Secrets Manager, SSM, deploy hook)
    unless sesctl's policy is written;
  - no key is left whose secret nobody holds, or it is named with the
    command that deletes it, and a plain rerun deletes it;
  - a lost answer is resolved by reading state back, within
    AWS_MAX_ATTEMPTS sends;
  - the app's delivered key is never deleted.
Tests marked @unittest.expectedFailure show a bug (see the comment on
each); they fail on purpose until it is fixed."""
import os
import re
import shlex
import signal
import subprocess
import time
import unittest

from sesctl_test import (StandinTestCase, StoresTestCase, command,
                         env_lines, smtp_password)

USER = "sesctl-smtp-app"
REGION = "eu-west-1"
VALGRIND = bool(os.environ.get("SESCTL_VALGRIND"))
# Seconds a held answer waits (the signal is sent while both wait).
DELAY = 2.0 if VALGRIND else 0.6
ADVICE = re.compile(r"run '(sesctl smtp [^']*)'")


class Base(StandinTestCase):
    region = REGION

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.tmp, "app.env")

    def argv(self, *extra):
        return ["smtp", "enable", "--name", "app", "--region", REGION,
                "--output-file", self.out] + list(extra)

    def enable(self, *extra):
        return self.call(*self.argv(*extra))

    def keys(self):
        u = self.iam.user(USER)
        return [k["access_key_id"] for k in u["access_keys"]] if u else []

    def tags(self):
        u = self.iam.user(USER)
        return {t["Key"]: t["Value"] for t in u["tags"]} if u else {}

    def acts(self, name, applied=None):
        return [r for r in self.iam.requests if r["action"] == name and
                (applied is None or r["applied"] == applied)]

    def file_key(self, path=None):
        with open(path or self.out) as f:
            return env_lines(f.read())["SMTP_USER"]

    def deny(self, *actions):
        self.iam.deny(self.iam.admin["access_key_id"], list(actions))

    def assert_nothing_left(self, p):
        """A failed run: no file, and no key whose secret nobody holds."""
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.out), p.stderr)
        self.assertEqual(self.keys(), [], p.stderr)

    def assert_enabled(self, p):
        """One key, the file's, Active, with its password, its record and
        sesctl's policy."""
        self.assertEqual(p.returncode, 0, p.stderr)
        held = self.file_key()
        self.assertEqual(self.keys(), [held], p.stderr)
        key = self.iam.user(USER)["access_keys"][0]
        self.assertEqual(key["status"], "Active")
        with open(self.out) as f:
            self.assertEqual(env_lines(f.read())["SMTP_PASS"],
                             smtp_password(key["secret_access_key"], REGION))
        self.assertEqual(self.tags().get("SesctlCurrentKey"), held)
        self.assertIsNotNone(self.policy(USER))

    def rerun_converges(self):
        self.iam.clear_faults()
        self.deny()
        self.assert_enabled(self.enable())

    def wait_answered(self, limit):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if all(r["answered_at"] is not None for r in self.iam.requests):
                return
            time.sleep(0.02)


class Faults(Base):
    """Fault combinations on the two calls at once."""

    def test_a_refused_policy_beside_a_key_libcurl_sent_twice(self):
        # CreateAccessKey is throttled, its retry goes out on a reused
        # connection that dies after IAM made the key: libcurl sends it
        # again on its own, and IAM makes a second key.  Both go.
        self.deny("iam:PutUserPolicy")
        self.iam.add_fault("throttling", "CreateAccessKey", nth=1)
        self.iam.add_fault("close_after", "CreateAccessKey", nth=2)
        p = self.enable()
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assert_nothing_left(p)
        self.assertIsNone(self.policy(USER))
        self.assertIn("PutUserPolicy", p.stderr.decode())

    def test_throttled_policy_and_a_lost_key_answer_one_attempt(self):
        # AWS_MAX_ATTEMPTS=1: the policy is throttled (not retried), the
        # key made and answered 500: looked for, found and deleted.  The
        # rerun finishes the job.
        self.env["AWS_MAX_ATTEMPTS"] = "1"
        self.iam.add_fault("throttling", "PutUserPolicy")
        self.iam.add_fault("service_failure", "CreateAccessKey", apply=True)
        p = self.enable()
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assert_nothing_left(p)
        self.assertEqual(len(self.acts("PutUserPolicy")), 1)
        self.rerun_converges()

    # BUG 1 (new in c1f1994): a 2xx answer to PutUserPolicy whose body is
    # not IAM's (a proxy's page: html_error status=200, not applied) is
    # taken for "policy written".  call_many judges only the status; the
    # typed iam_put_user_policy parsed the answer and, unreadable, read the
    # state back (iam.h: "a 2xx answer whose body cannot be read" is of
    # unknown outcome).  The key is delivered and recorded, exit 0, and the
    # user has no policy: SES refuses its mail.
    def test_an_unreadable_2xx_policy_answer_is_not_taken_as_written(self):
        self.iam.add_fault("html_error", "PutUserPolicy", status=200,
                           apply=False)
        p = self.enable()
        if p.returncode == 0:
            self.assertIsNotNone(self.policy(USER),
                                 "the settings of key %s were delivered "
                                 "and recorded, but the user has no "
                                 "policy" % self.file_key())
            self.assert_enabled(p)
        else:
            self.assert_nothing_left(p)

    # BUG 2 (new in c1f1994): a PutUserPolicy whose outcome is unknown is
    # sent again blindly (iam_put_user_policy_create_key calls
    # iam_put_user_policy, which sends first and reads back only after
    # that), not read back; and beyond AWS_MAX_ATTEMPTS: with 1, two
    # PutUserPolicy go out; with 3 and a policy that keeps failing, four,
    # under the message "was not applied after 3 attempts".
    def test_a_lost_policy_answer_is_read_back_within_max_attempts(self):
        self.env["AWS_MAX_ATTEMPTS"] = "1"
        self.iam.add_fault("service_failure", "PutUserPolicy", apply=True)
        p = self.enable()
        self.assert_enabled(p)
        self.assertGreaterEqual(len(self.acts("GetUserPolicy")), 1,
                                "the lost answer was not read back")
        self.assertEqual(len(self.acts("PutUserPolicy")), 1,
                         "AWS_MAX_ATTEMPTS=1, yet PutUserPolicy went out "
                         "%d times" % len(self.acts("PutUserPolicy")))


class LeftKeys(Base):
    """A policy that failed, and the key made beside it that could not all
    be taken back."""

    def twice_and_second_delete_fails(self):
        """PutUserPolicy refused; CreateAccessKey sent twice by libcurl
        (two keys, the first one's secret never arrived); deleting the
        second fails."""
        self.deny("iam:PutUserPolicy")
        self.iam.add_fault("throttling", "CreateAccessKey", nth=1)
        self.iam.add_fault("close_after", "CreateAccessKey", nth=2)
        self.iam.add_fault("service_unavailable", "DeleteAccessKey", nth=2,
                           times=None)
        p = self.enable()
        if len(self.acts("CreateAccessKey", applied=True)) < 2:
            self.skipTest("libcurl did not send CreateAccessKey again")
        return p

    def test_the_key_left_by_a_double_send_goes_on_the_rerun(self):
        p = self.twice_and_second_delete_fails()
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.out))
        self.assertEqual(len(self.keys()), 1, p.stderr)
        left = self.keys()[0]
        self.rerun_converges()
        self.assertNotIn(left, self.keys())

    # BUG 3 (new in c1f1994): lc_create_key_with_policy returns the
    # policy's error code while ctx->err holds lc_drop_new_keys' message
    # (another code), so main prints only the generic text of the code:
    # "AWS refused the caller's credentials" (exit 3).  The key whose
    # secret nobody holds, and the command that deletes it, which
    # lc_drop_new_keys wrote, are never shown; nor is the refused
    # PutUserPolicy.  Same when its ListAccessKeys fails.
    def test_the_key_left_by_a_double_send_is_named(self):
        p = self.twice_and_second_delete_fails()
        err = p.stderr.decode()
        left = self.keys()
        self.assertEqual(len(left), 1, err)
        self.assertIn("PutUserPolicy", err)
        self.assertIn("aws iam delete-access-key --user-name %s "
                      "--access-key-id %s" % (USER, left[0]), err)

    def lost_key_and_unreadable_keys(self):
        """PutUserPolicy refused; CreateAccessKey made the key and answered
        500 (its outcome unknown); ListAccessKeys failing, so the key
        cannot be looked for."""
        self.deny("iam:PutUserPolicy")
        self.iam.add_fault("service_failure", "CreateAccessKey", apply=True)
        self.iam.add_fault("service_failure", "ListAccessKeys", times=None)
        p = self.enable()
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.out))
        self.assertEqual(len(self.keys()), 1, p.stderr)
        self.iam.clear_faults()
        self.deny()
        return p

    def test_a_lost_key_that_cannot_be_looked_for_goes_on_the_rerun(self):
        self.lost_key_and_unreadable_keys()
        left = self.keys()[0]
        self.rerun_converges()
        self.assertNotIn(left, self.keys())

    # BUG 4 (old, lc_drop_new_keys; reached by the new policy-failed path):
    # the advice is a literal "run 'sesctl smtp status'", without the
    # --name (--user-name, --profile, --endpoint-url) of the run.  Run as
    # printed, it looks at user 'sesctl-smtp' and says "not enabled: there
    # is no IAM user 'sesctl-smtp'; 'sesctl smtp enable' creates it"
    # (exit 4), while the key whose secret nobody holds sits on
    # 'sesctl-smtp-app'.  lc->status_cmd has the right command.
    def test_the_advice_shows_the_key_left(self):
        p = self.lost_key_and_unreadable_keys()
        self.assertEqual(p.returncode, 6, p.stderr)
        left = self.keys()[0]
        advice = ADVICE.findall(p.stderr.decode())
        self.assertTrue(advice, p.stderr)
        for a in advice:
            q = self.call(*shlex.split(a)[1:])
            self.assertEqual(q.returncode, 0, "%r: %s" % (a, q.stderr))
            self.assertIn(left, q.stdout.decode(), a)


class Signals(Base):
    """SIGTERM and SIGKILL while PutUserPolicy and CreateAccessKey are both
    at IAM (each applied, its answer held back)."""

    def held_run(self, sig):
        self.iam.add_fault("slow", "PutUserPolicy", delay=DELAY)
        self.iam.add_fault("slow", "CreateAccessKey", delay=DELAY)
        p = subprocess.Popen(command(self.argv()), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env)
        end = time.monotonic() + (120 if VALGRIND else 30)
        while p.poll() is None and time.monotonic() < end and \
                not all(f["fired"] for f in self.iam.faults):
            time.sleep(0.005)
        self.assertIsNone(p.poll(), "sesctl ended before both were held")
        p.send_signal(sig)
        _, err = p.communicate(timeout=180)
        self.wait_answered(DELAY + 5)
        self.iam.clear_faults()
        return p.returncode, err.decode()

    def test_sigterm_takes_the_key_back_and_the_rerun_finishes(self):
        rc, err = self.held_run(signal.SIGTERM)
        self.assertEqual(rc, 128 + signal.SIGTERM, err)
        self.assertFalse(os.path.exists(self.out))
        self.assertEqual(self.keys(), [], err)
        self.assertNotIn("SesctlCurrentKey", self.tags())
        self.assert_enabled(self.enable())

    def test_sigkill_leaves_a_key_the_rerun_deletes(self):
        rc, err = self.held_run(signal.SIGKILL)
        self.assertEqual(rc, -signal.SIGKILL, err)
        self.assertFalse(os.path.exists(self.out))
        left = self.keys()
        self.assertEqual(len(left), 1)
        self.assert_enabled(self.enable())
        self.assertNotIn(left[0], self.keys())


class Delivery(StoresTestCase):
    """A refused policy: no store, no stdout, no deploy hook gets
    anything."""

    region = REGION

    def test_a_refused_policy_delivers_nothing_anywhere(self):
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:PutUserPolicy"])
        hook = os.path.join(self.tmp, "hook-ran")
        p = self.sesctl("smtp", "enable", "--region", REGION,
                        "--secrets-manager", "app/smtp", "--ssm-path",
                        "/app/smtp", "--deploy-hook", "touch " + hook,
                        code=3)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.key_ids(), [])
        self.assertEqual(self.iam.secrets(), [])
        self.assertEqual(self.iam.parameters(), [])
        self.assertFalse(os.path.exists(hook))
        # stdout
        p = self.sesctl("smtp", "enable", "--region", REGION, code=3)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.key_ids(), [])


@unittest.skipIf(VALGRIND, "a race timed for a native run")
class TwoMachines(Base):
    """Two enables of one user on two machines (own state directories):
    a managed user made long ago without a key, both resume it."""

    def start(self, out, state):
        os.mkdir(state, 0o700)
        env = dict(self.env, SESCTL_STATE_DIR=state)
        return subprocess.Popen(command(self.argv()[:-1] + [out]),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)

    # Was BUG 5 (lc_drop_new_keys deleted every key without a record): B's
    # CreateAccessKey loses its answer, and B deleted A's key too, made
    # seconds ago, delivered to A's file and about to be recorded.  Now B
    # reads the keys, then the record, and with two keys no run recorded
    # (its own lost one and A's) deletes neither.  (Left: B's send not
    # applied at all, A's key then the only unrecorded one: B cannot tell
    # it from its own.)
    def test_a_lost_key_answer_does_not_delete_another_runs_key(self):
        # The user, left without a key by a run long ago.
        self.deny("iam:PutUserPolicy")
        self.assertEqual(self.enable().returncode, 3)
        self.deny()
        st = self.iam.dump_state()
        for u in st["users"]:
            if u["name"] == USER:
                u["create_date"] = "2026-01-01T00:00:00Z"
        self.iam.load_state(st)
        self.iam.clear_requests()
        # B lists the keys first (none), its answer held; meanwhile A
        # makes its key, writes its file, and its record is held; then B's
        # CreateAccessKey loses its answer.
        self.iam.add_fault("slow", "ListAccessKeys", nth=1, delay=1.0)
        self.iam.add_fault("close_after", "CreateAccessKey", nth=2)
        self.iam.add_fault("slow", "TagUser", nth=1, delay=2.5, before=True)
        a_out = os.path.join(self.tmp, "a.env")
        b_out = os.path.join(self.tmp, "b.env")
        b = self.start(b_out, os.path.join(self.tmp, "b"))
        end = time.monotonic() + 20
        while not self.iam.faults[0]["fired"] and time.monotonic() < end:
            time.sleep(0.005)
        a = self.start(a_out, os.path.join(self.tmp, "a"))
        _, a_err = a.communicate(timeout=60)
        _, b_err = b.communicate(timeout=60)
        self.wait_answered(5)
        # The race: B looked for its lost key after A's was made and
        # before A's record was applied.
        reqs = self.iam.requests
        lost = [r for r in reqs if r["fault"] == "close_after"]
        a_key = self.acts("CreateAccessKey", applied=True)[:1]
        a_tag = [r for r in reqs if r["fault"] == "slow" and
                 r["action"] == "TagUser"]
        look = [r for r in reqs if lost and r["seq"] > lost[0]["seq"] and
                r["action"] == "ListAccessKeys"][:1]
        if not (a.returncode == 0 and lost and a_key and a_tag and look and
                a_key[0]["received_at"] < look[0]["received_at"] <
                a_tag[0]["received_at"] + 2.0):
            self.skipTest("the race did not happen (A exit %d)" %
                          a.returncode)
        # A's delivered key must still exist, and the record name a key
        # that exists.
        self.assertIn(self.file_key(a_out), self.keys(),
                      "A (exit 0) delivered a key B deleted:\nA: %s\nB: %s"
                      % (a_err.decode(), b_err.decode()))
        self.assertIn(self.tags().get("SesctlCurrentKey"), self.keys())
        # B says why it stopped, and deleted nothing
        self.assertNotEqual(b.returncode, 0)
        self.assertIn("another sesctl run is making access keys",
                      b_err.decode())
        self.assertEqual(self.acts("DeleteAccessKey"), [])


if __name__ == "__main__":
    unittest.main()
