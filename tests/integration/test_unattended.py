"""Unattended operation (issue 12): rotate --max-age from a timer, and
--deploy-hook, certbot's way.

The year runs on the test clock: sesctl's (SESCTL_TEST_NOW, which also
signs its requests) and the IAM stand-in's (which dates new keys) move
together, a day at a time, and a timer-style loop runs the same rotate
line every day.  Every check looks at IAM's state, the app's file and the
hook's own log, not at sesctl's messages."""
import datetime
import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SesctlTestCase, clean_env, command, env_lines,
                         schema_validator, smtp_password)

USER = "sesctl-smtp-app"
DAY0 = datetime.datetime(2026, 1, 5, 3, 0, 0, tzinfo=datetime.timezone.utc)
# Under valgrind a run takes about a second: the timer fires weekly there.
STEP = 7 if os.environ.get("SESCTL_VALGRIND") else 1

HOOK = r"""#!/bin/sh
# the app's deploy hook: note what sesctl said, and fail while told to
d=$(dirname "$0")
printf '%s|%s|%s|%s\n' "$SESCTL_USER" "$SESCTL_KEY_ID" "$SESCTL_REGIONS" \
    "${SESCTL_OUTPUT_FILE-unset}" >> "$d/hook.log"
env >> "$d/hook.env"
echo "hook output goes to stderr"
test ! -e "$d/fail"
"""


def running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


