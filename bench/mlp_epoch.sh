#!/usr/bin/env bash
# Epoch time of the guide's MLP on Fashion-MNIST: layerc vs PyTorch, in one
# script, one thread each, medians of N epochs. Needs python3-torch.
#   bash bench/mlp_epoch.sh [build-dir] [epochs]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
epochs=${2:-3}
ours=$("$build/bin/mlp_epoch" "$epochs")
# PyTorch's OpenBLAS must not be forced to AVX2 kernels for a fair figure.
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \
  "$here/mlp_epoch_pytorch.py" "$epochs")
echo "$ours"
echo "$theirs"
a=$(echo "$ours" | awk '/epoch_s/ {print $3}')
b=$(echo "$theirs" | awk '/epoch_s/ {print $3}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "layerc/pytorch epoch time ratio: %.2f (lower is better)\n", a / b }'
