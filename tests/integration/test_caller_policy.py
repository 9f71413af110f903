"""`sesctl smtp caller-policy` (issue 15): the least-privilege IAM policy
for running enable, rotate, status and disable, and the proof that it is
enough and not too much: the whole lifecycle runs as a caller of the IAM
stand-in that holds exactly the printed policy (the stand-in evaluates
identity policies as IAM does, standins/policy.py), a caller missing one
needed action is refused with AccessDenied (exit status 3) that names it,
and one without the optional statements still manages a plain user.

With the store options of enable and rotate (--secrets-manager,
--ssm-path, --store-region, --kms-key-id) the policy also holds what the
secret stores need, on those secrets, that path and that key only; the
stand-in authorizes Secrets Manager and SSM calls (and the KMS key's use
on the caller's behalf) the same way, so enable, rotate and disable with
stores run as a caller holding exactly that policy, and one without the
store statements is refused before any key or store is left behind."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import botocore.session

from standins.iam import FakeIAM
from sesctl_test import SOURCE_ROOT, SesctlTestCase, clean_env, command, run

REQUIRED = {"enable": "EnableSesctlUsers", "rotate": "RotateSesctlUsers",
            "status": "StatusSesctlUsers", "disable": "DisableSesctlUsers"}
OPTIONAL = {"enable": {"EnableDryRunIdentityAccountLookup"},
            "rotate": {"RotateOptionalSesConsoleUsers"},
            "status": {"StatusAllListUsers",
                       "StatusAllOptionalUsersOutsideSesctl",
                       "StatusOptionalReadsOfOtherAttachments"},
            "disable": {"DisableOptionalDeleteConflictSweep",
                        "DisableOptionalSweepGroupMemberships",
                        "DisableOptionalSweepVirtualMFADevices"}}
MISSING = "TellMissingUsersFromForbiddenOnes"
STORE_SIDS = {"StoreSecretsManagerSecrets", "StoreSsmParameterPath",
              "StoreSsmParameters", "StoreKmsKey"}
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"    # a customer managed key's id
ACCT = "123456789012"
SWEEP_READS = {"iam:ListUserPolicies", "iam:ListAttachedUserPolicies",
               "iam:ListGroupsForUser", "iam:GetLoginProfile",
               "iam:ListSigningCertificates", "iam:ListSSHPublicKeys",
               "iam:ListServiceSpecificCredentials", "iam:ListMFADevices"}


def caller_policy(*args, env=None):
    """(the policy, the optional Sids its note names, stderr)."""
    p = run(["smtp", "caller-policy"] + list(args), env=env)
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    optional = set(re.findall(r"^sesctl:   ([A-Za-z0-9]+): ", err, re.M))
    return json.loads(p.stdout), optional, err


def sids(doc):
    return [s["Sid"] for s in doc["Statement"]]


def listify(v):
    return v if isinstance(v, list) else [v]


def actions_of(doc, only=None):
    return {a for s in doc["Statement"] if only is None or s["Sid"] in only
            for a in listify(s["Action"])}


def sent_actions(iam):
    """Every action the stand-in received, as a policy names it."""
    return {(r.get("service") or
             ("sts" if r["action"] == "GetCallerIdentity" else "iam")) +
            ":" + r["action"] for r in iam.requests if r["action"]}


def without(doc, drop_sids=(), drop_action=None):
    """A copy of `doc` without some statements, or without one action
    wherever it is (a statement left empty goes too)."""
    out = {"Version": doc["Version"], "Statement": []}
    for s in doc["Statement"]:
        if s["Sid"] in drop_sids:
            continue
        acts = [a for a in listify(s["Action"]) if a != drop_action]
        if acts:
            out["Statement"].append(dict(s, Action=acts))
    return out


class PrintedPolicy(SesctlTestCase):
    """What the command prints, offline."""

    def test_the_whole_policy(self):
        doc, optional, err = caller_policy("--account-id", "123456789012")
        self.assertEqual(doc["Version"], "2012-10-17")
        self.assertEqual(len(sids(doc)), len(set(sids(doc))))
        want = set(REQUIRED.values()) | {MISSING}
        want = want.union(*OPTIONAL.values())
        self.assertEqual(set(sids(doc)), want)
        for s in doc["Statement"]:
            self.assertEqual(set(s), {"Sid", "Effect", "Action", "Resource"})
            self.assertEqual(s["Effect"], "Allow")
            self.assertRegex(s["Sid"], r"^[A-Za-z0-9]+$")   # IAM's rule
            for a in listify(s["Action"]):
                self.assertRegex(a, r"^(iam|sts):[A-Z][A-Za-z]+$")
            for r in listify(s["Resource"]):
                self.assertTrue(r == "*" or
                                r.startswith("arn:aws:iam::123456789012:"), r)
        res = {s["Sid"]: listify(s["Resource"]) for s in doc["Statement"]}
        for sid in REQUIRED.values():
            self.assertEqual(res[sid],
                             ["arn:aws:iam::123456789012:user/sesctl/*"])
        self.assertEqual(res["StatusAllListUsers"], ["*"])
        self.assertEqual(actions_of(doc, {"StatusAllListUsers"}),
                         {"iam:ListUsers"})
        self.assertEqual(res["DisableOptionalSweepVirtualMFADevices"],
                         ["arn:aws:iam::123456789012:mfa/*"])
        self.assertEqual(res["DisableOptionalSweepGroupMemberships"],
                         ["arn:aws:iam::123456789012:group/*"])
        self.assertEqual(actions_of(doc, {"EnableDryRunIdentityAccountLookup"}),
                         {"sts:GetCallerIdentity"})
        self.assertEqual(actions_of(doc, {"StatusOptionalReadsOfOtherAttachments"}),
                         SWEEP_READS)
        self.assertTrue(SWEEP_READS < actions_of(
            doc, {"DisableOptionalDeleteConflictSweep"}))
        # ListUsers only for --all; no statement grants everything
        self.assertEqual([s for s in doc["Statement"]
                          if "iam:ListUsers" in listify(s["Action"])],
                         [s for s in doc["Statement"]
                          if s["Sid"] == "StatusAllListUsers"])
        self.assertNotIn("*", {a for a in actions_of(doc)})
        # the note names the optional statements, and only those
        self.assertEqual(optional, set(sids(doc)) - set(REQUIRED.values()))
        self.assertIn("123456789012", err)
        # it fits a customer managed policy (6,144 characters)
        self.assertLessEqual(len(json.dumps(doc, separators=(",", ":"))),
                             6144)

    def test_for_each_command(self):
        for cmd in REQUIRED:
            doc, optional, _ = caller_policy("--for", cmd)
            self.assertEqual(set(sids(doc)),
                             {REQUIRED[cmd], MISSING} | OPTIONAL[cmd], cmd)
            self.assertEqual(optional, OPTIONAL[cmd] | {MISSING}, cmd)
            self.assertIn("arn:aws:iam::*:user/sesctl/*",
                          json.dumps(doc), cmd)
        a, _, _ = caller_policy("--for", "enable,status")
        b, _, _ = caller_policy("--for", "status", "--for", "enable",
                                "--for", "status")
        self.assertEqual(a, b)
        self.assertEqual(set(sids(a)), {REQUIRED["enable"], REQUIRED["status"],
                                        MISSING} | OPTIONAL["enable"] |
                         OPTIONAL["status"])
        # no --for: all four
        self.assertEqual(caller_policy()[0],
                         caller_policy("--for",
                                       "disable,status,rotate,enable")[0])

    def test_partition_follows_the_region(self):
        doc, _, _ = caller_policy("--region", "cn-north-1")
        self.assertIn("arn:aws-cn:iam::*:user/sesctl/*", json.dumps(doc))
        self.assertNotIn("arn:aws:", json.dumps(doc))
        doc, _, _ = caller_policy(env=clean_env(AWS_REGION="us-gov-west-1"))
        self.assertIn("arn:aws-us-gov:iam::*:group/*", json.dumps(doc))
        doc, _, _ = caller_policy(env=clean_env(HOME="/nonexistent"))
        self.assertIn("arn:aws:iam::*:mfa/*", json.dumps(doc))

    def test_quiet_and_usage_errors(self):
        p = run(["--quiet", "smtp", "caller-policy"])
        self.assertExit(p, 0)
        self.assertEqual(p.stderr, b"")
        self.assertEqual(json.loads(p.stdout), caller_policy()[0])
        for args, msg in (
                (["--for", "derive"], b"'derive' needs no AWS permission"),
                (["--for", "verify,enable"], b"'verify' needs no AWS"),
                (["--for", "enable,rotat"], b"unknown command 'rotat' in --for"),
                (["--for", "enable,"], b"invalid --for 'enable,'"),
                (["--account-id", "12345678901"], b"is 12 digits"),
                (["--account-id", "12345678901x"], b"is 12 digits"),
                (["--region", "EU-WEST-1"], b"did you mean 'eu-west-1'"),
                (["status"], b"takes no arguments"),
                (["--format", "json"], b"unknown option '--format'")):
            p = run(["smtp", "caller-policy"] + args)
            self.assertExit(p, 2)
            self.assertEqual(p.stdout, b"", args)
            self.assertIn(msg, p.stderr, args)

    def test_every_action_is_one_sesctl_knows(self):
        """The IAM actions granted are rows of iam_resolve.c's actions[]
        (the table of every action sesctl sends): no typo goes unseen."""
        with open(os.path.join(SOURCE_ROOT, "src", "aws", "iam_resolve.c"),
                  encoding="utf-8") as f:
            code = f.read()
        table = code.split("static const struct iam_action actions[]", 1)[1]
        known = set(re.findall(r'^\t\{ "([A-Za-z]+)",', table, re.M))
        self.assertIn("CreateUser", known)
        doc, _, _ = caller_policy()
        self.assertLessEqual({a[4:] for a in actions_of(doc)
                              if a.startswith("iam:")}, known)

    def test_the_man_page_lists_the_same_permissions(self):
        """sesctl-smtp(1)'s "IAM permissions needed" of each command name
        the actions of its policy: all those of its required statement,
        none that the policy lacks."""
        with open(os.path.join(SOURCE_ROOT, "docs", "sesctl-smtp.1.scd"),
                  encoding="utf-8") as f:
            page = f.read()
        for cmd in REQUIRED:
            sec = page.split("\n## %s\n" % cmd, 1)[1].split("\n## ", 1)[0]
            para = sec.split("IAM permissions needed", 1)[1].split("\n\n", 1)[0]
            named = set(re.findall(r"_((?:iam|sts):[A-Za-z]+)_",
                                   para.replace("\\", "")))
            doc, _, _ = caller_policy("--for", cmd)
            self.assertLessEqual(actions_of(doc, {REQUIRED[cmd]}), named, cmd)
            self.assertLessEqual(named, actions_of(doc), cmd)

    # ---- the secret stores ---------------------------------------------

    STORES = ("--account-id", ACCT, "--region", "eu-west-1",
              "--secrets-manager", "app/smtp",
              "--secrets-manager",
              "arn:aws:secretsmanager:eu-west-1:%s:secret:other-AbCdEf" % ACCT,
              "--secrets-manager", "app/smtp",
              "--ssm-path", "/prod/app/smtp", "--kms-key-id", KEY)

    def test_store_statements(self):
        doc, optional, err = caller_policy(*self.STORES)
        plain, _, _ = caller_policy("--account-id", ACCT, "--region",
                                    "eu-west-1")
        # the IAM statements are today's; the stores add four, required
        self.assertEqual(without(doc, drop_sids=STORE_SIDS),
                         without(plain))
        self.assertEqual(set(sids(doc)) - set(sids(plain)), STORE_SIDS)
        self.assertFalse(optional & STORE_SIDS)
        self.assertIn("region eu-west-1", err)
        res = {s["Sid"]: listify(s["Resource"]) for s in doc["Statement"]}
        self.assertEqual(res["StoreSecretsManagerSecrets"], [
            "arn:aws:secretsmanager:eu-west-1:%s:secret:app/smtp-??????"
            % ACCT,
            "arn:aws:secretsmanager:eu-west-1:%s:secret:other-AbCdEf" % ACCT])
        self.assertEqual(res["StoreSsmParameterPath"], [
            "arn:aws:ssm:eu-west-1:%s:parameter/prod/app/smtp" % ACCT])
        self.assertEqual(res["StoreSsmParameters"], [
            "arn:aws:ssm:eu-west-1:%s:parameter/prod/app/smtp/SMTP_*" % ACCT])
        self.assertEqual(res["StoreKmsKey"], [
            "arn:aws:kms:eu-west-1:%s:key/%s" % (ACCT, KEY)])
        for s in doc["Statement"]:
            self.assertEqual(set(s), {"Sid", "Effect", "Action", "Resource"})
            for a in listify(s["Action"]):
                self.assertRegex(
                    a, r"^(iam|sts|secretsmanager|ssm|kms):[A-Z][A-Za-z]+$")
        self.assertEqual(actions_of(doc, {"StoreKmsKey"}),
                         {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"})
        self.assertLessEqual(len(json.dumps(doc, separators=(",", ":"))),
                             6144)
        # per command: status reads no store; disable only reads (the
        # parameters' tags too: it deletes only the user's) and deletes
        # (and decrypts the SecureString SSM lists)
        for cmd in ("enable", "rotate"):
            d, _, _ = caller_policy("--for", cmd, *self.STORES)
            self.assertEqual(actions_of(d, STORE_SIDS),
                             actions_of(doc, STORE_SIDS), cmd)
        d, _, _ = caller_policy("--for", "status", *self.STORES)
        self.assertFalse(set(sids(d)) & STORE_SIDS)
        d, _, _ = caller_policy("--for", "disable", *self.STORES)
        self.assertEqual(actions_of(d, STORE_SIDS), {
            "secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret",
            "ssm:GetParametersByPath", "ssm:ListTagsForResource",
            "ssm:DeleteParameter", "kms:Decrypt"})
        # Secrets Manager alone: its key is used only to write and read
        d, _, _ = caller_policy("--for", "disable", "--secrets-manager", "a",
                                "--kms-key-id", KEY)
        self.assertEqual(set(sids(d)) & STORE_SIDS,
                         {"StoreSecretsManagerSecrets"})
        d, _, _ = caller_policy("--for", "enable", "--secrets-manager", "a",
                                "--kms-key-id", KEY)
        self.assertEqual(actions_of(d, {"StoreKmsKey"}),
                         {"kms:Decrypt", "kms:GenerateDataKey"})
        d, _, _ = caller_policy("--for", "rotate", "--ssm-path", "/a",
                                "--kms-key-id", KEY)
        self.assertEqual(actions_of(d, {"StoreKmsKey"}),
                         {"kms:Decrypt", "kms:Encrypt"})
        self.assertEqual(set(sids(d)) & STORE_SIDS, STORE_SIDS -
                         {"StoreSecretsManagerSecrets"})

    def test_store_region_account_and_key(self):
        def res(*args, env=None):
            doc, _, err = caller_policy(*args, env=env)
            return {s["Sid"]: listify(s["Resource"])
                    for s in doc["Statement"]}, err
        # no region anywhere: any region, any account
        r, err = res("--secrets-manager", "app/smtp", "--ssm-path", "/a/b")
        self.assertEqual(r["StoreSecretsManagerSecrets"],
                         ["arn:aws:secretsmanager:*:*:secret:app/smtp-??????"])
        self.assertEqual(r["StoreSsmParameterPath"],
                         ["arn:aws:ssm:*:*:parameter/a/b"])
        self.assertIn("any region (--store-region or --region", err)
        # the region as every command finds it ($AWS_REGION) ...
        r, _ = res("--ssm-path", "/a", env=clean_env(AWS_REGION="us-east-2"))
        self.assertEqual(r["StoreSsmParameters"],
                         ["arn:aws:ssm:us-east-2:*:parameter/a/SMTP_*"])
        # ... a secret ARN's, over it ...
        arn = "arn:aws:secretsmanager:eu-central-1:%s:secret:s-AbCdEf" % ACCT
        r, _ = res("--region", "us-east-1", "--secrets-manager", arn,
                   "--secrets-manager", "n", "--kms-key-id", KEY)
        self.assertEqual(r["StoreSecretsManagerSecrets"], [
            arn, "arn:aws:secretsmanager:eu-central-1:*:secret:n-??????"])
        self.assertEqual(r["StoreKmsKey"],
                         ["arn:aws:kms:eu-central-1:*:key/" + KEY])
        # ... and --store-region over both, with its partition
        r, _ = res("--region", "cn-north-1", "--store-region", "cn-northwest-1",
                   "--ssm-path", "/a", "--account-id", ACCT)
        self.assertEqual(r["StoreSsmParameterPath"],
                         ["arn:aws-cn:ssm:cn-northwest-1:%s:parameter/a" % ACCT])
        # a key ARN is the key's; an AWS managed key needs no statement
        karn = "arn:aws:kms:eu-west-1:%s:key/mrk-1234" % ACCT
        r, _ = res("--ssm-path", "/a", "--kms-key-id", karn)
        self.assertEqual(r["StoreKmsKey"], [karn])
        doc, _, err = caller_policy("--ssm-path", "/a", "--kms-key-id",
                                    "alias/aws/ssm")
        self.assertNotIn("StoreKmsKey", sids(doc))
        self.assertIn("AWS managed key", err)
        # a policy longer than a managed policy may be: said
        many = sum((["--secrets-manager", "app/%s/%s" % (c, "x" * 400)]
                    for c in "abcdefgh"), [])
        doc, _, err = caller_policy("--account-id", ACCT, *many)
        self.assertGreater(len(json.dumps(doc, separators=(",", ":"))), 6144)
        self.assertIn("more than the 6144 of a customer managed policy", err)
        for args, msg in (
                (["--kms-key-id", "alias/smtp", "--ssm-path", "/a"],
                 b"is an alias: IAM authorizes"),
                (["--kms-key-id", "arn:aws:kms:eu-west-1:%s:alias/smtp" % ACCT,
                  "--secrets-manager", "a"], b"is an alias"),
                (["--kms-key-id", "arn:aws:kms:eu-west-1:1:keys", "--ssm-path",
                  "/a"], b"is not a KMS key id"),
                (["--kms-key-id", "key*", "--ssm-path", "/a"],
                 b"is not a KMS key id"),
                (["--kms-key-id", KEY], b"--kms-key-id goes with the stores"),
                (["--store-region", "eu-west-1"],
                 b"--store-region goes with the stores"),
                (["--store-region", "Europe", "--ssm-path", "/a"],
                 b"is not a region name"),
                (["--secrets-manager", "app/*"], b"is not a secret name"),
                (["--secrets-manager", "a b"], b"is not a secret name"),
                (["--ssm-path", "/a/"], b"is not a parameter path"),
                (["--ssm-path", "a"], b"is not a parameter path"),
                (["--secrets-manager", arn, "--store-region", "eu-west-1"],
                 b"is in region 'eu-central-1', the stores in 'eu-west-1'"),
                (sum((["--secrets-manager", c] for c in "aabcdefghi"), []),
                 b"at most 8 --secrets-manager secrets")):
            p = run(["smtp", "caller-policy"] + args)
            self.assertExit(p, 2)
            self.assertEqual(p.stdout, b"", args)
            self.assertIn(msg, p.stderr, args)

    def test_store_actions_are_the_ones_sesctl_sends(self):
        """The Secrets Manager and SSM actions granted are exactly those
        secretsmanager.c and ssm.c send (a new call without its grant, or
        a grant no code needs, fails here)."""
        sent = set()
        for name, svc in (("secretsmanager.c", "secretsmanager"),
                          ("ssm.c", "ssm")):
            with open(os.path.join(SOURCE_ROOT, "src", "aws", name),
                      encoding="utf-8") as f:
                code = f.read()
            found = re.findall(
                r'\b(?:sm_send|sm_change|write_version|ssm_send|'
                r'aws_json_change)\(\s*[^,()]+,\s*"([A-Za-z]+)"', code)
            self.assertTrue(found, name)
            sent |= {svc + ":" + a for a in found}
        doc, _, _ = caller_policy(*self.STORES)
        self.assertEqual({a for a in actions_of(doc, STORE_SIDS)
                          if not a.startswith("kms:")}, sent)

    def test_the_man_page_lists_the_store_permissions(self):
        """sesctl-smtp(1)'s --secrets-manager and --ssm-path entries name
        the actions the policy grants for them (KMS included)."""
        with open(os.path.join(SOURCE_ROOT, "docs", "sesctl-smtp.1.scd"),
                  encoding="utf-8") as f:
            page = f.read()
        sec = page.split("\n## enable\n", 1)[1].split("\n## ", 1)[0]
        for opt, args, stmts in (
                ("secrets-manager", ("--secrets-manager", "a"),
                 {"StoreSecretsManagerSecrets", "StoreKmsKey"}),
                ("ssm-path", ("--ssm-path", "/a"),
                 {"StoreSsmParameterPath", "StoreSsmParameters",
                  "StoreKmsKey"})):
            entry = sec.split("\n*--%s* " % opt, 1)[1].split("\n*--", 1)[0]
            named = set(re.findall(r"_((?:secretsmanager|ssm|kms):[A-Za-z]+)_",
                                   entry.replace("\\", "")))
            doc, _, _ = caller_policy(*args, "--kms-key-id", KEY)
            self.assertEqual(named, actions_of(doc, stmts), opt)



class LeastPrivilegeCase(SesctlTestCase):
    """A stand-in (IAM, STS, Secrets Manager, SSM), and sesctl run as one
    of its IAM users that holds a policy."""

    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=15)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def env(self, caller):
        return clean_env(HOME=self.tmp, SESCTL_STATE_DIR=self.tmp,
                         SESCTL_TEST_RETRY_BASE_MS="1",
                         AWS_ENDPOINT_URL_STS=self.iam.url,
                         **self.iam.env(caller, region="eu-west-1",
                                        stores=True))

    def sesctl(self, caller, *args, code=0):
        p = subprocess.run(command(list(args)), capture_output=True,
                           stdin=subprocess.DEVNULL, env=self.env(caller),
                           timeout=120)
        self.assertEqual(p.returncode, code,
                         "sesctl %s: exit %d, want %d\n%s" % (
                             " ".join(args), p.returncode, code,
                             p.stderr.decode()))
        self.err = p.stderr.decode()
        return p.stdout.decode()

    def keys(self, user="sesctl-smtp"):
        u = self.iam.user(user)
        return [k["access_key_id"] for k in u["access_keys"]] if u else None

    def refused(self):
        """The requests IAM refused: (action, user)."""
        return [(r["action"], r["params"].get("UserName"))
                for r in self.iam.requests if r["status"] == 403]

    def assertSentOnlyWhatIsAllowed(self, doc=None):
        self.assertLessEqual(sent_actions(self.iam), actions_of(doc or self.doc))


class AsALeastPrivilegeCaller(LeastPrivilegeCase):
    """sesctl run as an IAM user of the stand-in that holds the policy."""

    def setUp(self):
        super().setUp()
        self.doc, self.optional, _ = caller_policy(
            "--account-id", self.iam.account_id)

    def test_the_lifecycle_with_exactly_the_printed_policy(self):
        c = self.iam.caller_with_policy(self.doc)
        out = os.path.join(self.tmp, "smtp.env")
        # enable
        self.sesctl(c, "smtp", "enable", "--output-file", out)
        u = self.iam.user("sesctl-smtp")
        self.assertEqual(u["path"], "/sesctl/")
        self.assertIn({"Key": "ManagedBy", "Value": "sesctl"}, u["tags"])
        self.assertEqual([p["name"] for p in u["inline_policies"]],
                         ["sesctl-ses-send"])
        first = self.keys()
        self.assertEqual(len(first), 1)
        with open(out) as f:
            self.assertIn("SMTP_USER=%s\n" % first[0], f.read())
        # status, one user and all
        self.sesctl(c, "smtp", "status")
        one = json.loads(self.sesctl(c, "smtp", "status", "--format", "json"))
        self.assertEqual(one["unknown"], [])
        self.assertEqual(one["least_privilege"]["verdict"], "yes")
        every = json.loads(self.sesctl(c, "smtp", "status", "--all",
                                       "--format", "json"))
        self.assertEqual([x["user"]["name"] for x in every["users"]],
                         ["sesctl-smtp"])
        # rotate: the old key goes at once
        self.sesctl(c, "smtp", "rotate", "--output-file", out)
        second = self.keys()
        self.assertEqual(len(second), 1)
        self.assertNotEqual(second, first)
        # rotate --keep-old, then --finish
        self.sesctl(c, "smtp", "rotate", "--keep-old", "--output-file", out)
        self.assertEqual(len(self.keys()), 2)
        self.assertIn(second[0], self.keys())
        self.sesctl(c, "smtp", "rotate", "--finish")
        third = self.keys()
        self.assertEqual(len(third), 1)
        self.assertNotIn(second[0], third)
        with open(out) as f:
            self.assertIn("SMTP_USER=%s\n" % third[0], f.read())
        # disable of a plain user
        self.sesctl(c, "smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user("sesctl-smtp"))
        # IAM refused nothing so far
        self.assertEqual(self.refused(), [])
        # then the user is not there (exit 4), and a rerun has nothing to
        # do: IAM refuses the reads made along with GetUser (a policy
        # scoped to /sesctl/ covers no user that does not exist), and
        # GetUser's NoSuchEntity is what counts
        self.sesctl(c, "smtp", "status", code=4)
        self.sesctl(c, "smtp", "disable", "--yes")
        self.assertIn("nothing to do", self.err)
        # (status --all's reads of every user cover it, when held)
        self.assertLessEqual({u for _, u in self.refused()}, {"sesctl-smtp"})
        self.assertNotIn("GetUser", {a for a, _ in self.refused()})
        self.assertSentOnlyWhatIsAllowed()
        self.iam.clear_requests()
        # disable of a user someone gave more: the sweep
        self.sesctl(c, "smtp", "enable", "--name", "app")
        self.iam.seed_user(
            "sesctl-smtp-app", groups=("admins",), login_profile=True,
            inline_policies={"extra": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}},
            attached_policies=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            virtual_mfa_devices=1)
        self.sesctl(c, "smtp", "disable", "--name", "app", "--yes")
        self.assertIsNone(self.iam.user("sesctl-smtp-app"))
        st = self.iam.dump_state()
        self.assertEqual([g["members"] for g in st["groups"]
                          if g["name"] == "admins"], [[]])
        self.assertEqual([v for v in st["virtual_mfa_devices"]
                          if v["serial"].endswith("sesctl-smtp-app")], [])
        # enable --dry-run --identity for a user not made yet
        plan = self.sesctl(c, "smtp", "enable", "--name", "new",
                           "--identity", "example.com", "--dry-run")
        self.assertIn("arn:aws:ses:eu-west-1:%s:identity/example.com"
                      % self.iam.account_id, plan)
        self.assertIn("GetCallerIdentity",
                      [r["action"] for r in self.iam.requests])
        self.assertIsNone(self.iam.user("sesctl-smtp-new"))
        # nothing refused but reads of the new user (it does not exist)
        self.assertLessEqual({u for _, u in self.refused()}, {"sesctl-smtp-new"})
        self.assertNotIn("GetUser", {a for a, _ in self.refused()})
        self.assertSentOnlyWhatIsAllowed()

    def test_one_needed_action_less_is_access_denied(self):
        admin = self.iam.admin
        cases = [
            ("enable", "iam:PutUserPolicy", False, ["smtp", "enable"]),
            ("enable", "iam:CreateUser", False, ["smtp", "enable"]),
            ("rotate", "iam:CreateAccessKey", True, ["smtp", "rotate"]),
            ("rotate", "iam:TagUser", True, ["smtp", "rotate"]),
            ("status", "iam:GetAccessKeyLastUsed", True, ["smtp", "status"]),
            ("status", "iam:ListUsers", True, ["smtp", "status", "--all"]),
            ("disable", "iam:DeleteUser", True, ["smtp", "disable", "--yes"]),
            ("disable", "iam:DeleteAccessKey", True,
             ["smtp", "disable", "--yes"]),
        ]
        for cmd, action, enabled, args in cases:
            with self.subTest(cmd=cmd, action=action):
                self.iam.reset()
                if enabled:
                    self.sesctl(admin, "smtp", "enable")
                doc, _, _ = caller_policy("--for", cmd, "--account-id",
                                          self.iam.account_id)
                self.assertIn(action, actions_of(doc))
                c = self.iam.caller_with_policy(without(doc,
                                                        drop_action=action))
                # the whole policy works
                full = self.iam.caller_with_policy(doc)
                self.sesctl(full, *args, "--dry-run") if cmd in (
                    "enable", "rotate", "disable") else \
                    self.sesctl(full, *args)
                self.sesctl(c, *args, code=3)
                self.assertIn(action, self.err)
                self.assertIn("AccessDenied", self.err)

    def test_without_the_optional_statements_a_plain_user_is_managed(self):
        self.assertTrue(self.optional)
        doc = without(self.doc, drop_sids=self.optional)
        self.assertEqual(set(sids(doc)), set(REQUIRED.values()))
        c = self.iam.caller_with_policy(doc)
        self.sesctl(c, "smtp", "enable")
        first = self.keys()
        self.sesctl(c, "smtp", "rotate")
        self.assertNotEqual(self.keys(), first)
        # status: what it may not read is unknown, not a failure
        self.sesctl(c, "smtp", "status")
        one = json.loads(self.sesctl(c, "smtp", "status", "--format", "json"))
        self.assertEqual({u["permission"] for u in one["unknown"]},
                         SWEEP_READS)
        self.assertEqual({u["error"] for u in one["unknown"]},
                         {"AccessDenied"})
        self.assertEqual(one["least_privilege"]["verdict"], "unknown")
        # --all needs ListUsers
        self.sesctl(c, "smtp", "status", "--all", code=3)
        self.assertIn("iam:ListUsers", self.err)
        # disable of a plain user needs no sweep
        self.sesctl(c, "smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user("sesctl-smtp"))
        # ... and a user that is gone cannot be told from a forbidden one
        self.sesctl(c, "smtp", "status", code=3)


class StoresAsALeastPrivilegeCaller(LeastPrivilegeCase):
    """enable, rotate and disable with a Secrets Manager secret and SSM
    parameters encrypted with a customer managed key, as a caller that
    holds exactly what caller-policy prints for them."""

    SECRET = "app/smtp"
    PATH = "/app/smtp"
    STORES = ("--secrets-manager", SECRET, "--ssm-path", PATH,
              "--kms-key-id", KEY)

    def setUp(self):
        super().setUp()
        self.doc, _, _ = caller_policy(
            "--account-id", self.iam.account_id, "--region", "eu-west-1",
            *self.STORES)
        self.assertLessEqual(STORE_SIDS, set(sids(self.doc)))

    def current(self, name=SECRET):
        """SMTP_USER of the secret's AWSCURRENT, and the SSM one."""
        s = self.iam.secret(name, region="eu-west-1")
        v = next(v for v in s["versions"]
                 if v["id"] == s["stages"]["AWSCURRENT"])
        p = self.iam.parameter(self.PATH + "/SMTP_USER", region="eu-west-1")
        return json.loads(v["secret_string"])["SMTP_USER"], p["value"]

    def denials(self):
        """The requests refused for want of a permission."""
        return [r["action"] for r in self.iam.requests
                if r["error_code"] in ("AccessDenied", "AccessDeniedException")]

    def stores_left(self):
        return (self.iam.secrets(), self.iam.parameters())

    def test_the_lifecycle_with_stores_and_exactly_the_printed_policy(self):
        c = self.iam.caller_with_policy(self.doc)
        self.sesctl(c, "smtp", "enable", *self.STORES)
        [first] = self.keys()
        self.assertEqual(self.current(), (first, first))
        self.assertEqual(self.iam.secret(self.SECRET)["kms_key_id"], KEY)
        self.assertEqual(self.iam.parameter(self.PATH + "/SMTP_PASS")
                         ["key_id"], KEY)
        # rotate delivers to the recorded stores; --keep-old, --finish
        self.sesctl(c, "smtp", "rotate", "--kms-key-id", KEY)
        [second] = self.keys()
        self.assertNotEqual(second, first)
        self.assertEqual(self.current(), (second, second))
        self.sesctl(c, "smtp", "rotate", "--keep-old")
        self.assertEqual(len(self.keys()), 2)
        self.sesctl(c, "smtp", "rotate", "--finish")
        [third] = self.keys()
        self.assertEqual(self.current(), (third, third))
        # a secret someone else made with the key, taken over
        admin = self.client_secretsmanager()
        admin.create_secret(Name="app/other", SecretString="{}",
                            KmsKeyId=KEY)
        self.addCleanup(admin.close)
        doc, _, _ = caller_policy(
            "--account-id", self.iam.account_id, "--region", "eu-west-1",
            "--secrets-manager", "app/other", *self.STORES)
        c2 = self.iam.caller_with_policy(doc)
        self.sesctl(c2, "smtp", "rotate", "--secrets-manager", "app/other",
                    "--adopt")
        [fourth] = self.keys()
        self.assertEqual(self.current("app/other")[0], fourth)
        # disable deletes the stores, then the user
        self.sesctl(c2, "smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user("sesctl-smtp"))
        self.assertEqual(self.stores_left(), ([], []))
        self.assertEqual(self.denials(), [])
        # nothing beyond the policy was sent (the admin's CreateSecret
        # aside), and the store calls all were: the stand-in authorized
        # them, and the key's use, against the printed statements
        sent = {a for a in sent_actions(self.iam)
                if a != "secretsmanager:CreateSecret"}
        self.assertLessEqual(sent, actions_of(doc))
        self.assertLessEqual({"secretsmanager:DescribeSecret",
                              "secretsmanager:GetSecretValue",
                              "secretsmanager:PutSecretValue",
                              "secretsmanager:TagResource",
                              "secretsmanager:UpdateSecretVersionStage",
                              "secretsmanager:DeleteSecret",
                              "ssm:GetParametersByPath", "ssm:GetParameter",
                              "ssm:PutParameter", "ssm:DeleteParameter"},
                             sent)

    def client_secretsmanager(self):
        a = self.iam.admin
        return botocore.session.get_session().create_client(
            "secretsmanager", region_name="eu-west-1",
            endpoint_url=self.iam.url, verify=self.iam.ca_file,
            aws_access_key_id=a["access_key_id"],
            aws_secret_access_key=a["secret_access_key"])

    def test_disable_with_exactly_the_disable_policy(self):
        # disable reads the parameters' tags (it deletes only the user's)
        # as a caller holding what 'caller-policy --for disable' prints
        full = self.iam.caller_with_policy(self.doc)
        self.sesctl(full, "smtp", "enable", *self.STORES)
        doc, _, _ = caller_policy(
            "--account-id", self.iam.account_id, "--region", "eu-west-1",
            "--for", "disable", *self.STORES)
        c = self.iam.caller_with_policy(doc)
        self.sesctl(c, "smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user("sesctl-smtp"))
        self.assertEqual(self.stores_left(), ([], []))
        self.assertEqual(self.denials(), [])

    def test_without_the_store_statements_nothing_is_left_behind(self):
        bare = without(self.doc, drop_sids=STORE_SIDS)
        c = self.iam.caller_with_policy(bare)
        # enable: refused at the first read of a store, before IAM changes
        self.sesctl(c, "smtp", "enable", *self.STORES, code=3)
        self.assertIn("AccessDenied", self.err)
        self.assertIsNone(self.iam.user("sesctl-smtp"))
        self.assertEqual(self.stores_left(), ([], []))
        # rotate and disable of a user enabled with stores: refused before
        # a key is made or deleted
        full = self.iam.caller_with_policy(self.doc)
        self.sesctl(full, "smtp", "enable", *self.STORES)
        keys, stores = self.keys(), self.stores_left()
        for args in (["rotate"], ["rotate", "--finish"],
                     ["disable", "--yes"]):
            self.sesctl(c, "smtp", *args, code=3)
            self.assertEqual((self.keys(), self.stores_left()),
                             (keys, stores), args)
        # --keep-stores: disable needs no store statement
        self.sesctl(c, "smtp", "disable", "--yes", "--keep-stores")
        self.assertIsNone(self.iam.user("sesctl-smtp"))

    def test_one_store_action_less_leaves_no_key(self):
        """Each permission a write needs, taken away: enable fails (exit
        status 3) with the new key deleted again and nothing delivered;
        rotate keeps the old key delivered."""
        cases = ["secretsmanager:CreateSecret",
                 "secretsmanager:TagResource",      # CreateSecret's tags
                 "kms:GenerateDataKey",
                 "ssm:PutParameter",
                 "ssm:AddTagsToResource",           # PutParameter's tags
                 "kms:Encrypt"]
        for action in cases:
            with self.subTest(action=action):
                self.iam.reset()
                self.assertIn(action, actions_of(self.doc))
                c = self.iam.caller_with_policy(
                    without(self.doc, drop_action=action))
                self.sesctl(c, "smtp", "enable", *self.STORES, code=3)
                self.assertIn("AccessDenied", self.err)
                self.assertEqual(self.keys(), [], action)
                self.assertEqual(self.iam.secrets(), [], action)
                self.assertEqual(
                    [p["name"] for p in self.iam.parameters()], [], action)
        # rotate without kms:Decrypt (Secrets Manager's read-back and SSM's
        # listing): the old key stays, still delivered
        self.iam.reset()
        self.sesctl(self.iam.admin, "smtp", "enable", *self.STORES)
        [old] = self.keys()
        c = self.iam.caller_with_policy(
            without(self.doc, drop_action="kms:Decrypt"))
        self.sesctl(c, "smtp", "rotate", code=3)
        self.assertEqual(self.keys(), [old])
        self.assertEqual(self.current(), (old, old))


if __name__ == "__main__":
    unittest.main(verbosity=2)
