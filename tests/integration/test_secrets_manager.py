#!/usr/bin/env python3
"""--secrets-manager: enable, rotate and disable delivering the SMTP
settings to AWS Secrets Manager secrets, against the stand-in.

After every step the stand-in's state (and, once, the AWS CLI) is read:
the secret's AWSCURRENT holds the settings of a key IAM has, AWSPREVIOUS
the previous ones, and no access key exists whose secret is in no
secret's version (the key nobody holds).  Each store call is faulted
(applied then the answer lost, 500 after applying, 500 not applied): a
failed run and its rerun end with the app's settings working and no
orphan key.
"""

import json
import os
import re
import shlex
import subprocess
import unittest

from sesctl_test import StoresTestCase, command, smtp_password

USER = "sesctl-smtp"
SECRET = "app/smtp"
REGION = "eu-west-1"


class SecretsManager(StoresTestCase):
    region = REGION

    # ---- reading the stand-in ---------------------------------------------

    def secret_key(self, akid):
        return self.iam.access_key(akid)["secret_access_key"]

    def staged(self, stage, name=SECRET):
        """The settings a stage of the secret holds, as a dict (None if
        no version has the stage)."""
        s = self.iam.secret(name, region=REGION)
        if not s or stage not in s["stages"]:
            return None
        for v in s["versions"]:
            if v["id"] == s["stages"][stage]:
                return json.loads(v["secret_string"])
        return None

    def tags(self):
        return {t["Key"]: t["Value"] for t in self.iam.user(USER)["tags"]}

    def assert_settings(self, value, akid):
        self.assertEqual(value["SMTP_USER"], akid)
        self.assertEqual(value["SMTP_PASS"],
                         smtp_password(self.secret_key(akid), REGION))
        self.assertEqual(value["SMTP_HOST"],
                         "email-smtp.%s.amazonaws.com" % REGION)
        self.assertEqual(value["SMTP_PORT"], "587")
        self.assertEqual(value["SMTP_REGION"], REGION)

    def assert_whole(self):
        """The app's settings work, and every key is held somewhere."""
        cur = self.staged("AWSCURRENT")
        self.assertIsNotNone(cur, "the secret hands out nothing")
        keys = self.key_ids()
        self.assertIn(cur["SMTP_USER"], keys,
                      "AWSCURRENT names a key IAM does not have")
        s = self.iam.secret(SECRET, region=REGION)
        held = {json.loads(v["secret_string"])["SMTP_USER"]
                for v in s["versions"] if v.get("secret_string")}
        for k in keys:
            self.assertIn(k, held, "key %s is in no version of the "
                          "secret: nobody holds it" % k)
        return cur["SMTP_USER"]

    def aws(self, *args):
        """The AWS CLI (Debian's does not know AWS_ENDPOINT_URL_<SERVICE>
        yet: the endpoint goes on the command line)."""
        return ["/usr/bin/aws", "--endpoint-url", self.iam.url,
                "--output", "json"] + list(args)

    # ---- the happy paths --------------------------------------------------

    def test_enable_writes_the_secret_and_prints_nothing(self):
        p = self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        self.assertEqual(p.stdout, b"", "the password went to stdout too")
        [key] = self.key_ids()
        self.assert_settings(self.staged("AWSCURRENT"), key)
        s = self.iam.secret(SECRET, region=REGION)
        self.assertEqual({t["Key"]: t["Value"] for t in s["tags"]},
                         {"ManagedBy": "sesctl", "SesctlUser": USER})
        self.assertEqual(self.tags()["SesctlSecretsManager"],
                         "%s %s" % (REGION, SECRET))
        self.assertEqual(self.tags()["SesctlCurrentKey"], key)
        # the AWS CLI reads what ECS's valueFrom would
        out = subprocess.run(
            self.aws("secretsmanager", "get-secret-value",
                     "--secret-id", SECRET),
            capture_output=True, env=self.env, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        value = json.loads(json.loads(out.stdout)["SecretString"])
        self.assert_settings(value, key)

    def test_status_names_the_recorded_stores(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                    "--secrets-manager", "other/smtp", "--ssm-path",
                    "/app/smtp")
        out = self.sesctl("smtp", "status").stdout.decode()
        self.assertIn("secrets    Secrets Manager in %s: %s, other/smtp\n"
                      % (REGION, SECRET), out)
        self.assertIn("ssm        SSM Parameter Store in %s: /app/smtp\n"
                      % REGION, out)
        tags = json.loads(self.sesctl("smtp", "status", "--format",
                                      "json").stdout)["user"]["tags"]
        self.assertEqual(tags["SesctlSecretsManager"],
                         "%s %s other/smtp" % (REGION, SECRET))
        self.assertEqual(tags["SesctlSsmPath"], "%s /app/smtp" % REGION)
        # without stores, no such lines
        self.sesctl("smtp", "disable", "--yes")
        self.sesctl("smtp", "enable", "--output-file",
                    os.path.join(self.tmp, "app.env"))
        out = self.sesctl("smtp", "status").stdout.decode()
        self.assertNotIn("secrets ", out)
        self.assertNotIn("ssm ", out)

    def test_debug_shows_no_secret(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        p = self.sesctl("smtp", "rotate", "--debug")
        [key] = self.key_ids()
        err = p.stderr.decode()
        self.assertIn("Secrets Manager PutSecretValue", err)
        self.assertNotIn(self.secret_key(key), err)
        self.assertNotIn(smtp_password(self.secret_key(key), REGION), err)
        # the value's JSON, escaped inside SecretString, is not there
        self.assertNotIn("SMTP_PASS", err)

    def test_rotate_stages_and_switches(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                    "--kms-key-id", "alias/smtp")
        [old] = self.key_ids()
        self.assertEqual(self.iam.secret(SECRET, region=REGION)
                         ["kms_key_id"], "alias/smtp")
        # the record names the secret: a plain rotate delivers there
        p = self.sesctl("smtp", "rotate")
        self.assertEqual(p.stdout, b"")
        [new] = self.key_ids()
        self.assertNotEqual(new, old)
        self.assert_settings(self.staged("AWSCURRENT"), new)
        self.assertEqual(self.staged("AWSPREVIOUS")["SMTP_USER"], old)
        self.assertIsNone(self.staged("AWSPENDING"))
        self.assertEqual(self.assert_whole(), new)
        # the switch came before the old key went
        acts = [r["action"] for r in self.iam.requests]
        self.assertLess(acts.index("PutSecretValue"),
                        acts.index("UpdateSecretVersionStage"))
        self.assertLess(acts.index("UpdateSecretVersionStage"),
                        acts.index("DeleteAccessKey"))

    def test_keep_old_then_finish(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        [old] = self.key_ids()
        self.sesctl("smtp", "rotate", "--keep-old")
        self.assertEqual(len(self.key_ids()), 2)
        cur = self.assert_whole()
        self.assertNotEqual(cur, old)
        self.assert_settings(self.staged("AWSPREVIOUS"), old)
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual(self.key_ids(), [cur])
        self.assert_whole()

    def test_file_and_secret_together(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                    "--output-file", path)
        self.sesctl("smtp", "rotate", "--output-file", path)
        [key] = self.key_ids()
        with open(path) as f:
            self.assertIn("SMTP_USER=%s\n" % key, f.read())
        self.assert_settings(self.staged("AWSCURRENT"), key)

    def test_disable_deletes_the_secret_unless_kept(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        self.sesctl("smtp", "disable", "--yes", "--keep-stores")
        self.assertIsNotNone(self.iam.secret(SECRET, region=REGION))
        self.assertIsNone(self.iam.user(USER))
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        self.assert_whole()
        self.sesctl("smtp", "disable", "--yes")
        s = self.iam.secret(SECRET, region=REGION)
        self.assertTrue(s is None or s["deleted_date"] is not None)
        self.assertIsNone(self.iam.user(USER))

    def test_foreign_secret_needs_adopt(self):
        subprocess.run(self.aws("secretsmanager", "create-secret",
                                "--name", SECRET, "--secret-string", "{}"),
                       check=True, capture_output=True, env=self.env,
                       timeout=120)
        p = self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                        code=5)
        self.assertIn(b"--adopt", p.stderr)
        self.assertIsNone(self.iam.user(USER), "IAM changed before the "
                          "refusal")
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                    "--adopt")
        [key] = self.key_ids()
        self.assert_settings(self.staged("AWSCURRENT"), key)
        self.assertEqual(self.staged("AWSPREVIOUS"), {})

    def test_store_refused_takes_the_key_back(self):
        self.iam.deny(self.env["AWS_ACCESS_KEY_ID"],
                      ["secretsmanager:CreateSecret"])
        p = self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                        code=3)
        self.assertIn(b"deleted again", p.stderr)
        self.assertEqual(self.key_ids(), [])
        self.assertNotIn("SesctlCurrentKey", self.tags())

    def test_dry_run_plans_the_secret(self):
        p = self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                        "--dry-run")
        self.assertIn(b"CreateSecret Name=app/smtp", p.stdout)
        self.assertIsNone(self.iam.secret(SECRET, region=REGION))

    def test_store_region(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET,
                    "--store-region", "us-west-2")
        self.assertIsNone(self.iam.secret(SECRET, region=REGION))
        self.assertIsNotNone(self.iam.secret(SECRET, region="us-west-2"))
        self.sesctl("smtp", "rotate")
        [key] = self.key_ids()
        s = self.iam.secret(SECRET, region="us-west-2")
        cur = [v for v in s["versions"]
               if v["id"] == s["stages"]["AWSCURRENT"]][0]
        self.assertEqual(json.loads(cur["secret_string"])["SMTP_USER"], key)

    # ---- bad input --------------------------------------------------------

    def test_bad_store_options_change_nothing(self):
        for args, want in (
                (["--secrets-manager", ""], b"--secrets-manager"),
                (["--secrets-manager", "a b"], b"--secrets-manager"),
                (["--secrets-manager", "x" * 600], b"--secrets-manager"),
                (["--secrets-manager", SECRET, "--store-region", "nowhere"],
                 b"--store-region"),
                (["--secrets-manager", "arn:aws:secretsmanager:" + REGION +
                  ":111122223333:secret:missing-AbCdEf"], b"no secret")):
            p = self.call("smtp", "enable", *args)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn(want, p.stderr, args)
            self.assertIsNone(self.iam.user(USER), args)
        self.assertEqual(self.iam.secrets(REGION), [])

    def test_garbled_record_is_refused_before_a_new_key(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        [old] = self.key_ids()
        st = self.iam.dump_state()
        for u in st["users"]:
            for t in u["tags"] if u["name"] == USER else []:
                if t["Key"] == "SesctlSecretsManager":
                    t["Value"] = " "
        self.iam.load_state(st)
        p = self.sesctl("smtp", "rotate", code=1)
        self.assertIn(b"SesctlSecretsManager", p.stderr)
        self.assertEqual(self.key_ids(), [old])

    def test_closed_stdout_is_no_obstacle(self):
        # nothing goes to stdout with a store and no --output-file
        p = subprocess.run(command(["smtp", "enable", "--secrets-manager",
                                    SECRET]),
                           stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=self.env, timeout=180,
                           preexec_fn=lambda: os.close(1))
        self.assertEqual(p.returncode, 0, p.stderr)
        [key] = self.key_ids()
        self.assert_settings(self.staged("AWSCURRENT"), key)

    # ---- faults -----------------------------------------------------------

    def test_switch_failure_keeps_the_old_key_then_finish(self):
        self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
        [old] = self.key_ids()
        self.iam.add_fault("error", "UpdateSecretVersionStage", status=400,
                           code="AccessDeniedException",
                           message="not today")
        p = self.sesctl("smtp", "rotate", code=3)
        self.assertIn(b"rotate --finish", p.stderr)
        self.assertIn(old, self.key_ids())
        self.assertEqual(self.assert_whole(), old)
        new = self.staged("AWSPENDING")["SMTP_USER"]
        self.assertNotEqual(new, old)
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual(self.key_ids(), [new])
        self.assertEqual(self.assert_whole(), new)

    def test_fault_matrix(self):
        """Every store call of enable and rotate, each way it can fail:
        the run and a rerun leave the app working and no orphan key."""
        cases = []
        for action in ("CreateSecret", "PutSecretValue",
                       "UpdateSecretVersionStage", "DescribeSecret"):
            for kind, kw in (("close_after", {}),
                             ("service_failure", {"apply": True}),
                             ("service_failure", {"apply": False}),
                             ("close_before", {})):
                cases.append((action, kind, kw, None))
        # the write applied and answered 500, and reading it back fails
        # too: its outcome stays unknown
        applied = {"apply": True}
        for action in ("CreateSecret", "PutSecretValue"):
            cases.append((action, "service_failure", applied,
                          ("GetSecretValue", "service_failure", 1)))
        # (the run's first DescribeSecret is the one before any change,
        # the second the one before the switch)
        cases.append(("UpdateSecretVersionStage", "service_failure",
                      applied, ("DescribeSecret", "service_failure", 3)))
        failures = []
        for action, kind, kw, read_fault in cases:
            self.iam.reset()
            cmd = "enable" if action == "CreateSecret" else "rotate"
            if cmd == "rotate":
                self.sesctl("smtp", "enable", "--secrets-manager", SECRET)
            self.iam.add_fault(kind, action, **kw)
            if read_fault:
                self.iam.add_fault(read_fault[1], read_fault[0],
                                   nth=read_fault[2], times=3)
            args = ["smtp", cmd] + (["--secrets-manager", SECRET]
                                    if cmd == "enable" else [])
            first = self.call(*args)
            self.assertTrue(all(f["fired"] for f in self.iam.faults),
                            "%s %s: a fault never fired" % (action, kind))
            if first.returncode != 0:
                # what the message says to run, else the same again
                m = re.search(r"run '(sesctl smtp [^']+)'",
                              first.stderr.decode())
                again = self.call(*(shlex.split(m.group(1))[1:]
                                    if m else args))
                if again.returncode != 0:
                    failures.append("%s %s %s: rerun exit %d: %s" % (
                        action, kind, kw, again.returncode,
                        again.stderr.decode()[-300:]))
                    continue
            try:
                self.assert_whole()
                self.assertEqual(len(self.key_ids()), 1)
            except AssertionError as e:
                failures.append("%s %s %s: %s (first exit %d: %s)" % (
                    action, kind, kw, e, first.returncode,
                    first.stderr.decode()[-300:]))
        self.assertEqual(failures, [], "\n".join(failures))


if __name__ == "__main__":
    unittest.main(verbosity=2)
