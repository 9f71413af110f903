"""Issue 10's "What was seen", each as a test that runs the real binary
against the stand-in and judges IAM's state and the files, not sesctl's
messages:

  - stdout closed or unwritable while the settings go to stdout: nothing
    in IAM changes (enable makes no user, rotate keeps the old key)
  - rotate into a sticky world-writable directory where another user
    planted the file: refused, IAM unchanged, the planted file untouched
  - rotate reproduces the delivery: a two-region JSON file at 0640, group
    4242 (and owned by the app's user) keeps format, regions, mode, owner
    and group with no --region and no AWS_REGION; the old key is gone and
    the new one recorded
  - a --region outside the recorded ones is refused, IAM unchanged
  - the hint of 'rotate --name app --keep-old', executed as printed, acts
    on user app and on no other
  - 'rotate --finish' keeps a kept key used after the new key was made
  - a stale temporary file of ours beside the output file is removed
  - a plain-http loopback endpoint is never reached through http_proxy
  - a FIFO as a file sesctl reads does not hang it
Running as root lets the tests chown files to other users; as another
user, those tests are skipped.
"""
import datetime
import json
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SesctlTestCase, clean_env, command, env_lines,
                         smtp_password)

NAME = "app"
USER = "sesctl-smtp-app"
REGION = "eu-west-1"
OLD_KEY_DATE = "2026-01-01T00:00:00Z"
NOBODY = 65534
GROUP = 4242
TIMEOUT = 60 if not os.environ.get("SESCTL_VALGRIND") else 180
ROOT = os.geteuid() == 0
# Reading a FIFO with no writer blocks for ever; a run that reads the
# FIFO's path ends long before this.
FIFO_WAIT = 15 if not os.environ.get("SESCTL_VALGRIND") else 90


