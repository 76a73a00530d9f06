#!/usr/bin/env bash
# Inference latency of the guide's MLP, toy ResNet and autoencoder at
# batch 1 and batch 64, with 1 and 2 threads (and layerc's cost per image
# at batch 256 against batch 16): median ms per call of
#   layerc       the model compiled ahead of time (`layerc M.lcm
#                --embed-weights`, static library + header) and called from
#                a small C program (bench/inference.c); threads through
#                LAYERC_NUM_THREADS (a library that does not read it runs
#                on one thread whatever the column says);
#   onnxruntime  PyPI's onnxruntime on the same architecture written in
#                PyTorch and exported to ONNX (intra_op_num_threads = N,
#                inter_op_num_threads = 1), inputs and outputs bound once;
#   pytorch      the PyTorch model under torch.jit.trace, no_grad,
#                torch.set_num_threads(N) (Debian's python3-torch).
# The peers are in bench/inference_peers.py (NCHW, each framework's
# preferred layout; same layers, filters and kernel sizes; the parameter
# counts are checked against the guide's). Weights are random: only time
# is compared. The ratios are layerc / peer: lower is better.
#
#   bash bench/inference.sh [build-dir]
#   QUICK=1 bash bench/inference.sh     # smoke run: 3 repetitions of ~2 ms
#   REPS=51 TARGET_MS=20 bash bench/inference.sh
#
# REPS (31) repetitions per cell, each of about TARGET_MS (10) ms of calls
# after a warm-up; THREADS ("1 2") the thread counts. onnxruntime comes
# from a venv, VENV (/tmp/layerc-bench-venv), made with --system-site-packages
# from /usr/bin/python3 and reused when present. Needs build/bin/{layerc,
# functional_guide,mnist_mlp} (ninja layerc functional_guide mnist_mlp),
# cc, python3-torch and Fashion-MNIST (mnist_mlp evaluates the test set
# before saving); libopenblas0-pthread for a fair PyTorch (Debian's
# PyTorch does its Linear layers and its batch-1 convolutions through the
# system BLAS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
if [ -n "${QUICK:-}" ]; then
  reps=${REPS:-3} target=${TARGET_MS:-2}
else
  reps=${REPS:-31} target=${TARGET_MS:-10}
fi
threads=${THREADS:-1 2}
venv=${VENV:-/tmp/layerc-bench-venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The peers' BLAS must not be forced to AVX2 kernels for a fair figure.
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
# `quiet LOG CMD...`: runs CMD with its output in LOG, shown if it fails.
quiet() {
  local log=$1
  shift
  if ! "$@" > "$log" 2>&1; then
    echo "failed: $*" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}

# --- The machine.
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
family=$(awk -F': ' '/^cpu family/ {print $2; exit}' /proc/cpuinfo)
model=$(awk -F': ' '/^model\t/ {print $2; exit}' /proc/cpuinfo)
if grep -qw avx512f /proc/cpuinfo; then avx512=yes; else avx512=no; fi
if grep -qw avx2 /proc/cpuinfo; then avx2=yes; else avx2=no; fi
echo "cpu: $cpu (family $family, model $model), $(nproc) cores; avx2: $avx2, avx512f: $avx512"
load=$(cut -d' ' -f1 /proc/loadavg)
echo "load average (1 min) before the run: $load"
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "warning: the machine is busy (load $load); the figures, above all" \
       "those with 2 threads, will be noisy" >&2
fi
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo none)
echo "system BLAS (PyTorch's): $blas"
if ! echo "$blas" | grep -q openblas; then
  echo "warning: libblas.so.3 is not OpenBLAS; PyTorch's Linear layers and" \
       "batch-1 convolutions will be far slower than usual" \
       "(apt-get install libopenblas0-pthread)" >&2
fi

