"""The README's bad-input table, row by row: each kind of bad input a user
or a network can hand sesctl, and what the user sees (exit code and the
words that tell them what to do). Every row here is a line of that table."""
import http.server
import os
import socketserver
import subprocess
import tempfile
import threading
import unittest

from standins.iam import FakeIAM
from sesctl_test import (EXAMPLE_SECRET, SesctlTestCase, clean_env, command)


class RawServer:
    """A plain-HTTP loopback server that answers every request with one
    canned response: for what no IAM would ever send."""

    def __init__(self, status, ctype, body):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                self.rfile.read(n)
                outer.hits += 1
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.hits = 0
        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class BadInput(SesctlTestCase):
    def setUp(self):
        self.iam = FakeIAM(tls=True, seed=5)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        self.env = clean_env(HOME=self.tmp, SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region="eu-west-1"))

    def sesctl(self, *args, env=None, stdin=b""):
        return subprocess.run(command(args), input=stdin,
                              capture_output=True, env=env or self.env,
                              timeout=120)

    def expect(self, p, code, *words):
        self.assertEqual(p.returncode, code, p.stderr)
        self.assertEqual(p.stdout, b"")
        for w in words:
            self.assertIn(w.encode(), p.stderr)

    # -- arguments ---------------------------------------------------------

    def test_malformed_region(self):
        self.expect(self.sesctl("smtp", "enable", "--region", "EU-WEST-1"),
                    2, "did you mean 'eu-west-1'")
        self.expect(self.sesctl("smtp", "enable", "--region", "eu-west-1b"),
                    2, "availability zone")
        self.expect(self.sesctl("smtp", "enable", "--region",
                                "email-smtp.eu-west-1.amazonaws.com"),
                    2, "is an SMTP host; pass the region, "
                       "'--region eu-west-1'")
        self.assertEqual(self.iam.requests, [])

    def test_user_name_outside_iam_rules(self):
        self.expect(self.sesctl("smtp", "enable", "--name", "my app"), 2,
                    "invalid --name")
        self.expect(self.sesctl("smtp", "enable", "--user-name", "x" * 65),
                    2, "1 to 64")
        self.expect(self.sesctl("smtp", "enable", "--name", "y" * 60), 2,
                    "too long")
        self.assertEqual(self.iam.requests, [])

    def test_secret_on_the_command_line(self):
        self.expect(self.sesctl("smtp", "derive", "--region", "us-east-1",
                                EXAMPLE_SECRET), 2,
                    "never read from the command line")

    def test_symlink_as_output_file(self):
        target = os.path.join(self.tmp, "target")
        link = os.path.join(self.tmp, "link.env")
        os.symlink(target, link)
        self.expect(self.sesctl("smtp", "enable", "--output-file", link), 2,
                    "link.env")
        self.assertFalse(os.path.exists(target))
        self.assertEqual(self.iam.requests, [])

    # -- the caller's configuration ------------------------------------------

    def test_bad_profile_file(self):
        cfg = os.path.join(self.tmp, "config")
        with open(cfg, "w") as f:
            f.write("[profile mail]\nregion = eu-west-1\nthis is not ini\n")
        env = clean_env(HOME=self.tmp, AWS_CONFIG_FILE=cfg,
                        AWS_PROFILE="mail")
        self.expect(self.sesctl("smtp", "status", env=env), 1,
                    cfg, "line 3")

    def test_no_credentials(self):
        env = clean_env(HOME=self.tmp, AWS_REGION="eu-west-1")
        self.expect(self.sesctl("smtp", "status", env=env), 1,
                    "no AWS credentials", "aws configure")

    # -- what comes back over the network ------------------------------------

    def test_truncated_xml(self):
        self.iam.add_fault("truncated_xml", "GetUser", times=None)
        self.expect(self.sesctl("smtp", "status"), 6, "GetUser")

    def test_malformed_xml(self):
        self.iam.seed_user("sesctl-smtp", path="/sesctl/",
                           tags={"ManagedBy": "sesctl"})
        self.iam.add_fault("malformed_xml", "GetUser")
        self.expect(self.sesctl("smtp", "status"), 6, "GetUser")

    def test_huge_answer(self):
        srv = RawServer(200, "text/xml", b"<a>" + b"x" * (2 << 20) + b"</a>")
        self.addCleanup(srv.close)
        env = dict(self.env, AWS_ENDPOINT_URL_IAM=srv.url)
        self.expect(self.sesctl("smtp", "status", env=env), 6,
                    "larger than 1048576 bytes")

    def test_unexpected_http_status(self):
        srv = RawServer(404, "text/plain", b"no such thing")
        self.addCleanup(srv.close)
        env = dict(self.env, AWS_ENDPOINT_URL_IAM=srv.url + "/")
        self.expect(self.sesctl("smtp", "status", env=env), 1,
                    "unexpected HTTP 404",
                    "is the endpoint URL (from AWS_ENDPOINT_URL_IAM) right?")
        # status's first round is eleven reads at once (the user, its
        # policy and keys, everything else attached); a 4xx is not
        # retried, so each is sent once
        self.assertEqual(srv.hits, 11)

    def test_html_error_page(self):
        self.iam.add_fault("html_error", "GetUser", times=None)
        self.expect(self.sesctl("smtp", "status"), 6, "HTTP 502",
                    "gave up after 3 attempts")

    def test_clock_skew(self):
        env = dict(self.env, SESCTL_TEST_NOW="1500000000")  # 2017
        self.expect(self.sesctl("smtp", "status", env=env), 3, "clock")
        self.iam.add_fault("error", "GetUser", status=400,
                           code="RequestTimeTooSkewed",
                           message="The difference between the request "
                                   "time and the current time is too large.")
        self.expect(self.sesctl("smtp", "status"), 3, "clock")

    def test_plain_http_to_a_remote_host(self):
        env = dict(self.env, AWS_ENDPOINT_URL_IAM="http://iam.example.com")
        self.expect(self.sesctl("smtp", "status", env=env), 2, "plain http")


if __name__ == "__main__":
    unittest.main()
