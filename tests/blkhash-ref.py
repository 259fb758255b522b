#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Independent blkhash reference (hashlib only), to cross-check nbd-copy.

    blkhash-ref.py [ALG[/SIZE]] [FILE]   digest of FILE (default stdin)
    blkhash-ref.py --table               C rows for tests/unit/test-blkhash.c

blkhash (blksum >= 0.10, nbdcopy --blkhash): cut the image into blocks of
SIZE bytes (power of two, default 64k, the last block may be short) and
hash H(H(block 1) || ... || H(block N) || le64(length)), H = ALG.

Written from that definition alone, sharing no code with common/blkhash.c.
"""
import hashlib
import struct
import sys

ALGS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
SUFFIX = {"b": 0, "s": 9, "k": 10, "m": 20, "g": 30, "t": 40}


def parse_spec(spec):
    alg, _, size = spec.partition("/")
    if alg not in ALGS:
        sys.exit("blkhash-ref.py: unknown algorithm %r" % alg)
    bs = 64 * 1024
    if size:
        shift = 0
        if size[-1].lower() in SUFFIX:
            shift = SUFFIX[size[-1].lower()]
            size = size[:-1]
        bs = int(size) << shift
    if bs <= 0 or bs & (bs - 1):
        sys.exit("blkhash-ref.py: block size must be a power of two")
    return alg, bs


def digest_stream(fp, alg, bs):
    """Reads fp to EOF; zero blocks reuse one digest (it is only faster)."""
    outer = hashlib.new(alg)
    zero_block = bytes(bs)
    zero_digest = hashlib.new(alg, zero_block).digest()
    length = 0
    while True:
        block = b""
        while len(block) < bs:
            chunk = fp.read(bs - len(block))
            if not chunk:
                break
            block += chunk
        if not block:
            break
        length += len(block)
        if block == zero_block:
            outer.update(zero_digest)
        else:
            outer.update(hashlib.new(alg, block).digest())
        if len(block) < bs:
            break
    outer.update(struct.pack("<Q", length))
    return outer.hexdigest()


# --- the synthetic images of the unit test ------------------------------
#
# byte i = T[i % P] ^ ((i // P) & 0xff), except inside zero segments; T is
# P bytes of the LCG below.  test-blkhash.c implements the same formula.
P = 4093


def lcg_table():
    x, t = 1, bytearray(P)
    for i in range(P):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        t[i] = (x >> 16) & 0xFF
    return bytes(t)


T = lcg_table()
XOR = [bytes(b ^ k for b in range(256)) for k in range(256)]


def pattern(a, b):
    """Pattern bytes [a, b) without zero segments."""
    out = bytearray()
    k = a // P
    while k * P < b:
        chunk = T.translate(XOR[k & 0xFF])
        lo, hi = max(a, k * P) - k * P, min(b, (k + 1) * P) - k * P
        out += chunk[lo:hi]
        k += 1
    return bytes(out)


def image_digest(alg, bs, length, zeros):
    """zeros: sorted, disjoint (off, len) segments."""
    outer = hashlib.new(alg)
    zero_digest = hashlib.new(alg, bytes(bs)).digest()
    zi = 0
    for start in range(0, length, bs):
        end = min(start + bs, length)
        while zi < len(zeros) and sum(zeros[zi]) <= start:
            zi += 1
        if (zi < len(zeros) and zeros[zi][0] <= start and
                sum(zeros[zi]) >= end and end - start == bs):
            outer.update(zero_digest)
            continue
        block = bytearray(pattern(start, end))
        for off, n in zeros[zi:]:
            if off >= end:
                break
            lo, hi = max(off, start), min(off + n, end)
            block[lo - start:hi - start] = bytes(max(0, hi - lo))
        outer.update(hashlib.new(alg, bytes(block)).digest())
    outer.update(struct.pack("<Q", length))
    return outer.hexdigest()


def merge(segs, length):
    out = []
    for off, n in sorted(segs):
        end = min(off + n, length)
        if end <= off:
            continue
        if out and off <= sum(out[-1]):
            last = out[-1]
            out[-1] = (last[0], max(sum(last), end) - last[0])
        else:
            out.append((off, end - off))
    return out


def layout(name, bs, length):
    if name == "dense":
        return []
    if name == "allzero":
        return merge([(0, length)], length)
    if name == "mixed":
        # a few whole zero blocks, a run across block boundaries at odd
        # offsets, and zeroes up to the end (into the short last block)
        segs = [(b * bs, bs) for b in range(min(length // bs, 24))
                if b % 3 == 1]
        segs.append((length // 3 + 1, bs * 3 // 2 + 1))
        segs.append((length - length // 7, length // 7))
        return merge(segs, length)
    if name == "sparse":
        # 64 GiB of zeroes but two islands of data: 1M zero blocks at 64k
        return merge([(4096, (1 << 20) - 4096),
                      ((1 << 20) + 7, length - (1 << 20) - 7 - 5)], length)
    raise ValueError(name)


def cases():
    sizes = [4, 64, 4096, 65536, 1 << 20]
    for alg in ALGS:
        for bs in sizes:
            yield alg, bs, 7 * bs + bs // 2 + 1, "mixed"
    for bs in [4, 512, 65536]:
        for length in [0, 1, bs - 1, bs, bs + 1, 3 * bs]:
            for name in ["dense", "mixed", "allzero"]:
                yield "sha256", bs, length, name
    yield "sha256", 4, 100003, "mixed"
    yield "md5", 16, 3 * 65537, "mixed"
    yield "sha1", 1 << 20, 5 * (1 << 20) + 12345, "dense"
    yield "sha256", 65536, 64 << 30, "sparse"


def c_strings(parts, sep, width=64):
    """parts joined by sep as adjacent C literals, each at most width."""
    lines, cur = [], ""
    for i, part in enumerate(parts):
        piece = part + (sep if i + 1 < len(parts) else "")
        if cur and len(cur) + len(piece) > width:
            lines.append(cur)
            cur = ""
        cur += piece
    lines.append(cur)
    return "\n\t  ".join('"%s"' % line for line in lines)


def table():
    print("\t/* generated by tests/blkhash-ref.py --table */")
    for alg, bs, length, name in cases():
        zeros = layout(name, bs, length)
        hexd = image_digest(alg, bs, length, zeros)
        print('\t{ "%s/%d", %dULL,\n\t  %s,\n\t  %s },' % (
            alg, bs, length,
            c_strings(["%d+%d" % z for z in zeros], ","),
            c_strings([hexd[i:i + 32] for i in range(0, len(hexd), 32)],
                      "")))


def main(argv):
    if argv[1:] == ["--table"]:
        table()
        return
    alg, bs = parse_spec(argv[1] if len(argv) > 1 else "sha256")
    if len(argv) > 2:
        with open(argv[2], "rb") as fp:
            print(digest_stream(fp, alg, bs))
    else:
        print(digest_stream(sys.stdin.buffer, alg, bs))


if __name__ == "__main__":
    main(sys.argv)
