"""SMTP verification, end to end: `sesctl smtp verify`, and `--verify` on
enable and rotate, against the SES SMTP stand-in (standins/ses_smtp.py, real
STARTTLS or TLS on loopback, sharing the IAM stand-in's keys and accepting
only the v4 password of an active key for its region, optionally only after
a propagation delay).  What a user notices is asserted: exit codes, the
explanation of a refusal, that no mail is sent, that rotate keeps the old
key until SES accepts the new one, and that no secret reaches the output."""
import base64
import os
import pty
import select
import stat
import subprocess
import tempfile
import time
import unittest

from standins.iam import FakeIAM
from standins.ses_smtp import FakeSESSMTP, smtp_password_v2
from sesctl_test import (SesctlTestCase, clean_env, command, env_lines,
                         smtp_password)

USER = "sesctl-smtp"
REGION = "eu-west-1"


class VerifyBase(SesctlTestCase):
    mode = "starttls"

    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=23)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.smtp = FakeSESSMTP(self.iam, region=REGION, mode=self.mode)
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        self.tmp = tempfile.mkdtemp()
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="50",
                             **self.iam.env(region=REGION))

    def sesctl(self, *args, code=0, stdin=b"", env=None, timeout=120):
        p = subprocess.run(command(args), input=stdin, capture_output=True,
                           env=env or self.env, timeout=timeout)
        self.assertEqual(p.returncode, code,
                         "sesctl %s: exit %d, want %d\nstdout: %s\n"
                         "stderr: %s" % (" ".join(args), p.returncode, code,
                                         p.stdout.decode(),
                                         p.stderr.decode()))
        self.err = p.stderr.decode()
        return p.stdout.decode()

    def smtp_args(self):
        return ("--smtp-endpoint-url", self.smtp.url)

    def keys(self):
        u = self.iam.user(USER)
        return u["access_keys"] if u else []

    def secret_of(self, akid):
        return self.iam.access_key(akid)["secret_access_key"]

    def accepted(self):
        return [a for a in self.smtp.auth_attempts()
                if a["result"] == "accepted"]

    def assertNoMail(self):
        self.assertEqual(self.smtp.transactions(), [])

    def enable_to_file(self, name="smtp.env", fmt="env"):
        path = os.path.join(self.tmp, name)
        self.sesctl("smtp", "enable", "--output-file", path, "--format", fmt)
        return path


