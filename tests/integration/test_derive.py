"""`sesctl smtp derive` as a user runs it: every known-answer row through
the real binary, every output format against its golden file, the secret
never taken from argv, a terminal prompt that does not echo, and bad input
(malformed regions, empty or odd secrets, unwritable stdout)."""
import json
import os
import pty
import select
import subprocess
import time
import unittest

from sesctl_test import (EXAMPLE_KEY_ID, EXAMPLE_SECRET, SOURCE_ROOT,
                         SesctlTestCase, clean_env, command, read_tsv, run)

GOLDEN = os.path.join(SOURCE_ROOT, "tests", "golden")


class DeriveVectors(SesctlTestCase):
    def test_every_v4_row(self):
        rows = read_tsv("smtp-password-v4.tsv")
        self.assertEqual(len(rows), 77)
        for row in rows:
            p = run(["smtp", "derive", "--region", row["region"]],
                    stdin=row["secret_access_key"])
            self.assertExit(p, 0)
            self.assertEqual(p.stdout.decode(), row["smtp_password"] + "\n",
                             row)

    def test_every_v2_row(self):
        rows = read_tsv("smtp-password-v2.tsv")
        self.assertEqual(len(rows), 16)
        for row in rows:
            p = run(["smtp", "derive", "--legacy-v2"],
                    stdin=row["secret_access_key"])
            self.assertExit(p, 0)
            self.assertEqual(p.stdout.decode(), row["smtp_password"] + "\n")
            self.assertIn(b"deprecated", p.stderr)
            self.assertIn(b"535", p.stderr)

    def test_published_rows(self):
        rows = read_tsv("smtp-password-published.tsv")
        self.assertEqual(len(rows), 8)
        for row in rows:
            args = ["smtp", "derive"]
            if row["version"] == "v2":
                args.append("--legacy-v2")
            else:
                args += ["--region", row["region"]]
            p = run(args, stdin=row["secret_access_key"])
            self.assertExit(p, 0)
            self.assertEqual(p.stdout.decode(),
                             row["published_smtp_password"] + "\n")

    def test_trailing_newline_and_crlf(self):
        for tail in ("\n", "\r\n"):
            p = run(["smtp", "derive", "--region", "us-east-2"],
                    stdin=EXAMPLE_SECRET + tail)
            self.assertExit(p, 0)
            self.assertEqual(p.stdout,
                             b"BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n")
            self.assertEqual(p.stderr, b"")

    def test_region_from_profile(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "config")
            with open(cfg, "w") as f:
                f.write("[default]\nregion = us-east-2\n"
                        "[profile eu]\nregion = eu-west-1\n")
            env = clean_env(HOME=d, AWS_CONFIG_FILE=cfg)
            p = run(["smtp", "derive"], stdin=EXAMPLE_SECRET, env=env)
            self.assertExit(p, 0)
            self.assertEqual(
                p.stdout, b"BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n")
            env["AWS_PROFILE"] = "eu"
            p = run(["smtp", "derive"], stdin=EXAMPLE_SECRET, env=env)
            self.assertEqual(p.stdout.decode(),
                             "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk\n")
            env["AWS_PROFILE"] = "missing"
            p = run(["smtp", "derive"], stdin=EXAMPLE_SECRET, env=env)
            self.assertExit(p, 2)
            self.assertEqual(p.stdout, b"")

    def test_from_env(self):
        env = clean_env(AWS_SECRET_ACCESS_KEY=EXAMPLE_SECRET,
                        AWS_REGION="us-east-2")
        p = run(["smtp", "derive", "--from-env"], env=env)
        self.assertExit(p, 0)
        self.assertEqual(p.stdout,
                         b"BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n")
        p = run(["smtp", "derive", "--from-env", "--region", "us-east-1"])
        self.assertExit(p, 1)
        self.assertIn(b"AWS_SECRET_ACCESS_KEY is not set", p.stderr)
        self.assertEqual(p.stdout, b"")


