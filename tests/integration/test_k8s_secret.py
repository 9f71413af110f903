"""--format k8s-secret, end to end: enable, rotate and derive write a
Kubernetes v1 Secret that a YAML parser (PyYAML, as kubectl's own YAML
reading would) reads back to exactly the Secret meant: its name and
namespace, sesctl's label, type Opaque and stringData with the keys the
env format writes, every value a string, SMTP_PASS the password derived
from the key's secret (an independent derivation).  rotate keeps the
format, name and namespace of the Secret it replaces; bad names are usage
errors that change nothing in IAM; verify reads the Secret back."""
import os
import stat
import string
import subprocess
import unittest

import yaml

from standins.ses_smtp import FakeSESSMTP
from sesctl_test import (EXAMPLE_KEY_ID, EXAMPLE_SECRET, StandinTestCase,
                         command, env_lines, run, smtp_password)

REGION = "eu-west-1"
LABELS = {"app.kubernetes.io/managed-by": "sesctl"}
BASE64 = set(string.ascii_letters + string.digits + "+/")


class K8sSecret(StandinTestCase):
    region = REGION

    def sesctl(self, *args, code=0):
        p = self.call(*args)
        self.assertExit(p, code)
        self.err = p.stderr.decode()
        return p.stdout.decode()

    def user(self, name):
        return self.iam.user(name)

    def keys(self, name):
        u = self.user(name)
        return [k["access_key_id"] for k in u["access_keys"]] if u else []

    def secret_of(self, akid):
        return self.iam.access_key(akid)["secret_access_key"]

    def tags(self, name):
        return {t["Key"]: t["Value"] for t in self.user(name)["tags"]}

    def mutations(self):
        return [r["action"] for r in self.iam.requests
                if not r["action"].startswith(("Get", "List"))]

    def load(self, text):
        """The manifest as PyYAML reads it: one document, a Secret."""
        docs = list(yaml.safe_load_all(text))
        self.assertEqual(len(docs), 1)
        return docs[0]

    def check_secret(self, text, name, namespace=None, regions=(REGION,)):
        """The Secret is exactly what --format k8s-secret promises, and
        its passwords are those of the key it names.  Returns its
        stringData."""
        doc = self.load(text)
        self.assertEqual(set(doc), {"apiVersion", "kind", "metadata",
                                    "type", "stringData"})
        self.assertEqual(doc["apiVersion"], "v1")
        self.assertEqual(doc["kind"], "Secret")
        self.assertEqual(doc["type"], "Opaque")
        meta = {"name": name, "labels": LABELS}
        if namespace:
            meta["namespace"] = namespace
        self.assertEqual(doc["metadata"], meta)
        data = doc["stringData"]
        # stringData takes strings only: no value became a number
        self.assertTrue(all(isinstance(v, str) for v in data.values()),
                        data.keys())
        akid = data["SMTP_USER"]
        if len(regions) == 1:
            want = {"SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASS"}
        else:
            want = {"SMTP_USER"}
            for r in regions:
                sfx = "_" + r.upper().replace("-", "_")
                want |= {"SMTP_HOST" + sfx, "SMTP_PORT" + sfx,
                         "SMTP_PASS" + sfx}
        self.assertEqual(set(data), want)
        for r in regions:
            sfx = "" if len(regions) == 1 else \
                "_" + r.upper().replace("-", "_")
            self.assertEqual(data["SMTP_HOST" + sfx],
                             "email-smtp.%s.amazonaws.com" % r)
            self.assertEqual(data["SMTP_PORT" + sfx], "587")
            self.assertEqual(data["SMTP_PASS" + sfx],
                             smtp_password(self.secret_of(akid), r))
        return data

    # ---- enable and rotate ------------------------------------------------

    def test_enable_then_rotate_twice_keeps_name_namespace_format(self):
        path = os.path.join(self.tmp, "smtp.yaml")
        user = "sesctl-smtp-app"
        self.sesctl("smtp", "enable", "--name", "app", "--format",
                    "k8s-secret", "--k8s-name", "mail-relay.smtp",
                    "--k8s-namespace", "mail", "--output-file", path)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            data = self.check_secret(f.read(), "mail-relay.smtp", "mail")
        self.assertEqual(self.keys(user), [data["SMTP_USER"]])
        self.assertEqual(self.tags(user)["SesctlFormat"], "k8s-secret")
        # the same keys as the env format, with the same values
        env = env_lines(run(["smtp", "derive", "--region", REGION,
                             "--access-key-id", data["SMTP_USER"]],
                            stdin=self.secret_of(data["SMTP_USER"]))
                        .stdout.decode())
        self.assertEqual(data, env)

        seen = {data["SMTP_USER"]}
        for _ in range(2):
            out = self.sesctl("smtp", "rotate", "--name", "app",
                              "--output-file", path)
            self.assertEqual(out, "")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            with open(path) as f:
                data = self.check_secret(f.read(), "mail-relay.smtp", "mail")
            self.assertNotIn(data["SMTP_USER"], seen)  # a new key ...
            seen.add(data["SMTP_USER"])
            self.assertEqual(self.keys(user), [data["SMTP_USER"]])  # alone
            self.assertEqual(self.tags(user)["SesctlFormat"], "k8s-secret")
            self.assertEqual(self.tags(user)["SesctlCurrentKey"],
                             data["SMTP_USER"])

        # given again, the name and namespace change
        self.sesctl("smtp", "rotate", "--name", "app", "--output-file", path,
                    "--k8s-name", "other", "--k8s-namespace", "prod")
        with open(path) as f:
            self.check_secret(f.read(), "other", "prod")
        # and are kept from then on; no namespace stays no namespace
        self.sesctl("smtp", "rotate", "--name", "app", "--output-file", path)
        with open(path) as f:
            self.check_secret(f.read(), "other", "prod")
        # secrets stay out of the messages
        self.assertNotIn(data["SMTP_PASS"], self.err)

    def test_enable_to_stdout_default_name_several_regions(self):
        out = self.sesctl("smtp", "enable", "--region", "eu-west-1",
                          "--region", "us-east-1", "--format", "k8s-secret")
        data = self.check_secret(out, "sesctl-smtp",
                                 regions=("eu-west-1", "us-east-1"))
        self.assertEqual(self.keys("sesctl-smtp"), [data["SMTP_USER"]])
        # rotate to stdout: the recorded format, the user's name again
        out = self.sesctl("smtp", "rotate")
        data = self.check_secret(out, "sesctl-smtp",
                                 regions=("eu-west-1", "us-east-1"))
        out = self.sesctl("smtp", "rotate", "--k8s-name", "smtp",
                          "--k8s-namespace", "default")
        self.check_secret(out, "smtp", "default",
                          regions=("eu-west-1", "us-east-1"))
        # another format, given on the command line, wins over the record
        out = self.sesctl("smtp", "rotate", "--format", "env")
        self.assertIn("SMTP_USER=", out)

    def test_rotate_from_env_file_to_k8s_secret(self):
        path = os.path.join(self.tmp, "smtp.env")
        self.sesctl("smtp", "enable", "--output-file", path)
        # a name for a file that stays env is a usage error: nothing made
        before = self.keys("sesctl-smtp")
        self.sesctl("smtp", "rotate", "--output-file", path, "--k8s-name",
                    "x", code=2)
        self.assertIn("--k8s-name only applies with --format k8s-secret "
                      "(the settings are written as 'env')", self.err)
        self.assertEqual(self.keys("sesctl-smtp"), before)
        self.sesctl("smtp", "rotate", "--output-file", path, "--format",
                    "k8s-secret")
        with open(path) as f:
            self.check_secret(f.read(), "sesctl-smtp")
        self.assertEqual(self.tags("sesctl-smtp")["SesctlFormat"],
                         "k8s-secret")

    def test_rotate_refuses_a_secret_edited_by_hand(self):
        path = os.path.join(self.tmp, "smtp.yaml")
        self.sesctl("smtp", "enable", "--format", "k8s-secret",
                    "--k8s-name", "smtp", "--output-file", path)
        with open(path) as f:
            text = f.read()
        edited = text.replace("  labels:\n", "  labels:\n    team: mail\n")
        with open(path, "w") as f:
            f.write(edited)
        before = self.keys("sesctl-smtp")
        self.iam.clear_requests()
        self.sesctl("smtp", "rotate", "--output-file", path, code=1)
        self.assertIn("is not a Kubernetes Secret as 'sesctl smtp enable "
                      "--format k8s-secret' writes it: line 6 should be "
                      "'    app.kubernetes.io/managed-by: \"sesctl\"'",
                      self.err)
        self.assertIn("nothing was changed", self.err)
        self.assertNotIn("team", self.err)
        self.assertEqual(self.mutations(), [])
        self.assertEqual(self.keys("sesctl-smtp"), before)
        with open(path) as f:
            self.assertEqual(f.read(), edited)
        # told which Secret to write, rotate writes it anew
        self.sesctl("smtp", "rotate", "--output-file", path, "--k8s-name",
                    "smtp")
        with open(path) as f:
            self.check_secret(f.read(), "smtp")
        self.assertIn("rotate writes it anew", self.err)

    # ---- names ------------------------------------------------------------

    def test_bad_names_are_usage_errors_that_change_nothing(self):
        cases = [
            (["--k8s-name", "Mail_Relay"],
             "invalid --k8s-name 'Mail_Relay': a Kubernetes Secret's name "
             "must be a DNS-1123 subdomain"),
            (["--k8s-name", "a..b"], "DNS-1123 subdomain"),
            (["--k8s-name", "x" * 254], "at most 253 characters"),
            (["--k8s-namespace", "mail.prod"],
             "invalid --k8s-namespace 'mail.prod': a Kubernetes namespace "
             "must be a DNS-1123 label"),
            (["--k8s-namespace", "x" * 64], "at most 63 characters"),
            (["--name", "Blog"],
             "the IAM user name 'sesctl-smtp-Blog' is not a valid Kubernetes "
             "Secret name, which must be a DNS-1123 subdomain"),
            (["--user-name", "smtp_user"], "give one with --k8s-name"),
        ]
        for extra, msg in cases:
            self.sesctl("smtp", "enable", "--format", "k8s-secret", *extra,
                        code=2)
            self.assertIn(msg, self.err, extra)
        # with another format, the options have no use
        self.sesctl("smtp", "enable", "--k8s-name", "smtp", code=2)
        self.assertIn("--k8s-name only applies with --format k8s-secret",
                      self.err)
        self.sesctl("smtp", "enable", "--format", "json",
                    "--k8s-namespace", "mail", code=2)
        self.assertIn("--k8s-namespace only applies", self.err)
        self.assertEqual(self.mutations(), [])
        self.assertIsNone(self.user("sesctl-smtp"))
        # an invalid user name is fine with a valid --k8s-name
        out = self.sesctl("smtp", "enable", "--name", "Blog", "--format",
                          "k8s-secret", "--k8s-name", "blog")
        self.check_secret(out, "blog")
        self.sesctl("smtp", "rotate", "--name", "Blog", "--finish",
                    "--k8s-name", "blog", code=2)
        self.assertIn("--k8s-name has no use there", self.err)

    # ---- derive -----------------------------------------------------------

    def test_derive(self):
        base = ["smtp", "derive", "--region", REGION, "--access-key-id",
                EXAMPLE_KEY_ID, "--format", "k8s-secret"]
        p = run(base + ["--k8s-name", "smtp", "--k8s-namespace", "mail"],
                stdin=EXAMPLE_SECRET)
        self.assertExit(p, 0)
        doc = self.load(p.stdout)
        self.assertEqual(doc["metadata"], {"name": "smtp",
                                           "namespace": "mail",
                                           "labels": LABELS})
        env = env_lines(run(["smtp", "derive", "--region", REGION,
                             "--access-key-id", EXAMPLE_KEY_ID],
                            stdin=EXAMPLE_SECRET).stdout.decode())
        self.assertEqual(doc["stringData"], env)
        self.assertEqual(doc["stringData"]["SMTP_PASS"],
                         smtp_password(EXAMPLE_SECRET, REGION))
        # no IAM user to name it after: the name is a must
        p = run(base, stdin=EXAMPLE_SECRET)
        self.assertExit(p, 2)
        self.assertIn(b"needs --k8s-name", p.stderr)
        self.assertEqual(p.stdout, b"")
        p = run(base + ["--k8s-name", "-smtp"], stdin=EXAMPLE_SECRET)
        self.assertExit(p, 2)
        self.assertIn(b"DNS-1123 subdomain", p.stderr)

    def test_passwords_with_every_base64_character(self):
        """Passwords derived from many secrets hold, between them, every
        character base64 uses ('+' and '/' included; an SES v4 password
        is 33 bytes, so never '='); each reads back from the YAML as
        derived.  (The unit tests quote '=' and worse.)"""
        seen = set()
        both = False
        for i in range(60):
            secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLE%03d" % i
            p = run(["smtp", "derive", "--region", REGION, "--format",
                     "k8s-secret", "--k8s-name", "smtp", "--access-key-id",
                     EXAMPLE_KEY_ID], stdin=secret)
            self.assertExit(p, 0)
            pw = self.load(p.stdout)["stringData"]["SMTP_PASS"]
            self.assertEqual(pw, smtp_password(secret, REGION))
            seen |= set(pw)
            both |= "+" in pw and "/" in pw
            if seen >= BASE64 and both:
                break
        self.assertEqual(BASE64 - seen, set())
        self.assertTrue(both)

    # ---- reading it back ----------------------------------------------------

    def test_verify_reads_the_secret(self):
        smtp = FakeSESSMTP(self.iam, region=REGION, mode="starttls")
        smtp.start()
        self.addCleanup(smtp.stop)
        path = os.path.join(self.tmp, "smtp.yaml")
        self.sesctl("smtp", "enable", "--format", "k8s-secret",
                    "--k8s-namespace", "mail", "--output-file", path,
                    "--verify", "--smtp-endpoint-url", smtp.url)
        with open(path) as f:
            akid = self.check_secret(f.read(), "sesctl-smtp",
                                     "mail")["SMTP_USER"]
        self.sesctl("smtp", "verify", "--credentials-file", path,
                    "--smtp-endpoint-url", smtp.url)
        # rotate --verify logs in with the new key before retiring the old
        self.sesctl("smtp", "rotate", "--output-file", path, "--verify",
                    "--smtp-endpoint-url", smtp.url)
        with open(path) as f:
            data = self.check_secret(f.read(), "sesctl-smtp", "mail")
        self.assertNotEqual(data["SMTP_USER"], akid)
        # and from standard input, as 'enable | verify' gives it
        with open(path, "rb") as f:
            p = subprocess.run(command(["smtp", "verify",
                                        "--smtp-endpoint-url", smtp.url]),
                               stdin=f, capture_output=True, env=self.env,
                               timeout=120)
        self.assertExit(p, 0)
        users = [a["user"] for a in smtp.auth_attempts()
                 if a["result"] == "accepted"]
        self.assertEqual(users[-1], data["SMTP_USER"])
        self.assertNotIn(data["SMTP_PASS"].encode(), p.stderr)


if __name__ == "__main__":
    unittest.main()