class EnableVerify(VerifyBase):
    def test_enable_verify_logs_in_with_the_new_key(self):
        out = self.sesctl("smtp", "enable", "--verify", *self.smtp_args())
        s = env_lines(out)
        ok = self.accepted()
        self.assertEqual([a["user"] for a in ok], [s["SMTP_USER"]])
        self.assertTrue(ok[0]["tls"])
        self.assertIn("SES accepted the SMTP login of %s" % s["SMTP_USER"],
                      self.err)
        self.assertNoMail()

    def test_enable_verify_waits_for_propagation(self):
        self.smtp.set_delay(3.0)
        start = time.monotonic()
        out = self.sesctl("smtp", "enable", "--verify", *self.smtp_args())
        took = time.monotonic() - start
        akid = env_lines(out)["SMTP_USER"]
        results = [a["reason"] for a in self.smtp.auth_attempts()]
        self.assertEqual(results[-1], "ok")
        self.assertIn("not_propagated", results)
        self.assertGreaterEqual(took, 3.0)
        # without a terminal: one line saying it waits, no progress line
        self.assertIn("does not accept the new SMTP password", self.err)
        self.assertNotIn("\r", self.err)
        self.assertEqual([a["user"] for a in self.accepted()], [akid])

    def test_enable_verify_timeout_keeps_the_key_and_exits_7(self):
        self.smtp.set_delay(600)
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--verify", "--verify-timeout", "4",
                    "--output-file", path, *self.smtp_args(), code=7)
        self.assertIn("SES refused the SMTP login", self.err)
        self.assertIn("535 Authentication Credentials Invalid", self.err)
        self.assertIn("IAM has not propagated it yet", self.err)
        self.assertIn("stays", self.err)
        # the secret was delivered: the key stays, the file is complete
        akid = self.keys()[0]["access_key_id"]
        with open(path) as f:
            s = env_lines(f.read())
        self.assertEqual(s["SMTP_USER"], akid)
        self.assertEqual(s["SMTP_PASS"],
                         smtp_password(self.secret_of(akid), REGION))
        self.assertGreater(len(self.smtp.auth_attempts()), 1)
        # later, once propagated, verify on its own accepts the file
        self.smtp.set_delay(0)
        self.sesctl("smtp", "verify", "--credentials-file", path,
                    *self.smtp_args())

    def test_enable_verify_progress_line_on_a_terminal(self):
        self.smtp.set_delay(2.5)
        master, slave = pty.openpty()
        p = subprocess.Popen(command(["smtp", "enable", "--verify",
                                      *self.smtp_args()]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=slave, env=self.env)
        os.close(slave)
        seen = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        p.communicate(timeout=60)
        os.close(master)
        self.assertEqual(p.returncode, 0, seen)
        text = seen.decode()
        self.assertIn("\rsesctl: waiting for SES to accept the new SMTP "
                      "password", text)
        self.assertIn("attempt 2", text)
        self.assertIn("\r\x1b[K", text)  # the line is cleared at the end

    def test_verify_options_need_verify(self):
        self.sesctl("smtp", "enable", "--verify-timeout", "5", code=2)
        self.assertIn("--verify-timeout only applies with --verify", self.err)
        self.sesctl("smtp", "enable", *self.smtp_args(), code=2)
        self.assertEqual(self.iam.requests, [])

    def test_bad_verify_options_change_nothing_in_iam(self):
        for args, msg in (
                (("--verify-timeout", "soon"), "not a number of seconds"),
                (("--verify-timeout", "-1"), "not a number of seconds"),
                (("--smtp-endpoint-url", "http://127.0.0.1:1"),
                 "must start with smtp://"),
                (("--smtp-endpoint-url", "smtp://127.0.0.1:1/x?y"),
                 "only a scheme, a host and a port")):
            self.sesctl("smtp", "enable", "--verify", *args, code=2)
            self.assertIn(msg, self.err)
        self.sesctl("smtp", "enable", "--verify", "--region", "eu-west-1",
                    "--region", "us-east-1", *self.smtp_args(), code=2)
        self.assertIn("verify them one at a time", self.err)
        self.assertEqual(self.iam.requests, [])


class RotateVerify(VerifyBase):
    def setUp(self):
        super().setUp()
        self.path = self.enable_to_file()
        self.old = self.keys()[0]["access_key_id"]
        self.smtp.clear_log()
        self.iam.clear_requests()

    def test_old_key_is_deleted_only_after_ses_accepts_the_new(self):
        self.smtp.set_delay(2.5)
        self.sesctl("smtp", "rotate", "--verify", "--output-file", self.path,
                    *self.smtp_args())
        keys = self.keys()
        self.assertEqual(len(keys), 1)
        new = keys[0]["access_key_id"]
        self.assertNotEqual(new, self.old)
        ok = self.accepted()
        self.assertEqual([a["user"] for a in ok], [new])
        refused = [a for a in self.smtp.auth_attempts()
                   if a["reason"] == "not_propagated"]
        self.assertTrue(refused, "the delay was never seen")
        deletes = [r for r in self.iam.requests
                   if r["action"] == "DeleteAccessKey"]
        self.assertEqual(len(deletes), 1)
        self.assertGreater(deletes[0]["received_mono"], ok[0]["time"])
        with open(self.path) as f:
            self.assertEqual(env_lines(f.read())["SMTP_USER"], new)
        self.assertNoMail()

    def test_refused_new_password_keeps_the_old_key_active(self):
        self.smtp.set_delay(600)
        self.sesctl("smtp", "rotate", "--verify", "--verify-timeout", "4",
                    "--output-file", self.path, *self.smtp_args(), code=7)
        self.assertIn("the old access key %s stays active" % self.old,
                      self.err)
        self.assertIn("rotate --finish", self.err)
        by_id = {k["access_key_id"]: k for k in self.keys()}
        self.assertEqual(len(by_id), 2)
        self.assertEqual(by_id[self.old]["status"], "Active")
        self.assertNotIn("DeleteAccessKey",
                         [r["action"] for r in self.iam.requests])
        self.assertNotIn("UpdateAccessKey",
                         [r["action"] for r in self.iam.requests])
        # the new settings are in the file; once SES takes them, --finish
        with open(self.path) as f:
            new = env_lines(f.read())["SMTP_USER"]
        self.assertNotEqual(new, self.old)
        self.smtp.set_delay(0)
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    *self.smtp_args())
        self.sesctl("smtp", "rotate", "--finish")
        self.assertEqual([k["access_key_id"] for k in self.keys()], [new])

    def test_deactivate_old_after_verify(self):
        self.sesctl("smtp", "rotate", "--verify", "--deactivate-old",
                    "--output-file", self.path, *self.smtp_args())
        by_id = {k["access_key_id"]: k for k in self.keys()}
        self.assertEqual(by_id[self.old]["status"], "Inactive")
        self.assertEqual(len(self.accepted()), 1)

    def test_finish_with_verify_is_a_usage_error(self):
        self.sesctl("smtp", "rotate", "--finish", "--verify", code=2)
        self.assertIn("nothing to --verify", self.err)
        self.assertEqual(self.iam.requests, [])


