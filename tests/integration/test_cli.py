"""The command line as a user meets it: --help and --version on every
level, usage errors with exit 2 and nothing on stdout, exact command
matching; and sesctl(1), sesctl-smtp(1) and the bash, zsh and fish
completions naming exactly the options and commands that `sesctl
__complete` (the tables in src/cli/cli.c) has, installed where `meson install`
should put them."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from sesctl_test import BIN, SOURCE_ROOT, SesctlTestCase, clean_env, run


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

    def test_help_says_only_what_applies(self):
        # each command's --help: its own values and wording, none of
        # another command's
        absent = {"enable": [b"prometheus", b"status:", b"two active keys",
                             b"SMTP_USER", b"AWS_SECRET_ACCESS_KEY"],
                  "rotate": [b"prometheus", b"SMTP_USER"],
                  "disable": [b"two active keys", b"prometheus"],
                  "derive": [b"SMTP_USER", b"SMTP_PASS", b"prometheus"],
                  "verify": [b"AWS_SECRET_ACCESS_KEY", b"prometheus"],
                  "status": [b"postfix", b"AWS_SECRET_ACCESS_KEY"]}
        for cmd, words in absent.items():
            out = run(["smtp", cmd, "--help"]).stdout
            for w in words:
                self.assertNotIn(w, out, (cmd, w))
        self.assertIn(b"prometheus", run(["smtp", "status", "--help"]).stdout)
        self.assertIn(b"AWS_SECRET_ACCESS_KEY",
                      run(["smtp", "derive", "--help"]).stdout)
        # where a region is needed, the usage line says so
        for cmd in ("enable", "derive"):
            first = run(["smtp", cmd, "--help"]).stdout.splitlines()[0]
            self.assertIn(b"sesctl smtp %s --region REGION" % cmd.encode(),
                          first)
        self.assertIn(b"AWS_DEFAULT_PROFILE", run(["--help"]).stdout)

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
            (["smtp", "derive", "--adopt"], b"unknown option '--adopt'"),
            (["smtp", "enable", "--output", "json"],
             b"unknown option '--output' for 'sesctl smtp enable'; did you "
             b"mean '--format'?"),
            (["smtp", "status", "--user=x"], b"did you mean '--user-name'?"),
            (["smtp", "verify", "--hook", "x"], b"unknown option '--hook' for "
             b"'sesctl smtp verify'\n"),
            (["smtp", "status", "--format", "env"],
             b"text, json or prometheus"),
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



# ---- reading the man pages (scdoc) and the completion scripts ----------

OPT_RE = re.compile(r"--[a-z][a-z0-9-]+")


def options_in(text):
    """Every --option named anywhere in `text`.  `sesctl __complete
    --values X` and `--global` are the helper's, not options."""
    return set(OPT_RE.findall(text)) - {"--values", "--global"}


def scd_sections(text):
    """An scdoc page as {"SECTION": body, "SECTION/sub": body}: the text
    under each "# SECTION" heading (its subsections included) and under
    each "## sub" heading.  Backslash escapes are dropped."""
    out, top, sub = {}, None, None
    for line in text.replace("\\", "").splitlines():
        if line.startswith("# "):
            top, sub = line[2:].strip(), None
            out[top] = ""
            continue
        if line.startswith("## "):
            sub = "%s/%s" % (top, line[3:].strip())
            out[sub] = ""
        elif sub is not None:
            out[sub] += line + "\n"
        if top is not None:
            out[top] += line + "\n"
    return out


def scd_items(body):
    """The options that head a definition item (a line that starts with
    "*--" and is followed by an indented description): what a section
    documents, as opposed to mentions in prose."""
    found = set()
    lines = body.splitlines()
    for line, after in zip(lines, lines[1:]):
        if line.startswith("*--") and after.startswith("\t"):
            found |= options_in(line)
    return found


