"""Which CA certificates sesctl trusts, over real HTTPS to the IAM stand-in
and over real STARTTLS to the SES SMTP stand-in (`smtp verify`, and
`--verify` on enable).

Three ways to trust: --ca-bundle FILE, AWS_CA_BUNDLE=FILE, and neither
(the system's CAs: its hashed CA directory, looked up per certificate, or
its bundle file where there is no hashed directory).  Each must verify the
stand-in's certificate when its CA is trusted and refuse it when only
another CA is.  The system's directory and file are stood in for with
SESCTL_TEST_SYSTEM_CA_DIR and SESCTL_TEST_SYSTEM_CA_FILE (test builds
only), so nothing is installed system-wide; the directory is made with
`openssl rehash`, as update-ca-certificates makes /etc/ssl/certs.

Also: a bundle is read once per process however many connections and
clients (STS, then IAM; IAM, then an SMTP login; one SMTP login per
region) there are, and a later connection resumes the TLS session of an
earlier one."""
import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

from standins.iam import FakeIAM
from standins.ses_smtp import start_smtp_servers
from standins.tls import make_ca_and_server_cert
from sesctl_test import SesctlTestCase, clean_env, command, smtp_password

USER = "sesctl-smtp"
REGION = "eu-west-1"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]}
NETWORK = 6


def hashed_dir(path, *pems):
    """A CA directory as OpenSSL looks one up: the PEM files and, beside
    them, a link named by each certificate's subject hash."""
    os.makedirs(path)
    for i, pem in enumerate(pems):
        shutil.copy(pem, os.path.join(path, "ca-%d.pem" % i))
    subprocess.run(["openssl", "rehash", path], check=True,
                   capture_output=True)
    links = [n for n in os.listdir(path) if n.endswith(".0")]
    assert len(links) == len(pems), links
    return path


class TrustBase(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=31)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.iam.seed_user(USER, path="/sesctl/", access_keys=1,
                           tags={"ManagedBy": "sesctl", "SesctlName": "default"},
                           inline_policies={"sesctl-ses-send": POLICY})
        self.good = self.iam.ca_file
        # A CA that did not sign the stand-in's certificate.
        self.other = make_ca_and_server_cert(
            os.path.join(self.tmp, "other"), common_name="another").ca_file
        self.good_dir = hashed_dir(os.path.join(self.tmp, "good.d"), self.good)
        self.other_dir = hashed_dir(os.path.join(self.tmp, "other.d"),
                                    self.other)
        # The CA's file in a directory without hash links: not a CA
        # directory OpenSSL can look anything up in.
        self.plain_dir = os.path.join(self.tmp, "plain.d")
        os.mkdir(self.plain_dir)
        shutil.copy(self.good, self.plain_dir)
        env = self.iam.env(region=REGION)
        del env["AWS_CA_BUNDLE"]
        # By default the stand-in's CA is nowhere in the "system's" CAs.
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                             SESCTL_TEST_SYSTEM_CA_DIR=self.other_dir,
                             SESCTL_TEST_SYSTEM_CA_FILE=self.other, **env)

    def store_lines(self):
        return [line for line in self.err.splitlines()
                if "debug: CA store: " in line]

    def bundle_of(self, n_extra):
        """A bundle of `n_extra` CAs that signed nothing here, then the
        stand-ins' CA."""
        extra = [make_ca_and_server_cert(os.path.join(self.tmp, "x%d" % i),
                                         common_name="extra %d" % i).ca_file
                 for i in range(n_extra)]
        bundle = os.path.join(self.tmp, "bundle.pem")
        with open(bundle, "w") as out:
            for pem in extra + [self.good]:
                with open(pem) as f:
                    out.write(f.read())
        return bundle


