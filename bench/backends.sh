#!/usr/bin/env bash
# The two code generators side by side on the guide's convolutional models:
# median ms per predict call of the LLVM backend (Model::predict, the JIT)
# and of the Halide backend (codegen/halide, its JIT, layerc's schedule),
# at batch 1 and 64, with 1 and 2 threads, and the ratio halide / llvm
# (lower: Halide faster). Correctness is checked in the same run (within
# 1e-4 of the LLVM outputs; test/halide/halide.test checks it in CI).
#
#   bash bench/backends.sh [build-dir]       # CALLS (21) calls per cell
#
# Needs build/bin/{functional_guide,halide_check} (Halide 14 installed:
# libhalide14-0-dev). Not measured yet: Halide's autoschedulers, `auto`,
# and onnxruntime in this table (bench/inference.sh has onnxruntime).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
calls=${CALLS:-21}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -x "$build/bin/halide_check" ]; then
  echo "no $build/bin/halide_check: install libhalide14-0-dev and rebuild" >&2
  exit 1
fi
"$build/bin/functional_guide" --save-dir="$work" > /dev/null
echo "CPU: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
printf "%-12s %5s %7s %10s %10s %13s\n" model batch threads "llvm ms" \
  "halide ms" "halide/llvm"
for threads in 1 2; do
  for batch in 1 64; do
    for model in toy_resnet autoencoder; do
      line=$(HL_NUM_THREADS=$threads LAYERC_NUM_THREADS=$threads \
        "$build/bin/halide_check" "$work/$model.lcm" "$batch" --time "$calls" \
        | tail -n 1)
      # "<model> batch B: llvm X ms, halide Y ms (halide / llvm R)"
      read -r llvm halide ratio < <(echo "$line" |
        sed -E 's/.*llvm ([0-9.]+) ms, halide ([0-9.]+) ms .*llvm ([0-9.]+)\)/\1 \2 \3/')
      printf "%-12s %5s %7s %10s %10s %13s\n" "$model" "$batch" "$threads" \
        "$llvm" "$halide" "$ratio"
    done
  done
done
