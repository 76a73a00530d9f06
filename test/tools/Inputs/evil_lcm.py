"""Copies a saved model, replacing its optimizer name (an attempt to inject
pass options through the compile config): `evil_lcm.py IN OUT NAME`."""
import json
import struct
import sys

data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
config = json.loads(header["__metadata__"]["compile_config"])
config["optimizer"]["name"] = sys.argv[3]
header["__metadata__"]["compile_config"] = json.dumps(config)
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
