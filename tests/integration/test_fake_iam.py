#!/usr/bin/python3
"""Tests for the IAM stand-in (standins/iam.py), kept honest by the real AWS CLI.

Run: PYTHONPATH=tests /usr/bin/python3 tests/integration/test_fake_iam.py -v
Needs Debian's python3-botocore, python3-cryptography and awscli (/usr/bin/aws).
Only loopback is used.
"""

import datetime
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from standins import iam as fake_iam  # noqa: E402
from standins import state as fake_state  # noqa: E402
from standins.iam import FakeIAM  # noqa: E402

AWS = "/usr/bin/aws"
PYTHON = "/usr/bin/python3"
STANDINS = os.path.join(os.path.dirname(HERE), "standins")    # the launcher
NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"
ACCT = fake_iam.DEFAULT_ACCOUNT_ID
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}
CLI_SIG_MSG = ("The request signature we calculated does not match the signature you "
               "provided. Check your AWS Secret Access Key and signing method. Consult "
               "the service documentation for details.")


def find_vectors():
    cands = []
    if os.environ.get("SESCTL_TEST_VECTORS"):
        cands.append(os.environ["SESCTL_TEST_VECTORS"])
    root = os.environ.get("SESCTL_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
    cands += [os.path.join(root, "tests", "vectors"),
              os.path.join(root, "..", "shared", "vectors"), "/work/shared/vectors"]
    for c in cands:
        if os.path.isdir(os.path.join(c, "sigv4", "iam-query")):
            return os.path.join(c, "sigv4", "iam-query")
    return None


# ---------------------------------------------------------------- clients

class Cli:
    """The real AWS CLI v2 pointed at the stand-in, with a clean environment."""

    def __init__(self, iam, tmp):
        self.iam, self.tmp = iam, tmp
        for n in ("config", "credentials"):
            open(os.path.join(tmp, n), "w").close()

    def env(self, caller=None, region="us-east-1", attempts=None, extra=None):
        c = caller or self.iam.admin
        env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "LANG": "C.UTF-8",
               "AWS_CONFIG_FILE": os.path.join(self.tmp, "config"),
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "credentials"),
               "AWS_DEFAULT_REGION": region, "AWS_PAGER": "",
               "AWS_ACCESS_KEY_ID": c["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": c["secret_access_key"]}
        if c.get("session_token"):
            env["AWS_SESSION_TOKEN"] = c["session_token"]
        if attempts is not None:
            env["AWS_MAX_ATTEMPTS"] = str(attempts)
            env["AWS_RETRY_MODE"] = "standard"
        env.update(extra or {})
        return env

    def __call__(self, *args, caller=None, region="us-east-1", attempts=None, extra_env=None,
                 url=None, timeout=90, service="iam"):
        cmd = [AWS, "--endpoint-url", url or self.iam.url, "--output", "json"]
        if self.iam.ca_file and (url or self.iam.url).startswith("https"):
            cmd += ["--ca-bundle", self.iam.ca_file]
        cmd += [service, *args]
        p = subprocess.run(cmd, env=self.env(caller, region, attempts, extra_env),
                           capture_output=True, text=True, timeout=timeout)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out, p.stderr


def sign(params_or_body, caller, url, region="us-east-1", service="iam", method="POST",
         timestamp=None, token="default", extra_headers=None):
    """A request signed by botocore's SigV4Auth (the client side)."""
    body = (params_or_body if isinstance(params_or_body, bytes)
            else urllib.parse.urlencode(params_or_body).encode())
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    headers.update(extra_headers or {})
    if method == "GET":
        req = AWSRequest(method="GET", url=url + "/?" + body.decode(), headers={})
    else:
        req = AWSRequest(method=method, url=url + "/", data=body, headers=headers)
    tok = caller.get("session_token") if token == "default" else token
    signer = SigV4Auth(Credentials(caller["access_key_id"], caller["secret_access_key"], tok),
                       service, region)
    ts = timestamp or datetime.datetime.now(datetime.timezone.utc)
    req.context["timestamp"] = ts.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(req)
    cr = signer.canonical_request(req)
    sig = signer.signature(signer.string_to_sign(req, cr), req)
    signer._inject_signature_to_request(req, sig)
    return req