def scd_synopses(text):
    """{command: options in its synopsis paragraph} from SYNOPSIS."""
    out = {}
    for para in scd_sections(text).get("SYNOPSIS", "").split("\n\n"):
        m = re.search(r"\*smtp ([a-z-]+)\*", para)
        if m:
            out[m.group(1)] = options_in(para)
    return out


def ident(cmd):
    """A command's name as the completions' shell identifiers spell it
    (caller-policy: caller_policy_opts, _sesctl_smtp_caller_policy)."""
    return cmd.replace("-", "_")


def shell_words(text, name):
    """The words of `local NAME="..."` in the bash completion."""
    m = re.search(r'^\s*local %s="([^"]*)"' % re.escape(name), text, re.M)
    return m.group(1).split() if m else []


ZSH_SPEC_RE = re.compile(r"^(?:\([^)]*\))?\*?(--[a-z][a-z0-9-]*)(=?)")


def zsh_specs(block):
    """{option: takes a value} for the _arguments specs (single-quoted
    words) in `block`.  Only the option a spec defines counts, not the
    ones its exclusion list or description names."""
    out = {}
    for spec in re.findall(r"'([^'\n]*)'", block):
        m = ZSH_SPEC_RE.match(spec)
        if m:
            rest = re.sub(r"^\[[^\]]*\]", "", spec[m.end():])
            out[m.group(1)] = bool(m.group(2)) or rest.startswith(":")
    return out


def zsh_function(text, name):
    m = re.search(r"^%s\(\) \{\n(.*?)^\}" % re.escape(name), text,
                  re.M | re.S)
    return m.group(1) if m else ""


def fish_lines(text):
    """(condition or None, option, takes a value) per `complete -l` line."""
    out = []
    for line in text.splitlines():
        if not line.startswith("complete -c sesctl"):
            continue
        m = re.search(r" -l ([a-z0-9-]+)", line)
        if not m:
            continue
        cond = re.search(r" -n (?:'([^']*)'|(\S+))", line)
        cond = (cond.group(1) or cond.group(2)) if cond else None
        takes = bool(re.search(r" -[xr]\b| --exclusive\b| "
                               r"--require-parameter\b", line))
        out.append((cond, "--" + m.group(1), takes))
    return out


def build_dir():
    """The Meson build directory that holds SESCTL_BIN, or None."""
    d = os.path.dirname(os.path.abspath(BIN))
    while d != os.path.dirname(d):
        if os.path.isdir(os.path.join(d, "meson-info")):
            return d
        d = os.path.dirname(d)
    return None


