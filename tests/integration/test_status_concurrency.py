"""`sesctl smtp status` makes its independent IAM calls at once.

For one user: GetUser, GetUserPolicy, ListAccessKeys and the reads of
everything else attached together, then GetAccessKeyLastUsed for every key
and GetUserPolicy for every other inline policy together: two round trips
whatever the number of keys and policies.  With --all: ListUsers, then the
same two rounds over every user, at most 8 requests in flight.

Concurrency is shown by the stand-in's request log, not by a stopwatch:
with latency added to every answer, each request's [received_at,
answered_at] interval overlaps those of its round and none of the next.
Faults on one of the concurrent calls are retried on their own, and a
failing concurrent call gives the error and exit code the one-by-one
calls gave (the first failure in the old order wins)."""
import json
import os
import subprocess
import tempfile
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SesctlTestCase, clean_env, command, most_at_once,
                         overlap, rounds)

USER = "sesctl-smtp"
NOW = "2026-11-23T12:00:00Z"
NOW_EPOCH = "1795435200"  # NOW as seconds
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}
# Every answer is held back this long.  Under valgrind sesctl itself is
# slow enough that a round's requests could go out further apart.
LATENCY = 1.0 if os.environ.get("SESCTL_VALGRIND") else 0.2


# What status reads of a user: the user, sesctl's policy and the keys,
# everything else attached; then (USER has two keys and two more inline
# policies) when each key was last used and the other policies.
FIRST_ROUND = ["GetUser", "GetUserPolicy", "ListAccessKeys",
               "ListUserPolicies", "ListAttachedUserPolicies",
               "ListGroupsForUser", "GetLoginProfile",
               "ListSigningCertificates", "ListSSHPublicKeys",
               "ListServiceSpecificCredentials", "ListMFADevices"]
SECOND_ROUND = ["GetAccessKeyLastUsed", "GetAccessKeyLastUsed",
                "GetUserPolicy", "GetUserPolicy"]


