"""`sesctl smtp disable` needs only what it removes (issue 15) and takes
the fewest round trips (issue 14): the user and its keys read at once, the
keys and sesctl's policy deleted at once, DeleteUser.  Only a DeleteConflict
sends it looking (every kind of attachment at once); a kind the caller may
not list is named, with what is left.

Every check reads IAM's state in the stand-in; round trips are counted
from its request log with latency added to every answer."""
import json
import os
import unittest

from sesctl_test import StandinTestCase, rounds

USER = "sesctl-smtp-app"
LATENCY = 1.0 if os.environ.get("SESCTL_VALGRIND") else 0.2
# Two answers at 1 s each put rotate's record past LC_RECORD_SOON_MS (2 s)
# under valgrind: it then reads the keys back before the old key goes.
SLOW_CHECK = [["ListAccessKeys"]] if os.environ.get("SESCTL_VALGRIND") else []
# What only the DeleteConflict sweep reads.
SWEEP_ONLY = ["iam:ListUserPolicies", "iam:ListAttachedUserPolicies",
              "iam:ListGroupsForUser", "iam:GetLoginProfile",
              "iam:ListSigningCertificates", "iam:ListSSHPublicKeys",
              "iam:ListServiceSpecificCredentials", "iam:ListMFADevices"]


class Disable(StandinTestCase):
    def setUp(self):
        super().setUp()
        p = self.call("smtp", "enable", "--name", "app", "--region",
                      "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.iam.clear_requests()

    def disable(self, code=0):
        p = self.call("smtp", "disable", "--name", "app", "--yes")
        self.assertEqual(p.returncode, code, p.stderr)
        return p.stderr.decode()

    def test_a_plain_user_goes_in_three_round_trips(self):
        self.iam.set_latency(LATENCY)
        self.disable()
        self.iam.set_latency(0)
        self.assertIsNone(self.iam.user(USER))
        got = [sorted(r["action"] for r in rnd)
               for rnd in rounds(self.iam.requests)]
        self.assertEqual(got, [["GetUser", "ListAccessKeys"],
                               ["DeleteAccessKey", "DeleteUserPolicy"],
                               ["DeleteUser"]])

    def test_a_caller_without_the_sweep_permissions_disables_a_plain_user(
            self):
        self.iam.deny(self.iam.admin["access_key_id"], SWEEP_ONLY)
        self.disable()
        self.assertIsNone(self.iam.user(USER))
        self.assertFalse([r for r in self.iam.requests
                          if "iam:" + r["action"] in SWEEP_ONLY])

    def test_everything_else_is_found_on_delete_conflict(self):
        self.iam.seed_user(
            USER, inline_policies={"extra": json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:*",
                     "Resource": "*"}]})},
            attached_policies=("arn:aws:iam::aws:policy/AmazonSESFullAccess",),
            groups=("mailers",), login_profile=True, signing_certificates=1,
            ssh_public_keys=1, service_specific_credentials=1,
            virtual_mfa_devices=1, access_keys=1)
        self.iam.set_latency(LATENCY)
        self.disable()
        self.iam.set_latency(0)
        self.assertIsNone(self.iam.user(USER))
        acts = [r["action"] for r in self.iam.requests]
        self.assertEqual(acts.count("DeleteUser"), 2)
        # the first DeleteUser was refused, then everything was read at
        # once, removed at once (MFA: deactivated, then deleted), and the
        # user went
        got = [sorted(r["action"] for r in rnd)
               for rnd in rounds(self.iam.requests)]
        self.assertEqual(got[2], ["DeleteUser"])
        self.assertEqual(len(got[3]), 9)  # every kind, the keys too
        self.assertIn("RemoveUserFromGroup", got[4])
        self.assertIn("DetachUserPolicy", got[4])
        self.assertEqual(got[-1], ["DeleteUser"])
        self.assertLessEqual(len(got), 7)

    def test_a_kind_it_may_not_list_is_named_with_what_is_left(self):
        self.iam.seed_user(USER, groups=("mailers",))
        self.iam.deny(self.iam.admin["access_key_id"],
                      ["iam:ListGroupsForUser"])
        err = self.disable(code=3)
        self.assertIn("IAM user '%s' is left" % USER, err)
        self.assertIn("iam:ListGroupsForUser (its group memberships)", err)
        u = self.iam.user(USER)
        self.assertIsNotNone(u)
        # what sesctl made is gone: no SMTP password works any more
        self.assertEqual(u["access_keys"], [])
        self.assertEqual(u["inline_policies"], [])
        # with the permission, the rerun finishes the job
        self.iam.deny(self.iam.admin["access_key_id"], [])
        self.disable()
        self.assertIsNone(self.iam.user(USER))

    def test_a_sweep_list_that_keeps_failing_is_no_permission_problem(self):
        self.iam.seed_user(USER, groups=("mailers",))
        self.iam.add_fault("service_unavailable", "ListGroupsForUser",
                           times=None)
        err = self.disable(code=6)
        self.assertIn("listing its group memberships failed", err)
        self.assertNotIn("the caller needs", err)
        self.assertEqual(self.iam.user(USER)["access_keys"], [])
        self.iam.clear_faults()
        self.disable()
        self.assertIsNone(self.iam.user(USER))

    def test_a_lost_answer_to_a_concurrent_removal_is_resolved(self):
        self.iam.seed_user(USER, groups=("mailers",), access_keys=1)
        for kind, action in (("service_failure+applied",
                              "DeleteAccessKey"),
                             ("close_after", "DeleteUserPolicy"),
                             ("service_unavailable+applied",
                              "RemoveUserFromGroup")):
            k, _, applied = kind.partition("+")
            if applied:
                self.iam.add_fault(k, action, apply=True)
            else:
                self.iam.add_fault(k, action)
        self.disable()
        self.assertIsNone(self.iam.user(USER))
        # each lost answer was resolved by its typed call, once more
        acts = [r["action"] for r in self.iam.requests]
        self.assertEqual(acts.count("DeleteAccessKey"), 2 + 1)
        # (a closed connection: libcurl may send it again by itself too)
        self.assertGreaterEqual(acts.count("DeleteUserPolicy"), 1 + 1)
        self.assertEqual(acts.count("RemoveUserFromGroup"), 1 + 1)

    def test_dry_run_lists_everything_and_names_what_it_cannot_list(self):
        self.iam.seed_user(USER, groups=("mailers",), login_profile=True)
        self.iam.deny(self.iam.admin["access_key_id"],
                      ["iam:ListSSHPublicKeys"])
        p = self.call("smtp", "disable", "--name", "app", "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        for line in ("DeleteAccessKey UserName=%s" % USER,
                     "DeleteUserPolicy UserName=%s PolicyName="
                     "sesctl-ses-send" % USER,
                     "RemoveUserFromGroup UserName=%s GroupName=mailers"
                     % USER,
                     "DeleteLoginProfile UserName=%s" % USER,
                     "# could not list its SSH public keys (the caller "
                     "needs iam:ListSSHPublicKeys)",
                     "DeleteUser UserName=%s" % USER):
            self.assertIn(line, out)
        self.assertTrue(out.rstrip("\n").endswith("DeleteUser UserName=%s"
                                                  % USER))
        self.assertIsNotNone(self.iam.user(USER))
        self.assertFalse([r for r in self.iam.requests
                          if not r["action"].startswith(("Get", "List"))])


