"""Every source of the caller's credentials, end to end.  The real sesctl
binary gets its credentials from credential_process, an assume-role profile
(STS AssumeRole on the IAM stand-in, standins/iam.py), the container credentials
endpoint and EC2 instance metadata (IMDSv2; standins/metadata.py), and then uses
them as the caller of `sesctl smtp status` against the IAM stand-in, which
checks every signature with botocore.  Each bad case gives its message and
exit code, and no secret (secret keys, session tokens, the container token,
IMDS tokens) reaches stderr, with or without --debug.

The real AWS CLI (/usr/bin/aws, v2.9) resolves the same config files and
environment against the same stand-ins, to show that they and the files are
honest.  Its STS client cannot be pointed at a stand-in (AWS_ENDPOINT_URL_STS
came in CLI 2.13), so the assume-role profiles are resolved by Debian's
botocore itself, with only its STS client's endpoint_url supplied."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from standins.iam import FakeIAM
from standins.metadata import FakeMetadata
from sesctl_test import SesctlTestCase, clean_env, command

USER = "sesctl-smtp"
REGION = "eu-west-1"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}
AWS = "/usr/bin/aws"
PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))

# Resolve the profile as the AWS CLI's botocore does, with the STS client sent
# to the stand-in, then call IAM ListUsers with what it found.
BOTOCORE_RESOLVE = textwrap.dedent("""
    import json, os, sys
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError
    session = botocore.session.Session()
    create = session.create_client
    def create_client(service, *a, **kw):
        if service == "sts":
            kw["endpoint_url"] = os.environ["TEST_STS_URL"]
        return create(service, *a, **kw)
    session.create_client = create_client
    try:
        creds = session.get_credentials().get_frozen_credentials()
        iam = create("iam", region_name="us-east-1",
                     endpoint_url=os.environ["TEST_IAM_URL"])
        iam.list_users()
    except (BotoCoreError, ClientError) as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
    print(json.dumps({"access_key_id": creds.access_key}))
