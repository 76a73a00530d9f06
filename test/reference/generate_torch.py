#!/usr/bin/python3
"""Generate test/reference/torch_layers.safetensors: Keras 2 layer reference outputs.

Run from the repository root with the system Python (it needs torch and numpy):

    /usr/bin/python3 test/reference/generate_torch.py

For every case, random float32 inputs and weights are drawn (per-case seed, so
adding a case leaves the others unchanged), the Keras 2 (channels-last)
semantics of the layer are reproduced with PyTorch in float64, and the output
is stored rounded to float32.  Weights are stored in Keras layouts and in the
order of Keras's `layer.get_weights()`.  The file is a standard safetensors
file written by hand (see torch_ref/safetensors_io.py and README.md next to
this script).

The layers and their cases live in the package torch_ref next to this script:
common.py (case collection, torch helpers), spatial.py (convolutions, pooling,
upsampling), layers.py (BatchNormalization, Embedding, Dense, merging,
Activation, Flatten, Reshape), recurrent.py (SimpleRNN, LSTM, GRU) and
conv_lstm.py (ConvLSTM1D/2D/3D), each with its self-checks.
"""

import json
import os
import sys
from collections import Counter

from torch_ref.common import CASES, TENSORS
from torch_ref.conv_lstm import gen_conv_lstm, self_check_conv_lstm
from torch_ref.layers import gen_batchnorm_embedding_dense, gen_merging, gen_misc
from torch_ref.recurrent import gen_recurrent, self_check_rnn
from torch_ref.safetensors_io import verify_safetensors, write_safetensors
from torch_ref.spatial import (gen_conv, gen_conv_transpose, gen_global_pool, gen_pool,
                               gen_upsampling, self_check)
# Helpers that generate_train_step.py imports from here.
from torch_ref.common import to_channels_first, to_channels_last
from torch_ref.spatial import keras_conv, keras_conv_transpose, keras_pool, upsample_nearest

__all__ = ["keras_conv", "keras_conv_transpose", "keras_pool", "main", "to_channels_first",
           "to_channels_last", "upsample_nearest", "write_safetensors"]

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "torch_layers.safetensors")


def main():
    self_check()
    self_check_rnn()
    self_check_conv_lstm()
    gen_conv()
    gen_conv_transpose()
    gen_pool()
    gen_global_pool()
    gen_upsampling()
    gen_batchnorm_embedding_dense()
    gen_merging()
    gen_misc()
    gen_recurrent()
    gen_conv_lstm()

    metadata = {"cases": json.dumps(CASES, separators=(",", ":"))}
    write_safetensors(OUT_PATH, TENSORS, metadata)

    cases, header = verify_safetensors(OUT_PATH)
    counts = Counter(c["class"] for c in cases)
    for cls in sorted(counts):
        print("%-24s %3d" % (cls, counts[cls]))
    size = os.path.getsize(OUT_PATH)
    print("%d cases, %d classes, %d tensors, %d bytes -> %s"
          % (len(cases), len(counts), len(header), size, OUT_PATH))
    small = [cls for cls, n in counts.items() if n < 4]
    if small:
        print("classes with fewer than 4 cases:", ", ".join(sorted(small)))
    if size > 1_500_000:
        print("error: file larger than 1.5 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
