"""The delivery record (issue 10): rotate reproduces what enable delivered,
decisions come from the record and never from creation dates, the grace
rule for unrecorded keys, --finish that will not delete a key still in use,
advice that works when pasted, and a 5xx after an applied CreateAccessKey.

Each test runs the real binary against the IAM stand-in and then looks at
IAM's state and the files, not only at sesctl's messages."""
import json
import os
import shlex
import shutil
import signal
import time
import stat
import subprocess
import tempfile
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SesctlTestCase, clean_env, command, env_lines,
                         smtp_password)

USER = "sesctl-smtp"
OLD_DATE = "2026-01-01T00:00:00Z"


class Record(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        os.chmod(self.tmp, 0o700)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        state = self.state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, state, True)
        self.env = clean_env(HOME=self.tmp, SESCTL_STATE_DIR=state,
                             SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region="eu-west-1"))

    def run_sesctl(self, args, env=None):
        return subprocess.run(command(args), capture_output=True,
                              stdin=subprocess.DEVNULL, env=env or self.env,
                              timeout=120)

    def sesctl(self, *args, code=0, env=None):
        p = self.run_sesctl(args, env)
        self.err = p.stderr.decode()
        self.assertEqual(p.returncode, code,
                         "sesctl %s: exit %d, want %d\nstderr: %s" % (
                             " ".join(args), p.returncode, code, self.err))
        return p.stdout.decode()

    def paste(self, advice):
        """Run a command sesctl advised, exactly as printed."""
        argv = shlex.split(advice)
        self.assertEqual(argv[:2], ["sesctl", "smtp"], advice)
        return self.run_sesctl(argv[1:])

    def advice(self, text, start="sesctl smtp "):
        """The first quoted command in `text`."""
        i = text.index("'" + start)
        return text[i + 1:text.index("'", i + 1)]

    def tags(self, name=USER):
        return {t["Key"]: t["Value"] for t in self.iam.user(name)["tags"]}

    def key_ids(self, name=USER):
        u = self.iam.user(name)
        return sorted(k["access_key_id"] for k in u["access_keys"]) if u else []

    def secret(self, akid):
        return self.iam.access_key(akid)["secret_access_key"]

    # ---- rotate reproduces the delivery ---------------------------------

    def test_rotate_keeps_format_regions_and_mode(self):
        path = os.path.join(self.tmp, "app.json")
        self.sesctl("smtp", "enable", "--region", "eu-west-1", "--region",
                    "us-east-1", "--format", "json", "--output-file", path)
        old = self.key_ids()
        self.assertEqual(self.tags()["SesctlRegions"], "eu-west-1 us-east-1")
        self.assertEqual(self.tags()["SesctlFormat"], "json")
        # the app reads it through its group
        gid = 4242
        os.chown(path, 0, gid)
        os.chmod(path, 0o640)
        with open(path, "rb") as f:
            before = json.loads(f.read())
        # no --region, and AWS_REGION says something else
        env = dict(self.env, AWS_REGION="ap-south-1")
        self.sesctl("smtp", "rotate", "--output-file", path, env=env)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(st.st_gid, gid)
        with open(path, "rb") as f:
            after = json.loads(f.read())
        # the same JSON shape: the same fields, every region
        self.assertEqual(sorted(after), sorted(before))
        self.assertEqual([sorted(x) for x in after["regions"]],
                         [sorted(x) for x in before["regions"]])
        new = self.key_ids()
        self.assertEqual(len(new), 1)
        self.assertNotEqual(new, old)
        self.assertEqual(self.tags()["SesctlCurrentKey"], new[0])
        text = json.dumps(after)
        for region in ("eu-west-1", "us-east-1"):
            self.assertIn("email-smtp.%s.amazonaws.com" % region, text)
            self.assertIn(smtp_password(self.secret(new[0]), region), text)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["app.json"])

    def test_finish_keeps_the_recorded_regions_and_format(self):
        self.sesctl("smtp", "enable", "--region", "eu-west-1", "--region",
                    "us-east-1", "--format", "json")
        self.sesctl("smtp", "rotate", "--keep-old")
        env = dict(self.env, AWS_REGION="ap-south-1")
        self.sesctl("smtp", "rotate", "--finish", env=env)
        self.assertEqual(self.tags()["SesctlRegions"], "eu-west-1 us-east-1")
        self.assertEqual(self.tags()["SesctlFormat"], "json")
        self.assertEqual(len(self.key_ids()), 1)

    def test_region_outside_the_record_is_refused(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--region", "us-east-1",
                    "--output-file", path)
        keys = self.key_ids()
        with open(path, "rb") as f:
            text = f.read()
        self.sesctl("smtp", "rotate", "--region", "ap-south-1",
                    "--output-file", path, code=2)
        self.assertIn("region 'ap-south-1' was not delivered", self.err)
        self.assertEqual(self.key_ids(), keys)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), text)

    def test_region_outside_the_policy_is_refused(self):
        """A user (from before the record) whose policy allows us-east-1
        only: settings for ap-south-1 would only be refused by SES."""
        doc = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "ses:SendRawEmail",
            "Resource": "arn:aws:ses:us-east-1:123456789012:identity/"
                        "example.com"}]})
        self.iam.seed_user(USER, path="/sesctl/", tags=[
            {"Key": "ManagedBy", "Value": "sesctl"},
            {"Key": "SesctlName", "Value": "default"}], access_keys=1,
            inline_policies={"sesctl-ses-send": doc})
        keys = self.key_ids()
        self.sesctl("smtp", "rotate", "--region", "ap-south-1", code=2)
        self.assertIn("does not let SES send in 'ap-south-1'", self.err)
        self.assertEqual(self.key_ids(), keys)
        out = self.sesctl("smtp", "rotate", "--region", "us-east-1")
        self.assertEqual(self.key_ids(), [env_lines(out)["SMTP_USER"]])
        self.assertEqual(self.tags()["SesctlRegions"], "us-east-1")

    def test_rotate_without_region_uses_the_record(self):
        """The README's example, with no AWS_REGION anywhere."""
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--name", "blog", "--region",
                    "eu-west-1", "--output-file", path)
        env = {k: v for k, v in self.env.items()
               if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
        self.sesctl("smtp", "rotate", "--name", "blog", "--output-file",
                    path, env=env)
        with open(path) as f:
            s = env_lines(f.read())
        self.assertEqual(s["SMTP_HOST"], "email-smtp.eu-west-1.amazonaws.com")
        self.assertEqual(self.key_ids("sesctl-smtp-blog"), [s["SMTP_USER"]])

    # ---- hints that work when pasted --------------------------------------

    def test_keep_old_advice_carries_the_name_and_works(self):
        self.sesctl("smtp", "enable", "--name", "app")
        self.sesctl("smtp", "rotate", "--name", "app", "--keep-old")
        self.assertEqual(len(self.key_ids("sesctl-smtp-app")), 2)
        advice = self.advice(self.err)
        self.assertEqual(advice, "sesctl smtp rotate --finish --name app")
        # the default user does not exist: the advice must not act on it
        p = self.paste(advice)
        self.assertEqual(p.returncode, 0, p.stderr)
        keys = self.key_ids("sesctl-smtp-app")
        self.assertEqual(keys, [self.tags("sesctl-smtp-app")["SesctlCurrentKey"]])

    def test_status_warnings_carry_the_name(self):
        self.sesctl("smtp", "enable", "--name", "app")
        self.sesctl("smtp", "rotate", "--name", "app", "--keep-old")
        out = self.sesctl("smtp", "status", "--name", "app")
        self.assertIn("'sesctl smtp rotate --finish --name app'", out)
        # the 90-day warning, and the two-active-keys refusal
        cur = self.tags("sesctl-smtp-app")["SesctlCurrentKey"]
        self.iam.set_access_key(cur, create_date=OLD_DATE)
        out = self.sesctl("smtp", "status", "--name", "app")
        self.assertIn("rotate it with 'sesctl smtp rotate --name app'", out)
        self.sesctl("smtp", "rotate", "--name", "app", code=5)
        self.assertIn("'sesctl smtp rotate --finish --name app'", self.err)

    # ---- --finish --------------------------------------------------------

    def test_finish_refuses_a_kept_key_still_in_use(self):
        self.sesctl("smtp", "enable")
        self.sesctl("smtp", "rotate", "--keep-old")
        cur = self.tags()["SesctlCurrentKey"]
        kept = self.tags()["SesctlKeptKey"]
        self.iam.set_access_key(cur, create_date="2026-11-01T00:00:00Z")
        self.iam.set_access_key(kept, last_used={
            "date": "2026-11-02T00:00:00Z", "service": "ses",
            "region": "eu-west-1"})
        self.sesctl("smtp", "rotate", "--finish", code=5)
        self.assertIn("was used at", self.err)
        self.assertIn("lags", self.err)
        self.assertEqual(self.key_ids(), sorted([cur, kept]))
        # once the new key is seen in use, --finish goes ahead
        self.iam.set_access_key(cur, last_used={
            "date": "2026-11-03T00:00:00Z", "service": "ses",
            "region": "eu-west-1"})
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual(self.key_ids(), [cur])

    def test_finish_force_deletes_it_anyway(self):
        self.sesctl("smtp", "enable")
        self.sesctl("smtp", "rotate", "--keep-old")
        cur, kept = self.tags()["SesctlCurrentKey"], self.tags()["SesctlKeptKey"]
        self.iam.set_access_key(cur, create_date="2026-11-01T00:00:00Z")
        self.iam.set_access_key(kept, last_used={
            "date": "2026-11-02T00:00:00Z", "service": "ses",
            "region": "eu-west-1"})
        self.sesctl("smtp", "rotate", "--finish", "--force")
        self.assertEqual(self.key_ids(), [cur])

    def test_finish_keeps_the_recorded_key_not_the_newest(self):
        """The record decides, not CreateDate."""
        self.sesctl("smtp", "enable")
        self.sesctl("smtp", "rotate", "--keep-old")
        cur, kept = self.tags()["SesctlCurrentKey"], self.tags()["SesctlKeptKey"]
        # make the kept key look newer than the current one
        self.iam.set_access_key(cur, create_date="2026-01-01T00:00:00Z")
        self.iam.set_access_key(kept, create_date="2026-06-01T00:00:00Z")
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual(self.key_ids(), [cur])

    def test_force_never_deletes_the_current_key(self):
        self.sesctl("smtp", "enable")
        self.sesctl("smtp", "rotate", "--keep-old")
        cur = self.tags()["SesctlCurrentKey"]
        self.iam.set_access_key(cur, create_date="2026-01-01T00:00:00Z")
        out = self.sesctl("smtp", "rotate", "--force")
        new = env_lines(out)["SMTP_USER"]
        # the kept key made room; then the current one was retired only
        # after the new settings were out
        self.assertEqual(self.key_ids(), [new])

    # ---- the grace rule ----------------------------------------------------

    def test_lost_key_older_than_grace_is_deleted(self):
        self.sesctl("smtp", "enable")
        cur = self.tags()["SesctlCurrentKey"]
        # a key nobody recorded, made long ago (its answer was lost)
        u = self.iam.dump_state()
        for user in u["users"]:
            if user["name"] == USER:
                user["access_keys"].append({
                    "access_key_id": "AKIALOSTKEY000000001",
                    "secret_access_key": "x" * 40, "status": "Active",
                    "create_date": OLD_DATE})
        self.iam.load_state(u)
        out = self.sesctl("smtp", "rotate")
        new = env_lines(out)["SMTP_USER"]
        self.assertIn("AKIALOSTKEY000000001", self.err)
        self.assertEqual(self.key_ids(), [new])
        self.assertNotIn(cur, self.key_ids())

    def test_unrecorded_key_without_any_recorded_key_is_kept(self):
        """The recorded key was deleted by hand and a key made by hand
        took its place: it may be the app's, so nothing deletes it on the
        strength of a missing record."""
        self.sesctl("smtp", "enable")
        cur = self.tags()["SesctlCurrentKey"]
        st = self.iam.dump_state()
        for user in st["users"]:
            if user["name"] == USER:
                user["access_keys"] = [{
                    "access_key_id": "AKIABYHAND0000000001",
                    "secret_access_key": "z" * 40, "status": "Active",
                    "create_date": OLD_DATE}]
        self.iam.load_state(st)
        self.assertNotIn(cur, self.key_ids())
        out = self.sesctl("smtp", "status")
        self.assertIn("no recorded key exists", out)
        self.sesctl("smtp", "enable", code=5)  # already enabled
        self.sesctl("smtp", "rotate", "--keep-old")
        self.assertIn("AKIABYHAND0000000001", self.key_ids())
        self.assertEqual(self.tags()["SesctlKeptKey"], "AKIABYHAND0000000001")
        self.assertEqual(len(self.key_ids()), 2)

    def test_young_unrecorded_key_is_left_alone(self):
        self.sesctl("smtp", "enable")
        cur = self.tags()["SesctlCurrentKey"]
        st = self.iam.dump_state()
        for user in st["users"]:
            if user["name"] == USER:
                user["access_keys"].append({
                    "access_key_id": "AKIAINFLIGHTKEY00001",
                    "secret_access_key": "y" * 40, "status": "Active",
                    "create_date": self.iam.now().strftime(
                        "%Y-%m-%dT%H:%M:%SZ")})
        self.iam.load_state(st)
        before = self.key_ids()
        self.sesctl("smtp", "rotate", code=5)
        self.assertIn("another sesctl run may be delivering", self.err)
        self.assertEqual(self.key_ids(), before)
        self.assertIn(cur, before)
        out = self.sesctl("smtp", "status")
        self.assertIn("AKIAINFLIGHTKEY00001 has no delivery record", out)

    def test_legacy_user_without_record(self):
        """Users made by sesctl before the record keep working."""
        self.iam.seed_user(USER, path="/sesctl/", tags=[
            {"Key": "ManagedBy", "Value": "sesctl"},
            {"Key": "SesctlName", "Value": "default"}], access_keys=1,
            inline_policies={"sesctl-ses-send": json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "ses:SendRawEmail",
                    "Resource": "*"}]})})
        old = self.key_ids()
        self.iam.set_access_key(old[0], create_date=OLD_DATE)
        out = self.sesctl("smtp", "rotate")
        new = env_lines(out)["SMTP_USER"]
        self.assertEqual(self.key_ids(), [new])
        self.assertEqual(self.tags()["SesctlCurrentKey"], new)
        self.assertEqual(self.tags()["SesctlRegions"], "eu-west-1")

    def test_legacy_two_keys_without_record_are_never_guessed(self):
        self.iam.seed_user(USER, path="/sesctl/", tags=[
            {"Key": "ManagedBy", "Value": "sesctl"},
            {"Key": "SesctlName", "Value": "default"}], access_keys=2)
        keys = self.key_ids()
        self.sesctl("smtp", "rotate", "--force", code=5)
        self.assertIn("no delivery record says which", self.err)
        self.sesctl("smtp", "rotate", "--finish", code=5)
        self.assertEqual(self.key_ids(), keys)

    # ---- a 5xx after IAM applied CreateAccessKey ---------------------------

    def test_enable_after_applied_5xx_leaves_one_key(self):
        for kind in ("internal_failure", "service_unavailable"):
            self.iam.reset()
            path = os.path.join(self.tmp, "smtp-%s.env" % kind)
            self.iam.add_fault(kind, "CreateAccessKey", apply=True)
            self.sesctl("smtp", "enable", "--output-file", path)
            with open(path) as f:
                s = env_lines(f.read())
            self.assertEqual(self.key_ids(), [s["SMTP_USER"]], kind)
            self.assertEqual(self.tags()["SesctlCurrentKey"], s["SMTP_USER"])
            self.assertEqual(s["SMTP_PASS"], smtp_password(
                self.secret(s["SMTP_USER"]), "eu-west-1"))

    def test_rotate_after_applied_5xx_keeps_the_app_working(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--output-file", path)
        self.iam.add_fault("internal_failure", "CreateAccessKey", apply=True)
        self.sesctl("smtp", "rotate", "--output-file", path)
        with open(path) as f:
            s = env_lines(f.read())
        self.assertEqual(self.key_ids(), [s["SMTP_USER"]])
        self.assertEqual(self.tags()["SesctlCurrentKey"], s["SMTP_USER"])

    # ---- a signal inside the write ------------------------------------------

    def start_paused(self, args, appears):
        """Start sesctl with a pause inside the settings write; return the
        process once `appears()` says the write has begun."""
        env = dict(self.env, SESCTL_TEST_WRITE_PAUSE_MS="4000")
        p = subprocess.Popen(command(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        deadline = time.monotonic() + 60
        while not appears():
            self.assertIsNone(p.poll(), "sesctl ended before the write")
            self.assertLess(time.monotonic(), deadline, "no write began")
            time.sleep(0.02)
        return p

    def temps(self):
        return [n for n in os.listdir(self.tmp) if ".sesctl-" in n]

    def file_key(self, path):
        with open(path) as f:
            return env_lines(f.read()).get("SMTP_USER")

    def test_sigkill_inside_rotate_write_then_rerun(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--output-file", path)
        old = self.file_key(path)
        p = self.start_paused(["smtp", "rotate", "--output-file", path],
                              lambda: self.temps())
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        # the app still has its working key, and a key nobody holds is
        # there (the dead run's)
        self.assertEqual(self.file_key(path), old)
        self.assertIn(old, self.key_ids())
        self.assertEqual(len(self.key_ids()), 2)
        # a plain rerun cleans up and rotates
        self.sesctl("smtp", "rotate", "--output-file", path)
        new = self.file_key(path)
        self.assertNotEqual(new, old)
        self.assertEqual(self.key_ids(), [new])
        self.assertEqual(self.tags()["SesctlCurrentKey"], new)
        self.assertEqual(self.temps(), [])
        with open(path) as f:
            self.assertEqual(env_lines(f.read())["SMTP_PASS"],
                             smtp_password(self.secret(new), "eu-west-1"))

    def test_sigint_inside_rotate_write_finishes_the_write(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--output-file", path)
        old = self.file_key(path)
        p = self.start_paused(["smtp", "rotate", "--output-file", path],
                              lambda: self.temps())
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        new = self.file_key(path)
        self.assertNotEqual(new, old)
        # written and recorded; the old key kept, not lost
        self.assertEqual(self.tags()["SesctlCurrentKey"], new)
        self.assertEqual(self.tags()["SesctlKeptKey"], old)
        self.assertEqual(self.key_ids(), sorted([old, new]))
        # the advice is the same command again, which retires the old key
        advice = self.advice(err.decode())
        self.assertEqual(advice, "sesctl smtp rotate --output-file %s" % path)
        q = self.paste(advice)
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertEqual(self.key_ids(), [new])
        self.assertEqual(self.file_key(path), new)

    def test_sigkill_inside_enable_write_then_rerun(self):
        path = os.path.join(self.tmp, "smtp.env")
        p = self.start_paused(["smtp", "enable", "--output-file", path],
                              lambda: os.path.exists(path))
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        self.assertNotIn("SesctlCurrentKey", self.tags())
        self.sesctl("smtp", "enable", "--output-file", path)
        key = self.file_key(path)
        self.assertEqual(self.key_ids(), [key])
        self.assertEqual(self.tags()["SesctlCurrentKey"], key)

    # ---- the journal and the file belong to this user ---------------------

    def lock_file(self):
        names = [n for n in os.listdir(self.state) if n.startswith("lock.")]
        self.assertEqual(len(names), 1, names)
        return os.path.join(self.state, names[0])

    def plant_journal(self, user_id, output=None, before=()):
        """What a rotate killed an instant ago would have left."""
        text = ("sesctl-journal 1\ncommand rotate\nmode delete\n"
                "started %d\n" % (int(time.time()) - 5))
        text += "".join("before %s\n" % b for b in before)
        if user_id:
            text += "user-id %s\n" % user_id
        if output:
            text += "output %s\n" % output
        with open(self.lock_file(), "w") as f:
            f.write(text)

    def legacy_user_with_file(self, path):
        """A user enabled by the sesctl before the record: one key, made a
        moment ago, in the app's file."""
        u = self.iam.seed_user(USER, path="/sesctl/",
                               tags={"ManagedBy": "sesctl"}, access_keys=1)
        akid = u["access_keys"][0]["access_key_id"]
        with open(path, "w") as f:
            f.write("SMTP_HOST=email-smtp.eu-west-1.amazonaws.com\n"
                    "SMTP_PORT=587\nSMTP_USER=%s\nSMTP_PASS=%s\n" % (
                        akid, smtp_password(self.secret(akid), "eu-west-1")))
        os.chmod(path, 0o600)
        return akid

    def test_journal_of_another_user_of_that_name_is_ignored(self):
        # The lock is keyed by endpoint and user name: another account's
        # "sesctl-smtp" (another --profile) shares it.  Its dead run's
        # journal must not make this user's legacy key look like its own.
        app = os.path.join(self.tmp, "app.env")
        akid = self.legacy_user_with_file(app)
        # a locked run makes the lock file
        self.sesctl("smtp", "rotate", "--finish")
        for uid in ("AIDAOTHERACCOUNTUSER1", None):
            self.plant_journal(uid, output=os.path.join(self.tmp, "x.env"))
            self.sesctl("smtp", "rotate", "--keep-old", "--output-file", app)
            self.assertIn(akid, self.key_ids(), "the app's key was deleted")
            self.assertEqual(self.tags()["SesctlKeptKey"], akid)
            self.sesctl("smtp", "rotate", "--finish", "--force")
            akid = self.file_key(app)

    def test_journal_of_this_user_still_counts(self):
        # the other side: this user's own dead run is still cleaned up
        app = os.path.join(self.tmp, "app.env")
        self.sesctl("smtp", "enable", "--output-file", app)
        old = self.file_key(app)
        self.iam.seed_user(USER, access_keys=1)  # the dead run's key
        orphan = [k for k in self.key_ids() if k != old][0]
        self.plant_journal(self.iam.user(USER)["user_id"], before=[old])
        self.sesctl("smtp", "rotate", "--output-file", app)
        self.assertNotIn(orphan, self.key_ids())
        self.assertEqual(self.key_ids(), [self.file_key(app)])

    def test_relative_output_file_then_rerun_from_elsewhere(self):
        work = os.path.join(self.tmp, "work")
        os.mkdir(work, 0o700)
        path = os.path.join(work, "smtp.env")
        env = dict(self.env, SESCTL_TEST_WRITE_PAUSE_MS="4000")
        p = subprocess.Popen(command(["smtp", "enable", "--output-file",
                                      "smtp.env"]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=work)
        deadline = time.monotonic() + 60
        # the file exists from its O_EXCL create on, a moment before its
        # content is written; the pause (and the kill) come after the write
        while not (os.path.exists(path) and self.file_key(path)):
            self.assertIsNone(p.poll(), "sesctl ended before the write")
            self.assertLess(time.monotonic(), deadline, "no write began")
            time.sleep(0.02)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        # the rerun, from another directory, names the same file
        held = self.file_key(path)
        p = subprocess.run(command(["smtp", "enable", "--output-file",
                                    "work/smtp.env"]),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           env=self.env, cwd=self.tmp, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.key_ids(), [held])
        self.assertEqual(self.tags()["SesctlCurrentKey"], held)
        with open(path) as f:
            self.assertEqual(env_lines(f.read())["SMTP_PASS"],
                             smtp_password(self.secret(held), "eu-west-1"))

    def test_key_in_the_file_survives_a_record_naming_a_deleted_key(self):
        # The record names a current key deleted by hand, and a kept one;
        # the app's file holds a third key nobody recorded, made long ago.
        app = os.path.join(self.tmp, "app.env")
        self.sesctl("smtp", "enable")
        self.sesctl("smtp", "rotate", "--keep-old")
        kept, current = self.tags()["SesctlKeptKey"], \
            self.tags()["SesctlCurrentKey"]
        self.iam.set_access_key(kept, status="Inactive")
        st = self.iam.dump_state()
        for u in st["users"]:
            if u["name"] == USER:
                u["access_keys"] = [k for k in u["access_keys"]
                                    if k["access_key_id"] != current]
        self.iam.load_state(st)
        u = self.iam.seed_user(USER, access_keys=[{"create_date": OLD_DATE}])
        held = [k["access_key_id"] for k in u["access_keys"]
                if k["access_key_id"] != kept][0]
        with open(app, "w") as f:
            f.write("SMTP_HOST=email-smtp.eu-west-1.amazonaws.com\n"
                    "SMTP_PORT=587\nSMTP_USER=%s\nSMTP_PASS=%s\n" % (
                        held, smtp_password(self.secret(held), "eu-west-1")))
        self.sesctl("smtp", "rotate", "--keep-old", "--output-file", app)
        new = self.file_key(app)
        self.assertIn(held, self.key_ids(), "the app's key was deleted")
        self.assertEqual(sorted(self.key_ids()), sorted([held, new]))
        self.assertEqual(self.tags()["SesctlCurrentKey"], new)
        self.assertEqual(self.tags()["SesctlKeptKey"], held)

    def test_file_of_another_user_is_refused(self):
        a = os.path.join(self.tmp, "a.env")
        self.sesctl("smtp", "enable", "--name", "a", "--output-file", a)
        self.sesctl("smtp", "enable", "--name", "b")
        with open(a, "rb") as f:
            before = f.read()
        keys_a = self.key_ids("sesctl-smtp-a")
        keys_b = self.key_ids("sesctl-smtp-b")
        n = len(self.iam.requests)
        self.sesctl("smtp", "rotate", "--name", "b", "--output-file", a,
                    code=5)
        self.assertIn("not a key of IAM user 'sesctl-smtp-b'", self.err)
        with open(a, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.key_ids("sesctl-smtp-a"), keys_a)
        self.assertEqual(self.key_ids("sesctl-smtp-b"), keys_b)
        self.assertFalse([r for r in self.iam.requests[n:]
                          if not r["action"].startswith(("Get", "List"))])

    def test_names_with_a_comma(self):
        # --name is the SesctlName tag's value, where IAM allows no ','
        self.sesctl("smtp", "enable", "--name", "a,b", code=2)
        self.assertIn("invalid --name 'a,b'", self.err)
        self.assertIsNone(self.iam.user("sesctl-smtp-a,b"))
        # a --user-name may hold one: the user goes without SesctlName
        self.sesctl("smtp", "enable", "--user-name", "mail,app")
        tags = self.tags("mail,app")
        self.assertEqual(tags["ManagedBy"], "sesctl")
        self.assertNotIn("SesctlName", tags)
        self.sesctl("smtp", "rotate", "--user-name", "mail,app")
        self.assertEqual(len(self.key_ids("mail,app")), 1)
        self.sesctl("smtp", "status", "--user-name", "mail,app")
        self.sesctl("smtp", "disable", "--user-name", "mail,app", "--yes")
        self.assertIsNone(self.iam.user("mail,app"))

    # ---- stdout ------------------------------------------------------------

    def test_closed_stdout_changes_nothing_in_iam(self):
        self.sesctl("smtp", "enable")
        keys = self.key_ids()
        n = len(self.iam.requests)
        p = subprocess.run(command(["smtp", "rotate"]), stdin=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=self.env, timeout=60,
                           preexec_fn=lambda: os.close(1))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"standard output is closed", p.stderr)
        self.assertEqual(self.key_ids(), keys)
        self.assertFalse([r for r in self.iam.requests[n:]
                          if not r["action"].startswith(("Get", "List"))])

    def test_closed_stdout_enable_makes_nothing(self):
        p = subprocess.run(command(["smtp", "enable"]), stdin=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=self.env, timeout=60,
                           preexec_fn=lambda: os.close(1))
        self.assertNotEqual(p.returncode, 0)
        self.assertIsNone(self.iam.user(USER))
        self.assertEqual(self.iam.requests, [])


if __name__ == "__main__":
    unittest.main()
