"""The fault matrix: every IAM call of `smtp enable`, `rotate` (default,
--deactivate-old, --keep-old) and `disable --yes`, hit in turn by every kind
of fault the stand-in can inject, and after each run the invariants that
make sesctl safe to use on a flaky network:

  I1  no orphan: every access key of the user that did not exist before the
      run is the one whose settings are in --output-file, with the SMTP
      password derived from its secret (Python hmac, independent of sesctl)
  I2  rotate never loses the working credential: unless the file now holds
      a valid new key, the old key still exists, is Active, and the file is
      byte for byte what it was
  I3  the exit code is a documented one (0, or 6 for a network or service
      failure; 1 is also accepted for a malformed answer), never a signal or
      a hang, and no secret reaches stdout or stderr
  I4  the run, or the rerun a user would naturally make next, reaches the
      command's intended end state
  I5  the advice a failing run prints ("run 'sesctl smtp ...'"), executed
      literally from the state the failure left (not after the rerun),
      keeps I1-I3 and, when it is the command itself or 'rotate --finish',
      reaches that command's end state too

Besides the faults that leave IAM unchanged or lose the answer, the 5xx
kinds also come "applied": AWS documents that a 500 or 503 may follow a
request IAM processed (apply=True).  Every case has its own
SESCTL_STATE_DIR, so the run lock and its journal are real and isolated.

The fault-free run of each command gives the sequence of its n IAM requests;
then for every k in 1..n and every kind the fault is injected on the k-th
request (add_fault(kind, None, nth=k)) from the same initial state.  One
stand-in per command serves every case; load_state() puts it back in between.
"""
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from standins.iam import FakeIAM
from sesctl_test import (SesctlTestCase, clean_env, command, env_lines,
                         smtp_password)

USER = "sesctl-smtp"
REGION = "eu-west-1"
HOST = "email-smtp.%s.amazonaws.com" % REGION
POLICY_NAME = "sesctl-ses-send"
DEFAULT_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}
OLD_KEY_DATE = "2026-01-01T00:00:00Z"  # the seeded key is clearly the older

# The client gives up on a request after TIMEOUT_MS; a slow answer comes
# SLOW_DELAY seconds after the request was applied.
TIMEOUT_MS = 1500
SLOW_DELAY = 3
# Generous: a hang is what this catches, not slowness.
RUN_TIMEOUT = 90

KINDS = [
    ("service_failure", {}),
    ("throttling", {}),
    ("close_before", {}),
    ("close_after", {}),
    ("slow", {"delay": SLOW_DELAY}),
    ("malformed_xml", {}),
    ("service_failure", {"apply": True}),
    ("service_unavailable", {"apply": True}),
    ("internal_failure", {"apply": True}),
]
# Under valgrind (SESCTL_VALGRIND=1) a run takes seconds, not a tenth: to
# stay within the suite's timeout only the calls that change IAM are hit,
# and only by the kinds that take sesctl down its recovery paths and need
# no timing.  (Faults on reads end in plain retries.)
VALGRIND = bool(os.environ.get("SESCTL_VALGRIND"))
if VALGRIND:
    KINDS = [k for k in KINDS
             if k[0] in ("close_before", "close_after", "malformed_xml")
             or (k[0] == "service_failure" and k[1].get("apply"))]
READS = ("Get", "List")
ADVICE = re.compile(r"run '(sesctl smtp [^']*)'")


def kind_label(kind, params):
    return kind + ("+applied" if params and params.get("apply") else "")






class CaseFailed(Exception):
    pass


class Command:
    """One command of the matrix: its arguments, the state it starts from
    and what "done" means for it."""

    def __init__(self, name, args, rerun=None):
        self.name = name
        self.args = list(args)
        self.rerun = list(rerun or args)
        self.iam = None
        self.state = None        # stand-in state every case starts from
        self.file_text = None    # the delivered settings (rotate), bytes
        self.before = set()      # key ids before the run
        self.old_key = None      # rotate: the key being replaced
        self.calls = []          # actions of the fault-free run

    @property
    def kind(self):
        return self.args[1]


