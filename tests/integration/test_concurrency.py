"""Two sesctl runs on one IAM user at once, with a lost answer in between
(close_after: IAM makes the key, the answer never arrives).  Judged from
IAM's state and the app's file, never from sesctl's messages:

  C1  same machine (one SESCTL_STATE_DIR), two rotates, one --output-file:
      the run lock serialises them; the file names the recorded
      SesctlCurrentKey, which exists and is Active with the file's
      password, and it is the only key (with --keep-old: it and the kept
      one, SesctlKeptKey)
  C2  two machines (two state dirs), the same: whatever the exits, the
      key in the app's file is never deleted, and it has the file's
      password; no key is left whose secret nobody holds
  C3  two enables at once, each to its own file: one wins; the other exits
      5 (or 0 having done nothing: no file); no orphan key; the file that
      exists names the one key, recorded as current

Each scenario is repeated a few times (ROUNDS) to shake out races; the
stand-in holds every answer back LATENCY seconds so that the two runs'
requests interleave.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SesctlTestCase, clean_env, command, env_lines,
                         smtp_password)

NAME = "app"
USER = "sesctl-smtp-app"
REGION = "eu-west-1"
OLD_KEY_DATE = "2026-01-01T00:00:00Z"
ROUNDS = 4
LATENCY = 0.03
RUN_TIMEOUT = 90
if os.environ.get("SESCTL_VALGRIND"):
    ROUNDS = 1
    RUN_TIMEOUT = 270


class Concurrency(SesctlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="sesctl-concurrency-")
        cls.iam = FakeIAM(tls=True, seed=501)
        cls.iam.start()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.iam.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fresh_dir(self, what):
        type(self).n += 1
        d = os.path.join(self.tmp, "%s-%d" % (what, self.n))
        os.mkdir(d, 0o700)
        return d

    def env_for(self, state_dir):
        return clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                         SESCTL_STATE_DIR=state_dir,
                         **self.iam.env(region=REGION))

    def both(self, runs):
        """Start every (args, state_dir) at once; their CompletedProcess-like
        (returncode, stderr) in order."""
        procs = [subprocess.Popen(command(args), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  env=self.env_for(sd))
                 for args, sd in runs]
        out = []
        for p in procs:
            try:
                _, err = p.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail("a run did not finish within %d s" % RUN_TIMEOUT)
            out.append((p.returncode, err.decode("utf-8", "replace")))
        return out

    def keys(self):
        u = self.iam.user(USER)
        return {k["access_key_id"]: k for k in u["access_keys"]} if u else {}

    def tags(self):
        u = self.iam.user(USER)
        return {t["Key"]: t["Value"] for t in u["tags"]} if u else {}

    @staticmethod
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def file_key(self, path):
        """(key id, why not valid or None) for the settings in `path`."""
        text = self.read(path)
        if text is None:
            return None, "no file"
        s = env_lines(text.decode("utf-8", "replace"))
        akid = s.get("SMTP_USER")
        k = self.keys().get(akid)
        if k is None:
            return akid, "the file names key %s, which is deleted" % akid
        if k["status"] != "Active":
            return akid, "the file names key %s, which is %s" % (
                akid, k["status"])
        if s.get("SMTP_PASS") != smtp_password(k["secret_access_key"],
                                               REGION):
            return akid, "the file's SMTP_PASS is not key %s's" % akid
        return akid, None

    def describe(self, results):
        return "\n".join("run %d: exit %d: %s" % (
            i + 1, rc, err.strip().replace("\n", " / "))
            for i, (rc, err) in enumerate(results))

    def no_strays(self, d, names):
        left = sorted(set(os.listdir(d)) - set(names))
        self.assertEqual(left, [], "files left in %s" % d)

    # ---- rotate ---------------------------------------------------------

    def enabled(self):
        """A user enabled the way an app has it; returns (state, file)."""
        self.iam.reset()
        self.iam.set_latency(0)
        d = self.fresh_dir("setup")
        sd = self.fresh_dir("setup-state")
        path = os.path.join(d, "smtp.env")
        p = subprocess.run(command(["smtp", "enable", "--name", NAME,
                                    "--output-file", path]),
                           capture_output=True, env=self.env_for(sd),
                           timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        akid = list(self.keys())[0]
        self.iam.set_access_key(akid, create_date=OLD_KEY_DATE)
        return self.iam.dump_state(), self.read(path), akid

    def rotate_pair(self, extra, same_machine):
        state, text, old = self.enabled()
        failures = []
        for rnd in range(ROUNDS):
            self.iam.reset(state=False)
            self.iam.load_state(state)
            self.iam.set_latency(LATENCY)
            self.iam.add_fault("close_after", "CreateAccessKey", nth=1)
            d = self.fresh_dir("rotate")
            path = os.path.join(d, "smtp.env")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                              0o600), "wb") as f:
                f.write(text)
            sd1 = self.fresh_dir("state")
            sd2 = sd1 if same_machine else self.fresh_dir("state")
            args = ["smtp", "rotate", "--name", NAME] + extra + [
                "--output-file", path]
            results = self.both([(args, sd1), (args, sd2)])
            self.iam.set_latency(0)
            self.iam.clear_faults()
            held, why = self.file_key(path)
            keys = self.keys()
            tags = self.tags()
            what = "round %d of %s rotate %s:\n%s\nkeys %s, tags %s" % (
                rnd + 1, "same-machine" if same_machine else "two-machine",
                " ".join(extra), self.describe(results),
                {k: v["status"] for k, v in keys.items()}, tags)
            for rc, err in results:
                if rc < 0 or "Sanitizer" in err or "runtime error:" in err:
                    failures.append("%s\na run crashed" % what)
            if why:
                failures.append("%s\n%s" % (what, why))
                continue
            left = sorted(set(os.listdir(d)) - {"smtp.env"})
            if left:
                failures.append("%s\nfiles left beside it: %s" % (what, left))
            kept = tags.get("SesctlKeptKey")
            allowed = {held} | ({kept} if "--keep-old" in extra else set())
            extra_keys = sorted(set(keys) - allowed)
            if extra_keys:
                failures.append("%s\nkeys whose secret the file does not "
                                "hold: %s" % (what, extra_keys))
            if not same_machine:
                continue
            # One machine: serialised, so both runs end well.
            if tags.get("SesctlCurrentKey") != held:
                failures.append("%s\nthe file holds %s, SesctlCurrentKey is "
                                "%r" % (what, held,
                                        tags.get("SesctlCurrentKey")))
            if held == old:
                failures.append("%s\nthe file still holds the old key" % what)
            want = {held} | ({old} if "--keep-old" in extra else set())
            if set(keys) != want:
                failures.append("%s\nkeys are %s, want %s" % (
                    what, sorted(keys), sorted(want)))
            codes = sorted(rc for rc, _ in results)
            ok = [[0, 0]] if "--keep-old" not in extra else [[0, 5]]
            if codes not in ok:
                failures.append("%s\nexits %s, want %s" % (what, codes, ok))
        return failures

    def test_rotate_same_machine(self):
        failures = self.rotate_pair([], same_machine=True)
        print("concurrency: %d rounds of two rotates on one machine, %d "
              "failed" % (ROUNDS, len(failures)))
        sys.stdout.flush()
        self.assertEqual(failures, [], "\n\n".join(failures))

    def test_rotate_keep_old_same_machine(self):
        failures = self.rotate_pair(["--keep-old"], same_machine=True)
        print("concurrency: %d rounds of two rotate --keep-old on one "
              "machine, %d failed" % (ROUNDS, len(failures)))
        sys.stdout.flush()
        self.assertEqual(failures, [], "\n\n".join(failures))

    def test_rotate_two_machines(self):
        failures = self.rotate_pair([], same_machine=False)
        print("concurrency: %d rounds of two rotates on two machines, %d "
              "failed" % (ROUNDS, len(failures)))
        sys.stdout.flush()
        self.assertEqual(failures, [], "\n\n".join(failures))

    # ---- enable ---------------------------------------------------------

    def enable_pair(self, same_machine, lost):
        failures = []
        for rnd in range(ROUNDS):
            self.iam.reset()
            self.iam.set_latency(LATENCY)
            if lost:
                self.iam.add_fault("close_after", "CreateAccessKey", nth=1)
            d = self.fresh_dir("enable")
            paths = [os.path.join(d, "a.env"), os.path.join(d, "b.env")]
            sd1 = self.fresh_dir("state")
            sd2 = sd1 if same_machine else self.fresh_dir("state")
            results = self.both([
                (["smtp", "enable", "--name", NAME, "--output-file", p], sd)
                for p, sd in zip(paths, (sd1, sd2))])
            self.iam.set_latency(0)
            self.iam.clear_faults()
            keys = self.keys()
            tags = self.tags()
            what = "round %d of two enables (%s%s):\n%s\nkeys %s, tags %s" % (
                rnd + 1, "one machine" if same_machine else "two machines",
                ", CreateAccessKey answer lost" if lost else "",
                self.describe(results),
                {k: v["status"] for k, v in keys.items()}, tags)
            files = [p for p in paths if os.path.exists(p)]
            held = [self.file_key(p) for p in files]
            if len(keys) != 1:
                failures.append("%s\nthe user has %d keys, want 1" % (
                    what, len(keys)))
            for p, (akid, why) in zip(files, held):
                if why:
                    failures.append("%s\n%s: %s" % (what, p, why))
            if len({a for a, _ in held}) > 1 or not held:
                failures.append("%s\nthe files name %s, want one key" % (
                    what, [a for a, _ in held]))
            elif tags.get("SesctlCurrentKey") != held[0][0]:
                failures.append("%s\nSesctlCurrentKey is %r, the file holds "
                                "%s" % (what, tags.get("SesctlCurrentKey"),
                                        held[0][0]))
            codes = sorted(rc for rc, _ in results)
            # One wins (0); the other refuses (5), or finds the work done
            # (0) without writing a second file.
            if codes not in ([0, 5], [0, 0]) or len(files) != 1:
                failures.append("%s\nexits %s and %d files, want [0, 5] (or "
                                "[0, 0]) and one file" % (what, codes,
                                                          len(files)))
            self.no_strays(d, ["a.env", "b.env"])
        return failures

    def test_enable_same_machine(self):
        failures = self.enable_pair(True, lost=True)
        print("concurrency: %d rounds of two enables on one machine, %d "
              "failed" % (ROUNDS, len(failures)))
        sys.stdout.flush()
        self.assertEqual(failures, [], "\n\n".join(failures))

    def test_enable_two_machines(self):
        failures = self.enable_pair(False, lost=False)
        failures += self.enable_pair(False, lost=True)
        print("concurrency: %d rounds of two enables on two machines, %d "
              "failed" % (2 * ROUNDS, len(failures)))
        sys.stdout.flush()
        self.assertEqual(failures, [], "\n\n".join(failures))


if __name__ == "__main__":
    unittest.main()
