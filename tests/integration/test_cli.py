"""The command line as a user meets it: --help and --version on every
level, usage errors with exit 2 and nothing on stdout, exact command
matching, and the man page and shell completions naming exactly the
options and commands that `sesctl __complete` (the tables) has."""
import os
import re
import subprocess
import unittest

from sesctl_test import BIN, SOURCE_ROOT, SesctlTestCase, run


def complete(*args):
    p = run(["__complete"] + list(args))
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().split()


class Help(SesctlTestCase):
    def test_help_everywhere(self):
        for args in (["--help"], ["-h"], ["smtp", "--help"],
                     ["smtp", "derive", "--help"],
                     ["smtp", "derive", "--region", "us-east-1", "-h"],
                     ["--quiet", "smtp", "--help"]):
            p = run(args)
            self.assertExit(p, 0)
            self.assertTrue(p.stdout.startswith(b"usage: sesctl"), args)
            self.assertEqual(p.stderr, b"", args)

    def test_command_help_lists_every_option(self):
        p = run(["smtp", "derive", "--help"])
        for opt in complete("smtp", "derive"):
            self.assertIn(opt.encode(), p.stdout, opt)

    def test_version(self):
        p = run(["--version"])
        self.assertExit(p, 0)
        self.assertRegex(p.stdout.decode(), r"^sesctl \d+\.\d+\.\d+\n$")

    def test_every_command_has_help(self):
        for cmd in complete("smtp"):
            p = run(["smtp", cmd, "--help"])
            self.assertExit(p, 0)
            self.assertTrue(p.stdout.startswith(
                ("usage: sesctl smtp %s" % cmd).encode()), cmd)
            for opt in complete("smtp", cmd):
                self.assertIn(opt.encode(), p.stdout, (cmd, opt))

    def test_usage_errors(self):
        cases = [
            ([], b"no command given"),
            (["smtp"], b"no smtp command given"),
            (["mail"], b"unknown command 'mail'"),
            (["smtp", "deriv"], b"unknown smtp command 'deriv'"),
            (["smtp", "d"], b"unknown smtp command 'd'"),
            (["smtp", "enable-all"], b"unknown smtp command"),
            (["smtp", "dis"], b"unknown smtp command 'dis'"),
            (["smtp", "rot"], b"unknown smtp command 'rot'"),
            (["smtp", "derive", "--yes"], b"unknown option '--yes'"),
            (["smtp", "status", "--format", "env"], b"text or json"),
            (["smtp", "enable", "--name", "a", "--user-name", "b"],
             b"exclude each other"),
            (["smtp", "rotate", "--keep-old", "--finish"],
             b"exclude each other"),
            (["smtp", "derive", "--bogus"], b"unknown option '--bogus'"),
            (["--bogus"], b"unknown option '--bogus'"),
            (["smtp", "derive", "--format"], b"needs a value"),
        ]
        for args, msg in cases:
            p = run(args, stdin="x")
            self.assertExit(p, 2)
            self.assertEqual(p.stdout, b"", args)
            self.assertIn(msg, p.stderr)
            self.assertIn(b"sesctl: error:", p.stderr)


class DocsAndCompletionsInStep(SesctlTestCase):
    """The tables are the truth; everything a user reads must agree."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.globals = set(complete("--global"))
        cls.commands = set(complete("smtp"))
        cls.cmd_opts = {c: set(complete("smtp", c)) - cls.globals
                        for c in cls.commands}
        cls.all_opts = cls.globals.union(*cls.cmd_opts.values())

    def read(self, rel):
        with open(os.path.join(SOURCE_ROOT, rel), encoding="utf-8") as f:
            return f.read()

    def options_in(self, text):
        # `sesctl __complete --values X` is the helper, not an option
        return set(re.findall(r"--[a-z][a-z0-9-]+", text)) - {"--values"}

    def test_tables_are_sane(self):
        self.assertIn("--help", self.globals)
        self.assertIn("derive", self.commands)
        self.assertEqual(complete(), ["smtp"])

    def test_man_page(self):
        text = self.read("docs/sesctl.1.scd").replace("\\", "")
        # every option and command is documented ...
        for opt in self.all_opts:
            self.assertIn("*" + opt + "*", text, opt)
        for cmd in self.commands:
            self.assertIn("## smtp " + cmd, text, cmd)
        # ... and nothing that does not exist
        self.assertEqual(self.options_in(text) - self.all_opts, set())

    def test_completions(self):
        for rel in ("completions/bash/sesctl", "completions/zsh/_sesctl"):
            text = self.read(rel)
            self.assertEqual(self.options_in(text), self.all_opts, rel)
            for cmd in self.commands:
                self.assertRegex(text, r"\b%s\b" % cmd, rel)
        fish = self.read("completions/fish/sesctl.fish")
        fish_opts = {"--" + o for o in re.findall(r"-l ([a-z0-9-]+)", fish)}
        self.assertEqual(fish_opts, self.all_opts)

    def test_format_values(self):
        formats = complete("--values", "format")
        self.assertEqual(formats, ["env", "export", "dotenv", "json",
                                   "postfix", "text"])
        for rel in ("completions/bash/sesctl", "completions/zsh/_sesctl",
                    "completions/fish/sesctl.fish", "docs/sesctl.1.scd"):
            text = self.read(rel)
            for f in formats:
                self.assertIn(f, text, (rel, f))

    def test_region_values(self):
        regions = complete("--values", "region")
        self.assertIn("us-east-1", regions)
        self.assertNotIn("ap-east-1", regions)  # no SES there

    @unittest.skipUnless(
        os.path.exists("/usr/share/bash-completion/bash_completion"),
        "bash-completion is not installed")
    def test_bash_completion_runs(self):
        script = r'''
            source /usr/share/bash-completion/bash_completion
            source "$1"
            sesctl() { "$SESCTL_BIN" "$@"; }
            try() {
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
                COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                COMPREPLY=(); _sesctl; echo "${COMPREPLY[*]}"
            }
            try sesctl smtp derive --f
            try sesctl smtp ""
            try sesctl smtp derive --format j
            try sesctl --region eu-w
        '''
        p = subprocess.run(
            ["bash", "-c", script, "bash",
             os.path.join(SOURCE_ROOT, "completions/bash/sesctl")],
            capture_output=True, env=dict(os.environ, SESCTL_BIN=BIN),
            timeout=30)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 4, p.stderr)
        self.assertEqual(sorted(lines[0].split()), ["--format", "--from-env"])
        self.assertIn("derive", lines[1].split())
        self.assertEqual(lines[2], "json")
        self.assertEqual(sorted(lines[3].split()),
                         ["eu-west-1", "eu-west-2", "eu-west-3"])


if __name__ == "__main__":
    unittest.main()