class CATrust(TrustBase):
    def status(self, *args, code=0, **extra):
        env = dict(self.env, **extra)
        p = subprocess.run(command(["--debug", "smtp", "status"] + list(args)),
                           capture_output=True, env=env, timeout=120)
        self.err = p.stderr.decode()
        self.assertEqual(p.returncode, code,
                         "exit %d, want %d\nstderr: %s" % (
                             p.returncode, code, self.err[-3000:]))
        return p.stdout.decode()

    def assert_verified(self):
        answered = [r for r in self.iam.requests if r["status"] == 200]
        self.assertTrue(answered)
        self.assertTrue(all(r["sigv4"]["ok"] for r in answered))

    def assert_refused(self):
        self.assertIn("TLS verification of '%s' failed" % self.iam.url,
                      self.err)
        self.assertEqual(self.iam.requests, [])

    # ---- --ca-bundle ------------------------------------------------------

    def test_ca_bundle_option_verifies(self):
        self.status("--ca-bundle", self.good)
        self.assert_verified()
        self.assertEqual(len(self.store_lines()), 1)
        self.assertIn("1 certificates from '%s'" % self.good,
                      self.store_lines()[0])

    def test_ca_bundle_option_refuses_another_ca(self):
        self.status("--ca-bundle", self.other, code=NETWORK)
        self.assert_refused()

    def test_ca_bundle_option_wins_over_env(self):
        self.status("--ca-bundle", self.good, AWS_CA_BUNDLE=self.other)
        self.assert_verified()
        self.status("--ca-bundle", self.other, code=NETWORK,
                    AWS_CA_BUNDLE=self.good)

    # ---- AWS_CA_BUNDLE ------------------------------------------------------

    def test_aws_ca_bundle_verifies(self):
        self.status(AWS_CA_BUNDLE=self.good)
        self.assert_verified()

    def test_aws_ca_bundle_refuses_another_ca(self):
        self.status(code=NETWORK, AWS_CA_BUNDLE=self.other)
        self.assert_refused()

    def test_bundle_adds_to_the_system_directory(self):
        # As libcurl's default CApath did beside CURLOPT_CAINFO: a bundle
        # of a proxy's CA does not stop the system's CAs from verifying.
        self.status(AWS_CA_BUNDLE=self.other,
                    SESCTL_TEST_SYSTEM_CA_DIR=self.good_dir)
        self.assert_verified()
        # ...but not the system's bundle file, which is not read then
        self.iam.clear_requests()
        self.status(code=NETWORK, AWS_CA_BUNDLE=self.other,
                    SESCTL_TEST_SYSTEM_CA_DIR=self.plain_dir,
                    SESCTL_TEST_SYSTEM_CA_FILE=self.good)
        self.assert_refused()

    def test_unreadable_bundle(self):
        missing = os.path.join(self.tmp, "missing.pem")
        self.status(code=NETWORK, AWS_CA_BUNDLE=missing)
        self.assertIn("no CA certificates could be read from '%s'" % missing,
                      self.err)
        not_pem = os.path.join(self.tmp, "not.pem")
        with open(not_pem, "w") as f:
            f.write("not a certificate\n")
        self.status("--ca-bundle", not_pem, code=NETWORK)
        self.assertIn("no CA certificates could be read from '%s'" % not_pem,
                      self.err)
        self.assertEqual(self.iam.requests, [])

    # ---- the system's CAs -------------------------------------------------

    def test_default_hashed_directory_verifies(self):
        # The directory alone: the system file, another CA's, is not read.
        self.status(SESCTL_TEST_SYSTEM_CA_DIR=self.good_dir)
        self.assert_verified()
        self.assertEqual(self.store_lines(), [
            "sesctl: debug: CA store: the system's hashed directory '%s', "
            "each issuer read when a certificate needs it" % self.good_dir])

    def test_default_hashed_directory_refuses_another_ca(self):
        self.status(code=NETWORK, SESCTL_TEST_SYSTEM_CA_DIR=self.other_dir,
                    SESCTL_TEST_SYSTEM_CA_FILE=self.good)
        self.assert_refused()
        self.assertIn("for a private CA pass --ca-bundle", self.err)

    def test_default_file_where_no_hashed_directory(self):
        self.status(SESCTL_TEST_SYSTEM_CA_DIR=self.plain_dir,
                    SESCTL_TEST_SYSTEM_CA_FILE=self.good)
        self.assert_verified()
        self.assertEqual(self.store_lines(), [
            "sesctl: debug: CA store: 1 certificates from '%s' (no hashed CA "
            "directory at '%s')" % (self.good, self.plain_dir)])
        self.iam.clear_requests()
        self.status(code=NETWORK,
                    SESCTL_TEST_SYSTEM_CA_DIR=os.path.join(self.tmp, "none"),
                    SESCTL_TEST_SYSTEM_CA_FILE=self.other)
        self.assert_refused()

    # ---- read once, sessions shared -----------------------------------------

    def test_bundle_read_once_per_process(self):
        # status opens several connections (three at once, here on one
        # client); assume-role adds an STS client before the IAM one.
        # Every CA in the bundle is parsed once for all of them.
        bundle = self.bundle_of(3)
        self.status(AWS_CA_BUNDLE=bundle)
        self.assert_verified()
        self.assertGreaterEqual(len(self.iam.iam_connection_ids()), 2)
        self.assertEqual(len(self.store_lines()), 1, self.store_lines())
        self.assertIn("4 certificates from '%s'" % bundle,
                      self.store_lines()[0])

        role = self.iam.add_role("sesctl-admin")
        admin = self.iam.admin
        os.makedirs(os.path.join(self.tmp, ".aws"), exist_ok=True)
        with open(os.path.join(self.tmp, ".aws", "config"), "w") as f:
            f.write(textwrap.dedent("""\
                [profile base]
                aws_access_key_id = %s
                aws_secret_access_key = %s
                [profile deploy]
                role_arn = %s
                source_profile = base
                """ % (admin["access_key_id"], admin["secret_access_key"],
                       role["arn"])))
        env = {k: v for k, v in self.env.items()
               if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        self.iam.clear_requests()
        p = subprocess.run(command(["--debug", "--profile", "deploy", "smtp",
                                    "status"]),
                           capture_output=True, timeout=120,
                           env=dict(env, AWS_CA_BUNDLE=bundle,
                                    AWS_ENDPOINT_URL_STS=self.iam.url))
        self.err = p.stderr.decode()
        self.assertEqual(p.returncode, 0, self.err[-3000:])
        actions = [r["action"] for r in self.iam.requests]
        self.assertEqual(actions[0], "AssumeRole")
        self.assertIn("GetUser", actions)
        self.assertEqual(len(self.store_lines()), 1, self.store_lines())

    def test_new_connection_resumes_the_tls_session(self):
        # enable opens two connections at once (a full handshake each);
        # the stand-in closes them both instead of answering TagUser (the
        # record; libcurl sends it again on the other one), and what
        # follows goes out on a new connection: that one resumes the
        # first ones' TLS session (shared by every handle of the client).
        self.iam.add_fault("close_before", "TagUser", times=2)
        p = subprocess.run(command(["--debug", "smtp", "enable", "--name",
                                    "fresh"]),
                           capture_output=True, timeout=120,
                           env=dict(self.env, AWS_CA_BUNDLE=self.good))
        self.err = p.stderr.decode()
        self.assertEqual(p.returncode, 0, self.err[-3000:])
        self.assert_verified()
        # (one or two new connections, as libcurl spreads what follows;
        # a second one made at the same moment may not resume)
        self.assertGreaterEqual(self.iam.tls_handshakes, 3)
        self.assertGreaterEqual(self.iam.tls_resumed, 1)
        self.assertIn("SSL re-using session ID", self.err)
        self.assertEqual(len(self.store_lines()), 1)


SMTP_REGIONS = ("eu-west-1", "us-east-1")


class SMTPTrust(TrustBase):
    """The SMTP logins trust what the IAM connections trust, from the same
    store: `smtp verify` of a settings file with one block per region, each
    naming its own SES SMTP stand-in (STARTTLS, the IAM stand-in's
    certificate), logs in to every region in one run."""

    def setUp(self):
        super().setUp()
        self.smtp = start_smtp_servers(self.iam, SMTP_REGIONS)
        for server in self.smtp:
            self.addCleanup(server.stop)
        self.akid = self.iam.user(USER)["access_keys"][0]["access_key_id"]
        secret = self.iam.access_key(self.akid)["secret_access_key"]
        lines = ["SMTP_USER=%s" % self.akid]
        for server, region in zip(self.smtp, SMTP_REGIONS):
            sfx = region.upper().replace("-", "_")
            lines += ["SMTP_HOST_%s=127.0.0.1" % sfx,
                      "SMTP_PORT_%s=%d" % (sfx, server.port),
                      "SMTP_PASS_%s=%s" % (sfx, smtp_password(secret, region))]
        self.settings = os.path.join(self.tmp, "smtp.env")
        fd = os.open(self.settings, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")

    def run_sesctl(self, args, code=0, **extra):
        for server in self.smtp:
            server.clear_log()  # the logins of this run alone
        p = subprocess.run(command(["--debug"] + list(args)),
                           capture_output=True, env=dict(self.env, **extra),
                           stdin=subprocess.DEVNULL, timeout=120)
        self.err = p.stderr.decode()
        self.assertEqual(p.returncode, code,
                         "exit %d, want %d\nstderr: %s" % (
                             p.returncode, code, self.err[-3000:]))
        return p.stdout.decode()

    def verify(self, *args, code=0, **extra):
        return self.run_sesctl(["smtp", "verify", "--credentials-file",
                                self.settings] + list(args), code, **extra)

    def attempts(self):
        return [a for server in self.smtp for a in server.auth_attempts()]

    def assert_logged_in(self):
        """Every region's stand-in accepted the key, once, over TLS."""
        for server, region in zip(self.smtp, SMTP_REGIONS):
            self.assertEqual(
                [(a["user"], a["result"], a["tls"], a["region"])
                 for a in server.auth_attempts()],
                [(self.akid, "accepted", True, region)])
            self.assertIn("SES accepted the SMTP login of %s at "
                          "127.0.0.1:%d" % (self.akid, server.port), self.err)
        # one store for both logins
        self.assertEqual(len(self.store_lines()), 1, self.store_lines())

    def assert_refused(self):
        self.assertIn("TLS with 127.0.0.1:%d failed" % self.smtp[0].port,
                      self.err)
        self.assertIn("pass its certificates with --ca-bundle", self.err)
        self.assertEqual(self.attempts(), [])

    # ---- --ca-bundle ------------------------------------------------------

    def test_ca_bundle_option(self):
        self.verify("--ca-bundle", self.good, AWS_CA_BUNDLE=self.other)
        self.assert_logged_in()
        self.assertIn("1 certificates from '%s'" % self.good,
                      self.store_lines()[0])
        self.verify("--ca-bundle", self.other, code=NETWORK,
                    AWS_CA_BUNDLE=self.good)
        self.assert_refused()

    # ---- AWS_CA_BUNDLE ------------------------------------------------------

    def test_aws_ca_bundle(self):
        self.verify(AWS_CA_BUNDLE=self.good)
        self.assert_logged_in()
        self.verify(code=NETWORK, AWS_CA_BUNDLE=self.other)
        self.assert_refused()

    def test_bundle_adds_to_the_system_directory(self):
        # As libcurl's default CApath did beside the CURLOPT_CAINFO the
        # logins set before they shared the store.
        self.verify(AWS_CA_BUNDLE=self.other,
                    SESCTL_TEST_SYSTEM_CA_DIR=self.good_dir)
        self.assert_logged_in()

    def test_unreadable_bundle(self):
        missing = os.path.join(self.tmp, "missing.pem")
        self.verify(code=NETWORK, AWS_CA_BUNDLE=missing)
        self.assertIn("no CA certificates could be read from '%s' "
                      "(--ca-bundle or AWS_CA_BUNDLE)" % missing, self.err)
        # the fix is the file, not another --ca-bundle
        self.assertIn("name a readable PEM file of CA certificates",
                      self.err)
        self.assertNotIn("a proxy or private CA sits in between", self.err)
        self.assertEqual(self.attempts(), [])

    # ---- the system's CAs -------------------------------------------------

    def test_system_hashed_directory(self):
        self.verify(SESCTL_TEST_SYSTEM_CA_DIR=self.good_dir)
        self.assert_logged_in()
        self.assertIn("the system's hashed directory '%s'" % self.good_dir,
                      self.store_lines()[0])
        self.verify(code=NETWORK, SESCTL_TEST_SYSTEM_CA_DIR=self.other_dir,
                    SESCTL_TEST_SYSTEM_CA_FILE=self.good)
        self.assert_refused()

    def test_system_file_where_no_hashed_directory(self):
        self.verify(SESCTL_TEST_SYSTEM_CA_DIR=self.plain_dir,
                    SESCTL_TEST_SYSTEM_CA_FILE=self.good)
        self.assert_logged_in()
        self.verify(code=NETWORK, SESCTL_TEST_SYSTEM_CA_DIR=self.plain_dir,
                    SESCTL_TEST_SYSTEM_CA_FILE=self.other)
        self.assert_refused()

    # ---- read once --------------------------------------------------------

    def test_bundle_read_once_for_every_region(self):
        bundle = self.bundle_of(3)
        self.verify("--ca-bundle", bundle)
        self.assert_logged_in()
        self.assertIn("4 certificates from '%s'" % bundle,
                      self.store_lines()[0])

    def test_enable_verify_reads_the_cas_once_for_iam_and_smtp(self):
        # enable's IAM calls build the store; its login to SES uses it.
        for trust in ({"AWS_CA_BUNDLE": self.bundle_of(3)},
                      {"SESCTL_TEST_SYSTEM_CA_DIR": self.good_dir}):
            name = "fresh%d" % len(self.iam.requests)
            out = self.run_sesctl(["smtp", "enable", "--name", name,
                                   "--verify", "--smtp-endpoint-url",
                                   self.smtp[0].url], **trust)
            self.assertIn("SES accepted the SMTP login of", self.err)
            self.assertIn("SMTP_USER=", out)
            self.assertTrue(self.iam.requests)
            self.assertEqual(len(self.store_lines()), 1, self.store_lines())


if __name__ == "__main__":
    unittest.main()
