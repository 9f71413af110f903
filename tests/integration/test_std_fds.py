"""Standard fds 0-2 closed at start (`sesctl ... >&-`, a daemon that closed
them): main points each closed one at /dev/null before anything opens a
file or socket, so neither the settings nor a message can land in a file
or connection that took the number, and a result meant for a closed
standard output is an error with a message, not a silent success.

The children are started with the fds closed in preexec_fn; stderr, when
it stays open, is a pipe the test reads."""
import os
import subprocess
import tempfile
import unittest

from standins.iam import FakeIAM
from sesctl_test import (EXAMPLE_SECRET, SesctlTestCase, clean_env, command,
                         smtp_password)


def closing(*fds):
    def pre():
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
    return pre


def run_closed(args, fds, env, stderr=True):
    """Run sesctl with `fds` closed; stderr captured unless 2 is among
    them.  A hang fails the test (timeout)."""
    err_r = err_w = None
    if stderr and 2 not in fds:
        err_r, err_w = os.pipe()
    try:
        p = subprocess.Popen(command(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=err_w if err_w is not None
                             else subprocess.DEVNULL,
                             env=env, preexec_fn=closing(*fds),
                             close_fds=True)
        if err_w is not None:
            os.close(err_w)
            err_w = None
        text = b""
        if err_r is not None:
            with os.fdopen(err_r, "rb") as f:
                err_r = None
                text = f.read()
        code = p.wait(timeout=60)
        return code, text.decode(errors="replace")
    finally:
        for fd in (err_r, err_w):
            if fd is not None:
                os.close(fd)


class DeriveClosedFds(SesctlTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.config = os.path.join(self.tmp, "config")
        with open(self.config, "w") as f:
            f.write("[default]\nregion = eu-west-1\n")
        # No --region: derive reads the config file, which is the first
        # thing it opens and so would take a closed fd's number.
        self.env = clean_env(HOME=self.tmp, AWS_CONFIG_FILE=self.config,
                             AWS_SECRET_ACCESS_KEY=EXAMPLE_SECRET)
        self.pw = smtp_password(EXAMPLE_SECRET, "eu-west-1")

    def tearDown(self):
        with open(self.config) as f:
            self.assertEqual(f.read(), "[default]\nregion = eu-west-1\n")

    def test_open_stdout_works(self):
        p = subprocess.run(command(["smtp", "derive", "--from-env"]),
                           capture_output=True, env=self.env, timeout=60)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout.decode(), self.pw + "\n")

    def test_stdout_closed_is_an_error_that_says_so(self):
        code, err = run_closed(["smtp", "derive", "--from-env"], [1],
                               self.env)
        self.assertEqual(code, 1, err)
        self.assertIn("standard output is closed", err)
        self.assertNotIn(self.pw, err)
        self.assertNotIn("Bad file descriptor", err)

    def test_all_three_closed_exit_nonzero(self):
        code, err = run_closed(["smtp", "derive", "--from-env"], [0, 1, 2],
                               self.env)
        self.assertEqual(code, 1)
        self.assertEqual(err, "")

    def test_stdin_closed_is_empty_input(self):
        # The secret comes from standard input: closed reads as empty.
        env = dict(self.env)
        del env["AWS_SECRET_ACCESS_KEY"]
        code, err = run_closed(["smtp", "derive"], [0], env)
        self.assertNotEqual(code, 0)
        self.assertIn("empty", err)


class EnableClosedFds(SesctlTestCase):
    """Against the IAM stand-in over plain http on loopback, where what is
    written into the connection reaches the server as it is."""

    def setUp(self):
        self.iam = FakeIAM(tls=False, seed=5)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region="eu-west-1"))

    def check_iam_saw_only_requests(self):
        """Only well-formed, signed IAM requests arrived (no message or
        settings mixed into the stream), and no key is left whose secret
        nobody received (today enable deletes it after the failed write;
        credfile_check_stdout() lets it refuse before creating one)."""
        known = {"CreateUser", "PutUserPolicy", "CreateAccessKey",
                 "DeleteAccessKey", "GetUser", "ListAccessKeys",
                 "TagUser", "GetUserPolicy"}
        for r in self.iam.requests:
            self.assertIn(r["action"], known, r)
            self.assertTrue(r["sigv4"]["ok"], r)
            self.assertNotIn("sesctl:", repr(r))
        u = self.iam.user("sesctl-smtp")
        self.assertEqual(u["access_keys"] if u else [], [])

    def test_stdout_closed(self):
        code, err = run_closed(["smtp", "enable"], [1], self.env)
        self.assertEqual(code, 1, err)
        self.assertIn("standard output is closed", err)
        self.assertNotIn("SMTP_PASS", err)
        self.check_iam_saw_only_requests()

    def test_all_three_closed(self):
        # Before, the progress message "created IAM user" went into the
        # IAM connection (fd 2) and the settings into libcurl's socketpair.
        code, _ = run_closed(["smtp", "enable"], [0, 1, 2], self.env)
        self.assertEqual(code, 1)
        self.check_iam_saw_only_requests()


if __name__ == "__main__":
    unittest.main()
