"""The signal matrix of test_interrupt.py for `smtp rotate --adopt`: a
user the SES console made (path /, no ManagedBy tag, no record, one live
key whose settings an app holds) taken over by

    sesctl smtp rotate --adopt [--keep-old] --user-name CONSOLE
        --region eu-west-1 --output-file APP_FILE

where APP_FILE starts as the console's settings for the live key (as
test_status_audit.ConsoleUser writes them).  For every IAM request k of
the fault-free run, the k-th request is made slow, SIGINT, SIGTERM or
SIGKILL is sent once the stand-in has it, and then the plain rerun and,
separately from the same saved state, the advice sesctl printed (executed
literally) are judged, as in test_interrupt.py, whose machinery this
reuses.

Judged from IAM's state in the stand-in and the file, never from sesctl's
messages:
  S1  (test_interrupt's) no hang, the documented exit for the signal
  A2  after the interrupted run and after every rerun: the app file names
      a key that exists, is Active, and its SMTP_PASS is that key's v4
      password; an SMTP login with the file's settings at the SES SMTP
      stand-in succeeds (the app's only working key is never gone)
  A3  after every rerun: every key is the file's, or the console's live
      key kept on purpose (--keep-old only): no key whose secret nobody
      holds
  A4  after every rerun: the user is tagged ManagedBy=sesctl,
      SesctlCurrentKey names the file's key (not the console's), and
      without --keep-old (or after the advised --finish) it is the only
      key; with --keep-old the live key is the Active SesctlKeptKey
  A5  nothing beside the app file (no temporary file), mode 0600
Besides the three signals, every request that changes IAM gets
SIGKILL-before: the stand-in holds request k before applying it, sesctl is
killed, and IAM's state is put back as it was before k, which is sesctl
killed just before it sent k, after whatever it did locally in between
(the settings written before the record's TagUser: a window no request
marks, so the signals above never hit it).  There, the rerun once took
the key the dead run replaced from the record only, which an adopted user
does not have yet: the console's live key was left neither retired nor
kept, and the next rotate deleted it as never delivered.

Under SESCTL_VALGRIND=1: only the requests that change IAM, SIGTERM,
SIGKILL and SIGKILL-before (test_interrupt.VALGRIND).
"""
import concurrent.futures
import os
import signal
import smtplib
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import test_interrupt as ti
from standins.iam import FakeIAM
from standins.ses_smtp import FakeSESSMTP
from sesctl_test import command, env_lines, smtp_password

CONSOLE = "ses-smtp-user.20261101-120000"
SENDING = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
           '"Action":"ses:SendRawEmail","Resource":"*"}]}')
REGION = ti.REGION
LIVE_KEY_DATE = "2025-06-01T00:00:00Z"   # the console made it long ago
ARGS = ["smtp", "rotate", "--adopt", "--user-name", CONSOLE,
        "--region", REGION]
KILL_BEFORE = "SIGKILL-before"
SIGNALS = ti.SIGNALS + [KILL_BEFORE]


def sig_name(sig):
    return sig if sig == KILL_BEFORE else ti.sig_name(sig)


class AdoptCommand(ti.Command):
    """A rotate --adopt, with the SES SMTP stand-in on its IAM stand-in."""

    smtp = None


