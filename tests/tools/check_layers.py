#!/usr/bin/env python3
"""check_layers.py - no module includes a header of a higher layer.

The layers, lowest first, are base < aws < smtp < cli (docs/HACKING.md).
A file under src/<layer>/ or include/sesctl/<layer>/ (at any depth) may
include "sesctl/<other>/..." only when <other> is its own layer or a lower
one.  An include of "sesctl/..." that names no known layer, and a source
or header outside every layer folder, fail too, so the rule cannot be
sidestepped by a flat header.

Usage: check_layers.py [SOURCE_ROOT]   (default: the tree this file is in)
Prints every violation as FILE:LINE: message and exits 1 if there is one.
"""
import os
import re
import sys

LAYERS = ["base", "aws", "smtp", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]sesctl/([^">]*)[">]')


def files_under(top):
    for d, dirs, names in os.walk(top):
        dirs.sort()
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.join(d, n)


def check(root):
    problems = []
    for top in ("src", os.path.join("include", "sesctl")):
        base = os.path.join(root, top)
        for path in files_under(base):
            rel = os.path.relpath(path, root)
            parts = os.path.relpath(path, base).split(os.sep)
            layer = parts[0] if len(parts) > 1 else None
            if layer not in RANK:
                problems.append("%s:1: not in a layer folder (%s)"
                                % (rel, ", ".join(LAYERS)))
                continue
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE_RE.match(line)
                    if not m:
                        continue
                    target = m.group(1).split("/")
                    other = target[0] if len(target) > 1 else None
                    if other not in RANK:
                        problems.append(
                            '%s:%d: "sesctl/%s" names no layer'
                            % (rel, lineno, m.group(1)))
                    elif RANK[other] > RANK[layer]:
                        problems.append(
                            '%s:%d: %s includes "sesctl/%s", a header of '
                            "the higher layer %s" % (rel, lineno, layer,
                                                     m.group(1), other))
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print("%d problem(s): an include crosses the layers upward or leaves "
              "them; the order is %s (docs/HACKING.md)"
              % (len(problems), " < ".join(LAYERS)))
        return 1
    print("ok: no upward include in src/ or include/sesctl/ (%s)"
          % " < ".join(LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
