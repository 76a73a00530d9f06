"""close.py A.bin B.bin TOL: two raw float32 files agree within TOL
(|a - b| <= TOL * (1 + |b|)); prints the largest difference, exits 1 if
they do not."""
import sys

import numpy as np

a = np.fromfile(sys.argv[1], dtype=np.float32)
b = np.fromfile(sys.argv[2], dtype=np.float32)
tol = float(sys.argv[3])
if a.shape != b.shape:
    print(f"{sys.argv[1]}: {a.size} values, {sys.argv[2]}: {b.size}")
    sys.exit(1)
diff = np.abs(a - b)
ok = bool(np.all(diff <= tol * (1 + np.abs(b))))
print(f"max |diff| = {diff.max():.3g} {'within' if ok else 'NOT within'} {tol}")
sys.exit(0 if ok else 1)