class AdoptSignalMatrix(ti.SignalMatrix):
    user = CONSOLE  # not test_interrupt's USER

    def setUp(self):
        super().setUp()
        # (each test's directories apart: both make <command>-clean)
        self.tmp = tempfile.mkdtemp(dir=type(self).tmp)

    def smtp_login(self, cmd, path, what):
        """A2 by SES: the app file's settings log in (STARTTLS, AUTH)."""
        s = env_lines(self.read(path).decode("utf-8", "replace"))
        ctx = ssl.create_default_context(cafile=cmd.smtp.ca_file)
        try:
            with smtplib.SMTP("127.0.0.1", cmd.smtp.port, timeout=10) as c:
                c.starttls(context=ctx)
                c.login(s.get("SMTP_USER", ""), s.get("SMTP_PASS", ""))
        except smtplib.SMTPException as e:
            raise ti.CaseFailed("A2 after %s: the app file's settings (key "
                                "%s) do not log in to SES SMTP: %s" % (
                                    what, s.get("SMTP_USER"), e))

    def app_holds(self, cmd, path, what):
        try:
            self.held_key(cmd.iam, path)
        except ti.CaseFailed as e:
            raise ti.CaseFailed("A2 after %s: %s" % (what, e))
        self.smtp_login(cmd, path, what)

    def check_after(self, cmd, path, what, finish=False):
        iam = cmd.iam
        left = sorted(os.listdir(os.path.dirname(path)))
        if left != [os.path.basename(path)]:
            raise ti.CaseFailed("A5 after %s: the directory holds %s" % (
                what, left))
        self.app_holds(cmd, path, what)
        held = self.held_key(iam, path)
        keys = self.keys(iam)
        allowed = {held}
        if cmd.mode == "--keep-old" and not finish:
            allowed.add(cmd.old_key)
        extra = sorted(set(keys) - allowed)
        if extra:
            raise ti.CaseFailed("A3 after %s: key(s) %s, neither the file's "
                                "(%s) nor the live key kept on purpose" % (
                                    what, extra, held))
        why = self.end_state(cmd, held, finish)
        if why:
            raise ti.CaseFailed("A4 after %s: %s" % (what, why))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode != 0o600:
            raise ti.CaseFailed("A5 after %s: the file has mode %o" % (
                what, mode))

    def end_state(self, cmd, held, finish=False):
        u = cmd.iam.user(CONSOLE)
        if u is None:
            return "the user is gone"
        tags = self.tags(cmd.iam)
        keys = {k: v["status"] for k, v in self.keys(cmd.iam).items()}
        if tags.get("ManagedBy") != "sesctl":
            return "the user is not tagged ManagedBy=sesctl (tags %s)" % tags
        if held == cmd.old_key:
            return "the file still holds the console's key %s" % held
        if tags.get("SesctlCurrentKey") != held:
            return "SesctlCurrentKey is %r, the file holds %s" % (
                tags.get("SesctlCurrentKey"), held)
        if cmd.mode == "--keep-old" and not finish:
            want = {held: "Active", cmd.old_key: "Active"}
            if keys != want:
                return "keys are %s, want %s" % (keys, want)
            if tags.get("SesctlKeptKey") != cmd.old_key:
                return "SesctlKeptKey is %r, want the live key %s" % (
                    tags.get("SesctlKeptKey"), cmd.old_key)
            return None
        if list(keys) != [held]:
            return "keys are %s, want only %s" % (keys, held)
        return None

    # ---- the first run and the reruns: A2 at every step ---------------

    def killed_before(self, cmd, path, state_dir, k):
        """SIGKILL while the stand-in holds request k unapplied, then
        IAM's state as it was before k."""
        iam = cmd.iam
        fid = iam.add_fault("slow", None, nth=k, delay=ti.DELAY, before=True)
        p = subprocess.Popen(command(self.args_with_file(cmd.args, path)),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=self.env_for(iam, state_dir))
        before = None
        end = time.monotonic() + ti.RUN_TIMEOUT
        while time.monotonic() < end and p.poll() is None:
            if any(f["id"] == fid and f["fired"] for f in iam.faults):
                before = iam.dump_state()   # k sleeps before it applies
                p.kill()
                break
            time.sleep(0.005)
        try:
            _, err = p.communicate(timeout=ti.RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise ti.CaseFailed("S1: sesctl did not end within %d s"
                                % ti.RUN_TIMEOUT)
        self.wait_answered(iam, ti.DELAY + 5)
        iam.clear_faults()
        err = err.decode("utf-8", "replace")
        if before is None:
            raise ti.CaseFailed("S1: sesctl exited %d before request #%d "
                                "(%s)\nstderr: %s" % (
                                    p.returncode, k, cmd.calls[k - 1],
                                    err.strip()))
        iam.load_state(before)
        return p.returncode, err

    def check_exit(self, cmd, k, sig, rc, err):
        if sig != KILL_BEFORE:
            return super().check_exit(cmd, k, sig, rc, err)
        if rc != -signal.SIGKILL:
            raise ti.CaseFailed("S1: exit %d after SIGKILL" % rc)
        return None

    def interrupted_run(self, cmd, path, state_dir, k, sig):
        if sig == KILL_BEFORE:
            rc, err = self.killed_before(cmd, path, state_dir, k)
        else:
            rc, err = super().interrupted_run(cmd, path, state_dir, k, sig)
        try:
            self.app_holds(cmd, path, "the interrupted run")
        except ti.CaseFailed as e:
            raise ti.CaseFailed("%s\nexit %d, stderr: %s" % (
                e, rc, err.strip()))
        return rc, err

    # ---- setting up: the console user and the app's file --------------

    def setup_command(self, cmd, seed):
        iam = FakeIAM(tls=True, seed=seed)
        iam.start()
        self.addCleanup(iam.stop)
        smtp = FakeSESSMTP(iam, region=REGION)
        smtp.start()
        self.addCleanup(smtp.stop)
        cmd.iam, cmd.smtp = iam, smtp
        iam.seed_user(CONSOLE, path="/", create_date=LIVE_KEY_DATE,
                      inline_policies={"AmazonSesSendingAccess": SENDING},
                      access_keys=[{"create_date": LIVE_KEY_DATE}])
        live = iam.user(CONSOLE)["access_keys"][0]
        cmd.old_key = live["access_key_id"]
        cmd.file_text = (
            "SMTP_HOST=email-smtp.%s.amazonaws.com\nSMTP_PORT=587\n"
            "SMTP_USER=%s\nSMTP_PASS=%s\n" % (
                REGION, cmd.old_key,
                smtp_password(live["secret_access_key"], REGION))).encode()
        cmd.state = iam.dump_state()
        # The fault-free run: its requests are the matrix's rows.
        path, state_dir = self.prepare(cmd, os.path.join(
            self.tmp, "%s-clean" % cmd.name))
        self.app_holds(cmd, path, "setting up")
        p = self.sesctl(iam, command(self.args_with_file(cmd.args, path)),
                        state_dir, "the fault-free run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_after(cmd, path, "the fault-free run")
        cmd.calls = [r["action"] for r in iam.requests]

    # ---- the matrix -----------------------------------------------------

    def run_command(self, cmd, seed, select):
        """test_interrupt's run_command, for the cases `select` takes."""
        self.setup_command(cmd, seed)
        failed, cases, runs = [], 0, 0
        for k, action in enumerate(cmd.calls, 1):
            reads = action.startswith(ti.READS)
            if ti.VALGRIND and reads:
                continue
            for sig in SIGNALS:
                if (sig == KILL_BEFORE and reads) or \
                        not select(cmd, k, sig):
                    continue
                cases += 1
                label = "%s #%d %s %s" % (cmd.name, k, action, sig_name(sig))
                case_dir = os.path.join(self.tmp, "%s-%d-%s" % (
                    cmd.name, k, sig_name(sig)))
                try:
                    runs += self.run_case(cmd, case_dir, k, sig)
                except ti.CaseFailed as e:
                    failed.append("%s: %s" % (label, e))
        return cmd, cases, runs, failed

    def run_matrix(self, select, what):
        """Both commands' cases that `select` takes; the failures."""
        cmds = [AdoptCommand("adopt", ARGS),
                AdoptCommand("adopt-keep", ARGS + ["--keep-old"])]
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(self.run_command, cmd, seed, select)
                       for seed, cmd in enumerate(cmds, 401)]
            results = [f.result() for f in futures]
        total = sum(r[1] for r in results)
        runs = sum(r[2] for r in results)
        failed = [line for r in results for line in r[3]]
        print("%s: %s x %s%s" % (
            what, " + ".join("%s %d (%s)" % (c.name, len(c.calls),
                                             " ".join(c.calls))
                             for c, *_ in results),
            "/".join(sig_name(s) for s in SIGNALS),
            " (valgrind: calls that change IAM only)" if ti.VALGRIND
            else ""))
        print("%s: %d cases (%d reruns and advice runs judged), %d held "
              "(%.0f s)" % (what, total, runs, total - len(failed),
                            time.monotonic() - start))
        sys.stdout.flush()
        return total, failed

    def test_signal_matrix(self):
        total, failed = self.run_matrix(lambda cmd, k, sig: True,
                                        "adopt signal matrix")
        if failed:
            self.fail("%d of %d cases did not hold:\n%s" % (
                len(failed), total, "\n".join(failed)))


if __name__ == "__main__":
    unittest.main()
