# nbdkit python plugin (bench/run.sh): an export of alternating data and
# hole runs that answers only a few extents per block-status request, so
# mapping it takes one request per PER extents and a client that waits
# for each reply before sending the next pays every round trip.
#   nbdkit python bench/frag.py size=BYTES run=BYTES per=N
import nbdkit

API_VERSION = 2
size = 256 * 1024 * 1024
run = 64 * 1024
per = 4


def config(key, value):
    global size, run, per
    if key == "size":
        size = int(value)
    elif key == "run":
        run = int(value)
    elif key == "per":
        per = int(value)
    else:
        raise RuntimeError("unknown parameter " + key)


def thread_model():
    # Parallel, so that the delay filter's sleeps overlap across requests
    # in flight: the server is not what serialises a slow map.
    return nbdkit.THREAD_MODEL_PARALLEL


def open(readonly):
    return 1


def get_size(h):
    return size


def can_extents(h):
    return True


def pread(h, buf, offset, flags):
    buf[:] = bytearray(len(buf))


def extents(h, count, offset, flags):
    # Even runs are data, odd runs holes.  nbdkit clips the first extent
    # to the request's offset.
    out = []
    s = offset - offset % run
    while len(out) < per and s < offset + count and s < size:
        out.append((s, min(run, size - s), 0 if s // run % 2 == 0 else 3))
        s += run
    return out
