#!/usr/bin/env bash
# Ahead-of-time compile time of the functional-API guide's models and the
# MNIST MLP (wall time of `layerc M.lcm --embed-weights -o libM.a`, best of
# 3), and the size of each library.
#   bash bench/compile_time.sh [build-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bin/functional_guide" --save-dir="$work" > /dev/null
"$build/bin/mnist_mlp" --epochs=0 --save="$work/mnist_mlp.lcm" > /dev/null
printf "%-12s %10s %12s %14s\n" model compile_s lib_bytes lib_bytes_noemb
for m in mnist_mlp encoder decoder autoencoder toy_resnet ticket; do
  best=""
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$build/bin/layerc" "$work/$m.lcm" --embed-weights -o "$work/lib$m.a" --name="$m"
    t=$(echo "$(date +%s.%N) - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  "$build/bin/layerc" "$work/$m.lcm" -o "$work/lib${m}_w.a" --name="${m}_w"
  printf "%-12s %10.2f %12d %14d\n" "$m" "$best" "$(stat -c %s "$work/lib$m.a")" \
    "$(stat -c %s "$work/lib${m}_w.a")"
done
