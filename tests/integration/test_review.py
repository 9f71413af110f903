"""Bugs a review of 2026-12-03's changes found (rotate --adopt, enable
--repair, disable's removals, status --all): each test shows one by IAM's
state or by what a user would notice, and failed before its fix."""
import json
import os
import unittest

from sesctl_test import StandinTestCase

USER = "sesctl-smtp-app"
CONSOLE = "ses-smtp-user.20261101-120000"
SENDING = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]})


class Base(StandinTestCase):
    def setUp(self):
        super().setUp()
        self.env["AWS_ENDPOINT_URL_STS"] = self.iam.url

    def policy(self, user=USER, name="sesctl-ses-send"):
        return super().policy(user, name)

    def set_policy(self, name, doc, user=USER):
        super().set_policy(user, name, doc)


def resources(doc):
    out = []
    st = doc["Statement"]
    for s in (st if isinstance(st, list) else [st]):
        r = s.get("Resource", [])
        out += r if isinstance(r, list) else [r]
    return out


class Repair(Base):
    """enable --repair must keep the scope the policy still names."""

    def setUp(self):
        super().setUp()
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "eu-west-1", "--identity", "example.com",
                      "--from-address", "*@example.com")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.written = self.policy()

    def test_repair_of_a_changed_action_keeps_the_identity_scope(self):
        # someone changed only the Action; Resource and the FromAddress
        # condition still name example.com, but the statement no longer
        # allows SendRawEmail, so output_policy_scope skips it and repair
        # writes Resource "*" with no condition: every identity of the
        # account, any From address
        drifted = json.loads(json.dumps(self.written))
        drifted["Statement"][0]["Action"] = "ses:SendEmail"
        self.set_policy("sesctl-ses-send", drifted)
        p = self.call("smtp", "enable", "--repair", "--name", "app")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("*", resources(self.policy()), self.policy())
        self.assertEqual(self.policy(), self.written)

    def test_status_advice_for_a_deleted_policy_keeps_the_scope(self):
        # status's policy-missing warning says 'enable --repair --name
        # app'; pasted as is, it grants sending as every identity
        self.set_policy("sesctl-ses-send", None)
        p = self.call("smtp", "status", "--name", "app", "--format", "json")
        adv = [w["message"].split("'")[-2]
               for w in json.loads(p.stdout)["warnings"]
               if w["code"] == "policy-missing"]
        self.assertTrue(adv, p.stdout)
        p = self.call(*adv[0].split()[1:])
        if p.returncode == 0:
            self.assertNotIn("*", resources(self.policy()), self.policy())


class Adopt(Base):
    def test_a_refused_adopt_changes_nothing(self):
        # two live keys and no record: rotate --adopt refuses (exit 5), as
        # documented, but only after TagUser: the console user is now
        # ManagedBy=sesctl (disable deletes it without --force, status
        # --all calls it adopted), though sesctl took nothing over
        self.iam.seed_user(CONSOLE, inline_policies={
            "AmazonSesSendingAccess": SENDING}, access_keys=2)
        before = self.iam.user(CONSOLE)
        p = self.call("smtp", "rotate", "--adopt", "--user-name", CONSOLE,
                      "--region", "eu-west-1", "--output-file",
                      os.path.join(self.tmp, "app.env"))
        self.assertEqual(p.returncode, 5, p.stderr)
        after = self.iam.user(CONSOLE)
        self.assertEqual(after["access_keys"], before["access_keys"])
        self.assertEqual(after["tags"], before["tags"])


class Disable(Base):
    def setUp(self):
        super().setUp()
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.iam.seed_user(USER, virtual_mfa_devices=1)
        self.iam.clear_requests()

    def test_a_lost_answer_to_delete_virtual_mfa_device_is_resolved(self):
        # every other removal's lost answer is resolved (sent again,
        # NoSuchEntity = done); this one fails the run (exit 6) with the
        # device gone and the user left
        self.iam.add_fault("service_failure", "DeleteVirtualMFADevice",
                           apply=True)
        p = self.call("smtp", "disable", "--name", "app", "--yes")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsNone(self.iam.user(USER))


class StatusAll(Base):
    def setUp(self):
        super().setUp()
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.iam.seed_user(CONSOLE, inline_policies={
            "AmazonSesSendingAccess": SENDING}, access_keys=1)

    def test_one_unreadable_user_does_not_hide_the_others(self):
        # one GetUser refused (a resource-scoped deny, or a 5xx that
        # outlasts the retries): status --all prints nothing for any user
        # (JSON, prometheus, table); other reads become "unknown", this
        # one takes the whole account down
        self.iam.add_fault("error", "GetUser", status=403,
                           code="AccessDenied", message="denied")
        p = self.call("smtp", "status", "--all", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(len(doc["users"]), 1)
        self.assertEqual(len(doc["unreadable"]), 1)
        self.assertIn("AccessDenied", doc["unreadable"][0]["error"])
        self.assertIn(b"could not read IAM user", p.stderr)
        # --check says so, the table has a row for it
        self.iam.add_fault("error", "GetUser", status=403,
                           code="AccessDenied", message="denied")
        p = self.call("smtp", "status", "--all", "--check")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn(b"SESCTL WARNING - could not read 1 of 2 SMTP users",
                      p.stdout)
        self.assertIn(b"users_unreadable=1;", p.stdout)
        self.iam.add_fault("error", "GetUser", status=403,
                           code="AccessDenied", message="denied")
        p = self.call("smtp", "status", "--all")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stdout.splitlines()), 3)
        self.assertIn(b"unreadable!", p.stdout)


if __name__ == "__main__":
    unittest.main()
