# tests/python/read_container.py FILE: reads a lucid container written by
# tests/test_file.c with nothing but the standard msgpack package (and numpy if
# present), following docs/FORMAT.md. Exits 0 when every known value matches.
import struct
import sys
import zlib

import msgpack

DTYPES = {"f32": ("<f", 4), "f64": ("<d", 8), "u8": ("<B", 1), "i32": ("<i", 4), "i64": ("<q", 8)}

# What test_file.c's "python interop" test writes.
EXPECT_META = {"answer": 42, "neg": -7, "pi": 3.25, "name": "lucid \u00fc"}
EXPECT_TENSORS = {
    "w": ("f32", [2, 3], [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]),
    "b": ("f64", [3], [-1.5, 0.0, 2.25]),
    "img": ("u8", [2, 2, 3], list(range(12))),
    "idx": ("i32", [4], [-2, -1, 0, 2147483647]),
    "big": ("i64", [2], [-9000000000, 1 << 62]),
    "scalar": ("f32", [], [7.5]),
}


def fail(msg):
    print("read_container.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main(path):
    raw = open(path, "rb").read()
    if raw[:8] != b"\x89LUCID\r\n":
        fail("bad magic %r" % raw[:8])
    version, n = struct.unpack_from("<IQ", raw, 8)
    if version != 1:
        fail("version %d" % version)
    if len(raw) != 24 + n:
        fail("file is %d bytes, header says %d" % (len(raw), 24 + n))
    body = raw[20:20 + n]
    (crc,) = struct.unpack_from("<I", raw, 20 + n)
    if zlib.crc32(body) != crc:
        fail("crc %08x != %08x" % (zlib.crc32(body), crc))
    doc = msgpack.unpackb(body, raw=False)
    if list(doc.keys()) != ["kind", "meta", "tensors"]:
        fail("keys %r" % list(doc.keys()))
    if doc["kind"] != "pytest":
        fail("kind %r" % doc["kind"])
    if doc["meta"] != EXPECT_META:
        fail("meta %r" % doc["meta"])
    if not isinstance(doc["meta"]["answer"], int) or not isinstance(doc["meta"]["pi"], float):
        fail("meta types")
    names = [t["name"] for t in doc["tensors"]]
    if names != list(EXPECT_TENSORS):
        fail("tensor names %r" % names)
    try:
        import numpy
    except ImportError:
        numpy = None
    for t in doc["tensors"]:
        dtype, shape, values = EXPECT_TENSORS[t["name"]]
        if t["dtype"] != dtype or t["shape"] != shape or not isinstance(t["data"], bytes):
            fail("tensor %s: %r %r" % (t["name"], t["dtype"], t["shape"]))
        fmt, size = DTYPES[dtype]
        count = 1
        for s in shape:
            count *= s
        if len(t["data"]) != count * size:
            fail("tensor %s: %d bytes" % (t["name"], len(t["data"])))
        got = [struct.unpack_from(fmt, t["data"], i * size)[0] for i in range(count)]
        if got != values:
            fail("tensor %s: values %r" % (t["name"], got))
        if numpy is not None:
            npdt = {"f32": "<f4", "f64": "<f8", "u8": "u1", "i32": "<i4", "i64": "<i8"}[dtype]
            arr = numpy.frombuffer(t["data"], dtype=npdt).reshape(shape)
            if arr.shape != tuple(shape) or arr.ravel().tolist() != values:
                fail("tensor %s: numpy view differs" % t["name"])
    print("ok: %s, %d tensors" % (path, len(names)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: read_container.py FILE")
    main(sys.argv[1])
