#!/usr/bin/env bash
# Inference latency of the MNIST MLP compiled ahead of time by layerc
# (static library + header, linked into a C program) next to PyTorch, one
# thread each, medians; also the library's size.
#   bash bench/aot_latency.sh [build-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bin/layerc" "$here/../examples/mlir/mnist_mlp.mlir" -o "$work/libmnist.a" --name=mnist
cc -O2 -std=c99 -I"$work" "$here/aot_latency.c" "$work/libmnist.a" -lm -o "$work/bench"
echo "layerc libmnist.a bytes $(stat -c %s "$work/libmnist.a")"
ours=$("$work/bench")
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$here/aot_latency_pytorch.py")
echo "$ours"
echo "$theirs"
for b in batch1_us batch64_us; do
  a=$(echo "$ours" | awk -v k=$b '$2 == k {print $3}')
  p=$(echo "$theirs" | awk -v k=$b '$1 == "pytorch-jit" && $2 == k {print $3}')
  awk -v a="$a" -v p="$p" -v k="$b" 'BEGIN { printf "%s layerc/pytorch-jit: %.2f (lower is better)\n", k, a / p }'
done
