"""standins/__main__.py - the stand-ins' launcher: one of them in a process of its own.

For tools that are not Python tests (bench/run) and for tests of the command
line itself.  Run it with Debian's python, from the source root:

    /usr/bin/python3 tests/standins iam --port 0 --cert-dir DIR \
        [--http] [--state FILE] [--caller AKID:SECRET[:TOKEN]]... [--now ISO] \
        [--no-skew-check] [--seed N] [--account-id ID] [--page-cap N] \
        [--latency SECONDS] [--verbose]
prints one JSON line {"url", "control_url", "ca_file", "tls", "host", "port",
"account_id", "signing_region", "callers": [...], "pid"} and serves until SIGTERM
or SIGINT.  --state FILE loads FILE if it exists and keeps it up to date.  The
control endpoint (server.py) seeds it, injects faults and reads its log.

    /usr/bin/python3 tests/standins metadata
prints one JSON line {"url", "container_path", "pid"} and serves the container
credentials endpoint and IMDSv2 (metadata.py) until SIGTERM.

`python3 -m standins ...` with tests/ on PYTHONPATH is the same.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

if not __package__:
    # Run as "python3 tests/standins": import the package from tests/, and take
    # tests/standins off the path, where its modules would shadow others.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from standins.iam import FakeIAM  # noqa: E402
from standins.metadata import FakeMetadata  # noqa: E402
from standins.state import DEFAULT_ACCOUNT_ID, PARTITION_REGION  # noqa: E402


def iam_main(argv=None):
    ap = argparse.ArgumentParser(prog="standins iam",
                                 description="Local AWS IAM stand-in for sesctl's tests.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert-dir", help="where to write ca.pem/server.pem (default: temp)")
    ap.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    ap.add_argument("--state", help="JSON state file: loaded if present, kept up to date")
    ap.add_argument("--caller", action="append", default=[],
                    help="AKID:SECRET[:TOKEN] (repeatable; default: built-in test callers)")
    ap.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    ap.add_argument("--partition", default="aws", choices=sorted(PARTITION_REGION))
    ap.add_argument("--now", help="pin the server clock (ISO 8601)")
    ap.add_argument("--no-skew-check", action="store_true")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--page-cap", type=int)
    ap.add_argument("--latency", type=float, default=0.0,
                    help="seconds every IAM answer is held back (e.g. 0.05)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    fake = FakeIAM(tls=not args.http, host=args.host, port=args.port,
                   cert_dir=args.cert_dir, account_id=args.account_id,
                   partition=args.partition, callers=args.caller or None, now=args.now,
                   skew_check=not args.no_skew_check, seed=args.seed,
                   state_file=args.state, page_cap=args.page_cap, verbose=args.verbose,
                   latency=args.latency)
    fake.start()
    sys.stdout.write(json.dumps(fake.info()) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


def metadata_main(argv=None):
    argparse.ArgumentParser(
        prog="standins metadata",
        description="Local ECS container credentials and EC2 IMDSv2 stand-in.").parse_args(argv)
    md = FakeMetadata().start()
    sys.stdout.write(json.dumps({"url": md.url, "container_path": md.container_path,
                                 "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(1)
    finally:
        md.stop()


COMMANDS = {"iam": iam_main, "metadata": metadata_main}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write("usage: python3 tests/standins {%s} [options]  (run a "
                         "stand-in; NAME --help lists its options)\n"
                         % "|".join(COMMANDS))
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
