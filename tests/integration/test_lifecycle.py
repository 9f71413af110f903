"""The product, end to end: `sesctl smtp enable`, `status`, `rotate` (every
mode), `disable`, run as a user runs them against the IAM stand-in over
HTTPS. After each step the stand-in's state (user, tags, policy document,
keys) is checked, and every SMTP password printed is checked against the
key's secret with an independent derivation (Python hmac)."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SOURCE_ROOT, SesctlTestCase, clean_env, command,
                         env_lines, smtp_password)

USER = "sesctl-smtp"
DEFAULT_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}
GOLDEN = os.path.join(SOURCE_ROOT, "tests", "golden")
NOW = "2026-11-23T12:00:00Z"
NOW_EPOCH = "1795435200"  # NOW as seconds






class Lifecycle(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=11, now=NOW)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, state, True)
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                             SESCTL_STATE_DIR=state,
                             SESCTL_TEST_NOW=NOW_EPOCH,
                             **self.iam.env(region="eu-west-1"))

    def sesctl(self, *args, code=0, stdin=b"", env=None):
        p = subprocess.run(command(args), input=stdin, capture_output=True,
                           env=env or self.env, timeout=120)
        self.assertEqual(p.returncode, code,
                         "sesctl %s: exit %d, want %d\nstdout: %s\n"
                         "stderr: %s" % (" ".join(args), p.returncode, code,
                                         p.stdout.decode(),
                                         p.stderr.decode()))
        self.err = p.stderr.decode()
        return p.stdout.decode()

    def user(self, name=USER):
        return self.iam.user(name)

    def keys(self, name=USER):
        u = self.user(name)
        return u["access_keys"] if u else []

    def secret_of(self, akid):
        return self.iam.access_key(akid)["secret_access_key"]

    def check_settings(self, out, region="eu-west-1"):
        """The env block names an existing key and its real password."""
        s = env_lines(out)
        self.assertEqual(s["SMTP_HOST"], "email-smtp.%s.amazonaws.com" % region)
        self.assertEqual(s["SMTP_PORT"], "587")
        self.assertEqual(s["SMTP_PASS"],
                         smtp_password(self.secret_of(s["SMTP_USER"]), region))
        return s

    # ---- enable ---------------------------------------------------------

    def test_enable_makes_five_calls_on_two_connections(self):
        out = self.sesctl("smtp", "enable")
        s = self.check_settings(out)
        # CreateUser with a GetUser beside it (the second connection),
        # then the policy and the key at once; the fifth records the
        # delivery, once the settings are out
        acts = [r["action"] for r in self.iam.requests]
        self.assertEqual(sorted(acts[0:2]), ["CreateUser", "GetUser"])
        self.assertEqual(sorted(acts[2:4]),
                         ["CreateAccessKey", "PutUserPolicy"])
        self.assertEqual(acts[4:], ["TagUser"])
        # (one, when the stand-in answered the first before the second
        # left; test_enable_pair asserts two with latency added)
        self.assertIn(len(self.iam.iam_connection_ids()), (1, 2))
        self.assertTrue(all(r["sigv4"]["ok"] for r in self.iam.requests))
        u = self.user()
        self.assertEqual(u["path"], "/sesctl/")
        self.assertEqual({t["Key"]: t["Value"] for t in u["tags"]},
                         {"ManagedBy": "sesctl", "SesctlName": "default",
                          "SesctlCurrentKey": s["SMTP_USER"],
                          "SesctlKeptKey": "", "SesctlRegions": "eu-west-1",
                          "SesctlFormat": "env"})
        self.assertEqual([p["name"] for p in u["inline_policies"]],
                         ["sesctl-ses-send"])
        self.assertEqual(json.loads(u["inline_policies"][0]["document"]),
                         DEFAULT_POLICY)
        self.assertEqual([k["access_key_id"] for k in u["access_keys"]],
                         [s["SMTP_USER"]])
        # the secret itself is printed nowhere
        self.assertNotIn(self.secret_of(s["SMTP_USER"]), out + self.err)

    def test_enable_formats_match_golden(self):
        for fmt in ("env", "export", "dotenv", "json", "postfix",
                    "k8s-secret"):
            self.iam.reset()
            out = self.sesctl("smtp", "enable", "--format", fmt)
            akid = self.keys()[0]["access_key_id"]
            pw = smtp_password(self.secret_of(akid), "eu-west-1")
            self.assertIn(akid, out)
            self.assertIn(pw, out)
            # The stand-in's ids depend on the order concurrent requests
            # reach it: the golden pins the layout, with the key's id and
            # password in placeholders.
            out = out.replace(akid, "AKIAKEYID").replace(pw, "SMTPPASSWORD")
            if os.environ.get("SESCTL_REGEN_GOLDEN"):  # after a change
                with open(os.path.join(GOLDEN, "enable." + fmt), "w") as f:
                    f.write(out)
            with open(os.path.join(GOLDEN, "enable." + fmt)) as f:
                self.assertEqual(out, f.read(), fmt)

    def test_enable_several_regions(self):
        out = self.sesctl("smtp", "enable", "--region", "eu-west-1",
                          "--region", "us-east-1")
        s = env_lines(out)
        akid = s["SMTP_USER"]
        for region in ("eu-west-1", "us-east-1"):
            suffix = "_" + region.upper().replace("-", "_")
            self.assertEqual(s["SMTP_HOST" + suffix],
                             "email-smtp.%s.amazonaws.com" % region)
            self.assertEqual(s["SMTP_PASS" + suffix],
                             smtp_password(self.secret_of(akid), region))
        self.assertEqual(len(self.keys()), 1)  # one key, two passwords

    def test_enable_narrowed_policy(self):
        self.sesctl("smtp", "enable", "--identity", "example.com",
                    "--from-address", "*@example.com")
        doc = json.loads(self.user()["inline_policies"][0]["document"])
        st = doc["Statement"][0]
        self.assertEqual(st["Resource"],
                         "arn:aws:ses:eu-west-1:123456789012:identity/"
                         "example.com")
        self.assertEqual(st["Condition"],
                         {"StringLike": {"ses:FromAddress": "*@example.com"}})
        out = self.sesctl("smtp", "status")
        self.assertIn("on 1 identity (example.com)", out)
        self.assertNotIn("warning", out)
        self.sesctl("smtp", "enable", "--name", "x", "--identity", "a b",
                    code=2)
        self.assertIsNone(self.user("sesctl-smtp-x"))

    def test_enable_refusals_and_resume(self):
        self.sesctl("smtp", "enable")
        key = self.keys()[0]["access_key_id"]
        # already enabled: the secret cannot be shown again
        self.sesctl("smtp", "enable", code=5)
        self.assertIn("already enabled", self.err)
        self.assertIn("rotate", self.err)
        self.assertEqual([k["access_key_id"] for k in self.keys()], [key])
        # a user sesctl did not create
        self.iam.seed_user("sesctl-smtp-legacy", path="/")
        self.sesctl("smtp", "enable", "--name", "legacy", code=5)
        self.assertIn("--adopt", self.err)
        self.assertEqual(self.keys("sesctl-smtp-legacy"), [])
        out = self.sesctl("smtp", "enable", "--name", "legacy", "--adopt")
        self.check_settings(out)
        tags = {t["Key"]: t["Value"]
                for t in self.user("sesctl-smtp-legacy")["tags"]}
        self.assertEqual(tags["ManagedBy"], "sesctl")
        # a user made moments ago, without a key and without a journal of
        # this machine: another machine's enable may be at work
        self.iam.seed_user("sesctl-smtp-busy", path="/sesctl/",
                           tags={"ManagedBy": "sesctl",
                                 "SesctlName": "busy"})
        self.sesctl("smtp", "enable", "--name", "busy", code=5)
        self.assertIn("another sesctl run may be enabling it", self.err)
        self.assertEqual(self.keys("sesctl-smtp-busy"), [])
        # an earlier run died after CreateUser, long ago: resumed
        self.iam.seed_user("sesctl-smtp-half", path="/sesctl/",
                           tags={"ManagedBy": "sesctl",
                                 "SesctlName": "half"},
                           create_date="2026-01-01T00:00:00Z")
        self.iam.clear_requests()
        out = self.sesctl("smtp", "enable", "--name", "half")
        self.check_settings(out)
        self.assertIn("finishing its setup", self.err)
        self.assertEqual(len(self.user("sesctl-smtp-half")["inline_policies"]),
                         1)

    def test_enable_dry_run_changes_nothing(self):
        out = self.sesctl("smtp", "enable", "--dry-run")
        self.assertIn("CreateUser UserName=sesctl-smtp Path=/sesctl/", out)
        self.assertIn("PutUserPolicy", out)
        self.assertIn("CreateAccessKey", out)
        self.assertIsNone(self.user())
        self.assertEqual({r["action"] for r in self.iam.requests}, {"GetUser"})

    def test_enable_output_file(self):
        path = os.path.join(self.tmp, "smtp.env")
        os.umask(0)
        try:
            out = self.sesctl("smtp", "enable", "--output-file", path)
        finally:
            os.umask(0o22)
        self.assertEqual(out, "")  # the password is not printed
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            self.check_settings(f.read())
        # never overwritten: checked before IAM changes
        self.iam.clear_requests()
        self.sesctl("smtp", "enable", "--name", "b", "--output-file", path,
                    code=2)
        self.assertIn("already exists", self.err)
        # (it may read, to see whether the file is this user's already)
        self.assertEqual([r["action"] for r in self.iam.requests
                          if not r["action"].startswith(("Get", "List"))],
                         [])

    def test_enable_unwritable_output_leaves_no_key(self):
        # a directory that vanishes between the check and the write is
        # beyond a pre-check; /dev/full as stdout fails the write itself
        with open("/dev/full", "wb") as full:
            p = subprocess.run(command(["smtp", "enable"]), stdout=full,
                               stderr=subprocess.PIPE, env=self.env,
                               timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        err = p.stderr.decode()
        self.assertIn("cannot write to standard output", err)
        self.assertIn("deleted again", err)
        self.assertEqual(self.keys(), [])
        actions = [r["action"] for r in self.iam.requests]
        self.assertEqual(actions[-1], "DeleteAccessKey")
        # a rerun resumes and succeeds
        self.check_settings(self.sesctl("smtp", "enable"))
        # a path under a regular file cannot be created at all
        blocker = os.path.join(self.tmp, "file")
        open(blocker, "w").close()
        self.iam.clear_requests()
        self.sesctl("smtp", "enable", "--name", "c", "--output-file",
                    os.path.join(blocker, "x.env"), code=2)
        self.assertEqual(self.iam.requests, [])

    def test_enable_refused_caller(self):
        env = dict(self.env, **self.iam.env(caller="readonly",
                                            region="eu-west-1"))
        self.sesctl("smtp", "enable", env=env, code=3)
        self.assertIn("iam:CreateUser", self.err)

    def test_names_keep_apps_apart(self):
        a = self.check_settings(self.sesctl("smtp", "enable", "--name", "blog"))
        b = self.check_settings(self.sesctl("smtp", "enable", "--name", "shop"))
        self.assertNotEqual(a["SMTP_USER"], b["SMTP_USER"])
        out = self.sesctl("smtp", "status", "--all")
        self.assertIn("sesctl-smtp-blog", out)
        self.assertIn("sesctl-smtp-shop", out)
        doc = json.loads(self.sesctl("smtp", "status", "--all", "--format",
                                     "json"))
        self.assertEqual(sorted(e["user"]["tags"]["SesctlName"]
                                for e in doc["users"]), ["blog", "shop"])
        self.sesctl("smtp", "disable", "--name", "blog", "--yes")
        self.assertIsNone(self.user("sesctl-smtp-blog"))
        self.assertIsNotNone(self.user("sesctl-smtp-shop"))
        self.sesctl("smtp", "enable", "--name", "bad/name", code=2)

    # ---- rotate ---------------------------------------------------------

    def test_rotate_default_deletes_old_key(self):
        old = self.check_settings(self.sesctl("smtp", "enable"))["SMTP_USER"]
        new = self.check_settings(self.sesctl("smtp", "rotate"))["SMTP_USER"]
        self.assertNotEqual(old, new)
        self.assertEqual([k["access_key_id"] for k in self.keys()], [new])
        actions = [r["action"] for r in self.iam.requests]
        # the old key went only after the new secret was written
        self.assertLess(actions.index("CreateAccessKey", 3),
                        actions.index("DeleteAccessKey"))

    def test_rotate_modes(self):
        old = self.check_settings(self.sesctl("smtp", "enable"))["SMTP_USER"]
        new = self.check_settings(
            self.sesctl("smtp", "rotate", "--deactivate-old"))["SMTP_USER"]
        st = {k["access_key_id"]: k["status"] for k in self.keys()}
        self.assertEqual(st, {old: "Inactive", new: "Active"})
        # with two keys, the inactive one is deleted first
        newer = self.check_settings(
            self.sesctl("smtp", "rotate", "--keep-old"))["SMTP_USER"]
        st = {k["access_key_id"]: k["status"] for k in self.keys()}
        self.assertEqual(st, {new: "Active", newer: "Active"})
        self.assertIn("--finish", self.err)
        out = self.sesctl("smtp", "status")
        self.assertIn("two active access keys", out)
        # two active keys: refused, nothing changes
        self.sesctl("smtp", "rotate", code=5)
        self.assertIn("--finish", self.err)
        self.assertEqual(len(self.keys()), 2)
        self.sesctl("smtp", "rotate", "--finish", "--dry-run")
        self.assertEqual(len(self.keys()), 2)
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual([k["access_key_id"] for k in self.keys()], [newer])
        self.sesctl("smtp", "rotate", "--finish")
        self.assertIn("nothing to finish", self.err)
        # --force replaces past two active keys, deleting the older
        self.sesctl("smtp", "rotate", "--keep-old")
        latest = [k["access_key_id"] for k in self.keys()
                  if k["access_key_id"] != newer][0]
        forced = self.check_settings(
            self.sesctl("smtp", "rotate", "--force"))["SMTP_USER"]
        self.assertEqual(sorted(k["access_key_id"] for k in self.keys()),
                         sorted([forced]))
        self.assertNotIn(latest, [k["access_key_id"] for k in self.keys()])

    def test_rotate_replaces_output_file_atomically(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--output-file", path)
        os.chmod(path, 0o644)
        self.sesctl("smtp", "rotate", "--output-file", path)
        # the mode is kept, except what other users had (with a warning)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertIn("the new file is mode 0640", self.err)
        with open(path) as f:
            s = self.check_settings(f.read())
        self.assertEqual([k["access_key_id"] for k in self.keys()],
                         [s["SMTP_USER"]])
        self.assertEqual(sorted(os.listdir(self.tmp)), ["smtp.env"])
        # a symlink is refused before anything changes
        link = os.path.join(self.tmp, "link.env")
        os.symlink(path, link)
        self.iam.clear_requests()
        self.sesctl("smtp", "rotate", "--output-file", link, code=2)
        self.assertNotIn("CreateAccessKey",
                         [r["action"] for r in self.iam.requests])

    def test_rotate_failed_write_keeps_old_key(self):
        old = self.check_settings(self.sesctl("smtp", "enable"))["SMTP_USER"]
        with open("/dev/full", "wb") as full:
            p = subprocess.run(command(["smtp", "rotate"]), stdout=full,
                               stderr=subprocess.PIPE, env=self.env,
                               timeout=120)
        self.assertEqual(p.returncode, 1)
        self.assertIn("deleted again", p.stderr.decode())
        self.assertEqual([k["access_key_id"] for k in self.keys()], [old])
        self.assertEqual(self.keys()[0]["status"], "Active")

    def test_rotate_not_enabled(self):
        self.sesctl("smtp", "rotate", code=4)
        self.assertIn("not enabled", self.err)

    # ---- status ---------------------------------------------------------

    def test_status_text_and_json(self):
        self.sesctl("smtp", "status", code=4)
        akid = self.check_settings(self.sesctl("smtp", "enable"))["SMTP_USER"]
        self.iam.set_access_key(akid, last_used={
            "date": "2026-11-22T08:00:00Z", "service": "ses",
            "region": "eu-west-1"})
        out = self.sesctl("smtp", "status")
        with open(os.path.join(GOLDEN, "status.text")) as f:
            self.assertEqual(out, f.read().replace("@AKID@", akid))
        doc = json.loads(self.sesctl("smtp", "status", "--format", "json"))
        self.assertEqual(doc["user"]["name"], USER)
        self.assertFalse(doc["policy"]["drift"])
        self.assertEqual(doc["keys"][0]["last_used"]["service"], "ses")
        self.assertEqual(doc["smtp"]["host"],
                         "email-smtp.eu-west-1.amazonaws.com")
        self.assertEqual(doc["warnings"], [])

    def test_status_warnings(self):
        self.sesctl("smtp", "enable")
        akid = self.keys()[0]["access_key_id"]
        self.iam.set_access_key(akid, create_date="2026-06-01T00:00:00Z")
        # somebody widened the policy by hand
        self.iam.seed_user(USER, inline_policies={"sesctl-ses-send": json.dumps(
            {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "ses:*", "Resource": "*"}]})})
        doc = json.loads(self.sesctl("smtp", "status", "--format", "json"))
        self.assertTrue(doc["policy"]["drift"])
        w = {x["code"]: x["message"] for x in doc["warnings"]}
        self.assertIn("175 days old", w["key-old"])
        self.assertIn("changed outside sesctl", w["policy-drift"])
        self.assertEqual({x["severity"] for x in doc["warnings"]},
                         {"warning"})

    # ---- disable --------------------------------------------------------

    def test_disable_removes_everything(self):
        self.sesctl("smtp", "enable")
        self.iam.seed_user(USER, groups=("mailers",), login_profile=True,
                           signing_certificates=1, ssh_public_keys=1,
                           service_specific_credentials=1,
                           virtual_mfa_devices=1,
                           attached_policies=(
                               "arn:aws:iam::aws:policy/AmazonSESFullAccess",))
        plan = self.sesctl("smtp", "disable", "--dry-run")
        for action in ("DeleteAccessKey", "DeleteUserPolicy",
                       "DetachUserPolicy", "RemoveUserFromGroup",
                       "DeleteLoginProfile", "DeleteSigningCertificate",
                       "DeleteSSHPublicKey",
                       "DeleteServiceSpecificCredential",
                       "DeactivateMFADevice", "DeleteUser"):
            self.assertIn(action, plan)
        self.assertIsNotNone(self.user())
        self.sesctl("smtp", "disable", code=2)  # no terminal, no --yes
        self.assertIsNotNone(self.user())
        self.sesctl("smtp", "disable", "--yes")
        self.assertIsNone(self.user())
        self.sesctl("smtp", "disable", "--yes")
        self.assertIn("not enabled", self.err)

    def test_disable_rerun_finishes_the_job(self):
        self.sesctl("smtp", "enable")
        self.iam.add_fault("service_failure", "DeleteUser", times=None)
        self.sesctl("smtp", "disable", "--yes", code=6)
        self.assertEqual(self.keys(), [])  # partly done
        self.assertIsNotNone(self.user())
        self.iam.clear_faults()
        self.sesctl("smtp", "disable", "--yes")
        self.assertIsNone(self.user())

    def test_disable_unmanaged_needs_force(self):
        self.iam.seed_user(USER, path="/", access_keys=1)
        self.sesctl("smtp", "disable", "--yes", code=5)
        self.assertIsNotNone(self.user())
        self.sesctl("smtp", "disable", "--yes", "--force")
        self.assertIsNone(self.user())

    def test_disable_asks_on_a_terminal(self):
        import pty
        import select
        import time
        self.sesctl("smtp", "enable")
        for answer, code, gone in ((b"n\n", 1, False), (b"y\n", 0, True)):
            master, slave = pty.openpty()
            p = subprocess.Popen(command(["smtp", "disable"]), stdin=slave,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=self.env)
            os.close(slave)
            buf, end = b"", time.monotonic() + 30
            while b"[y/N]" not in buf and time.monotonic() < end:
                r, _, _ = select.select([p.stderr], [], [], 0.2)
                if r:
                    buf += os.read(p.stderr.fileno(), 4096)
            self.assertIn(b"Delete IAM user 'sesctl-smtp'", buf)
            os.write(master, answer)
            p.communicate(timeout=60)
            os.close(master)
            self.assertEqual(p.returncode, code)
            self.assertEqual(self.user() is None, gone)

    def test_debug_shows_no_secret(self):
        out = self.sesctl("--debug", "smtp", "enable")
        err = self.err
        out2 = self.sesctl("--debug", "smtp", "rotate")
        err += self.err
        s1, s2 = env_lines(out), env_lines(out2)
        secrets = [self.env["AWS_SECRET_ACCESS_KEY"], s1["SMTP_PASS"],
                   s2["SMTP_PASS"], self.secret_of(s2["SMTP_USER"])]
        for r in self.iam.requests:
            secrets.append(dict(r["headers"])["Authorization"]
                           .split("Signature=")[1])
        for secret in secrets:
            self.assertNotIn(secret, err)
        self.assertIn("CreateAccessKey", err)
        self.assertIn("<SecretAccessKey><redacted></SecretAccessKey>", err)

    def test_full_session(self):
        """enable -> status -> rotate -> status -> disable -> status"""
        first = self.check_settings(self.sesctl("smtp", "enable"))
        self.assertIn(first["SMTP_USER"], self.sesctl("smtp", "status"))
        second = self.check_settings(self.sesctl("smtp", "rotate"))
        out = self.sesctl("smtp", "status")
        self.assertIn(second["SMTP_USER"], out)
        self.assertNotIn(first["SMTP_USER"], out)
        self.sesctl("smtp", "disable", "--yes")
        self.sesctl("smtp", "status", code=4)
        self.assertEqual([u["name"] for u in self.iam.dump_state()["users"]
                          if u["name"].startswith("sesctl-smtp")], [])


if __name__ == "__main__":
    unittest.main()