class FaultMatrix(SesctlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="sesctl-fault-matrix-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- running sesctl -------------------------------------------------

    def env_for(self, iam, slow=False, state_dir=None):
        extra = {"HOME": self.tmp, "SESCTL_TEST_RETRY_BASE_MS": "1"}
        if state_dir:
            extra["SESCTL_STATE_DIR"] = state_dir
        if slow:
            extra["SESCTL_TEST_TIMEOUT_MS"] = str(TIMEOUT_MS)
        return clean_env(**extra, **iam.env(region=REGION))

    def sesctl(self, iam, args, slow=False, state_dir=None):
        """Run sesctl; a hang (timeout) is a CaseFailed."""
        try:
            p = subprocess.run(command(args), capture_output=True,
                               stdin=subprocess.DEVNULL,
                               env=self.env_for(iam, slow, state_dir),
                               timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CaseFailed("I3: 'sesctl %s' did not finish within %d s"
                             % (" ".join(args), RUN_TIMEOUT))
        return p

    # ---- looking at the outcome -------------------------------------------

    def keys(self, iam):
        u = iam.user(USER)
        return {k["access_key_id"]: k for k in u["access_keys"]} if u else {}

    def read_file(self, path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def settings_valid(self, iam, text):
        """The key id in `text` if it names an existing key with its real
        SMTP password for REGION, else None (and why)."""
        if text is None:
            return None, "no output file"
        s = env_lines(text.decode("utf-8", "replace"))
        akid = s.get("SMTP_USER")
        key = iam.access_key(akid) if akid else None
        if key is None or key["user_name"] != USER:
            return None, "the file names key %r, which does not exist" % akid
        if s.get("SMTP_HOST") != HOST or s.get("SMTP_PORT") != "587":
            return None, "the file has SMTP_HOST=%r SMTP_PORT=%r" % (
                s.get("SMTP_HOST"), s.get("SMTP_PORT"))
        if s.get("SMTP_PASS") != smtp_password(key["secret_access_key"],
                                               REGION):
            return None, "the file's SMTP_PASS is not key %s's password" % (
                akid)
        return akid, ""

    def check_i1(self, cmd, path, before):
        """No key that nobody holds the secret of: every key not in
        `before` is the one in the file."""
        text = self.read_file(path)
        held, why = self.settings_valid(cmd.iam, text)
        for akid in sorted(set(self.keys(cmd.iam)) - before):
            if akid != held:
                raise CaseFailed("I1: orphan key %s: its secret is not in "
                                 "the output file (%s)" % (akid, why or
                                 "the file holds %s" % held))
        if text is not None:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode != 0o600:
                raise CaseFailed("I1: the output file has mode %o" % mode)
        left = sorted(os.listdir(os.path.dirname(path)))
        if left not in ([], [os.path.basename(path)]):
            raise CaseFailed("I1: files left beside the output file: %s"
                             % left)
        return held

    def check_i2(self, cmd, path, held):
        """rotate: the working credential survives unless replaced."""
        if held is not None and held != cmd.old_key:
            if self.keys(cmd.iam)[held]["status"] != "Active":
                raise CaseFailed("I2: the file holds key %s, which is not "
                                 "Active" % held)
            return True
        old = self.keys(cmd.iam).get(cmd.old_key)
        if old is None or old["status"] != "Active":
            raise CaseFailed("I2: the file holds no new key, and the old "
                             "key %s is %s" % (cmd.old_key, "gone" if old
                                               is None else old["status"]))
        if self.read_file(path) != cmd.file_text:
            raise CaseFailed("I2: the file holds no new key, and no longer "
                             "the old settings either")
        return False

    def check_i3(self, cmd, p, kind, secrets, allowed=None):
        if allowed is None:
            allowed = {0, 6} | ({1} if kind == "malformed_xml" else set())
        if p.returncode < 0:
            raise CaseFailed("I3: killed by signal %d\nstderr: %s" % (
                -p.returncode, p.stderr.decode("utf-8", "replace")))
        if p.returncode not in allowed:
            raise CaseFailed("I3: exit %d, want one of %s\nstderr: %s" % (
                p.returncode, sorted(allowed),
                p.stderr.decode("utf-8", "replace").strip()))
        if b"Sanitizer" in p.stderr or b"runtime error:" in p.stderr:
            raise CaseFailed("I3: a sanitizer reported an error:\n%s"
                             % p.stderr.decode("utf-8", "replace"))
        if p.stdout:
            raise CaseFailed("I3: output on stdout with --output-file: %r"
                             % p.stdout[:200])
        for s in secrets:
            if s and s.encode() in p.stdout + p.stderr:
                raise CaseFailed("I3: a secret is in sesctl's output")

    def secrets(self, cmd):
        out = [cmd.iam.admin["secret_access_key"]]
        old = [u for u in cmd.state["users"] if u["name"] == USER]
        for k in list(self.keys(cmd.iam).values()) + (
                old[0]["access_keys"] if old else []):
            out += [k["secret_access_key"],
                    smtp_password(k["secret_access_key"], REGION)]
        return out

    def end_state(self, cmd, path, finish=False):
        """None if `cmd` reached its intended end state, else why not.
        `finish`: the run was 'rotate --finish' (one key, the file's)."""
        u = cmd.iam.user(USER)
        if cmd.kind == "disable":
            return None if u is None else "the user still exists"
        if u is None:
            return "the user does not exist"
        keys = self.keys(cmd.iam)
        held, why = self.settings_valid(cmd.iam, self.read_file(path))
        if held is None:
            return why
        active = sorted(k for k, v in keys.items() if v["status"] == "Active")
        if cmd.kind == "enable":
            tags = {t["Key"]: t["Value"] for t in u["tags"]}
            if tags.get("ManagedBy") != "sesctl" or \
               tags.get("SesctlName") != "default":
                return "tags are %s" % tags
            if u["path"] != "/sesctl/":
                return "path is %s" % u["path"]
            pols = {p["name"]: p["document"] for p in u["inline_policies"]}
            if list(pols) != [POLICY_NAME] or \
               json.loads(pols[POLICY_NAME]) != DEFAULT_POLICY:
                return "inline policies are %s" % pols
            if list(keys) != [held]:
                return "keys are %s, the file holds %s" % (sorted(keys), held)
            if tags.get("SesctlCurrentKey") != held:
                return "SesctlCurrentKey is %r, the file holds %s" % (
                    tags.get("SesctlCurrentKey"), held)
            return None
        # rotate
        tags = {t["Key"]: t["Value"] for t in u["tags"]}
        if tags.get("SesctlCurrentKey") != held:
            return "SesctlCurrentKey is %r, the file holds %s" % (
                tags.get("SesctlCurrentKey"), held)
        if finish:
            if list(keys) != [held]:
                return "keys are %s, want only %s" % (sorted(keys), held)
            return None
        if held == cmd.old_key:
            return "the file still holds the old key"
        if "--keep-old" in cmd.args:
            want = sorted([cmd.old_key, held])
            if active != want or len(keys) != 2:
                return "keys are %s (active %s), want %s active" % (
                    sorted(keys), active, want)
            return None
        if active != [held]:
            return "active keys are %s, want only %s" % (active, held)
        if "--deactivate-old" not in cmd.args and len(keys) != 1:
            return "keys are %s, want only %s" % (sorted(keys), held)
        return None

    # ---- one case -------------------------------------------------------

    def prepare(self, cmd, case_dir):
        iam = cmd.iam
        iam.reset(state=False)
        iam.load_state(cmd.state)
        os.mkdir(case_dir)
        os.mkdir(case_dir + ".state", 0o700)
        path = os.path.join(case_dir, "smtp.env")
        if cmd.file_text is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(cmd.file_text)
        return path

    def snapshot(self, cmd, path):
        """What a failed run left: IAM, the file, the run lock's journal."""
        sd = os.path.dirname(path) + ".state"
        return (cmd.iam.dump_state(), self.read_file(path),
                {n: self.read_file(os.path.join(sd, n))
                 for n in os.listdir(sd)})

    def restore(self, cmd, path, snap):
        state, text, journal = snap
        cmd.iam.load_state(state)
        for n in os.listdir(os.path.dirname(path)):
            os.unlink(os.path.join(os.path.dirname(path), n))
        if text is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(text)
        sd = os.path.dirname(path) + ".state"
        for n in os.listdir(sd):
            os.unlink(os.path.join(sd, n))
        for n, data in journal.items():
            fd = os.open(os.path.join(sd, n), os.O_WRONLY | os.O_CREAT,
                         0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

    def run_advice(self, cmd, path, first, snap, before):
        """I5: the advice of a failed run, executed literally from the
        state it left.  Returns the advice, or None when there was none."""
        m = ADVICE.search(first.stderr.decode("utf-8", "replace"))
        if not m:
            return None
        advice = m.group(1)
        words = shlex.split(advice)
        self.restore(cmd, path, snap)
        p = self.sesctl(cmd.iam, words[1:],
                        state_dir=os.path.dirname(path) + ".state")
        finish = "--finish" in words
        sub = words[2] if len(words) > 2 else ""
        allowed = {0, 2, 5} if cmd.kind == "enable" else {0}
        err = p.stderr.decode("utf-8", "replace").strip()
        try:
            self.check_i3(cmd, p, None, self.secrets(cmd), allowed)
            held = self.check_i1(cmd, path, before)
            if cmd.kind == "rotate":
                self.check_i2(cmd, path, held)
            why = None
            if sub == cmd.kind:
                why = self.end_state(cmd, path, finish=finish)
            if why:
                raise CaseFailed("end state not reached: %s" % why)
        except CaseFailed as e:
            raise CaseFailed(
                "I5: after exit %d (%s) the advice %r exited %d: %s\n"
                "advice stderr: %s" % (
                    first.returncode,
                    first.stderr.decode("utf-8", "replace").strip(),
                    advice, p.returncode, e, err))
        return advice

    def args_with_file(self, args, path):
        if args[1] in ("enable", "rotate"):
            return list(args) + ["--output-file", path]
        return list(args)

    def run_case(self, cmd, case_dir, k=None, kind=None, params=None):
        """Run one case; raises CaseFailed with the reason."""
        path = self.prepare(cmd, case_dir)
        state_dir = case_dir + ".state"
        if kind:
            cmd.iam.add_fault(kind, None, nth=k, **(params or {}))
        p = self.sesctl(cmd.iam, self.args_with_file(cmd.args, path),
                        slow=(kind == "slow"), state_dir=state_dir)
        self.check_i3(cmd, p, kind, self.secrets(cmd))
        held = self.check_i1(cmd, path, cmd.before)
        if cmd.kind == "rotate":
            self.check_i2(cmd, path, held)
        if p.returncode == 0:
            why = self.end_state(cmd, path)
            if why:
                raise CaseFailed("I4: exit 0 but not done: %s" % why)
            return p
        # I4: the user runs the command again, without faults.  (A key
        # that the rerun retires but keeps, --deactivate-old, is not an
        # orphan: I1 then counts from the keys before the rerun.)
        cmd.iam.clear_faults()
        first, before = p, set(self.keys(cmd.iam))
        snap = self.snapshot(cmd, path)
        p = self.sesctl(cmd.iam, self.args_with_file(cmd.rerun, path),
                        state_dir=state_dir)
        failures = []
        try:
            why = self.end_state(cmd, path)
            allowed = {0}
            if cmd.kind == "enable":
                allowed = {0, 2, 5}  # "already enabled": the first run did it
            if p.returncode not in allowed or why is not None:
                raise CaseFailed(
                    "I4: after exit %d (%s) the rerun exited %d: %s\n"
                    "rerun stderr: %s" % (
                        first.returncode,
                        first.stderr.decode("utf-8", "replace").strip(),
                        p.returncode, why or "end state reached",
                        p.stderr.decode("utf-8", "replace").strip()))
            self.check_i3(cmd, p, None, self.secrets(cmd), allowed)
            self.check_i1(cmd, path, before)
        except CaseFailed as e:
            failures.append(str(e))
        # I5, from the state the failure left, whatever the rerun did.
        try:
            self.run_advice(cmd, path, first, snap, before)
        except CaseFailed as e:
            failures.append(str(e))
        if failures:
            raise CaseFailed("\n".join(failures))
        return first

    # ---- the matrix -------------------------------------------------------

    def setup_command(self, cmd, seed):
        """Make cmd's stand-in and initial state, and record the requests
        of its fault-free run."""
        iam = FakeIAM(tls=True, seed=seed)
        iam.start()
        self.addCleanup(iam.stop)
        cmd.iam = iam
        if cmd.kind in ("rotate", "disable"):
            d = os.path.join(self.tmp, "%s-setup" % cmd.name)
            os.mkdir(d)
            path = os.path.join(d, "smtp.env")
            p = self.sesctl(iam, ["smtp", "enable", "--output-file", path])
            self.assertEqual(p.returncode, 0, p.stderr)
            akid = list(self.keys(iam))[0]
            iam.set_access_key(akid, create_date=OLD_KEY_DATE)
            cmd.old_key = akid
            if cmd.kind == "rotate":
                cmd.file_text = self.read_file(path)
        cmd.state = iam.dump_state()
        cmd.before = set(self.keys(iam))
        self.run_case(cmd, os.path.join(self.tmp, "%s-clean" % cmd.name))
        cmd.calls = [r["action"] for r in iam.requests]
        self.assertTrue(cmd.calls)

    def run_command(self, cmd, seed):
        """Every case of one command; the list of those that did not hold."""
        self.setup_command(cmd, seed)
        failed = []
        for k, action in enumerate(cmd.calls, 1):
            if VALGRIND and action.startswith(READS):
                continue
            for kind, params in KINDS:
                label = "%s #%d %s %s" % (cmd.name, k, action,
                                          kind_label(kind, params))
                case_dir = os.path.join(self.tmp, "%s-%d-%s" % (
                    cmd.name, k, kind_label(kind, params)))
                try:
                    self.run_case(cmd, case_dir, k, kind, params)
                except CaseFailed as e:
                    failed.append("%s: %s" % (label, e))
        return failed

    def test_fault_matrix(self):
        cmds = [
            Command("disable", ["smtp", "disable", "--yes"]),
            Command("enable", ["smtp", "enable"]),
            Command("rotate", ["smtp", "rotate"]),
            Command("rotate-deactivate", ["smtp", "rotate",
                                          "--deactivate-old"]),
            Command("rotate-keep", ["smtp", "rotate", "--keep-old"]),
        ]
        start = time.monotonic()
        # One stand-in per command, two commands at a time: the time goes
        # into sesctl processes and slow answers, not into this process.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(self.run_command, cmd, seed)
                       for seed, cmd in enumerate(cmds, 101)]
            failed = [line for f in futures for line in f.result()]
        calls = [len([a for a in c.calls
                      if not (VALGRIND and a.startswith(READS))])
                 for c in cmds]
        total = sum(calls) * len(KINDS)
        print("fault matrix: %s calls x %d kinds (%s)%s" % (
            " + ".join("%s %d" % (c.name, n) for c, n in zip(cmds, calls)),
            len(KINDS), ", ".join(kind_label(k, p) for k, p in KINDS),
            " (valgrind: calls that change IAM only)" if VALGRIND else ""))
        print("fault matrix: %d cases, %d held (%.0f s)" % (
            total, total - len(failed), time.monotonic() - start))
        sys.stdout.flush()
        if failed:
            self.fail("%d of %d cases did not hold:\n%s" % (
                len(failed), total, "\n".join(failed)))


if __name__ == "__main__":
    unittest.main()