class VerifyCommand(VerifyBase):
    def setUp(self):
        super().setUp()
        self.path = self.enable_to_file()
        with open(self.path) as f:
            self.settings = env_lines(f.read())
        self.akid = self.settings["SMTP_USER"]
        self.secret = self.secret_of(self.akid)
        self.smtp.clear_log()

    def verify_stdin(self, text, *args, code=0):
        return self.sesctl("smtp", "verify", *self.smtp_args(), *args,
                           stdin=text.encode(), code=code)

    def test_every_format_sesctl_writes_is_verified(self):
        for fmt in ("env", "export", "dotenv", "json", "postfix"):
            text = self.sesctl("smtp", "derive", "--region", REGION,
                               "--access-key-id", self.akid, "--format", fmt,
                               stdin=self.secret.encode())
            out = self.verify_stdin(text)
            self.assertEqual(out, "", "verify prints nothing on stdout")
        self.assertEqual(len(self.accepted()), 5)
        self.assertNoMail()

    def test_credentials_file_and_from_env(self):
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    *self.smtp_args())
        env = dict(self.env, SMTP_USER=self.akid,
                   SMTP_PASS=self.settings["SMTP_PASS"])
        self.sesctl("smtp", "verify", "--from-env", *self.smtp_args(),
                    env=env)
        self.assertEqual(len(self.accepted()), 2)

    def test_wrong_region_is_named(self):
        text = "SMTP_USER=%s\nSMTP_PASS=%s\n" % (
            self.akid, smtp_password(self.secret, "us-east-1"))
        self.verify_stdin(text, code=7)
        self.assertIn("535 Authentication Credentials Invalid", self.err)
        self.assertIn("derived for another region", self.err)
        self.assertEqual(self.smtp.auth_attempts()[-1]["reason"],
                         "wrong_region")

    def test_raw_secret_is_named_first(self):
        text = "SMTP_USER=%s\nSMTP_PASS=%s\n" % (self.akid, self.secret)
        self.verify_stdin(text, code=7)
        causes = self.err.split("most likely first:")[1]
        self.assertTrue(causes.strip().startswith(
            "- the password is 40 characters: it looks like the IAM secret "
            "access key itself"), causes)
        self.assertNotIn(self.secret, self.err)

    def test_v2_password_is_named_first(self):
        text = "SMTP_USER=%s\nSMTP_PASS=%s\n" % (
            self.akid, smtp_password_v2(self.secret))
        self.verify_stdin(text, code=7)
        causes = self.err.split("most likely first:")[1]
        self.assertIn("legacy v2", causes.strip().splitlines()[0])
        self.assertEqual(self.smtp.auth_attempts()[-1]["reason"],
                         "v2_password")

    def test_inactive_and_deleted_keys_are_refused(self):
        self.iam.set_access_key(self.akid, status="Inactive")
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    *self.smtp_args(), code=7)
        self.assertIn("inactive or was deleted", self.err)
        self.sesctl("smtp", "disable", "--yes")
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    *self.smtp_args(), code=7)
        self.assertEqual([a["reason"] for a in self.smtp.auth_attempts()],
                         ["inactive_key", "unknown_key"])

    def test_verify_timeout_retries(self):
        text = "SMTP_USER=%s\nSMTP_PASS=%s\n" % (
            self.akid, smtp_password(self.secret, "us-east-1"))
        # (5 s: one attempt under valgrind can take over a second)
        self.verify_stdin(text, "--verify-timeout", "5", code=7)
        self.assertGreater(len(self.smtp.auth_attempts()), 1)
        self.assertIn("attempts over", self.err)

    def test_multi_region_file_and_region_choice(self):
        other = FakeSESSMTP(self.iam, region="us-east-1").start()
        self.addCleanup(other.stop)
        text = self.sesctl("smtp", "derive", "--region", "us-east-1",
                           "--access-key-id", self.akid,
                           stdin=self.secret.encode())
        # --region picks the block; the endpoint serves that region
        both = ("SMTP_USER=%s\nSMTP_HOST_EU_WEST_1=x\nSMTP_PASS_EU_WEST_1=%s\n"
                "SMTP_HOST_US_EAST_1=y\nSMTP_PASS_US_EAST_1=%s\n" % (
                    self.akid, self.settings["SMTP_PASS"],
                    env_lines(text)["SMTP_PASS"]))
        self.sesctl("smtp", "verify", "--region", "us-east-1",
                    "--smtp-endpoint-url", other.url, stdin=both.encode())
        self.assertEqual(len([a for a in other.auth_attempts()
                              if a["result"] == "accepted"]), 1)
        # one endpoint for several blocks is ambiguous
        self.sesctl("smtp", "verify", "--smtp-endpoint-url", other.url,
                    stdin=both.encode(), code=2)
        self.assertIn("pick one with --region", self.err)

    def test_debug_shows_the_dialogue_but_no_secret(self):
        self.sesctl("--debug", "smtp", "verify", "--credentials-file",
                    self.path, *self.smtp_args())
        self.assertIn("> STARTTLS", self.err)
        self.assertIn("< 235 Authentication successful.", self.err)
        self.assertIn("> AUTH PLAIN\n", self.err)
        self.assertIn("> <redacted>\n", self.err)
        pw = self.settings["SMTP_PASS"]
        plain = base64.b64encode(("\0%s\0%s" % (self.akid, pw)).encode())
        for bad in (pw, plain.decode(), base64.b64encode(pw.encode()).decode(),
                    self.secret):
            self.assertNotIn(bad, self.err)

    def test_world_readable_file_is_warned_about(self):
        os.chmod(self.path, 0o644)
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    *self.smtp_args())
        self.assertIn("others can read it (mode 644); chmod 600", self.err)

    def test_bad_input(self):
        cases = (
            ((), b"", 1, "standard input is empty"),
            ((), b"SMTP_USER=AKIAX\n", 1, "has no SMTP_PASS"),
            ((), b"{\"user\":", 1, "not valid JSON"),
            (("--credentials-file", "/nonexistent/smtp.env"), b"", 1,
             "cannot open '/nonexistent/smtp.env'"),
            (("--port", "26"), b"", 2, "choose one of: 587, 465, 2587"),
            (("--from-env", "--credentials-file", "x"), b"", 2,
             "exclude each other"),
            (("--region", "eu-west-1", "--region", "us-east-1"), b"", 2,
             "takes one --region"),
        )
        for args, stdin, code, msg in cases:
            self.sesctl("smtp", "verify", *self.smtp_args(), *args,
                        stdin=stdin, code=code)
            self.assertIn(msg, self.err, args)
        env = dict(self.env, SMTP_USER=self.akid)
        self.sesctl("smtp", "verify", "--from-env", *self.smtp_args(),
                    env=env, code=1)
        self.assertIn("SMTP_PASS is not set", self.err)

    def test_password_as_argument_is_refused(self):
        pw = self.settings["SMTP_PASS"]
        self.sesctl("smtp", "verify", pw, code=2)
        self.assertIn("takes no arguments", self.err)
        self.assertNotIn(pw, self.err)
        self.assertEqual(self.smtp.auth_attempts(), [])

    def test_untrusted_certificate_is_a_tls_failure(self):
        env = dict(self.env)
        del env["AWS_CA_BUNDLE"]
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    *self.smtp_args(), env=env, code=6)
        self.assertIn("TLS with 127.0.0.1", self.err)
        self.assertIn("--ca-bundle", self.err)
        self.assertEqual(self.smtp.auth_attempts(), [])

    def test_nothing_listening_is_a_network_failure(self):
        port = self.smtp.port
        self.smtp.stop()
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    "--smtp-endpoint-url", "smtp://127.0.0.1:%d" % port,
                    code=6)
        self.assertIn("could not reach the SMTP server 127.0.0.1:%d" % port,
                      self.err)
        self.assertIn("try --port 2587 or --port 465", self.err)
        # enable --verify has no --port: the advice names verify's
        self.sesctl("smtp", "enable", "--name", "np", "--verify",
                    "--verify-timeout", "0", "--smtp-endpoint-url",
                    "smtp://127.0.0.1:%d" % port, code=6)
        self.assertNotIn("try --port", self.err)
        self.assertIn("'sesctl smtp verify --port 2587'", self.err)

    def test_unknown_host_is_not_blamed_on_ses(self):
        self.sesctl("smtp", "verify", "--credentials-file", self.path,
                    "--smtp-endpoint-url", "smtp://no-such-host.invalid:587",
                    code=6)
        self.assertIn("could not resolve the SMTP host of "
                      "no-such-host.invalid:587", self.err)
        self.assertNotIn("--port", self.err)
        self.assertNotIn("SES refused", self.err)