# --- onnxruntime in a venv that also sees Debian's packages.
ort=yes
if ! "$venv/bin/python" -c "import onnxruntime" 2> /dev/null; then
  echo "== setting up $venv (onnxruntime from PyPI)"
  { [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"; } &&
    "$venv/bin/pip" install -q onnxruntime numpy > "$work/pip.log" 2>&1 ||
    { ort=no; echo "warning: no onnxruntime (pip failed; see below); its column is '-'" >&2;
      tail -n 5 "$work/pip.log" >&2 || true; }
fi

# --- The models: saved by layerc's examples, compiled ahead of time.
quiet "$work/guide.log" "$build/bin/functional_guide" --save-dir="$work"
quiet "$work/mlp.log" "$build/bin/mnist_mlp" --epochs=0 --save="$work/mlp.lcm"
# name (of the .lcm file), elements of one input sample, of one output sample
specs="mlp:784:10 toy_resnet:3072:10 autoencoder:784:784"
reads_threads=no
llvm_lib=${LLVM_LIB:-/usr/lib/llvm-22/lib}
for spec in $specs; do
  IFS=: read -r name nin nout <<< "$spec"
  quiet "$work/layerc_$name.log" "$build/bin/layerc" "$work/$name.lcm" \
    --embed-weights -o "$work/lib$name.a" --name="$name"
  # A library with parallel loops calls LLVM's OpenMP runtime (libomp).
  libs=(-lm)
  # grep without -q reads all of nm's output: with -q it stops at the
  # first match, and nm, cut off, fails the pipeline (pipefail).
  if nm "$work/lib$name.a" 2> /dev/null | grep -E ' U (__kmpc_|omp_)' > /dev/null; then
    libs=(-L"$llvm_lib" -lomp -Wl,-rpath,"$llvm_lib" -lpthread -lm)
  fi
  quiet "$work/cc_$name.log" cc -O2 -std=c99 -I"$work" -DMODEL="$name" \
    "-DMODEL_HEADER=\"$name.h\"" -DIN_COUNT="$nin" -DOUT_COUNT="$nout" \
    "$here/inference.c" "$work/lib$name.a" "${libs[@]}" -o "$work/bench_$name"
  if grep -aq LAYERC_NUM_THREADS "$work/lib$name.a"; then reads_threads=yes; fi
done
if [ $reads_threads = yes ]; then
  echo "layerc: the libraries read LAYERC_NUM_THREADS"
else
  echo "layerc: the libraries do not read LAYERC_NUM_THREADS (one thread in every row)"
fi
quiet "$work/export.log" peer /usr/bin/python3 "$here/inference_peers.py" export "$work"
versions="pytorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
if [ $ort = yes ]; then
  versions="$versions, onnxruntime $("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)')"
fi
echo "$versions; $reps repetitions of ~$target ms per cell"

# --- Timing: one thread count at a time, every framework in its own process.
results=$work/results
: > "$results"
for t in $threads; do
  for spec in $specs; do
    IFS=: read -r name _ _ <<< "$spec"
    LAYERC_NUM_THREADS=$t "$work/bench_$name" "$reps" "$target" 1 64 |
      awk -v m="$name" -v t="$t" '{print $1, m, $2, t, $3}' >> "$results"
  done
  if [ $ort = yes ]; then
    peer "$venv/bin/python" "$here/inference_peers.py" ort "$work" --threads "$t" \
      --reps "$reps" --target-ms "$target" 2> "$work/ort.log" |
      awk -v t="$t" '{print $1, $2, $3, t, $4}' >> "$results" ||
      { echo "onnxruntime failed:" >&2; tail -n 20 "$work/ort.log" >&2; }
  fi
  peer /usr/bin/python3 "$here/inference_peers.py" torch --threads "$t" \
    --reps "$reps" --target-ms "$target" 2> "$work/torch.log" |
    awk -v t="$t" '{print $1, $2, $3, t, $4}' >> "$results" ||
    { echo "pytorch failed:" >&2; tail -n 20 "$work/torch.log" >&2; }
done

# --- The table: rows (model, batch, threads), ms per call, ratios.
echo
awk -v threads="$threads" '
  { ms[$1, $2, $3, $4] = $5 }
  function cell(v) { return v == "" ? "-" : sprintf("%.4f", v) }
  function ratio(a, b) { return a == "" || b == "" || b == 0 ? "-" : sprintf("%.3g", a / b) }
  END {
    printf "%-12s %6s %7s %12s %12s %12s %11s %13s\n", "model", "batch",
      "threads", "layerc_ms", "ort_ms", "pytorch_ms", "layerc/ort", "layerc/torch"
    n = split("mlp toy_resnet autoencoder", models, " ")
    nt = split(threads, ts, " ")
    for (i = 1; i <= n; ++i)
      for (b = 1; b <= 2; ++b)
        for (j = 1; j <= nt; ++j) {
          batch = b == 1 ? "batch1" : "batch64"
          l = ms["layerc", models[i], batch, ts[j]]
          o = ms["onnxruntime", models[i], batch, ts[j]]
          p = ms["pytorch", models[i], batch, ts[j]]
          printf "%-12s %6s %7s %12s %12s %12s %11s %13s\n", models[i],
            substr(batch, 6), ts[j], cell(l), cell(o), cell(p), ratio(l, o), ratio(l, p)
        }
    print "(median ms per call; ratios layerc / peer, lower is better)"
  }' "$results"

# --- Cost per image as the batch grows (issue 20: batch 256 within 1.15x
# of batch 16 per image, when the activations of a large batch no longer
# fit in cache). One thread.
echo
echo "layerc, cost per image at batch 256 against batch 16 (1 thread):"
for spec in $specs; do
  IFS=: read -r name _ _ <<< "$spec"
  LAYERC_NUM_THREADS=1 "$work/bench_$name" "$reps" "$target" 16 256 |
    awk -v m="$name" '{ ms[$2] = $3 }
      END { a = ms["batch16"] / 16; b = ms["batch256"] / 256
            printf "  %-12s %.5f ms per image at 16, %.5f at 256: %.2fx\n", m, a, b, b / a }'
done
