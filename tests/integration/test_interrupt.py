"""The signal matrix: SIGINT, SIGTERM and SIGKILL at every IAM call of
`smtp enable`, `rotate` (default, --keep-old, --deactivate-old) and
`disable --yes`, each followed by a plain rerun of the same command and,
separately from the same state, by the advice sesctl printed ("run
'sesctl smtp ...'") executed literally.

The fault-free run of each command gives its n IAM requests; for every k
the k-th request is made slow (the stand-in applies it, then answers after
DELAY seconds), sesctl is started, and as soon as the stand-in has the
request the signal is sent.  Every run has its own SESCTL_STATE_DIR, so
the run lock and its journal are real, and the rerun sees what the dead
run left.  The settings go to --output-file in a fresh 0700 directory.

After the first run:
  S1  no hang; SIGINT and SIGTERM end in 130 and 143 once a key may exist
      (the critical section), or in death by the signal before it; SIGKILL
      kills
After the rerun (and after the executed advice), judged from IAM's state
and the file, never from sesctl's messages:
  S2  the app's delivered key is never gone: the output file names a key
      that exists and is Active, and its SMTP_PASS is that key's v4
      password (Python hmac, independent of sesctl)
  S3  no key whose secret nobody holds: every key is the file's, or the
      old key kept on purpose (--keep-old, --deactivate-old)
  S4  the command's end state is reached (and recorded: SesctlCurrentKey
      names the file's key); the rerun exits 0, or 5 when the first run
      had already reached it
  S5  nothing beside the output file (no .smtp.env.sesctl-XXXXXX)
"""
import concurrent.futures
import os
import re
import shlex
import shutil
import signal
import stat
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
DELAY = 0.8            # seconds the k-th answer is held back
RUN_TIMEOUT = 60       # a hang is what this catches, not slowness
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
VALGRIND = bool(os.environ.get("SESCTL_VALGRIND"))
if VALGRIND:
    # Under valgrind a run takes seconds: only the calls that change IAM,
    # and one catchable signal besides SIGKILL.
    SIGNALS = [signal.SIGTERM, signal.SIGKILL]
    DELAY = 3
    RUN_TIMEOUT = 180
READS = ("Get", "List")
ADVICE = re.compile(r"run '(sesctl smtp [^']*)'")


class CaseFailed(Exception):
    pass


class Command:
    def __init__(self, name, args):
        self.name = name
        self.args = list(args)
        self.iam = None
        self.state = None
        self.file_text = None
        self.old_key = None
        self.calls = []

    @property
    def kind(self):
        return self.args[1]

    @property
    def mode(self):
        for m in ("--keep-old", "--deactivate-old"):
            if m in self.args:
                return m
        return None


def sig_name(sig):
    return signal.Signals(sig).name


