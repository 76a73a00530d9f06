"""Prints "<path>: valid PNG WxH" for each argument that is a PNG file (the
8-byte signature, then an IHDR chunk with a nonzero width and height), and
exits 1 at the first that is not."""
import struct
import sys

SIGNATURE = b"\x89PNG\r\n\x1a\n"

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != SIGNATURE or head[12:16] != b"IHDR":
        print(f"{path}: not a PNG")
        sys.exit(1)
    width, height = struct.unpack(">II", head[16:24])
    if width == 0 or height == 0:
        print(f"{path}: empty PNG")
        sys.exit(1)
    print(f"{path}: valid PNG {width}x{height}")