class StatusConcurrency(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=23, now=NOW)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                             SESCTL_TEST_NOW=NOW_EPOCH,
                             **self.iam.env(region="eu-west-1"))
        # A user with two keys (one used), its own policy, more inline
        # policies and attached ones.
        self.iam.seed_user(
            USER, path="/sesctl/",
            tags={"ManagedBy": "sesctl", "SesctlName": "default"},
            access_keys=[{"create_date": "2026-11-01T00:00:00Z"},
                         {"create_date": "2026-11-20T00:00:00Z",
                          "status": "Inactive"}],
            inline_policies={"sesctl-ses-send": POLICY,
                             "extra-1": POLICY, "extra-2": POLICY},
            attached_policies=["arn:aws:iam::aws:policy/AmazonSESReadOnlyAccess",
                               "arn:aws:iam::aws:policy/IAMUserChangePassword"])
        self.akids = [k["access_key_id"] for k in self.iam.user(USER)["access_keys"]]
        self.iam.set_access_key(self.akids[0], last_used={
            "date": "2026-11-22T08:00:00Z", "service": "ses",
            "region": "eu-west-1"})

    def sesctl(self, *args, code=0):
        p = subprocess.run(command(args), capture_output=True, env=self.env,
                           timeout=120)
        self.assertEqual(p.returncode, code,
                         "sesctl %s: exit %d, want %d\nstdout: %s\n"
                         "stderr: %s" % (" ".join(args), p.returncode, code,
                                         p.stdout.decode(),
                                         p.stderr.decode()))
        self.err = p.stderr.decode()
        return p.stdout.decode()

    def actions(self):
        return [r["action"] for r in self.iam.requests]

    # ---- concurrency ------------------------------------------------------

    def test_status_takes_two_round_trips(self):
        self.iam.set_latency(LATENCY)
        out = self.sesctl("smtp", "status", "--debug")
        reqs = self.iam.requests
        self.assertEqual(sorted(r["action"] for r in reqs),
                         sorted(FIRST_ROUND + SECOND_ROUND))
        self.assertTrue(all(r["sigv4"]["ok"] for r in reqs))
        got = [sorted(r["action"] for r in rnd) for rnd in rounds(reqs)]
        self.assertEqual(got, [sorted(FIRST_ROUND), sorted(SECOND_ROUND)])
        # each round's requests were in flight together...
        by = {}
        for r in reqs:
            by.setdefault(r["action"], []).append(r)
        self.assertTrue(overlap(by["GetUser"][0], by["GetUserPolicy"][0]))
        self.assertTrue(overlap(by["GetUserPolicy"][0],
                                by["ListAccessKeys"][0]))
        self.assertTrue(overlap(*by["GetAccessKeyLastUsed"]))
        # ...and every answer was held back, so rounds cannot overlap
        self.assertTrue(all(r["answered_at"] - r["received_at"] >= LATENCY
                            for r in reqs))
        # a connection for each read of the first round, reused by the
        # second; the count sesctl reports agrees
        self.assertEqual(len(self.iam.iam_connection_ids()), 11)
        self.assertIn("15 IAM requests on 11 connections", self.err)
        # interleaved --debug lines say which transfer they belong to
        self.assertIn("debug: #1 > POST / HTTP/1.1", self.err)
        self.assertIn("debug: #4 > POST / HTTP/1.1", self.err)
        self.assertNotIn(self.iam.admin["secret_access_key"], self.err)
        # the answer is the one the calls made one by one gave
        self.iam.set_latency(0)
        self.assertEqual(out, self.sesctl("smtp", "status"))
        self.assertIn("key        %s Active" % self.akids[0], out)
        self.assertIn("last used 2026-11-22T08:00:00Z (ses, eu-west-1)", out)
        self.assertIn("key        %s Inactive" % self.akids[1], out)

    def test_status_all_caps_requests_in_flight(self):
        for i in range(11):
            self.iam.seed_user("sesctl-smtp-app%02d" % i, path="/sesctl/",
                               tags={"ManagedBy": "sesctl",
                                     "SesctlName": "app%02d" % i},
                               access_keys=1 + i % 2)
        want = self.sesctl("smtp", "status", "--all")
        want_json = self.sesctl("smtp", "status", "--all", "--format", "json")
        self.iam.clear_requests()
        self.iam.set_latency(LATENCY / 2)
        self.assertEqual(self.sesctl("smtp", "status", "--all"), want)
        reqs = self.iam.requests
        # each user as single status reads it: the user with its tags,
        # the policy, the keys, everything else attached, then when each
        # key was last used and the other inline policies
        # (the stand-in's own users outside /sesctl/: their tags and
        # policy names are read to see whether they are SMTP users)
        others = self.actions().count("ListUserTags")
        for action in FIRST_ROUND:
            if action == "ListUserPolicies":
                self.assertEqual(self.actions().count(action), 12 + others)
            elif action != "GetUserPolicy":
                self.assertEqual(self.actions().count(action), 12, action)
        self.assertEqual(self.actions().count("GetUserPolicy"), 12 + 2)
        self.assertEqual(self.actions().count("GetAccessKeyLastUsed"),
                         sum(1 + i % 2 for i in range(11)) + 2)
        # 132 + 20 calls, at most 8 at a time, so at least 19 rounds after
        # ListUsers, far fewer than 152
        self.assertLessEqual(most_at_once(reqs), 8)
        self.assertGreaterEqual(most_at_once(reqs), 4)
        self.assertLessEqual(len(rounds(reqs)), 40)
        self.assertLessEqual(len(self.iam.iam_connection_ids()), 8)
        self.assertEqual(self.sesctl("smtp", "status", "--all", "--format",
                                     "json"), want_json)

    def test_status_all_lists_every_user_in_full(self):
        # 200 users (several pages of ListUsers), more than any fixed
        # buffer held: a row and an object for each, nothing cut
        for i in range(199):
            self.iam.seed_user("sesctl-smtp-user%03d" % i, path="/sesctl/",
                               tags={"ManagedBy": "sesctl",
                                     "SesctlName": "user%03d" % i},
                               access_keys=1,
                               inline_policies={"sesctl-ses-send": POLICY})
        text = self.sesctl("smtp", "status", "--all")
        rows = text.splitlines()
        self.assertEqual(rows[0].split()[0], "USER")
        self.assertEqual(len(rows), 201)
        self.assertEqual(rows[-1].split()[0], "sesctl-smtp-user198")
        doc = json.loads(self.sesctl("smtp", "status", "--all", "--format",
                                     "json"))
        self.assertEqual(len(doc["users"]), 200)
        self.assertEqual(sorted(u["user"]["name"] for u in doc["users"]),
                         sorted(r.split()[0] for r in rows[1:]))
        self.assertEqual(doc["users"][-1]["keys"][0]["status"], "Active")

    # ---- faults on a concurrent call are retried on their own ---------------

    def test_throttling_and_500_on_concurrent_calls_are_retried(self):
        want = self.sesctl("smtp", "status")
        self.iam.clear_requests()
        self.iam.set_latency(LATENCY / 4)
        self.iam.add_fault("throttling", "ListAccessKeys")
        self.iam.add_fault("service_failure", "GetAccessKeyLastUsed")
        self.iam.add_fault("service_unavailable", "GetUserPolicy")
        self.assertEqual(self.sesctl("smtp", "status"), want)
        acts = self.actions()
        self.assertEqual(acts.count("ListAccessKeys"), 2)
        self.assertEqual(acts.count("GetUserPolicy"), 2 + 2)
        self.assertEqual(acts.count("GetAccessKeyLastUsed"), 3)
        self.assertEqual(sorted(r["fault"] for r in self.iam.requests
                                if r["fault"]),
                         ["service_failure", "service_unavailable",
                          "throttling"])

    def test_dropped_connections_on_concurrent_calls_are_retried(self):
        want = self.sesctl("smtp", "status")
        self.iam.clear_requests()
        self.iam.add_fault("reset_before", "ListAccessKeys")
        self.iam.add_fault("close_after", "GetUserPolicy")
        self.iam.add_fault("close_before", "GetAccessKeyLastUsed", nth=2)
        self.assertEqual(self.sesctl("smtp", "status"), want)
        acts = self.actions()
        self.assertEqual(acts.count("ListAccessKeys"), 2)
        self.assertEqual(acts.count("GetUserPolicy"), 2 + 2)
        self.assertEqual(acts.count("GetAccessKeyLastUsed"), 3)

    def test_all_retries_a_throttled_call(self):
        self.iam.seed_user("sesctl-smtp-app", path="/sesctl/",
                           tags={"ManagedBy": "sesctl", "SesctlName": "app"},
                           access_keys=1)
        want = self.sesctl("smtp", "status", "--all")
        self.iam.add_fault("throttling", "ListAccessKeys", nth=2)
        self.iam.add_fault("internal_failure", "GetUser")
        self.assertEqual(self.sesctl("smtp", "status", "--all"), want)

    # ---- a failing concurrent call: the error the one-by-one calls gave -----

    def test_denied_concurrent_call(self):
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:ListAccessKeys"])
        self.assertEqual(self.sesctl("smtp", "status", code=3), "")
        self.assertIn("IAM refused ListAccessKeys (AccessDenied)", self.err)
        self.assertIn("the caller needs permission 'iam:ListAccessKeys'",
                      self.err)

    def test_two_failing_calls_report_the_first_in_the_old_order(self):
        # GetUserPolicy used to come before ListAccessKeys
        self.iam.deny(self.iam.admin["access_key_id"],
                      ["iam:ListAccessKeys", "iam:GetUserPolicy"])
        self.sesctl("smtp", "status", code=3)
        self.assertIn("IAM refused GetUserPolicy (AccessDenied)", self.err)
        self.assertNotIn("ListAccessKeys", self.err)
        # and a failing key lookup only counts after both
        self.iam.deny(self.iam.admin["access_key_id"],
                      ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"])
        self.sesctl("smtp", "status", code=3)
        self.assertIn("IAM refused ListAccessKeys (AccessDenied)", self.err)

    def test_concurrent_call_that_keeps_failing(self):
        self.iam.add_fault("service_failure", "GetAccessKeyLastUsed",
                           nth=2, times=None)
        self.assertEqual(self.sesctl("smtp", "status", code=6), "")
        self.assertIn("gave up after 3 attempts: GetAccessKeyLastUsed: "
                      "ServiceFailure", self.err)
        # the first key's lookup and the second's three attempts
        self.assertEqual(self.actions().count("GetAccessKeyLastUsed"), 4)

    def test_malformed_answer_to_a_concurrent_call(self):
        self.iam.add_fault("malformed_xml", "ListAccessKeys")
        self.assertEqual(self.sesctl("smtp", "status", code=6), "")
        self.assertIn("ListAccessKeys: response is not valid XML", self.err)

    def test_missing_policy_is_still_a_warning(self):
        self.iam.add_fault("error", "GetUserPolicy", status=404,
                           code="NoSuchEntity",
                           message="The user policy with name "
                                   "sesctl-ses-send cannot be found.")
        out = self.sesctl("smtp", "status")
        self.assertIn("policy     sesctl-ses-send: missing", out)
        self.assertIn("no inline policy 'sesctl-ses-send'", out)

    def test_all_denied_user(self):
        self.iam.deny(self.iam.admin["access_key_id"], ["iam:GetUser"])
        self.assertEqual(self.sesctl("smtp", "status", "--all", code=3), "")
        self.assertIn("IAM refused GetUser (AccessDenied)", self.err)

    def test_not_enabled_is_one_round_trip(self):
        self.iam.set_latency(LATENCY)
        self.sesctl("smtp", "status", "--name", "nobody", code=4)
        self.assertIn("not enabled: there is no IAM user 'sesctl-smtp-nobody'",
                      self.err)
        # the NoSuchEntity of the policy and key reads is not what is said
        self.assertNotIn("GetUserPolicy", self.err)
        self.assertNotIn("ListAccessKeys", self.err)
        self.assertEqual(sorted(self.actions()), sorted(FIRST_ROUND))
        self.assertEqual(len(rounds(self.iam.requests)), 1)
        self.iam.set_latency(0)


if __name__ == "__main__":
    unittest.main()
