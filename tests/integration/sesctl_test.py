"""Shared helpers for the integration tests: where the binary and the
vectors are, and running sesctl with a clean environment."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import warnings

BIN = os.environ.get("SESCTL_BIN", "")
VECTORS = os.environ.get("SESCTL_TEST_VECTORS", "")
SOURCE_ROOT = os.environ.get("SESCTL_SOURCE_ROOT", "")

EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def clean_env(**extra):
    """The environment minus anything AWS_* (a developer's real settings
    must not leak into a test), plus `extra`.  Instance metadata is off
    (AWS_EC2_METADATA_DISABLED=true), so that a test that finds no
    credentials does not wait for 169.254.169.254; a test of IMDS pops it
    or passes AWS_EC2_METADATA_DISABLED="false"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


# SESCTL_VALGRIND=1 runs every sesctl under valgrind; its findings make
# sesctl exit with VALGRIND_EXIT, which no test expects.
VALGRIND_EXIT = 99


def command(args, binary=None):
    """The argv that runs sesctl (or another of the project's programs,
    `binary`) with `args`."""
    prefix = []
    if os.environ.get("SESCTL_VALGRIND"):
        prefix = ["valgrind", "-q", "--error-exitcode=%d" % VALGRIND_EXIT,
                  "--leak-check=full",
                  "--errors-for-leak-kinds=definite,indirect"]
    return prefix + [binary or BIN] + list(args)


def smtp_password(secret, region):
    """The SES v4 derivation, written from the AWS docs, independent of
    sesctl's C code."""
    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = h(("AWS4" + secret).encode(), "11111111")
    for part in (region, "ses", "aws4_request", "SendRawEmail"):
        k = h(k, part)
    return base64.b64encode(b"\x04" + k).decode()


def env_lines(text):
    """SMTP_X=value lines as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines()
                if "=" in line)


def run(args, stdin=b"", env=None, **kw):
    """Run sesctl; returns CompletedProcess with bytes stdout/stderr."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    return subprocess.run(command(args), input=stdin,
                          capture_output=True,
                          env=env if env is not None else clean_env(),
                          timeout=120, **kw)


def read_tsv(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]


# ---- the stand-in's request log: which requests were in flight together --


def overlap(a, b):
    return a["received_at"] < b["answered_at"] and \
        b["received_at"] < a["answered_at"]


def rounds(reqs):
    """Requests grouped into rounds: a round is a run of requests whose
    intervals overlap one another (in the order received)."""
    out = []
    for r in sorted(reqs, key=lambda r: r["received_at"]):
        if out and r["received_at"] < max(x["answered_at"] for x in out[-1]):
            out[-1].append(r)
        else:
            out.append([r])
    return out


def most_at_once(reqs):
    """The largest number of requests whose intervals overlap at one time."""
    events = sorted([(r["received_at"], 1) for r in reqs] +
                    [(r["answered_at"], -1) for r in reqs])
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


class SesctlTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BIN or not os.access(BIN, os.X_OK):
            raise RuntimeError("SESCTL_BIN is not set to the built sesctl "
                               "(run through meson test)")
        if not VECTORS or not os.path.isdir(VECTORS):
            raise RuntimeError("SESCTL_TEST_VECTORS is not set")

    def assertExit(self, proc, code):
        self.assertEqual(proc.returncode, code,
                         "exit %d, want %d\nstdout: %r\nstderr: %r" % (
                             proc.returncode, code, proc.stdout, proc.stderr))


# ---- the documented JSON Schemas --------------------------------------------

SCHEMAS = os.path.join(SOURCE_ROOT, "docs", "schema")


def schema_validator(name):
    """A validator for docs/schema/<name>.schema.json; the $refs between
    the documented schemas (by their $id) resolve to one another."""
    import jsonschema
    store = {}
    for f in os.listdir(SCHEMAS):
        with open(os.path.join(SCHEMAS, f)) as fp:
            doc = json.load(fp)
        jsonschema.Draft7Validator.check_schema(doc)
        store[doc["$id"]] = doc
        if f == name + ".schema.json":
            mine = doc
    with warnings.catch_warnings():
        # (RefResolver: deprecated in newer jsonschema, the one Debian 12
        # has needs it)
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver.from_schema(mine, store=store)
    return jsonschema.Draft7Validator(mine, resolver=resolver)


class StandinTestCase(SesctlTestCase):
    """The IAM stand-in over HTTPS, a private HOME and state directory, and
    sesctl run against them (self.call)."""

    region = "eu-west-1"

    def setUp(self):
        from standins.iam import FakeIAM
        self.iam = FakeIAM(tls=True)
        self.iam.start()
        self.addCleanup(self.iam.stop)
        self.tmp = tempfile.mkdtemp()
        os.chmod(self.tmp, 0o700)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = clean_env(HOME=self.tmp, SESCTL_STATE_DIR=self.tmp,
                             SESCTL_TEST_RETRY_BASE_MS="1",
                             **self.iam.env(region=self.region))

    def call(self, *args):
        return subprocess.run(command(list(args)), capture_output=True,
                              stdin=subprocess.DEVNULL, env=self.env,
                              timeout=180)

    def policy(self, user, name="sesctl-ses-send"):
        """An inline policy of `user` in the stand-in, as JSON (None if
        it has none of that name)."""
        for p in self.iam.user(user)["inline_policies"]:
            if p["name"] == name:
                return json.loads(p["document"])
        return None

    def set_policy(self, user, name, doc):
        """Set (None: delete) an inline policy behind sesctl's back."""
        st = self.iam.dump_state()
        for u in st["users"]:
            if u["name"] == user:
                u["inline_policies"] = [p for p in u["inline_policies"]
                                        if p["name"] != name]
                if doc is not None:
                    u["inline_policies"].append(
                        {"name": name, "document": json.dumps(doc)})
        self.iam.load_state(st)


class StoresTestCase(StandinTestCase):
    """StandinTestCase with Secrets Manager and SSM pointed at the
    stand-in too, for the tests of --secrets-manager and --ssm-path."""

    user = "sesctl-smtp"

    def setUp(self):
        super().setUp()
        self.env = dict(self.env,
                        **self.iam.env(region=self.region, stores=True))

    def key_ids(self):
        u = self.iam.user(self.user)
        return sorted(k["access_key_id"] for k in u["access_keys"]) if u \
            else []

    def sesctl(self, *args, code=0):
        p = self.call(*args)
        self.assertExit(p, code)
        return p
