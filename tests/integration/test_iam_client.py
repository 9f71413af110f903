"""sesctl's IAM client against the IAM stand-in over real HTTPS: every IAM
action sesctl uses, with each request's signature checked by botocore in
the stand-in; session-token and profile credentials; every injected fault
kind ending in a successful retry or a clear error with the documented
exit code; every change hit by a fault after which it may or may not have
been applied, read back and never sent again blindly; --debug output free
of secrets.

The client is driven through tests/tools/iam_driver, a thin front end to
the same code the sesctl commands use (creds, iam_client_init, iam_*)."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from standins.iam import FakeIAM
from sesctl_test import clean_env, command

DRIVER = os.environ.get("SESCTL_IAM_DRIVER", "")
USER = "sesctl-smtp"
POLICY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
          '"Action":"ses:SendRawEmail","Resource":"*"}]}')

# Exit codes from DESIGN.md
OK, FAIL, USAGE, AUTH, NOT_FOUND, CONFLICT, NETWORK = 0, 1, 2, 3, 4, 5, 6


def driver_cmd(args):
    return command(args, DRIVER)


class IAMTestCase(unittest.TestCase):
    tls = True

    @classmethod
    def setUpClass(cls):
        if not DRIVER or not os.access(DRIVER, os.X_OK):
            raise RuntimeError("SESCTL_IAM_DRIVER is not set (run through "
                               "meson test)")

    def setUp(self):
        self.iam = FakeIAM(tls=self.tls, seed=7)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        # No stray ~/.aws of the developer's.
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env())

    def call(self, *args, env=None, code=OK):
        p = subprocess.run(driver_cmd(args), capture_output=True,
                           env=env or self.env, timeout=120)
        self.assertEqual(p.returncode, code,
                         "%s: exit %d, want %d\nstdout: %s\nstderr: %s" % (
                             args, p.returncode, code, p.stdout.decode(),
                             p.stderr.decode()))
        self.last_stderr = p.stderr.decode()
        return json.loads(p.stdout) if p.returncode == OK else None

    def assert_signatures_checked(self):
        """Every request IAM acted on had its signature verified."""
        reqs = [r for r in self.iam.requests if r["status"] == 200]
        self.assertTrue(reqs)
        for r in reqs:
            self.assertTrue(r.get("sigv4") and r["sigv4"]["ok"],
                            "request %s: signature not verified" % r["seq"])


class EveryAction(IAMTestCase):
    def test_lifecycle_of_every_action(self):
        iam = self.iam
        r = self.call("CreateUser", "UserName=" + USER, "Path=/sesctl/",
                      "Key1=ManagedBy", "Value1=sesctl",
                      "Key2=SesctlName", "Value2=default")
        self.assertEqual(r["User"]["UserName"], USER)
        self.assertEqual(r["User"]["Path"], "/sesctl/")
        self.assertEqual(r["User"]["Arn"],
                         "arn:aws:iam::123456789012:user/sesctl/" + USER)
        u = iam.user(USER)
        self.assertEqual(u["path"], "/sesctl/")
        self.assertEqual(r["requests"], 1)
        self.assertEqual(r["connections"], 1)

        r = self.call("GetUser", "UserName=" + USER)
        self.assertEqual({t["Key"]: t["Value"] for t in r["User"]["Tags"]},
                         {"ManagedBy": "sesctl", "SesctlName": "default"})
        r = self.call("GetUser")  # the caller itself
        self.assertEqual(r["User"]["UserName"], "sesctl-test-admin")

        self.call("TagUser", "UserName=" + USER, "Key1=Team",
                  "Value1=mail+ops@example.com")
        r = self.call("ListUserTags", "UserName=" + USER)
        self.assertIn({"Key": "Team", "Value": "mail+ops@example.com"},
                      r["Tags"])

        self.call("PutUserPolicy", "UserName=" + USER,
                  "PolicyName=sesctl-ses-send", "PolicyDocument=" + POLICY)
        r = self.call("GetUserPolicy", "UserName=" + USER,
                      "PolicyName=sesctl-ses-send")
        self.assertEqual(json.loads(r["PolicyDocument"]), json.loads(POLICY))
        r = self.call("ListUserPolicies", "UserName=" + USER)
        self.assertEqual(r["PolicyNames"], ["sesctl-ses-send"])

        arn = "arn:aws:iam::aws:policy/AmazonSESFullAccess"
        self.call("AttachUserPolicy", "UserName=" + USER, "PolicyArn=" + arn)
        r = self.call("ListAttachedUserPolicies", "UserName=" + USER)
        self.assertEqual(r["PolicyArns"], [arn])

        k1 = self.call("CreateAccessKey", "UserName=" + USER)
        self.assertTrue(k1["AccessKeyId"].startswith("AKIA"))
        self.assertEqual(len(k1["SecretAccessKey"]), 40)
        self.assertEqual(iam.access_key(k1["AccessKeyId"])["secret_access_key"],
                         k1["SecretAccessKey"])
        k2 = self.call("CreateAccessKey", "UserName=" + USER)
        # the third key: IAM's LimitExceeded, a conflict
        self.call("CreateAccessKey", "UserName=" + USER, code=CONFLICT)
        self.assertIn("LimitExceeded", self.last_stderr)

        r = self.call("ListAccessKeys", "UserName=" + USER)
        self.assertEqual(sorted(k["AccessKeyId"] for k in r["AccessKeys"]),
                         sorted([k1["AccessKeyId"], k2["AccessKeyId"]]))
        self.call("UpdateAccessKey", "UserName=" + USER,
                  "AccessKeyId=" + k1["AccessKeyId"], "Status=Inactive")
        self.assertEqual(iam.access_key(k1["AccessKeyId"])["status"],
                         "Inactive")
        iam.set_access_key(k2["AccessKeyId"], last_used={
            "date": "2026-11-20T10:00:00Z", "service": "ses",
            "region": "eu-west-1"})
        r = self.call("GetAccessKeyLastUsed",
                      "AccessKeyId=" + k2["AccessKeyId"])
        self.assertEqual((r["ServiceName"], r["Region"]), ("ses", "eu-west-1"))
        self.assertEqual(r["LastUsedDate"], "2026-11-20T10:00:00Z")
        r = self.call("GetAccessKeyLastUsed",
                      "AccessKeyId=" + k1["AccessKeyId"])
        self.assertIsNone(r["LastUsedDate"])
        self.assertEqual(r["ServiceName"], "N/A")

        # everything else that can hang on a user
        iam.seed_user("other", groups=("mailers",), login_profile=True,
                      signing_certificates=1, ssh_public_keys=1,
                      service_specific_credentials=1,
                      virtual_mfa_devices=1)
        self.call("DeleteUser", "UserName=other", code=CONFLICT)
        self.assertIn("DeleteConflict", self.last_stderr)
        g = self.call("ListGroupsForUser", "UserName=other")["Ids"]
        self.assertEqual(g, ["mailers"])
        self.call("RemoveUserFromGroup", "UserName=other", "GroupName=mailers")
        self.call("GetLoginProfile", "UserName=other")
        self.call("DeleteLoginProfile", "UserName=other")
        self.call("GetLoginProfile", "UserName=other", code=NOT_FOUND)
        for lst, dele, param in (
                ("ListSigningCertificates", "DeleteSigningCertificate",
                 "CertificateId"),
                ("ListSSHPublicKeys", "DeleteSSHPublicKey", "SSHPublicKeyId"),
                ("ListServiceSpecificCredentials",
                 "DeleteServiceSpecificCredential",
                 "ServiceSpecificCredentialId")):
            ids = self.call(lst, "UserName=other")["Ids"]
            self.assertEqual(len(ids), 1, lst)
            self.call(dele, "UserName=other", "%s=%s" % (param, ids[0]))
            self.assertEqual(self.call(lst, "UserName=other")["Ids"], [])
        serials = self.call("ListMFADevices", "UserName=other")["Ids"]
        self.assertEqual(len(serials), 1)
        self.call("DeactivateMFADevice", "UserName=other",
                  "SerialNumber=" + serials[0])
        self.call("DeleteVirtualMFADevice", "SerialNumber=" + serials[0])
        self.call("DeleteUser", "UserName=other")
        self.assertIsNone(iam.user("other"))

        # tear the SMTP user down
        for k in (k1, k2):
            self.call("DeleteAccessKey", "UserName=" + USER,
                      "AccessKeyId=" + k["AccessKeyId"])
        self.call("DetachUserPolicy", "UserName=" + USER, "PolicyArn=" + arn)
        self.call("DeleteUserPolicy", "UserName=" + USER,
                  "PolicyName=sesctl-ses-send")
        self.call("DeleteUser", "UserName=" + USER)
        self.call("GetUser", "UserName=" + USER, code=NOT_FOUND)
        self.assertIn("cannot be found", self.last_stderr)
        self.assertIsNone(iam.user(USER))
        self.assert_signatures_checked()

    def test_list_users_follows_pages(self):
        for i in range(5):
            self.iam.seed_user("u%d" % i, path="/sesctl/")
        self.iam.seed_user("elsewhere", path="/other/")
        env = dict(self.env, SESCTL_TEST_MAX_ITEMS="2")
        r = self.call("ListUsers", "PathPrefix=/sesctl/", env=env)
        self.assertEqual(sorted(u["UserName"] for u in r["Users"]),
                         ["u0", "u1", "u2", "u3", "u4"])
        self.assertEqual(r["requests"], 3)
        self.assertEqual(r["connections"], 1)
        markers = [rq["params"].get("Marker") for rq in self.iam.requests]
        self.assertEqual(markers[0], None)
        self.assertTrue(all(markers[1:]))

    def test_session_token_credentials(self):
        env = clean_env(HOME=self.tmp, **self.iam.env(caller="session"))
        self.assertIn("AWS_SESSION_TOKEN", env)
        self.call("CreateUser", "UserName=" + USER, env=env)
        rq = self.iam.requests[-1]
        names = [h[0].lower() for h in rq["headers"]]
        self.assertIn("x-amz-security-token", names)
        auth = dict(rq["headers"])["Authorization"]
        self.assertIn("x-amz-security-token", auth)  # signed, as SDKs do
        # a wrong token is refused like IAM does
        env["AWS_SESSION_TOKEN"] = "bogus"
        self.call("GetUser", "UserName=" + USER, env=env, code=AUTH)
        self.assert_signatures_checked()

    def test_profile_from_config_file(self):
        admin = self.iam.admin
        cfg = os.path.join(self.tmp, "config")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = eu-west-1\n\n"
                    "[profile mail]\nregion = eu-west-1\n"
                    "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (admin["access_key_id"], admin["secret_access_key"]))
        env = clean_env(HOME=self.tmp, AWS_CONFIG_FILE=cfg,
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(
                            self.tmp, "missing"),
                        AWS_ENDPOINT_URL_IAM=self.iam.url,
                        AWS_CA_BUNDLE=self.iam.ca_file)
        r = self.call("--profile", "mail", "CreateUser", "UserName=" + USER,
                      env=env)
        self.assertEqual(r["User"]["UserName"], USER)
        self.assertEqual(self.iam.requests[-1]["caller"],
                         admin["access_key_id"])
        env["AWS_PROFILE"] = "mail"
        self.call("GetUser", "UserName=" + USER, env=env)
        self.call("--profile", "nope", "GetUser", env=env, code=USAGE)
        self.assert_signatures_checked()


class Refusals(IAMTestCase):
    def test_access_denied_names_the_permission(self):
        env = clean_env(HOME=self.tmp, **self.iam.env(caller="readonly"))
        self.call("CreateUser", "UserName=" + USER, env=env, code=AUTH)
        self.assertIn("iam:CreateUser", self.last_stderr)
        self.assertIn("AccessDenied", self.last_stderr)

    def test_wrong_secret(self):
        env = dict(self.env, AWS_SECRET_ACCESS_KEY="x" * 40)
        self.call("GetUser", env=env, code=AUTH)
        self.assertIn("signature does not match", self.last_stderr)

    def test_unknown_key(self):
        env = dict(self.env, AWS_ACCESS_KEY_ID="AKIAUNKNOWNUNKNOWN00")
        self.call("GetUser", env=env, code=AUTH)
        self.assertIn("does not know access key 'AKIAUNKNOWNUNKNOWN00'",
                      self.last_stderr)

    def test_clock_skew(self):
        env = dict(self.env, SESCTL_TEST_NOW=str(int(time.time()) - 3600))
        self.call("GetUser", env=env, code=AUTH)
        self.assertIn("clock", self.last_stderr)

    def test_invalid_input(self):
        self.call("CreateUser", "UserName=bad name!", code=FAIL)
        self.assertIn("ValidationError", self.last_stderr)

    def test_untrusted_certificate(self):
        env = dict(self.env)
        del env["AWS_CA_BUNDLE"]
        self.call("GetUser", env=env, code=NETWORK)
        self.assertIn("--ca-bundle", self.last_stderr)
        self.assertEqual(self.iam.requests, [])

    def test_plain_http_only_to_loopback(self):
        env = dict(self.env, AWS_ENDPOINT_URL_IAM="http://iam.example.com")
        self.call("GetUser", env=env, code=USAGE)
        self.assertIn("plain http", self.last_stderr)

    def test_unreachable(self):
        env = dict(self.env, AWS_ENDPOINT_URL_IAM="https://127.0.0.1:1")
        self.call("GetUser", env=env, code=NETWORK)
        self.assertIn("cannot reach", self.last_stderr)


class Faults(IAMTestCase):
    """Each fault kind on a read and on a CreateAccessKey: a successful
    retry or a clear error with the documented exit code; never a hang."""

    def setUp(self):
        super().setUp()
        self.iam.seed_user(USER, path="/sesctl/")
        self.env["SESCTL_TEST_TIMEOUT_MS"] = "1500"

    def keys(self):
        return self.iam.user(USER)["access_keys"]

    def check(self, kind, action, args, code, requests, **params):
        self.iam.clear_requests()
        self.iam.add_fault(kind, action, **params)
        t0 = time.monotonic()
        self.call(action, *args, code=code)
        self.assertLess(time.monotonic() - t0, 30, kind)
        got = len(self.iam.requests)
        self.assertEqual(got, requests, "%s on %s: %d requests" % (
            kind, action, got))
        self.iam.clear_faults()

    def test_read_faults(self):
        args = ["UserName=" + USER]
        for kind in ("service_failure", "internal_failure",
                     "service_unavailable", "throttling", "html_error",
                     "close_before", "reset_before", "close_after",
                     "truncated_xml"):
            self.check(kind, "ListAccessKeys", args, OK, 2)
        self.check("slow", "ListAccessKeys", args, OK, 2, delay=3)
        self.check("malformed_xml", "ListAccessKeys", args, NETWORK, 1)
        self.assertIn("ListAccessKeys", self.last_stderr)
        self.check("request_expired", "ListAccessKeys", args, AUTH, 1)
        self.check("signature_expired", "ListAccessKeys", args, AUTH, 1)
        self.assertIn("clock", self.last_stderr)

    def test_retries_give_up(self):
        self.check("throttling", "ListAccessKeys", ["UserName=" + USER],
                   NETWORK, 3, times=None)
        self.assertIn("gave up after 3 attempts", self.last_stderr)
        self.assertIn("Throttling", self.last_stderr)
        env = dict(self.env, AWS_MAX_ATTEMPTS="5")
        self.iam.clear_requests()
        self.iam.add_fault("service_unavailable", "ListAccessKeys", times=4)
        self.call("ListAccessKeys", "UserName=" + USER, env=env)
        self.assertEqual(len(self.iam.requests), 5)

    def test_create_access_key_faults(self):
        args = ["UserName=" + USER]
        # throttled: AWS did not apply it, the retry is safe
        self.check("throttling", "CreateAccessKey", args, OK, 2)
        self.assertEqual(len(self.keys()), 1)
        for k in self.keys():
            self.call("DeleteAccessKey", "UserName=" + USER,
                      "AccessKeyId=" + k["access_key_id"])
        # a 5xx may follow an applied request, and no answer may follow
        # one too: never repeated blindly; the error says so
        for kind, applied in (("service_failure", 0),
                              ("service_unavailable", 0),
                              ("internal_failure", 1),
                              ("close_before", 0), ("close_after", 1),
                              ("truncated_xml", 1)):
            self.check(kind, "CreateAccessKey", args, NETWORK, 1,
                       **({"apply": True} if kind == "internal_failure"
                          else {}))
            self.assertIn("may or may not have been applied",
                          self.last_stderr)
            self.assertEqual(len(self.keys()), applied, kind)
            for k in self.keys():
                self.call("DeleteAccessKey", "UserName=" + USER,
                          "AccessKeyId=" + k["access_key_id"])
        self.check("slow", "CreateAccessKey", args, NETWORK, 1, delay=3)
        self.assertIn("may or may not have been applied", self.last_stderr)


def _group_members(iam, group):
    for g in iam.dump_state()["groups"]:
        if g["name"] == group:
            return g["members"]
    return []


ARN = "arn:aws:iam::aws:policy/AmazonSESFullAccess"
OTHER_POLICY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny",'
                '"Action":"*","Resource":"*"}]}')

# Each change the typed calls make: how to seed the user, the driver's
# arguments (from the seeded user dict) and whether the stand-in's state
# is the one intended.
CHANGES = [
    ("TagUser", dict(tags={"SesctlCurrent": "AKIAOLD"}),
     lambda u: ["Key1=SesctlCurrent", "Value1=AKIANEW",
                "Key2=ManagedBy", "Value2=sesctl"],
     lambda iam, u: {t["Key"]: t["Value"] for t in iam.user(USER)["tags"]}
     == {"SesctlCurrent": "AKIANEW", "ManagedBy": "sesctl"}),
    ("UntagUser", dict(tags={"SesctlKept": "AKIAOLD", "ManagedBy": "sesctl"}),
     lambda u: ["TagKey1=SesctlKept"],
     lambda iam, u: [t["Key"] for t in iam.user(USER)["tags"]]
     == ["ManagedBy"]),
    ("PutUserPolicy", dict(inline_policies={"sesctl-ses-send": OTHER_POLICY}),
     lambda u: ["PolicyName=sesctl-ses-send", "PolicyDocument=" + POLICY],
     lambda iam, u: [json.loads(p["document"])
                     for p in iam.user(USER)["inline_policies"]]
     == [json.loads(POLICY)]),
    ("DeleteUserPolicy", dict(inline_policies={"sesctl-ses-send": POLICY}),
     lambda u: ["PolicyName=sesctl-ses-send"],
     lambda iam, u: iam.user(USER)["inline_policies"] == []),
    ("AttachUserPolicy", {},
     lambda u: ["PolicyArn=" + ARN],
     lambda iam, u: iam.user(USER)["attached_policies"] == [ARN]),
    ("DetachUserPolicy", dict(attached_policies=(ARN,)),
     lambda u: ["PolicyArn=" + ARN],
     lambda iam, u: iam.user(USER)["attached_policies"] == []),
    ("UpdateAccessKey", dict(access_keys=1),
     lambda u: ["AccessKeyId=" + u["access_keys"][0]["access_key_id"],
                "Status=Inactive"],
     lambda iam, u: [k["status"] for k in iam.user(USER)["access_keys"]]
     == ["Inactive"]),
    ("DeleteAccessKey", dict(access_keys=2),
     lambda u: ["AccessKeyId=" + u["access_keys"][0]["access_key_id"]],
     lambda iam, u: [k["access_key_id"] for k in iam.user(USER)["access_keys"]]
     == [u["access_keys"][1]["access_key_id"]]),
    ("RemoveUserFromGroup", dict(groups=("mailers",)),
     lambda u: ["GroupName=mailers"],
     lambda iam, u: _group_members(iam, "mailers") == []),
    ("DeleteLoginProfile", dict(login_profile=True),
     lambda u: [],
     lambda iam, u: not iam.user(USER).get("login_profile")),
    ("DeleteSigningCertificate", dict(signing_certificates=1),
     lambda u: ["CertificateId="
                + u["signing_certificates"][0]["certificate_id"]],
     lambda iam, u: iam.user(USER)["signing_certificates"] == []),
    ("DeleteSSHPublicKey", dict(ssh_public_keys=1),
     lambda u: ["SSHPublicKeyId=" + u["ssh_public_keys"][0]["id"]],
     lambda iam, u: iam.user(USER)["ssh_public_keys"] == []),
    ("DeleteServiceSpecificCredential", dict(service_specific_credentials=1),
     lambda u: ["ServiceSpecificCredentialId="
                + u["service_specific_credentials"][0]["id"]],
     lambda iam, u: iam.user(USER)["service_specific_credentials"] == []),
    ("DeactivateMFADevice", dict(mfa_devices=1),
     lambda u: ["SerialNumber=" + u["mfa_devices"][0]["serial"]],
     lambda iam, u: iam.user(USER)["mfa_devices"] == []),
    ("DeleteUser", {},
     lambda u: [],
     lambda iam, u: iam.user(USER) is None),
]

# (kind, params): applied and then a 5xx, applied and the answer lost,
# and a 5xx that was not applied.
UNKNOWN_OUTCOMES = [
    ("service_failure", {"apply": True}),
    ("service_unavailable", {"apply": True}),
    ("close_after", {}),
    ("service_failure", {}),
]


class UnknownOutcomes(IAMTestCase):
    """Every change the typed calls make, hit by a fault after which it
    may or may not have been applied: it is never sent again blindly.
    The typed call reads the state back and sends the change again only
    if it was not applied; the stand-in ends in the intended state."""

    def setUp(self):
        super().setUp()
        self.env["SESCTL_TEST_TIMEOUT_MS"] = "1500"

    def run_case(self, action, seed, args, fault, params):
        iam = self.iam
        iam.reset()
        u = iam.seed_user(USER, path="/sesctl/", **seed)
        iam.add_fault(fault, action, **params)
        r = self.call(action, "UserName=" + USER, *args(u))
        log = [rq["action"] for rq in iam.requests]
        sends = [i for i, a in enumerate(log) if a == action]
        what = "%s after %s %s: %s" % (action, fault, params, log)
        self.assertEqual(sends[0], 0, what)
        self.assertLessEqual(len(sends), 2, what)
        # IAM's state was read before anything else
        self.assertTrue(log[1].startswith(("Get", "List")), what)
        if len(sends) == 2:
            self.assertFalse(iam.requests[0]["applied"], what)
        else:
            self.assertTrue(iam.requests[0]["applied"], what)
        self.assertFalse(r["outcome_unknown"], what)
        return u

    def test_every_change(self):
        for action, seed, args, intended in CHANGES:
            for fault, params in UNKNOWN_OUTCOMES:
                with self.subTest(action=action, fault=fault, **params):
                    u = self.run_case(action, seed, args, fault, params)
                    self.assertTrue(intended(self.iam, u),
                                    "%s after %s %s: state %s" % (
                                        action, fault, params,
                                        self.iam.user(USER)))

    def test_timeout(self):
        """An answer that comes after the client gave up (applied first)."""
        for action, seed, args, intended in CHANGES:
            if action not in ("UpdateAccessKey", "DeleteAccessKey",
                              "PutUserPolicy"):
                continue
            with self.subTest(action=action):
                u = self.run_case(action, seed, args, "slow", {"delay": 3})
                self.assertTrue(intended(self.iam, u), action)

    def test_read_back_fails(self):
        """The read is denied: the outcome stays unknown, and the message
        says how to see the state."""
        iam = self.iam
        u = iam.seed_user(USER, path="/sesctl/", access_keys=2)
        iam.deny(iam.admin["access_key_id"], ["iam:ListAccessKeys"])
        iam.add_fault("service_failure", "DeleteAccessKey", apply=True)
        key = u["access_keys"][0]["access_key_id"]
        self.call("DeleteAccessKey", "UserName=" + USER,
                  "AccessKeyId=" + key, code=NETWORK)
        self.assertEqual([rq["action"] for rq in iam.requests],
                         ["DeleteAccessKey", "ListAccessKeys"])
        self.assertIn("the outcome is unknown", self.last_stderr)
        self.assertIn("'aws iam list-access-keys --user-name %s'" % USER,
                      self.last_stderr)
        self.assertIn("sesctl smtp status", self.last_stderr)

    def test_creations_are_sent_once(self):
        """CreateAccessKey and CreateUser are left to their callers: one
        send, then outcome_unknown (exit 6, no retry)."""
        iam = self.iam
        for action in ("CreateAccessKey", "CreateUser"):
            for fault, params in UNKNOWN_OUTCOMES:
                with self.subTest(action=action, fault=fault, **params):
                    iam.reset()
                    if action == "CreateAccessKey":
                        iam.seed_user(USER, path="/sesctl/")
                    iam.add_fault(fault, action, **params)
                    self.call(action, "UserName=" + USER, code=NETWORK)
                    self.assertEqual([rq["action"] for rq in iam.requests],
                                     [action])
                    self.assertIn("may or may not have been applied",
                                  self.last_stderr)
                    applied = iam.requests[0]["applied"]
                    if action == "CreateAccessKey":
                        self.assertEqual(len(iam.user(USER)["access_keys"]),
                                         1 if applied else 0)
                    else:
                        self.assertEqual(iam.user(USER) is not None, applied)


class Debug(IAMTestCase):
    def test_debug_shows_no_secret(self):
        env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                        **self.iam.env(caller="session"))
        self.iam.seed_user(USER, path="/sesctl/")
        self.iam.add_fault("throttling", "CreateAccessKey")
        p = subprocess.run(driver_cmd(["--debug", "CreateAccessKey",
                                       "UserName=" + USER]),
                           capture_output=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        err = p.stderr.decode()
        created = json.loads(p.stdout)["SecretAccessKey"]
        for secret in (env["AWS_SECRET_ACCESS_KEY"],
                       env["AWS_SESSION_TOKEN"], created):
            self.assertNotIn(secret, err)
        for rq in self.iam.requests:
            sig = dict(rq["headers"])["Authorization"].split("Signature=")[1]
            self.assertNotIn(sig, err)
        # but it does show what happened
        self.assertIn("> POST / HTTP/1.1", err)
        self.assertIn("<SecretAccessKey><redacted></SecretAccessKey>", err)
        self.assertIn("X-Amz-Security-Token: <redacted>", err)
        self.assertIn("retrying", err)


if __name__ == "__main__":
    unittest.main()
