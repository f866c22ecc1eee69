#!/usr/bin/env python3
"""Compares the results of the differential scenario's two runs (open-iscsi and kiscsi).

    compare.py OPEN_ISCSI_DIR KISCSI_DIR KNOWN_DIFFERENCES

Each DIR holds, per command LABEL of the sequences file, LABEL.cmd (the arguments), LABEL.rc,
LABEL.out and LABEL.err, and a file "order" with the labels in the order they ran. The rules
(normalisation, which stderr lines count, the allow-list) are described in README.md next to
this file. Prints every difference with both outputs, then a summary; exits 1 when a difference
is not in KNOWN_DIFFERENCES or an entry there matches no difference, 2 on bad input.
"""

import difflib
import re
import sys

# What legitimately differs between two runs of the same command lines in one boot: ids the
# kernel hands out (sessions, SCSI hosts) and the names of the disks.
NORMALISE = [
    (re.compile(r"^([a-z]+): \[[0-9]+\] ", re.M), r"\1: [SID] "),
    (re.compile(r"\bsid: [0-9]+"), "sid: SID"),
    (re.compile(r"^(\s*)SID: [0-9]+$", re.M), r"\1SID: SID"),
    (re.compile(r"Host Number: [0-9]+"), "Host Number: H"),
    (re.compile(r"\bscsi[0-9]+ Channel"), "scsiH Channel"),
    (re.compile(r"\bsd[a-z]+\b"), "sdX"),
    (re.compile(r"\bsession[0-9]+\b"), "sessionSID"),
    (re.compile(r"\bhost[0-9]+\b"), "hostH"),
]
# stderr lines that are compared: "iscsiadm: " followed by a non-blank. kiscsi's explanation
# lines ("iscsiadm:   ..." indented) and lines without the prefix are left out on both sides.
STDERR_LINE = re.compile(r"^iscsiadm: \S")
FIELDS = ("rc", "stdout", "stderr")
MAX_DIFF_LINES = 60


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


# Lines open-iscsi prints from work it does in parallel (one process per session or record), so
# in no fixed order: runs of such lines are sorted before comparing.
UNORDERED = re.compile(r"^(Rescanning session|Logging out of session|Logout of|Logging in to|"
                       r"Login to) \[")


def normalise(text):
    for pattern, replacement in NORMALISE:
        text = pattern.sub(replacement, text)
    out, run = [], []
    for line in text.splitlines(keepends=True):
        if UNORDERED.match(line):
            run.append(line)
            continue
        out += sorted(run) + [line]
        run = []
    return "".join(out + sorted(run))


def field(directory, label, name):
    if name == "rc":
        return read(f"{directory}/{label}.rc").strip() + "\n"
    if name == "stdout":
        return normalise(read(f"{directory}/{label}.out"))
    lines = normalise(read(f"{directory}/{label}.err")).splitlines()
    return "".join(line + "\n" for line in lines if STDERR_LINE.match(line))


def load_known(path):
    known = {}
    for number, line in enumerate(read(path).splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[1] not in FIELDS:
            sys.exit(f"{path}:{number}: want 'LABEL FIELD REASON' (FIELD: rc, stdout, stderr)")
        key = (parts[0], parts[1])
        if key in known:
            sys.exit(f"{path}:{number}: {parts[0]} {parts[1]} is listed twice")
        known[key] = parts[2]
    return known


def indent(text, prefix="    "):
    return "".join(prefix + line + "\n" for line in text.splitlines()) or prefix + "(empty)\n"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    dir_a, dir_b, known_path = sys.argv[1:]
    known = load_known(known_path)
    labels = read(f"{dir_a}/order").split()
    if labels != read(f"{dir_b}/order").split():
        print("the two runs ran different commands", file=sys.stderr)
        return 2
    used, unexpected = set(), []
    equal = 0
    for label in labels:
        cmd = read(f"{dir_a}/{label}.cmd").strip()
        same = True
        for name in FIELDS:
            a, b = field(dir_a, label, name), field(dir_b, label, name)
            if a == b:
                continue
            same = False
            key = (label, name)
            if key in known:
                used.add(key)
                print(f"==== KNOWN DIFFERENCE {label} {name} ({known[key]})")
            else:
                unexpected.append(key)
                print(f"==== UNEXPECTED DIFFERENCE {label} {name}")
            print(f"---- iscsiadm {cmd}")
            diff = difflib.unified_diff(a.splitlines(), b.splitlines(), f"open-iscsi {name}",
                                        f"kiscsi {name}", lineterm="")
            diff = list(diff)
            if len(diff) > MAX_DIFF_LINES:
                diff = diff[:MAX_DIFF_LINES] + [f"... ({len(diff) - MAX_DIFF_LINES} more lines)"]
            print(indent("\n".join(diff)), end="")
            if name == "stderr":
                print("    (whole stderr, open-iscsi:)")
                print(indent(read(f"{dir_a}/{label}.err"), "      "), end="")
                print("    (whole stderr, kiscsi:)")
                print(indent(read(f"{dir_b}/{label}.err"), "      "), end="")
        equal += same
    stale = sorted(set(known) - used)
    print("==== DIFFERENTIAL SUMMARY")
    for text, value in (("commands run (per system)", len(labels)), ("equal", equal),
                        ("known differences (fields)", len(used)),
                        ("unexpected differences (fields)", len(unexpected)),
                        ("stale allow-list entries", len(stale))):
        print(f"{text:<34} {value}")
    for label, name in unexpected:
        print(f"unexpected: {label} {name}")
    for label, name in stale:
        print(f"stale allow-list entry (matches no difference): {label} {name}")
    print("==== END DIFFERENTIAL SUMMARY")
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())