class Delivery(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp(prefix="sesctl-delivery-")
        os.chmod(self.tmp, 0o700)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state, 0o700)

    def env(self, region=REGION, **extra):
        env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                        SESCTL_STATE_DIR=self.state,
                        **self.iam.env(region=region or "us-east-1"))
        if region is None:
            env.pop("AWS_REGION")
            env.pop("AWS_DEFAULT_REGION")
        env.update(extra)
        return env

    def sesctl(self, args, env=None, shell_redir=None, timeout=TIMEOUT):
        argv = command(args)
        if shell_redir:
            argv = ["/bin/sh", "-c", 'exec "$@" ' + shell_redir, "sh"] + argv
        return subprocess.run(argv, capture_output=shell_redir is None,
                              stdin=subprocess.DEVNULL,
                              env=env or self.env(), timeout=timeout)

    def keys(self, user=USER):
        u = self.iam.user(user)
        return {k["access_key_id"]: k for k in u["access_keys"]} if u else {}

    def tags(self, user=USER):
        u = self.iam.user(user)
        return {t["Key"]: t["Value"] for t in u["tags"]} if u else {}

    def snapshot(self, user=USER):
        u = self.iam.user(user)
        if u is None:
            return None
        return ({k: v["status"] for k, v in self.keys(user).items()},
                self.tags(user))

    def enable(self, *extra, name=NAME, path=None):
        args = ["smtp", "enable"] + (["--name", name] if name else [])
        args += list(extra)
        if path:
            args += ["--output-file", path]
        p = self.sesctl(args)
        self.assertEqual(p.returncode, 0, p.stderr)
        user = "sesctl-smtp-%s" % name if name else "sesctl-smtp"
        for akid in self.keys(user):
            self.iam.set_access_key(akid, create_date=OLD_KEY_DATE)
        return p

    def mutations(self):
        return [r["action"] for r in self.iam.requests
                if not r["action"].startswith(("Get", "List"))]

    # ---- stdout ----------------------------------------------------------

    def test_rotate_with_stdout_closed_changes_nothing(self):
        self.enable()
        before = self.snapshot()
        self.iam.clear_requests()
        p = self.sesctl(["smtp", "rotate", "--name", NAME],
                        shell_redir=">&- 2>/dev/null")
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.mutations(), [])

    def test_enable_with_stdout_closed_makes_no_user(self):
        p = self.sesctl(["smtp", "enable", "--name", NAME],
                        shell_redir=">&- 2>/dev/null")
        self.assertNotEqual(p.returncode, 0)
        self.assertIsNone(self.iam.user(USER))
        self.assertEqual(self.mutations(), [])

    def test_rotate_with_stdout_read_only_changes_nothing(self):
        self.enable()
        before = self.snapshot()
        self.iam.clear_requests()
        p = self.sesctl(["smtp", "rotate", "--name", NAME],
                        shell_redir="1</dev/null 2>/dev/null")
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.mutations(), [])

    def test_rotate_to_a_full_disk_keeps_the_old_key(self):
        self.enable()
        old = list(self.keys())[0]
        p = self.sesctl(["smtp", "rotate", "--name", NAME],
                        shell_redir=">/dev/full 2>/dev/null")
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual({k: v["status"] for k, v in self.keys().items()},
                         {old: "Active"}, "the old key must be the only one")
        self.assertEqual(self.tags().get("SesctlCurrentKey"), old)

    # ---- whose file ---------------------------------------------------------

    @unittest.skipUnless(ROOT, "needs root to plant a file as another user")
    def test_rotate_into_sticky_dir_with_a_planted_file_is_refused(self):
        path = os.path.join(self.tmp, "app.env")
        self.enable(path=path)
        before = self.snapshot()
        shared = os.path.join(self.tmp, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o1777)
        target = os.path.join(shared, "app.env")
        with open(target, "wb") as f:
            f.write(b"planted\n")
        os.chown(target, NOBODY, NOBODY)
        os.chmod(target, 0o666)
        self.iam.clear_requests()
        p = self.sesctl(["smtp", "rotate", "--name", NAME,
                         "--output-file", target])
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.mutations(), [])
        st = os.stat(target)
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (NOBODY, NOBODY, 0o666))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"planted\n")
        self.assertEqual(sorted(os.listdir(shared)), ["app.env"])

    # ---- rotate reproduces the delivery -------------------------------------

    def json_settings(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        # one object (sesctl/smtp-settings/1): the user at the top, each
        # region in "regions"
        self.assertEqual(data["schema"], "sesctl/smtp-settings/1")
        return {d["region"]: dict(d, user=data["user"])
                for d in data["regions"]}

    def check_two_region_json(self, owner):
        path = os.path.join(self.tmp, "app.json")
        self.enable("--region", "eu-west-1", "--region", "us-east-1",
                    "--format", "json", path=path)
        old = list(self.keys())[0]
        os.chown(path, owner, GROUP)
        os.chmod(path, 0o640)
        # No --region and no AWS_REGION: the record gives the regions.
        p = self.sesctl(["smtp", "rotate", "--name", NAME,
                         "--output-file", path], env=self.env(region=None))
        self.assertEqual(p.returncode, 0, p.stderr)
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (owner, GROUP, 0o640))
        s = self.json_settings(path)
        self.assertEqual(sorted(s), ["eu-west-1", "us-east-1"])
        keys = self.keys()
        new = s["eu-west-1"]["user"]
        self.assertEqual(list(keys), [new], "the old key %s must be gone" % old)
        self.assertNotEqual(new, old)
        self.assertEqual(self.tags().get("SesctlCurrentKey"), new)
        for region, d in s.items():
            self.assertEqual(d["user"], new)
            self.assertEqual(d["host"], "email-smtp.%s.amazonaws.com" % region)
            self.assertEqual(d["password"], smtp_password(
                keys[new]["secret_access_key"], region))
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         ["app.json", "state"])

    @unittest.skipUnless(ROOT, "needs root to chgrp to group 4242")
    def test_rotate_keeps_json_regions_mode_and_group(self):
        self.check_two_region_json(os.geteuid())

    @unittest.skipUnless(ROOT, "needs root to chown to the app's user")
    def test_rotate_keeps_the_app_users_file_its_own(self):
        self.check_two_region_json(NOBODY)

    def test_rotate_refuses_a_region_that_was_not_delivered(self):
        path = os.path.join(self.tmp, "app.env")
        self.enable(path=path)
        with open(path, "rb") as f:
            text = f.read()
        before = self.snapshot()
        self.iam.clear_requests()
        p = self.sesctl(["smtp", "rotate", "--name", NAME, "--region",
                         "ap-south-1", "--output-file", path])
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.mutations(), [])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), text)

    # ---- hints -----------------------------------------------------------

    def test_keep_old_hint_pasted_finishes_the_named_user_only(self):
        path = os.path.join(self.tmp, "app.env")
        self.enable(path=path)
        self.enable(name=None)           # the default user, untouched
        default_before = self.snapshot("sesctl-smtp")
        old = list(self.keys())[0]
        p = self.sesctl(["smtp", "rotate", "--name", NAME, "--keep-old",
                         "--output-file", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        err = p.stderr.decode()
        hint = err.split("run '", 1)[1].split("'", 1)[0] \
            if "run '" in err else None
        self.assertIsNotNone(hint, err)
        words = shlex.split(hint)
        self.assertEqual(words[0], "sesctl")
        p = self.sesctl(words[1:])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.snapshot("sesctl-smtp"), default_before)
        with open(path, encoding="utf-8") as f:
            held = env_lines(f.read())["SMTP_USER"]
        self.assertNotEqual(held, old)
        self.assertEqual(list(self.keys()), [held])

    def test_finish_keeps_a_kept_key_still_in_use(self):
        path = os.path.join(self.tmp, "app.env")
        self.enable(path=path)
        old = list(self.keys())[0]
        p = self.sesctl(["smtp", "rotate", "--name", NAME, "--keep-old",
                         "--output-file", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        new = [k for k in self.keys() if k != old][0]
        # The old key was used after the new one was made; the new never.
        later = (self.iam.now() + datetime.timedelta(seconds=60))
        self.iam.set_access_key(old, last_used={
            "date": later.strftime("%Y-%m-%dT%H:%M:%SZ"), "service": "ses",
            "region": REGION})
        before = self.snapshot()
        p = self.sesctl(["smtp", "rotate", "--name", NAME, "--finish"])
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertEqual(self.snapshot(), before)

    # ---- stale temp file, proxy, FIFO ------------------------------------

    def test_stale_temp_file_is_removed_by_the_next_rotate(self):
        path = os.path.join(self.tmp, "app.env")
        self.enable(path=path)
        stale = os.path.join(self.tmp, ".app.env.sesctl-AbC123")
        fd = os.open(stale, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"SMTP_PASS=a-secret-nobody-should-keep\n")
        os.close(fd)
        p = self.sesctl(["smtp", "rotate", "--name", NAME,
                         "--output-file", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["app.env", "state"])

    def test_plain_http_loopback_never_goes_through_a_proxy(self):
        iam = FakeIAM(tls=False)
        iam.start()
        self.addCleanup(iam.stop)
        # A "proxy" that records whether anything reached it.
        import socket
        import threading
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(5)
        srv.settimeout(0.2)
        seen = []
        stop = threading.Event()

        def serve():
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    continue
                seen.append(c.recv(65536))
                c.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.addCleanup(srv.close)
        self.addCleanup(stop.set)
        proxy = "http://127.0.0.1:%d" % srv.getsockname()[1]
        env = clean_env(HOME=self.tmp, SESCTL_STATE_DIR=self.state,
                        http_proxy=proxy, HTTP_PROXY=proxy, ALL_PROXY=proxy,
                        all_proxy=proxy, **iam.env(region=REGION))
        path = os.path.join(self.tmp, "app.env")
        p = subprocess.run(command(["smtp", "enable", "--name", NAME,
                                    "--output-file", path]),
                           capture_output=True, env=env, timeout=TIMEOUT)
        stop.set()
        self.assertEqual(seen, [], "a request went through the proxy")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsNotNone(iam.user(USER))

    def test_fifo_as_credentials_file_does_not_hang(self):
        fifo = os.path.join(self.tmp, "creds.env")
        os.mkfifo(fifo, 0o600)
        try:
            p = self.sesctl(["smtp", "verify", "--region", REGION,
                             "--credentials-file", fifo], timeout=FIFO_WAIT)
        except subprocess.TimeoutExpired:
            self.fail("verify --credentials-file FIFO hung")
        self.assertNotEqual(p.returncode, 0)

    def test_fifo_as_aws_config_does_not_hang(self):
        aws = os.path.join(self.tmp, ".aws")
        os.mkdir(aws, 0o700)
        os.mkfifo(os.path.join(aws, "config"), 0o600)
        env = self.env()
        try:
            p = self.sesctl(["smtp", "status", "--name", NAME], env=env,
                            timeout=FIFO_WAIT)
        except subprocess.TimeoutExpired:
            self.fail("status with a FIFO as ~/.aws/config hung")
        self.assertIn(p.returncode, (1, 2, 4), p.stderr)


if __name__ == "__main__":
    unittest.main()