class Raw:
    """One persistent HTTP(S) connection to the stand-in."""

    def __init__(self, iam):
        self.iam = iam
        self.conn = None

    def connect(self):
        host, port = self.iam.host, self.iam.port
        if self.iam.tls:
            ctx = ssl.create_default_context(cafile=self.iam.ca_file)
            self.conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=20)
        else:
            self.conn = http.client.HTTPConnection(host, port, timeout=20)

    def send(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.connect()
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r, data

    def signed(self, params, caller=None, body=None, **kw):
        caller = caller or self.iam.admin
        req = sign(params, caller, self.iam.url, **kw)
        path = urllib.parse.urlsplit(req.url)
        target = path.path + ("?" + path.query if path.query else "")
        return self.send(req.method, target, body if body is not None else req.body,
                         dict(req.headers.items()))

    def call(self, action, caller=None, **params):
        p = {"Action": action, "Version": "2010-05-08"}
        p.update(params)
        r, data = self.signed(p, caller)
        return r.status, ET.fromstring(data), r

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def err_of(root):
    e = root.find(NS + "Error")
    return e.findtext(NS + "Code"), e.findtext(NS + "Message")


def cli_error(stderr):
    m = re.search(r"An error occurred \((\w+)\) when calling the (\w+) operation"
                  r"(?: \(reached max retries: \d+\))?: (.*)", stderr)
    return (m.group(1), m.group(3).strip()) if m else (None, stderr.strip())


# ----------------------------------------------------------------- base

class Base(unittest.TestCase):
    tls = True

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="test-fake-iam-")
        cls.iam = FakeIAM(tls=cls.tls, cert_dir=os.path.join(cls.tmp, "tls")).start()
        cls.cli = Cli(cls.iam, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.iam.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.iam.reset()
        self.iam.set_now(None)
        self.iam.skew_check = True
        self.raw = Raw(self.iam)

    def tearDown(self):
        self.raw.close()

    def assertCliError(self, res, code, message=None, rc=254):
        rc_got, out, stderr = res
        self.assertEqual(rc_got, rc, stderr)
        got_code, got_msg = cli_error(stderr)
        self.assertEqual(got_code, code, stderr)
        if message is not None:
            self.assertEqual(got_msg, message)

    def actions(self):
        return [r["action"] for r in self.iam.requests]


# ------------------------------------------------------------ AWS CLI

class AwsCliLifecycle(Base):
    """The documented API, driven by the real AWS CLI."""

    def test_user_policy_key_lifecycle(self):
        cli = self.cli
        rc, out, err = cli("create-user", "--user-name", "sesctl-smtp", "--path", "/sesctl/",
                           "--tags", "Key=ManagedBy,Value=sesctl",
                           "Key=SesctlName,Value=default")
        self.assertEqual(rc, 0, err)
        u = out["User"]
        self.assertEqual(u["UserName"], "sesctl-smtp")
        self.assertEqual(u["Path"], "/sesctl/")
        self.assertEqual(u["Arn"], f"arn:aws:iam::{ACCT}:user/sesctl/sesctl-smtp")
        self.assertRegex(u["UserId"], r"^AIDA[A-Z2-7]{17}$")
        self.assertIn("CreateDate", u)
        self.assertEqual(u["Tags"], [{"Key": "ManagedBy", "Value": "sesctl"},
                                     {"Key": "SesctlName", "Value": "default"}])
        # The wire format the CLI used: Tags.member.N.Key, POST, form body.
        req = self.iam.requests[-1]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["params"]["Tags.member.2.Value"], "default")
        self.assertTrue(req["sigv4"]["ok"])

        rc, out, err = cli("get-user", "--user-name", "sesctl-smtp")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["User"]["UserId"], u["UserId"])
        self.assertEqual(out["User"]["Tags"], u["Tags"])

        # Names are unique without regard to case.
        self.assertCliError(cli("create-user", "--user-name", "SESCTL-SMTP"),
                            "EntityAlreadyExists", "User with name SESCTL-SMTP already exists.")

        # Tags: TagUser overwrites, UntagUser removes.
        self.assertEqual(cli("tag-user", "--user-name", "sesctl-smtp", "--tags",
                             "Key=SesctlName,Value=app", "Key=Team,Value=ops")[0], 0)
        rc, out, err = cli("list-user-tags", "--user-name", "sesctl-smtp")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["Tags"], [{"Key": "ManagedBy", "Value": "sesctl"},
                                       {"Key": "SesctlName", "Value": "app"},
                                       {"Key": "Team", "Value": "ops"}])
        self.assertEqual(cli("untag-user", "--user-name", "sesctl-smtp",
                             "--tag-keys", "Team")[0], 0)
        self.assertEqual(len(cli("list-user-tags", "--user-name", "sesctl-smtp")[1]["Tags"]), 2)

        rc, out, err = cli("list-users", "--path-prefix", "/sesctl/")
        self.assertEqual([x["UserName"] for x in out["Users"]], ["sesctl-smtp"])
        self.assertNotIn("Tags", out["Users"][0])          # ListUsers has no tags

        # Inline policy: the CLI decodes IAM's percent-encoded document.
        doc = json.dumps(POLICY, indent=2)
        self.assertEqual(cli("put-user-policy", "--user-name", "sesctl-smtp", "--policy-name",
                             "sesctl-ses-send", "--policy-document", doc)[0], 0)
        rc, out, err = cli("get-user-policy", "--user-name", "sesctl-smtp",
                           "--policy-name", "sesctl-ses-send")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["PolicyDocument"], POLICY)
        self.assertEqual(out["UserName"], "sesctl-smtp")
        raw = self.iam.requests[-1]["response"]
        self.assertIn("%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22", raw)
        self.assertEqual(cli("list-user-policies", "--user-name", "sesctl-smtp")[1]
                         ["PolicyNames"], ["sesctl-ses-send"])
        self.assertCliError(cli("put-user-policy", "--user-name", "sesctl-smtp",
                                "--policy-name", "bad", "--policy-document", "{not json"),
                            "MalformedPolicyDocument", "Syntax errors in policy.")
        self.assertCliError(cli("get-user-policy", "--user-name", "sesctl-smtp",
                                "--policy-name", "nope"),
                            "NoSuchEntity", "The user policy with name nope cannot be found.")

        # Managed policies.
        ses = "arn:aws:iam::aws:policy/AmazonSESFullAccess"
        self.assertEqual(cli("attach-user-policy", "--user-name", "sesctl-smtp",
                             "--policy-arn", ses)[0], 0)
        rc, out, err = cli("list-attached-user-policies", "--user-name", "sesctl-smtp")
        self.assertEqual(out["AttachedPolicies"],
                         [{"PolicyName": "AmazonSESFullAccess", "PolicyArn": ses}])
        bogus = "arn:aws:iam::aws:policy/NoSuchPolicyHere"
        self.assertCliError(cli("attach-user-policy", "--user-name", "sesctl-smtp",
                                "--policy-arn", bogus), "NoSuchEntity",
                            f"Policy {bogus} does not exist or is not attachable.")

        # Access keys: two, then the quota (inactive keys count).
        keys = []
        for _ in range(2):
            rc, out, err = cli("create-access-key", "--user-name", "sesctl-smtp")
            self.assertEqual(rc, 0, err)
            k = out["AccessKey"]
            self.assertRegex(k["AccessKeyId"], r"^AKIA[A-Z2-7]{16}$")
            self.assertRegex(k["SecretAccessKey"], r"^[A-Za-z0-9+/]{40}$")
            self.assertEqual(k["Status"], "Active")
            self.assertEqual(k["UserName"], "sesctl-smtp")
            keys.append(k["AccessKeyId"])
        res = cli("create-access-key", "--user-name", "sesctl-smtp")
        self.assertCliError(res, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
        self.assertEqual(self.iam.requests[-1]["status"], 409)
        self.assertEqual(cli("update-access-key", "--user-name", "sesctl-smtp",
                             "--access-key-id", keys[0], "--status", "Inactive")[0], 0)
        rc, out, err = cli("list-access-keys", "--user-name", "sesctl-smtp")
        self.assertEqual([(m["AccessKeyId"], m["Status"]) for m in out["AccessKeyMetadata"]],
                         [(keys[0], "Inactive"), (keys[1], "Active")])
        self.assertCliError(cli("create-access-key", "--user-name", "sesctl-smtp"),
                            "LimitExceeded")

        # Last used: N/A until used; settable for tests.
        rc, out, err = cli("get-access-key-last-used", "--access-key-id", keys[1])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["UserName"], "sesctl-smtp")
        self.assertEqual(out["AccessKeyLastUsed"], {"ServiceName": "N/A", "Region": "N/A"})
        self.iam.set_access_key(keys[1], last_used={"date": "2024-05-06T07:08:09Z",
                                                    "service": "ses", "region": "eu-west-1"})
        out = cli("get-access-key-last-used", "--access-key-id", keys[1])[1]
        self.assertEqual(out["AccessKeyLastUsed"]["ServiceName"], "ses")
        self.assertEqual(out["AccessKeyLastUsed"]["Region"], "eu-west-1")
        self.assertTrue(out["AccessKeyLastUsed"]["LastUsedDate"].startswith("2024-05-06T07:08:09"))

        # DeleteUser refuses while anything is attached, one kind at a time.
        self.assertCliError(cli("delete-user", "--user-name", "sesctl-smtp"), "DeleteConflict",
                            "Cannot delete entity, must delete access keys first.")
        self.assertEqual(self.iam.requests[-1]["status"], 409)
        for k in keys:
            self.assertEqual(cli("delete-access-key", "--user-name", "sesctl-smtp",
                                 "--access-key-id", k)[0], 0)
        self.assertCliError(cli("delete-access-key", "--user-name", "sesctl-smtp",
                                "--access-key-id", keys[0]), "NoSuchEntity",
                            f"The Access Key with id {keys[0]} cannot be found.")
        self.assertCliError(cli("delete-user", "--user-name", "sesctl-smtp"), "DeleteConflict",
                            "Cannot delete entity, must delete policies first.")
        self.assertEqual(cli("delete-user-policy", "--user-name", "sesctl-smtp",
                             "--policy-name", "sesctl-ses-send")[0], 0)
        self.assertCliError(cli("delete-user", "--user-name", "sesctl-smtp"), "DeleteConflict",
                            "Cannot delete entity, must detach all policies first.")
        self.assertEqual(cli("detach-user-policy", "--user-name", "sesctl-smtp",
                             "--policy-arn", ses)[0], 0)
        self.assertCliError(cli("detach-user-policy", "--user-name", "sesctl-smtp",
                                "--policy-arn", ses), "NoSuchEntity")
        self.assertEqual(cli("delete-user", "--user-name", "sesctl-smtp")[0], 0)
        self.assertCliError(cli("get-user", "--user-name", "sesctl-smtp"), "NoSuchEntity",
                            "The user with name sesctl-smtp cannot be found.")
        self.assertEqual(self.iam.requests[-1]["status"], 404)
        self.assertIsNone(self.iam.user("sesctl-smtp"))

    def test_get_user_without_name_is_the_caller(self):
        rc, out, err = self.cli("get-user")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["User"]["UserName"], "sesctl-test-admin")
        self.assertEqual(out["User"]["Arn"], f"arn:aws:iam::{ACCT}:user/sesctl-test-admin")
        # A key made by CreateAccessKey signs requests as its user.
        self.iam.seed_user("app", path="/sesctl/")
        out = self.cli("create-access-key", "--user-name", "app")[1]["AccessKey"]
        caller = {"access_key_id": out["AccessKeyId"],
                  "secret_access_key": out["SecretAccessKey"]}
        rc, out2, err = self.cli("get-user", caller=caller)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out2["User"]["UserName"], "app")
        # ... until it is made Inactive.
        self.iam.set_access_key(caller["access_key_id"], status="Inactive")
        self.assertCliError(self.cli("get-user", caller=caller), "InvalidClientTokenId",
                            "The security token included in the request is invalid.")

    def test_pagination_through_the_cli(self):
        for i in range(5):
            self.iam.seed_user(f"pager-{i}", path="/p/")
        self.iam.clear_requests()
        rc, out, err = self.cli("list-users", "--path-prefix", "/p/", "--page-size", "2")
        self.assertEqual(rc, 0, err)
        self.assertEqual([u["UserName"] for u in out["Users"]],
                         [f"pager-{i}" for i in range(5)])
        reqs = self.iam.requests
        self.assertEqual([r["params"].get("MaxItems") for r in reqs], ["2", "2", "2"])
        self.assertNotIn("Marker", reqs[0]["params"])
        self.assertIn("Marker", reqs[1]["params"])
        # IAM markers are base64: '+' and '/' must arrive intact (percent-encoded).
        self.assertIn("+/+/", reqs[1]["params"]["Marker"])
        self.assertIn("%2B%2F%2B%2F", reqs[1]["body"])
        self.assertIn("<IsTruncated>true</IsTruncated>", reqs[0]["response"])
        self.assertIn("<IsTruncated>false</IsTruncated>", reqs[2]["response"])
        self.assertEqual(len({r["conn"] for r in reqs}), 1)   # one kept-alive connection
        # --max-items stops early and hands back a token to continue.
        rc, out, err = self.cli("list-users", "--path-prefix", "/p/", "--page-size", "2",
                                "--max-items", "3")
        self.assertEqual([u["UserName"] for u in out["Users"]], ["pager-0", "pager-1", "pager-2"])
        rc, out, err = self.cli("list-users", "--path-prefix", "/p/", "--page-size", "2",
                                "--starting-token", out["NextToken"])
        self.assertEqual(rc, 0, err)
        self.assertEqual([u["UserName"] for u in out["Users"]], ["pager-3", "pager-4"])

    def test_disable_style_cleanup_of_everything(self):
        self.iam.seed_user("full", path="/sesctl/", tags={"ManagedBy": "sesctl"},
                           access_keys=1, inline_policies={"sesctl-ses-send": POLICY},
                           attached_policies=["arn:aws:iam::aws:policy/AmazonSESFullAccess"],
                           groups=["smtp-users"], login_profile=True, signing_certificates=1,
                           ssh_public_keys=1, service_specific_credentials=1, mfa_devices=1,
                           virtual_mfa_devices=1)
        cli = self.cli
        U = ("--user-name", "full")

        def conflict(msg):
            self.assertCliError(cli("delete-user", *U), "DeleteConflict",
                                "Cannot delete entity, " + msg)

        conflict("must delete login profile first.")
        self.assertEqual(cli("get-login-profile", *U)[1]["LoginProfile"]["UserName"], "full")
        self.assertEqual(cli("delete-login-profile", *U)[0], 0)
        self.assertCliError(cli("get-login-profile", *U), "NoSuchEntity",
                            "Login Profile for User full cannot be found.")
        conflict("must delete access keys first.")
        for k in cli("list-access-keys", *U)[1]["AccessKeyMetadata"]:
            self.assertEqual(cli("delete-access-key", *U, "--access-key-id",
                                 k["AccessKeyId"])[0], 0)
        conflict("must delete certificates first.")
        certs = cli("list-signing-certificates", *U)[1]["Certificates"]
        self.assertEqual(len(certs), 1)
        self.assertEqual(cli("delete-signing-certificate", *U, "--certificate-id",
                             certs[0]["CertificateId"])[0], 0)
        conflict("must delete MFA device first.")
        devices = cli("list-mfa-devices", *U)[1]["MFADevices"]
        self.assertEqual(len(devices), 2)
        for d in devices:
            self.assertEqual(cli("deactivate-mfa-device", *U, "--serial-number",
                                 d["SerialNumber"])[0], 0)
            if d["SerialNumber"].startswith("arn:"):
                self.assertEqual(cli("delete-virtual-mfa-device", "--serial-number",
                                     d["SerialNumber"])[0], 0)
        conflict("must remove referenced objects first.")
        keys = cli("list-ssh-public-keys", *U)[1]["SSHPublicKeys"]
        self.assertEqual(cli("delete-ssh-public-key", *U, "--ssh-public-key-id",
                             keys[0]["SSHPublicKeyId"])[0], 0)
        conflict("must remove referenced objects first.")
        creds = cli("list-service-specific-credentials", *U)[1]["ServiceSpecificCredentials"]
        self.assertEqual(creds[0]["ServiceName"], "codecommit.amazonaws.com")
        self.assertEqual(cli("delete-service-specific-credential", *U,
                             "--service-specific-credential-id",
                             creds[0]["ServiceSpecificCredentialId"])[0], 0)
        conflict("must delete policies first.")
        self.assertEqual(cli("delete-user-policy", *U, "--policy-name", "sesctl-ses-send")[0], 0)
        conflict("must detach all policies first.")
        self.assertEqual(cli("detach-user-policy", *U, "--policy-arn",
                             "arn:aws:iam::aws:policy/AmazonSESFullAccess")[0], 0)
        conflict("must remove users from group first.")
        groups = cli("list-groups-for-user", *U)[1]["Groups"]
        self.assertEqual([g["GroupName"] for g in groups], ["smtp-users"])
        self.assertEqual(cli("remove-user-from-group", *U, "--group-name", "smtp-users")[0], 0)
        self.assertEqual(cli("delete-user", *U)[0], 0)

    def test_cli_can_seed_the_extras_itself(self):
        cli = self.cli
        U = ("--user-name", "seeded")
        self.assertEqual(cli("create-user", *U)[0], 0)
        self.assertEqual(cli("create-group", "--group-name", "g1")[0], 0)
        self.assertEqual(cli("add-user-to-group", *U, "--group-name", "g1")[0], 0)
        rc, out, err = cli("create-login-profile", *U, "--password", "Not-a-real-pw-123")
        self.assertEqual(rc, 0, err)
        rc, out, err = cli("create-virtual-mfa-device", "--virtual-mfa-device-name", "seeded",
                           "--outfile", os.path.join(self.tmp, "qr.png"),
                           "--bootstrap-method", "QRCodePNG")
        self.assertEqual(rc, 0, err)
        serial = out["VirtualMFADevice"]["SerialNumber"]
        self.assertEqual(serial, f"arn:aws:iam::{ACCT}:mfa/seeded")
        self.assertEqual(cli("enable-mfa-device", *U, "--serial-number", serial,
                             "--authentication-code1", "123456",
                             "--authentication-code2", "654321")[0], 0)
        self.assertCliError(cli("delete-virtual-mfa-device", "--serial-number", serial),
                            "DeleteConflict")
        rc, out, err = cli("upload-ssh-public-key", *U, "--ssh-public-key-body",
                           fake_state._FAKE_SSH_KEY)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out["SSHPublicKey"]["SSHPublicKeyId"], r"^APKA[A-Z2-7]{16}$")
        rc, out, err = cli("create-service-specific-credential", *U, "--service-name",
                           "codecommit.amazonaws.com")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["ServiceSpecificCredential"]["ServiceUserName"],
                         f"seeded-at-{ACCT}")
        u = self.iam.user("seeded")
        self.assertTrue(u["login_profile"])
        self.assertEqual(len(u["mfa_devices"]), 1)
        self.assertCliError(cli("delete-user", *U), "DeleteConflict",
                            "Cannot delete entity, must delete login profile first.")