class Base(SesctlTestCase):
    """The IAM stand-in on the test clock, the app's file and its hook."""

    def setUp(self):
        self.iam = FakeIAM(tls=True, now=DAY0)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        os.chmod(self.tmp, 0o700)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, state, True)
        self.env = clean_env(HOME=self.tmp, SESCTL_STATE_DIR=state,
                             SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region="eu-west-1"))
        self.app = os.path.join(self.tmp, "app.env")
        self.hook = os.path.join(self.tmp, "hook.sh")
        with open(self.hook, "w") as f:
            f.write(HOOK)
        os.chmod(self.hook, 0o700)
        self.day = 0

    def at(self, day):
        self.day = day
        when = DAY0 + datetime.timedelta(days=day)
        self.iam.set_now(when)
        return dict(self.env, SESCTL_TEST_NOW=str(int(when.timestamp())))

    def run_sesctl(self, *args):
        return subprocess.run(command(list(args)), capture_output=True,
                              stdin=subprocess.DEVNULL, env=self.at(self.day),
                              timeout=120)

    def keys(self):
        u = self.iam.user(USER)
        return {k["access_key_id"]: k for k in u["access_keys"]} if u else {}

    def tags(self):
        return {t["Key"]: t["Value"] for t in self.iam.user(USER)["tags"]}

    def file_settings(self):
        with open(self.app) as f:
            return env_lines(f.read())

    def assert_app_works(self):
        """The file's password is the one SES would take for a key IAM
        has, active."""
        s = self.file_settings()
        k = self.keys().get(s["SMTP_USER"])
        self.assertIsNotNone(k, "day %d: the app's key is gone" % self.day)
        self.assertEqual(k["status"], "Active")
        self.assertEqual(s["SMTP_PASS"], smtp_password(
            k["secret_access_key"], "eu-west-1"))

    def hook_log(self):
        try:
            with open(os.path.join(self.tmp, "hook.log")) as f:
                return [line.rstrip("\n").split("|") for line in f]
        except FileNotFoundError:
            return []

    def enable_app(self, *extra):
        p = self.run_sesctl("smtp", "enable", "--name", "app", "--region",
                            "eu-west-1", "--output-file", self.app, *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        return self.file_settings()["SMTP_USER"]

    def rotate_line(self, *extra):
        return ("smtp", "rotate", "--name", "app", "--max-age", "90",
                "--output-file", self.app, "--deploy-hook", self.hook) + extra


class Unattended(Base):
    def test_a_year_on_a_timer(self):
        self.enable_app("--deploy-hook", self.hook)
        self.assertEqual(len(self.hook_log()), 1)
        rotations, hook_runs, failed_day = [], 1, None
        for day in range(STEP, 365, STEP):
            self.at(day)
            before = set(self.keys())
            with open(self.app, "rb") as f:
                content = f.read()
            # the second rotation's hook fails: the app is not ready
            due = [d for d in rotations[-1:] or [0]][0] + 90
            fail = len(rotations) == 1 and day > due and failed_day is None
            if fail:
                open(os.path.join(self.tmp, "fail"), "w").close()
            p = self.run_sesctl(*self.rotate_line())
            if fail:
                os.unlink(os.path.join(self.tmp, "fail"))
                failed_day = day
            after = set(self.keys())
            made = after - before
            if made:
                rotations.append(day)
            if len(self.hook_log()) > hook_runs:
                hook_runs = len(self.hook_log())
            if fail:
                # the hook failed: exit 1, the new settings in the file,
                # the old key still there and active: the app works
                # either way
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertEqual(len(made), 1)
                self.assertEqual(after, before | made)
                for k in before:
                    self.assertEqual(self.keys()[k]["status"], "Active")
                self.assertIn(b"deploy hook failed", p.stderr)
                self.assert_app_works()
                continue
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assert_app_works()
            self.assertEqual(len(after), 1, "day %d: %s" % (day, after))
            if not made and day - STEP != failed_day:
                # nothing due: nothing changed, nothing printed, file as is
                self.assertEqual(after, before)
                self.assertEqual(p.stdout, b"")
                self.assertIn(b"nothing to rotate", p.stderr)
                with open(self.app, "rb") as f:
                    self.assertEqual(f.read(), content)
        due_days = [d for d in rotations]
        self.assertEqual(len(rotations), 4, rotations)
        # 90 days apart at least, on the first timer run past the age
        for a, b in zip([0] + due_days, due_days):
            self.assertGreater(b - a, 90)
            self.assertLessEqual(b - a, 90 + STEP)
        # the hook ran at enable, at each rotation, and once more the day
        # after it failed, each time with the key the app's file got
        log = self.hook_log()
        self.assertEqual(len(log), 1 + 4 + 1, log)
        self.assertEqual(self.tags()["SesctlCurrentKey"],
                         self.file_settings()["SMTP_USER"])
        self.assertEqual(log[-1], [USER, self.file_settings()["SMTP_USER"],
                                   "eu-west-1", self.app])
        for entry in log:
            self.assertEqual(entry[0], USER)
            self.assertEqual(entry[2], "eu-west-1")
            self.assertEqual(entry[3], self.app)
        # no secret ever reached the hook's environment
        with open(os.path.join(self.tmp, "hook.env")) as f:
            dump = f.read()
        for entry in log:
            k = self.iam.access_key(entry[1])
            if k:
                self.assertNotIn(k["secret_access_key"], dump)
        self.assertNotIn(self.file_settings()["SMTP_PASS"], dump)
        self.assertNotIn(self.env["AWS_SECRET_ACCESS_KEY"], dump)
        self.assertNotIn("AWS_SECRET_ACCESS_KEY=", dump)

    def test_quiet_when_nothing_is_due(self):
        self.enable_app()
        self.at(30)
        p = self.run_sesctl("--quiet", *self.rotate_line())
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))
        # stdout as the destination: still nothing printed
        p = self.run_sesctl("smtp", "rotate", "--name", "app", "--max-age",
                            "90")
        self.assertEqual((p.returncode, p.stdout), (0, b""), p.stderr)
        self.at(91)
        p = self.run_sesctl("smtp", "rotate", "--name", "app", "--max-age",
                            "90")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"SMTP_PASS=", p.stdout)

    def test_hook_without_output_file_and_its_stdout(self):
        # settings on stdout: the hook's own output must not mix in
        p = self.run_sesctl("smtp", "enable", "--name", "app", "--region",
                            "eu-west-1", "--deploy-hook", self.hook)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b"hook output", p.stdout)
        self.assertIn(b"hook output goes to stderr", p.stderr)
        self.assertEqual(set(env_lines(p.stdout.decode())),
                         {"SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASS"})
        self.assertEqual(self.hook_log()[0][3], "unset")

    def test_hook_timeout_keeps_the_old_key(self):
        self.enable_app()
        old = self.file_settings()["SMTP_USER"]
        marker = os.path.join(self.tmp, "child-alive")
        # the hook starts a child that would outlive it: both are stopped
        hook = "sleep 60 & echo $! > %s; wait" % marker
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", self.app, "--deploy-hook", hook,
                            "--deploy-hook-timeout", "1")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"did not finish within 1 s", p.stderr)
        self.assertIn(old, self.keys())
        self.assertEqual(len(self.keys()), 2)
        self.assert_app_works()
        with open(marker) as f:
            pid = int(f.read())
        self.assertFalse(running(pid), "the hook's child is still running")
        # the advice: the same command again tries the hook again
        text = p.stderr.decode()
        self.assertIn("run 'sesctl smtp rotate --name app", text)
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", self.app, "--deploy-hook",
                            "true")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(old, self.keys())
        self.assertEqual(len(self.keys()), 1)
        self.assert_app_works()

    def test_sigkill_while_the_hook_runs(self):
        self.enable_app()
        old = self.file_settings()["SMTP_USER"]
        started = os.path.join(self.tmp, "hook-started")
        hook = "echo $$ > %s; sleep 30" % started
        q = subprocess.Popen(command(["smtp", "rotate", "--name", "app",
                                      "--output-file", self.app,
                                      "--deploy-hook", hook]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.at(self.day))
        deadline = time.monotonic() + 60
        while not os.path.exists(started) or not os.path.getsize(started):
            self.assertIsNone(q.poll(), "sesctl ended before the hook ran")
            self.assertLess(time.monotonic(), deadline, "no hook ran")
            time.sleep(0.02)
        q.kill()
        # the hook outlives a SIGKILLed sesctl (a systemd unit's stop
        # would end its whole cgroup): end it here
        with open(started) as f:
            os.killpg(int(f.read()), signal.SIGKILL)
        q.communicate(timeout=60)
        # delivered and recorded, the hook never said yes: both keys
        new = self.file_settings()["SMTP_USER"]
        self.assertNotEqual(new, old)
        self.assertEqual(set(self.keys()), {old, new})
        self.assert_app_works()
        # a rerun without the hook does not take the old key away
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", self.app)
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertEqual(set(self.keys()), {old, new})
        # the plain rerun of the timer line runs the hook, then retires
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", self.app, "--deploy-hook",
                            self.hook)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(set(self.keys()), {new})
        self.assertEqual(self.hook_log()[-1][1], new)
        self.assert_app_works()

    def test_identical_enable_changes_nothing(self):
        key = self.enable_app("--yes")
        with open(self.app, "rb") as f:
            content = f.read()
        n = len(self.iam.requests)
        self.at(3)
        p = self.run_sesctl("smtp", "enable", "--name", "app", "--region",
                            "eu-west-1", "--output-file", self.app)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"already enabled", p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertFalse([r["action"] for r in self.iam.requests[n:]
                          if not r["action"].startswith(("Get", "List"))])
        with open(self.app, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertEqual(set(self.keys()), {key})
        # not identical: other regions, or another format, are refused as
        # before (the file exists)
        for extra in (("--region", "us-east-1"), ("--format", "json")):
            p = self.run_sesctl("smtp", "enable", "--name", "app",
                                "--region", "eu-west-1",
                                "--output-file", self.app, *extra)
            self.assertEqual(p.returncode, 2, (extra, p.stderr))
            self.assertIn(b"already exists", p.stderr)
        # a file that holds something else: refused too
        with open(self.app, "w") as f:
            f.write("SMTP_USER=AKIAIOSFODNN7EXAMPLE\nSMTP_PASS=x\n"
                    "SMTP_HOST=email-smtp.eu-west-1.amazonaws.com\n")
        p = self.run_sesctl("smtp", "enable", "--name", "app", "--region",
                            "eu-west-1", "--output-file", self.app)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(set(self.keys()), {key})

    def test_yes_is_accepted_everywhere(self):
        self.enable_app()
        for args in (("smtp", "status", "--name", "app", "--yes"),
                     ("--yes", "smtp", "rotate", "--name", "app",
                      "--output-file", self.app),
                     ("smtp", "verify", "--yes", "--credentials-file",
                      self.app, "--smtp-endpoint-url", "smtp://127.0.0.1:1",
                      "--verify-timeout", "0")):
            p = self.run_sesctl(*args)
            self.assertNotEqual(p.returncode, 2, (args, p.stderr))
            self.assertNotIn(b"unknown option", p.stderr)
        p = subprocess.run(command(["smtp", "derive", "--region", "eu-west-1",
                                    "--yes"]), input=b"x" * 40,
                           capture_output=True, env=self.env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_sigint_while_the_hook_runs_stops_it_and_keeps_the_old_key(self):
        old = self.enable_app()
        started = os.path.join(self.tmp, "hook-started")
        hook = "echo $$ > %s; exec sleep 30" % started
        q = subprocess.Popen(command(["smtp", "rotate", "--name", "app",
                                      "--output-file", self.app,
                                      "--deploy-hook", hook]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.at(self.day))
        deadline = time.monotonic() + 60
        while not os.path.exists(started) or not os.path.getsize(started):
            self.assertIsNone(q.poll(), "sesctl ended before the hook ran")
            self.assertLess(time.monotonic(), deadline, "no hook ran")
            time.sleep(0.02)
        with open(started) as f:
            hook_pid = int(f.read())
        q.send_signal(signal.SIGINT)
        _, err = q.communicate(timeout=60)
        self.assertEqual(q.returncode, 130, err)
        self.assertIn(b"the deploy hook was stopped", err)
        self.assertFalse(running(hook_pid), "the hook still runs")
        new = self.file_settings()["SMTP_USER"]
        self.assertEqual(set(self.keys()), {old, new})
        self.assert_app_works()
        # the same line again: the hook runs, then the old key goes
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", self.app, "--deploy-hook",
                            self.hook)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(set(self.keys()), {new})

    def test_the_hook_inherits_no_descriptor_of_sesctl(self):
        # no TLS socket to IAM, no lock file, no settings file: only its
        # standard streams
        self.enable_app()
        fds = os.path.join(self.tmp, "fds")
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", self.app, "--deploy-hook",
                            "ls /proc/$$/fd > %s" % fds)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(fds) as f:
            open_fds = sorted(int(x) for x in f.read().split())
        # (the shell's redirection of ls's output takes one more, >= 10)
        self.assertEqual([fd for fd in open_fds if fd < 10], [0, 1, 2])

    def test_bad_hook_options(self):
        for args, msg in (
                (("--deploy-hook", ""), b"needs a non-empty value"),
                (("--deploy-hook", "  "), b"--deploy-hook is empty"),
                (("--deploy-hook-timeout", "5"),
                 b"--deploy-hook-timeout only applies with --deploy-hook"),
                (("--deploy-hook", "true", "--deploy-hook-timeout", "0"),
                 b"--deploy-hook-timeout '0' is not a number of seconds"),
                (("--max-age", "0"), b"--max-age '0' is not a number of days"),
                (("--max-age", "ninety"), b"--max-age 'ninety'"),
                (("--finish", "--max-age", "90"), b"--finish makes no new"),
                (("--finish", "--deploy-hook", "true"),
                 b"--finish makes no new")):
            p = self.run_sesctl("smtp", "rotate", "--name", "app", *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(msg, p.stderr)
        self.assertIsNone(self.iam.user(USER))
        self.assertEqual(self.iam.requests, [])

    def test_dry_run_names_the_hook(self):
        p = self.run_sesctl("smtp", "enable", "--name", "app", "--region",
                            "eu-west-1", "--dry-run", "--deploy-hook",
                            "systemctl reload postfix")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"# then run the deploy hook: systemctl reload postfix",
                      p.stdout)
        self.assertEqual(self.hook_log(), [])


class DryRun(Base):
    """enable --dry-run shows what the real run would do, or the refusal
    it would meet with its exit status, and changes nothing."""

    def dry(self, *args, code=0, env=None):
        n = len(self.iam.requests)
        p = subprocess.run(command(["smtp", "enable", "--name", "app",
                                    "--region", "eu-west-1", "--dry-run"] +
                                   list(args)),
                           capture_output=True, stdin=subprocess.DEVNULL,
                           env=env or self.at(self.day), timeout=120)
        self.assertEqual(p.returncode, code, p.stderr)
        self.assertFalse([r["action"] for r in self.iam.requests[n:]
                          if not r["action"].startswith(("Get", "List"))])
        return p.stdout.decode(), p.stderr.decode()

    def test_identity_for_a_new_user_takes_the_account_from_sts(self):
        env = dict(self.at(0), AWS_ENDPOINT_URL_STS=self.iam.url)
        out, _ = self.dry("--identity", "example.com", env=env)
        self.assertIn("CreateUser UserName=%s" % USER, out)
        self.assertIn("arn:aws:ses:eu-west-1:%s:identity/example.com"
                      % self.iam.account_id, out)
        self.assertIn("GetCallerIdentity",
                      [r["action"] for r in self.iam.requests])
        self.assertIsNone(self.iam.user(USER))

    def test_refusals_and_adopt(self):
        self.iam.seed_user(USER, tags={"Team": "mail"})
        out, err = self.dry(code=5)
        self.assertIn("did not create it", err)
        out, _ = self.dry("--adopt")
        self.assertIn("TagUser UserName=%s Tags=ManagedBy=sesctl" % USER, out)
        self.assertIn("CreateAccessKey", out)
        self.iam.seed_user(USER, tags={"ManagedBy": "sesctl"}, access_keys=1)
        out, err = self.dry(code=5)
        self.assertIn("already enabled", err)
        self.assertNotIn("CreateAccessKey", out)
        open(self.app, "w").close()
        self.dry("--output-file", self.app, code=2)


    def test_rotate_and_disable_dry_runs_meet_the_same_refusals(self):
        self.enable_app()
        self.run_sesctl("smtp", "rotate", "--name", "app", "--keep-old",
                        "--output-file", self.app)
        n = len(self.iam.requests)
        p = self.run_sesctl("smtp", "rotate", "--name", "app", "--dry-run")
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertIn(b"two active access keys", p.stderr)
        self.iam.seed_user("hand", access_keys=1)
        for cmd in ("rotate", "disable"):
            p = self.run_sesctl("smtp", cmd, "--user-name", "hand",
                                "--dry-run", "--yes")
            self.assertEqual(p.returncode, 5, (cmd, p.stderr))
            self.assertIn(b"not managed by sesctl", p.stderr)
        self.assertFalse([r["action"] for r in self.iam.requests[n:]
                          if not r["action"].startswith(("Get", "List"))])

    def changes(self, since):
        """The calls that changed something since request `since`:
        (action, UserName, the parameter naming what else)."""
        return [(r["action"], r["params"].get("UserName"),
                 r["params"].get("AccessKeyId") or
                 r["params"].get("PolicyName") or
                 r["params"].get("PolicyArn") or "")
                for r in self.iam.requests[since:]
                if r["action"] and r["status"] < 300 and
                not r["action"].startswith(("Get", "List"))]

    def planned(self, doc):
        return [(s["action"], s["params"].get("UserName"),
                 s["params"].get("AccessKeyId") or
                 s["params"].get("PolicyName") or
                 s["params"].get("PolicyArn") or "")
                for s in doc["steps"] if "action" in s]

    def plan(self, *args, code=0):
        n = len(self.iam.requests)
        p = self.run_sesctl(*args, "--dry-run", "--format", "json")
        self.assertEqual(p.returncode, code, p.stderr)
        self.assertEqual(self.changes(n), [])
        if code:
            self.assertEqual(p.stdout, b"")
            err = json.loads(p.stderr.decode().splitlines()[-1])
            schema("error").validate(err)
            return err["error"]["code"]
        doc = json.loads(p.stdout)
        schema("plan").validate(doc)
        self.assertEqual(doc["command"], args[1])
        self.assertEqual(doc["user"], USER)
        return doc

    def test_json_plans_are_what_the_real_runs_do(self):
        """Each --dry-run --format json plan lists the IAM changes the
        same command then makes, in order."""
        enable = ("smtp", "enable", "--name", "app", "--region",
                  "eu-west-1", "--output-file", self.app, "--deploy-hook",
                  "true")
        doc = self.plan(*enable)
        self.assertEqual(doc["steps"][0]["params"],
                         {"UserName": USER, "Path": "/sesctl/",
                          "Tags": "ManagedBy=sesctl,SesctlName=app"})
        policy = [s for s in doc["steps"]
                  if s.get("action") == "PutUserPolicy"][0]
        self.assertEqual(json.loads(policy["params"]["PolicyDocument"])
                         ["Statement"][0]["Action"], "ses:SendRawEmail")
        self.assertIn({"note": "then run the deploy hook: true"},
                      doc["steps"])
        n = len(self.iam.requests)
        p = self.run_sesctl(*enable)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([c[:2] for c in self.changes(n)],
                         [c[:2] for c in self.planned(doc)])

        rotate = ("smtp", "rotate", "--name", "app", "--output-file",
                  self.app)
        old = self.file_settings()["SMTP_USER"]
        doc = self.plan(*rotate)
        self.assertIn(("DeleteAccessKey", USER, old), self.planned(doc))
        n = len(self.iam.requests)
        p = self.run_sesctl(*rotate)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([c[:2] for c in self.changes(n)],
                         [c[:2] for c in self.planned(doc)])
        self.assertIn(("DeleteAccessKey", USER, old), self.changes(n))

        # --finish of a rotate that kept the old key
        p = self.run_sesctl(*rotate, "--keep-old")
        self.assertEqual(p.returncode, 0, p.stderr)
        finish = ("smtp", "rotate", "--name", "app", "--finish")
        doc = self.plan(*finish)
        n = len(self.iam.requests)
        p = self.run_sesctl(*finish)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.changes(n), self.planned(doc))
        self.assertEqual(len(self.keys()), 1)

        # a refusal: no plan, the error object, the same exit status
        self.assertEqual(self.plan("smtp", "enable", "--name", "app",
                                   "--region", "eu-west-1", code=5),
                         "already-enabled")

        disable = ("smtp", "disable", "--name", "app", "--yes")
        doc = self.plan(*disable)
        n = len(self.iam.requests)
        p = self.run_sesctl(*disable)
        self.assertEqual(p.returncode, 0, p.stderr)
        # (the deletions go at once, in any order; the user last)
        self.assertEqual(sorted(self.changes(n)), sorted(self.planned(doc)))
        self.assertEqual(self.changes(n)[-1], ("DeleteUser", USER, ""))
        self.assertIsNone(self.iam.user(USER))
        # nothing to do: an empty plan
        self.assertEqual(self.plan(*disable)["steps"], [])
        p = self.run_sesctl("smtp", "disable", "--name", "app",
                            "--format", "yaml")
        self.assertEqual(p.returncode, 2, p.stderr)


