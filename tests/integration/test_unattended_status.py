"""Unattended operation (issue 12), part two: status --check and
--format prometheus for monitoring, each warning code, status --all over
every user, and JSON a script can rely on (every output validated against
its documented schema).  The IAM stand-in, the test clock and the app's
file are test_unattended's (Base)."""
import json
import os
import shlex
import subprocess
import unittest

import prometheus_client.parser

from sesctl_test import command, smtp_password
from test_unattended import DAY0, USER, Base, schema

CODES = ("key-old", "two-active-keys", "inactive-key", "unused-key",
         "unrecorded-key", "lost-key", "no-key", "policy-missing",
         "policy-drift", "not-managed", "least-privilege", "console-login",
         "other-credentials", "incomplete", "no-smtp-endpoint")


class StatusCheck(Base):
    """status --check (monitoring plugin exit codes and one line),
    warning codes in text and JSON, and --format prometheus."""

    def check(self, *extra):
        p = self.run_sesctl("smtp", "status", "--name", "app", "--check",
                            *extra)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1, p.stdout)
        return p.returncode, lines[0]

    def codes(self):
        p = self.run_sesctl("smtp", "status", "--name", "app", "--format",
                            "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        for w in doc["warnings"]:
            self.assertEqual(sorted(w), ["code", "message", "severity"])
            self.assertIn(w["severity"], ("warning", "critical"))
        text = self.run_sesctl("smtp", "status", "--name", "app").stdout
        for w in doc["warnings"]:
            self.assertIn(("%s: " % w["code"]).encode(), text)
        return {w["code"]: w["severity"] for w in doc["warnings"]}

    def prometheus(self):
        p = self.run_sesctl("smtp", "status", "--name", "app", "--format",
                            "prometheus")
        self.assertEqual(p.returncode, 0, p.stderr)
        fams = {f.name: f for f in
                prometheus_client.parser.text_string_to_metric_families(
                    p.stdout.decode())}
        return {s.labels["code"]: s.value
                for s in fams["sesctl_smtp_warnings"].samples}, fams

    def mutate_user(self, fn):
        st = self.iam.dump_state()
        for u in st["users"]:
            if u["name"] == USER:
                fn(u)
        self.iam.load_state(st)

    def test_ok_then_old_then_critical(self):
        key = self.enable_app()
        rc, line = self.check()
        self.assertEqual(rc, 0, line)
        self.assertTrue(line.startswith(
            "SESCTL OK - %s: access key %s is 0 days old |" % (USER, key)),
            line)
        self.assertIn("key_age_days=0;90;;0", line)
        self.assertEqual(self.codes(), {})
        self.iam.set_access_key(key, last_used={"date": DAY0.isoformat(),
                                                "service": "ses",
                                                "region": "eu-west-1"})
        self.at(91)
        rc, line = self.check()
        self.assertEqual(rc, 1, line)
        self.assertTrue(line.startswith("SESCTL WARNING - %s: key-old: "
                                        % USER), line)
        self.assertEqual(self.codes(), {"key-old": "warning"})
        rc, line = self.check("--warn-age", "30", "--crit-age", "60")
        self.assertEqual(rc, 2, line)
        self.assertIn("SESCTL CRITICAL", line)
        self.assertIn("key_age_days=91;30;60;0", line)
        rc, line = self.check("--warn-age", "100")
        self.assertEqual(rc, 0, line)
        counts, fams = self.prometheus()
        self.assertEqual(counts["key-old"], 1)
        self.assertEqual(set(counts), set(CODES))
        age = fams["sesctl_smtp_key_age_seconds"].samples[0]
        self.assertEqual(age.value, 91 * 86400)
        self.assertEqual(age.labels, {"user": USER, "key": key,
                                      "status": "Active",
                                      "record": "current"})
        used = fams["sesctl_smtp_key_last_used_timestamp_seconds"].samples
        self.assertEqual(used[0].value, DAY0.timestamp())
        self.assertEqual(
            fams["sesctl_smtp_check_status"].samples[0].value, 1)

    def test_every_code(self):
        self.enable_app()
        self.at(1)
        # each case: make the state, the code it must raise, the exit
        cases = [
            ("two-active-keys", 1, lambda: self.run_sesctl(
                "smtp", "rotate", "--name", "app", "--keep-old",
                "--output-file", self.app)),
            ("inactive-key", 1, lambda: self.iam.set_access_key(
                self.tags()["SesctlKeptKey"], status="Inactive")),
            ("unused-key", 1, lambda: self.at(20)),
            ("unrecorded-key", 1, lambda: self.mutate_user(
                lambda u: u["access_keys"].pop(0))
                or self.iam.seed_user(USER, access_keys=1)),
            ("lost-key", 1, lambda: self.at(21)),
            ("policy-drift", 1, lambda: self.mutate_user(
                lambda u: u["inline_policies"][0].update(document=json.dumps(
                    {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "ses:*",
                         "Resource": "*"}]})))),
            ("least-privilege", 1, lambda: self.iam.seed_user(
                USER, inline_policies={"extra": json.dumps(
                    {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "s3:*",
                         "Resource": "*"}]})})),
            ("console-login", 1, lambda: self.iam.seed_user(
                USER, login_profile=True)),
            ("other-credentials", 1, lambda: self.iam.seed_user(
                USER, ssh_public_keys=1)),
            ("incomplete", 1, lambda: self.iam.deny(
                self.iam.admin["access_key_id"], ["iam:ListGroupsForUser"])),
            ("policy-missing", 2, lambda: self.mutate_user(
                lambda u: u["inline_policies"].clear())),
            ("not-managed", 2, lambda: self.mutate_user(
                lambda u: u.update(tags=[t for t in u["tags"]
                                         if t["Key"] != "ManagedBy"]))),
            ("no-key", 2, lambda: self.mutate_user(
                lambda u: u["access_keys"].clear())),
        ]
        seen = set()
        for code, worst, make in cases:
            make()
            found = self.codes()
            self.assertIn(code, found, (code, found))
            rc, line = self.check()
            self.assertEqual(rc, worst, (code, line))
            counts, _ = self.prometheus()
            self.assertGreaterEqual(counts[code], 1, code)
            # (--all says the same: checked on a few states, each check
            # is five more runs)
            if code in ("two-active-keys", "least-privilege", "no-key"):
                self.assert_all_agrees(worst)
            seen.add(code)
        # (key-old above; no-smtp-endpoint in test_status_audit)
        self.assertEqual(seen | {"key-old", "no-smtp-endpoint"}, set(CODES))

    def assert_all_agrees(self, worst):
        """status --all says of the user what status says: the same
        object in JSON, the same codes in text, --check and prometheus."""
        def facts(doc):
            # (the advice names the user with --user-name under --all)
            return dict(doc, warnings=[(w["code"], w["severity"])
                                       for w in doc["warnings"]])
        p = self.run_sesctl("smtp", "status", "--name", "app", "--format",
                            "json")
        one = json.loads(p.stdout)
        p = self.run_sesctl("smtp", "status", "--all", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        every = json.loads(p.stdout)
        schema("status-list").validate(every)
        self.assertEqual([facts(u) for u in every["users"]], [facts(one)])
        row = self.run_sesctl("smtp", "status", "--all").stdout.decode()
        row = row.splitlines()[1].split()[-1]
        self.assertEqual(sorted(row.replace("!", "").split(","))
                         if row != "-" else [],
                         sorted(w["code"] for w in one["warnings"]))
        p = self.run_sesctl("smtp", "status", "--all", "--check")
        self.assertEqual(p.returncode, worst, p.stdout)
        p = self.run_sesctl("smtp", "status", "--all", "--format",
                            "prometheus")
        fams = {f.name: f for f in
                prometheus_client.parser.text_string_to_metric_families(
                    p.stdout.decode())}
        self.assertEqual(
            {s.labels["code"]: s.value
             for s in fams["sesctl_smtp_warnings"].samples},
            self.prometheus()[0])

    def test_all_checks_every_user(self):
        # nobody: OK, and prometheus gives the families with no series
        p = self.run_sesctl("smtp", "status", "--all", "--check")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith(
            b"SESCTL OK - 0 SMTP users | users=0;"), p.stdout)
        self.enable_app()
        for name in ("blog", "shop"):
            p = self.run_sesctl("smtp", "enable", "--name", name,
                                "--region", "eu-west-1")
            self.assertEqual(p.returncode, 0, p.stderr)
        rc, line = self.check()
        self.assertEqual(rc, 0, line)
        p = self.run_sesctl("smtp", "status", "--all", "--check")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertTrue(p.stdout.startswith(
            b"SESCTL OK - 3 SMTP users | users=3;;;0 "
            b"users_warning=0;;;0 users_critical=0;;;0"), p.stdout)
        # shop keeps its old key too: a warning for shop alone
        p = self.run_sesctl("smtp", "rotate", "--name", "shop",
                            "--keep-old")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_sesctl("smtp", "status", "--all", "--check")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn(b"SESCTL WARNING - 1 of 3 SMTP users: sesctl-smtp-shop:"
                      b" two-active-keys:", p.stdout)
        # ... with advice that works when pasted
        advice = p.stdout.decode().split("run '")[1].split("'")[0]
        self.assertEqual(advice, "sesctl smtp rotate --finish --user-name "
                                 "sesctl-smtp-shop")
        p = self.run_sesctl(*shlex.split(advice)[1:])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.iam.user("sesctl-smtp-shop")
                             ["access_keys"]), 1)
        # blog loses its policy: critical, and the critical user is named
        st = self.iam.dump_state()
        for u in st["users"]:
            if u["name"] == "sesctl-smtp-blog":
                u["inline_policies"].clear()
        self.iam.load_state(st)
        p = self.run_sesctl("smtp", "status", "--all", "--check")
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertIn(b"SESCTL CRITICAL - 1 of 3 SMTP users: "
                      b"sesctl-smtp-blog: policy-missing:", p.stdout)
        # prometheus: each family once, a series per user
        p = self.run_sesctl("smtp", "status", "--all", "--format",
                            "prometheus")
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout.decode()
        self.assertEqual(text.count("# TYPE sesctl_smtp_keys gauge"), 1)
        fams = {f.name: f for f in
                prometheus_client.parser.text_string_to_metric_families(
                    text)}
        self.assertEqual(
            {s.labels["user"]: s.value
             for s in fams["sesctl_smtp_check_status"].samples},
            {"sesctl-smtp-app": 0, "sesctl-smtp-blog": 2,
             "sesctl-smtp-shop": 0})
        # the text table: a row per user, the codes, '!' for critical
        rows = self.run_sesctl("smtp", "status", "--all").stdout.decode()
        rows = {r.split()[0]: r.split()[-1] for r in rows.splitlines()[1:]}
        self.assertEqual(rows, {"sesctl-smtp-app": "-",
                                "sesctl-smtp-blog": "policy-missing!",
                                "sesctl-smtp-shop": "-"})

    def test_unknown_when_it_cannot_tell(self):
        rc, line = self.check()  # no such user
        self.assertEqual(rc, 3, line)
        self.assertTrue(line.startswith("SESCTL UNKNOWN - not enabled"), line)
        rc, line = self.check("--format", "json")
        self.assertEqual(rc, 3, line)
        rc, line = self.check("--warn-age", "soon")
        self.assertEqual(rc, 3, line)
        self.assertIn("--warn-age 'soon'", line)
        p = self.run_sesctl("smtp", "status", "--all", "--check",
                            "--name", "app")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn(b"--all lists every user", p.stderr)