class AwsCliAuth(Base):
    """Signature checking is real: the CLI's own signatures, good and bad."""

    def test_wrong_secret(self):
        bad = dict(self.iam.admin, secret_access_key="x" * 40)
        self.assertCliError(self.cli("get-user", caller=bad), "SignatureDoesNotMatch",
                            CLI_SIG_MSG)
        r = self.iam.requests[-1]
        self.assertEqual(r["status"], 403)
        self.assertFalse(r["sigv4"]["ok"])
        self.assertTrue(r["headers"])
        auth = dict((k.lower(), v) for k, v in r["headers"])["authorization"]
        self.assertIn(r["sigv4"]["provided_signature"], auth)

    def test_unknown_key_id(self):
        who = {"access_key_id": "AKIAUNKNOWNKEY222222", "secret_access_key": "y" * 40}
        self.assertCliError(self.cli("get-user", caller=who), "InvalidClientTokenId",
                            "The security token included in the request is invalid.")
        self.assertEqual(self.iam.requests[-1]["status"], 403)

    def test_session_token_caller(self):
        s = self.iam.session
        self.assertTrue(s["access_key_id"].startswith("ASIA"))
        rc, out, err = self.cli("create-user", "--user-name", "from-session", caller=s)
        self.assertEqual(rc, 0, err)
        hdrs = dict((k.lower(), v) for k, v in self.iam.requests[-1]["headers"])
        self.assertEqual(hdrs["x-amz-security-token"], s["session_token"])
        self.assertIn("x-amz-security-token", hdrs["authorization"])
        # GetUser without a name needs an IAM user behind the credentials.
        self.assertCliError(self.cli("get-user", caller=s), "ValidationError",
                            "Must specify userName when calling with non-User credentials")
        wrong = dict(s, session_token=s["session_token"][:-4] + "AAA=")
        self.assertCliError(self.cli("get-user", "--user-name", "from-session", caller=wrong),
                            "InvalidClientTokenId")
        no_token = dict(s, session_token=None)
        self.assertCliError(self.cli("get-user", "--user-name", "from-session",
                                     caller=no_token), "InvalidClientTokenId")

    def test_wrong_signing_region(self):
        # IAM is global: signed for us-east-1 only (rusoto#1870 capture).
        self.assertCliError(self.cli("list-users", region="us-west-2"),
                            "SignatureDoesNotMatch",
                            "Credential should be scoped to a valid region, not 'us-west-2'.")

    def test_access_denied(self):
        ro = self.iam.readonly
        rc, out, err = self.cli("get-user", caller=ro)
        self.assertEqual(rc, 0, err)
        self.assertCliError(
            self.cli("create-user", "--user-name", "nope", "--path", "/sesctl/", caller=ro),
            "AccessDenied",
            f"User: arn:aws:iam::{ACCT}:user/sesctl-test-readonly is not authorized to "
            f"perform: iam:CreateUser on resource: arn:aws:iam::{ACCT}:user/sesctl/nope")
        self.assertEqual(self.iam.requests[-1]["status"], 403)
        self.assertIsNone(self.iam.user("nope"))

    def test_clock_skew(self):
        self.iam.set_now(datetime.datetime.now(datetime.timezone.utc)
                         + datetime.timedelta(minutes=20))
        code, msg = None, None
        rc, out, err = self.cli("get-user", attempts=1)
        code, msg = cli_error(err)
        self.assertEqual((rc, code), (254, "SignatureDoesNotMatch"), err)
        self.assertRegex(msg, r"^Signature expired: \d{8}T\d{6}Z is now earlier than "
                              r"\d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$")
        self.iam.set_now(datetime.datetime.now(datetime.timezone.utc)
                         - datetime.timedelta(minutes=20))
        rc, out, err = self.cli("get-user", attempts=1)
        self.assertIn("Signature not yet current", err)
        self.iam.skew_check = False
        self.assertEqual(self.cli("get-user")[0], 0)


