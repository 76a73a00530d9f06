#!/usr/bin/env bash
# Epoch time of the guide's MLP on Fashion-MNIST: layerc vs PyTorch, in one
# script, one thread each, medians of N epochs. Needs python3-torch and
# libopenblas0-pthread (PyTorch's BLAS).
#   bash bench/mlp_epoch.sh [build-dir] [epochs]
set -euo pipefail
# One thread on each side (the peer pins itself to one): compiled code
# would otherwise use every core.
export LAYERC_NUM_THREADS=${LAYERC_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
epochs=${2:-3}
# Debian's PyTorch calls the system BLAS: with the reference BLAS (no
# libopenblas0 installed) its Linear layers run about 30x slower.
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas; then
  echo "warning: libblas.so.3 is not OpenBLAS; PyTorch will be far slower" \
       "than usual (apt-get install libopenblas0-pthread)" >&2
fi
ours=$("$build/bin/mlp_epoch" "$epochs")
# PyTorch's OpenBLAS must not be forced to AVX2 kernels for a fair figure.
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \
  "$here/mlp_epoch_pytorch.py" "$epochs")
echo "$ours"
echo "$theirs"
a=$(echo "$ours" | awk '/epoch_s/ {print $3}')
b=$(echo "$theirs" | awk '/epoch_s/ {print $3}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "layerc/pytorch epoch time ratio: %.2f (lower is better)\n", a / b }'
