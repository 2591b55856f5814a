#!/usr/bin/env python3
"""Line coverage of one source file (ws.h) over every object of a gcc
--coverage build, merged across translation units (standard library only).

    python3 tests/coverage_report.py BUILD_DIR [SOURCE [TEXT]]   (SOURCE: ws.h)

TEXT is a copy of SOURCE as it was compiled (for the annotation and the
section names when SOURCE has changed since; default SOURCE itself).

Runs `gcov --json-format --stdout` on each object's .gcda (or, for objects
that never ran, its .gcno: their lines count as not covered), merges the
line counts of SOURCE across all of them -- a line is executable if any
object compiled it, covered if any object ran it -- and prints the
percentage, a per-section breakdown (the implementation's banner comments)
and the uncovered line ranges. Also writes BUILD_DIR/coverage-ws.h.txt, the
source annotated with the merged counts.

Exit status: 0 when measured, 2 when it cannot measure (no gcov, no
objects, SOURCE never compiled).
"""
import json
import os
import re
import subprocess
import sys


def gcov_json(paths, cwd):
    """Yields the JSON documents gcov prints for a batch of data files."""
    proc = subprocess.run(["gcov", "--json-format", "--stdout"] + paths, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    text = proc.stdout.decode("utf-8", "replace")
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError:
            break
        yield doc


def sections(lines):
    """(first line, name) of each section: a '/* ====' banner line followed
    by ' * Name: ...'."""
    out = [(1, "front matter and declarations")]
    for n, line in enumerate(lines, 1):
        if line.startswith("/* ====") and n < len(lines):
            m = re.match(r"^ \* ([^.(]+)", lines[n])
            if m and m.group(1).strip() != "Implementation":
                head, _, rest = m.group(1).partition(":")
                # "Adapter: POSIX sockets" keeps its kind; others their name.
                name = head.strip() + (": " + rest.strip() if head.strip() == "Adapter" else "")
                out.append((n, name))
    return out


def ranges(nums):
    out, start, prev = [], None, None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append((start, prev))
            start = prev = n
    if start is not None:
        out.append((start, prev))
    return ", ".join("%d" % a if a == b else "%d-%d" % (a, b) for a, b in out)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    build = os.path.abspath(argv[1])
    source = os.path.realpath(argv[2] if len(argv) > 2 else "ws.h")
    try:
        subprocess.run(["gcov", "--version"], stdout=subprocess.DEVNULL, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("coverage: gcov not found: cannot measure")
        return 2

    data = []
    for d, _, files in os.walk(build):
        for f in files:
            if f.endswith(".gcno"):
                gcda = os.path.join(d, f[:-5] + ".gcda")
                data.append(gcda if os.path.exists(gcda) else os.path.join(d, f))
    if not data:
        print("coverage: no .gcno files under %s (not a --coverage build?): cannot measure" % build)
        return 2

    counts = {}  # line -> max count over all objects
    ran_objects = sum(1 for p in data if p.endswith(".gcda"))
    seen_in = 0
    batch = 40
    for i in range(0, len(data), batch):
        for doc in gcov_json(data[i:i + batch], build):
            cwd = doc.get("current_working_directory", build)
            hit = False
            for f in doc.get("files", []):
                path = f["file"]
                if not os.path.isabs(path):
                    path = os.path.join(cwd, path)
                if os.path.realpath(path) != source:
                    continue
                hit = True
                for ln in f["lines"]:
                    n = ln["line_number"]
                    counts[n] = max(counts.get(n, 0), ln["count"])
            seen_in += hit
    if not counts:
        print("coverage: %s was not compiled into any instrumented object: cannot measure" % source)
        return 2

    text = argv[3] if len(argv) > 3 else source
    with open(text, encoding="utf-8", errors="replace") as fh:
        src = fh.read().split("\n")
    executable = sorted(counts)
    covered = [n for n in executable if counts[n] > 0]
    missed = [n for n in executable if counts[n] == 0]
    pct = 100.0 * len(covered) / len(executable)
    name = os.path.basename(source)
    print("coverage: %s lines covered: %d of %d = %.1f %%  (%d objects, %d ran, %d include %s)"
          % (name, len(covered), len(executable), pct, len(data), ran_objects, seen_in, name))

    secs = sections(src)
    print("coverage: by section")
    for k, (first, sec) in enumerate(secs):
        last = secs[k + 1][0] - 1 if k + 1 < len(secs) else len(src)
        ex = [n for n in executable if first <= n <= last]
        if not ex:
            continue
        cv = sum(1 for n in ex if counts[n] > 0)
        print("  %-46s %5d / %-5d %5.1f %%  (lines %d-%d)" % (sec[:46], cv, len(ex), 100.0 * cv / len(ex), first, last))
    print("coverage: %d uncovered %s lines: %s" % (len(missed), name, ranges(missed) or "none"))

    report = os.path.join(build, "coverage-%s.txt" % name)
    with open(report, "w") as out:
        for n, line in enumerate(src, 1):
            c = counts.get(n)
            mark = "        -" if c is None else ("    #####" if c == 0 else "%9d" % c)
            out.write("%s:%5d:%s\n" % (mark, n, line))
    print("coverage: annotated source in %s" % report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