class RoundTrips(StandinTestCase):
    """Rounds of IAM requests (latency added to every answer) of enable
    and rotate: the reads that do not depend on each other at once; the
    changes in the order the delivery record needs (the new key written
    and recorded before the old one goes; seen still there first only
    when it was recorded late, see LC_SETTLE_MS)."""

    def rounds_of(self, *args):
        self.iam.clear_requests()
        self.iam.set_latency(LATENCY)
        p = self.call(*args)
        self.iam.set_latency(0)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [sorted(r["action"] for r in rnd)
                for rnd in rounds(self.iam.requests)]

    def test_enable_and_rotate(self):
        app = os.path.join(self.tmp, "app.env")
        self.assertEqual(
            self.rounds_of("smtp", "enable", "--name", "app", "--region",
                           "eu-west-1", "--output-file", app),
            [["CreateUser", "GetUser"], ["CreateAccessKey", "PutUserPolicy"],
             ["TagUser"]])
        self.assertEqual(
            self.rounds_of("smtp", "rotate", "--name", "app",
                           "--output-file", app),
            [["GetUser", "ListAccessKeys"], ["CreateAccessKey"],
             ["TagUser"]] + SLOW_CHECK + [["DeleteAccessKey"]])
        self.assertEqual(
            self.rounds_of("smtp", "rotate", "--name", "app",
                           "--output-file", app, "--keep-old"),
            [["GetUser", "ListAccessKeys"], ["CreateAccessKey"],
             ["TagUser"]])

    def test_rotate_recorded_late_reads_the_keys_back(self):
        # Recorded more than LC_RECORD_SOON_MS (2 s) after CreateAccessKey:
        # a run on another machine may have deleted the new key as one
        # whose secret was lost, so rotate looks before the old key goes.
        app = os.path.join(self.tmp, "app.env")
        self.rounds_of("smtp", "enable", "--name", "app", "--region",
                       "eu-west-1", "--output-file", app)
        self.iam.add_fault("slow", "TagUser", delay=2.5, before=True)
        self.assertEqual(
            self.rounds_of("smtp", "rotate", "--name", "app",
                           "--output-file", app),
            [["GetUser", "ListAccessKeys"], ["CreateAccessKey"],
             ["TagUser"], ["ListAccessKeys"], ["DeleteAccessKey"]])


if __name__ == "__main__":
    unittest.main()
