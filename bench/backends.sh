#!/usr/bin/env bash
# The code generators side by side on the guide's convolutional models (toy
# ResNet, autoencoder), one run, median ms per predict call:
#   llvm       `layerc M.lcm --embed-weights` (the LLVM backend), AOT
#              library called from C (bench/inference.c)
#   halide     the same with --backend=halide (layerc's Halide schedule)
#   auto       the same with --backend=auto (both backends in one
#              library, each call running the one layerc measured faster,
#              while compiling, at the nearer batch and thread count; its
#              choice is printed)
#   mullapudi2016, li2018
#              Halide with that autoscheduler instead of layerc's schedule
#              (JIT, test/halide/halide_check); adams2019 too with ADAMS=1
#              (its search takes minutes per pass on these models)
#   ort        onnxruntime (PyPI, in the venv bench/inference.sh makes) on
#              the same architectures exported from PyTorch
# at batch 1 and 64 with 1 and 2 threads, the ratio of each to llvm, and
# how far auto is from the faster of llvm and halide. Compile times of the
# three libraries are printed too.
#
#   bash bench/backends.sh [build-dir]     # ROUNDS (3) x REPS (15) x
#                                          # ~TARGET_MS (10) ms per cell
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
reps=${REPS:-15} target=${TARGET_MS:-10} rounds=${ROUNDS:-3}
venv=${VENV:-/tmp/layerc-bench-venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tool in layerc functional_guide halide_check; do
  if [ ! -x "$build/bin/$tool" ]; then
    echo "no $build/bin/$tool (the Halide backend needs libhalide14-0-dev)" >&2
    exit 1
  fi
done
echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
  "$(nproc) cores; load $(cut -d' ' -f1 /proc/loadavg)"
"$build/bin/functional_guide" --save-dir="$work" > /dev/null
results=$work/results
: > "$results"
llvm_lib=/usr/lib/llvm-22/lib

# --- AOT libraries: llvm, halide, auto.
for spec in toy_resnet:3072:10 autoencoder:784:784; do
  IFS=: read -r model nin nout <<< "$spec"
  for backend in llvm halide auto; do
    name=${backend}_$model
    start=$(date +%s.%N)
    "$build/bin/layerc" "$work/$model.lcm" --embed-weights \
      --backend=$backend -o "$work/lib$name.a" --name="$name" \
      2> "$work/$name.log" || { cat "$work/$name.log" >&2; exit 1; }
    seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    choice=$(sed -n 's/^layerc: --backend=auto: \([a-z]\)/\1/p' \
      "$work/$name.log" | tail -n 1)
    printf "compiled %-24s in %5.1f s\n" "$name" "$seconds"
    if [ -n "$choice" ]; then echo "  auto: $choice"; fi
    cc -O2 -std=c99 -I"$work" -DMODEL="$name" "-DMODEL_HEADER=\"$name.h\"" \
      -DIN_COUNT="$nin" -DOUT_COUNT="$nout" "$here/inference.c" \
      "$work/lib$name.a" -L"$llvm_lib" -Wl,-rpath,"$llvm_lib" -lomp -lm \
      -lpthread -ldl -o "$work/bench_$name"
  done
done
for t in 1 2; do
  for model in toy_resnet autoencoder; do
    # ROUNDS rounds of the three libraries in turn, each its median: the
    # table has the median of the rounds, so that a slow spell of this
    # (virtual) machine does not land on one backend alone.
    for round in $(seq "$rounds"); do
      for backend in llvm halide auto; do
        LAYERC_NUM_THREADS=$t HL_NUM_THREADS=$t \
          "$work/bench_${backend}_$model" "$reps" "$target" 1 64 |
          awk -v b="$backend" -v m="$model" -v t="$t" \
            '{sub("batch", "", $2); print b, m, $2, t, $3}' >> "$results"
      done
    done
    # Halide's autoschedulers (JIT; halide_check times the LLVM JIT too).
    schedules="mullapudi2016 li2018"
    if [ -n "${ADAMS:-}" ]; then schedules="$schedules adams2019"; fi
    for schedule in $schedules; do
      for batch in 1 64; do
        HL_NUM_THREADS=$t LAYERC_NUM_THREADS=$t "$build/bin/halide_check" \
          "$work/$model.lcm" "$batch" --time 5 --schedule=$schedule \
          2> /dev/null |
          tail -n 1 |
          sed -E 's/.*halide ([0-9.]+) ms.*/\1/' |
          awk -v s="$schedule" -v m="$model" -v b="$batch" -v t="$t" \
            '{print s, m, b, t, $1}' >> "$results"
      done
    done
  done
done

# --- onnxruntime, as bench/inference.sh runs it.
if "$venv/bin/python" -c "import onnxruntime" 2> /dev/null; then
  /usr/bin/python3 "$here/inference_peers.py" export "$work" > /dev/null 2>&1
  for t in 1 2; do
    "$venv/bin/python" "$here/inference_peers.py" ort "$work" --threads "$t" \
      --reps "$reps" --target-ms "$target" 2> /dev/null |
      awk -v t="$t" '$2 != "mlp" {sub("batch", "", $3); print "ort", $2, $3, t, $4}' \
        >> "$results" || true
  done
else
  echo "no onnxruntime in $venv (run bench/inference.sh once to make it)"
fi

echo
awk '
  { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; n[k]++; vals[k, n[k]] = $5 }
  function cell(v) { return v == "" ? "-" : sprintf("%.3f", v) }
  function ratio(a, b) { return a == "" || b == "" ? "-" : sprintf("%.2f", a / b) }
  END {
    # The median of the rounds of each cell.
    for (k in n) {
      for (i = 1; i <= n[k]; ++i) a[i] = vals[k, i]
      for (i = 2; i <= n[k]; ++i)
        for (j = i; j > 1 && a[j - 1] > a[j]; --j) { x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
      ms[k] = n[k] % 2 ? a[(n[k] + 1) / 2] : (a[n[k] / 2] + a[n[k] / 2 + 1]) / 2
    }
    split("llvm halide auto mullapudi2016 li2018 adams2019 ort", cols, " ")
    printf "%-12s %5s %3s", "model", "batch", "thr"
    for (c = 1; c <= 7; ++c) printf " %13s", cols[c]
    printf " %14s\n", "auto/fastest"
    split("toy_resnet autoencoder", models, " ")
    for (i = 1; i <= 2; ++i) for (t = 1; t <= 2; ++t) for (b = 1; b <= 2; ++b) {
      batch = b == 1 ? 1 : 64
      printf "%-12s %5s %3s", models[i], batch, t
      base = ms["llvm", models[i], batch, t]
      for (c = 1; c <= 7; ++c) {
        v = ms[cols[c], models[i], batch, t]
        printf " %13s", v == "" ? "-" : cell(v) (c == 1 ? "" : " " ratio(v, base))
      }
      h = ms["halide", models[i], batch, t]
      fastest = base < h ? base : h
      printf " %14s\n", ratio(ms["auto", models[i], batch, t], fastest)
    }
    print "(ms per call; after each, the ratio to llvm: lower is faster)"
  }' "$results"