# ------------------------------------------------------------ faults

class Faults(Base):
    """Each fault kind, seen from the AWS CLI or a raw connection."""

    def test_500_is_retried_by_the_cli(self):
        self.iam.add_fault("service_failure", "CreateUser")
        rc, out, err = self.cli("create-user", "--user-name", "retried", attempts=3)
        self.assertEqual(rc, 0, err)
        reqs = [r for r in self.iam.requests if r["action"] == "CreateUser"]
        self.assertEqual([(r["status"], r["fault"], r["applied"]) for r in reqs],
                         [(500, "service_failure", False), (200, None, True)])
        self.assertIn("<Type>Receiver</Type>", reqs[0]["response"])
        self.iam.add_fault("service_failure", "GetUser")
        self.assertCliError(self.cli("get-user", attempts=1), "ServiceFailure")

    def test_throttling_and_503(self):
        self.iam.add_fault("throttling", times=2)
        rc, out, err = self.cli("get-user", attempts=3)
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["status"] for r in self.iam.requests], [400, 400, 200])
        code, msg = err_of(ET.fromstring(self.iam.requests[0]["response"]))
        self.assertEqual((code, msg), ("Throttling", "Rate exceeded"))
        self.iam.add_fault("service_unavailable")
        self.assertCliError(self.cli("get-user", attempts=1), "ServiceUnavailable")
        self.assertEqual(self.iam.requests[-1]["status"], 503)

    def test_close_after_apply_really_applied(self):
        self.iam.add_fault("close_after", "CreateUser")
        rc, out, err = self.cli("create-user", "--user-name", "ghost", attempts=1)
        self.assertEqual(rc, 255, err)
        self.assertIsNotNone(self.iam.user("ghost"))
        r = self.iam.requests[-1]
        self.assertEqual((r["fault"], r["applied"], r["status"]), ("close_after", True, 0))
        # With retries the CLI repeats the call blindly and meets its own user.
        self.iam.add_fault("close_after", "CreateUser")
        self.assertCliError(self.cli("create-user", "--user-name", "ghost2", attempts=3),
                            "EntityAlreadyExists", "User with name ghost2 already exists.")

    def test_close_before_apply_did_nothing(self):
        self.iam.add_fault("close_before", "CreateUser")
        rc, out, err = self.cli("create-user", "--user-name", "never", attempts=1)
        self.assertEqual(rc, 255, err)
        self.assertIsNone(self.iam.user("never"))
        self.assertEqual(self.iam.requests[-1]["applied"], False)

    def test_nth_call_of_an_action(self):
        self.iam.seed_user("k")
        self.iam.add_fault("service_failure", "CreateAccessKey", nth=2)
        results = [self.raw.call("CreateAccessKey", UserName="k")[0] for _ in range(3)]
        self.assertEqual(results, [200, 500, 200])
        self.assertEqual(len(self.iam.user("k")["access_keys"]), 2)
        self.assertEqual(self.iam.faults[0]["fired"], 1)

    def test_apply_then_error(self):
        self.iam.add_fault("service_failure", "CreateUser", apply=True)
        status, root, _ = self.raw.call("CreateUser", UserName="half")
        self.assertEqual(status, 500)
        self.assertIsNotNone(self.iam.user("half"))
        self.assertTrue(self.iam.requests[-1]["applied"])
        # A proxy error page after IAM did the work.
        self.iam.add_fault("html_error", "CreateUser", apply=True, status=504)
        r, data = self.raw.signed({"Action": "CreateUser", "Version": "2010-05-08",
                                   "UserName": "behind-proxy"})
        self.assertEqual(r.status, 504)
        self.assertIn(b"504 Gateway Timeout", data)
        self.assertIsNotNone(self.iam.user("behind-proxy"))
        # slow ignores apply=False: a slow answer is still an answer.
        self.iam.add_fault("slow", "GetUser", delay=0.2, apply=False)
        self.assertEqual(self.raw.call("GetUser")[0], 200)

    def test_slow_answer(self):
        self.iam.add_fault("slow", "GetUser", delay=1.0)
        t = time.monotonic()
        self.assertEqual(self.raw.call("GetUser")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.9)
        # A client that gives up early: the mutation still happened.
        self.iam.add_fault("slow", "CreateUser", delay=4)
        cmd = [AWS, "--endpoint-url", self.iam.url, "--ca-bundle", self.iam.ca_file,
               "--cli-read-timeout", "1", "iam", "create-user", "--user-name", "slowpoke"]
        p = subprocess.run(cmd, env=self.cli.env(attempts=1), capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 255, p.stderr)
        self.assertIn("timeout", p.stderr.lower())
        # Applied before the delay, so already there while the answer is pending.
        self.assertIsNotNone(self.iam.user("slowpoke"))
        self.assertEqual(self.iam.requests[-1]["status"], None)

    def test_malformed_and_truncated_xml(self):
        self.iam.add_fault("malformed_xml", "CreateUser")
        r, data = self.raw.signed({"Action": "CreateUser", "Version": "2010-05-08",
                                   "UserName": "garbled"})
        self.assertEqual(r.status, 200)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(data)
        self.assertIsNotNone(self.iam.user("garbled"))
        self.iam.add_fault("malformed_xml", "GetUser")
        rc, out, err = self.cli("get-user", attempts=1)
        self.assertNotEqual(rc, 0)

        self.iam.add_fault("truncated_xml", "GetUser")
        with self.assertRaises(http.client.IncompleteRead):
            self.raw.signed({"Action": "GetUser", "Version": "2010-05-08"})
        self.assertEqual(self.iam.requests[-1]["fault"], "truncated_xml")

    def test_html_error_page(self):
        self.iam.add_fault("html_error", status=502)
        r, data = self.raw.signed({"Action": "GetUser", "Version": "2010-05-08"})
        self.assertEqual(r.status, 502)
        self.assertEqual(r.getheader("Content-Type"), "text/html")
        self.assertIn(b"<title>502 Bad Gateway</title>", data)
        self.iam.add_fault("html_error", status=503)
        rc, out, err = self.cli("get-user", attempts=1)
        self.assertNotEqual(rc, 0)

    def test_expired_kinds(self):
        self.iam.add_fault("request_expired")
        status, root, _ = self.raw.call("GetUser")
        self.assertEqual((status, err_of(root)[0]), (400, "RequestExpired"))
        self.iam.add_fault("signature_expired")
        rc, out, err = self.cli("get-user", attempts=1)
        code, msg = cli_error(err)
        self.assertEqual(code, "SignatureDoesNotMatch")
        self.assertTrue(msg.startswith("Signature expired: "), msg)

    def test_reset_before(self):
        self.iam.add_fault("reset_before")
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected, ssl.SSLError)):
            self.raw.signed({"Action": "GetUser", "Version": "2010-05-08"})

    def test_custom_error(self):
        self.iam.add_fault("error", "CreateUser", code="ConcurrentModification", status=409,
                           message="Rate of change too high")
        self.assertCliError(self.cli("create-user", "--user-name", "x", attempts=1),
                            "ConcurrentModification", "Rate of change too high")
        self.assertIsNone(self.iam.user("x"))
        self.iam.add_fault("internal_failure")
        st, root, _ = self.raw.call("GetUser")
        self.assertEqual((st, err_of(root)[0], root.findtext(f"{NS}Error/{NS}Type")),
                         (500, "InternalFailure", "Receiver"))


# ------------------------------------------------- policy evaluation

