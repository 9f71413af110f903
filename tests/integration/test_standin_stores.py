#!/usr/bin/python3
"""The Secrets Manager and SSM Parameter Store stand-ins (standins/
secretsmanager.py, ssm.py, jsonproto.py), kept honest by the real AWS CLI.

Each case drives the stand-in with /usr/bin/aws (a second each, so few of
them) and checks the CLI's output and the stand-in's state after each call;
botocore clients in-process cover the rest quickly.
Run: PYTHONPATH=tests /usr/bin/python3 tests/integration/test_standin_stores.py -v
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from standins.iam import FakeIAM  # noqa: E402

AWS = "/usr/bin/aws"
ACCT = "123456789012"
REGION = "eu-west-1"


def cli_error(stderr):
    m = re.search(r"An error occurred \((\w+)\) when calling the (\w+) operation"
                  r"(?: \(reached max retries: \d+\))?: ?(.*)", stderr)
    return (m.group(1), m.group(3).strip()) if m else (None, stderr.strip())


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="test-standin-stores-")
        cls.iam = FakeIAM(tls=True, cert_dir=os.path.join(cls.tmp, "tls")).start()
        for n in ("config", "credentials"):
            open(os.path.join(cls.tmp, n), "w").close()

    @classmethod
    def tearDownClass(cls):
        cls.iam.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.iam.reset()
        self.iam.set_now(None)

    def aws(self, service, *args, region=REGION, attempts=1, caller=None):
        """The AWS CLI, with a clean environment and the run's CA
        (AWS_CA_BUNDLE).  -> (exit code, parsed stdout or None, stderr)"""
        c = caller or self.iam.admin
        env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "LANG": "C.UTF-8",
               "AWS_CONFIG_FILE": os.path.join(self.tmp, "config"),
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "credentials"),
               "AWS_DEFAULT_REGION": region, "AWS_PAGER": "",
               "AWS_ACCESS_KEY_ID": c["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": c["secret_access_key"],
               "AWS_CA_BUNDLE": self.iam.ca_file,
               "AWS_MAX_ATTEMPTS": str(attempts), "AWS_RETRY_MODE": "standard"}
        p = subprocess.run([AWS, "--endpoint-url", self.iam.url, "--output", "json",
                            service, *args], env=env, capture_output=True, text=True,
                           timeout=90)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out, p.stderr

    def ok(self, res):
        rc, out, err = res
        self.assertEqual(rc, 0, err)
        return out

    def assertCliError(self, res, code, message=None):
        rc, out, err = res
        self.assertEqual(rc, 254, err)
        got, msg = cli_error(err)
        self.assertEqual(got, code, err)
        if message is not None:
            self.assertEqual(msg, message)

    def client(self, service, region=REGION, caller=None, secret=None):
        c = caller or self.iam.admin
        client = botocore.session.get_session().create_client(
            service, region_name=region, endpoint_url=self.iam.url,
            verify=self.iam.ca_file, aws_access_key_id=c["access_key_id"],
            aws_secret_access_key=secret or c["secret_access_key"],
            config=Config(retries={"total_max_attempts": 1}))
        self.addCleanup(client.close)
        return client

    def assertClientError(self, fn, code, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code)
        return cm.exception.response

    def last(self):
        return self.iam.requests[-1]


class SecretsManager(Base):
    def test_versions_and_stages(self):
        out = self.ok(self.aws("secretsmanager", "create-secret", "--name", "sesctl/smtp",
                               "--secret-string", "v1", "--kms-key-id", "alias/sesctl",
                               "--description", "SMTP", "--tags",
                               "Key=ManagedBy,Value=sesctl"))
        self.assertRegex(out["ARN"], rf"^arn:aws:secretsmanager:{REGION}:{ACCT}:"
                         r"secret:sesctl/smtp-[A-Za-z0-9]{6}$")
        v1 = out["VersionId"]
        r = self.last()
        self.assertEqual((r["service"], r["action"], r["region"], r["sigv4"]["ok"]),
                         ("secretsmanager", "CreateSecret", REGION, True))
        self.assertIn(("X-Amz-Target", "secretsmanager.CreateSecret"),
                      [tuple(h) for h in r["headers"]])
        s = self.iam.secret("sesctl/smtp")
        self.assertEqual((s["arn"], s["kms_key_id"], s["tags"], s["stages"]),
                         (out["ARN"], "alias/sesctl", [{"Key": "ManagedBy", "Value": "sesctl"}],
                          {"AWSCURRENT": v1}))

        # Without VersionStages: AWSCURRENT moves, AWSPREVIOUS follows.
        v2 = self.ok(self.aws("secretsmanager", "put-secret-value", "--secret-id",
                              "sesctl/smtp", "--secret-string", "v2"))["VersionId"]
        self.assertEqual(self.iam.secret("sesctl/smtp")["stages"],
                         {"AWSCURRENT": v2, "AWSPREVIOUS": v1})
        # With VersionStages=[AWSPENDING], by ARN: only that label.
        tok = "0" * 8 + "-1111-4111-8111-" + "2" * 12
        out = self.ok(self.aws("secretsmanager", "put-secret-value", "--secret-id", s["arn"],
                               "--secret-string", "v3", "--client-request-token", tok,
                               "--version-stages", "AWSPENDING"))
        self.assertEqual((out["VersionId"], out["VersionStages"]), (tok, ["AWSPENDING"]))
        self.assertEqual(self.iam.secret("sesctl/smtp")["stages"],
                         {"AWSCURRENT": v2, "AWSPREVIOUS": v1, "AWSPENDING": tok})
        # The token again: the same value is a no-op, another is refused.
        sm = self.client("secretsmanager")
        again = sm.put_secret_value(SecretId="sesctl/smtp", SecretString="v3",
                                    ClientRequestToken=tok, VersionStages=["AWSPENDING"])
        self.assertEqual(again["VersionId"], tok)
        self.assertEqual(len(self.iam.secret("sesctl/smtp")["versions"]), 3)
        self.assertCliError(self.aws("secretsmanager", "put-secret-value", "--secret-id",
                                     "sesctl/smtp", "--secret-string", "other",
                                     "--client-request-token", tok),
                            "ResourceExistsException")

        out = self.ok(self.aws("secretsmanager", "get-secret-value", "--secret-id",
                               "sesctl/smtp", "--version-stage", "AWSPREVIOUS"))
        self.assertEqual((out["SecretString"], out["VersionId"], out["VersionStages"]),
                         ("v1", v1, ["AWSPREVIOUS"]))

        # Moving AWSCURRENT needs RemoveFromVersionId naming its holder.
        self.assertCliError(self.aws("secretsmanager", "update-secret-version-stage",
                                     "--secret-id", "sesctl/smtp", "--version-stage",
                                     "AWSCURRENT", "--move-to-version-id", tok),
                            "InvalidParameterException")
        self.ok(self.aws("secretsmanager", "update-secret-version-stage", "--secret-id",
                         "sesctl/smtp", "--version-stage", "AWSCURRENT",
                         "--move-to-version-id", tok, "--remove-from-version-id", v2))
        s = self.iam.secret("sesctl/smtp")
        self.assertEqual(s["stages"], {"AWSCURRENT": tok, "AWSPENDING": tok,
                                       "AWSPREVIOUS": v2})
        self.assertEqual([v["deprecated"] for v in s["versions"]], [True, False, False])
        sm.update_secret_version_stage(SecretId="sesctl/smtp", VersionStage="AWSPENDING",
                                       RemoveFromVersionId=tok)
        self.assertClientError(sm.update_secret_version_stage, "InvalidParameterException",
                               SecretId="sesctl/smtp", VersionStage="AWSCURRENT",
                               RemoveFromVersionId=tok)

        out = self.ok(self.aws("secretsmanager", "describe-secret", "--secret-id",
                               "sesctl/smtp"))
        self.assertEqual(out["VersionIdsToStages"], {v2: ["AWSPREVIOUS"], tok: ["AWSCURRENT"]})
        self.assertEqual((out["ARN"], out["KmsKeyId"], out["Description"], out["Tags"]),
                         (s["arn"], "alias/sesctl", "SMTP",
                          [{"Key": "ManagedBy", "Value": "sesctl"}]))
        self.assertNotIn("DeletedDate", out)
        # The deprecated version is still there by its id.
        self.assertEqual(sm.get_secret_value(SecretId="sesctl/smtp", VersionId=v1)
                         ["SecretString"], "v1")

    def test_errors_and_deletion(self):
        self.assertCliError(self.aws("secretsmanager", "get-secret-value", "--secret-id",
                                     "missing"), "ResourceNotFoundException",
                            "Secrets Manager can't find the specified secret.")
        err = json.loads(self.last()["response"])
        self.assertEqual(err, {"__type": "ResourceNotFoundException",
                               "Message": "Secrets Manager can't find the specified secret."})
        sm = self.client("secretsmanager")
        sm.create_secret(Name="gone", SecretString="x")
        self.assertClientError(sm.create_secret, "ResourceExistsException",
                               Name="gone", SecretString="y")
        empty = sm.create_secret(Name="empty")
        self.assertNotIn("VersionId", empty)
        self.assertClientError(sm.get_secret_value, "ResourceNotFoundException",
                               SecretId="empty")

        out = self.ok(self.aws("secretsmanager", "delete-secret", "--secret-id", "gone",
                               "--recovery-window-in-days", "7"))
        self.assertEqual(out["Name"], "gone")
        s = self.iam.secret("gone")
        self.assertEqual(s["deletion_date"] - s["deleted_date"], 7 * 86400)
        self.assertCliError(self.aws("secretsmanager", "get-secret-value", "--secret-id",
                                     "gone"), "InvalidRequestException",
                            "You can't perform this operation on the secret because it "
                            "was marked for deletion.")
        self.assertClientError(sm.create_secret, "InvalidRequestException",
                               Name="gone", SecretString="again")
        self.assertIn("DeletedDate", sm.describe_secret(SecretId="gone"))
        self.assertEqual([x["Name"] for x in sm.list_secrets()["SecretList"]], ["empty"])
        self.assertClientError(sm.delete_secret, "InvalidParameterException",
                               SecretId="gone", RecoveryWindowInDays=3)
        # Restored, then deleted without recovery: gone at once.
        sm.restore_secret(SecretId="gone")
        self.assertEqual(sm.get_secret_value(SecretId="gone")["SecretString"], "x")
        sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)
        self.assertIsNone(self.iam.secret("gone"))
        sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)
        # The recovery window ends on the stand-in's clock.
        sm.delete_secret(SecretId="empty")
        self.iam.advance(31 * 86400)
        self.assertEqual(self.iam.secrets(), [])

    def test_regions_keep_their_own_secrets(self):
        self.client("secretsmanager", region="us-west-2").create_secret(Name="r", SecretString="w")
        self.assertClientError(self.client("secretsmanager").get_secret_value,
                               "ResourceNotFoundException", SecretId="r")
        self.assertEqual(self.last()["region"], REGION)
        self.assertEqual(self.iam.secret("r")["region"], "us-west-2")
        self.assertIsNone(self.iam.secret("r", region=REGION))


class ParameterStore(Base):
    def test_put_get_by_path_delete(self):
        out = self.ok(self.aws("ssm", "put-parameter", "--name", "/sesctl/smtp/password",
                               "--value", "s3cret", "--type", "SecureString",
                               "--key-id", "alias/sesctl", "--tags", "Key=ManagedBy,Value=sesctl"))
        self.assertEqual(out, {"Version": 1, "Tier": "Standard"})
        r = self.last()
        self.assertEqual((r["service"], r["action"], r["region"]), ("ssm", "PutParameter", REGION))
        p = self.iam.parameter("/sesctl/smtp/password")
        self.assertEqual((p["type"], p["value"], p["version"], p["key_id"], p["tags"]),
                         ("SecureString", "s3cret", 1, "alias/sesctl",
                          [{"Key": "ManagedBy", "Value": "sesctl"}]))
        ssm = self.client("ssm")
        ssm.put_parameter(Name="/sesctl/smtp/user", Value="AKIA", Type="String")
        ssm.put_parameter(Name="/sesctl/smtp/deep/x", Value="1", Type="String")
        ssm.put_parameter(Name="/sesctl/other", Value="2", Type="StringList")

        self.assertCliError(self.aws("ssm", "put-parameter", "--name", "/sesctl/smtp/password",
                                     "--value", "new", "--type", "SecureString"),
                            "ParameterAlreadyExists",
                            "The parameter already exists. To overwrite this value, set the "
                            "overwrite option in the request to true.")
        self.assertEqual(ssm.put_parameter(Name="/sesctl/smtp/password", Value="new",
                                           Overwrite=True)["Version"], 2)
        self.assertEqual(self.iam.parameter("/sesctl/smtp/password")["key_id"], "alias/sesctl")
        self.assertClientError(ssm.put_parameter, "ValidationException",
                               Name="/sesctl/smtp/password", Value="n", Overwrite=True,
                               Tags=[{"Key": "k", "Value": "v"}])

        # --page-size 1: the CLI follows NextToken itself.
        out = self.ok(self.aws("ssm", "get-parameters-by-path", "--path", "/sesctl/smtp",
                               "--with-decryption", "--page-size", "1"))
        self.assertEqual([(x["Name"], x["Value"], x["Version"]) for x in out["Parameters"]],
                         [("/sesctl/smtp/password", "new", 2), ("/sesctl/smtp/user", "AKIA", 1)])
        tokens = [json.loads(r["body"]).get("NextToken") for r in self.iam.requests
                  if r["action"] == "GetParametersByPath"]
        self.assertEqual(len(tokens), 2)
        self.assertIsNotNone(tokens[1])
        rec = ssm.get_parameters_by_path(Path="/sesctl", Recursive=True)
        self.assertEqual(sorted(x["Name"] for x in rec["Parameters"]),
                         ["/sesctl/other", "/sesctl/smtp/deep/x", "/sesctl/smtp/password",
                          "/sesctl/smtp/user"])
        hidden = next(x for x in rec["Parameters"] if x["Name"] == "/sesctl/smtp/password")
        self.assertNotEqual(hidden["Value"], "new")

        out = self.ok(self.aws("ssm", "get-parameter", "--name", "/sesctl/smtp/password"))
        v = out["Parameter"]
        self.assertEqual((v["Type"], v["Version"], v["ARN"]),
                         ("SecureString", 2, f"arn:aws:ssm:{REGION}:{ACCT}:parameter/sesctl/"
                          "smtp/password"))
        self.assertNotIn("new", v["Value"])
        base64.b64decode(v["Value"], validate=True)
        self.assertEqual(v["Value"], hidden["Value"])
        old = ssm.get_parameter(Name="/sesctl/smtp/password:1", WithDecryption=True)
        self.assertEqual((old["Parameter"]["Value"], old["Parameter"]["Selector"]),
                         ("s3cret", ":1"))
        got = ssm.get_parameters(Names=["/sesctl/smtp/user", "/nope", "/sesctl/other"])
        self.assertEqual(([x["Name"] for x in got["Parameters"]], got["InvalidParameters"]),
                         (["/sesctl/other", "/sesctl/smtp/user"], ["/nope"]))

        self.ok(self.aws("ssm", "delete-parameter", "--name", "/sesctl/smtp/password"))
        self.assertIsNone(self.iam.parameter("/sesctl/smtp/password"))
        self.assertCliError(self.aws("ssm", "delete-parameter", "--name",
                                     "/sesctl/smtp/password"), "ParameterNotFound")
        self.assertEqual(json.loads(self.last()["response"]), {"__type": "ParameterNotFound"})
        self.assertClientError(ssm.get_parameter, "ParameterNotFound", Name="/sesctl/smtp/password")
        out = ssm.delete_parameters(Names=["/sesctl/other", "/nope"])
        self.assertEqual((out["DeletedParameters"], out["InvalidParameters"]),
                         (["/sesctl/other"], ["/nope"]))

    def test_name_rules(self):
        ssm = self.client("ssm")
        for bad in ("a/b", "/ssm/x", "awsthing", "/a b/c", "/a@b"):
            self.assertClientError(ssm.put_parameter, "ValidationException",
                                   Name=bad, Value="v", Type="String")
        deep = "/" + "/".join(f"l{i}" for i in range(16))
        self.assertClientError(ssm.put_parameter, "HierarchyLevelLimitExceededException",
                               Name=deep, Value="v", Type="String")
        ssm.put_parameter(Name=deep.rsplit("/", 1)[0], Value="v", Type="String")
        ssm.put_parameter(Name="flat", Value="v", Type="String")
        self.assertClientError(ssm.put_parameter, "ValidationException", Name="new", Value="v")
        self.assertEqual(len(self.iam.parameters()), 2)


class Shared(Base):
    """What the JSON services share with IAM: faults, callers, state."""

    def test_5xx_is_retried_by_the_cli(self):
        self.client("secretsmanager").create_secret(Name="f", SecretString="1")
        self.iam.clear_requests()
        self.iam.add_fault("service_failure", "PutSecretValue")
        out = self.ok(self.aws("secretsmanager", "put-secret-value", "--secret-id", "f",
                               "--secret-string", "2", attempts=3))
        reqs = self.iam.requests
        self.assertEqual([(r["status"], r["fault"], r["applied"]) for r in reqs],
                         [(500, "service_failure", False), (200, None, True)])
        self.assertEqual(json.loads(reqs[0]["response"])["__type"], "InternalServiceError")
        # The CLI's retry carries the same ClientRequestToken: one new version.
        self.assertEqual(json.loads(reqs[0]["body"])["ClientRequestToken"], out["VersionId"])
        self.assertEqual(len(self.iam.secret("f")["versions"]), 2)

        # Applied, then a 500: the CLI's blind retry meets its own parameter.
        self.iam.add_fault("service_failure", "PutParameter", apply=True)
        self.assertCliError(self.aws("ssm", "put-parameter", "--name", "/f", "--value", "1",
                                     "--type", "String", attempts=2), "ParameterAlreadyExists")
        self.assertEqual([(r["status"], r["applied"]) for r in self.iam.requests
                          if r["action"] == "PutParameter"], [(500, True), (400, False)])
        self.assertEqual(self.iam.parameter("/f")["version"], 1)
        self.iam.add_fault("throttling", "GetParameter")
        self.assertClientError(self.client("ssm").get_parameter, "ThrottlingException",
                               Name="/f")

    def test_callers(self):
        akid = self.iam.admin["access_key_id"]
        self.iam.deny(akid, ["secretsmanager:*", "ssm:PutParameter"])
        self.assertCliError(self.aws("secretsmanager", "create-secret", "--name", "d",
                                     "--secret-string", "x"), "AccessDeniedException")
        self.assertIn("secretsmanager:ListSecrets on resource: *", cli_error(self.aws(
            "secretsmanager", "list-secrets")[2])[1])
        self.assertClientError(self.client("ssm").put_parameter, "AccessDeniedException",
                               Name="/d", Value="x", Type="String")
        self.assertClientError(self.client("ssm").get_parameter, "ParameterNotFound", Name="/d")
        self.iam.deny(akid, [])
        # A caller that holds a policy: IAM's evaluation, on the parameter's ARN.
        c = self.iam.caller_with_policy({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "ssm:PutParameter",
            "Resource": f"arn:aws:ssm:{REGION}:{ACCT}:parameter/sesctl/*"}]})
        ssm = self.client("ssm", caller=c)
        ssm.put_parameter(Name="/sesctl/p", Value="x", Type="String")
        self.assertClientError(ssm.put_parameter, "AccessDeniedException",
                               Name="/other", Value="x", Type="String")
        self.assertClientError(self.client("ssm", secret="wrong" * 8).get_parameter,
                               "InvalidSignatureException", Name="/sesctl/p")
        bad = dict(self.iam.admin, access_key_id="AKIANOTAKEYOFTHEFAKE")
        self.assertClientError(self.client("secretsmanager", caller=bad).list_secrets,
                               "UnrecognizedClientException")

    def test_policy_callers_tagging_missing_secrets_and_kms(self):
        """For a caller that holds a policy: a secret or parameter made
        with tags needs the tagging action too; a secret name that does
        not exist is authorized on NAME-<six characters>, so that a
        policy on NAME-?????? answers ResourceNotFound; a customer managed
        key is used on the caller's behalf, which needs the kms: actions
        on it (an AWS managed key needs none)."""
        key = "1234abcd-12ab-34cd-56ef-1234567890ab"
        karn = f"arn:aws:kms:{REGION}:{ACCT}:key/{key}"
        sec = f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:"
        par = f"arn:aws:ssm:{REGION}:{ACCT}:parameter/"

        def caller(*stmts):
            return self.iam.caller_with_policy({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": a, "Resource": r} for a, r in stmts]})

        sm_all = ("secretsmanager:*", sec + "s-??????")
        # tags: CreateSecret alone is not enough
        c = caller(("secretsmanager:CreateSecret", sec + "s-??????"),
                   ("secretsmanager:DescribeSecret", sec + "s-??????"))
        sm = self.client("secretsmanager", caller=c)
        self.assertClientError(sm.describe_secret, "ResourceNotFoundException",
                               SecretId="s")
        self.assertIn("secretsmanager:DescribeSecret on resource: " + sec + "other-",
                      self.assertClientError(sm.describe_secret,
                                             "AccessDeniedException",
                                             SecretId="other")["Error"]["Message"])
        r = self.assertClientError(sm.create_secret, "AccessDeniedException", Name="s",
                                   SecretString="x", Tags=[{"Key": "k", "Value": "v"}])
        self.assertIn("secretsmanager:TagResource", r["Error"]["Message"])
        sm.create_secret(Name="s", SecretString="x")
        # a customer managed key: GenerateDataKey and Decrypt to create,
        # GenerateDataKey to put, Decrypt to get
        self.iam.reset()
        c = caller(sm_all)
        sm = self.client("secretsmanager", caller=c)
        r = self.assertClientError(sm.create_secret, "AccessDeniedException", Name="s",
                                   SecretString="x", KmsKeyId=key)
        self.assertEqual(r["Error"]["Message"], "Access to KMS is not allowed")
        self.assertEqual(self.iam.secrets(), [])
        sm.create_secret(Name="s", SecretString="x", KmsKeyId="alias/aws/secretsmanager")
        c = caller(sm_all, ("kms:GenerateDataKey", karn))
        sm = self.client("secretsmanager", caller=c)
        self.assertClientError(sm.create_secret, "AccessDeniedException", Name="s2",
                               SecretString="x", KmsKeyId=key)
        self.client("secretsmanager").create_secret(Name="s3", SecretString="x",
                                                    KmsKeyId=karn)
        c = caller(("secretsmanager:*", sec + "s3-??????"), ("kms:GenerateDataKey", karn))
        sm = self.client("secretsmanager", caller=c)
        sm.put_secret_value(SecretId="s3", SecretString="y")
        self.assertClientError(sm.get_secret_value, "AccessDeniedException", SecretId="s3")
        c = caller(("secretsmanager:*", sec + "s3-??????"), ("kms:Decrypt", karn))
        sm = self.client("secretsmanager", caller=c)
        self.assertEqual(sm.get_secret_value(SecretId="s3")["SecretString"], "y")
        self.assertClientError(sm.put_secret_value, "AccessDeniedException",
                               SecretId="s3", SecretString="z")
        # SSM: tags need AddTagsToResource; a SecureString under a customer
        # managed key Encrypt to write, Decrypt to read decrypted
        self.iam.reset()
        c = caller(("ssm:PutParameter", par + "p/*"))
        ssm = self.client("ssm", caller=c)
        r = self.assertClientError(ssm.put_parameter, "AccessDeniedException",
                                   Name="/p/a", Value="x", Type="String",
                                   Tags=[{"Key": "k", "Value": "v"}])
        self.assertIn("ssm:AddTagsToResource", r["Error"]["Message"])
        ssm.put_parameter(Name="/p/a", Value="x", Type="SecureString")   # aws/ssm
        r = self.assertClientError(ssm.put_parameter, "AccessDeniedException",
                                   Name="/p/b", Value="x", Type="SecureString", KeyId=key)
        self.assertIn("kms:Encrypt on resource: " + karn, r["Error"]["Message"])
        c = caller(("ssm:*", par + "p/*"), ("ssm:GetParametersByPath", par + "p"),
                   ("kms:Encrypt", karn))
        ssm = self.client("ssm", caller=c)
        ssm.put_parameter(Name="/p/b", Value="x", Type="SecureString", KeyId=key)
        self.assertNotEqual(ssm.get_parameter(Name="/p/b")["Parameter"]["Value"], "x")
        for call, kw in ((ssm.get_parameter, {"Name": "/p/b"}),
                         (ssm.get_parameters, {"Names": ["/p/b"]}),
                         (ssm.get_parameters_by_path, {"Path": "/p"})):
            r = self.assertClientError(call, "AccessDeniedException",
                                       WithDecryption=True, **kw)
            self.assertIn("kms:Decrypt", r["Error"]["Message"])
        c = caller(("ssm:*", par + "p/*"), ("ssm:GetParametersByPath", par + "p"),
                   ("kms:Decrypt", karn))
        ssm = self.client("ssm", caller=c)
        self.assertEqual([p["Value"] for p in ssm.get_parameters_by_path(
            Path="/p", WithDecryption=True)["Parameters"]], ["x", "x"])
        # an overwrite without KeyId keeps the parameter's key
        self.assertClientError(ssm.put_parameter, "AccessDeniedException",
                               Name="/p/b", Value="y", Overwrite=True)
        # the stand-in cannot tell which key an alias names
        self.assertClientError(ssm.put_parameter, "FakeIAMNotImplemented",
                               Name="/p/c", Value="x", Type="SecureString",
                               KeyId="alias/smtp")

    def test_state_dump_load_reset(self):
        self.client("secretsmanager").create_secret(Name="s", SecretString="1")
        self.client("ssm").put_parameter(Name="/p", Value="1", Type="String")
        with urllib.request.urlopen(self.iam.control_url + "state",
                                    context=__import__("ssl").create_default_context(
                                        cafile=self.iam.ca_file)) as f:
            st = json.load(f)
        self.assertEqual(([s["name"] for s in st["secrets"]],
                          [p["name"] for p in st["parameters"]]), (["s"], ["/p"]))
        self.iam.reset()
        self.assertEqual((self.iam.secrets(), self.iam.parameters()), ([], []))
        self.iam.load_state(st)
        self.assertEqual(self.client("ssm").get_parameter(Name="/p")["Parameter"]["Value"], "1")
        # IAM answers are untouched by the JSON services on the same port.
        self.assertEqual(self.client("iam", region="us-east-1").get_user()["User"]["UserName"],
                         "sesctl-test-admin")
        self.assertEqual(self.last()["params"]["Action"], "GetUser")


if __name__ == "__main__":
    unittest.main()
