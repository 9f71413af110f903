"""bench/benchlib.py - what bench/run and bench/instructions share.

The IAM stand-in in a process of its own (tests/standins, driven through
its control endpoint), the clients' environments and CA set-ups, running a
program (for its wall time, under callgrind, or under /usr/bin/time -v
while its memory is sampled), and reading the stand-in's request log.
"""
import base64
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STANDINS = os.path.join(ROOT, "tests", "standins")
PYTHON = "/usr/bin/python3"
TIME = "/usr/bin/time"
REGION = "us-east-1"
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


class Failed(Exception):
    pass


class StandIn:
    """The IAM stand-in in a process of its own (python3 tests/standins iam),
    driven through its control endpoint."""

    def __init__(self, workdir):
        self.proc = subprocess.Popen(
            [PYTHON, STANDINS, "iam", "--port", "0", "--seed", "1",
             "--cert-dir", os.path.join(workdir, "ca")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        try:
            line = self.proc.stdout.readline()
            if not line:
                raise Failed("the IAM stand-in did not start (is "
                             "python3-botocore installed?)")
            self.info = json.loads(line)
            self.url = self.info["url"]
            self.ca_file = self.info["ca_file"]
            self.admin = next(c for c in self.info["callers"]
                              if c.get("name") == "admin")
            self._ssl = ssl.create_default_context(cafile=self.ca_file)
        except BaseException:
            self.stop()
            raise

    def control(self, method, what, data=None):
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.info["control_url"].rstrip("/") +
                                     "/" + what,
                                     data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self._ssl, timeout=30) as r:
            return json.loads(r.read())

    def requests(self):
        return self.control("GET", "requests")["requests"]

    def clear(self):
        self.control("DELETE", "requests")

    def handshakes(self):
        """TLS handshakes so far, this control request's own included:
        between two calls, the clients made the difference less one."""
        return self.control("GET", "connections")["tls_handshakes"]

    def latency(self, seconds):
        self.control("PUT", "latency", {"latency": seconds})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.stdout.close()


def client_env(iam, home):
    """The environment of a client of the stand-in (sesctl or the AWS CLI):
    the admin's keys, the stand-in's URL and CA, nothing of the user's."""
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": iam.admin["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": iam.admin["secret_access_key"],
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_IAM": iam.url, "AWS_CA_BUNDLE": iam.ca_file,
            "AWS_CONFIG_FILE": os.path.join(home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""}


def system_dir_plus(system_dir, ca_file, path):
    """A hashed CA directory: the system's certificates and the stand-in's
    CA, the way update-ca-certificates adds one."""
    os.mkdir(path)
    for name in os.listdir(system_dir):
        src = os.path.join(system_dir, name)
        if name.endswith((".pem", ".crt")) and os.path.isfile(src):
            os.symlink(os.path.realpath(src), os.path.join(path, name))
    shutil.copy(ca_file, os.path.join(path, "sesctl-stand-in-ca.pem"))
    subprocess.run(["openssl", "rehash", path], check=True,
                   capture_output=True)
    return path


def count_certs(path):
    with open(path, "rb") as f:
        return f.read().count(b"-----BEGIN CERTIFICATE-----")


class Clients:
    """How each client trusts the stand-in.  sesctl: the system's CA store
    (a copy of /etc/ssl/certs with the stand-in's CA added, given as
    SESCTL_TEST_SYSTEM_CA_DIR, which -Dtest_hooks=true builds read), or
    --ca-bundle with the system's bundle plus that CA.  boto3 and the AWS
    CLI: that same bundle as AWS_CA_BUNDLE, which is what they read by
    default (Debian's certifi is the system's bundle), plus the CA."""

    def __init__(self, sesctl, iam, work, system_dir, system_file):
        self.sesctl, self.iam = sesctl, iam
        home = os.path.join(work, "home")
        os.mkdir(home)
        self.bundle = os.path.join(work, "big-bundle.pem")
        with open(self.bundle, "wb") as out:
            for src in (system_file, iam.ca_file):
                with open(src, "rb") as f:
                    out.write(f.read())
        self.n_system = count_certs(system_file)
        self.python_env = dict(client_env(iam, home),
                               AWS_CA_BUNDLE=self.bundle)
        env = client_env(iam, home)
        del env["AWS_CA_BUNDLE"]
        self.bundle_env = env
        self.system_env = dict(env, SESCTL_TEST_SYSTEM_CA_DIR=system_dir_plus(
            system_dir, iam.ca_file, os.path.join(work, "system-dir")))

    def argv(self, args, bundle=False):
        return [self.sesctl] + (["--ca-bundle", self.bundle] if bundle
                                else []) + args

    def env(self, bundle=False):
        return self.bundle_env if bundle else self.system_env


class Result:
    def __init__(self, code, out, err, wall, cpu):
        self.code, self.out, self.err = code, out, err
        self.wall, self.cpu = wall, cpu


def run(argv, env, stdin=b""):
    """Run argv; its exit status, output, wall time and CPU time (user and
    system, from wait4(2))."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                             stdout=out, stderr=err)
        try:
            p.stdin.write(stdin)
            p.stdin.close()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        except BaseException:
            # Interrupted: the child goes too (nothing left running).
            p.kill()
            p.wait()
            raise
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return Result(p.returncode, out.read(), err.read(), wall,
                      ru.ru_utime + ru.ru_stime)


def check(res, what, ok=(0,)):
    if res.code not in ok:
        raise Failed("%s: exit %d\n%s" % (what, res.code,
                                          res.err.decode(errors="replace")))
    return res


def med(xs):
    return statistics.median(xs) if xs else 0.0


def ms(sec):
    return "%.0f ms" % (sec * 1000) if sec < 10 else "%.1f s" % sec


def instr(n):
    return "%.1f M" % (n / 1e6) if n < 1e9 else "%.2f G" % (n / 1e9)


def mib(kb):
    return "%.1f MiB" % (kb / 1024)


def connections(reqs):
    return len({r["conn"] for r in reqs})


def rounds(reqs):
    """Sequential round trips in a request log: runs of requests whose
    [received_at, answered_at] intervals overlap count as one."""
    out, end = 0, None
    for r in sorted(reqs, key=lambda r: r["received_at"]):
        if end is None or r["received_at"] >= end:
            out += 1
            end = r["answered_at"]
        else:
            end = max(end, r["answered_at"])
    return out


def most_at_once(reqs):
    events = sorted([(r["received_at"], 1) for r in reqs] +
                    [(r["answered_at"], -1) for r in reqs])
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


def actions(reqs):
    return [r["action"] for r in sorted(reqs, key=lambda r: r["seq"])]


def callgrind(argv, env, work, marks=False):
    """callgrind's instruction counts for one run of argv: [total], or with
    marks, one per phase (dumped at each getppid(2))."""
    out = os.path.join(work, "cg", "cg.%p")
    shutil.rmtree(os.path.dirname(out), ignore_errors=True)
    os.mkdir(os.path.dirname(out))
    extra = ["--dump-before=getppid"] if marks else []
    p = subprocess.run(["valgrind", "--tool=callgrind",
                        "--callgrind-out-file=" + out] + extra + argv,
                       env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=900)
    if p.returncode != 0 or not re.search(rb"Collected : \d+", p.stderr):
        raise Failed("callgrind %s: exit %d\n%s" % (
            " ".join(argv), p.returncode,
            p.stderr.decode(errors="replace")[-2000:]))
    counts = []
    for path in glob.glob(out.replace("%p", "*")):
        with open(path) as f:
            m = re.search(r"^summary: (\d+)", f.read(), re.M)
        # cg.PID.1 .. cg.PID.N at the marks, then cg.PID: the rest
        parts = os.path.basename(path).split(".")
        n = int(parts[2]) if len(parts) == 3 else 1 << 30
        counts.append((n, int(m.group(1)) if m else 0))
    return [c for _, c in sorted(counts)], p.stdout


def drain(fd):
    os.set_blocking(fd, False)
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass


def sample_memory(argv, env, work, stdin=b"", hold=False):
    """Run argv under /usr/bin/time -v: exit status, peak RSS (kB), the
    largest Private_Dirty (kB) among samples of /proc/PID/smaps_rollup
    taken every 2 ms, and the number of samples.  hold: stdout is a full
    pipe, so that a short-lived process waits in its first write (with
    what it allocated still there) while it is sampled for 0.3 s."""
    tfile = os.path.join(work, "time-v.txt")
    r_fd = w_fd = None
    if hold:
        r_fd, w_fd = os.pipe()
        fcntl.fcntl(w_fd, F_SETPIPE_SZ, 4096)
        os.set_blocking(w_fd, False)
        try:
            while True:
                os.write(w_fd, b"x" * 4096)
        except BlockingIOError:
            pass
        os.set_blocking(w_fd, True)
    p = subprocess.Popen([TIME, "-v", "-o", tfile] + argv, env=env,
                         stdin=subprocess.PIPE,
                         stdout=w_fd if hold else subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if hold:
        os.close(w_fd)
    dirty, samples, child = 0, 0, None
    started = time.monotonic()
    try:
        p.stdin.write(stdin)
        p.stdin.close()
        while p.poll() is None:
            if child is None:
                try:
                    with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                        kids = f.read().split()
                    # once it has exec'd argv (a script's comm is its own)
                    if kids:
                        with open("/proc/%s/comm" % kids[0]) as f:
                            if f.read().strip() != "time":
                                child = kids[0]
                except OSError:
                    pass
            if child is not None:
                try:
                    with open("/proc/%s/smaps_rollup" % child) as f:
                        m = re.search(r"^Private_Dirty:\s+(\d+) kB", f.read(),
                                      re.M)
                    if m:
                        dirty = max(dirty, int(m.group(1)))
                        samples += 1
                except OSError:
                    pass
            if hold and time.monotonic() - started > 0.3:
                drain(r_fd)
            time.sleep(0.002)
        p.wait()
        if hold:
            drain(r_fd)
    except BaseException:
        p.kill()
        p.wait()
        raise
    finally:
        if r_fd is not None:
            os.close(r_fd)
    with open(tfile) as f:
        text = f.read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                        text).group(1))
    code = int(re.search(r"Exit status: (\d+)", text).group(1))
    return code, rss, dirty, samples


def smtp_password_v4(secret, env):
    """The SMTP password SES accepts, with openssl dgst, as a shell script
    on the AWS CLI would make it: the HMAC chain over 11111111, region,
    ses, aws4_request, SendRawEmail, then 0x04 + base64.  Its wall and
    CPU time."""
    key, wall, cpu = "key:AWS4" + secret, 0.0, 0.0
    for msg in ("11111111", REGION, "ses", "aws4_request", "SendRawEmail"):
        r = check(run(["openssl", "dgst", "-sha256", "-mac", "HMAC",
                       "-macopt", key, "-binary"], env, msg.encode()),
                  "openssl")
        wall += r.wall
        cpu += r.cpu
        key = "hexkey:" + r.out.hex()
    return (base64.b64encode(b"\x04" + bytes.fromhex(key[7:])).decode(),
            wall, cpu)
