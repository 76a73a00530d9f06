"""Lists the kernel bundles (runtime/cuda/KernelBundle.h) in a library or
object built by layerc for a CUDA target, and writes their payloads:
    kernel_bundle.py FILE [--ptx OUT] [--cubin OUT]
prints "kernel bundle: N entries, JIT -O<level>" and one line per entry
("ptx sm_90 36525 bytes"); --ptx writes the PTX without its NUL."""
import argparse
import struct

MAGIC = b"LCKBNDL1"
HEADER, ENTRY = 16, 24


def bundles(data):
    """The well-formed bundles in `data`: (start, jit level, entries). The
    magic string also appears in the runtime's code, not followed by a
    bundle."""
    at = data.find(MAGIC)
    while at >= 0:
        count, level = struct.unpack_from("<II", data, at + 8)
        if 0 < count < 16:
            entries = [struct.unpack_from("<IIQQ", data, at + HEADER + i * ENTRY)
                       for i in range(count)]
            if all(kind in (1, 2) and at + off + size <= len(data)
                   for kind, _, off, size in entries):
                yield at, level, entries
        at = data.find(MAGIC, at + 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--ptx")
    parser.add_argument("--cubin")
    args = parser.parse_args()
    data = open(args.file, "rb").read()
    for start, level, entries in bundles(data):
        print("kernel bundle: %d entries, JIT -O%d" % (len(entries), level))
        for kind, arch, offset, size in entries:
            name = "ptx" if kind == 1 else "cubin"
            payload = data[start + offset:start + offset + size]
            print("%s sm_%d %d bytes" % (name, arch, size))
            out = args.ptx if kind == 1 else args.cubin
            if out:
                with open(out, "wb") as f:
                    f.write(payload[:-1] if kind == 1 else payload)


main()
