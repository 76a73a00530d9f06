#!/usr/bin/env bash
# One training epoch of a small Fashion-MNIST CNN (Conv-BN-Pool-Conv-Pool-
# Dense, Adam, batch 64): layerc's fit (bench/cnn_epoch.cpp, compile time
# apart) vs PyTorch (bench/cnn_epoch_pytorch.py), with 1 and 2 threads;
# epoch time and test accuracy after that epoch (both start from Keras's
# initializers: glorot_uniform kernels, zero biases). One run per cell (an epoch
# is long); the thread count goes to layerc as LAYERC_NUM_THREADS (a
# runtime that does not read it trains on one thread) and to PyTorch as
# torch.set_num_threads. Needs build/bin/cnn_epoch (ninja cnn_epoch),
# python3-torch, dataset-fashion-mnist, and libopenblas0-pthread for a
# fair PyTorch.
#   bash bench/cnn_epoch.sh [build-dir]
#   QUICK=1 bash bench/cnn_epoch.sh          # 2,048 training images
#   TRAIN_N=12000 THREADS=1 bash bench/cnn_epoch.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
if [ -n "${QUICK:-}" ]; then n=${TRAIN_N:-2048}; else n=${TRAIN_N:-60000}; fi
threads=${THREADS:-1 2}
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
if grep -qw avx512f /proc/cpuinfo; then avx512=yes; else avx512=no; fi
echo "cpu: $cpu, $(nproc) cores; avx512f: $avx512;" \
     "load average (1 min): $(cut -d' ' -f1 /proc/loadavg)"
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas; then
  echo "warning: libblas.so.3 is not OpenBLAS; PyTorch will be slower" \
       "than usual (apt-get install libopenblas0-pthread)" >&2
fi
echo "one epoch on $n training images, batch 64; accuracy on the 10,000 test images"
rows=""
for t in $threads; do
  ours=$(LAYERC_NUM_THREADS=$t "$build/bin/cnn_epoch" "$n")
  theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \
    "$here/cnn_epoch_pytorch.py" "$n" "$t")
  get() { echo "$1" | awk -v k="$2" '$2 == k {print $3}'; }
  rows="$rows$t $(get "$ours" epoch_s) $(get "$theirs" epoch_s)"
  rows="$rows $(get "$ours" test_acc) $(get "$theirs" test_acc) $(get "$ours" compile_s)"
  rows="$rows $(get "$ours" params) $(get "$theirs" params)
"
done
printf "%s" "$rows" | awk '
  BEGIN { printf "%7s %14s %15s %13s %11s %12s %16s\n", "threads", "layerc_epoch_s",
            "pytorch_epoch_s", "layerc/torch", "layerc_acc", "pytorch_acc", "layerc_compile_s" }
  { printf "%7s %14.2f %15.2f %13.2f %11.4f %12.4f %16.2f\n", $1, $2, $3, $2 / $3, $4, $5, $6
    if ($7 != $8) bad = $7 " vs " $8 }
  END { print "(epoch ratio layerc / pytorch: lower is better)"
        if (bad != "") print "warning: parameter counts differ: " bad }'