class DeriveFormats(SesctlTestCase):
    ARGS = ["smtp", "derive", "--region", "eu-west-1",
            "--access-key-id", EXAMPLE_KEY_ID]

    def golden(self, name):
        with open(os.path.join(GOLDEN, name), "rb") as f:
            return f.read()

    def test_formats_match_golden(self):
        for fmt in ("env", "export", "dotenv", "json", "postfix",
                    "k8s-secret"):
            extra = ["--k8s-name", "smtp"] if fmt == "k8s-secret" else []
            p = run(self.ARGS + ["--format", fmt] + extra,
                    stdin=EXAMPLE_SECRET)
            self.assertExit(p, 0)
            self.assertEqual(p.stdout, self.golden("derive." + fmt), fmt)
            self.assertEqual(p.stderr, b"", fmt)
        # env is the default once a user is known
        p = run(self.ARGS, stdin=EXAMPLE_SECRET)
        self.assertEqual(p.stdout, self.golden("derive.env"))

    def test_export_evaluates_in_a_shell(self):
        p = run(self.ARGS + ["--format", "export"], stdin=EXAMPLE_SECRET)
        sh = subprocess.run(
            ["sh", "-c", 'eval "$(cat)"; printf "%s|%s|%s|%s" '
             '"$SMTP_HOST" "$SMTP_PORT" "$SMTP_USER" "$SMTP_PASS"'],
            input=p.stdout, capture_output=True, check=True)
        want = run(["smtp", "derive", "--region", "eu-west-1"],
                   stdin=EXAMPLE_SECRET).stdout.decode().strip()
        self.assertEqual(sh.stdout.decode(), "|".join([
            "email-smtp.eu-west-1.amazonaws.com", "587", EXAMPLE_KEY_ID,
            want]))

    def test_json_parses(self):
        p = run(self.ARGS + ["--format", "json"], stdin=EXAMPLE_SECRET)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["host"], "email-smtp.eu-west-1.amazonaws.com")
        self.assertEqual(doc["port"], 587)
        self.assertEqual(doc["user"], EXAMPLE_KEY_ID)
        self.assertEqual(doc["region"], "eu-west-1")
        self.assertTrue(doc["password"].startswith("B"))

    def test_format_without_key_id_omits_user(self):
        p = run(["smtp", "derive", "--region", "eu-west-1", "--format",
                 "env"], stdin=EXAMPLE_SECRET)
        self.assertExit(p, 0)
        self.assertNotIn(b"SMTP_USER", p.stdout)
        self.assertIn(b"SMTP_HOST=email-smtp.eu-west-1.amazonaws.com\n",
                      p.stdout)
        p = run(["smtp", "derive", "--region", "eu-west-1", "--format",
                 "postfix"], stdin=EXAMPLE_SECRET)
        self.assertExit(p, 2)
        self.assertEqual(p.stdout, b"")

    def test_temporary_key_refused(self):
        p = run(["smtp", "derive", "--region", "eu-west-1",
                 "--access-key-id", "ASIAIOSFODNN7EXAMPLE"],
                stdin=EXAMPLE_SECRET)
        self.assertExit(p, 2)
        self.assertEqual(p.stdout, b"")
        self.assertIn(b"temporary", p.stderr)


