#!/usr/bin/env python3
"""Make the fuzz_sigv4 seed corpus from the aws-c-auth SigV4 cases.

    tests/fuzz/make_sigv4_corpus.py      # from the top of the tree

For each tests/vectors/sigv4/aws-c-auth-v4/<case>/request.txt, writes
tests/fuzz/corpus/sigv4/<case> in fuzz_sigv4.c's input format: a flags byte
('@' plus 0x01 normalize, 0x02 token, 0x04 omit_session_token, 0x08
sign_body, from the case's context.json), then the request with
" HTTP/1.1" dropped from the request line.  Rerun it when the input format
or the vectors change; it rewrites only the files it names.
"""
import json
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(TOP, "tests", "vectors", "sigv4", "aws-c-auth-v4")
DST = os.path.join(TOP, "tests", "fuzz", "corpus", "sigv4")


def seed(case_dir):
    with open(os.path.join(case_dir, "context.json"), encoding="utf-8") as f:
        ctx = json.load(f)
    with open(os.path.join(case_dir, "request.txt"), "rb") as f:
        req = f.read()
    flags = 0x40
    if ctx.get("normalize", True):
        flags |= 0x01
    if ctx.get("credentials", {}).get("token"):
        flags |= 0x02
    if ctx.get("omit_session_token", False):
        flags |= 0x04
    if ctx.get("sign_body", False):
        flags |= 0x08
    line, sep, rest = req.partition(b"\n")
    if line.endswith(b" HTTP/1.1"):
        line = line[: -len(b" HTTP/1.1")]
    return bytes([flags]) + line + sep + rest


def main():
    os.makedirs(DST, exist_ok=True)
    n = 0
    for case in sorted(os.listdir(SRC)):
        case_dir = os.path.join(SRC, case)
        if not os.path.isfile(os.path.join(case_dir, "request.txt")):
            continue
        with open(os.path.join(DST, case), "wb") as f:
            f.write(seed(case_dir))
        n += 1
    print("%d seeds in %s" % (n, os.path.relpath(DST, TOP)))
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
