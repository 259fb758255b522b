#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An NBD server that misbehaves on demand, for tests/hostile.bats.

Python 3 standard library only.  It serves one export on a Unix socket
(fixed newstyle; NBD_OPT_GO/INFO/LIST/ABORT/EXPORT_NAME,
STRUCTURED_REPLY, SET/LIST_META_CONTEXT with base:allocation), one thread
per connection.  In the default "good" modes it follows doc/proto.md of
the NBD project, which `nbdinfo`, `nbdinfo --map` and `nbdcopy` confirm;
the --read, --extents, --write and --handshake modes break one rule each.

--bitmap NAME also offers qemu:dirty-bitmap:NAME, dirty (flag 1) in the
--dirty ranges and clean elsewhere, as qemu-nbd -B serves it; with
--handshake no-base it is the only context offered, which qemu-nbd
cannot do.  --read-log FILE records every read served, one
"OFFSET LENGTH" line each, written before the reply is sent.

Content: 64 KiB blocks, even ones data, odd ones zero (a hole).  Data byte
at offset o is (o % 251) + 1, never zero, so zero-filled bytes passed off
as read data show up.  Exports up to 64 MiB live in memory and are
writable; larger ones are computed and read-only.

Strings given on the command line (--name, --desc, --error-msg) take
\\xNN escapes, so tests can send NUL, control bytes and invalid UTF-8.
"""

import argparse
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x0003E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
STRUCTURED_MAGIC = 0x668E33EF

FLAG_FIXED_NEWSTYLE = 1
FLAG_NO_ZEROES = 2

OPT_EXPORT_NAME = 1
OPT_ABORT = 2
OPT_LIST = 3
OPT_STARTTLS = 5
OPT_INFO = 6
OPT_GO = 7
OPT_STRUCTURED_REPLY = 8
OPT_LIST_META_CONTEXT = 9
OPT_SET_META_CONTEXT = 10

REP_ACK = 1
REP_SERVER = 2
REP_INFO = 3
REP_META_CONTEXT = 4
REP_ERR_UNSUP = 0x80000001
REP_ERR_POLICY = 0x80000002
REP_ERR_INVALID = 0x80000003
REP_ERR_UNKNOWN = 0x80000006
REP_ERR_TOO_BIG = 0x80000009

INFO_EXPORT = 0
INFO_NAME = 1
INFO_DESCRIPTION = 2
INFO_BLOCK_SIZE = 3

TF_HAS_FLAGS = 1 << 0
TF_READ_ONLY = 1 << 1
TF_SEND_FLUSH = 1 << 2
TF_SEND_FUA = 1 << 3
TF_SEND_TRIM = 1 << 5
TF_SEND_WRITE_ZEROES = 1 << 6
TF_SEND_DF = 1 << 7
TF_CAN_MULTI_CONN = 1 << 8
TF_SEND_CACHE = 1 << 10

CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
CMD_FLUSH = 3
CMD_TRIM = 4
CMD_CACHE = 5
CMD_WRITE_ZEROES = 6
CMD_BLOCK_STATUS = 7
CMD_FLAG_REQ_ONE = 1 << 3

REPLY_FLAG_DONE = 1
RT_NONE = 0
RT_OFFSET_DATA = 1
RT_OFFSET_HOLE = 2
RT_BLOCK_STATUS = 5
RT_ERROR = 0x8001
RT_ERROR_OFFSET = 0x8002

EPERM = 1
EIO = 5
EINVAL = 22

STATE_HOLE_ZERO = 3
BLOCK = 65536
MEMORY_MAX = 64 << 20
U64 = (1 << 64) - 1
CONTEXT_ID = 1
BITMAP_ID = 2
BASE_ALLOCATION = b"base:allocation"
BITMAP_PREFIX = b"qemu:dirty-bitmap:"
STATE_DIRTY = 1
STRICT_MIN = 4096

READ_MODES = {
    "good": "one OFFSET_DATA chunk per data block, OFFSET_HOLE for holes",
    "simple": "a simple reply (no chunks) even with structured replies",
    "overlap": "the first chunk is sent again, with other bytes",
    "overlap-same": "the first chunk is sent again, same bytes",
    "missing-start": "the first 512 bytes are never sent; success",
    "missing-middle": "512 bytes in the middle are never sent; success",
    "missing-end": "the last 512 bytes are never sent; success",
    "none": "no chunk at all, just success",
    "outside-before": "an extra chunk just before the request",
    "outside-after": "an extra chunk just after the request",
    "hole-past": "an OFFSET_HOLE chunk running past the request",
    "overflow-offset": "a chunk whose offset + length wraps past 2^64",
    "short-chunk": "an OFFSET_DATA chunk too short to hold its offset",
    "huge-chunk": "a chunk claiming 4 GiB of payload, then disconnect",
    "empty-data": "an OFFSET_DATA chunk of zero data bytes",
    "bad-hole-size": "an OFFSET_HOLE chunk with an 8-byte payload",
    "wrong-cookie": "replies carry a cookie the client never sent",
    "error": "an ERROR chunk (EIO) whose message has control bytes",
    "error-offset-outside": "an ERROR_OFFSET chunk outside the request",
    "disconnect-header": "hang up in the middle of a reply header",
    "disconnect-data": "hang up in the middle of a chunk's data",
    "trickle": "correct replies sent one byte at a time, slowly",
    "stall": "never answer reads",
}

EXTENT_MODES = {
    "good": "extents of the request, clipped to it",
    "past-request": "the last extent runs 64 KiB past the request",
    "past-end": "the last extent runs past the end of the export",
    "huge": "descriptors of 4 GiB - 1 each, far past the export",
    "zero-first": "a zero-length extent first",
    "zero-middle": "a zero-length extent between two real ones",
    "zero-only": "one zero-length extent and nothing else",
    "zero-last": "a zero-length extent after the real ones",
    "overreach": "64 KiB data, 2 GiB hole, 2 GiB data, whatever was asked",
    "early-past": "the first extent runs 64 KiB past the request",
    "backwards": "a second chunk for the context, from the start again",
    "empty": "a BLOCK_STATUS chunk with no descriptors",
    "none": "no BLOCK_STATUS chunk at all, just success",
    "short": "only the first 512 bytes of each request",
    "wrong-id": "a context id that was never negotiated",
    "odd-payload": "a payload that is not 4 + 8n bytes",
    "odd-flags": "every extent with flags 0xffffffff",
    "error": "an ERROR chunk (EIO)",
    "wrong-cookie": "a cookie the client never sent",
    "disconnect": "hang up in the middle of the descriptors",
    "stall": "never answer block status",
    "error-stall": "answer the first request, fail the second, then stall",
}

WRITE_MODES = {
    "good": "writes work (in-memory exports only)",
    "error": "every write fails with EIO",
    "wrong-cookie": "write replies carry a cookie never sent",
    "disconnect": "hang up on the first write",
}

HANDSHAKE_MODES = {
    "good": "fixed newstyle, everything supported",
    "no-sr": "structured replies refused (ERR_UNSUP)",
    "no-meta": "no meta context offered",
    "no-base": "base:allocation not offered (--bitmap still is)",
    "no-info": "NBD_OPT_INFO refused (clients fall back to GO)",
    "list-huge": "an NBD_OPT_LIST reply claiming 2 GiB, then disconnect",
    "list-bad-name-len": "a NBD_REP_SERVER whose name length exceeds it",
    "bad-magic": "the option reply magic is wrong",
    "block-size-odd": "NBD_INFO_BLOCK_SIZE 3/5/7 (not powers of 2)",
    "block-size-huge": "NBD_INFO_BLOCK_SIZE min 2 GiB",
    "block-size-zero": "NBD_INFO_BLOCK_SIZE 0/0/0",
    "block-size-strict": "4096/65536/65536, and reads or writes breaking"
                         " them fail with EINVAL",
    "disconnect-go": "hang up in the middle of the NBD_OPT_GO reply",
}

_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def unescape(arg):
    """Command-line text to bytes: raw argv bytes plus \\xNN escapes."""
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]),
                       os.fsencode(arg))


class Hangup(Exception):
    """The misbehaviour is to hang up now."""


class Export:
    """Content and allocation, shared by every connection."""

    def __init__(self, size):
        self.size = size
        self.lock = threading.Lock()
        self.mem = None
        if size <= MEMORY_MAX:
            self.mem = bytearray(size)
            for b in range(0, size, 2 * BLOCK):
                end = min(b + BLOCK, size)
                self.mem[b:end] = self._pattern(b, end - b)
        self.read_only = self.mem is None

    _PAT = bytes((i % 251) + 1 for i in range(251)) * (BLOCK // 251 + 2)

    @classmethod
    def _pattern(cls, off, n):
        out = bytearray()
        while n > 0:
            k = min(n, BLOCK)
            s = off % 251
            out += cls._PAT[s:s + k]
            off += k
            n -= k
        return bytes(out)

    def read(self, off, n):
        if self.mem is not None:
            with self.lock:
                return bytes(self.mem[off:off + n])
        out = bytearray()
        end = off + n
        while off < end:
            k = min(end, (off // BLOCK + 1) * BLOCK) - off
            if (off // BLOCK) % 2 == 0:
                out += self._pattern(off, k)
            else:
                out += bytes(k)
            off += k
        return bytes(out)

    def write(self, off, data):
        with self.lock:
            self.mem[off:off + len(data)] = data

    def zero(self, off, n):
        with self.lock:
            self.mem[off:off + n] = bytes(n)

    def is_zero(self, off, n):
        """True if [off, off+n), inside one block, reads as zeroes."""
        if self.mem is not None:
            with self.lock:
                return self.mem.count(0, off, off + n) == n
        return (off // BLOCK) % 2 == 1

    def runs(self, off, n):
        """(offset, length, is_zero) runs of [off, off+n), merged."""
        out = []
        end = off + n
        while off < end:
            k = min(end, (off // BLOCK + 1) * BLOCK) - off
            z = self.is_zero(off, k)
            if out and out[-1][2] == z:
                out[-1][1] += k
            else:
                out.append([off, k, z])
            off += k
        return out


class Conn(socketserver.BaseRequestHandler):
    """One client: handshake, then transmission, misbehaving as told."""

    def setup(self):
        self.opts = self.server.opts
        self.export = self.server.export
        self.sock = self.request
        self.sr = False
        self.contexts = []
        self.statuses = 0
        self.no_zeroes = False
        self.send_lock = threading.Lock()
        self.in_tx = False

    def handle(self):
        try:
            if self.negotiate():
                self.transmission()
        except (Hangup, ConnectionError, EOFError, BrokenPipeError):
            pass
        finally:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- plumbing --------------------------------------------------------

    def recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            got = self.sock.recv(n - len(buf))
            if not got:
                raise EOFError
            buf += got
        return bytes(buf)

    def send(self, data):
        with self.send_lock:
            if self.in_tx and self.opts.read == "trickle":
                for i in range(len(data)):
                    self.sock.sendall(data[i:i + 1])
                    if i % 64 == 0:
                        time.sleep(0.001)
            else:
                self.sock.sendall(data)

    def hangup_after(self, data):
        """Sends the first half of data, then hangs up."""
        self.sock.sendall(data[:max(1, len(data) // 2)])
        raise Hangup

    # --- handshake -------------------------------------------------------

    def opt_reply(self, opt, rtype, data=b""):
        magic = REPLY_MAGIC
        if self.opts.handshake == "bad-magic":
            magic ^= 1
        self.send(struct.pack(">QIII", magic, opt, rtype, len(data)) + data)

    def negotiate(self):
        hs = self.opts.handshake
        self.send(struct.pack(">QQH", NBDMAGIC, IHAVEOPT,
                              FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES))
        (cflags,) = struct.unpack(">I", self.recv(4))
        self.no_zeroes = bool(cflags & FLAG_NO_ZEROES)
        while True:
            magic, opt, length = struct.unpack(">QII", self.recv(16))
            if magic != IHAVEOPT:
                return False
            if length > (1 << 20):
                return False
            data = self.recv(length)
            if opt == OPT_EXPORT_NAME:
                reply = struct.pack(">QH", self.export.size & U64,
                                    self.tflags())
                if not self.no_zeroes:
                    reply += bytes(124)
                self.send(reply)
                return True
            if opt == OPT_ABORT:
                self.opt_reply(opt, REP_ACK)
                return False
            if opt == OPT_LIST:
                self.opt_list(opt, data)
            elif opt == OPT_STRUCTURED_REPLY:
                if length != 0:
                    self.opt_reply(opt, REP_ERR_INVALID)
                elif hs == "no-sr":
                    self.opt_reply(opt, REP_ERR_UNSUP)
                else:
                    self.sr = True
                    self.opt_reply(opt, REP_ACK)
            elif opt == OPT_INFO and hs == "no-info":
                self.opt_reply(opt, REP_ERR_UNSUP)
            elif opt in (OPT_INFO, OPT_GO):
                if self.opt_info(opt, data) and opt == OPT_GO:
                    return True
            elif opt in (OPT_SET_META_CONTEXT, OPT_LIST_META_CONTEXT):
                self.opt_meta(opt, data)
            else:
                self.opt_reply(opt, REP_ERR_UNSUP)

    def opt_list(self, opt, data):
        if data:
            self.opt_reply(opt, REP_ERR_INVALID)
            return
        hs = self.opts.handshake
        if hs == "list-huge":
            self.send(struct.pack(">QIII", REPLY_MAGIC, opt, REP_SERVER,
                                  0x7FFFFFFF) + b"\0\0\0\4name")
            raise Hangup
        for name in self.opts.names:
            payload = name + self.opts.desc
            nlen = len(name)
            if hs == "list-bad-name-len":
                nlen = len(payload) + 100
            self.opt_reply(opt, REP_SERVER,
                           struct.pack(">I", nlen) + payload)
        self.opt_reply(opt, REP_ACK)

    def tflags(self):
        f = (TF_HAS_FLAGS | TF_SEND_FLUSH | TF_SEND_FUA | TF_SEND_CACHE |
             TF_CAN_MULTI_CONN)
        if self.sr:
            f |= TF_SEND_DF
        if self.export.read_only:
            f |= TF_READ_ONLY
        else:
            f |= TF_SEND_TRIM | TF_SEND_WRITE_ZEROES
        return f

    def opt_info(self, opt, data):
        if len(data) < 6:
            self.opt_reply(opt, REP_ERR_INVALID)
            return False
        (nlen,) = struct.unpack(">I", data[:4])
        if 4 + nlen + 2 > len(data):
            self.opt_reply(opt, REP_ERR_INVALID)
            return False
        name = data[4:4 + nlen]
        (nreq,) = struct.unpack(">H", data[4 + nlen:6 + nlen])
        reqs = data[6 + nlen:]
        if len(reqs) != 2 * nreq:
            self.opt_reply(opt, REP_ERR_INVALID)
            return False
        wanted = {struct.unpack(">H", reqs[i:i + 2])[0]
                  for i in range(0, len(reqs), 2)}
        if name not in self.opts.names and name != b"":
            self.opt_reply(opt, REP_ERR_UNKNOWN,
                           b"no such export")
            return False
        hs = self.opts.handshake
        bs = {"block-size-odd": (3, 5, 7),
              "block-size-huge": (1 << 31, 1 << 31, 1 << 31),
              "block-size-zero": (0, 0, 0),
              "block-size-strict": (STRICT_MIN, BLOCK, BLOCK)}.get(hs)
        if bs is not None:
            self.opt_reply(opt, REP_INFO,
                           struct.pack(">HIII", INFO_BLOCK_SIZE, *bs))
        if INFO_NAME in wanted:
            self.opt_reply(opt, REP_INFO,
                           struct.pack(">H", INFO_NAME) +
                           (name or self.opts.names[0]))
        if INFO_DESCRIPTION in wanted and self.opts.desc:
            self.opt_reply(opt, REP_INFO,
                           struct.pack(">H", INFO_DESCRIPTION) +
                           self.opts.desc)
        info = struct.pack(">HQH", INFO_EXPORT, self.export.size & U64,
                           self.tflags())
        if hs == "disconnect-go" and opt == OPT_GO:
            self.hangup_after(struct.pack(">QIII", REPLY_MAGIC, opt,
                                          REP_INFO, len(info)) + info)
        self.opt_reply(opt, REP_INFO, info)
        self.opt_reply(opt, REP_ACK)
        return True

    def opt_meta(self, opt, data):
        if not self.sr and opt == OPT_SET_META_CONTEXT:
            self.opt_reply(opt, REP_ERR_INVALID)
            return
        try:
            (nlen,) = struct.unpack(">I", data[:4])
            pos = 4 + nlen
            (nq,) = struct.unpack(">I", data[pos:pos + 4])
            pos += 4
            queries = []
            for _ in range(nq):
                (qlen,) = struct.unpack(">I", data[pos:pos + 4])
                queries.append(data[pos + 4:pos + 4 + qlen])
                pos += 4 + qlen
            if pos != len(data):
                raise struct.error
        except struct.error:
            self.opt_reply(opt, REP_ERR_INVALID)
            return
        offered = self.offered_contexts()
        if opt == OPT_LIST_META_CONTEXT and not queries:
            chosen = list(offered)
        else:
            # An exact name, or a namespace query ending in ':'.
            chosen = [c for c in offered if any(
                q == c or (q.endswith(b":") and c.startswith(q))
                for q in queries)]
        for c in chosen:
            self.opt_reply(opt, REP_META_CONTEXT,
                           struct.pack(">I", offered[c]) + c)
        if opt == OPT_SET_META_CONTEXT:
            self.contexts = chosen
        self.opt_reply(opt, REP_ACK)

    def offered_contexts(self):
        """Context name -> id, in the order they are offered."""
        hs = self.opts.handshake
        out = {}
        if hs not in ("no-meta", "no-base"):
            out[BASE_ALLOCATION] = CONTEXT_ID
        if hs != "no-meta" and self.opts.bitmap is not None:
            out[BITMAP_PREFIX + self.opts.bitmap] = BITMAP_ID
        return out

    # --- transmission ----------------------------------------------------

    def transmission(self):
        self.in_tx = True
        while True:
            hdr = self.recv(28)
            magic, flags, cmd, cookie, off, length = struct.unpack(
                ">IHHQQI", hdr)
            if magic != REQUEST_MAGIC:
                return
            data = b""
            if cmd == CMD_WRITE:
                data = self.recv(length)
            if cmd == CMD_DISC:
                return
            if self.opts.delay:
                time.sleep(self.opts.delay)
            if off + length > self.export.size:
                self.error(cookie, EINVAL, b"request past the end")
            elif self.breaks_block_size(cmd, off, length):
                self.error(cookie, EINVAL, b"request breaks block size")
            elif cmd == CMD_READ:
                self.do_read(cookie, off, length)
            elif cmd == CMD_BLOCK_STATUS:
                self.do_block_status(cookie, flags, off, length)
            elif cmd in (CMD_WRITE, CMD_WRITE_ZEROES, CMD_TRIM):
                self.do_write(cmd, cookie, off, length, data)
            elif cmd in (CMD_FLUSH, CMD_CACHE):
                self.ok(cookie)
            else:
                self.error(cookie, EINVAL, b"unknown command")

    def breaks_block_size(self, cmd, off, length):
        if self.opts.handshake != "block-size-strict" or \
                cmd not in (CMD_READ, CMD_WRITE):
            return False
        end = off + length
        aligned = off % STRICT_MIN == 0 and \
            (end % STRICT_MIN == 0 or end == self.export.size)
        return not aligned or length > BLOCK

    def chunk(self, flags, rtype, cookie, payload):
        return struct.pack(">IHHQI", STRUCTURED_MAGIC, flags, rtype, cookie,
                           len(payload)) + payload

    def ok(self, cookie):
        if self.sr:
            self.send(self.chunk(REPLY_FLAG_DONE, RT_NONE, cookie, b""))
        else:
            self.send(struct.pack(">IIQ", SIMPLE_MAGIC, 0, cookie))

    def error(self, cookie, errno, msg):
        if self.sr:
            self.send(self.chunk(REPLY_FLAG_DONE, RT_ERROR, cookie,
                                 struct.pack(">IH", errno, len(msg)) + msg))
        else:
            self.send(struct.pack(">IIQ", SIMPLE_MAGIC, errno, cookie))

    def read_chunks(self, cookie, off, length):
        """The correct chunks for a read, as (flags, type, payload)."""
        out = []
        for roff, rlen, z in self.export.runs(off, length):
            if z:
                out.append([0, RT_OFFSET_HOLE,
                            struct.pack(">QI", roff, rlen)])
            else:
                out.append([0, RT_OFFSET_DATA, struct.pack(">Q", roff) +
                            self.export.read(roff, rlen)])
        return out

    def log_read(self, off, length):
        if self.server.read_log is None:
            return
        with self.server.read_log_lock:
            self.server.read_log.write(f"{off} {length}\n")
            self.server.read_log.flush()

    def do_read(self, cookie, off, length):
        self.log_read(off, length)
        mode = self.opts.read
        if mode == "stall":
            return
        if not self.sr or mode == "simple":
            self.send(struct.pack(">IIQ", SIMPLE_MAGIC, 0, cookie) +
                      self.export.read(off, length))
            return
        if mode == "error":
            self.error(cookie, EIO, self.opts.error_msg)
            return
        if mode == "wrong-cookie":
            cookie ^= 0x5A5A0000
        if mode == "disconnect-header":
            self.hangup_after(self.chunk(0, RT_OFFSET_DATA, cookie,
                                         struct.pack(">Q", off)))
        if mode == "huge-chunk":
            self.send(struct.pack(">IHHQI", STRUCTURED_MAGIC, 0,
                                  RT_OFFSET_DATA, cookie, 0xFFFFFFFF) +
                      struct.pack(">Q", off) + bytes(4096))
            raise Hangup
        if mode in ("missing-start", "missing-middle", "missing-end") \
                and length > 512:
            # Data for all but 512 bytes of the request, all as data.
            if mode == "missing-start":
                pieces = [(off + 512, length - 512)]
            elif mode == "missing-end":
                pieces = [(off, length - 512)]
            else:
                mid = off + (length // 2) // 512 * 512
                pieces = [(off, mid - off),
                          (mid + 512, off + length - mid - 512)]
            chunks = [[0, RT_OFFSET_DATA, struct.pack(">Q", o) +
                       self.export.read(o, n)] for o, n in pieces if n > 0]
        elif mode == "none":
            chunks = []
        elif mode == "overflow-offset":
            chunks = [[0, RT_OFFSET_DATA,
                       struct.pack(">Q", U64 - 15) + b"\xAA" * 64]]
        elif mode == "short-chunk":
            chunks = [[0, RT_OFFSET_DATA, b"\0\0\0\0"]]
        elif mode == "empty-data":
            chunks = [[0, RT_OFFSET_DATA, struct.pack(">Q", off)]] + \
                self.read_chunks(cookie, off, length)
        elif mode == "bad-hole-size":
            chunks = [[0, RT_OFFSET_HOLE, struct.pack(">Q", off)]]
        elif mode == "hole-past":
            chunks = [[0, RT_OFFSET_HOLE,
                       struct.pack(">QI", off, length + 4096)]]
        elif mode == "error-offset-outside":
            msg = b"bad offset"
            chunks = [[0, RT_ERROR_OFFSET,
                       struct.pack(">IH", EIO, len(msg)) + msg +
                       struct.pack(">Q", off + length + 4096)]]
        else:
            chunks = self.read_chunks(cookie, off, length)
            first = chunks[0]
            if mode == "overlap" or mode == "overlap-same":
                n = min(length, 512)
                fill = self.export.read(off, n) if mode == "overlap-same" \
                    else b"\xEE" * n
                chunks.append([0, RT_OFFSET_DATA,
                               struct.pack(">Q", off) + fill])
            elif mode == "outside-before" and off >= 512:
                # Reads at 0 have nothing before them: answered right.
                chunks.insert(0, [0, RT_OFFSET_DATA,
                                  struct.pack(">Q", off - 512) +
                                  b"\xEE" * 512])
            elif mode == "outside-after":
                chunks.append([0, RT_OFFSET_DATA,
                               struct.pack(">Q", off + length) +
                               b"\xEE" * 512])
            elif mode == "disconnect-data":
                self.hangup_after(self.chunk(0, first[1], cookie,
                                             first[2]))
        if chunks:
            chunks[-1][0] |= REPLY_FLAG_DONE
            self.send(b"".join(self.chunk(f, t, cookie, p)
                               for f, t, p in chunks))
        else:
            self.send(self.chunk(REPLY_FLAG_DONE, RT_NONE, cookie, b""))

    def do_block_status(self, cookie, flags, off, length):
        mode = self.opts.extents
        if not self.sr or not self.contexts:
            self.error(cookie, EINVAL, b"no meta context")
            return
        if self.opts.bitmap is not None:
            self.block_status_contexts(cookie, flags, off, length)
            return
        self.statuses += 1
        if mode == "stall" or (mode == "error-stall" and self.statuses > 2):
            return
        if mode == "error" or (mode == "error-stall" and self.statuses == 2):
            self.error(cookie, EIO, self.opts.error_msg)
            return
        if mode == "wrong-cookie":
            cookie ^= 0x5A5A0000
        runs = self.export.runs(off, length)
        if flags & CMD_FLAG_REQ_ONE:
            runs = runs[:1]
        ext = [[n, STATE_HOLE_ZERO if z else 0] for _, n, z in runs]
        ctx = CONTEXT_ID
        extra = []
        if mode == "past-request":
            room = self.export.size - (off + length)
            if room > 0:
                ext[-1][0] += min(room, BLOCK)
        elif mode == "past-end":
            ext[-1][0] += BLOCK
        elif mode == "huge":
            ext = [[0xFFFFFFFF, 0]] * 4
        elif mode == "zero-first":
            ext.insert(0, [0, 0])
        elif mode == "zero-middle":
            ext.insert(1, [0, 0])
        elif mode == "zero-only":
            ext = [[0, 0]]
        elif mode == "zero-last":
            ext.append([0, 0])
        elif mode == "overreach":
            ext = [[BLOCK, 0], [1 << 31, STATE_HOLE_ZERO], [1 << 31, 0]]
        elif mode == "early-past":
            ext = [[length + BLOCK, STATE_HOLE_ZERO], [BLOCK, 0]]
        elif mode == "backwards":
            extra = [[length, 0]]
        elif mode == "empty":
            ext = []
        elif mode == "short":
            ext = [[min(512, length), ext[0][1]]]
        elif mode == "wrong-id":
            ctx = 99
        elif mode == "odd-flags":
            ext = [[n, 0xFFFFFFFF] for n, _ in ext]
        payload = struct.pack(">I", ctx) + b"".join(
            struct.pack(">II", n, f) for n, f in ext)
        if mode == "odd-payload":
            payload += b"\0\0\0\0"
        if mode == "none":
            self.send(self.chunk(REPLY_FLAG_DONE, RT_NONE, cookie, b""))
            return
        if mode == "disconnect":
            self.hangup_after(self.chunk(0, RT_BLOCK_STATUS, cookie,
                                         payload))
        out = self.chunk(0 if extra else REPLY_FLAG_DONE, RT_BLOCK_STATUS,
                         cookie, payload)
        if extra:
            out += self.chunk(REPLY_FLAG_DONE, RT_BLOCK_STATUS, cookie,
                              struct.pack(">I", ctx) + b"".join(
                                  struct.pack(">II", n, f)
                                  for n, f in extra))
        self.send(out)

    def bitmap_runs(self, off, length):
        """(length, flags) runs of the dirty bitmap over [off, off+length)."""
        out = []
        end = off + length
        while off < end:
            dirty, nxt = False, end
            for d_off, d_len in self.opts.dirty:
                if d_off <= off < d_off + d_len:
                    dirty, nxt = True, min(end, d_off + d_len)
                    break
                if off < d_off < nxt:
                    nxt = d_off
            out.append((nxt - off, STATE_DIRTY if dirty else 0))
            off = nxt
        return out

    def block_status_contexts(self, cookie, flags, off, length):
        """A correct reply: one chunk per negotiated context."""
        chunks = []
        offered = self.offered_contexts()
        for c in self.contexts:
            if c == BASE_ALLOCATION:
                ext = [(n, STATE_HOLE_ZERO if z else 0)
                       for _, n, z in self.export.runs(off, length)]
            else:
                ext = self.bitmap_runs(off, length)
            if flags & CMD_FLAG_REQ_ONE:
                ext = ext[:1]
            chunks.append(struct.pack(">I", offered[c]) + b"".join(
                struct.pack(">II", n, f) for n, f in ext))
        self.send(b"".join(
            self.chunk(REPLY_FLAG_DONE if i == len(chunks) - 1 else 0,
                       RT_BLOCK_STATUS, cookie, p)
            for i, p in enumerate(chunks)))

    def do_write(self, cmd, cookie, off, length, data):
        mode = self.opts.write
        if self.export.read_only:
            self.error(cookie, EPERM, b"read-only export")
            return
        if mode == "disconnect":
            raise Hangup
        if mode == "error":
            self.error(cookie, EIO, self.opts.error_msg)
            return
        if cmd == CMD_WRITE:
            self.export.write(off, data)
        else:
            self.export.zero(off, length)
        if mode == "wrong-cookie":
            cookie ^= 0x5A5A0000
        self.ok(cookie)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_size(s):
    """A byte count: decimal, 0x hex, or 2^N[-K] / 2^N[+K]."""
    m = re.fullmatch(r"2\^(\d+)([-+]\d+)?", s)
    if m:
        v = (1 << int(m.group(1))) + int(m.group(2) or 0)
    else:
        v = int(s, 0)
    if not 0 <= v <= U64:
        raise argparse.ArgumentTypeError("size out of range: " + s)
    return v


def parse_range(s):
    """OFFSET+LENGTH, each as parse_size takes it."""
    off, sep, length = s.partition("+")
    if not sep:
        raise argparse.ArgumentTypeError("want OFFSET+LENGTH: " + s)
    return (parse_size(off), parse_size(length))


def main():
    def modes(table):
        return "; ".join(f"{k}: {v}" for k, v in table.items())

    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="read modes: " + modes(READ_MODES))
    p.add_argument("--socket", help="Unix socket to listen on")
    p.add_argument("--write-content", metavar="FILE",
                   help="write the export's initial content to FILE, exit")
    p.add_argument("--pidfile", help="written once the socket listens")
    p.add_argument("--size", type=parse_size, default=1 << 20,
                   help="export size: N, 0xN, 2^N, 2^N-K (default 1M)")
    p.add_argument("--name", action="append", type=unescape,
                   help="export name (repeat: more exports); \\xNN escapes")
    p.add_argument("--desc", type=unescape, default=b"",
                   help="export description; \\xNN escapes")
    p.add_argument("--error-msg", type=unescape,
                   default=b"injected \x1b[31merror\x1b[0m\nsecond line",
                   help="message of ERROR chunks")
    p.add_argument("--read", choices=READ_MODES, default="good")
    p.add_argument("--extents", choices=EXTENT_MODES, default="good",
                   help=modes(EXTENT_MODES))
    p.add_argument("--write", choices=WRITE_MODES, default="good",
                   help=modes(WRITE_MODES))
    p.add_argument("--handshake", choices=HANDSHAKE_MODES, default="good",
                   help=modes(HANDSHAKE_MODES))
    p.add_argument("--delay", type=float, default=0,
                   help="seconds to wait before each reply")
    p.add_argument("--bitmap", type=unescape,
                   help="also offer qemu:dirty-bitmap:NAME")
    p.add_argument("--dirty", type=parse_range, action="append", default=[],
                   metavar="OFFSET+LENGTH",
                   help="a range --bitmap marks dirty (repeat: more)")
    p.add_argument("--read-log", metavar="FILE",
                   help="append \"OFFSET LENGTH\" for every read served")
    opts = p.parse_args()
    if opts.bitmap is not None and opts.extents != "good":
        p.error("--bitmap serves only good extents")
    opts.dirty.sort()
    if not opts.name:
        opts.name = [b""]
    opts.names = opts.name
    if opts.write_content:
        with open(opts.write_content, "wb") as f:
            f.write(Export(opts.size).read(0, opts.size))
        return 0
    if not opts.socket:
        p.error("--socket is required")

    if os.path.exists(opts.socket):
        os.unlink(opts.socket)
    server = Server(opts.socket, Conn)
    ino = os.stat(opts.socket).st_ino
    server.opts = opts
    server.export = Export(opts.size)
    server.read_log = None
    server.read_log_lock = threading.Lock()
    if opts.read_log:
        server.read_log = open(opts.read_log, "a", encoding="ascii")

    def unlink_socket():
        # A server started on the same path after this one keeps its socket.
        try:
            if os.stat(opts.socket).st_ino == ino:
                os.unlink(opts.socket)
        except OSError:
            pass

    def stop(*_):
        # At once: tests restart servers often, and threads may be stuck.
        unlink_socket()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if opts.pidfile:
        tmp = opts.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(tmp, opts.pidfile)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        unlink_socket()
    return 0


if __name__ == "__main__":
    sys.exit(main())
