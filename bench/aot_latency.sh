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
cc -O2 -std=c99 -I"$work" "$here/aot_latency.c" "$work/libmnist.a" -lomp -lm -o "$work/bench"
echo "layerc libmnist.a bytes $(stat -c %s "$work/libmnist.a")"
ours=$("$work/bench")
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$here/aot_latency_pytorch.py" "$work/mnist.onnx")
# onnxruntime through npm's onnxruntime-node, when installed in
# ORT_NODE_DIR (npm install --ignore-scripts onnxruntime-node there: the
# scripts only fetch GPU libraries).
ort_dir=${ORT_NODE_DIR:-/tmp/ortb}
if [ -d "$ort_dir/node_modules/onnxruntime-node" ]; then
  theirs="$theirs
$(NODE_PATH="$ort_dir/node_modules" node "$here/aot_latency_onnxruntime.js" "$work/mnist.onnx")"
else
  echo "(onnxruntime skipped: no onnxruntime-node in $ort_dir)"
fi
echo "$ours"
echo "$theirs"
for b in batch1_us batch64_us; do
  a=$(echo "$ours" | awk -v k=$b '$2 == k {print $3}')
  p=$(echo "$theirs" | awk -v k=$b '$1 == "pytorch-jit" && $2 == k {print $3}')
  awk -v a="$a" -v p="$p" -v k="$b" 'BEGIN { printf "%s layerc/pytorch-jit: %.2f (lower is better)\n", k, a / p }'
  o=$(echo "$theirs" | awk -v k=$b '$1 == "onnxruntime" && $2 == k {print $3}')
  if [ -n "$o" ]; then
    awk -v a="$a" -v o="$o" -v k="$b" 'BEGIN { printf "%s layerc/onnxruntime: %.2f (lower is better)\n", k, a / o }'
  fi
done
