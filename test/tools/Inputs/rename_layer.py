"""Copies a saved model, renaming one layer (in the model config and in its
weights' tensor names) to an arbitrary string, e.g. one that tries to
inject C code into the generated header: `rename_layer.py IN OUT OLD NEW`
(NEW may use Python escapes: \\n, \\x00...)."""
import json
import struct
import sys

src, dst, old = sys.argv[1], sys.argv[2], sys.argv[3]
new = sys.argv[4].encode().decode("unicode_escape")
data = open(src, "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
meta = header["__metadata__"]


def rename(value):
    if isinstance(value, dict):
        return {rename(k): rename(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rename(v) for v in value]
    if isinstance(value, str):
        if value == old:
            return new
        if value.startswith(old + "/"):
            return new + value[len(old):]
    return value


for key, value in meta.items():
    # The configs, and any per-tensor table such as the checksums.
    try:
        parsed = json.loads(value)
    except ValueError:
        continue
    meta[key] = json.dumps(rename(parsed))
out = {}
for name, entry in header.items():
    out[rename(name) if name != "__metadata__" else name] = entry
text = json.dumps(out).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
