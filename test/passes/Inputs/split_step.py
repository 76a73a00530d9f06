"""Inputs and checks of autodiff-split-step.mlir.

    split_step.py gen DIR     writes the inputs (x, labels, weights, state)
    split_step.py check DIR   grad_step + apply_step against train_step,
                              and a shard of grad_step against the batch
"""
import os
import sys

import numpy as np


def gen(d):
    rng = np.random.default_rng(5)
    save = lambda name, a: np.save(os.path.join(d, name + ".npy"), a)
    save("x", rng.normal(size=(6, 4)).astype(np.float32))
    save("y", rng.integers(0, 3, size=(6,)).astype(np.int32))
    save("k", rng.normal(size=(4, 3)).astype(np.float32))
    save("gamma", (1 + 0.1 * rng.normal(size=(3,))).astype(np.float32))
    save("mm", rng.normal(size=(3,)).astype(np.float32))
    save("mv", (1 + rng.random(3)).astype(np.float32))
    # Adam's slots after some steps: m of any sign, v positive.
    save("km", (0.01 * rng.normal(size=(4, 3))).astype(np.float32))
    save("kv", (0.001 * rng.random((4, 3))).astype(np.float32))
    save("gm", (0.01 * rng.normal(size=(3,))).astype(np.float32))
    save("gv", (0.001 * rng.random(3)).astype(np.float32))
    save("step", np.array(7, np.float32))
    save("offset0", np.array(0, np.float32))
    save("offset2", np.array(2, np.float32))
    save("x_rows", np.load(os.path.join(d, "x.npy"))[2:5])
    save("y_rows", np.load(os.path.join(d, "y.npy"))[2:5])


def check(d):
    load = lambda name: np.load(os.path.join(d, name + ".npy"))
    names = ["k", "gamma", "mm", "mv", "km", "kv", "gm", "gv"]
    ok = True
    for n in names:
        whole, split = load("train_" + n), load("split_" + n)
        same = whole.shape == split.shape and np.array_equal(
            whole.view(np.uint32), split.view(np.uint32))
        print("%s %s" % ("identical" if same else "DIFFERENT", n))
        ok &= same
    # Unchanged weights would make the comparison vacuous.
    changed = not np.array_equal(load("train_k"), load("k"))
    print("k changed" if changed else "k UNCHANGED")
    # Rows 2..4 at offset 2 draw the Dropout masks of rows 2..4 of the
    # batch: where the batch's output is 0 (dropped), so is the shard's.
    out, rows = load("grad_out"), load("rows_out")
    dropped, rows_dropped = out[2:5] == 0, rows == 0
    same_masks = np.array_equal(dropped, rows_dropped)
    print("masks of rows 2-4: %s (%d dropped)" %
          ("same" if same_masks else "DIFFERENT", int(dropped.sum())))
    sys.exit(0 if ok and changed and same_masks else 1)


{"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
