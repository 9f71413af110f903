"""Secrets do not outlive their use in sesctl's memory.

sesctl runs under gdb, which stops it at its last system call (exit_group)
and writes a core file of everything the process still has: heap, stack,
library data and the saved registers. The core must not contain the new
key's secret access key, the SMTP password, or the caller's own secret.
That holds only because every layer wipes: struct secret buffers, the
wiping allocators given to libcurl, OpenSSL and libxml2, the environment
copy of AWS_SECRET_ACCESS_KEY, a stack scrub after parsing the key and at
exit, and zeroed vector registers (which the dynamic linker would otherwise
save onto the stack at exit). Remove any one of them and this test fails.
It is the 'core dump' check of the hardening issue: a core file is exactly
what a crash would leave on disk."""
import base64
import os
import shlex
import shutil
import subprocess
import tempfile
import unittest

from standins.iam import FakeIAM
from standins.metadata import FakeMetadata
from standins.ses_smtp import FakeSESSMTP
from sesctl_test import BIN, EXAMPLE_SECRET, SesctlTestCase, clean_env


def sanitized(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True,
                         text=True).stdout
    return "libasan" in out or "libubsan" in out


@unittest.skipIf(shutil.which("gdb") is None, "gdb is not installed")
@unittest.skipIf(os.environ.get("SESCTL_VALGRIND"), "not under valgrind")
class SecretMemory(SesctlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if sanitized(BIN):
            raise unittest.SkipTest("ASan's shadow memory makes a core of "
                                    "terabytes; the plain build is checked")

    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=9)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = clean_env(HOME=self.tmp, **self.iam.env(region="eu-west-1"))

    def core_of(self, args, stdin=None, env=None):
        """Run sesctl to its exit under gdb; the core's bytes."""
        core = os.path.join(self.tmp, "core")
        if os.path.exists(core):
            os.unlink(core)
        cmd = ["gdb", "-q", "-batch", "-nx",
               "-ex", "set pagination off",
               "-ex", "catch syscall exit_group",
               # arguments on the run line: gdb's run replaces --args
               "-ex", "run " + " ".join(shlex.quote(a) for a in args) +
               (" < " + stdin if stdin else ""),
               "-ex", "gcore " + core,
               "-ex", "kill",
               BIN]
        p = subprocess.run(cmd, capture_output=True, env=env or self.env,
                           timeout=300)
        self.assertTrue(os.path.exists(core), p.stdout + p.stderr)
        with open(core, "rb") as f:
            return f.read()

    def settings(self, path):
        with open(path) as f:
            return dict(l.split("=", 1) for l in f.read().splitlines())

    def assert_absent(self, core, **secrets):
        for name, value in secrets.items():
            self.assertGreater(len(value), 10)
            self.assertEqual(core.count(value.encode()), 0,
                             "%s is still in sesctl's memory at exit" % name)

    def test_enable_and_rotate(self):
        out = os.path.join(self.tmp, "smtp.env")
        caller = self.env["AWS_SECRET_ACCESS_KEY"]
        core = self.core_of(["smtp", "enable", "--output-file", out])
        s = self.settings(out)
        key = self.iam.access_key(s["SMTP_USER"])["secret_access_key"]
        self.assert_absent(core, new_key_secret=key,
                           smtp_password=s["SMTP_PASS"],
                           caller_secret=caller)
        # the check can fail: the values are really what sesctl handled
        self.assertEqual(len(key), 40)

        core = self.core_of(["smtp", "rotate", "--output-file", out])
        s = self.settings(out)
        key = self.iam.access_key(s["SMTP_USER"])["secret_access_key"]
        self.assert_absent(core, new_key_secret=key,
                           smtp_password=s["SMTP_PASS"],
                           caller_secret=caller)

    def test_smtp_verification(self):
        """libcurl's copies of the SMTP password (and the base64 AUTH PLAIN
        string it builds from it) are wiped too."""
        smtp = FakeSESSMTP(self.iam, region="eu-west-1").start()
        self.addCleanup(smtp.stop)
        out = os.path.join(self.tmp, "smtp.env")
        caller = self.env["AWS_SECRET_ACCESS_KEY"]
        core = self.core_of(["smtp", "enable", "--verify", "--output-file",
                             out, "--smtp-endpoint-url", smtp.url])
        s = self.settings(out)
        key = self.iam.access_key(s["SMTP_USER"])["secret_access_key"]
        plain = base64.b64encode(
            ("\0%s\0%s" % (s["SMTP_USER"], s["SMTP_PASS"])).encode())
        self.assertEqual(len([a for a in smtp.auth_attempts()
                              if a["result"] == "accepted"]), 1)
        self.assert_absent(core, new_key_secret=key,
                           smtp_password=s["SMTP_PASS"],
                           auth_plain=plain.decode(), caller_secret=caller)

        core = self.core_of(["smtp", "verify", "--credentials-file", out,
                             "--smtp-endpoint-url", smtp.url])
        self.assertEqual(len([a for a in smtp.auth_attempts()
                              if a["result"] == "accepted"]), 2)
        self.assert_absent(core, smtp_password=s["SMTP_PASS"],
                           auth_plain=plain.decode())

    def test_container_credentials(self):
        """Credentials from the container endpoint: the token that
        authorises the request, and the session credentials it answers
        with, are wiped too (also in the environment block)."""
        md = FakeMetadata(self.iam).start()
        self.addCleanup(md.stop)
        md.container_token = "ecs-task-token-0123456789abcdefghijklmnop"
        env = {k: v for k, v in self.env.items()
               if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        env.update(md.container_env())
        self.iam.seed_user("sesctl-smtp", path="/sesctl/",
                           tags={"ManagedBy": "sesctl",
                                 "SesctlName": "default"},
                           access_keys=1)
        core = self.core_of(["smtp", "status"], env=env)
        creds = md.container_creds
        # the check can fail: those credentials really signed the calls
        self.assertEqual(self.iam.requests[-1]["caller"],
                         creds["AccessKeyId"])
        self.assert_absent(core, container_token=md.container_token,
                           secret=creds["SecretAccessKey"],
                           session_token=creds["Token"])

    def test_derive(self):
        secret_file = os.path.join(self.tmp, "secret")
        with open(secret_file, "w") as f:
            f.write(EXAMPLE_SECRET)
        out = os.path.join(self.tmp, "out")
        core = self.core_of(["smtp", "derive", "--region", "us-east-2"],
                            stdin=secret_file + " > " + out)
        with open(out) as f:
            self.assertEqual(f.read(),
                             "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n")
        self.assert_absent(core, secret=EXAMPLE_SECRET,
                           smtp_password="BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS")


@unittest.skipIf(shutil.which("strace") is None, "strace is not installed")
@unittest.skipIf(os.environ.get("SESCTL_VALGRIND"), "not under valgrind")
class NoChildren(SesctlTestCase):
    """sesctl never starts another program, so no secret can reach a child
    process's argv or environment: strace sees one execve (sesctl's own)
    for a whole enable."""

    def test_enable_execs_nothing(self):
        iam = FakeIAM(tls=True, seed=9)
        iam.start()
        self.addCleanup(iam.stop)
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        log = os.path.join(tmp, "trace")
        env = clean_env(HOME=tmp, **iam.env(region="eu-west-1"))
        # LeakSanitizer cannot run under ptrace; leaks are checked by
        # every other run of the ASan build.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve",
                            "-o", log, BIN, "smtp", "enable"],
                           capture_output=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(log) as f:
            execs = [l for l in f if "execve(" in l]
        self.assertEqual(len(execs), 1, execs)
        self.assertIn(BIN, execs[0])


if __name__ == "__main__":
    unittest.main()
