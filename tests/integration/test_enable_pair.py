"""`sesctl smtp enable` makes the user's key while it writes the user's
policy, on a second connection opened by a GetUser beside CreateUser
(issue 14: one round trip less, and no handshake in between).  What the
overlap must not change: no key is delivered before its policy is written,
and a key made beside a policy that failed is deleted again, or, if that
fails too, named with the way to delete it and deleted by the rerun.

Every check reads IAM's state in the stand-in, and the output file."""
import os
import unittest

from sesctl_test import StandinTestCase, rounds

USER = "sesctl-smtp-app"
LATENCY = 1.0 if os.environ.get("SESCTL_VALGRIND") else 0.2


class EnablePair(StandinTestCase):
    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.tmp, "app.env")

    def enable(self):
        return self.call("smtp", "enable", "--name", "app", "--region",
                         "eu-west-1", "--output-file", self.out)

    def keys(self):
        u = self.iam.user(USER)
        return [k["access_key_id"] for k in u["access_keys"]] if u else []

    def delivered(self):
        with open(self.out) as f:
            env = dict(line.split("=", 1) for line in f.read().splitlines()
                       if "=" in line)
        return env["SMTP_USER"]

    def acts(self, name):
        return [r for r in self.iam.requests if r["action"] == name]

    def assert_enabled(self):
        """One key, the one in the file, with its record and policy."""
        self.assertEqual(self.keys(), [self.delivered()])
        tags = {t["Key"]: t["Value"] for t in self.iam.user(USER)["tags"]}
        self.assertEqual(tags["SesctlCurrentKey"], self.delivered())
        self.assertIsNotNone(self.policy(USER))

    def test_both_at_once_then_the_record(self):
        self.iam.set_latency(LATENCY)
        p = self.enable()
        self.iam.set_latency(0)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_enabled()
        got = [sorted(r["action"] for r in rnd)
               for rnd in rounds(self.iam.requests)]
        self.assertEqual(got, [["CreateUser", "GetUser"],
                               ["CreateAccessKey", "PutUserPolicy"],
                               ["TagUser"]])
        # round 1 opened both connections: round 2 opens none
        self.assertEqual(len(self.iam.iam_connection_ids()), 2)
        # the record goes out only once the policy is answered
        put = self.acts("PutUserPolicy")[0]
        tag = self.acts("TagUser")[0]
        self.assertGreaterEqual(tag["received_at"], put["answered_at"])

    def test_a_refused_policy_leaves_no_key(self):
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:PutUserPolicy"])
        p = self.enable()
        self.assertEqual(p.returncode, 3, p.stderr)
        err = p.stderr.decode()
        self.assertIn("PutUserPolicy", err)
        self.assertIn("was deleted again", err)
        # the key made beside it is gone, nothing was delivered
        self.assertEqual(len(self.acts("CreateAccessKey")), 1)
        self.assertEqual(self.keys(), [])
        self.assertFalse(os.path.exists(self.out))
        self.assertIsNone(self.policy(USER))
        # with the permission, the rerun finishes the job
        self.iam.deny(self.iam.admin["access_key_id"], [])
        p = self.enable()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_enabled()

    def test_a_lost_policy_answer_is_resolved(self):
        for kind, apply in (("service_failure", False),
                            ("service_failure", True),
                            ("close_after", True),
                            ("service_unavailable", True)):
            with self.subTest(kind=kind, apply=apply):
                self.iam.reset()
                if os.path.exists(self.out):
                    os.unlink(self.out)
                self.iam.add_fault(kind, "PutUserPolicy", apply=apply)
                p = self.enable()
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assert_enabled()
                self.assertEqual(len(self.acts("CreateAccessKey")), 1)

    def test_a_policy_that_keeps_failing_leaves_no_key(self):
        self.iam.add_fault("service_unavailable", "PutUserPolicy",
                           times=None)
        p = self.enable()
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assertEqual(self.keys(), [])
        self.assertFalse(os.path.exists(self.out))
        self.iam.clear_faults()
        p = self.enable()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_enabled()

    def test_a_key_that_cannot_be_deleted_again_is_named_and_rerun_deletes_it(
            self):
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:PutUserPolicy"])
        self.iam.add_fault("service_unavailable", "DeleteAccessKey",
                           times=None)
        p = self.enable()
        self.assertNotEqual(p.returncode, 0)
        err = p.stderr.decode()
        orphan = self.keys()
        self.assertEqual(len(orphan), 1)
        self.assertIn("could NOT be deleted again", err)
        self.assertIn("delete-access-key --user-name %s --access-key-id %s"
                      % (USER, orphan[0]), err)
        self.assertFalse(os.path.exists(self.out))
        self.iam.clear_faults()
        self.iam.deny(self.iam.admin["access_key_id"], [])
        p = self.enable()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_enabled()
        self.assertNotIn(orphan[0], self.keys())

    def test_a_lost_key_answer_beside_the_policy(self):
        self.iam.add_fault("close_after", "CreateAccessKey")
        p = self.enable()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_enabled()
        # the key whose answer was lost was found and deleted
        self.assertEqual(len(self.acts("CreateAccessKey")),
                         1 + len(self.acts("DeleteAccessKey")))

    def test_a_refused_policy_and_a_lost_key_answer(self):
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:PutUserPolicy"])
        self.iam.add_fault("close_after", "CreateAccessKey")
        p = self.enable()
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(self.keys(), [])
        self.assertFalse(os.path.exists(self.out))
        # (libcurl may send it again on its own: then there were two)
        self.assertGreaterEqual(len(self.acts("DeleteAccessKey")), 1)


if __name__ == "__main__":
    unittest.main()
