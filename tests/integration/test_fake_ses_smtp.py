#!/usr/bin/python3
"""Tests for the SES SMTP stand-in (standins/ses_smtp.py), with Python's smtplib as
the independent client and known-answer passwords from tests/vectors.

Run: PYTHONPATH=tests /usr/bin/python3 tests/integration/test_fake_ses_smtp.py -v
Needs Debian's python3-aiosmtpd, python3-botocore, python3-cryptography; the
AWS CLI (/usr/bin/aws) for one test, skipped without it.  Only loopback is used.
"""

import base64
import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from standins import ses_smtp as fake_ses_smtp  # noqa: E402
from standins.iam import FakeIAM  # noqa: E402
from standins.ses_smtp import FakeSESSMTP, start_smtp_servers  # noqa: E402

AWS = "/usr/bin/aws"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
REGION = "eu-west-1"
OTHER_REGION = "us-east-1"
TIMEOUT = 5


def find_vectors():
    cands = []
    if os.environ.get("SESCTL_TEST_VECTORS"):
        cands.append(os.environ["SESCTL_TEST_VECTORS"])
    root = os.environ.get("SESCTL_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
    cands += [os.path.join(root, "tests", "vectors"), "/work/shared/vectors"]
    for c in cands:
        if os.path.exists(os.path.join(c, "smtp-password-v4.tsv")):
            return c
    raise RuntimeError("no SES SMTP password vectors (set SESCTL_TEST_VECTORS)")


def read_tsv(name):
    with open(os.path.join(find_vectors(), name), encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]


def known_v4(secret, region):
    for row in read_tsv("smtp-password-v4.tsv"):
        if row["secret_access_key"] == secret and row["region"] == region:
            return row["smtp_password"]
    raise KeyError((secret, region))


def known_v2(secret):
    for row in read_tsv("smtp-password-v2.tsv"):
        if row["secret_access_key"] == secret:
            return row["smtp_password"]
    raise KeyError(secret)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def plain_blob(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


class Base(unittest.TestCase):
    """One FakeIAM (HTTPS, so it has a CA) per class; servers per test."""

    @classmethod
    def setUpClass(cls):
        cls.iam = FakeIAM(tls=True, seed=7).start()
        # The SES docs' example key, so the passwords come from the vectors,
        # not from the stand-in's own derivation.
        cls.iam.seed_user("sesctl-smtp", path="/sesctl/", access_keys=[
            {"access_key_id": EXAMPLE_KEY_ID, "secret_access_key": EXAMPLE_SECRET,
             "create_date": "2024-01-02T03:04:05Z"}])
        cls.v4 = known_v4(EXAMPLE_SECRET, REGION)
        cls.v4_other = known_v4(EXAMPLE_SECRET, OTHER_REGION)
        cls.v2 = known_v2(EXAMPLE_SECRET)

    @classmethod
    def tearDownClass(cls):
        cls.iam.stop()

    def setUp(self):
        self.iam.set_access_key(EXAMPLE_KEY_ID, status="Active")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()

    def server(self, **kw):
        kw.setdefault("region", REGION)
        s = FakeSESSMTP(self.iam, **kw).start()
        self.servers.append(s)
        return s

    def tls_context(self, server):
        ctx = ssl.create_default_context(cafile=server.ca_file)
        self.assertTrue(ctx.check_hostname)
        self.assertEqual(ctx.verify_mode, ssl.CERT_REQUIRED)
        return ctx

    def connect(self, server, starttls=True):
        """An smtplib client, TLS up and EHLO done (unless starttls=False)."""
        if server.mode == "tls":
            c = smtplib.SMTP_SSL("127.0.0.1", server.port, timeout=TIMEOUT,
                                 context=self.tls_context(server))
        else:
            c = smtplib.SMTP("127.0.0.1", server.port, timeout=TIMEOUT)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        if starttls and server.mode == "starttls":
            code, _ = c.starttls(context=self.tls_context(server))
            self.assertEqual(code, 220)
            c.ehlo("client.test")
        return c

    def auth(self, c, mechanism, user, password, initial_response_ok=True):
        """One AUTH exchange -> (code, text); never a retry with another mechanism."""
        c.user, c.password = user, password
        obj = c.auth_plain if mechanism == "PLAIN" else c.auth_login
        try:
            code, text = c.auth(mechanism, obj, initial_response_ok=initial_response_ok)
        except smtplib.SMTPAuthenticationError as e:
            code, text = e.smtp_code, e.smtp_error
        return code, text.decode()

    def assertRefused(self, server, user, password, reason, mechanism="PLAIN"):
        server.clear_log()
        c = self.connect(server)
        self.assertEqual(self.auth(c, mechanism, user, password),
                         (535, "Authentication Credentials Invalid"))
        attempts = server.auth_attempts()
        self.assertEqual(len(attempts), 1, attempts)
        self.assertEqual(attempts[0]["result"], "refused")
        self.assertEqual(attempts[0]["reason"], reason)
        self.assertEqual(attempts[0]["user"], user)
        self.assertEqual(attempts[0]["mechanism"], mechanism)
        # after a 535 the session is still unauthenticated
        self.assertEqual(c.docmd("MAIL", "FROM:<a@example.com>"),
                         (530, b"Authentication required"))
        c.quit()


# ------------------------------------------------------------------ passwords
class Passwords(unittest.TestCase):
    """The stand-in's own derivation against every known answer."""

    def test_v4_known_answers(self):
        rows = read_tsv("smtp-password-v4.tsv")
        self.assertEqual(len(rows), 77)
        for row in rows:
            self.assertEqual(fake_ses_smtp.smtp_password_v4(row["secret_access_key"],
                                                            row["region"]),
                             row["smtp_password"], row)

    def test_v2_known_answers(self):
        rows = read_tsv("smtp-password-v2.tsv")
        self.assertEqual(len(rows), 16)
        for row in rows:
            self.assertEqual(fake_ses_smtp.smtp_password_v2(row["secret_access_key"]),
                             row["smtp_password"], row)

    def test_published_values(self):
        rows = read_tsv("smtp-password-published.tsv")
        self.assertEqual(len(rows), 8)
        for row in rows:
            if row["version"] == "v4":
                got = fake_ses_smtp.smtp_password_v4(row["secret_access_key"], row["region"])
            else:
                got = fake_ses_smtp.smtp_password_v2(row["secret_access_key"])
            self.assertEqual(got, row["published_smtp_password"], row)


# ------------------------------------------------------------ the conversation
class Conversation(Base):
    def test_greeting(self):
        s = self.server()
        c = smtplib.SMTP(timeout=TIMEOUT)
        self.addCleanup(c.close)
        code, msg = c.connect("127.0.0.1", s.port)
        self.assertEqual(code, 220)
        self.assertRegex(msg.decode(), r"^email-smtp\.amazonaws\.com ESMTP "
                                       r"SimpleEmailService-d-[A-Z0-9]{9} [A-Za-z0-9]{20}$")

    def test_ehlo_before_and_after_starttls(self):
        s = self.server()
        c = smtplib.SMTP("127.0.0.1", s.port, timeout=TIMEOUT)
        self.addCleanup(c.close)
        code, msg = c.ehlo("client.test")
        self.assertEqual(code, 250)
        # SES's own lines, in SES's order, before TLS (jetmore/swaks#15)
        self.assertEqual(msg.decode().split("\n"),
                         ["email-smtp.amazonaws.com", "8BITMIME", "SIZE 10485760",
                          "STARTTLS", "AUTH PLAIN LOGIN", "Ok"])
        c.starttls(context=self.tls_context(s))
        code, msg = c.ehlo("client.test")
        self.assertEqual(code, 250)
        self.assertEqual(msg.decode().split("\n"),
                         ["email-smtp.amazonaws.com", "8BITMIME", "SIZE 10485760",
                          "AUTH PLAIN LOGIN", "Ok"])

    def test_ehlo_can_hide_auth_before_tls(self):
        s = self.server(advertise_auth_before_tls=False)
        c = smtplib.SMTP("127.0.0.1", s.port, timeout=TIMEOUT)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        self.assertTrue(c.has_extn("starttls"))
        self.assertFalse(c.has_extn("auth"))
        c.starttls(context=self.tls_context(s))
        c.ehlo("client.test")
        self.assertEqual(c.esmtp_features.get("auth", "").split(), ["PLAIN", "LOGIN"])
        self.assertFalse(c.has_extn("starttls"))

    def test_auth_and_mail_before_starttls(self):
        s = self.server()
        c = self.connect(s, starttls=False)
        # even the right password is refused without TLS, and never checked
        self.assertEqual(c.docmd("AUTH", "PLAIN " + plain_blob(EXAMPLE_KEY_ID, self.v4)),
                         (530, b"Must issue a STARTTLS command first"))
        self.assertEqual(c.docmd("AUTH", "LOGIN"),
                         (530, b"Must issue a STARTTLS command first"))
        self.assertEqual(c.docmd("MAIL", "FROM:<a@example.com>"),
                         (530, b"Authentication required"))
        attempts = s.auth_attempts()
        self.assertEqual([(a["result"], a["mechanism"], a["tls"], a["user"]) for a in attempts],
                         [("no_tls", "PLAIN", False, None), ("no_tls", "LOGIN", False, None)])
        txn = s.transactions()
        self.assertEqual(len(txn), 1)
        self.assertEqual((txn[0]["command"], txn[0]["tls"], txn[0]["user"], txn[0]["reply"]),
                         ("MAIL", False, None, "530 Authentication required"))
        # smtplib.login() meets the same 530 SES gives it (OmniLayer/omniwallet#1161)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            c.login(EXAMPLE_KEY_ID, self.v4)
        self.assertEqual(cm.exception.smtp_code, 530)

    def test_starttls_then_auth(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4),
                         (235, "Authentication successful."))
        a = s.auth_attempts()
        self.assertEqual(len(a), 1)
        self.assertEqual((a[0]["result"], a[0]["reason"], a[0]["tls"], a[0]["user"],
                          a[0]["mechanism"], a[0]["region"]),
                         ("accepted", "ok", True, EXAMPLE_KEY_ID, "PLAIN", REGION))
        self.assertIsInstance(a[0]["time"], float)
        self.assertLessEqual(a[0]["time"], time.monotonic())
        # a second AUTH on the same session is a sequence error, not a login
        self.assertEqual(c.docmd("AUTH", "PLAIN " + plain_blob(EXAMPLE_KEY_ID, self.v4))[0],
                         503)

    def test_starttls_twice(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.docmd("STARTTLS")[0], 454)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)

    def test_rset_noop_quit(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.noop(), (250, b"Ok"))
        self.assertEqual(c.rset(), (250, b"Ok"))
        self.assertEqual(c.quit(), (221, b"Bye"))
        self.assertEqual(s.transactions(), [])


