"""`sesctl smtp status` as an audit (issue 15): everything attached to a
user, a least-privilege verdict, and what it may not read shown as
unknown with the permission that would reveal it, never a failure.

Each test builds the state in the IAM stand-in, then reads what status
says in text, in JSON (validated against docs/schema/status.schema.json)
and with --all, which must say the same of the user."""
import json
import os
import unittest

from standins.ses_smtp import FakeSESSMTP
from sesctl_test import (StandinTestCase, env_lines, schema_validator,
                         smtp_password)

USER = "sesctl-smtp-app"
validator = schema_validator


def doc(actions, effect="Allow", key="Action"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, key: actions, "Resource": "*"}]})


class StatusAudit(StandinTestCase):
    def setUp(self):
        super().setUp()
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stderr)

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


class NoSmtpEndpoint(StandinTestCase):
    """Regions where AWS says SES has no SMTP endpoint: enable and rotate
    refuse (a host that does not exist), unless --verify proves one;
    status warns."""

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


class Repair(StandinTestCase):
    """enable --repair writes sesctl's policy back as sesctl wrote it (its
    --identity/--from-address scope kept), and touches nothing else."""

    def setUp(self):
        super().setUp()
        self.env["AWS_ENDPOINT_URL_STS"] = self.iam.url
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "eu-west-1", "--identity", "example.com",
                      "--from-address", "*@example.com")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.written = self.policy()
        self.keys = self.iam.user(USER)["access_keys"]

    def policy(self, name="sesctl-ses-send"):
        return super().policy(USER, name)

    def set_policy(self, name, doc):
        super().set_policy(USER, name, doc)

    def drift_advice(self):
        p = self.call("smtp", "status", "--name", "app", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        for w in json.loads(p.stdout)["warnings"]:
            if w["code"] in ("policy-drift", "policy-missing"):
                return w["message"].split("'")[-2]
        return None

    def test_a_widened_policy_is_written_back_with_its_scope(self):
        self.assertIn("example.com", json.dumps(self.written))
        widened = json.loads(json.dumps(self.written))
        widened["Statement"][0]["Action"] = ["ses:SendRawEmail", "iam:*"]
        self.set_policy("sesctl-ses-send", widened)
        self.set_policy("extra", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "*"}]})
        advice = self.drift_advice()
        self.assertEqual(advice, "sesctl smtp enable --repair --name app")
        # the dry run says what it would write, and writes nothing
        n = len(self.iam.requests)
        p = self.call("smtp", "enable", "--repair", "--name", "app",
                      "--dry-run", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        plan = json.loads(p.stdout)
        validator("plan").validate(plan)
        self.assertEqual([s["action"] for s in plan["steps"]],
                         ["PutUserPolicy"])
        self.assertEqual(json.loads(plan["steps"][0]["params"]
                                    ["PolicyDocument"]), self.written)
        self.assertFalse([r for r in self.iam.requests[n:]
                          if not r["action"].startswith(("Get", "List"))])
        # the advice, pasted
        p = self.call(*advice.split()[1:])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.policy(), self.written)
        # nothing else changed: the other policy, the keys
        self.assertIsNotNone(self.policy("extra"))
        self.assertEqual(self.iam.user(USER)["access_keys"], self.keys)
        self.assertIsNone(self.drift_advice())
        # a second run has nothing to do
        n = len(self.iam.requests)
        p = self.call("smtp", "enable", "--repair", "--name", "app")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"nothing to repair", p.stderr)
        self.assertNotIn("PutUserPolicy",
                         [r["action"] for r in self.iam.requests[n:]])

    def test_a_deleted_policy_is_put_back(self):
        self.set_policy("sesctl-ses-send", None)
        self.assertEqual(self.drift_advice(),
                         "sesctl smtp enable --repair --name app")
        # gone, the policy names no scope: repair will not guess one
        p = self.call("smtp", "enable", "--repair", "--name", "app")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"give the --identity and --from-address", p.stderr)
        self.assertIsNone(self.policy())
        p = self.call("smtp", "enable", "--repair", "--name", "app",
                      "--identity", "example.com", "--from-address",
                      "*@example.com", "--region", "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.policy(), self.written)
        # one that had no scope: --yes says so
        self.set_policy("sesctl-ses-send", None)
        p = self.call("smtp", "enable", "--repair", "--name", "app", "--yes")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.policy()["Statement"][0]["Resource"], "*")

    def test_refusals(self):
        for args, code, msg in (
                (("--output-file", os.path.join(self.tmp, "x")), 2,
                 b"--output-file has no use there"),
                (("--verify",), 2, b"--verify has no use there")):
            p = self.call("smtp", "enable", "--repair", "--name", "app",
                          *args)
            self.assertEqual(p.returncode, code, p.stderr)
            self.assertIn(msg, p.stderr)
        p = self.call("smtp", "enable", "--repair", "--name", "nobody")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.iam.seed_user("hand", access_keys=1)
        p = self.call("smtp", "enable", "--repair", "--user-name", "hand")
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertIn(b"rotate --adopt", p.stderr)


