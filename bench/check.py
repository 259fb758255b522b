#!/usr/bin/python3
"""Reference checks for bench/run.sh (Python standard library only).

  check.py map-nbdinfo FILE SIZE RUN   nbdinfo --map text output
  check.py map-qemu FILE SIZE RUN      qemu-img map --output=json output
      compare a map of bench/frag.py's export (alternating RUN-byte data
      and hole runs) with what it must be, after merging adjacent runs
  check.py map-image FILE IMAGE        nbdinfo --map text output against
      the data and holes that SEEK_DATA/SEEK_HOLE find in IMAGE
  check.py dump FILE REF               nbddump output against hexdump -C's
  check.py hashes < BYTES              print "SHA256 BLKHASH" of stdin

Each check prints nothing and exits 0 when the output is right, or prints
one line saying what is wrong and exits 1.
"""
import hashlib
import json
import os
import re
import sys

BLOCK = 64 * 1024


def merged(runs):
    """Merge adjacent (start, length, type) runs of the same type."""
    cur = None
    for start, length, typ in runs:
        if cur is not None and cur[2] == typ and cur[0] + cur[1] == start:
            cur = (cur[0], cur[1] + length, typ)
            continue
        if cur is not None:
            yield cur
        cur = (start, length, typ)
    if cur is not None:
        yield cur


def frag_expected(size, run):
    for start in range(0, size, run):
        yield (start, min(run, size - start), 0 if start // run % 2 == 0 else 3)


def nbdinfo_runs(path):
    with open(path) as f:
        for line in f:
            fields = line.split(None, 3)
            yield (int(fields[0]), int(fields[1]), int(fields[2]))


def qemu_runs(path):
    with open(path) as f:
        for e in json.load(f):
            typ = (0 if e["data"] else 1) | (2 if e["zero"] else 0)
            yield (e["start"], e["length"], typ)


def image_runs(path):
    """Data (0) and hole (3) runs of a local file, as lseek sees them."""
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                data = size
            if data > pos:
                yield (pos, data - pos, 3)
            if data >= size:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            yield (data, hole - data, 0)
            pos = hole


def check_map(runs, size, run, want=None):
    got = list(merged(runs))
    if want is None:
        want = list(merged(frag_expected(size, run)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "extent %d is %s, expected %s" % (i, g, w)
    if len(got) != len(want):
        return "%d extents, expected %d" % (len(got), len(want))
    return None


HEX = re.compile(r"[0-9a-f]{2}$")


def dump_lines(path, nbddump):
    """(offset, hex bytes) per line and '*' for squashed runs; hexdump's
    final offset-only line is dropped (nbddump has none)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "*":
                out.append("*")
                continue
            if nbddump:
                off, _, rest = line.partition(":")
            else:
                off, _, rest = line.partition(" ")
            if not rest.strip():
                continue
            data = []
            for tok in rest.split():
                if not HEX.match(tok):
                    break
                data.append(tok)
            out.append("%d %s" % (int(off, 16), "".join(data)))
    return out


def check_dump(path, ref):
    got, want = dump_lines(path, True), dump_lines(ref, False)
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "line %d differs: %s / %s" % (i + 1, g[:40], w[:40])
    if len(got) != len(want):
        return "%d lines, expected %d" % (len(got), len(want))
    return None


def hashes():
    whole = hashlib.sha256()
    blocks = hashlib.sha256()
    zero = bytes(BLOCK)
    zero_digest = hashlib.sha256(zero).digest()
    length = 0
    pending = b""
    inp = sys.stdin.buffer
    while True:
        chunk = inp.read(64 * BLOCK)
        if not chunk:
            break
        whole.update(chunk)
        length += len(chunk)
        if pending:
            chunk = pending + chunk
        n = len(chunk) // BLOCK * BLOCK
        view = memoryview(chunk)
        for off in range(0, n, BLOCK):
            blk = view[off:off + BLOCK]
            blocks.update(zero_digest if blk == zero else hashlib.sha256(blk).digest())
        pending = bytes(view[n:])
    if pending:
        blocks.update(hashlib.sha256(pending).digest())
    blocks.update(length.to_bytes(8, "little"))
    print(whole.hexdigest(), blocks.hexdigest())
    return None


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "map-nbdinfo" and len(argv) == 5:
        bad = check_map(nbdinfo_runs(argv[2]), int(argv[3]), int(argv[4]))
    elif cmd == "map-qemu" and len(argv) == 5:
        bad = check_map(qemu_runs(argv[2]), int(argv[3]), int(argv[4]))
    elif cmd == "map-image" and len(argv) == 4:
        bad = check_map(nbdinfo_runs(argv[2]), 0, 0, list(merged(image_runs(argv[3]))))
    elif cmd == "dump" and len(argv) == 4:
        bad = check_dump(argv[2], argv[3])
    elif cmd == "hashes" and len(argv) == 2:
        bad = hashes()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if bad:
        print(bad)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