# --------------------------------------------------------------- who may log in
class Credentials(Base):
    def test_v4_plain_initial_response(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4),
                         (235, "Authentication successful."))

    def test_v4_plain_on_continuation(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.docmd("AUTH", "PLAIN"), (334, b""))
        self.assertEqual(c.docmd(plain_blob(EXAMPLE_KEY_ID, self.v4)),
                         (235, b"Authentication successful."))
        self.assertEqual(s.auth_attempts()[0]["result"], "accepted")

    def test_v4_login(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(self.auth(c, "LOGIN", EXAMPLE_KEY_ID, self.v4,
                                   initial_response_ok=False),
                         (235, "Authentication successful."))
        self.assertEqual(s.auth_attempts()[0]["mechanism"], "LOGIN")

    def test_v4_login_challenges_are_ses_ones(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.docmd("AUTH", "LOGIN"), (334, b"VXNlcm5hbWU6"))
        self.assertEqual(c.docmd(b64(EXAMPLE_KEY_ID)), (334, b"UGFzc3dvcmQ6"))
        self.assertEqual(c.docmd(b64(self.v4)), (235, b"Authentication successful."))

    def test_v4_login_with_initial_user(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(self.auth(c, "LOGIN", EXAMPLE_KEY_ID, self.v4),
                         (235, "Authentication successful."))

    def test_login_with_smtplib_login(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.login(EXAMPLE_KEY_ID, self.v4), (235, b"Authentication successful."))

    def test_wrong_region(self):
        s = self.server()
        self.assertRefused(s, EXAMPLE_KEY_ID, self.v4_other, "wrong_region")
        self.assertRefused(s, EXAMPLE_KEY_ID, self.v4_other, "wrong_region", "LOGIN")
        # and the same password is right on that region's server
        other = self.server(region=OTHER_REGION)
        c = self.connect(other)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4_other)[0], 235)

    def test_v2_password(self):
        self.assertTrue(self.v2.startswith("A"))
        s = self.server()
        self.assertRefused(s, EXAMPLE_KEY_ID, self.v2, "v2_password")
        self.assertRefused(s, EXAMPLE_KEY_ID, self.v2, "v2_password", "LOGIN")

    def test_secret_as_password(self):
        s = self.server()
        self.assertRefused(s, EXAMPLE_KEY_ID, EXAMPLE_SECRET, "secret_as_password")

    def test_wrong_password(self):
        s = self.server()
        wrong = self.v4[:-1] + ("B" if self.v4.endswith("A") else "A")
        self.assertRefused(s, EXAMPLE_KEY_ID, wrong, "wrong_password")
        self.assertRefused(s, EXAMPLE_KEY_ID, "", "wrong_password")

    def test_inactive_key(self):
        s = self.server()
        self.iam.set_access_key(EXAMPLE_KEY_ID, status="Inactive")
        self.assertRefused(s, EXAMPLE_KEY_ID, self.v4, "inactive_key")
        self.assertRefused(s, EXAMPLE_KEY_ID, self.v4, "inactive_key", "LOGIN")
        # the key store is read live: active again, accepted again
        self.iam.set_access_key(EXAMPLE_KEY_ID, status="Active")
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)

    def test_unknown_key(self):
        s = self.server()
        self.assertRefused(s, "AKIAFAKEUNKNOWNKEY00", self.v4, "unknown_key")
        self.assertRefused(s, EXAMPLE_KEY_ID.lower(), self.v4, "unknown_key")
        self.assertRefused(s, "", self.v4, "unknown_key")

    def test_caller_without_iam_user_key(self):
        # the stand-in's temporary (ASIA) caller is no IAM user key: never an SMTP login
        s = self.server()
        sess = self.iam.session
        pw = fake_ses_smtp.smtp_password_v4(sess["secret_access_key"], REGION)
        self.assertRefused(s, sess["access_key_id"], pw, "unknown_key")

    def test_key_from_seed_user(self):
        u = self.iam.seed_user("seeded-%d" % time.monotonic_ns(), access_keys=1)
        k = u["access_keys"][0]
        self.assertIsInstance(k["created_mono"], float)
        s = self.server()
        c = self.connect(s)
        pw = fake_ses_smtp.smtp_password_v4(k["secret_access_key"], REGION)
        self.assertEqual(self.auth(c, "LOGIN", k["access_key_id"], pw)[0], 235)

    def test_cancelled_and_malformed_auth(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.docmd("AUTH", "LOGIN"), (334, b"VXNlcm5hbWU6"))
        self.assertEqual(c.docmd("*")[0], 501)
        self.assertEqual(c.docmd("AUTH", "PLAIN !!!notbase64")[0], 501)
        self.assertEqual(c.docmd("AUTH", "PLAIN " + b64("no-nul-bytes"))[0], 501)
        self.assertEqual(c.docmd("AUTH", "CRAM-MD5")[0], 504)
        self.assertEqual([a["result"] for a in s.auth_attempts()],
                         ["cancelled", "malformed", "malformed", "unsupported"])
        # still usable afterwards
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)

    @unittest.skipUnless(os.access(AWS, os.X_OK), "no AWS CLI")
    def test_key_made_by_aws_cli(self):
        """CreateAccessKey as the real AWS CLI sends it; DeleteAccessKey the same."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        for n in ("config", "credentials"):
            open(os.path.join(tmp, n), "w").close()
        admin = self.iam.admin
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8", "AWS_PAGER": "",
               "AWS_CONFIG_FILE": os.path.join(tmp, "config"),
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "credentials"),
               "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": admin["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": admin["secret_access_key"]}

        def aws(*args):
            p = subprocess.run([AWS, "--endpoint-url", self.iam.url, "--ca-bundle",
                                self.iam.ca_file, "--output", "json", "iam", *args],
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else None

        user = "cli-%d" % time.monotonic_ns()
        aws("create-user", "--user-name", user)
        key = aws("create-access-key", "--user-name", user)["AccessKey"]
        akid, secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.assertIsInstance(self.iam.access_key(akid)["created_mono"], float)
        s = self.server()
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", akid,
                                   fake_ses_smtp.smtp_password_v4(secret, REGION))[0], 235)
        c.quit()
        aws("delete-access-key", "--user-name", user, "--access-key-id", akid)
        self.assertRefused(s, akid, fake_ses_smtp.smtp_password_v4(secret, REGION),
                           "unknown_key")


# ------------------------------------------------------------------------ TLS
class TLS(Base):
    def test_ca_file_is_iams(self):
        s = self.server()
        self.assertEqual(s.ca_file, self.iam.ca_file)
        self.assertTrue(os.path.exists(s.ca_file))
        s2 = self.server(mode="tls")
        self.assertEqual(s2.ca_file, self.iam.ca_file)

    def test_certificate_verified_for_127_0_0_1(self):
        s = self.server(mode="tls")
        ctx = self.tls_context(s)
        with socket.create_connection(("127.0.0.1", s.port), timeout=TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
                self.assertIsNotNone(t.getpeercert())
                self.assertTrue(t.recv(1024).startswith(b"220 email-smtp.amazonaws.com"))

    def test_certificate_refused_for_other_name(self):
        s = self.server(mode="tls")
        ctx = self.tls_context(s)
        with socket.create_connection(("127.0.0.1", s.port), timeout=TIMEOUT) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(raw, server_hostname="email-smtp.eu-west-1.amazonaws.com")

    def test_certificate_refused_without_the_ca(self):
        s = self.server()
        c = smtplib.SMTP("127.0.0.1", s.port, timeout=TIMEOUT)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        ctx = ssl.create_default_context(cadata=_unrelated_ca_pem())
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.starttls(context=ctx)

    def test_implicit_tls_mode(self):
        s = self.server(mode="tls")
        self.assertEqual(s.url, "smtps://127.0.0.1:%d" % s.port)
        c = self.connect(s)
        self.assertFalse(c.has_extn("starttls"))
        self.assertEqual(c.esmtp_features.get("auth", "").split(), ["PLAIN", "LOGIN"])
        self.assertEqual(c.docmd("STARTTLS")[0], 454)
        self.assertEqual(self.auth(c, "LOGIN", EXAMPLE_KEY_ID, self.v4,
                                   initial_response_ok=False)[0], 235)
        a = s.auth_attempts()
        self.assertEqual((a[0]["result"], a[0]["tls"]), ("accepted", True))

    def test_implicit_tls_refuses_plain_text(self):
        s = self.server(mode="tls")
        with socket.create_connection(("127.0.0.1", s.port), timeout=TIMEOUT) as raw:
            raw.sendall(b"EHLO client.test\r\n")
            data = b""
            try:
                while True:
                    chunk = raw.recv(1024)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        self.assertNotIn(b"220 email-smtp", data)
        self.assertEqual(s.auth_attempts(), [])

    def test_url_and_port(self):
        s = self.server()
        self.assertEqual(s.url, "smtp://127.0.0.1:%d" % s.port)
        self.assertGreater(s.port, 0)


_UNRELATED_CA = None


def _unrelated_ca_pem():
    """A CA that did not sign the server certificate."""
    global _UNRELATED_CA
    if _UNRELATED_CA is None:
        from standins import tls as tlsutil
        d = tempfile.mkdtemp()
        try:
            with open(tlsutil.make_ca_and_server_cert(d).ca_file) as f:
                _UNRELATED_CA = f.read()
        finally:
            shutil.rmtree(d, True)
    return _UNRELATED_CA


# ------------------------------------------------------------ propagation delay
class Propagation(Base):
    DELAY = 0.5

    def new_key(self):
        u = self.iam.seed_user("prop-%d" % time.monotonic_ns(), access_keys=1)
        k = u["access_keys"][0]
        return k["access_key_id"], fake_ses_smtp.smtp_password_v4(k["secret_access_key"],
                                                                  REGION)

    def test_refused_before_accepted_after(self):
        s = self.server(propagation_delay=self.DELAY)
        akid, pw = self.new_key()
        c = self.connect(s)
        # restart the key's clock right before the attempt, so a slow machine
        # cannot turn this into an "after"
        self.iam.set_access_key(akid, created_mono=time.monotonic())
        born = self.iam.access_key(akid)["created_mono"]
        self.assertEqual(self.auth(c, "PLAIN", akid, pw),
                         (535, "Authentication Credentials Invalid"))
        self.assertLess(time.monotonic() - born, self.DELAY)
        self.assertEqual(s.auth_attempts()[-1]["reason"], "not_propagated")
        time.sleep(max(0.0, born + self.DELAY + 0.05 - time.monotonic()))
        # same session: SES lets a client try again after a 535
        self.assertEqual(self.auth(c, "PLAIN", akid, pw),
                         (235, "Authentication successful."))
        self.assertEqual([a["result"] for a in s.auth_attempts()], ["refused", "accepted"])

    def test_set_delay(self):
        s = self.server()
        akid, pw = self.new_key()
        s.set_delay(60)
        self.assertEqual(s.propagation_delay, 60.0)
        c = self.connect(s)
        self.assertEqual(self.auth(c, "LOGIN", akid, pw)[0], 535)
        s.set_delay(0)
        self.assertEqual(self.auth(c, "LOGIN", akid, pw)[0], 235)

    def test_old_keys_are_propagated(self):
        # EXAMPLE_KEY_ID was seeded with an explicit 2024 CreateDate: no created_mono
        self.assertIsNone(self.iam.access_key(EXAMPLE_KEY_ID)["created_mono"])
        s = self.server(propagation_delay=3600)
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)


# ------------------------------------------------------------ what gets logged
class Logs(Base):
    def test_quit_right_after_235_records_no_transaction(self):
        s = self.server()
        for mech in ("PLAIN", "LOGIN"):
            c = self.connect(s)
            self.assertEqual(self.auth(c, mech, EXAMPLE_KEY_ID, self.v4)[0], 235)
            self.assertEqual(c.quit(), (221, b"Bye"))
        # and a client that just hangs up after 235
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)
        c.close()
        # the server is still serving
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)
        c.quit()
        self.assertEqual(s.transactions(), [])
        self.assertEqual([a["result"] for a in s.auth_attempts()], ["accepted"] * 4)
        self.assertEqual(s.connections_accepted, 4)

    def test_mail_after_auth_is_recorded_not_delivered(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)
        self.assertEqual(c.mail("sender@example.com"), (250, b"Ok"))
        self.assertEqual(c.rcpt("success@simulator.amazonses.com"), (250, b"Ok"))
        code, msg = c.data(b"Subject: t\r\n\r\nhello\r\n")
        self.assertEqual(code, 250)
        self.assertRegex(msg.decode(), r"^Ok [0-9a-f]{16}-[0-9a-f-]{36}-000000$")
        c.quit()
        txn = s.transactions()
        self.assertEqual([(t["command"], t["user"], t["tls"]) for t in txn],
                         [("MAIL", EXAMPLE_KEY_ID, True), ("RCPT", EXAMPLE_KEY_ID, True),
                          ("DATA", EXAMPLE_KEY_ID, True)])
        self.assertEqual(txn[0]["arg"], "FROM:<sender@example.com>")
        self.assertEqual(txn[0]["reply"], "250 Ok")
        self.assertTrue(txn[2]["reply"].startswith("250 Ok "))

    def test_mail_without_auth_after_tls(self):
        s = self.server()
        c = self.connect(s)
        self.assertEqual(c.mail("sender@example.com"), (530, b"Authentication required"))
        self.assertEqual(c.docmd("RCPT", "TO:<x@example.com>"),
                         (530, b"Authentication required"))
        self.assertEqual(c.docmd("DATA"), (530, b"Authentication required"))
        self.assertEqual([(t["command"], t["user"], t["reply"]) for t in s.transactions()],
                         [("MAIL", None, "530 Authentication required"),
                          ("RCPT", None, "530 Authentication required"),
                          ("DATA", None, "530 Authentication required")])

    def test_clear_log(self):
        s = self.server()
        c = self.connect(s)
        self.auth(c, "PLAIN", EXAMPLE_KEY_ID, "nope")
        c.mail("a@example.com")
        self.assertEqual(len(s.auth_attempts()), 1)
        self.assertEqual(len(s.transactions()), 1)
        s.clear_log()
        self.assertEqual(s.auth_attempts(), [])
        self.assertEqual(s.transactions(), [])

    def test_logs_are_copies(self):
        s = self.server()
        c = self.connect(s)
        self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)
        s.auth_attempts()[0]["result"] = "tampered"
        self.assertEqual(s.auth_attempts()[0]["result"], "accepted")

    def test_concurrent_clients(self):
        s = self.server()
        results, errors = [], []

        def one(i):
            try:
                with smtplib.SMTP("127.0.0.1", s.port, timeout=TIMEOUT) as c:
                    c.starttls(context=ssl.create_default_context(cafile=s.ca_file))
                    pw = self.v4 if i % 2 == 0 else self.v2
                    try:
                        results.append(c.login(EXAMPLE_KEY_ID, pw)[0])
                    except smtplib.SMTPAuthenticationError as e:
                        results.append(e.smtp_code)
            except Exception as e:      # reported below, in the main thread
                errors.append(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(results), [235] * 4 + [535] * 4)
        a = s.auth_attempts()
        # smtplib.login tries PLAIN then LOGIN after a 535: 4 + 2 * 4 attempts
        self.assertEqual(len(a), 12)
        self.assertEqual(sum(x["result"] == "accepted" for x in a), 4)
        self.assertEqual(sorted(x["time"] for x in a), [x["time"] for x in a])


# -------------------------------------------------------------------- lifecycle
class Lifecycle(Base):
    def test_start_smtp_servers(self):
        servers = start_smtp_servers(self.iam, [REGION, OTHER_REGION], delay=0.25)
        self.servers.extend(servers)
        self.assertEqual([s.region for s in servers], [REGION, OTHER_REGION])
        self.assertEqual({s.mode for s in servers}, {"starttls"})
        self.assertEqual([s.propagation_delay for s in servers], [0.25, 0.25])
        self.assertNotEqual(servers[0].port, servers[1].port)
        for s, right, wrong in ((servers[0], self.v4, self.v4_other),
                                (servers[1], self.v4_other, self.v4)):
            c = self.connect(s)
            self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, wrong)[0], 535)
            self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, right)[0], 235)
            c.quit()

    def test_start_smtp_servers_tls(self):
        servers = start_smtp_servers(self.iam, [REGION], mode="tls")
        self.servers.extend(servers)
        self.assertTrue(servers[0].url.startswith("smtps://"))
        c = self.connect(servers[0])
        self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)

    def test_stop_closes_port_and_open_sessions(self):
        s = FakeSESSMTP(self.iam, region=REGION).start()
        port = s.port
        c = self.connect(s)
        s.stop()
        with self.assertRaises((smtplib.SMTPServerDisconnected, ConnectionError, OSError)):
            c.noop()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
        s.stop()                                  # idempotent

    def test_context_manager_and_fixed_port(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with FakeSESSMTP(self.iam, region=REGION, port=port) as s:
            self.assertEqual(s.port, port)
            c = self.connect(s)
            self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)
            c.quit()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()

    def test_bad_mode(self):
        with self.assertRaises(ValueError):
            FakeSESSMTP(self.iam, mode="ssl")

    def test_without_an_https_iam(self):
        with FakeIAM(tls=False) as plain_iam:
            plain_iam.seed_user("u", access_keys=[{"access_key_id": EXAMPLE_KEY_ID,
                                                   "secret_access_key": EXAMPLE_SECRET}])
            with FakeSESSMTP(plain_iam, region=REGION, mode="tls") as s:
                self.assertIsNone(plain_iam.ca_file)
                self.assertTrue(os.path.exists(s.ca_file))
                c = self.connect(s)
                self.assertEqual(self.auth(c, "PLAIN", EXAMPLE_KEY_ID, self.v4)[0], 235)
                c.quit()
                ca = s.ca_file
            self.assertFalse(os.path.exists(ca))


if __name__ == "__main__":
    unittest.main()
