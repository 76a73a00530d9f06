"""The safetensors file written by hand (see README.md next to
generate_torch.py) and re-read to verify its header, offsets and cases."""

import json
import re
import struct
from collections import OrderedDict

import numpy as np

# Case names (also tensor-name prefixes). Here, not in common.py, so that
# generate_keras.py can use this module without torch.
NAME_RE = re.compile(r"^[a-z0-9_]+$")


# --------------------------------------------------------------------------
# safetensors writer / verifier
# --------------------------------------------------------------------------

DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}


def write_safetensors(path, tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, arr in tensors:
        arr = np.asarray(arr)
        # ascontiguousarray makes a scalar (a weight of shape ()) 1-D.
        arr = np.ascontiguousarray(arr).reshape(arr.shape)
        dtype = DTYPES[arr.dtype]
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = OrderedDict([("dtype", dtype), ("shape", list(arr.shape)),
                                    ("data_offsets", [offset, offset + len(data)])])
        offset += len(data)
        blobs.append(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)  # pad the header with spaces to a multiple of 8
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_raw(path):
    """(cases, header, arrays by name) of a file this module wrote, with its
    layout checked (offsets contiguous, in order, sizes) but not its cases."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0 and 8 + n <= len(raw)
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    data = raw[8 + n:]
    meta = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in meta.values())
    cases = json.loads(meta["cases"])
    pos = 0
    arrays = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        assert begin == pos, (name, begin, pos)
        np_dtype = {"F32": "<f4", "I32": "<i4"}[info["dtype"]]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        assert end - begin == 4 * count, name
        arrays[name] = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(info["shape"])
        pos = end
    assert pos == len(data), "trailing bytes after the last tensor"
    return cases, header, arrays


def read_safetensors(path):
    """(cases, header, arrays by name) of a file of layer cases, checked."""
    cases, header, arrays = read_raw(path)
    seen = set()
    used = set()
    for case in cases:
        c = case["name"]
        assert NAME_RE.match(c) and c not in seen, c
        seen.add(c)
        assert set(case) == {"name", "class", "config", "rtol", "atol"}
        assert case["config"]["name"] == c
        names = [k for k in header if k.startswith(c + "/")]
        n_in = sum(1 for k in names if k.startswith(c + "/input."))
        n_w = sum(1 for k in names if k.startswith(c + "/weight."))
        n_out = 1 + sum(1 for k in names if k.startswith(c + "/expected."))
        outs = ["%s/expected" % c] + ["%s/expected.%d" % (c, i) for i in range(1, n_out)]
        expected = ["%s/input.%d" % (c, i) for i in range(n_in)]
        expected += ["%s/weight.%d" % (c, i) for i in range(n_w)]
        expected += outs
        # A preprocessing case's data to adapt() on (Normalization).
        expected += [k for k in names if k == c + "/adapt"]
        assert n_in >= 1 and sorted(names) == sorted(expected), (c, names)
        batch = arrays[c + "/input.0"].shape[0]
        for k in expected:
            assert np.all(np.isfinite(arrays[k])), k
        for i in range(n_in):
            assert arrays["%s/input.%d" % (c, i)].shape[0] == batch, c
        for k in outs:
            assert arrays[k].shape[0] == batch, k
            assert header[k]["dtype"] == "F32", k
        used.update(expected)
    assert used == set(header), "tensors not belonging to any case"
    return cases, header, arrays


def verify_safetensors(path):
    """Re-read the file: header, offsets (contiguous, in order, no holes), sizes, cases."""
    cases, header, _ = read_safetensors(path)
    return cases, header


def differences(path, cases, tensors, reader=read_raw):
    """What differs between the file at `path` and the `cases` and
    `tensors` just computed: the list of cases and their configs exactly,
    the values within 1e-5 relative, 1e-6 absolute (another CPU may round
    float64 sums differently). A list of messages; empty when the same."""
    old_cases, _, old = reader(path)
    problems = []
    if [c["name"] for c in old_cases] != [c["name"] for c in cases]:
        problems.append("the list of cases differs")
    for c_old, c_new in zip(old_cases, cases):
        if json.dumps(c_old) != json.dumps(c_new):
            problems.append("%s: config or tolerances differ" % c_new["name"])
    for name, array in tensors:
        if name not in old:
            problems.append("%s: missing" % name)
        elif old[name].shape != array.shape or not np.allclose(
                old[name], array, rtol=1e-5, atol=1e-6):
            problems.append("%s: values differ" % name)
    return problems