schema = schema_validator


BUILD = os.environ.get("SESCTL_BUILD_ROOT", "")
UNITS = os.path.join(BUILD, "contrib", "systemd")


def exec_start(path, instance):
    """The service's ExecStart as systemd would run it for `instance`:
    specifiers and $$ resolved, split into words."""
    with open(path) as f:
        line = [l for l in f if l.startswith("ExecStart=")][0]
    line = line[len("ExecStart="):].strip().replace("%i", instance)
    return [w.replace("$$", "$") for w in shlex.split(line)]


@unittest.skipUnless(BUILD and shutil.which("systemd-analyze"),
                     "needs the build tree and systemd-analyze")
class SystemdUnits(Base):
    def test_units_verify(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        # the units' Documentation= names the man page: let man find the
        # one built here
        os.makedirs(os.path.join(d, "man", "man1"))
        shutil.copy(os.path.join(BUILD, "docs", "sesctl-smtp.1"),
                    os.path.join(d, "man", "man1"))
        for unit in ("sesctl-rotate@.service", "sesctl-rotate@.timer"):
            shutil.copy(os.path.join(UNITS, unit), d)
        p = subprocess.run(["systemd-analyze", "verify",
                            "sesctl-rotate@mail.service",
                            "sesctl-rotate@mail.timer"],
                           cwd=d, capture_output=True, timeout=60,
                           env=dict(os.environ, MANPATH=os.path.join(d, "man")))
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))
        with open(os.path.join(UNITS, "sesctl-rotate@.timer")) as f:
            timer = f.read()
        for line in ("Persistent=true", "RandomizedDelaySec=", "OnCalendar="):
            self.assertIn(line, timer)
        with open(os.path.join(UNITS, "sesctl-rotate@.service")) as f:
            service = f.read()
        for line in ("ProtectSystem=strict", "NoNewPrivileges=yes",
                     "PrivateTmp=yes", "ReadWritePaths=",
                     "EnvironmentFile=/etc/sesctl/%i.conf"):
            self.assertIn(line, service)

    def unit_run(self, conf):
        argv = exec_start(os.path.join(UNITS, "sesctl-rotate@.service"),
                          "app")
        self.assertEqual(argv[:2], ["/bin/sh", "-ec"])
        argv[3] = os.environ["SESCTL_BIN"]  # "$0": @BINDIR@/sesctl
        env = dict(self.at(self.day), **conf)
        return subprocess.run(argv, capture_output=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=120)

    def test_the_unit_command_rotates_when_due(self):
        self.enable_app()
        first = self.file_settings()["SMTP_USER"]
        conf = {"SESCTL_MAX_AGE": "60", "SESCTL_OUTPUT_FILE": self.app,
                "SESCTL_DEPLOY_HOOK": self.hook + " && echo reloaded",
                "SESCTL_OPTIONS": "--format env"}
        self.at(30)
        p = self.unit_run(conf)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))
        self.assertEqual(set(self.keys()), {first})
        self.at(61)
        p = self.unit_run(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b"")
        new = self.file_settings()["SMTP_USER"]
        self.assertEqual(set(self.keys()), {new})
        self.assertNotEqual(new, first)
        self.assertEqual(self.hook_log()[-1][1], new)
        self.assert_app_works()
        # without a hook it rotates too; without an output file it
        # refuses, and nothing changes in IAM
        del conf["SESCTL_DEPLOY_HOOK"]
        self.at(122)
        p = self.unit_run(conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(new, self.keys())
        n = len(self.iam.requests)
        self.at(300)
        del conf["SESCTL_OUTPUT_FILE"]
        p = self.unit_run(conf)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.iam.requests[n:], [])


if __name__ == "__main__":
    unittest.main()
