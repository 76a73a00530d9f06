"""Writes a small seed corpus of valid safetensors files for the fuzzer."""
import json
import struct
import sys


def write(path, header, data):
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


d = sys.argv[1]
write(f"{d}/one", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
      bytes(8))
write(f"{d}/meta", {"__metadata__": {"format": "layerc-model",
                                     "model_config": "{\"a\": [1, 2.5]}"},
                    "a": {"dtype": "I64", "shape": [1, 1],
                          "data_offsets": [0, 8]},
                    "b": {"dtype": "U8", "shape": [3], "data_offsets": [8, 11]}},
      bytes(11))
write(f"{d}/empty", {}, b"")