CONSOLE = "ses-smtp-user.20261101-120000"
SENDING = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]})


class ConsoleUser(StandinTestCase):
    """A user the SES console made (inline policy AmazonSesSendingAccess,
    one live key), as a team moving to sesctl has: status judges its own
    policy, status --all finds it, and rotate --adopt takes it over while
    the app keeps sending (an SMTP login with the app's file succeeds at
    every step)."""

    def setUp(self):
        super().setUp()
        self.smtp = FakeSESSMTP(self.iam, region=self.region)
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        self.iam.seed_user(CONSOLE, path="/",
                           inline_policies={"AmazonSesSendingAccess":
                                            SENDING},
                           access_keys=1)
        self.live = self.iam.user(CONSOLE)["access_keys"][0]
        # the app's settings, as the console gave them
        self.app = os.path.join(self.tmp, "app.env")
        with open(self.app, "w") as f:
            f.write("SMTP_HOST=email-smtp.%s.amazonaws.com\nSMTP_PORT=587\n"
                    "SMTP_USER=%s\nSMTP_PASS=%s\n" % (
                        self.region, self.live["access_key_id"],
                        smtp_password(self.live["secret_access_key"],
                                      self.region)))
        os.chmod(self.app, 0o600)

    def assert_app_sends(self, step):
        p = self.call("smtp", "verify", "--credentials-file", self.app,
                      "--smtp-endpoint-url", self.smtp.url)
        self.assertEqual(p.returncode, 0, (step, p.stderr))

    def status(self):
        p = self.call("smtp", "status", "--user-name", CONSOLE, "--format",
                      "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        validator("status").validate(doc)
        return doc

    def test_status_judges_its_own_policy(self):
        doc = self.status()
        self.assertEqual(doc["user"]["origin"], "ses-console")
        codes = [w["code"] for w in doc["warnings"]]
        # no false "SES refuses this user's mail"
        self.assertNotIn("policy-missing", codes)
        self.assertEqual(codes, ["not-managed"])
        self.assertEqual(doc["least_privilege"]["verdict"], "yes")
        p = self.call("smtp", "status", "--user-name", CONSOLE)
        self.assertIn(b"origin     made by the SES console; 'sesctl smtp "
                      b"rotate --adopt --user-name %s --keep-old' takes it "
                      b"over" % CONSOLE.encode(), p.stdout)
        # without any policy that sends, it is critical
        self.iam.seed_user("ses-smtp-user.20261102-000000", path="/",
                           access_keys=1)
        p = self.call("smtp", "status", "--user-name",
                      "ses-smtp-user.20261102-000000", "--check")
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertIn(b"policy-missing", p.stdout)

    def test_all_finds_console_and_adopted_users_wherever_they_are(self):
        # sesctl's own, an adopted one outside /sesctl/, a console one,
        # and a user that is nothing of the kind
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      self.region)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.iam.seed_user("mailer", path="/apps/",
                           tags={"ManagedBy": "sesctl"}, access_keys=1,
                           inline_policies={"sesctl-ses-send": SENDING})
        self.iam.seed_user("deploy-bot", path="/", access_keys=1,
                           inline_policies={"s3": doc("s3:*")})
        # made by hand: its only policy sends mail
        self.iam.seed_user("legacy-smtp", path="/mail/", access_keys=1,
                           inline_policies={"send": SENDING})
        p = self.call("smtp", "status", "--all", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        every = json.loads(p.stdout)
        validator("status-list").validate(every)
        got = {u["user"]["name"]: u["user"]["origin"]
               for u in every["users"]}
        self.assertEqual(got, {"sesctl-smtp-app": "sesctl",
                               "mailer": "adopted",
                               CONSOLE: "ses-console",
                               "legacy-smtp": "elsewhere"})
        rows = self.call("smtp", "status", "--all").stdout.decode()
        origin = {r.split()[0]: r.split()[2] for r in rows.splitlines()[1:]}
        self.assertEqual(origin[CONSOLE], "ses-console")
        # a caller that may not read tags outside /sesctl/ is told
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:ListUserTags"])
        p = self.call("smtp", "status", "--all", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        # (mailer, deploy-bot and the stand-in's own callers)
        self.assertRegex(p.stderr, rb"could not read the tags of \d+ users "
                                   rb"outside /sesctl/")
        self.assertEqual(sorted(u["user"]["name"]
                                for u in json.loads(p.stdout)["users"]),
                         sorted(["sesctl-smtp-app", CONSOLE]))

    def test_migrate_a_live_console_user_without_downtime(self):
        self.assert_app_sends("the console's settings")
        old = self.live["access_key_id"]
        # plain rotate refuses a user sesctl does not manage, and says how
        p = self.call("smtp", "rotate", "--user-name", CONSOLE, "--region",
                      self.region, "--output-file", self.app)
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertIn(b"pass --adopt", p.stderr)
        # the dry run names the take-over
        p = self.call("smtp", "rotate", "--adopt", "--keep-old",
                      "--user-name", CONSOLE, "--region", self.region,
                      "--output-file", self.app, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"TagUser UserName=%s Tags=ManagedBy=sesctl"
                      % CONSOLE.encode(), p.stdout)
        self.assert_app_sends("after the dry run")
        # take it over: a new key delivered, the live one kept
        p = self.call("smtp", "rotate", "--adopt", "--keep-old",
                      "--user-name", CONSOLE, "--region", self.region,
                      "--output-file", self.app, "--verify",
                      "--smtp-endpoint-url", self.smtp.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_app_sends("after rotate --adopt --keep-old")
        with open(self.app) as f:
            new = env_lines(f.read())["SMTP_USER"]
        self.assertNotEqual(new, old)
        keys = {k["access_key_id"]: k["status"]
                for k in self.iam.user(CONSOLE)["access_keys"]}
        self.assertEqual(keys, {old: "Active", new: "Active"})
        doc = self.status()
        self.assertEqual(doc["user"]["origin"], "adopted")
        self.assertTrue(doc["user"]["managed"])
        self.assertEqual({k["id"]: k["record"] for k in doc["keys"]},
                         {old: "kept", new: "current"})
        # apps still on the console's settings keep sending meanwhile
        with open(self.app + ".old", "w") as f:
            f.write("SMTP_USER=%s\nSMTP_PASS=%s\n" % (old, smtp_password(
                self.live["secret_access_key"], self.region)))
        p = self.call("smtp", "verify", "--credentials-file",
                      self.app + ".old", "--region", self.region,
                      "--smtp-endpoint-url", self.smtp.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        # every app moved: finish, no --adopt or --force needed now
        p = self.call("smtp", "rotate", "--finish", "--user-name", CONSOLE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([k["access_key_id"] for k in
                          self.iam.user(CONSOLE)["access_keys"]], [new])
        self.assert_app_sends("after rotate --finish")
        # and from now on it rotates like any user of sesctl's
        p = self.call("smtp", "rotate", "--user-name", CONSOLE,
                      "--output-file", self.app)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_app_sends("after a plain rotate")
        self.assertEqual(len(self.iam.user(CONSOLE)["access_keys"]), 1)


if __name__ == "__main__":
    unittest.main()
