"""onnx_seeds.py DATA_ROOT OUT: the small models of ONNX's backend test data
(libonnx-testdata) as a seed corpus for the ONNX importer's fuzz target:
every model.onnx of at most 4 KB, each case's name as the file name."""
import os
import shutil
import sys

root, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
n = 0
for suite in ("node", "pytorch-converted", "pytorch-operator", "simple"):
    base = os.path.join(root, suite)
    if not os.path.isdir(base):
        continue
    for case in sorted(os.listdir(base)):
        model = os.path.join(base, case, "model.onnx")
        if os.path.isfile(model) and os.path.getsize(model) <= 4096:
            shutil.copy(model, os.path.join(out, case + ".onnx"))
            n += 1
print(f"{n} seeds")