""")


class Sources(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=23)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.md = FakeMetadata(iam=self.iam)
        self.md.start()
        self.addCleanup(self.md.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.mkdir(os.path.join(self.tmp, ".aws"))
        self.iam.seed_user(USER, path="/sesctl/", access_keys=1,
                           tags={"ManagedBy": "sesctl", "SesctlName": "default"},
                           inline_policies={"sesctl-ses-send": POLICY})
        self.admin = self.iam.admin
        self.env = clean_env(HOME=self.tmp, AWS_REGION=REGION,
                             AWS_ENDPOINT_URL_IAM=self.iam.url,
                             AWS_ENDPOINT_URL_STS=self.iam.url,
                             AWS_CA_BUNDLE=self.iam.ca_file,
                             SESCTL_TEST_RETRY_BASE_MS="1")
        self.extra_secrets = []

    # ---- helpers ---------------------------------------------------------

    def write(self, name, text):
        path = os.path.join(self.tmp, ".aws", name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def script(self, name, body):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, 0o700)
        return path

    def process_script(self, doc, name="creds.sh", pre=""):
        """A credential_process printing `doc` (a dict, or raw text)."""
        text = doc if isinstance(doc, str) else json.dumps(doc)
        return self.script(name, "#!/bin/sh\n%scat <<'EOF'\n%s\nEOF\n" % (pre, text))

    def secrets(self):
        """Every secret the stand-ins know of: none may appear in stderr."""
        st = self.iam.dump_state()
        out = [k["secret_access_key"] for u in st["users"] for k in u["access_keys"]]
        for c in st["callers"]:
            out += [c["secret_access_key"], c.get("session_token")]
        for c in (self.md.container_creds, self.md.imds_creds):
            out += [c["SecretAccessKey"], c["Token"]]
        out += self.md.issued_tokens + self.extra_secrets
        if self.md.container_token:
            out.append(self.md.container_token)
        return [s for s in out if s]

    def assert_no_secret(self, text):
        for s in self.secrets():
            self.assertNotIn(s, text, "a secret reached the output")
            # also no long piece of one (a token split across lines)
            if len(s) > 60:
                self.assertNotIn(s[20:60], text)

    def sesctl(self, *args, code=0, env=None, **extra):
        e = dict(self.env if env is None else env)
        e.update(extra)
        p = subprocess.run(command(args), capture_output=True, env=e, timeout=120)
        self.err = p.stderr.decode()
        self.assertEqual(p.returncode, code,
                         "sesctl %s: exit %d, want %d\nstderr: %s" % (
                             " ".join(args), p.returncode, code, self.err))
        self.assert_no_secret(self.err)
        self.assert_no_secret(p.stdout.decode())
        return p

    def status(self, *pre, code=0, env=None, **extra):
        """`sesctl [pre] --debug smtp status`, then again without --debug
        (both must give the same exit code and no secret)."""
        self.iam.clear_requests()
        self.sesctl(*pre, "--debug", "smtp", "status", code=code, env=env, **extra)
        debug_err = self.err
        self.sesctl(*pre, "smtp", "status", code=code, env=env, **extra)
        return debug_err

    def iam_calls(self):
        return [r for r in self.iam.requests if r["action"] not in ("AssumeRole",)]

    def assert_iam_caller(self, akid):
        """Every IAM call was signed, correctly, by `akid` (or one of a list:
        each run assumes a role anew) and accepted."""
        calls = self.iam_calls()
        self.assertTrue(calls, "no IAM call was made")
        ok = [akid] if isinstance(akid, str) else list(akid)
        for r in calls:
            self.assertIn(r["caller"], ok, r["action"])
            self.assertTrue(r["sigv4"]["ok"], r["action"])
            # (status asks for a login profile: none is NoSuchEntity)
            if r["action"] == "GetLoginProfile" and r["status"] == 404:
                continue
            self.assertEqual(r["status"], 200, r["response"])

    def minted(self, role_arn):
        """The credentials AssumeRole handed out for `role_arn`, oldest first."""
        return [c for c in self.iam.dump_state()["callers"]
                if c.get("role_arn") == role_arn]

    def minted_ids(self, role_arn):
        return [c["access_key_id"] for c in self.minted(role_arn)]

    def aws(self, *args, env=None, **extra):
        """The AWS CLI v2 with env (a clean one by default) plus extra."""
        # us-east-1: IAM is signed for it (the stand-in checks).
        e = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "LANG": "C.UTF-8",
             "AWS_PAGER": "", "AWS_DEFAULT_REGION": "us-east-1",
             "AWS_CA_BUNDLE": self.iam.ca_file,
             "AWS_EC2_METADATA_DISABLED": "true"}
        e.update(env or {})
        e.update(extra)
        p = subprocess.run([AWS, "--endpoint-url", self.iam.url, "--output", "json",
                            "iam", *args], capture_output=True, text=True, env=e,
                           timeout=120)
        return p.returncode, p.stdout, p.stderr

    def botocore_resolve(self, profile, **extra):
        e = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "LANG": "C.UTF-8",
             "AWS_PROFILE": profile, "AWS_DEFAULT_REGION": REGION,
             "AWS_CA_BUNDLE": self.iam.ca_file, "AWS_EC2_METADATA_DISABLED": "true",
             "TEST_STS_URL": self.iam.url, "TEST_IAM_URL": self.iam.url}
        e.update(extra)
        p = subprocess.run([PYTHON, "-c", BOTOCORE_RESOLVE], capture_output=True,
                           text=True, env=e, timeout=120)
        return p.returncode, json.loads(p.stdout or "{}"), p.stderr

    def base_profile(self):
        """[base] in the credentials file: the admin's static keys."""
        self.write("credentials", """\
            [base]
            aws_access_key_id = %s
            aws_secret_access_key = %s
            """ % (self.admin["access_key_id"], self.admin["secret_access_key"]))

    # ---- credential_process -------------------------------------------------

    def test_credential_process(self):
        proc = self.process_script({"Version": 1,
                                    "AccessKeyId": self.admin["access_key_id"],
                                    "SecretAccessKey": self.admin["secret_access_key"]},
                                   pre="[ \"$1\" = --account ] && [ \"$2\" = 'prod x' ] || exit 9\n")
        self.write("config", """\
            [default]
            credential_process = %s --account "prod x"
            """ % proc)
        err = self.status()
        self.assert_iam_caller(self.admin["access_key_id"])
        self.assertIn("running credential_process of profile 'default'", err)
        self.assertIn("credentials from credential_process of profile 'default'", err)
        # The AWS CLI runs the same line and gets the same caller.
        rc, out, cerr = self.aws("get-user")
        self.assertEqual(rc, 0, cerr)
        self.assertEqual(json.loads(out)["User"]["UserName"], "sesctl-test-admin")

    def test_credential_process_session_credentials(self):
        s = self.iam.session
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        self.process_script({"Version": 1, "AccessKeyId": s["access_key_id"],
                             "SecretAccessKey": s["secret_access_key"],
                             "SessionToken": s["session_token"], "Expiration": exp})
        self.write("config", """\
            [profile ops]
            credential_process = %s
            """ % os.path.join(self.tmp, "creds.sh"))
        self.status("--profile", "ops")
        self.assert_iam_caller(s["access_key_id"])
        for r in self.iam_calls():
            self.assertIn(["X-Amz-Security-Token", s["session_token"]], r["headers"])

    def test_credential_process_failures(self):
        good = {"Version": 1, "AccessKeyId": self.admin["access_key_id"],
                "SecretAccessKey": self.admin["secret_access_key"]}
        cases = [
            ("exit 1", "echo 'sso session expired; run login' >&2\nexit 1\n", None, 1,
             ["credential_process of profile 'ci' failed (exit status 1)",
              "sso session expired; run login"], "Error when retrieving credentials"),
            ("not JSON", "", "%s is the key" % self.admin["secret_access_key"], 1,
             ["the output of credential_process of profile 'ci' is not a JSON object"],
             None),
            ("Version 2", "", dict(good, Version=2), 1,
             ["'Version' is 2; sesctl, like the AWS CLI, supports only 1"],
             "Unsupported version '2'"),
            ("expired", "", dict(good, SessionToken="tok" * 30,
                                 Expiration="2020-01-01T00:00:00Z"), 1,
             ["the credentials expired at 2020-01-01T00:00:00Z"], None),
            ("no secret", "", {"Version": 1, "AccessKeyId": good["AccessKeyId"]}, 1,
             ["has no 'SecretAccessKey'"], "Missing required key"),
        ]
        self.extra_secrets.append("tok" * 30)
        for name, pre, doc, code, want, cli_want in cases:
            with self.subTest(name):
                path = (self.process_script(doc, pre=pre) if doc is not None
                        else self.script("creds.sh", "#!/bin/sh\n" + pre))
                self.write("config", "[profile ci]\ncredential_process = %s\n" % path)
                self.iam.clear_requests()
                self.sesctl("--profile", "ci", "smtp", "status", code=code)
                for w in want:
                    self.assertIn(w, self.err)
                self.assertEqual(self.iam.requests, [])
                if cli_want:
                    rc, _, cerr = self.aws("get-user", AWS_PROFILE="ci")
                    self.assertNotEqual(rc, 0)
                    self.assertIn(cli_want, cerr)

    # ---- assume role ---------------------------------------------------------

    def test_assume_role(self):
        role = self.iam.add_role("sesctl-admin", external_id="ext-7",
                                 max_session_duration=7200)
        self.iam.sts_region = REGION         # the regional endpoint's scope
        self.base_profile()
        self.write("config", """\
            [profile deploy]
            role_arn = %s
            source_profile = base
            external_id = ext-7
            duration_seconds = 7200
            role_session_name = ci-run-42
            region = %s
            """ % (role["arn"], REGION))
        env = dict(self.env)
        del env["AWS_REGION"]                # the profile's region is used
        err = self.status("--profile", "deploy", env=env)
        ar = [r for r in self.iam.requests if r["action"] == "AssumeRole"]
        self.assertEqual(len(ar), 2)        # one per run
        self.assertEqual(ar[0]["caller"], self.admin["access_key_id"])
        self.assertTrue(ar[0]["sigv4"]["ok"])
        self.assertIn("/%s/sts/aws4_request" % REGION, ar[0]["sigv4"]["string_to_sign"])
        self.assertEqual({k: ar[0]["params"][k] for k in
                          ("Version", "RoleArn", "RoleSessionName", "ExternalId",
                           "DurationSeconds")},
                         {"Version": "2011-06-15", "RoleArn": role["arn"],
                          "RoleSessionName": "ci-run-42", "ExternalId": "ext-7",
                          "DurationSeconds": "7200"})
        self.assert_iam_caller(self.minted_ids(role["arn"]))
        self.assertIn("STS AssumeRole of '%s' as session 'ci-run-42'" % role["arn"], err)
        # Debian's botocore resolves the same profile the same way.
        rc, out, berr = self.botocore_resolve("deploy")
        self.assertEqual(rc, 0, berr)
        self.assertEqual(out["access_key_id"], self.minted(role["arn"])[-1]["access_key_id"])
        last = [r for r in self.iam.requests if r["action"] == "AssumeRole"][-1]
        self.assertEqual(last["params"]["ExternalId"], "ext-7")
        self.assertEqual(last["params"]["RoleSessionName"], "ci-run-42")

    def test_assume_role_defaults(self):
        """--region picks the STS region; the session name is
        sesctl-<epoch>; a profile may name itself as the source of its own
        static keys (botocore allows exactly that)."""
        role = self.iam.add_role("self-sourced")
        self.write("config", """\
            [profile me]
            role_arn = %s
            source_profile = me
            aws_access_key_id = %s
            aws_secret_access_key = %s
            """ % (role["arn"], self.admin["access_key_id"],
                   self.admin["secret_access_key"]))
        now = str(int(time.time()))
        env = dict(self.env, SESCTL_TEST_NOW=now)
        del env["AWS_REGION"]
        self.iam.clear_requests()
        self.sesctl("--profile", "me", "--region", REGION, "smtp", "status", env=env)
        ar = [r for r in self.iam.requests if r["action"] == "AssumeRole"]
        self.assertEqual(ar[0]["params"]["RoleSessionName"], "sesctl-" + now)
        self.assertIn("/%s/sts/" % REGION, ar[0]["sigv4"]["string_to_sign"])
        self.assertNotIn("ExternalId", ar[0]["params"])
        self.assert_iam_caller(self.minted_ids(role["arn"]))
        rc, out, berr = self.botocore_resolve("me")
        self.assertEqual(rc, 0, berr)

    def test_role_chain(self):
        one = self.iam.add_role("one")
        two = self.iam.add_role("two", trusted=[one["arn"]])
        self.base_profile()
        self.write("config", """\
            [profile one]
            role_arn = %s
            source_profile = base
            [profile two]
            role_arn = %s
            source_profile = one
            """ % (one["arn"], two["arn"]))
        self.status("--profile", "two")
        ar = [r for r in self.iam.requests if r["action"] == "AssumeRole"]
        self.assertEqual([r["params"]["RoleArn"] for r in ar[:2]], [one["arn"], two["arn"]])
        self.assertEqual(ar[0]["caller"], self.admin["access_key_id"])
        self.assertEqual(ar[1]["caller"], self.minted_ids(one["arn"])[0])
        self.assertTrue(all(r["sigv4"]["ok"] for r in ar))
        self.assert_iam_caller(self.minted_ids(two["arn"]))
        rc, out, berr = self.botocore_resolve("two")
        self.assertEqual(rc, 0, berr)

    def test_credential_source_environment(self):
        role = self.iam.add_role("from-env")
        self.write("config", """\
            [profile envrole]
            role_arn = %s
            credential_source = Environment
            """ % role["arn"])
        # --profile takes the environment's keys out of the chain, but
        # credential_source = Environment still uses them.
        self.status("--profile", "envrole",
                    AWS_ACCESS_KEY_ID=self.admin["access_key_id"],
                    AWS_SECRET_ACCESS_KEY=self.admin["secret_access_key"])
        self.assert_iam_caller(self.minted_ids(role["arn"]))

    def test_assume_role_refused(self):
        role = self.iam.add_role("guarded", external_id="right-id",
                                 max_session_duration=3600)
        other = self.iam.add_role("others-only",
                                  trusted=["arn:aws:iam::123456789012:user/someone-else"])
        self.base_profile()
        self.write("config", """\
            [profile wrongext]
            role_arn = {g}
            source_profile = base
            external_id = wrong-id
            [profile noext]
            role_arn = {g}
            source_profile = base
            [profile untrusted]
            role_arn = {o}
            source_profile = base
            [profile norole]
            role_arn = arn:aws:iam::123456789012:role/does-not-exist
            source_profile = base
            [profile long]
            role_arn = {g}
            source_profile = base
            external_id = right-id
            duration_seconds = 7200
            [profile badname]
            role_arn = {g}
            source_profile = base
            external_id = right-id
            role_session_name = two words
            [profile missing]
            role_arn = {g}
            source_profile = nope
            [profile a]
            role_arn = {g}
            source_profile = b
            [profile b]
            role_arn = {g}
            source_profile = a
            [profile mfa]
            role_arn = {g}
            source_profile = base
            mfa_serial = arn:aws:iam::123456789012:mfa/admin
            """.format(g=role["arn"], o=other["arn"]))
        denied = "is not authorized to perform: sts:AssumeRole on resource: "
        cases = [
            ("wrongext", 3, [denied + role["arn"], "STS refused (AccessDenied)",
                             "'external_id' must match"], True),
            ("noext", 3, [denied + role["arn"]], True),
            ("untrusted", 3, ["User: arn:aws:iam::123456789012:user/sesctl-test-admin "
                              + denied + other["arn"], "trust policy"], True),
            ("norole", 3, [denied + "arn:aws:iam::123456789012:role/does-not-exist"],
             True),
            ("long", 1, ["ValidationError", "exceeds the MaxSessionDuration"], True),
            ("badname", 1, ["ValidationError", "roleSessionName"], True),
            ("missing", 1, ["source profile 'nope' of profile 'missing' does not exist"],
             False),
            ("a", 1, ["profiles 'a' -> 'b' -> 'a' form a loop through 'source_profile'"],
             False),
            ("mfa", 1, ["'mfa_serial' of profile 'mfa' is set, but sesctl cannot ask "
                        "for an MFA code"], False),
        ]
        for profile, code, want, calls_sts in cases:
            with self.subTest(profile):
                self.iam.clear_requests()
                self.sesctl("--profile", profile, "smtp", "status", code=code)
                self.assertIn("'%s'" % profile, self.err)
                for w in want:
                    self.assertIn(w, self.err)
                self.assertEqual(self.iam_calls(), [], "IAM was called anyway")
                self.assertEqual(bool(self.iam.requests), calls_sts)
        self.assertEqual(self.minted(role["arn"]), [])
        # botocore gets the same refusals from the stand-in.
        for profile, want in (("wrongext", "AccessDenied"), ("untrusted", "AccessDenied"),
                              ("long", "MaxSessionDuration"),
                              ("a", "Infinite loop"), ("missing", "does not exist")):
            with self.subTest("botocore " + profile):
                rc, out, berr = self.botocore_resolve(profile)
                self.assertEqual(rc, 1, berr)
                self.assertIn(want, out["error"])

    def test_expired_session_credentials(self):
        """Credentials STS handed out stop working when they expire: sesctl
        says so (exit 3) instead of retrying."""
        one = self.iam.add_role("one")
        self.base_profile()
        self.write("config", "[profile one]\nrole_arn = %s\nsource_profile = base\n"
                   % one["arn"])
        self.sesctl("--profile", "one", "smtp", "status")
        minted = self.minted(one["arn"])[-1]
        self.iam.advance(3700)
        self.write("config", "")
        self.sesctl("smtp", "status", code=3,
                    AWS_ACCESS_KEY_ID=minted["access_key_id"],
                    AWS_SECRET_ACCESS_KEY=minted["secret_access_key"],
                    AWS_SESSION_TOKEN=minted["session_token"])
        self.assertIn("the session token has expired", self.err)

    # ---- container credentials ----------------------------------------------

    def test_container_full_uri_with_token_file(self):
        self.md.container_token = "eks-pod-identity-token-0123456789abcdef"
        tok = os.path.join(self.tmp, "eks-token")
        with open(tok, "w") as f:
            f.write(self.md.container_token)
        err = self.status(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.md.url + self.md.container_path,
                          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tok,
                          AWS_CONTAINER_AUTHORIZATION_TOKEN="not-this-one")
        self.assert_iam_caller(self.md.container_creds["AccessKeyId"])
        gets = [r for r in self.md.requests if r["method"] == "GET"]
        self.assertEqual(len(gets), 2)
        for r in gets:
            self.assertIn(["Authorization", self.md.container_token], r["headers"])
            self.assertEqual(r["status"], 200)
        self.assertIn("Authorization: <redacted>", err)
        # The AWS CLI (2.9: no _TOKEN_FILE yet) with the token in the variable.
        rc, out, cerr = self.aws("list-users", **self.md.container_env())
        self.assertEqual(rc, 0, cerr)
        self.assertEqual(self.iam.requests[-1]["caller"],
                         self.md.container_creds["AccessKeyId"])

    def test_container_relative_uri(self):
        """ECS: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2, here on
        loopback through the test build's SESCTL_TEST_CONTAINER_BASE."""
        self.status(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=self.md.container_path,
                    SESCTL_TEST_CONTAINER_BASE=self.md.url)
        self.assert_iam_caller(self.md.container_creds["AccessKeyId"])
        self.assertEqual(self.md.requests[0]["path"], self.md.container_path)

    def test_container_refused(self):
        self.md.container_token = "the-right-token"
        full = self.md.url + self.md.container_path
        self.sesctl("smtp", "status", code=3, AWS_CONTAINER_CREDENTIALS_FULL_URI=full,
                    AWS_CONTAINER_AUTHORIZATION_TOKEN="the-wrong-token")
        self.assertIn("refused the request (HTTP 403); check "
                      "AWS_CONTAINER_AUTHORIZATION_TOKEN", self.err)
        self.assertNotIn("the-wrong-token", self.err)
        self.sesctl("smtp", "status", code=3, AWS_CONTAINER_CREDENTIALS_FULL_URI=full)
        self.assertIn("(HTTP 401)", self.err)
        tok = self.script("token", "the-right-token\n")
        self.sesctl("smtp", "status", code=1, AWS_CONTAINER_CREDENTIALS_FULL_URI=full,
                    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tok)
        self.assertIn("contains a line break", self.err)
        n = len(self.md.requests)
        self.sesctl("smtp", "status", code=2,
                    AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.7/creds")
        self.assertIn("is not allowed: use https", self.err)
        self.assertEqual(len(self.md.requests), n)
        # A configured endpoint that fails ends the chain: no IMDS after it.
        self.md.container_status = 503
        self.sesctl("smtp", "status", code=6, AWS_CONTAINER_CREDENTIALS_FULL_URI=full,
                    AWS_CONTAINER_AUTHORIZATION_TOKEN="the-right-token",
                    AWS_EC2_METADATA_DISABLED="false",
                    AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url)
        self.assertIn("answered HTTP 503", self.err)
        self.assertFalse(any(r["path"].startswith("/latest/") for r in self.md.requests))
        self.assertEqual(self.iam.requests, [])

    def test_container_retries_5xx(self):
        self.md.container_status, self.md.container_status_times = 500, 2
        self.status(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.md.url + self.md.container_path)
        self.assert_iam_caller(self.md.container_creds["AccessKeyId"])

    # ---- instance metadata ---------------------------------------------------

    def imds_env(self, **extra):
        env = dict(self.env, AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url + "/")
        del env["AWS_EC2_METADATA_DISABLED"]
        env.update(extra)
        return env

    def test_imds(self):
        err = self.status(env=self.imds_env())
        self.assert_iam_caller(self.md.imds_creds["AccessKeyId"])
        reqs = self.md.requests[:3]
        self.assertEqual([(r["method"], r["path"], r["status"]) for r in reqs], [
            ("PUT", "/latest/api/token", 200),
            ("GET", "/latest/meta-data/iam/security-credentials/", 200),
            ("GET", "/latest/meta-data/iam/security-credentials/" + self.md.imds_role, 200)])
        self.assertIn(["X-aws-ec2-metadata-token-ttl-seconds", "21600"], reqs[0]["headers"])
        token = reqs[1]["headers"]
        self.assertTrue(any(k == "X-aws-ec2-metadata-token" and v in self.md.issued_tokens
                            for k, v in token))
        self.assertIn("credentials from instance metadata at '%s' (role '%s')"
                      % (self.md.url, self.md.imds_role), err)
        self.assertIn("PUT %s/latest/api/token: HTTP 200 (" % self.md.url, err)
        self.assertIn("bytes, not shown)", err)
        # The AWS CLI finds the same role through the same endpoint.
        rc, out, cerr = self.aws("list-users", AWS_EC2_METADATA_DISABLED="false",
                                 AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url + "/")
        self.assertEqual(rc, 0, cerr)
        self.assertEqual(self.iam.requests[-1]["caller"], self.md.imds_creds["AccessKeyId"])

    def test_imds_without_token(self):
        """The token PUT refused (403, as behind a proxy): sesctl does not fall
        back to IMDSv1, and says so.  botocore does fall back, and the
        stand-in, like IMDS with HttpTokens=required, answers 401."""
        self.md.imds_token_status = 403
        self.sesctl("smtp", "status", code=1, env=self.imds_env())
        self.assertIn("no AWS credentials found", self.err)
        self.assertIn("instance metadata at '%s' (the IMDSv2 token request got HTTP "
                      "403; sesctl does not fall back to IMDSv1)" % self.md.url, self.err)
        self.assertEqual([r["method"] for r in self.md.requests], ["PUT"])
        rc, out, cerr = self.aws("list-users", AWS_EC2_METADATA_DISABLED="false",
                                 AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url + "/")
        self.assertNotEqual(rc, 0)
        self.assertIn("Unable to locate credentials", cerr)
        tokenless = [r for r in self.md.requests if r["method"] == "GET"]
        self.assertTrue(tokenless)
        self.assertTrue(all(r["status"] == 401 for r in tokenless))

    def test_imds_no_role_and_errors(self):
        self.md.imds_role = None
        self.sesctl("smtp", "status", code=1, env=self.imds_env())
        self.assertIn("no IAM role is attached to this instance, HTTP 404", self.err)
        self.md.imds_role = "sesctl-test-instance-role"
        self.md.imds_error = {"Code": "AssumeRoleUnauthorizedAccess",
                              "Message": "EC2 cannot assume the role"}
        self.sesctl("smtp", "status", code=1, env=self.imds_env())
        self.assertIn("has no 'AccessKeyId'", self.err)
        self.md.imds_error = None
        # Expired instance credentials are used anyway, with a warning, as
        # the SDKs do (IMDS outages); the stand-in then refuses them.
        self.md.expired_creds()
        self.sesctl("smtp", "status", code=3, env=self.imds_env())
        self.assertIn("using them anyway", self.err)

    def test_imds_off_in_the_test_environment(self):
        self.sesctl("smtp", "status", code=1)
        self.assertIn("container credentials (not configured), instance metadata "
                      "(AWS_EC2_METADATA_DISABLED=true)", self.err)
        self.assertIn("run 'aws configure'", self.err)
        self.assertEqual(self.md.requests, [])

    # ---- order -----------------------------------------------------------------

    def test_order(self):
        """env > assume-role > credentials file > credential_process > config
        file > container > instance metadata (botocore's chain)."""
        s = self.iam.session
        role = self.iam.add_role("ordered")
        proc = self.process_script({"Version": 1, "AccessKeyId": s["access_key_id"],
                                    "SecretAccessKey": s["secret_access_key"],
                                    "SessionToken": s["session_token"]})
        self.write("config", """\
            [default]
            credential_process = %s
            """ % proc)
        env = self.imds_env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.md.url
                            + self.md.container_path)
        # credential_process beats the container and IMDS...
        self.status(env=env)
        self.assert_iam_caller(s["access_key_id"])
        # ...the container beats IMDS...
        self.write("config", "")
        self.status(env=env)
        self.assert_iam_caller(self.md.container_creds["AccessKeyId"])
        # ...the assume-role profile beats the profile's own static keys...
        self.write("config", """\
            [default]
            role_arn = %s
            source_profile = default
            aws_access_key_id = %s
            aws_secret_access_key = %s
            """ % (role["arn"], self.admin["access_key_id"],
                   self.admin["secret_access_key"]))
        self.status(env=env)
        self.assert_iam_caller(self.minted_ids(role["arn"]))
        # ...and the environment beats everything.
        env.update(AWS_ACCESS_KEY_ID=self.admin["access_key_id"],
                   AWS_SECRET_ACCESS_KEY=self.admin["secret_access_key"])
        self.status(env=env)
        self.assert_iam_caller(self.admin["access_key_id"])


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    unittest.main()