class ImplicitTLS(VerifyBase):
    mode = "tls"

    def test_smtps_endpoint(self):
        self.assertTrue(self.smtp.url.startswith("smtps://"))
        out = self.sesctl("smtp", "enable", "--verify", *self.smtp_args())
        ok = self.accepted()
        self.assertEqual([a["user"] for a in ok],
                         [env_lines(out)["SMTP_USER"]])
        self.assertTrue(ok[0]["tls"])

    def test_retries_resume_the_first_tls_session(self):
        # While IAM propagates the key, each retry resumes the first
        # attempt's TLS session (an abbreviated handshake).  (Over
        # STARTTLS, Debian 12's libcurl never offers a cached session: it
        # stores it under smtps, and looks it up under smtp.)
        self.smtp.set_delay(1.5)
        self.sesctl("smtp", "enable", "--verify", *self.smtp_args())
        tries = self.smtp.auth_attempts()
        self.assertGreater(len(tries), 1)
        self.assertEqual(tries[-1]["reason"], "ok")
        self.assertFalse(tries[0]["tls_resumed"])
        self.assertTrue(all(a["tls_resumed"] for a in tries[1:]), tries)

    def test_starttls_client_against_a_tls_port_fails_cleanly(self):
        path = self.enable_to_file()
        url = "smtp://127.0.0.1:%d" % self.smtp.port
        env = dict(self.env, SESCTL_TEST_TIMEOUT_MS="2000")
        self.sesctl("smtp", "verify", "--credentials-file", path,
                    "--smtp-endpoint-url", url, env=env, code=6, timeout=60)
        self.assertIn("could not reach the SMTP server", self.err)


if __name__ == "__main__":
    unittest.main()