def pol(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def denied(caller, action, resource, explicit=False):
    why = ("with an explicit deny in an identity-based policy" if explicit else
           f"because no identity-based policy allows the {action} action")
    return (f"User: {caller['principal_arn']} is not authorized to perform: "
            f"{action} on resource: {resource} {why}")


class PolicyEvaluation(Base):
    """A caller that holds a policy (caller_with_policy), evaluated as the
    IAM User Guide's policy evaluation logic says, seen through the AWS CLI."""

    USERS = f"arn:aws:iam::{ACCT}:user/sesctl/*"

    def setUp(self):
        super().setUp()
        self.iam.seed_user("app", path="/sesctl/", groups=("admins",))
        self.iam.seed_user("root-level", path="/")

    def test_allow_on_action_and_resource_else_access_denied(self):
        c = self.iam.caller_with_policy(pol(allow("iam:GetUser", self.USERS)))
        self.assertRegex(c["name"], r"^sesctl-test-policy\d+$")
        self.assertEqual(c["principal_arn"], f"arn:aws:iam::{ACCT}:user/{c['name']}")
        rc, out, err = self.cli("get-user", "--user-name", "app", caller=c)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["User"]["Arn"], f"arn:aws:iam::{ACCT}:user/sesctl/app")
        # another action on the same user, the same action on a user
        # outside the path: IAM's default deny, in IAM's words
        self.assertCliError(
            self.cli("list-access-keys", "--user-name", "app", caller=c), "AccessDenied",
            denied(c, "iam:ListAccessKeys", f"arn:aws:iam::{ACCT}:user/sesctl/app"))
        self.assertCliError(
            self.cli("get-user", "--user-name", "root-level", caller=c), "AccessDenied",
            denied(c, "iam:GetUser", f"arn:aws:iam::{ACCT}:user/root-level"))
        self.assertEqual(self.iam.requests[-1]["status"], 403)
        # its own user is no exception
        self.assertCliError(self.cli("get-user", caller=c), "AccessDenied",
                            denied(c, "iam:GetUser", c["principal_arn"]))

    def test_wildcards_and_case(self):
        c = self.iam.caller_with_policy(pol(
            allow(["IAM:get*", "iam:listaccess?eys"], f"arn:aws:iam::{ACCT}:user/sesctl/a??"),
            allow("iam:ListUserTags", f"arn:aws:iam::*:user/*-level")))
        for args in (("get-user", "--user-name", "app"),
                     ("list-access-keys", "--user-name", "app"),
                     ("list-user-tags", "--user-name", "root-level")):
            rc, out, err = self.cli(*args, caller=c)
            self.assertEqual(rc, 0, (args, err))
        # '?' is one character; resource ARNs are case-sensitive
        self.iam.seed_user("apps", path="/sesctl/")
        self.iam.seed_user("abc", path="/Sesctl/")
        for user, arn in (("apps", "sesctl/apps"), ("abc", "Sesctl/abc")):
            self.assertCliError(self.cli("get-user", "--user-name", user, caller=c),
                                "AccessDenied",
                                denied(c, "iam:GetUser", f"arn:aws:iam::{ACCT}:user/{arn}"))
        self.assertCliError(self.cli("list-user-tags", "--user-name", "app", caller=c),
                            "AccessDenied")

    def test_explicit_deny_wins(self):
        c = self.iam.caller_with_policy(pol(
            allow("iam:*", "*"),
            {"Effect": "Deny", "Action": "iam:Delete*", "Resource": self.USERS}))
        self.iam.seed_user("app", access_keys=1)
        akid = self.iam.user("app")["access_keys"][0]["access_key_id"]
        rc, out, err = self.cli("list-access-keys", "--user-name", "app", caller=c)
        self.assertEqual(rc, 0, err)
        self.assertCliError(
            self.cli("delete-access-key", "--user-name", "app", "--access-key-id", akid,
                     caller=c), "AccessDenied",
            denied(c, "iam:DeleteAccessKey", f"arn:aws:iam::{ACCT}:user/sesctl/app",
                   explicit=True))
        self.assertEqual(len(self.iam.user("app")["access_keys"]), 1)
        rc, out, err = self.cli("delete-user", "--user-name", "root-level", caller=c)
        self.assertEqual(rc, 0, err)

    def test_not_action_and_not_resource(self):
        c = self.iam.caller_with_policy(pol(
            {"Effect": "Allow", "NotAction": "iam:Get*", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:GetUser", "NotResource": self.USERS}))
        rc, out, err = self.cli("list-user-tags", "--user-name", "app", caller=c)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.cli("get-user", "--user-name", "root-level", caller=c)
        self.assertEqual(rc, 0, err)
        self.assertCliError(self.cli("get-user", "--user-name", "app", caller=c),
                            "AccessDenied")

    def test_list_users_has_no_resource_level_permission(self):
        # The Service Authorization Reference lists no resource type for
        # ListUsers: only Resource "*" grants it.
        c = self.iam.caller_with_policy(pol(allow("iam:ListUsers", f"arn:aws:iam::{ACCT}:user/*")))
        self.assertCliError(
            self.cli("list-users", "--path-prefix", "/sesctl/", caller=c), "AccessDenied",
            denied(c, "iam:ListUsers", f"arn:aws:iam::{ACCT}:user/sesctl/"))
        c = self.iam.caller_with_policy(pol(allow("iam:ListUsers", "*")))
        rc, out, err = self.cli("list-users", "--path-prefix", "/sesctl/", caller=c)
        self.assertEqual(rc, 0, err)
        self.assertEqual([u["UserName"] for u in out["Users"]], ["app"])

    def test_create_user_is_authorized_on_its_path_and_tags_need_tag_user(self):
        c = self.iam.caller_with_policy(pol(allow("iam:CreateUser", self.USERS)))
        self.assertCliError(
            self.cli("create-user", "--user-name", "elsewhere", caller=c), "AccessDenied",
            denied(c, "iam:CreateUser", f"arn:aws:iam::{ACCT}:user/elsewhere"))
        rc, out, err = self.cli("create-user", "--user-name", "new", "--path", "/sesctl/",
                                caller=c)
        self.assertEqual(rc, 0, err)
        self.assertCliError(
            self.cli("create-user", "--user-name", "tagged", "--path", "/sesctl/",
                     "--tags", "Key=ManagedBy,Value=sesctl", caller=c), "AccessDenied",
            denied(c, "iam:TagUser", f"arn:aws:iam::{ACCT}:user/sesctl/tagged"))
        self.assertIsNone(self.iam.user("tagged"))
        c = self.iam.caller_with_policy(pol(allow(["iam:CreateUser", "iam:TagUser"],
                                                  self.USERS)))
        rc, out, err = self.cli("create-user", "--user-name", "tagged", "--path", "/sesctl/",
                                "--tags", "Key=ManagedBy,Value=sesctl", caller=c)
        self.assertEqual(rc, 0, err)

    def test_a_missing_user_is_not_under_the_path(self):
        # IAM cannot know the path of a user that is not there: a policy
        # scoped to a path does not reveal that it is missing.
        c = self.iam.caller_with_policy(pol(allow("iam:GetUser", self.USERS)))
        self.assertCliError(self.cli("get-user", "--user-name", "ghost", caller=c),
                            "AccessDenied", denied(c, "iam:GetUser", "user ghost"))
        c = self.iam.caller_with_policy(pol(allow("iam:GetUser", f"arn:aws:iam::{ACCT}:user/gh*")))
        self.assertCliError(self.cli("get-user", "--user-name", "ghost", caller=c),
                            "NoSuchEntity")

    def test_group_and_virtual_mfa_resources(self):
        self.iam.seed_user("app", virtual_mfa_devices=1)
        serial = self.iam.user("app")["mfa_devices"][0]["serial"]
        c = self.iam.caller_with_policy(pol(
            allow(["iam:RemoveUserFromGroup", "iam:DeactivateMFADevice",
                   "iam:DeleteVirtualMFADevice"], self.USERS)))
        self.assertCliError(
            self.cli("remove-user-from-group", "--user-name", "app", "--group-name", "admins",
                     caller=c), "AccessDenied",
            denied(c, "iam:RemoveUserFromGroup", f"arn:aws:iam::{ACCT}:group/admins"))
        rc, out, err = self.cli("deactivate-mfa-device", "--user-name", "app",
                                "--serial-number", serial, caller=c)
        self.assertEqual(rc, 0, err)
        self.assertCliError(
            self.cli("delete-virtual-mfa-device", "--serial-number", serial, caller=c),
            "AccessDenied", denied(c, "iam:DeleteVirtualMFADevice", serial))
        c = self.iam.caller_with_policy(pol(
            allow("iam:RemoveUserFromGroup", f"arn:aws:iam::{ACCT}:group/*"),
            allow("iam:DeleteVirtualMFADevice", f"arn:aws:iam::{ACCT}:mfa/*")))
        for args in (("remove-user-from-group", "--user-name", "app", "--group-name", "admins"),
                     ("delete-virtual-mfa-device", "--serial-number", serial)):
            rc, out, err = self.cli(*args, caller=c)
            self.assertEqual(rc, 0, (args, err))

    def test_the_callers_own_policies_count_and_deny_lists_still_work(self):
        c = self.iam.caller_with_policy(pol(allow("iam:GetUser", self.USERS)))
        # an inline policy the admin gives it later counts too
        rc, out, err = self.cli("put-user-policy", "--user-name", c["name"],
                                "--policy-name", "more", "--policy-document",
                                json.dumps(pol(allow("iam:ListUserTags", "*"))))
        self.assertEqual(rc, 0, err)
        rc, out, err = self.cli("list-user-tags", "--user-name", "root-level", caller=c)
        self.assertEqual(rc, 0, err)
        # deny() is checked first, in its own words
        self.iam.deny(c["access_key_id"], ["iam:GetUser"])
        rc, out, err = self.cli("get-user", "--user-name", "app", caller=c)
        self.assertEqual(cli_error(err), ("AccessDenied",
                         f"User: {c['principal_arn']} is not authorized to perform: "
                         f"iam:GetUser on resource: arn:aws:iam::{ACCT}:user/sesctl/app"))
        # the admin, without policies of its own, may still do anything
        rc, out, err = self.cli("list-users")
        self.assertEqual(rc, 0, err)

    def test_sts_and_reset(self):
        c = self.iam.caller_with_policy(pol(allow("iam:GetUser", self.USERS)))
        # GetCallerIdentity needs no permission (STS API Reference)
        rc, out, err = self.cli("get-caller-identity", caller=c, service="sts")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["Arn"], c["principal_arn"])
        role = self.iam.add_role("deployer", trusted=[c["principal_arn"]])
        rc, out, err = self.cli("assume-role", "--role-arn", role["arn"],
                                "--role-session-name", "s1", caller=c, service="sts")
        self.assertEqual(cli_error(err), ("AccessDenied",
                         f"User: {c['principal_arn']} is not authorized to perform: "
                         f"sts:AssumeRole on resource: {role['arn']}"))
        # reset() keeps the caller and its policy
        self.iam.reset()
        self.iam.seed_user("app", path="/sesctl/")
        rc, out, err = self.cli("get-user", "--user-name", "app", caller=c)
        self.assertEqual(rc, 0, err)
        self.assertCliError(self.cli("list-access-keys", "--user-name", "app", caller=c),
                            "AccessDenied")

    def test_what_it_refuses_to_model(self):
        with self.assertRaises(Exception):
            self.iam.caller_with_policy(pol(dict(allow("iam:GetUser", "*"),
                                                 Condition={"Bool": {"aws:SecureTransport": "true"}})))
        with self.assertRaises(ValueError) as e:
            self.iam.caller_with_policy(pol(*[allow("iam:GetUser", "arn:aws:iam::%s:user/%s"
                                                    % (ACCT, "x" * 200))] * 40))
        self.assertIn("PolicySize: 6144", str(e.exception))


# ------------------------------------------------------ raw protocol

class Protocol(Base):
    """Malformed requests, XML shapes, the log and connection counting."""

    def test_missing_and_unknown_action(self):
        r, data = self.raw.signed({"Version": "2010-05-08"})
        self.assertEqual(r.status, 400)
        self.assertEqual(err_of_any(ET.fromstring(data))[0], "MissingAction")
        r, data = self.raw.signed({"Action": "Frobnicate", "Version": "2010-05-08"})
        root = ET.fromstring(data)
        self.assertEqual(r.status, 400)
        self.assertEqual(root.tag,
                         "{http://webservices.amazon.com/AWSFault/2005-15-09}ErrorResponse")
        self.assertEqual(err_of_any(root),
                         ("InvalidAction", "Could not find operation Frobnicate for version "
                                           "2010-05-08"))
        r, data = self.raw.signed({"Action": "ListUsers"})
        self.assertEqual(err_of_any(ET.fromstring(data)),
                         ("InvalidAction", "Could not find operation ListUsers for version "
                                           "NO_VERSION_SPECIFIED"))

    def test_validation_errors(self):
        cases = [
            ({"Action": "CreateUser"}, "1 validation error detected: Value at 'userName' "
             "failed to satisfy constraint: Member must not be null"),
            ({"Action": "CreateUser", "UserName": "bad name!"},
             "The specified value for userName is invalid. It must contain only "
             "alphanumeric characters and/or the following: +=,.@_-"),
            ({"Action": "CreateUser", "UserName": "a" * 65},
             "1 validation error detected: Value at 'userName' failed to satisfy "
             "constraint: Member must have length less than or equal to 64"),
            ({"Action": "GetUser", "UserName": "a" * 65}, None),    # existing names: 128
            ({"Action": "CreateUser", "UserName": "ok", "Path": "sesctl"},
             "The specified value for path is invalid. It must begin and end with / and "
             "contain only alphanumeric characters and/or / characters."),
            ({"Action": "ListUsers", "MaxItems": "0"},
             "1 validation error detected: Value at 'maxItems' failed to satisfy "
             "constraint: Member must have value greater than or equal to 1"),
            ({"Action": "ListUsers", "MaxItems": "1001"},
             "1 validation error detected: Value at 'maxItems' failed to satisfy "
             "constraint: Member must have value less than or equal to 1000"),
            ({"Action": "ListUsers", "Marker": "garbage"}, "Invalid Marker."),
            ({"Action": "UpdateAccessKey", "AccessKeyId": "AKIAFAKETESTADMIN777",
              "Status": "Bogus"},
             "1 validation error detected: Value at 'status' failed to satisfy constraint: "
             "Member must satisfy enum value set: [Active, Inactive]"),
            ({"Action": "PutUserPolicy", "UserName": "x"},
             "2 validation errors detected: Value at 'policyName' failed to satisfy "
             "constraint: Member must not be null; Value at 'policyDocument' failed to "
             "satisfy constraint: Member must not be null"),
            ({"Action": "CreateUser", "UserName": "t", "Tags.member.1.Key": "a*b",
              "Tags.member.1.Value": "v"},
             "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: "
             "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"),
        ]
        for params, msg in cases:
            with self.subTest(params=params):
                p = dict(params, Version="2010-05-08")
                r, data = self.raw.signed(p)
                code, got = err_of_any(ET.fromstring(data))
                if msg is None:
                    self.assertEqual((r.status, code), (404, "NoSuchEntity"))
                    continue
                self.assertEqual((r.status, code), (400, "ValidationError"), got)
                self.assertEqual(got, msg)
        # Unicode letters are fine in tags, duplicate keys (any case) are not.
        status, root, _ = self.raw.call("CreateUser", UserName="uni",
                                        **{"Tags.member.1.Key": "Prénom",
                                           "Tags.member.1.Value": "Zoë ü"})
        self.assertEqual(status, 200)
        status, root, _ = self.raw.call("CreateUser", UserName="dup",
                                        **{"Tags.member.1.Key": "a", "Tags.member.1.Value": "",
                                           "Tags.member.2.Key": "A", "Tags.member.2.Value": ""})
        self.assertEqual((status, err_of(root)),
                         (400, ("InvalidInput", "Duplicate tag keys found. Please note that "
                                "Tag keys are case insensitive.")))

    def test_marker_belongs_to_its_listing(self):
        for i in range(3):
            self.iam.seed_user(f"m{i}", path="/m/")
        status, root, _ = self.raw.call("ListUsers", PathPrefix="/m/", MaxItems="1")
        res = root.find(NS + "ListUsersResult")
        self.assertEqual(res.findtext(NS + "IsTruncated"), "true")
        marker = res.findtext(NS + "Marker")
        status, root, _ = self.raw.call("ListUsers", PathPrefix="/m/", MaxItems="5",
                                        Marker=marker)
        names = [m.findtext(NS + "UserName")
                 for m in root.iter(NS + "member")]
        self.assertEqual(names, ["m1", "m2"])
        status, root, _ = self.raw.call("ListAccessKeys", Marker=marker)
        self.assertEqual((status, err_of(root)), (400, ("ValidationError", "Invalid Marker.")))
        # A client that sends '+' unencoded turns it into a space: IAM rejects that.
        body = ("Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fm%2F&Marker="
                + marker.replace("/", "%2F").replace("=", "%3D")).encode()
        r, data = self.raw.signed(body)
        self.assertEqual(err_of_any(ET.fromstring(data)), ("ValidationError", "Invalid Marker."))

    def test_keys_listed_in_creation_order(self):
        # Same CreateDate (pinned clock): order must still be creation order, also
        # across pages.
        self.iam.set_now("2020-01-01T00:00:00Z")
        self.iam.skew_check = False
        for i in range(6):
            name = f"order{i}"
            self.iam.seed_user(name)
            made = [self.raw.call("CreateAccessKey", UserName=name)[1]
                    .findtext(f"{NS}CreateAccessKeyResult/{NS}AccessKey/{NS}AccessKeyId")
                    for _ in range(2)]
            st, root, _ = self.raw.call("ListAccessKeys", UserName=name)
            listed = [m.findtext(NS + "AccessKeyId") for m in root.iter(NS + "member")]
            self.assertEqual(listed, made)
            st, root, _ = self.raw.call("ListAccessKeys", UserName=name, MaxItems="1")
            first = [m.findtext(NS + "AccessKeyId") for m in root.iter(NS + "member")]
            marker = root.find(NS + "ListAccessKeysResult").findtext(NS + "Marker")
            st, root, _ = self.raw.call("ListAccessKeys", UserName=name, Marker=marker)
            second = [m.findtext(NS + "AccessKeyId") for m in root.iter(NS + "member")]
            self.assertEqual(first + second, made)

    def test_page_cap_returns_fewer_items(self):
        for i in range(3):
            self.iam.seed_user(f"c{i}", path="/c/")
        self.iam.page_cap = 1
        try:
            status, root, _ = self.raw.call("ListUsers", PathPrefix="/c/", MaxItems="100")
            self.assertEqual(len(list(root.iter(NS + "member"))), 1)
            self.assertEqual(root.find(NS + "ListUsersResult").findtext(NS + "IsTruncated"),
                             "true")
        finally:
            self.iam.page_cap = None

    def test_signature_failures(self):
        good = {"Action": "GetUser", "Version": "2010-05-08"}
        # Tampered body: signed for one body, another one (same length) sent.
        req = sign(dict(good, UserName="sesctl-test-admin"), self.iam.admin, self.iam.url)
        tampered = req.body.replace(b"admin", b"xdmin")
        r, data = self.raw.send("POST", "/", tampered, dict(req.headers.items()))
        self.assertEqual((r.status, err_of_any(ET.fromstring(data))),
                         (403, ("SignatureDoesNotMatch", CLI_SIG_MSG)))
        self.assertFalse(self.iam.requests[-1]["sigv4"]["ok"])
        # No Authorization at all.
        r, data = self.raw.send("POST", "/", b"Action=GetUser&Version=2010-05-08",
                                {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, err_of_any(ET.fromstring(data))),
                         (403, ("MissingAuthenticationToken",
                                "Request is missing Authentication Token")))
        # Wrong service in the scope.
        r, data = self.raw.signed(good, service="sts")
        self.assertEqual((r.status, err_of_any(ET.fromstring(data))[0]),
                         (403, "SignatureDoesNotMatch"))
        self.assertIn("'iam'", err_of_any(ET.fromstring(data))[1])
        # Security token added after signing is accepted (post-sts-header-after).
        s = self.iam.session
        req = sign(good, s, self.iam.url, token=None)
        hdrs = dict(req.headers.items())
        hdrs["X-Amz-Security-Token"] = s["session_token"]
        r, data = self.raw.send("POST", "/", req.body, hdrs)
        self.assertEqual(r.status, 400)          # ValidationError: role has no user
        self.assertEqual(err_of_any(ET.fromstring(data))[0], "ValidationError")
        # Expired session token.
        self.iam.add_caller({"access_key_id": "ASIAFAKETESTEXPIRED2", "secret_access_key":
                             "z" * 40, "session_token": "tok", "expired": True})
        r, data = self.raw.signed(good, {"access_key_id": "ASIAFAKETESTEXPIRED2",
                                         "secret_access_key": "z" * 40,
                                         "session_token": "tok"})
        self.assertEqual((r.status, err_of_any(ET.fromstring(data))[0]), (403, "ExpiredToken"))

    def test_curl_signer_is_accepted(self):
        # libcurl's own SigV4 implementation (curl --aws-sigv4), independent of botocore.
        help_ = subprocess.run(["curl", "--help", "all"], capture_output=True, text=True)
        if "--aws-sigv4" not in help_.stdout:
            self.skipTest("curl without --aws-sigv4")
        a = self.iam.admin
        body = urllib.parse.urlencode({"Action": "ListUsers", "Version": "2010-05-08",
                                       "PathPrefix": "/" + "a" * 500 + "/"})
        p = subprocess.run(["curl", "-sS", "--cacert", self.iam.ca_file, "--aws-sigv4",
                            "aws:amz:us-east-1:iam", "--user",
                            f"{a['access_key_id']}:{a['secret_access_key']}",
                            "-H", "Content-Type: application/x-www-form-urlencoded",
                            "-H", "Expect: 100-continue", "--data-binary", body,
                            self.iam.url + "/"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("<ListUsersResponse", p.stdout)
        self.assertTrue(self.iam.requests[-1]["sigv4"]["ok"])

    def test_get_with_query_string(self):
        r, data = self.raw.signed({"Action": "ListUsers", "Version": "2010-05-08",
                                   "PathPrefix": "/"}, method="GET")
        self.assertEqual(r.status, 200, data)
        self.assertEqual(self.iam.requests[-1]["method"], "GET")
        self.assertTrue(self.iam.requests[-1]["sigv4"]["ok"])

    def test_pinned_clock_and_skew(self):
        t0 = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc)
        self.iam.set_now(t0)
        st, root, _ = self.raw.call("GetUser")
        self.assertEqual((st, err_of(root)[0]), (403, "SignatureDoesNotMatch"))
        r, data = self.raw.signed({"Action": "CreateUser", "Version": "2010-05-08",
                                   "UserName": "old"}, timestamp=t0)
        self.assertEqual(r.status, 200)
        self.assertIn("<CreateDate>2015-08-30T12:36:00Z</CreateDate>", data.decode())
        r, data = self.raw.signed({"Action": "GetUser", "Version": "2010-05-08"},
                                  timestamp=t0 + datetime.timedelta(minutes=14))
        self.assertEqual(r.status, 200)
        r, data = self.raw.signed({"Action": "GetUser", "Version": "2010-05-08"},
                                  timestamp=t0 + datetime.timedelta(minutes=16))
        self.assertIn("Signature not yet current: 20150830T125200Z is still later than "
                      "20150830T125100Z (20150830T123600Z + 15 min.)",
                      err_of_any(ET.fromstring(data))[1])

    def test_published_vector_verifies(self):
        vec = find_vectors()
        if not vec:
            self.skipTest("sigv4/iam-query vectors not found")
        case = os.path.join(vec, "iam-create-user-path-tags")
        def read(name, mode="r"):
            with open(os.path.join(case, name), mode) as f:
                return f.read()
        ctx = json.loads(read("context.json"))
        raw = read("signed-request.txt", "rb")
        head, body = raw.split(b"\n\n", 1)
        lines = head.decode().split("\n")
        headers = dict(line.split(":", 1) for line in lines[1:])
        self.iam.set_now(ctx["timestamp"])
        self.iam.add_caller({"access_key_id": ctx["credentials"]["access_key_id"],
                             "secret_access_key": ctx["credentials"]["secret_access_key"],
                             "principal": "user:vector-admin"})
        r, data = self.raw.send("POST", "/", body, headers)
        self.assertEqual(r.status, 200, data)
        rec = self.iam.requests[-1]
        expected = read("canonical-request.txt").rstrip("\n")
        self.assertEqual(rec["sigv4"]["canonical_request"], expected)
        self.assertEqual(self.iam.user("ses-smtp-user.20150830")["tags"],
                         [{"Key": "Purpose", "Value": "SES SMTP relay"},
                          {"Key": "owner:email", "Value": "a+b@example.com"}])

    def test_xml_shapes_and_headers(self):
        r, data = self.raw.signed({"Action": "CreateUser", "Version": "2010-05-08",
                                   "UserName": "shape", "Path": "/sesctl/"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/xml")
        root = ET.fromstring(data)
        self.assertEqual(root.tag, NS + "CreateUserResponse")
        self.assertEqual([c.tag for c in root], [NS + "CreateUserResult", NS + "ResponseMetadata"])
        user = root.find(f"{NS}CreateUserResult/{NS}User")
        self.assertEqual([c.tag[len(NS):] for c in user],
                         ["Path", "UserName", "UserId", "Arn", "CreateDate"])
        rid = root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
        self.assertEqual(r.getheader("x-amzn-RequestId"), rid)
        self.assertRegex(rid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                              r"[0-9a-f]{12}$")
        # Operations without output: ResponseMetadata only.
        st, root, _ = self.raw.call("TagUser", UserName="shape",
                                    **{"Tags.member.1.Key": "k", "Tags.member.1.Value": "v"})
        self.assertEqual([c.tag for c in root], [NS + "ResponseMetadata"])
        # Errors: RequestId is a sibling of Error.
        st, root, resp = self.raw.call("GetUser", UserName="missing")
        self.assertEqual(st, 404)
        self.assertEqual(root.tag, NS + "ErrorResponse")
        self.assertEqual([c.tag for c in root], [NS + "Error", NS + "RequestId"])
        self.assertEqual(root.findtext(f"{NS}Error/{NS}Type"), "Sender")
        self.assertEqual(resp.getheader("x-amzn-RequestId"), root.findtext(NS + "RequestId"))
        # GetUserPolicy returns the document percent-encoded (RFC 3986).
        self.raw.call("PutUserPolicy", UserName="shape", PolicyName="p",
                      PolicyDocument=json.dumps(POLICY))
        st, root, _ = self.raw.call("GetUserPolicy", UserName="shape", PolicyName="p")
        enc = root.findtext(f"{NS}GetUserPolicyResult/{NS}PolicyDocument")
        self.assertNotIn("{", enc)
        self.assertIn("%2A", enc)
        self.assertEqual(json.loads(urllib.parse.unquote(enc)), POLICY)
        # ListAccessKeys carries UserName in the result, like the doc example.
        st, root, _ = self.raw.call("ListAccessKeys")
        self.assertEqual(root.find(NS + "ListAccessKeysResult")[0].tag, NS + "UserName")
        # Empty list
        st, root, _ = self.raw.call("ListUserPolicies", UserName="sesctl-test-admin")
        self.assertIn("<PolicyNames/>", self.iam.requests[-1]["response"])

    def test_request_log_and_connection_counting(self):
        before = (self.iam.connections_accepted, self.iam.tls_handshakes)
        for _ in range(4):
            self.assertEqual(self.raw.call("GetUser")[0], 200)
        self.assertEqual(self.iam.connections_accepted, before[0] + 1)
        self.assertEqual(self.iam.tls_handshakes, before[1] + 1)
        reqs = self.iam.requests
        self.assertEqual(len(reqs), 4)
        self.assertEqual(len({r["conn"] for r in reqs}), 1)
        self.assertEqual([r["seq"] for r in reqs], sorted(r["seq"] for r in reqs))
        r = reqs[0]
        self.assertEqual((r["method"], r["path"], r["action"], r["status"], r["caller"]),
                         ("POST", "/", "GetUser", 200, self.iam.admin["access_key_id"]))
        self.assertEqual(r["params"], {"Action": "GetUser", "Version": "2010-05-08"})
        hdrs = dict((k.lower(), v) for k, v in r["headers"])
        self.assertTrue(hdrs["authorization"].startswith(
            "AWS4-HMAC-SHA256 Credential=AKIAFAKETESTADMIN777/"))
        self.assertIn("\nhost:127.0.0.1:", r["sigv4"]["canonical_request"])
        # A second connection.
        self.raw.close()
        self.raw.call("GetUser")
        self.assertEqual(self.iam.connections_accepted, before[0] + 2)
        self.assertEqual(len(self.iam.iam_connection_ids()), 2)
        # The client asking to close is honoured.
        r, data = self.raw.signed({"Action": "GetUser", "Version": "2010-05-08"},
                                  extra_headers={"Connection": "close"})
        self.assertEqual(r.getheader("Connection"), "close")
        self.iam.clear_requests()
        self.assertEqual(self.iam.requests, [])

    def test_state_dump_load_and_shared_keys(self):
        self.iam.seed_user("shared", path="/sesctl/", access_keys=1)
        dump = self.iam.dump_state()
        json.dumps(dump)                                    # JSON-able
        key = dump["users"][-1]["access_keys"][0]
        with FakeIAM(tls=False, state=dump, callers=[]) as other:
            raw = Raw(other)
            st, root, _ = raw.call("GetUser", {"access_key_id": key["access_key_id"],
                                               "secret_access_key": key["secret_access_key"]})
            raw.close()
            self.assertEqual(st, 200)
            self.assertEqual(root.findtext(f"{NS}GetUserResult/{NS}User/{NS}UserName"), "shared")
        path = os.path.join(self.tmp, "state.json")
        self.iam.save_state(path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with FakeIAM(tls=False, state=path) as again:
            self.assertIsNotNone(again.user("shared"))

    def test_seed_makes_ids_deterministic(self):
        def run():
            with FakeIAM(tls=False, seed=42, now="2020-01-02T03:04:05Z",
                         skew_check=False) as f:
                raw = Raw(f)
                raw.call("CreateUser", UserName="d")
                st, root, _ = raw.call("CreateAccessKey", UserName="d")
                raw.close()
                return f.user("d")["user_id"], ET.tostring(root)
        self.assertEqual(run(), run())

    def test_plain_http_mode_with_the_cli(self):
        with FakeIAM(tls=False) as plain:
            cli = Cli(plain, self.tmp)
            rc, out, err = cli("get-user")
            self.assertEqual(rc, 0, err)
            self.assertEqual(plain.tls_handshakes, plain.connections_accepted)


def err_of_any(root):
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    e = root.find(ns + "Error")
    return e.findtext(ns + "Code"), e.findtext(ns + "Message")


# ------------------------------------------------------ separate process

class Subprocess(unittest.TestCase):
    """The command line and the control endpoint, as another test would use them."""

    def start(self, *extra, tmp=None):
        if tmp is None:
            tmp = tempfile.mkdtemp(prefix="test-fake-iam-proc-")
            self.addCleanup(shutil.rmtree, tmp, True)
        p = subprocess.Popen([PYTHON, STANDINS, "iam", "--port", "0",
                              "--cert-dir", os.path.join(tmp, "tls"), *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        def cleanup():
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        self.addCleanup(cleanup)
        line = p.stdout.readline()
        self.assertTrue(line, p.stderr.read() if p.poll() is not None else "no output")
        return p, json.loads(line), tmp

    def control(self, info, method, what, obj=None):
        u = urllib.parse.urlsplit(info["url"])
        if info["tls"]:
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                               context=ssl.create_default_context(
                                                   cafile=info["ca_file"]))
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        body = json.dumps(obj).encode() if obj is not None else None
        conn.request(method, "/__fake__/" + what, body=body,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = json.loads(r.read())
        conn.close()
        return r.status, data

    def test_cli_and_control_endpoint(self):
        tmp = tempfile.mkdtemp(prefix="test-fake-iam-proc-")
        self.addCleanup(shutil.rmtree, tmp, True)
        state_file = os.path.join(tmp, "state.json")
        p, info, tmp = self.start("--seed", "3", "--state", state_file, tmp=tmp)
        try:
            self.assertTrue(info["url"].startswith("https://127.0.0.1:"))
            self.assertTrue(os.path.exists(info["ca_file"]))
            self.assertEqual([c["access_key_id"] for c in info["callers"]],
                             ["AKIAFAKETESTADMIN777", "AKIAFAKETESTREADONLY",
                              "ASIAFAKETESTSESSION7"])

            class _I:  # what Cli needs
                url, ca_file = info["url"], info["ca_file"]
                admin = info["callers"][0]
            cli = Cli(_I, tmp)
            self.assertEqual(cli("create-user", "--user-name", "proc")[0], 0)
            st, faults = self.control(info, "POST", "faults",
                                      [{"kind": "service_failure", "action": "GetUser"}])
            self.assertEqual(st, 200)
            rc, out, err = cli("get-user", "--user-name", "proc", attempts=1)
            self.assertEqual((rc, cli_error(err)[0]), (254, "ServiceFailure"))
            st, log = self.control(info, "GET", "requests")
            self.assertEqual([(r["action"], r["status"]) for r in log["requests"]],
                             [("CreateUser", 200), ("GetUser", 500)])
            st, conns = self.control(info, "GET", "connections")
            self.assertEqual(len(conns["iam_connection_ids"]), 2)   # two CLI processes
            st, state = self.control(info, "GET", "state")
            self.assertIn("proc", [u["name"] for u in state["users"]])
            st, clock = self.control(info, "PUT", "clock", {"now": "2015-08-30T12:36:00Z"})
            self.assertEqual(clock["now"], "2015-08-30T12:36:00Z")
            self.assertCliError(cli("get-user", attempts=1), "SignatureDoesNotMatch")
            self.control(info, "PUT", "clock", {"now": None})
            st, u = self.control(info, "POST", "seed-user",
                                 {"name": "seeded", "access_keys": 1, "login_profile": True})
            self.assertEqual(len(u["access_keys"]), 1)
            st, k = self.control(info, "POST", "access-keys/" + u["access_keys"][0]
                                 ["access_key_id"],
                                 {"last_used": {"date": "2024-01-01T00:00:00Z",
                                                "service": "ses", "region": "us-east-1"}})
            self.assertEqual(k["last_used"]["service"], "ses")
            self.assertEqual(self.control(info, "POST", "reset")[0], 200)
            st, state2 = self.control(info, "GET", "state")
            self.assertNotIn("proc", [u["name"] for u in state2["users"]])
            self.assertEqual(self.control(info, "GET", "nonsense")[0], 404)
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=10), 0)
        with open(state_file) as f:
            saved = json.load(f)
        self.assertEqual(saved["account_id"], ACCT)
        self.assertEqual(os.stat(state_file).st_mode & 0o777, 0o600)

    def assertCliError(self, res, code):
        self.assertEqual((res[0], cli_error(res[2])[0]), (254, code), res[2])

    def test_http_mode_and_caller_flags(self):
        p, info, tmp = self.start("--http", "--caller", "AKIAFAKETESTOTHER222:" + "s" * 40,
                                  "--caller", "ASIAFAKETESTOTHER222:" + "t" * 40 + ":tok/en+=")
        try:
            self.assertTrue(info["url"].startswith("http://127.0.0.1:"))
            self.assertFalse(info["tls"])
            cs = info["callers"]
            self.assertEqual(cs[0]["principal_arn"], f"arn:aws:iam::{ACCT}:user/sesctl-test-admin")
            self.assertEqual(cs[1]["session_token"], "tok/en+=")

            class _I:
                url, ca_file = info["url"], None
                admin = cs[0]
            cli = Cli(_I, tmp)
            rc, out, err = cli("get-user")
            self.assertEqual(rc, 0, err)
            rc, out, err = cli("list-users", caller=cs[1])
            self.assertEqual(rc, 0, err)
        finally:
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
