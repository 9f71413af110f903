#!/usr/bin/env python3
"""A review of --secrets-manager (enable/rotate/disable with Secrets
Manager): the product's promises, attacked.

Each test asserts what a user would see in IAM and in the secrets (keys,
stages, values), not messages:
  - every recorded secret's AWSCURRENT names a key IAM still has;
  - every access key of the user is held somewhere (a version of a
    secret, or an output file);
  - no key is retired while a secret hands it out as AWSCURRENT;
  - a store write that fails takes the new key back (enable) / keeps the
    old key (rotate), and leaves the secrets as they were;
  - a secret sesctl did not make for this user is refused unless --adopt,
    before anything in IAM changes.
Tests marked "# Fixed (was BUG):" fail on purpose: they show a bug (see the comment).
"""

import json
import os
import re
import shlex
import signal
import subprocess
import time
import unittest

from sesctl_test import StandinTestCase, command, smtp_password

USER = "sesctl-smtp"
REGION = "eu-west-1"
OTHER_REGION = "us-west-2"
A = "app/smtp"
B = "app/smtp-b"


class Stores(StandinTestCase):
    region = REGION

    def setUp(self):
        super().setUp()
        self.env = dict(self.env,
                        **self.iam.env(region=REGION, stores=True))

    # ---- reading the stand-in ---------------------------------------------

    def key_ids(self):
        u = self.iam.user(USER)
        return sorted(k["access_key_id"] for k in u["access_keys"]) if u \
            else []

    def active_keys(self):
        u = self.iam.user(USER)
        return sorted(k["access_key_id"] for k in u["access_keys"]
                      if k.get("status", "Active") == "Active") if u else []

    def secret(self, name, region=REGION):
        return self.iam.secret(name, region=region)

    def staged(self, stage, name=A, region=REGION):
        """The value a stage of the secret holds, parsed (None if no
        version has the stage; the raw string if it is not JSON)."""
        s = self.secret(name, region)
        if not s or stage not in s["stages"]:
            return None
        for v in s["versions"]:
            if v["id"] == s["stages"][stage]:
                try:
                    return json.loads(v["secret_string"])
                except ValueError:
                    return v["secret_string"]
        return None

    def current_user(self, name=A, region=REGION):
        v = self.staged("AWSCURRENT", name, region)
        return v.get("SMTP_USER") if isinstance(v, dict) else None

    def held(self, names):
        """Key ids that some version of the secrets `names` (name or
        (name, region)) holds."""
        out = set()
        for n in names:
            name, region = n if isinstance(n, tuple) else (n, REGION)
            s = self.secret(name, region)
            for v in (s or {}).get("versions", []):
                try:
                    out.add(json.loads(v["secret_string"]).get("SMTP_USER"))
                except (ValueError, AttributeError, TypeError):
                    pass
        return out

    def tags(self):
        u = self.iam.user(USER)
        return {t["Key"]: t["Value"] for t in u["tags"]} if u else {}

    def assert_serves(self, name=A, region=REGION):
        """The secret's AWSCURRENT names a key IAM has, with its right
        password."""
        v = self.staged("AWSCURRENT", name, region)
        self.assertIsInstance(v, dict, "secret %s hands out nothing" % name)
        self.assertIn(v.get("SMTP_USER"), self.active_keys(),
                      "secret %s (%s) hands out access key %s, which IAM "
                      "does not have (active)" % (name, region,
                                                  v.get("SMTP_USER")))
        self.assertEqual(v["SMTP_PASS"], smtp_password(
            self.iam.access_key(v["SMTP_USER"])["secret_access_key"],
            v["SMTP_REGION"]))
        return v["SMTP_USER"]

    def assert_all_held(self, names, files=()):
        held = self.held(names)
        for path in files:
            if os.path.exists(path):
                with open(path) as f:
                    held |= set(re.findall(r"SMTP_USER=(\S+)", f.read()))
        for k in self.key_ids():
            self.assertIn(k, held, "access key %s is held by no secret "
                          "version and no file: nobody holds its secret" % k)

    def fails(self, *args):
        p = self.call(*args)
        self.assertNotEqual(p.returncode, 0, p.stderr.decode())
        return p

    def sesctl(self, *args, code=0):
        p = self.call(*args)
        self.assertExit(p, code)
        return p

    def aws(self, *args, region=REGION, check=True):
        env = dict(self.env, AWS_DEFAULT_REGION=region, AWS_REGION=region)
        return subprocess.run(
            ["/usr/bin/aws", "--endpoint-url", self.iam.url, "--output",
             "json"] + list(args),
            capture_output=True, env=env, timeout=120, check=check)

    def foreign_secret(self, name, value, region=REGION):
        """A secret made by hand (not sesctl's), holding `value`."""
        self.aws("secretsmanager", "create-secret", "--name", name,
                 "--secret-string", value, region=region)

    def advice(self, p):
        """The sesctl command an error message says to run, or None."""
        m = re.search(r"run '(sesctl smtp [^']+)'", p.stderr.decode())
        return shlex.split(m.group(1))[1:] if m else None

    # ---- a different secret / region than recorded --------------------------

    def test_rotate_other_secret_keeps_recorded_secret_working(self):
        # Fixed (was BUG): rotate --secrets-manager B on a user recorded with secret A
        # writes B, records only B and deletes the old key, while A (which
        # the app reads) still hands it out as AWSCURRENT: the app's only
        # working credential is gone.  lc_stores_release_key only looks at
        # this run's secrets (the options'), never at the recorded ones.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.sesctl("smtp", "rotate", "--secrets-manager", B)
        self.assert_serves(B)
        self.assert_serves(A)

    def test_rotate_other_store_region_keeps_recorded_secret_working(self):
        # Fixed (was BUG): the same with --store-region: the recorded secret (in the
        # recorded region) is looked up in the other region, not found, a
        # new one is created there, and the old key is deleted while the
        # recorded secret still hands it out.
        # Fixed: the recorded region wins; another --store-region is a
        # usage error before anything changes.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        p = self.call("smtp", "rotate", "--store-region", OTHER_REGION)
        self.assertExit(p, 2)
        self.assertIn(b"recorded in region", p.stderr)
        self.assertEqual(self.key_ids(), [old])
        self.assertEqual(self.assert_serves(A, REGION), old)
        self.assertIsNone(self.secret(A, OTHER_REGION))

    def test_finish_with_other_secret_keeps_pending_switch(self):
        # Fixed (was BUG): a switch that failed leaves A's AWSCURRENT on the old key
        # (AWSPENDING on the new one); 'rotate --finish --secrets-manager
        # B' (a typo, or the secret the app is moving to) checks only B
        # and deletes the old key while A still hands it out.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.iam.add_fault("error", "UpdateSecretVersionStage", status=400,
                           code="AccessDeniedException", message="no")
        self.fails("smtp", "rotate")
        self.assertEqual(self.current_user(A), old)
        self.call("smtp", "rotate", "--finish", "--secrets-manager", B)
        self.assert_serves(A)

    def test_finish_after_failed_switch_switches_first(self):
        # holds: the advice after a failed switch (rotate --finish)
        # switches AWSCURRENT to the new key before the old one goes.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.iam.add_fault("error", "UpdateSecretVersionStage", status=400,
                           code="AccessDeniedException", message="no")
        p = self.fails("smtp", "rotate")
        self.assertEqual(self.assert_serves(A), old)
        self.sesctl(*self.advice(p))
        [new] = self.key_ids()
        self.assertNotEqual(new, old)
        self.assertEqual(self.assert_serves(A), new)
        self.assertIsNone(self.staged("AWSPENDING"))


    # ---- enable: a failed run takes everything back --------------------------

    APP_VALUE = json.dumps({"SMTP_USER": "AKIAHANDMADE0000000", "SMTP_PASS":
                            "the app's working password"})

    def test_enable_adopt_record_fails_restores_secret(self):
        # Fixed (was BUG): enable --adopt of an existing secret writes the new key's
        # settings as AWSCURRENT at once (lc_stores_write now=true); when
        # the record (TagUser) then fails, enable deletes the new key but
        # lc_stores_undo only undoes secrets it created or left
        # AWSPENDING: the adopted secret keeps handing out the deleted
        # key, and the app's working value is pushed to AWSPREVIOUS.
        self.foreign_secret(A, self.APP_VALUE)
        self.iam.add_fault("error", "TagUser", status=403,
                           code="AccessDenied", message="no tagging",
                           times=5)
        self.fails("smtp", "enable", "--secrets-manager", A, "--adopt")
        self.assertEqual(self.key_ids(), [])
        self.assertEqual(self.staged("AWSCURRENT"),
                         json.loads(self.APP_VALUE),
                         "the failed enable left its (deleted) key in the "
                         "adopted secret's AWSCURRENT")

    def test_enable_second_secret_fails_restores_first(self):
        # Fixed (was BUG): the same with two secrets, the first existing (adopted) and
        # the second failing to be created: the first keeps handing out
        # the key enable deleted.
        self.foreign_secret(A, self.APP_VALUE)
        self.iam.add_fault("error", "CreateSecret", status=400,
                           code="AccessDeniedException", message="no")
        self.call("smtp", "enable", "--secrets-manager", A,
                  "--secrets-manager", B, "--adopt")
        self.assertEqual(self.key_ids(), [])
        self.assertIsNone(self.secret(B))
        self.assertEqual(self.staged("AWSCURRENT"),
                         json.loads(self.APP_VALUE))

    def test_enable_second_secret_fails_deletes_first_created(self):
        # holds: two new secrets, the second refused: the first (created
        # by this run) is deleted again with the key.
        self.iam.add_fault("error", "CreateSecret", nth=2, status=400,
                           code="AccessDeniedException", message="no")
        self.call("smtp", "enable", "--secrets-manager", A,
                  "--secrets-manager", B)
        self.assertEqual(self.key_ids(), [])
        self.assertIsNone(self.secret(A))
        self.assertIsNone(self.secret(B))

    def test_enable_foreign_secret_refused_before_iam(self):
        # holds: a secret another sesctl user owns is refused, IAM intact.
        self.foreign_secret(A, self.APP_VALUE)
        self.aws("secretsmanager", "tag-resource", "--secret-id", A,
                 "--tags", "Key=ManagedBy,Value=sesctl",
                 "Key=SesctlUser,Value=someone-else")
        self.fails("smtp", "enable", "--secrets-manager", A)
        self.assertIsNone(self.iam.user(USER))
        self.assertEqual(self.staged("AWSCURRENT"),
                         json.loads(self.APP_VALUE))

    def test_rotate_foreign_secret_refused_before_iam(self):
        # holds: rotate to a foreign secret: refused, nothing changed.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.foreign_secret(B, self.APP_VALUE)
        before = self.tags()
        self.fails("smtp", "rotate", "--secrets-manager", B)
        self.assertEqual(self.key_ids(), [old])
        self.assertEqual(self.tags(), before)
        self.assertEqual(self.staged("AWSCURRENT", B),
                         json.loads(self.APP_VALUE))
        self.assertEqual(self.assert_serves(A), old)

    # ---- rotate: a failed run keeps the old key -----------------------------

    def test_rotate_second_secret_fails_keeps_old(self):
        # holds: two recorded secrets; B's PutSecretValue refused: the old
        # key stays, both hand it out, A's AWSPENDING is taken back.
        self.sesctl("smtp", "enable", "--secrets-manager", A,
                    "--secrets-manager", B)
        [old] = self.key_ids()
        self.iam.add_fault("error", "PutSecretValue", nth=2, status=400,
                           code="AccessDeniedException", message="no")
        self.fails("smtp", "rotate")
        self.assertEqual(self.key_ids(), [old])
        self.assertEqual(self.assert_serves(A), old)
        self.assertEqual(self.assert_serves(B), old)
        self.assertIsNone(self.staged("AWSPENDING", A))
        self.assert_all_held([A, B])

    def test_rotate_force_after_failed_switch(self):
        # Fixed (was BUG): after a switch that failed (A: AWSCURRENT old, AWSPENDING
        # the recorded new key), 'rotate --force' retires the kept old key
        # in make_room; lc_stores_release_key switches A then, but leaves
        # s->info (its AWSCURRENT version) stale, so this run's own switch
        # sends RemoveFromVersionId of the old version and is refused:
        # rotate --force always fails there.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        self.iam.add_fault("error", "UpdateSecretVersionStage", status=400,
                           code="AccessDeniedException", message="no")
        self.fails("smtp", "rotate")
        self.assertEqual(len(self.key_ids()), 2)
        self.sesctl("smtp", "rotate", "--force")
        [new] = self.key_ids()
        self.assertEqual(self.assert_serves(A), new)


    # ---- signals at each store step ------------------------------------------

    def kill_at(self, args, action, sig=signal.SIGKILL, before=False,
                delay=2.0):
        """Run sesctl, hold `action`'s answer back (before=True: before it
        is applied) and send `sig` while it waits; returns (exit, stderr)
        once the stand-in is done with the request."""
        self.iam.add_fault("slow", action, delay=delay, before=before)
        p = subprocess.Popen(command(list(args)), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env)
        deadline = time.monotonic() + 60
        while not any(r["action"] == action and r["fault"] == "slow"
                      for r in self.iam.requests):
            if p.poll() is not None:
                self.fail("sesctl ended before %s: %s" % (
                    action, p.stderr.read().decode()))
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        time.sleep(0.3)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        while not all(r["answered_at"] for r in self.iam.requests):
            time.sleep(0.05)
        return p.returncode, err

    def test_sigkill_rotate_after_pending_written_then_rerun(self):
        # holds: killed once AWSPENDING was written (unrecorded key): the
        # app keeps the old key; a plain rerun ends with one key, served.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.kill_at(["smtp", "rotate"], "PutSecretValue")
        self.assertEqual(self.assert_serves(A), old)
        self.sesctl("smtp", "rotate")
        [new] = self.key_ids()
        self.assertEqual(self.assert_serves(A), new)
        self.assertIsNone(self.staged("AWSPENDING"))

    def test_sigkill_rotate_at_record_then_rerun(self):
        # holds: killed while the record (TagUser) is applied: AWSCURRENT
        # still the old key; a plain rerun switches, then retires it.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.kill_at(["smtp", "rotate"], "TagUser", before=True)
        self.assertEqual(self.assert_serves(A), old)
        self.assert_all_held([A])
        self.sesctl("smtp", "rotate")
        self.assertNotIn(old, self.key_ids())
        self.assertEqual(len(self.key_ids()), 1)
        self.assertEqual(self.assert_serves(A), self.key_ids()[0])

    def test_sigkill_rotate_at_switch_then_rerun(self):
        # holds: killed once the switch was applied: the rerun retires the
        # old key and the secret keeps serving the new one.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.kill_at(["smtp", "rotate"], "UpdateSecretVersionStage")
        self.assert_serves(A)
        self.sesctl("smtp", "rotate")
        self.assertNotIn(old, self.key_ids())
        self.assertEqual(len(self.key_ids()), 1)
        self.assertEqual(self.assert_serves(A), self.key_ids()[0])

    def test_sigint_rotate_at_pending_then_advice(self):
        # holds: SIGINT while AWSPENDING is written: the run records and
        # stops with the old key served; its advice finishes the job.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        rc, err = self.kill_at(["smtp", "rotate"], "PutSecretValue",
                               sig=signal.SIGINT)
        self.assertNotEqual(rc, 0)
        self.assertEqual(self.assert_serves(A), old)
        self.assert_all_held([A])
        m = re.search(r"run '(sesctl smtp [^']+)'", err.decode())
        self.sesctl(*(shlex.split(m.group(1))[1:] if m else
                      ["smtp", "rotate"]))
        [new] = self.key_ids()
        self.assertEqual(self.assert_serves(A), new)

    def test_sigkill_enable_after_secret_created_then_rerun(self):
        # holds: enable killed once the secret was created (unrecorded
        # key): the rerun ends with one key, served.
        self.kill_at(["smtp", "enable", "--secrets-manager", A],
                     "CreateSecret")
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [key] = self.key_ids()
        self.assertEqual(self.assert_serves(A), key)
        self.assertEqual(self.tags()["SesctlCurrentKey"], key)

    # ---- disable ---------------------------------------------------------------

    def test_disable_key_deletion_refused_keeps_secret(self):
        # Fixed (was BUG): disable deletes the secrets first (ForceDeleteWithoutRecovery)
        # and the keys after; when DeleteAccessKey is refused the key stays
        # active with the only copy of its secret gone for good.  Deleting
        # keys and policy first, then the secrets, then the user keeps the
        # record (for a rerun) and never leaves a key nobody holds.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [key] = self.key_ids()
        self.iam.deny(self.env["AWS_ACCESS_KEY_ID"],
                      ["iam:DeleteAccessKey"])
        self.fails("smtp", "disable", "--yes")
        self.assertEqual(self.key_ids(), [key])
        self.assert_all_held([A])

    def test_disable_after_secret_deleted_by_hand(self):
        # holds: a secret force-deleted by hand does not stop disable.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        self.aws("secretsmanager", "delete-secret", "--secret-id", A,
                 "--force-delete-without-recovery")
        self.sesctl("smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user(USER))

    def test_disable_after_secret_scheduled_for_deletion(self):
        # Fixed (was BUG): 'aws secretsmanager delete-secret' (a 30-day recovery
        # window by default) leaves the secret scheduled for deletion;
        # lc_stores_open then refuses every disable ("restore it or name
        # another"), although disable would delete it anyway: the user
        # and its keys stay until --keep-stores.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        self.aws("secretsmanager", "delete-secret", "--secret-id", A)
        self.sesctl("smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user(USER))

    def test_disable_leaves_a_secret_now_someone_elses(self):
        # Fixed (was BUG): a recorded secret that was since given to another user
        # (enable --adopt for another --name) makes lc_stores_open refuse
        # disable outright; lc_stores_delete's "is left: sesctl did not
        # make it" path is unreachable.  disable should delete the user
        # and leave that secret alone.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        self.sesctl("smtp", "enable", "--name", "other",
                    "--secrets-manager", A, "--adopt")
        other = self.current_user(A)
        self.sesctl("smtp", "disable", "--yes")
        self.assertIsNone(self.iam.user(USER))
        self.assertEqual(self.current_user(A), other)


    # ---- names, ARNs, lengths ------------------------------------------------

    def test_name_with_special_characters_round_trip(self):
        # holds: '+', '=', '@', '/' and '.' in a name: recorded, rotated
        # by the record, the advice pastes, disable deletes it.
        name = "team+smtp=prod@x/a.b_c-d"
        self.sesctl("smtp", "enable", "--secrets-manager", name)
        [old] = self.key_ids()
        self.assertEqual(self.tags()["SesctlSecretsManager"],
                         "%s %s" % (REGION, name))
        self.sesctl("smtp", "rotate")
        [new] = self.key_ids()
        self.assertNotEqual(new, old)
        self.assertEqual(self.assert_serves(name), new)
        self.sesctl("smtp", "disable", "--yes")
        self.assertIsNone(self.secret(name))

    def test_too_long_for_the_record_refused_before_iam(self):
        # holds: a name (or names) that cannot be recorded in the 256-char
        # tag is refused before anything changes.
        for ids in (["x" * 300], ["a" * 130, "b" * 130]):
            args = ["smtp", "enable"]
            for i in ids:
                args += ["--secrets-manager", i]
            self.fails(*args)
            self.assertIsNone(self.iam.user(USER))
            self.assertEqual(self.iam.secrets(), [])

    def test_arn_adopted_then_rotated_by_record(self):
        # holds: a secret given by its full ARN is recorded as such and
        # rotated by it.
        self.foreign_secret(A, self.APP_VALUE)
        arn = self.secret(A)["arn"]
        self.sesctl("smtp", "enable", "--secrets-manager", arn, "--adopt")
        self.assertEqual(self.tags()["SesctlSecretsManager"],
                         "%s %s" % (REGION, arn))
        self.sesctl("smtp", "rotate")
        [key] = self.key_ids()
        self.assertEqual(self.assert_serves(A), key)

    def test_arn_in_another_region(self):
        # Fixed (was BUG): an ARN names its region, yet the secret is looked for in
        # --store-region or the first --region: DescribeSecret finds
        # nothing, CreateSecret is sent with the ARN as a name (refused),
        # and the run fails after it made the IAM user.  stores_ids should
        # take the region of an ARN (or refuse a mismatch before IAM).
        self.foreign_secret(A, self.APP_VALUE, region=OTHER_REGION)
        arn = self.secret(A, OTHER_REGION)["arn"]
        self.call("smtp", "enable", "--secrets-manager", arn, "--adopt")
        keys = self.key_ids()
        self.assertEqual(len(keys), 1, "enable failed")
        self.assertEqual(self.assert_serves(A, OTHER_REGION), keys[0])

    def test_same_secret_twice(self):
        # Fixed (was BUG): the same secret named twice is written twice.  enable fails
        # (CreateSecret of a secret it just made) after making the user;
        # rotate writes two AWSPENDING versions and the second switch sends
        # a stale RemoveFromVersionId and is refused, and as the record
        # keeps both names, every later plain rotate fails the same way
        # (safe: the old key stays, but the rotation never completes).
        # stores_ids should refuse (or drop) a repeated id, before IAM.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.call("smtp", "rotate", "--secrets-manager", A,
                  "--secrets-manager", A)
        if self.key_ids() == [old]:
            return      # refused before anything changed: fine
        keys = self.key_ids()
        self.assertEqual(len(keys), 1, "the rotation did not complete")
        [key] = keys
        self.assertEqual(self.assert_serves(A), key)

    # ---- plans, verify, --deactivate-old, two runs -------------------------

    CHANGES = ("CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey",
               "TagUser", "CreateSecret", "PutSecretValue",
               "UpdateSecretVersionStage", "TagResource", "DeleteSecret",
               "CreateUser", "PutUserPolicy")

    def planned(self, p):
        return sorted({a for a in self.CHANGES
                       if re.search(r"^%s " % a, p.stdout.decode(), re.M)})

    def done(self):
        return sorted({r["action"] for r in self.iam.requests
                       if r["action"] in self.CHANGES and
                       r["status"] == 200})

    def test_dry_run_plans_what_rotate_does(self):
        # holds: rotate's plan lists the calls the real run makes.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        plan = self.planned(self.sesctl("smtp", "rotate", "--dry-run"))
        self.iam.clear_requests()
        self.sesctl("smtp", "rotate")
        self.assertEqual(plan, self.done())

    def test_dry_run_plans_what_finish_does(self):
        # Fixed (was BUG): after a failed switch, 'rotate --finish --dry-run' plans
        # only DeleteAccessKey, while the real run first switches the
        # secret (UpdateSecretVersionStage); and where the real run would
        # refuse (a secret hands the key out) the plan still shows the
        # deletion.  retire(dry) should plan lc_stores_release_key's step.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        self.iam.add_fault("error", "UpdateSecretVersionStage", status=400,
                           code="AccessDeniedException", message="no")
        self.fails("smtp", "rotate")
        plan = self.planned(self.sesctl("smtp", "rotate", "--finish",
                                        "--dry-run"))
        self.iam.clear_requests()
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual(plan, self.done())

    def test_verify_refused_keeps_old_served_then_finish(self):
        # holds: SES refuses the new key: the secret keeps serving the
        # old one (AWSPENDING the new); --finish switches, then retires.
        from standins.ses_smtp import FakeSESSMTP
        smtp = FakeSESSMTP(self.iam, region=REGION, propagation_delay=600)
        smtp.start()
        self.addCleanup(smtp.stop)
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.fails("smtp", "rotate", "--verify", "--verify-timeout", "2",
                   "--smtp-endpoint-url", smtp.url)
        self.assertEqual(self.assert_serves(A), old)
        self.assert_all_held([A])
        new = self.staged("AWSPENDING")["SMTP_USER"]
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual(self.key_ids(), [new])
        self.assertEqual(self.assert_serves(A), new)

    def test_deactivate_old_then_rotate(self):
        # holds: --deactivate-old leaves the old key inactive in
        # AWSPREVIOUS; the next rotate deletes it and serves the newest.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        [old] = self.key_ids()
        self.sesctl("smtp", "rotate", "--deactivate-old")
        self.assertIn(old, self.key_ids())
        self.assertNotIn(old, self.active_keys())
        self.assertEqual(self.staged("AWSPREVIOUS")["SMTP_USER"], old)
        self.assert_serves(A)
        self.sesctl("smtp", "rotate")
        self.assertNotIn(old, self.key_ids())
        self.assertEqual(len(self.key_ids()), 1)
        self.assertEqual(self.assert_serves(A), self.key_ids()[0])

    def test_two_rotates_at_once(self):
        # holds: two rotates at once (this machine): one waits or is
        # refused; the secret serves a key IAM has, every key is held.
        self.sesctl("smtp", "enable", "--secrets-manager", A)
        self.iam.add_fault("slow", "PutSecretValue", delay=1.5)
        ps = [subprocess.Popen(command(["smtp", "rotate"]),
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=self.env)
              for _ in range(2)]
        for p in ps:
            p.communicate(timeout=120)
        self.assert_serves(A)
        self.assert_all_held([A])
        self.assertEqual(len(self.key_ids()), 1)

    def test_no_secret_on_stdout_or_debug_when_a_write_is_read_back(self):
        # holds: enable --adopt --debug with PutSecretValue's answer lost
        # (read back by GetSecretValue): no password on stdout or stderr.
        self.foreign_secret(A, self.APP_VALUE)
        self.iam.add_fault("close_after", "PutSecretValue")
        p = self.sesctl("smtp", "enable", "--secrets-manager", A,
                        "--adopt", "--debug")
        [key] = self.key_ids()
        self.assertEqual(self.assert_serves(A), key)
        self.assertEqual(p.stdout, b"")
        out = p.stdout + p.stderr
        sk = self.iam.access_key(key)["secret_access_key"]
        for s in (sk, smtp_password(sk, REGION)):
            self.assertNotIn(s.encode(), out)
            self.assertNotIn(json.dumps(s)[1:-1].encode(), out)
        self.assertNotIn(b"SMTP_PASS", out)


    def test_refused_enable_adopt_leaves_the_secret_alone(self):
        # Fixed (was BUG): enable --adopt re-tags the secret (TagResource, in
        # lc_stores_open) before enable knows it can go on; refused later
        # ("already enabled"), it has still taken another sesctl user's
        # secret over, and that user's own rotate is refused from then on.
        # The take-over should happen after the refusals (just before the
        # write), or be put back on failure.
        self.sesctl("smtp", "enable", "--name", "other",
                    "--secrets-manager", A)
        owner = {t["Key"]: t["Value"]
                 for t in self.secret(A)["tags"]}["SesctlUser"]
        self.assertNotEqual(owner, USER)
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--output-file", path)
        self.fails("smtp", "enable", "--secrets-manager", A, "--adopt")
        tags = {t["Key"]: t["Value"] for t in self.secret(A)["tags"]}
        self.assertEqual(tags.get("SesctlUser"), owner,
                         "a refused enable took the secret over")
        self.sesctl("smtp", "rotate", "--name", "other")


if __name__ == "__main__":
    unittest.main(verbosity=2)