class DeriveRefusals(SesctlTestCase):
    def test_positional_secret_refused(self):
        p = run(["smtp", "derive", "--region", "us-east-1", EXAMPLE_SECRET])
        self.assertExit(p, 2)
        self.assertEqual(p.stdout, b"")
        self.assertNotIn(EXAMPLE_SECRET.encode(), p.stderr)
        self.assertIn(b"never read from the command line", p.stderr)
        p = run(["smtp", "derive", "--region", "us-east-1", "SOMESECRET"],
                stdin=EXAMPLE_SECRET)
        self.assertExit(p, 2)
        self.assertEqual(p.stdout, b"")

    def test_positional_after_double_dash_refused(self):
        p = run(["smtp", "derive", "--region", "us-east-1", "--",
                 EXAMPLE_SECRET])
        self.assertExit(p, 2)
        self.assertEqual(p.stdout, b"")

    def test_malformed_regions(self):
        for region, hint in (("US-EAST-1", b"did you mean 'us-east-1'"),
                             ("us-east-1a", b"availability zone"),
                             ("email-smtp.us-west-2.amazonaws.com",
                              b"--region us-west-2"),
                             ("useast1", b"invalid region"),
                             ("us east 1", b"invalid region"),
                             ("x" * 200, b"too long")):
            p = run(["smtp", "derive", "--region", region],
                    stdin=EXAMPLE_SECRET)
            self.assertExit(p, 2)
            self.assertEqual(p.stdout, b"")
            self.assertIn(hint, p.stderr)

    def test_no_region(self):
        p = run(["smtp", "derive"], stdin=EXAMPLE_SECRET)
        self.assertExit(p, 2)
        self.assertIn(b"no region", p.stderr)
        self.assertEqual(p.stdout, b"")

    def test_unknown_but_well_formed_region_warns(self):
        p = run(["smtp", "derive", "--region", "xx-future-1",
                 "--access-key-id", EXAMPLE_KEY_ID], stdin=EXAMPLE_SECRET)
        self.assertExit(p, 0)
        self.assertIn(b"SMTP_HOST=email-smtp.xx-future-1.amazonaws.com",
                      p.stdout)
        self.assertIn(b"warning: region 'xx-future-1' is not in", p.stderr)

    def test_region_without_ses_warns(self):
        p = run(["smtp", "derive", "--region", "ap-east-1"],
                stdin=EXAMPLE_SECRET)
        self.assertExit(p, 0)
        self.assertIn(b"SES has no SMTP endpoint in 'ap-east-1'", p.stderr)
        self.assertEqual(len(p.stdout.strip()), 44)

    def test_regions_with_ses_but_no_smtp_endpoint(self):
        # the SES Developer Guide: no SMTP endpoints in these five; whole
        # settings would name a host that does not exist: refused, with
        # a region nearby that has one; the password alone: a warning
        for region, nearby in (("af-south-1", "eu-west-1"),
                               ("ap-southeast-3", "ap-southeast-1"),
                               ("eu-south-1", "eu-central-1"),
                               ("il-central-1", "me-central-1"),
                               ("me-south-1", "me-central-1")):
            p = run(["smtp", "derive", "--region", region,
                     "--access-key-id", EXAMPLE_KEY_ID], stdin=EXAMPLE_SECRET)
            self.assertExit(p, 2)
            self.assertEqual(p.stdout, b"")
            self.assertIn(b"SES has no SMTP endpoint in '%s'"
                          % region.encode(), p.stderr)
            self.assertIn(b"(--region %s)" % nearby.encode(), p.stderr)
            # the advice works
            p = run(["smtp", "derive", "--region", nearby,
                     "--access-key-id", EXAMPLE_KEY_ID], stdin=EXAMPLE_SECRET)
            self.assertExit(p, 0)
            self.assertIn(b"SMTP_HOST=email-smtp.%s.amazonaws.com"
                          % nearby.encode(), p.stdout)
            p = run(["smtp", "derive", "--region", region],
                    stdin=EXAMPLE_SECRET)
            self.assertExit(p, 0)
            self.assertIn(b"SES has no SMTP endpoint in '%s'"
                          % region.encode(), p.stderr)
        # and one that has: no warning
        p = run(["smtp", "derive", "--region", "eu-west-3"],
                stdin=EXAMPLE_SECRET)
        self.assertExit(p, 0)
        self.assertEqual(p.stderr, b"")

    def test_bad_secrets(self):
        cases = [
            (b"", 1, b"is empty"),
            (b"\n", 1, b"is empty"),
            (EXAMPLE_KEY_ID.encode(), 1, b"access key id"),
            (b"aws_secret_access_key = " + EXAMPLE_SECRET.encode(), 1,
             b"spaces, tabs or line breaks"),
            (b"AccessKeyId,Secret\nAKIA,xyz\n", 1,
             b"spaces, tabs or line breaks"),
            (b"x" * 300, 1, b"bytes long"),
            (b"x" * 70000, 1, b"more than"),
            (b"wJalrXUtnFEMI/K7\x00MDENG/bPxRfiCYEXAMPLEKE", 1,
             b"control characters"),
        ]
        for data, code, msg in cases:
            p = run(["smtp", "derive", "--region", "us-east-1"], stdin=data)
            self.assertExit(p, code)
            self.assertEqual(p.stdout, b"", data[:40])
            self.assertIn(msg, p.stderr)

    def test_suspicious_secrets_warn_but_derive(self):
        cases = [
            (b"some+secret+key", b"are 40"),
            (b"BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS",
             b"SMTP password already"),
            (b"wJalrXUtnFEMI-K7MDENG_bPxRfiCYEXAMPLEKEY", b"other than"),
        ]
        for data, msg in cases:
            p = run(["smtp", "derive", "--region", "us-east-1"], stdin=data)
            self.assertExit(p, 0)
            self.assertEqual(len(p.stdout), 45)
            self.assertIn(msg, p.stderr)