class JsonForScripts(Base):
    """What --format json gives a script: documented schemas, and a
    failure as one JSON object on stderr with a stable code."""

    def error(self, *args, code):
        p = self.run_sesctl(*args)
        self.assertEqual(p.returncode, code, p.stderr)
        last = p.stderr.decode().splitlines()[-1]
        doc = json.loads(last)
        schema("error").validate(doc)
        self.assertEqual(doc["error"]["exit"], code)
        return doc["error"]["code"]

    def status_doc(self):
        p = self.run_sesctl("smtp", "status", "--name", "app", "--format",
                            "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        schema("status").validate(doc)
        return doc

    def test_status_follows_its_schema(self):
        self.enable_app()
        self.assertEqual(self.status_doc()["schema"], "sesctl/status/1")
        self.run_sesctl("smtp", "rotate", "--name", "app", "--keep-old",
                        "--output-file", self.app)
        key = self.file_settings()["SMTP_USER"]
        self.iam.set_access_key(key, last_used={"date": DAY0.isoformat(),
                                                "service": "ses",
                                                "region": "eu-west-1"})
        self.at(200)
        doc = self.status_doc()
        self.assertEqual(len(doc["keys"]), 2)
        self.assertTrue(doc["warnings"])

    def test_settings_have_one_shape_whatever_the_regions(self):
        v = schema("smtp-settings")
        for regions in (["eu-west-1"], ["eu-west-1", "us-east-1"]):
            name = "r%d" % len(regions)
            path = os.path.join(self.tmp, name + ".json")
            args = ["smtp", "enable", "--name", name, "--format", "json",
                    "--output-file", path]
            for r in regions:
                args += ["--region", r]
            p = self.run_sesctl(*args)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(path) as f:
                doc = json.load(f)
            v.validate(doc)
            self.assertEqual([x["region"] for x in doc["regions"]], regions)
            user = "sesctl-smtp-" + name
            key = self.iam.user(user)["access_keys"][0]
            self.assertEqual(doc["user"], key["access_key_id"])
            for x in doc["regions"]:
                self.assertEqual(x["password"], smtp_password(
                    key["secret_access_key"], x["region"]))
            # the top is the first region, as one region always had it
            self.assertEqual(doc["password"], doc["regions"][0]["password"])
            # rotate keeps the shape; derive gives it too
            p = self.run_sesctl("smtp", "rotate", "--name", name,
                                "--output-file", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(path) as f:
                v.validate(json.load(f))
        p = subprocess.run(command(["smtp", "derive", "--region",
                                    "eu-west-1", "--access-key-id",
                                    "AKIAIOSFODNN7EXAMPLE", "--format",
                                    "json"]),
                           input=b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                           capture_output=True, env=self.env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        v.validate(json.loads(p.stdout))

    def test_an_app_reading_the_old_array_keeps_it(self):
        # a file sesctl wrote for two regions before the schema: an array;
        # the app parses an array, so rotate writes one again
        path = os.path.join(self.tmp, "old.json")
        p = self.run_sesctl("smtp", "enable", "--name", "app", "--region",
                            "eu-west-1", "--region", "us-east-1", "--format",
                            "json", "--output-file", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(path) as f:
            doc = json.load(f)
        old = [{k: v for k, v in x.items() if k != "user"} | {
            "user": doc["user"]} for x in doc["regions"]]
        with open(path, "w") as f:
            json.dump(old, f)
        p = self.run_sesctl("smtp", "rotate", "--name", "app",
                            "--output-file", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(path) as f:
            new = json.load(f)
        self.assertIsInstance(new, list)
        self.assertEqual([x["region"] for x in new],
                         ["eu-west-1", "us-east-1"])
        key = self.iam.user(USER)["access_keys"][0]
        for x in new:
            self.assertEqual(x["user"], key["access_key_id"])
            self.assertEqual(x["password"], smtp_password(
                key["secret_access_key"], x["region"]))
        # and a plain rotate (no file) remembers that format
        p = self.run_sesctl("smtp", "rotate", "--name", "app")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsInstance(json.loads(p.stdout), list)

    def test_failures_are_one_json_object_with_a_stable_code(self):
        j = ("--format", "json")
        self.assertEqual(self.error("smtp", "status", "--name", "app", *j,
                                    code=4), "not-enabled")
        self.assertEqual(self.error("smtp", "status", "--bogus", *j,
                                    code=2), "usage")
        self.enable_app()
        self.assertEqual(self.error("smtp", "enable", "--name", "app",
                                    "--region", "eu-west-1", *j, code=5),
                         "already-enabled")
        self.assertEqual(self.error("smtp", "enable", "--name", "app",
                                    "--region", "eu-west-1", "--format=json",
                                    "--output-file", self.app,
                                    "--region", "us-east-1", code=2),
                         "output-file-exists")
        other = os.path.join(self.tmp, "other.json")
        p = self.run_sesctl("smtp", "enable", "--name", "other", "--region",
                            "eu-west-1", "--output-file", other, *j)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.error("smtp", "rotate", "--name", "app",
                                    "--output-file", other, *j, code=5),
                         "foreign-output-file")
        self.run_sesctl("smtp", "rotate", "--name", "app", "--keep-old",
                        "--output-file", self.app)
        self.assertEqual(self.error("smtp", "rotate", "--name", "app", *j,
                                    code=5), "key-limit")
        self.assertEqual(self.error("smtp", "rotate", "--name", "app",
                                    "--finish", "--output-file", self.app,
                                    *j, code=2), "usage")
        self.run_sesctl("smtp", "rotate", "--name", "app", "--finish")
        self.assertEqual(self.error("smtp", "rotate", "--name", "app",
                                    "--output-file", self.app,
                                    "--deploy-hook", "exit 3", *j, code=1),
                         "deploy-hook-failed")
        self.iam.seed_user("hand-made", access_keys=0)
        self.assertEqual(self.error("smtp", "rotate", "--user-name",
                                    "hand-made", *j, code=5), "not-managed")
        # no credentials anywhere: its own code (exit 1)
        env = {k: v for k, v in self.at(self.day).items()
               if not k.startswith("AWS_") or k in ("AWS_REGION",)}
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        p = subprocess.run(command(["smtp", "status", "--name", "app",
                                    "--format", "json"]),
                           capture_output=True, stdin=subprocess.DEVNULL,
                           env=env, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        doc = json.loads(p.stderr.decode().splitlines()[-1])
        schema("error").validate(doc)
        self.assertEqual(doc["error"]["code"], "no-credentials")
        # without --format json, the plain message as before
        p = self.run_sesctl("smtp", "status", "--name", "nobody")
        self.assertTrue(p.stderr.startswith(b"sesctl: error: not enabled"))


if __name__ == "__main__":
    unittest.main()
