"""`sesctl smtp status` as an audit (issue 15): everything attached to a
user, a least-privilege verdict, and what it may not read shown as
unknown with the permission that would reveal it, never a failure.

Each test builds the state in the IAM stand-in, then reads what status
says in text, in JSON (validated against docs/schema/status.schema.json)
and with --all, which must say the same of the user."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import warnings

import jsonschema

from standins.iam import FakeIAM
from standins.ses_smtp import FakeSESSMTP
from sesctl_test import SesctlTestCase, clean_env, command

USER = "sesctl-smtp-app"
SCHEMAS = os.path.join(os.environ.get("SESCTL_SOURCE_ROOT", ""), "docs",
                       "schema")


def validator(name):
    store = {}
    for f in os.listdir(SCHEMAS):
        with open(os.path.join(SCHEMAS, f)) as fp:
            doc = json.load(fp)
        store[doc["$id"]] = doc
        if f == name + ".schema.json":
            mine = doc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver.from_schema(mine, store=store)
    return jsonschema.Draft7Validator(mine, resolver=resolver)


def doc(actions, effect="Allow", key="Action"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, key: actions, "Resource": "*"}]})


class StatusAudit(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = clean_env(HOME=self.tmp, SESCTL_STATE_DIR=self.tmp,
                             SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region="eu-west-1"))
        p = self.call("smtp", "enable", "--name", "app", "--region",
                     "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stderr)

    def call(self, *args):
        return subprocess.run(command(list(args)), capture_output=True,
                              stdin=subprocess.DEVNULL, env=self.env,
                              timeout=120)

    def status(self):
        """(text, JSON, exit of --check); --all must agree."""
        p = self.call("smtp", "status", "--name", "app")
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout.decode()
        p = self.call("smtp", "status", "--name", "app", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        one = json.loads(p.stdout)
        validator("status").validate(one)
        p = self.call("smtp", "status", "--all", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        every = json.loads(p.stdout)
        validator("status-list").validate(every)
        mine = [u for u in every["users"] if u["user"]["name"] == USER]
        self.assertEqual(len(mine), 1)
        for k in ("inline_policies", "attached_policies", "groups",
                  "login_profile", "other_credentials", "least_privilege",
                  "unknown"):
            self.assertEqual(mine[0][k], one[k], k)
        self.assertEqual([w["code"] for w in mine[0]["warnings"]],
                         [w["code"] for w in one["warnings"]])
        check = self.call("smtp", "status", "--name", "app", "--check")
        return text, one, check.returncode

    def codes(self, doc):
        return {w["code"]: w["severity"] for w in doc["warnings"]}

    def test_a_clean_user_is_least_privilege(self):
        text, one, rc = self.status()
        self.assertEqual(one["least_privilege"],
                         {"verdict": "yes", "beyond": []})
        self.assertEqual(one["inline_policies"], [])
        self.assertEqual(one["attached_policies"], [])
        self.assertEqual(one["groups"], [])
        self.assertIs(one["login_profile"], False)
        self.assertEqual(one["other_credentials"],
                         {"signing_certificates": 0, "ssh_public_keys": 0,
                          "service_specific_credentials": 0,
                          "mfa_devices": 0})
        self.assertEqual(one["unknown"], [])
        self.assertIn("privilege  least: it may send mail and nothing more",
                      text)
        self.assertEqual(rc, 0)

    def test_everything_attached_is_shown(self):
        self.iam.seed_user(
            USER, inline_policies={"extra-s3": doc("s3:*"),
                                   "mail-too": doc("ses:SendEmail")},
            attached_policies=(
                "arn:aws:iam::aws:policy/AdministratorAccess",),
            groups=("admins",), login_profile=True, ssh_public_keys=1,
            signing_certificates=2, mfa_devices=1)
        text, one, rc = self.status()
        by_name = {p["name"]: p["document"] for p in one["inline_policies"]}
        self.assertEqual(sorted(by_name), ["extra-s3", "mail-too"])
        # the documents, as JSON
        self.assertEqual(by_name["extra-s3"]["Statement"][0]["Action"],
                         "s3:*")
        self.assertEqual(one["attached_policies"],
                         ["arn:aws:iam::aws:policy/AdministratorAccess"])
        self.assertEqual(one["groups"], ["admins"])
        self.assertIs(one["login_profile"], True)
        self.assertEqual(one["other_credentials"]["ssh_public_keys"], 1)
        self.assertEqual(one["other_credentials"]["signing_certificates"], 2)
        self.assertEqual(one["other_credentials"]["mfa_devices"], 1)
        lp = one["least_privilege"]
        self.assertEqual(lp["verdict"], "no")
        # ses:SendEmail is sending mail: not beyond
        self.assertEqual(lp["beyond"], [
            "s3:* (inline policy extra-s3)",
            "whatever attached policy "
            "arn:aws:iam::aws:policy/AdministratorAccess allows",
            "whatever group admins allows"])
        codes = self.codes(one)
        self.assertEqual(codes["least-privilege"], "critical")
        self.assertEqual(codes["console-login"], "warning")
        self.assertEqual(codes["other-credentials"], "warning")
        self.assertEqual(rc, 2)
        for line in ("inline     extra-s3", "inline     mail-too",
                     "attached   arn:aws:iam::aws:policy/AdministratorAccess",
                     "group      admins", "login      console password",
                     "other      2 signing certificates, 1 SSH public key",
                     "privilege  more than sending mail: s3:* (inline "
                     "policy extra-s3)",
                     "warning    CRITICAL least-privilege:"):
            self.assertIn(line, text)
        # the --all table names the codes
        p = self.call("smtp", "status", "--all")
        row = p.stdout.decode().splitlines()[1].split()
        self.assertEqual(row[0], USER)
        self.assertIn("least-privilege!", row[-1].split(","))
        self.assertIn("console-login", row[-1].split(","))

    def test_a_rewritten_sesctl_policy_is_drift_and_beyond(self):
        self.iam.seed_user(USER, inline_policies={
            "sesctl-ses-send": doc(["ses:SendRawEmail", "iam:*"])})
        text, one, rc = self.status()
        self.assertTrue(one["policy"]["drift"])
        self.assertEqual(one["least_privilege"]["beyond"],
                         ["iam:* (policy sesctl-ses-send)"])
        codes = self.codes(one)
        self.assertEqual(codes["policy-drift"], "warning")
        self.assertEqual(codes["least-privilege"], "critical")
        self.assertEqual(rc, 2)
        # a NotAction Allow grants everything else
        self.iam.seed_user(USER, inline_policies={
            "sesctl-ses-send": doc("ses:SendRawEmail", key="NotAction")})
        _, one, _ = self.status()
        self.assertEqual(one["least_privilege"]["beyond"],
                         ["NotAction ses:SendRawEmail (policy "
                          "sesctl-ses-send)"])
        # a Deny widens nothing
        self.iam.seed_user(USER, inline_policies={
            "sesctl-ses-send": doc("ses:SendRawEmail"),
            "deny-all": doc("*", effect="Deny")})
        _, one, _ = self.status()
        self.assertEqual(one["least_privilege"]["verdict"], "yes")

    def test_what_it_may_not_read_is_unknown(self):
        self.iam.seed_user(USER, groups=("admins",))
        self.iam.deny(self.iam.admin["access_key_id"],
                      ["iam:ListGroupsForUser", "iam:GetLoginProfile"])
        # an IAM that lacks the action altogether, and one that fails
        self.iam.add_fault("error", "ListServiceSpecificCredentials",
                           times=None, status=501, code="NotImplemented",
                           message="not implemented")
        self.iam.add_fault("service_unavailable", "ListMFADevices",
                           times=None)
        text, one, rc = self.status()
        self.assertIsNone(one["groups"])
        self.assertIsNone(one["login_profile"])
        self.assertIsNone(
            one["other_credentials"]["service_specific_credentials"])
        self.assertIsNone(one["other_credentials"]["mfa_devices"])
        self.assertEqual(one["other_credentials"]["ssh_public_keys"], 0)
        unknown = {u["what"]: (u["permission"], u["error"])
                   for u in one["unknown"]}
        self.assertEqual(unknown["groups"],
                         ("iam:ListGroupsForUser", "AccessDenied"))
        self.assertEqual(unknown["login profile"],
                         ("iam:GetLoginProfile", "AccessDenied"))
        self.assertEqual(unknown["service-specific credentials"][0],
                         "iam:ListServiceSpecificCredentials")
        self.assertEqual(unknown["MFA devices"][0], "iam:ListMFADevices")
        # the group it could not see makes the verdict unknown, not yes
        self.assertEqual(one["least_privilege"]["verdict"], "unknown")
        self.assertEqual(self.codes(one), {"incomplete": "warning"})
        self.assertEqual(rc, 1)
        self.assertIn("unknown    groups: needs iam:ListGroupsForUser "
                      "(AccessDenied)", text)
        self.assertIn("privilege  unknown", text)

    def test_an_unreadable_other_policy_is_unknown(self):
        self.iam.seed_user(USER, inline_policies={"extra": doc("s3:*")})
        # the caller may read sesctl's policy but not the other one
        self.iam.add_fault("error", "GetUserPolicy", nth=2, times=None,
                           status=403, code="AccessDenied",
                           message="not authorized to perform: "
                                   "iam:GetUserPolicy")
        p = self.call("smtp", "status", "--name", "app", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        one = json.loads(p.stdout)
        self.assertEqual(one["inline_policies"],
                         [{"name": "extra", "document": None}])
        self.assertEqual(one["unknown"][0]["permission"], "iam:GetUserPolicy")
        self.assertEqual(one["least_privilege"]["verdict"], "unknown")


class NoSmtpEndpoint(SesctlTestCase):
    """Regions where AWS says SES has no SMTP endpoint: enable and rotate
    refuse (a host that does not exist), unless --verify proves one;
    status warns."""

    def setUp(self):
        self.iam = FakeIAM(tls=True)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = clean_env(HOME=self.tmp, SESCTL_STATE_DIR=self.tmp,
                             SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region="eu-west-1"))

    def call(self, *args):
        return subprocess.run(command(list(args)), capture_output=True,
                              stdin=subprocess.DEVNULL, env=self.env,
                              timeout=120)

    def test_enable_and_rotate_refuse_status_warns(self):
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "me-south-1")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"SES has no SMTP endpoint in 'me-south-1'", p.stderr)
        self.assertIn(b"(--region me-central-1)", p.stderr)
        self.assertEqual(self.iam.requests, [])
        # the advice works
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "me-central-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"SMTP_HOST=email-smtp.me-central-1.amazonaws.com",
                      p.stdout)
        n = len(self.iam.requests)
        p = self.call("smtp", "rotate", "--name", "app", "--region",
                      "af-south-1")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(self.iam.requests), n)
        self.assertEqual(len(self.iam.user(USER)["access_keys"]), 1)
        # status of that region warns, and is no failure
        p = self.call("smtp", "status", "--name", "app", "--region",
                      "af-south-1", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        one = json.loads(p.stdout)
        validator("status").validate(one)
        self.assertIn("no-smtp-endpoint",
                      [w["code"] for w in one["warnings"]])
        p = self.call("smtp", "status", "--name", "app")
        self.assertNotIn(b"no-smtp-endpoint", p.stdout)

    def test_verify_proves_an_endpoint_sesctl_does_not_know(self):
        smtp = FakeSESSMTP(self.iam, region="il-central-1")
        smtp.start()
        self.addCleanup(smtp.stop)
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "il-central-1", "--verify", "--smtp-endpoint-url",
                      smtp.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"SMTP_HOST=email-smtp.il-central-1.amazonaws.com",
                      p.stdout)


if __name__ == "__main__":
    unittest.main()