class DocsAndCompletionsInStep(SesctlTestCase):
    """The tables in src/cli/cli.c are the truth, as `sesctl __complete` prints
    them.  Both man pages and the three completion scripts must name
    exactly what they hold: every option under every command that takes
    it, and nothing the binary does not know (git t0450, curl test1139)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.globals = set(complete("--global"))
        cls.commands = set(complete("smtp"))
        cls.cmd_opts = {c: set(complete("smtp", c)) - cls.globals
                        for c in cls.commands}
        cls.all_opts = cls.globals.union(*cls.cmd_opts.values())
        # Which options take a value: "  --name NAME   ..." in --help.
        cls.takes_value = set()
        for args in [["--help"]] + [["smtp", c, "--help"]
                                    for c in sorted(cls.commands)]:
            p = run(args)
            assert p.returncode == 0, p.stderr
            cls.takes_value |= set(re.findall(
                r"^\s+(--[a-z][a-z0-9-]+) [A-Z]", p.stdout.decode(), re.M))
        # Fixed values (--region's come from the region table at run time).
        cls.values = {}
        for opt in sorted(cls.all_opts - {"--region"}):
            p = run(["__complete", "--values", opt[2:]])
            if p.returncode == 0:
                cls.values[opt] = p.stdout.decode().split()

    def read(self, rel):
        with open(os.path.join(SOURCE_ROOT, rel), encoding="utf-8") as f:
            return f.read()

    def assertSameSet(self, got, want, what):
        got, want = set(got), set(want)
        self.assertEqual(
            got, want, "%s: missing %s; not known to sesctl %s" % (
                what, sorted(want - got) or "none",
                sorted(got - want) or "none"))

    def test_tables_are_sane(self):
        self.assertIn("--help", self.globals)
        self.assertIn("derive", self.commands)
        self.assertIn("verify", self.commands)
        self.assertEqual(complete(), ["smtp"])
        self.assertIn("--format", self.values)
        self.assertIn("--port", self.values)
        self.assertIn("--name", self.takes_value)
        self.assertNotIn("--verify", self.takes_value)
        for c, opts in self.cmd_opts.items():
            self.assertTrue(opts, c)

    def test_format_and_port_values(self):
        self.assertEqual(self.values["--format"],
                         ["env", "export", "dotenv", "json", "postfix",
                          "k8s-secret", "text", "prometheus"])
        self.assertEqual(self.values["--port"],
                         ["587", "465", "2587", "2465", "25"])

    def test_region_values(self):
        regions = complete("--values", "region")
        self.assertIn("us-east-1", regions)
        self.assertNotIn("ap-east-1", regions)  # no SES there

    # ---- sesctl(1) ----------------------------------------------------

    def test_main_page(self):
        text = self.read("docs/sesctl.1.scd")
        sec = scd_sections(text)
        # every global option has an entry under GLOBAL OPTIONS, and only
        # the global ones do
        self.assertSameSet(scd_items(sec["GLOBAL OPTIONS"]), self.globals,
                           "sesctl(1) GLOBAL OPTIONS")
        # every command is listed under COMMANDS
        self.assertSameSet(
            re.findall(r"^\*smtp ([a-z-]+)\*$", sec["COMMANDS"], re.M),
            self.commands, "sesctl(1) COMMANDS")
        # nothing that does not exist, anywhere on the page
        self.assertSameSet(options_in(text) - self.all_opts, set(),
                           "sesctl(1) mentions")
        self.assertIn("*sesctl-smtp*(1)", sec["SEE ALSO"])
        for code in range(8):
            self.assertIn("*%d*\n" % code, sec["EXIT STATUS"], code)

    def test_main_page_environment(self):
        """Every variable the C code names in a string ("AWS_REGION",
        "SMTP_PASS", "SESCTL_TEST_NOW") is in sesctl(1) ENVIRONMENT."""
        env = scd_sections(self.read("docs/sesctl.1.scd"))["ENVIRONMENT"]
        src = os.path.join(SOURCE_ROOT, "src")
        names = set()
        for f in sorted(os.path.relpath(os.path.join(d, n), src)
                        for d, _, ns in os.walk(src) for n in ns):
            if not f.endswith(".c"):
                continue
            with open(os.path.join(src, f), encoding="utf-8") as fh:
                code = fh.read()
            code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
            for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', code):
                names |= set(re.findall(
                    r"\b(AWS_[A-Z0-9_]*[A-Z0-9]|SESCTL_TEST_[A-Z0-9_]*"
                    r"[A-Z0-9]|SMTP_(?:HOST|PORT|USER|PASS))(?![a-z0-9_])",
                    lit))
        self.assertIn("AWS_REGION", names)
        self.assertIn("SMTP_PASS", names)
        missing = sorted(n for n in names if "*%s*" % n not in env)
        self.assertEqual(missing, [], "read by src/*.c but missing from "
                         "ENVIRONMENT in docs/sesctl.1.scd")

    # ---- sesctl-smtp(1) -----------------------------------------------

    def test_smtp_page_commands(self):
        text = self.read("docs/sesctl-smtp.1.scd")
        sec = scd_sections(text)
        subs = [k.split("/", 1)[1] for k in sec if k.startswith("COMMANDS/")]
        self.assertSameSet(subs, self.commands, "sesctl-smtp(1) COMMANDS")
        self.assertSameSet(scd_synopses(text), self.commands,
                           "sesctl-smtp(1) SYNOPSIS")
        self.assertIn("*sesctl*(1)", sec["SEE ALSO"])

    def test_smtp_page_options(self):
        text = self.read("docs/sesctl-smtp.1.scd")
        sec = scd_sections(text)
        synopses = scd_synopses(text)
        for cmd in sorted(self.commands):
            opts = self.cmd_opts[cmd]
            allowed = opts | self.globals
            # Every option of the command heads an entry in its section
            # (a global option may, too; another command's may not) ...
            items = scd_items(sec.get("COMMANDS/" + cmd, ""))
            what = "sesctl-smtp(1) entries under '## %s'" % cmd
            self.assertSameSet(items & opts, opts, what)
            self.assertSameSet(items - allowed, set(), what)
            # ... and is in its synopsis, under the same rule.
            syn = synopses.get(cmd, set())
            what = "sesctl-smtp(1) synopsis of %s" % cmd
            self.assertSameSet(syn & opts, opts, what)
            self.assertSameSet(syn - allowed, set(), what)
        # Nothing that does not exist, anywhere on the page.
        self.assertSameSet(options_in(text) - self.all_opts, set(),
                           "sesctl-smtp(1) mentions")

    def test_smtp_page_values(self):
        text = self.read("docs/sesctl-smtp.1.scd")
        for opt, values in self.values.items():
            for v in values:
                self.assertIn("*%s*" % v, text, (opt, v))

    # ---- completions --------------------------------------------------

    def test_bash_completion_lists(self):
        text = self.read("completions/bash/sesctl")
        self.assertSameSet(shell_words(text, "globals"), self.globals,
                           "bash globals")
        self.assertSameSet(shell_words(text, "smtp_cmds"), self.commands,
                           "bash smtp_cmds")
        self.assertSameSet(re.findall(r"^\s*local ([a-z_]+)_opts=", text,
                                      re.M),
                           {ident(c) for c in self.commands},
                           "bash <command>_opts lists")
        for cmd in self.commands:
            self.assertSameSet(shell_words(text, ident(cmd) + "_opts"),
                               self.cmd_opts[cmd], "bash %s_opts" % cmd)
            self.assertRegex(text, r"\b%s\) opts=\$%s_opts ;;" % (
                cmd, ident(cmd)))
        self.assertSameSet(shell_words(text, "with_arg"), self.takes_value,
                           "bash with_arg (options that take a value)")
        self.assertSameSet(shell_words(text, "formats") +
                           shell_words(text, "status_formats"),
                           self.values["--format"], "bash formats")
        self.assertSameSet(shell_words(text, "ports"), self.values["--port"],
                           "bash ports")
        self.assertSameSet(options_in(text) - self.all_opts, set(),
                           "bash mentions")

    def test_zsh_completion_lists(self):
        text = self.read("completions/zsh/_sesctl")
        m = re.search(r"^globals=\(\n(.*?)^\)", text, re.M | re.S)
        self.assertTrue(m, "no globals=( ... ) in _sesctl")
        specs = zsh_specs(m.group(1))
        self.assertSameSet(specs, self.globals, "zsh globals")
        self.assertSameSet(
            re.findall(r"^_sesctl_smtp_([a-z_]+)\(\) \{", text, re.M),
            {ident(c) for c in self.commands},
            "zsh _sesctl_smtp_<command> functions")
        for cmd in self.commands:
            body = zsh_function(text, "_sesctl_smtp_" + ident(cmd))
            self.assertIn(" $globals ", body, cmd)
            self.assertSameSet(zsh_specs(body), self.cmd_opts[cmd],
                               "zsh _sesctl_smtp_%s" % cmd)
            specs.update(zsh_specs(body))
            self.assertRegex(text, r"\b%s\) _sesctl_smtp_%s ;;" % (
                cmd, ident(cmd)))
        for opt, takes in specs.items():
            self.assertEqual(takes, opt in self.takes_value,
                             "zsh spec of %s: takes a value?" % opt)
        m = re.search(r"^\s*cmds=\(\n(.*?)^\s*\)", text, re.M | re.S)
        self.assertSameSet(re.findall(r"'([a-z-]+):", m.group(1)),
                           self.commands, "zsh cmds")
        for opt, values in self.values.items():
            for v in values:
                self.assertRegex(text, r"[(\s]%s[\s)\\]" % v, (opt, v))
        self.assertSameSet(options_in(text) - self.all_opts, set(),
                           "zsh mentions")

    def test_fish_completion_lists(self):
        text = self.read("completions/fish/sesctl.fish")
        per_cmd = {c: set() for c in self.commands}
        glob = set()
        for cond, opt, takes in fish_lines(text):
            self.assertEqual(takes, opt in self.takes_value,
                             "fish %s: takes a value (-x, -r)?" % opt)
            if cond is None:
                glob.add(opt)
                continue
            words = cond.split()
            self.assertEqual(words[0], "__sesctl_smtp_cmd", (cond, opt))
            for c in words[1:]:
                self.assertIn(c, per_cmd, (cond, opt))
                self.assertNotIn(opt, per_cmd[c], "fish: %s twice" % opt)
                per_cmd[c].add(opt)
        self.assertSameSet(glob, self.globals, "fish globals")
        for cmd in self.commands:
            self.assertSameSet(per_cmd[cmd], self.cmd_opts[cmd],
                               "fish options of %s" % cmd)
        self.assertSameSet(
            re.findall(r"-n __sesctl_smtp_no_cmd -a ([a-z-]+)", text),
            self.commands, "fish commands")
        m = re.search(r"and not __fish_seen_subcommand_from ([a-z -]+)\n",
                      text)
        self.assertSameSet(m.group(1).split(), self.commands,
                           "fish __sesctl_smtp_no_cmd")
        for opt, values in self.values.items():
            for v in values:
                self.assertRegex(text, r"[' ]%s[' \\]" % v, (opt, v))
        self.assertSameSet(options_in(text) - self.all_opts, set(),
                           "fish mentions")

    def test_checks_see_a_removed_option(self):
        """The readers above really see each command's options where they
        are, and notice one taken out (so a missing or stale entry fails
        the checks, not only the parsers' blind spots)."""
        page = self.read("docs/sesctl-smtp.1.scd")
        main = self.read("docs/sesctl.1.scd")
        bash = self.read("completions/bash/sesctl")
        zsh = self.read("completions/zsh/_sesctl")
        fish = self.read("completions/fish/sesctl.fish")

        def drop_entry(text, opt):
            # the entry line(s) that name `opt` go; the description stays
            return re.sub(r"(?m)^(?=\*--).*\*%s\*.*\n" % re.escape(opt),
                          "", text)

        g = sorted(self.globals)[0]
        self.assertIn(g, scd_items(scd_sections(main)["GLOBAL OPTIONS"]))
        self.assertNotIn(g, scd_items(scd_sections(
            drop_entry(main, g))["GLOBAL OPTIONS"]))
        for cmd in sorted(self.commands):
            for opt in sorted(self.cmd_opts[cmd]):
                sec = "COMMANDS/" + cmd
                self.assertIn(opt, scd_items(scd_sections(page)[sec]))
                self.assertNotIn(opt, scd_items(scd_sections(
                    drop_entry(page, opt))[sec]), (cmd, opt))
                self.assertNotIn(opt, scd_synopses(
                    page.replace("*%s*" % opt, ""))[cmd], (cmd, opt))
                cut = re.sub(r'(?m)^(\s*local %s_opts="[^"\n]*?)(?<=[" ])%s'
                             r'(?=[ "])' % (ident(cmd), re.escape(opt)),
                             r"\1", bash)
                self.assertNotIn(opt, shell_words(cut, ident(cmd) + "_opts"))
                body = zsh_function(zsh, "_sesctl_smtp_" + ident(cmd))
                cut = re.sub(r"(?m)^\s*'(\([^)]*\))?\*?%s[=\[].*\n" %
                             re.escape(opt), "", body)
                self.assertNotIn(opt, zsh_specs(cut), (cmd, opt))
                cut = re.sub(r"(?m)^complete .* -l %s\b.*\n" % opt[2:], "",
                             fish)
                self.assertFalse(
                    [c for c, o, _ in fish_lines(cut)
                     if o == opt and c and cmd in c.split()], (cmd, opt))

    # ---- the completions work in their shells --------------------------

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
            try sesctl smtp verify --port ""
            try sesctl smtp verify --port 2587 --c
            try sesctl --profile ""
            try sesctl smtp status --format ""
            try sesctl smtp rotate --ver
            try sesctl smtp enable --name verify --a
            try sesctl smtp enable --format=p
        '''
        home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, home)
        os.mkdir(os.path.join(home, ".aws"))
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[default]\nregion = eu-west-1\n[profile admin]\n"
                    "role_arn = x\n[sso-session s]\n")
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[ci]\naws_access_key_id = x\n")
        p = subprocess.run(
            ["bash", "-c", script, "bash",
             os.path.join(SOURCE_ROOT, "completions/bash/sesctl")],
            capture_output=True, env=clean_env(SESCTL_BIN=BIN, HOME=home),
            timeout=60)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 11, p.stderr)
        self.assertEqual(sorted(lines[0].split()), ["--format", "--from-env"])
        self.assertIn("derive", lines[1].split())
        self.assertIn("verify", lines[1].split())
        self.assertEqual(lines[2], "json")
        self.assertEqual(sorted(lines[3].split()),
                         ["eu-west-1", "eu-west-2", "eu-west-3"])
        self.assertEqual(lines[4].split(), self.values["--port"])
        self.assertEqual(sorted(lines[5].split()),
                         ["--ca-bundle", "--credentials-file"])
        self.assertEqual(sorted(lines[6].split()), ["admin", "ci", "default"])
        self.assertEqual(lines[7].split(), ["text", "json", "prometheus"])
        self.assertEqual(sorted(lines[8].split()),
                         ["--verify", "--verify-timeout", "--version"])
        self.assertEqual(lines[9].split(), ["--adopt"])
        self.assertEqual(lines[10].split(), ["postfix"])

    @unittest.skipUnless(shutil.which("fish"), "fish is not installed")
    def test_fish_completion_runs(self):
        script = r'''
            function sesctl; $SESCTL_BIN $argv; end
            source $argv[1]
            for l in $argv[2..-1]
                complete -C "$l" | string replace -r '\t.*' '' |
                    string join ' '
            end
        '''
        p = subprocess.run(
            ["fish", "--no-config", "-c", script,
             os.path.join(SOURCE_ROOT, "completions/fish/sesctl.fish"),
             "sesctl smtp ", "sesctl smtp verify --p",
             "sesctl smtp verify --port ", "sesctl smtp status --format ",
             "sesctl --region eu-w"],
            capture_output=True, env=clean_env(SESCTL_BIN=BIN), timeout=60)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 5, p.stderr)
        self.assertSameSet(lines[0].split(), self.commands, "fish smtp")
        self.assertSameSet(lines[1].split(), ["--port", "--profile"],
                           "fish verify --p")
        self.assertSameSet(lines[2].split(), self.values["--port"],
                           "fish --port")
        self.assertSameSet(lines[3].split(), ["text", "json", "prometheus"],
                           "fish status --format")
        self.assertSameSet(lines[4].split(),
                           ["eu-west-1", "eu-west-2", "eu-west-3"],
                           "fish --region")

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    def test_zsh_completion_parses(self):
        p = subprocess.run(
            ["zsh", "-n", os.path.join(SOURCE_ROOT,
                                       "completions/zsh/_sesctl")],
            capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    # ---- where `meson install` puts them -------------------------------

    def meson_info(self):
        """(build dir, meson introspect --installed, build options)."""
        bdir = build_dir()
        if not bdir or not shutil.which("meson"):
            self.skipTest("SESCTL_BIN is not in a Meson build directory")
        out = []
        for what in ("--installed", "--buildoptions"):
            p = subprocess.run(["meson", "introspect", what], cwd=bdir,
                               capture_output=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            out.append(json.loads(p.stdout))
        opts = {o["name"]: o["value"] for o in out[1]}
        return bdir, out[0], opts

    def expected_install(self, bdir, opts):
        """{file in the source or build tree: where it is installed}.
        The completion directories are the *_completion_dir options, else
        the shells' own <datadir>/... defaults (which is also what the
        bash-completion and fish pkg-config files name)."""
        prefix = opts["prefix"]

        def under(d):
            return os.path.normpath(os.path.join(prefix, d))

        want = {}
        for shell, rel, default in (
                ("bash", "completions/bash/sesctl",
                 "bash-completion/completions"),
                ("zsh", "completions/zsh/_sesctl", "zsh/site-functions"),
                ("fish", "completions/fish/sesctl.fish",
                 "fish/vendor_completions.d")):
            d = opts.get(shell + "_completion_dir") or os.path.join(
                opts["datadir"], default)
            want[os.path.join(SOURCE_ROOT, rel)] = os.path.join(
                under(d), os.path.basename(rel))
        unit_dir = opts.get("systemd_unit_dir") or ""
        if not unit_dir and shutil.which("pkg-config"):
            unit_dir = subprocess.run(
                ["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                capture_output=True, text=True, timeout=60).stdout.strip()
        if unit_dir and unit_dir != "no":
            for unit in ("sesctl-rotate@.service", "sesctl-rotate@.timer"):
                want[os.path.join(bdir, "contrib", "systemd", unit)] = \
                    os.path.join(under(unit_dir), unit)
        if opts.get("man") != "disabled" and shutil.which("scdoc"):
            for page in ("sesctl.1", "sesctl-smtp.1"):
                want[os.path.join(bdir, "docs", page)] = os.path.join(
                    under(opts["mandir"]), "man1", page)
        return want

    def test_install_layout(self):
        """meson introspect --installed: both man pages in man1, the
        three completion files in their shells' directories, and the
        systemd units in systemd's."""
        bdir, installed, opts = self.meson_info()
        got = {os.path.realpath(k): v for k, v in installed.items()}
        want = self.expected_install(bdir, opts)
        for source, dest in want.items():
            self.assertIn(os.path.realpath(source), got,
                          "%s is not installed" % source)
            self.assertEqual(got[os.path.realpath(source)], dest, source)
        pages = {os.path.basename(d) for d in installed.values()
                 if re.search(r"/man\d/", d)}
        if pages:
            self.assertSameSet(pages, {"sesctl.1", "sesctl-smtp.1"},
                               "installed man pages")

    def test_install_into_destdir(self):
        """meson install --destdir really writes them there."""
        bdir, installed, opts = self.meson_info()
        dest = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, dest)
        p = subprocess.run(["meson", "install", "--no-rebuild", "--quiet",
                            "--destdir", dest], cwd=bdir,
                           capture_output=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for source, path in self.expected_install(bdir, opts).items():
            full = dest + path
            self.assertTrue(os.path.isfile(full), full)
            with open(full, "rb") as f:
                data = f.read()
            if path.endswith(".1"):
                name = os.path.basename(path)[:-2]
                self.assertTrue(('.TH "%s" "1"' % name).encode() in data
                                and b"\n.SH SEE ALSO\n" in data,
                                "%s is not the man page" % full)
            else:
                with open(source, "rb") as f:
                    self.assertEqual(data, f.read(), full)
            self.assertFalse(os.stat(full).st_mode & 0o022, full)


if __name__ == "__main__":
    unittest.main()