class SignalMatrix(SesctlTestCase):
    user = USER  # whose keys and tags are judged

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="sesctl-signal-matrix-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- running ----------------------------------------------------------

    def env_for(self, iam, state_dir):
        return clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                         SESCTL_STATE_DIR=state_dir,
                         **iam.env(region=REGION))

    def args_with_file(self, args, path):
        if args[1] in ("enable", "rotate") and "--finish" not in args:
            return list(args) + ["--output-file", path]
        return list(args)

    def sesctl(self, iam, argv, state_dir, label):
        try:
            return subprocess.run(argv, capture_output=True,
                                  stdin=subprocess.DEVNULL,
                                  env=self.env_for(iam, state_dir),
                                  timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CaseFailed("%s did not finish within %d s" % (
                label, RUN_TIMEOUT))

    # ---- state ------------------------------------------------------------

    def keys(self, iam):
        u = iam.user(self.user)
        return {k["access_key_id"]: k for k in u["access_keys"]} if u else {}

    def tags(self, iam):
        u = iam.user(self.user)
        return {t["Key"]: t["Value"] for t in u["tags"]} if u else {}

    @staticmethod
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def snapshot_dir(self, d):
        out = {}
        for n in os.listdir(d):
            out[n] = self.read(os.path.join(d, n))
        return out

    def restore_dir(self, d, snap):
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
        for n, data in snap.items():
            fd = os.open(os.path.join(d, n), os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

    def held_key(self, iam, path):
        """S2: the key the file names, valid and Active; else CaseFailed."""
        text = self.read(path)
        if text is None:
            raise CaseFailed("S2: there is no output file")
        s = env_lines(text.decode("utf-8", "replace"))
        akid = s.get("SMTP_USER")
        key = self.keys(iam).get(akid)
        if key is None:
            raise CaseFailed("S2: the file names key %r, which does not "
                             "exist (keys: %s)" % (akid,
                                                   sorted(self.keys(iam))))
        if key["status"] != "Active":
            raise CaseFailed("S2: the file names key %s, which is %s" % (
                akid, key["status"]))
        if s.get("SMTP_PASS") != smtp_password(key["secret_access_key"],
                                               REGION):
            raise CaseFailed("S2: the file's SMTP_PASS is not key %s's "
                             "password" % akid)
        return akid

    def check_after(self, cmd, path, what, finish=False):
        """S2, S3, S5 and S4; `what` names the run for messages.  `finish`:
        the run was 'rotate --finish', whose end is one key."""
        iam = cmd.iam
        left = sorted(os.listdir(os.path.dirname(path)))
        if left not in ([], [os.path.basename(path)]):
            raise CaseFailed("S5 after %s: files beside the output file: %s"
                             % (what, left))
        if cmd.kind == "disable":
            if iam.user(USER) is not None:
                raise CaseFailed("S4 after %s: the user still exists, "
                                 "keys %s" % (what, sorted(self.keys(iam))))
            return
        held = self.held_key(iam, path)
        keys = self.keys(iam)
        allowed = {held}
        if cmd.mode and not finish:
            # The key kept on purpose is the one the record keeps: the
            # original one, or, when a rerun rotated once more after a
            # first run that had finished, the first run's key.
            allowed.add(self.tags(iam).get("SesctlKeptKey"))
        extra = sorted(set(keys) - allowed)
        if extra:
            raise CaseFailed("S3 after %s: key(s) %s, whose secret the file "
                             "does not hold (file: %s)" % (what, extra, held))
        why = self.end_state(cmd, held, finish)
        if why:
            raise CaseFailed("S4 after %s: %s" % (what, why))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode != 0o600:
            raise CaseFailed("S5 after %s: the file has mode %o" % (what, mode))

    def end_state(self, cmd, held, finish=False):
        """None when `cmd` is done (held: the file's key), else why not."""
        iam = cmd.iam
        if cmd.kind == "disable":
            return None if iam.user(USER) is None else "the user exists"
        u = iam.user(USER)
        if u is None:
            return "the user does not exist"
        keys = self.keys(iam)
        tags = self.tags(iam)
        if held is None:
            return "the file holds no valid key"
        if tags.get("SesctlCurrentKey") != held:
            return "SesctlCurrentKey is %r, the file holds %s" % (
                tags.get("SesctlCurrentKey"), held)
        if cmd.kind == "enable" or finish:
            if list(keys) != [held]:
                return "keys are %s, want only %s" % (sorted(keys), held)
            return None
        if held == cmd.old_key:
            return "the file still holds the old key %s" % held
        if cmd.mode == "--keep-old":
            want = {held: "Active", cmd.old_key: "Active"}
            got = {k: v["status"] for k, v in keys.items()}
            if got != want:
                return "keys are %s, want %s" % (got, want)
            if tags.get("SesctlKeptKey") != cmd.old_key:
                return "SesctlKeptKey is %r, want the old key %s" % (
                    tags.get("SesctlKeptKey"), cmd.old_key)
            return None
        if cmd.mode == "--deactivate-old":
            for k, v in keys.items():
                if k != held and v["status"] != "Inactive":
                    return "the old key %s is still %s" % (k, v["status"])
            return None
        if list(keys) != [held]:
            return "keys are %s, want only %s" % (sorted(keys), held)
        return None

    def done_now(self, cmd, path):
        """Whether the end state holds right now (before a rerun)."""
        try:
            self.check_after(cmd, path, "the first run")
            return True
        except CaseFailed:
            return False

    # ---- one case ---------------------------------------------------------

    def prepare(self, cmd, case_dir):
        cmd.iam.reset(state=False)
        cmd.iam.load_state(cmd.state)
        os.mkdir(case_dir, 0o700)
        out_dir = os.path.join(case_dir, "out")
        state_dir = os.path.join(case_dir, "state")
        os.mkdir(out_dir, 0o700)
        os.mkdir(state_dir, 0o700)
        path = os.path.join(out_dir, "smtp.env")
        if cmd.file_text is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(cmd.file_text)
        return path, state_dir

    def wait_answered(self, iam, limit):
        """Until every request the stand-in took has been answered (or
        dropped): a slow request is applied before the wait, but its
        thread must be done before the next run looks at the state."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if all(r["answered_at"] is not None for r in iam.requests):
                return
            time.sleep(0.02)

    def interrupted_run(self, cmd, path, state_dir, k, sig):
        """The first run: call k slow, the signal once IAM has it."""
        iam = cmd.iam
        fid = iam.add_fault("slow", None, nth=k, delay=DELAY)
        argv = command(self.args_with_file(cmd.args, path))
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env_for(iam, state_dir))
        fired = False
        end = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < end and p.poll() is None:
            if any(f["id"] == fid and f["fired"] for f in iam.faults):
                fired = True
                break
            time.sleep(0.005)
        if fired:
            p.send_signal(sig)
        try:
            out, err = p.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise CaseFailed("S1: sesctl did not end within %d s of %s"
                             % (RUN_TIMEOUT, sig_name(sig)))
        self.wait_answered(iam, DELAY + 5)
        iam.clear_faults()
        if not fired:
            raise CaseFailed("S1: sesctl exited %d before request #%d "
                             "(%s)\nstderr: %s" % (
                                 p.returncode, k, cmd.calls[k - 1],
                                 err.decode("utf-8", "replace").strip()))
        return p.returncode, err.decode("utf-8", "replace")

    def check_exit(self, cmd, k, sig, rc, err):
        if b"Sanitizer" in err.encode() or "runtime error:" in err:
            raise CaseFailed("S1: a sanitizer reported an error:\n%s" % err)
        if sig == signal.SIGKILL:
            if rc != -signal.SIGKILL:
                raise CaseFailed("S1: exit %d after SIGKILL" % rc)
            return
        first_create = (cmd.calls.index("CreateAccessKey") + 1
                        if "CreateAccessKey" in cmd.calls else None)
        if first_create is not None and k >= first_create:
            allowed = {128 + sig}
        else:
            allowed = {-sig, 128 + sig}
        if rc not in allowed:
            raise CaseFailed("S1: exit %d after %s at #%d %s, want one of %s"
                             "\nstderr: %s" % (rc, sig_name(sig), k,
                                               cmd.calls[k - 1],
                                               sorted(allowed), err.strip()))

    def rerun(self, cmd, path, state_dir, argv, what, finish=False):
        done_before = self.done_now(cmd, path) and not finish
        p = self.sesctl(cmd.iam, argv, state_dir, what)
        err = p.stderr.decode("utf-8", "replace").strip()
        allowed = {0}
        if done_before:
            # "already enabled", "two active keys": nothing left to do.
            # enable refuses an existing --output-file first (exit 2).
            allowed = {0, 2, 5} if cmd.kind == "enable" else {0, 5}
        if p.returncode not in allowed:
            raise CaseFailed("%s exited %d (want %s)\nstderr: %s" % (
                what, p.returncode, sorted(allowed), err))
        try:
            self.check_after(cmd, path, what, finish)
        except CaseFailed as e:
            raise CaseFailed("%s\n%s exited %d, stderr: %s" % (
                e, what, p.returncode, err))

    def run_case(self, cmd, case_dir, k, sig):
        """Returns the number of runs judged (rerun, advice)."""
        path, state_dir = self.prepare(cmd, case_dir)
        rc, err = self.interrupted_run(cmd, path, state_dir, k, sig)
        self.check_exit(cmd, k, sig, rc, err)
        post = (cmd.iam.dump_state(), self.read(path),
                self.snapshot_dir(state_dir))
        failures = []
        try:
            self.rerun(cmd, path, state_dir,
                       command(self.args_with_file(cmd.args, path)),
                       "the plain rerun")
        except CaseFailed as e:
            failures.append("first run exit %d (%s)\n  %s" % (
                rc, err.strip().replace("\n", " / "), e))
        m = ADVICE.search(err)
        if m:
            advice = m.group(1)
            # Back to the state the interrupted run left.
            cmd.iam.load_state(post[0])
            if post[1] is None:
                if os.path.exists(path):
                    os.unlink(path)
            else:
                with open(path, "wb") as f:
                    f.write(post[1])
            self.restore_dir(state_dir, post[2])
            words = shlex.split(advice)
            argv = command(words[1:])
            try:
                self.rerun(cmd, path, state_dir, argv,
                           "the advice %r" % advice,
                           finish="--finish" in words)
            except CaseFailed as e:
                failures.append("first run exit %d (%s)\n  %s" % (
                    rc, err.strip().replace("\n", " / "), e))
        if failures:
            raise CaseFailed("\n".join(failures))
        return 1 + (1 if m else 0)

    # ---- the matrix -------------------------------------------------------

    def setup_command(self, cmd, seed):
        iam = FakeIAM(tls=True, seed=seed)
        iam.start()
        self.addCleanup(iam.stop)
        cmd.iam = iam
        d = os.path.join(self.tmp, "%s-setup" % cmd.name)
        os.mkdir(d, 0o700)
        os.mkdir(os.path.join(d, "state"), 0o700)
        if cmd.kind in ("rotate", "disable"):
            path = os.path.join(d, "smtp.env")
            p = self.sesctl(iam, command(["smtp", "enable", "--name", NAME,
                                       "--output-file", path]),
                         os.path.join(d, "state"), "setup enable")
            self.assertEqual(p.returncode, 0, p.stderr)
            akid = list(self.keys(iam))[0]
            iam.set_access_key(akid, create_date=OLD_KEY_DATE)
            cmd.old_key = akid
            cmd.file_text = self.read(path) if cmd.kind == "rotate" else None
        cmd.state = iam.dump_state()
        # The fault-free run: its requests are the matrix's rows.
        path, state_dir = self.prepare(cmd, os.path.join(
            self.tmp, "%s-clean" % cmd.name))
        p = self.sesctl(iam, command(self.args_with_file(cmd.args, path)),
                     state_dir, "the fault-free run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_after(cmd, path, "the fault-free run")
        cmd.calls = [r["action"] for r in iam.requests]

    def run_command(self, cmd, seed):
        self.setup_command(cmd, seed)
        failed, cases, runs = [], 0, 0
        for k, action in enumerate(cmd.calls, 1):
            if VALGRIND and action.startswith(READS):
                continue
            for sig in SIGNALS:
                cases += 1
                label = "%s #%d %s %s" % (cmd.name, k, action, sig_name(sig))
                case_dir = os.path.join(self.tmp, "%s-%d-%s" % (
                    cmd.name, k, sig_name(sig)))
                try:
                    runs += self.run_case(cmd, case_dir, k, sig)
                except CaseFailed as e:
                    failed.append("%s: %s" % (label, e))
        return cmd, cases, runs, failed

    def test_signal_matrix(self):
        cmds = [
            Command("enable", ["smtp", "enable", "--name", NAME]),
            Command("rotate", ["smtp", "rotate", "--name", NAME]),
            Command("rotate-keep", ["smtp", "rotate", "--name", NAME,
                                    "--keep-old"]),
            Command("rotate-deactivate", ["smtp", "rotate", "--name", NAME,
                                          "--deactivate-old"]),
            Command("disable", ["smtp", "disable", "--name", NAME, "--yes"]),
        ]
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(self.run_command, cmd, seed)
                       for seed, cmd in enumerate(cmds, 301)]
            results = [f.result() for f in futures]
        total = sum(r[1] for r in results)
        runs = sum(r[2] for r in results)
        failed = [line for r in results for line in r[3]]
        print("signal matrix: %s x %s%s" % (
            " + ".join("%s %d" % (c.name, len(c.calls)) for c, *_ in results),
            "/".join(sig_name(s) for s in SIGNALS),
            " (valgrind: calls that change IAM only)" if VALGRIND else ""))
        print("signal matrix: %d cases (%d reruns and advice runs judged), "
              "%d held (%.0f s)" % (total, runs, total - len(failed),
                                    time.monotonic() - start))
        sys.stdout.flush()
        if failed:
            self.fail("%d of %d cases did not hold:\n%s" % (
                len(failed), total, "\n".join(failed)))



class LastDelete(SignalMatrix):
    test_signal_matrix = None  # SignalMatrix's own, run once above

    def test_sigint_at_the_last_delete_leaves_nothing_to_rerun(self):
        # A rotate told to stop while its last request (the old key's
        # DeleteAccessKey) is with IAM has nothing left to stop: it ends
        # 130, and says so, with the new key's id and no advice to run
        # anything (a plain rotate would rotate once more).
        cmd = Command("rotate-last", ["smtp", "rotate", "--name", NAME])
        self.setup_command(cmd, 399)
        k = len(cmd.calls)
        self.assertEqual(cmd.calls[k - 1], "DeleteAccessKey")
        path, state_dir = self.prepare(cmd, os.path.join(self.tmp, "last"))
        rc, err = self.interrupted_run(cmd, path, state_dir, k,
                                       signal.SIGINT)
        self.assertEqual(rc, 130, err)
        held = self.held_key(cmd.iam, path)
        self.assertEqual(list(self.keys(cmd.iam)), [held])
        self.assertNotEqual(held, cmd.old_key)
        self.assertIn("access key %s is delivered and recorded" % held, err)
        self.assertIn("nothing is left to finish", err)
        self.assertIsNone(ADVICE.search(err), err)


if __name__ == "__main__":
    unittest.main()