class DeriveOutput(SesctlTestCase):
    def test_dev_full_is_an_error(self):
        with open("/dev/full", "wb") as full:
            p = subprocess.run(command(["smtp", "derive", "--region",
                                        "us-east-1"]), input=EXAMPLE_SECRET.encode(),
                               stdout=full, stderr=subprocess.PIPE,
                               env=clean_env(), timeout=120)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot write to standard output", p.stderr)

    def test_closed_pipe_is_an_error(self):
        r, w = os.pipe()
        os.close(r)
        p = subprocess.run(command(["smtp", "derive", "--region",
                                    "us-east-1"]),
                           input=EXAMPLE_SECRET.encode(), stdout=w,
                           stderr=subprocess.PIPE, env=clean_env(),
                           timeout=120)
        os.close(w)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot write to standard output", p.stderr)

    def test_help_to_dev_full_is_an_error(self):
        with open("/dev/full", "wb") as full:
            p = subprocess.run(command(["--help"]), stdout=full,
                               stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(p.returncode, 1)

    def test_debug_shows_no_secret(self):
        p = run(["--debug", "smtp", "derive", "--region", "us-east-2",
                 "--access-key-id", EXAMPLE_KEY_ID], stdin=EXAMPLE_SECRET)
        self.assertExit(p, 0)
        self.assertIn(b"debug:", p.stderr)
        self.assertNotIn(EXAMPLE_SECRET.encode(), p.stderr)
        self.assertNotIn(b"BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ", p.stderr)


class DeriveTerminal(SesctlTestCase):
    """On a terminal, the secret is read without echo."""

    def read_until(self, fd, needle, timeout=10):
        buf = b""
        end = time.monotonic() + timeout
        while needle not in buf and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
        return buf

    def test_prompt_does_not_echo(self):
        master, slave = pty.openpty()
        p = subprocess.Popen(command(["smtp", "derive", "--region",
                                      "us-east-2"]),
                             stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=clean_env())
        os.close(slave)
        try:
            prompt = self.read_until(p.stderr.fileno(), b"(input hidden): ")
            self.assertIn(b"Secret access key", prompt)
            os.write(master, EXAMPLE_SECRET.encode() + b"\n")
            out, err = p.communicate(timeout=10)
            echoed = self.read_until(master, b"never", timeout=0.5)
        finally:
            if p.poll() is None:
                p.kill()
            os.close(master)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out, b"BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n")
        self.assertNotIn(b"EXAMPLEKEY", echoed)


if __name__ == "__main__":
    unittest.main()
