"""`sesctl smtp caller-policy` (issue 15): the least-privilege IAM policy
for running enable, rotate, status and disable, and the proof that it is
enough and not too much: the whole lifecycle runs as a caller of the IAM
stand-in that holds exactly the printed policy (the stand-in evaluates
identity policies as IAM does, standins/policy.py), a caller missing one
needed action is refused with AccessDenied (exit status 3) that names it,
and one without the optional statements still manages a plain user."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

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


class AsALeastPrivilegeCaller(SesctlTestCase):
    """sesctl run as an IAM user of the stand-in that holds the policy."""

    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=15)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.doc, self.optional, _ = caller_policy(
            "--account-id", self.iam.account_id)

    def env(self, caller):
        return clean_env(HOME=self.tmp, SESCTL_STATE_DIR=self.tmp,
                         SESCTL_TEST_RETRY_BASE_MS="1",
                         AWS_ENDPOINT_URL_STS=self.iam.url,
                         **self.iam.env(caller, region="eu-west-1"))

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

    def assertSentOnlyWhatIsAllowed(self):
        sent = {("sts:" if r["action"] == "GetCallerIdentity" else "iam:") +
                r["action"] for r in self.iam.requests}
        self.assertLessEqual(sent, actions_of(self.doc))

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
