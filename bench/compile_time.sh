#!/usr/bin/env bash
# Compile time.
#
# guide: ahead-of-time compile time of the functional-API guide's models and
#   the MNIST MLP (wall time of `layerc M.lcm --embed-weights -o libM.a`,
#   best of 3), and the size of each library.
# width, depth, depth-dense: compile time against the size of a graph
#   (test/codegen/Inputs/graph_series.py): one input fanned out to N relu
#   Activations joined by one Concatenate (width); a chain of N relus
#   (depth); a chain of N layers, Dense(8) and relu alternating
#   (depth-dense); one input fanned out to N Dense(8) layers joined by one
#   Concatenate (width-dense). For each N: the wall and CPU seconds of the whole AOT
#   compile (`layerc G.mlir -o G.o`: shape inference to an object file,
#   LLVM -O3 included) and, for the graphs without weights, of the JIT
#   (`layerc-run`, which compiles the same pipeline and runs it once on one
#   sample). Then the slope of log(time) against log(N), fitted by least
#   squares over all sizes and over N >= 250 (a fixed cost of about 0.1 s
#   flattens the small sizes), and between the last two: 1.0 is linear,
#   2.0 quadratic. One run per size; a compile that takes longer than
#   COMPILE_TIMEOUT seconds (600) ends that series.
#
# train: the training functions' compile time (train_step, evaluate and
#   predict, as fit() compiles them) of the Fashion-MNIST CNN of
#   bench/cnn_epoch.sh (issue 20's target: under 2 s) and of the MNIST MLP:
#   in the JIT (cnn_epoch's compile(), best of 3) and ahead of time
#   (`layerc M.lcm --train -o M.a`, best of 3), on every core and on one
#   (LAYERC_COMPILE_THREADS=1), as one module (-o M.o), and at -O3.
#   Needs Fashion-MNIST (cnn_epoch saves its model after one step).
#
#   bash bench/compile_time.sh [build-dir]          # every part
#   SERIES="width depth" bash bench/compile_time.sh  # some of them
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
series=${SERIES:-guide train width depth depth-dense width-dense}
limit=${COMPILE_TIMEOUT:-600}
gen=$here/../test/codegen/Inputs/graph_series.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

guide() {
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
}

# `best3 CMD...`: the least wall time of three runs of CMD, in seconds.
best3() {
  local best="" t start
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$@" > /dev/null || { echo failed; return; }
    t=$(echo "$(date +%s.%N) - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  printf "%.2f" "$best"
}

train() {
  local data=/usr/share/datasets/fashion-mnist
  # `jit_best [compile-threads]`: compile_s of cnn_epoch, best of 3.
  jit_best() {
    local best="" t
    for _ in 1 2 3; do
      t=$(LAYERC_COMPILE_THREADS=${1:-} LAYERC_NUM_THREADS=1 \
        "$build/bin/cnn_epoch" 64 "$data" "$work/cnn.lcm" |
        awk '$2 == "compile_s" {print $3}')
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    printf "%.2f" "$best"
  }
  local jit jit1
  jit=$(jit_best)
  jit1=$(jit_best 1)
  [ -f "$work/mnist_mlp.lcm" ] ||
    "$build/bin/mnist_mlp" --epochs=0 --save="$work/mnist_mlp.lcm" > /dev/null
  echo
  echo "train: compile time of train_step + evaluate + predict (best of 3)"
  echo "  jit: compile() in cnn_epoch; lib: layerc --train -o M.a (in parts on"
  echo "  every core, SplitCodegen.cpp); _1t: LAYERC_COMPILE_THREADS=1; obj:"
  echo "  -o M.o (one module, one thread); O3: -O3 -o M.a"
  printf "%-11s %6s %6s %6s %6s %6s %6s\n" model jit jit_1t lib lib_1t obj O3
  for m in cnn mnist_mlp; do
    local name=$m jits=$jit jit1s=$jit1
    [ "$m" = cnn ] && name=fashion_cnn
    [ "$m" = mnist_mlp ] && jits=- jit1s=-
    printf "%-11s %6s %6s %6s %6s %6s %6s\n" "$name" "$jits" "$jit1s" \
      "$(best3 "$build/bin/layerc" "$work/$m.lcm" --train -o "$work/$m.a")" \
      "$(LAYERC_COMPILE_THREADS=1 best3 "$build/bin/layerc" "$work/$m.lcm" --train -o "$work/$m.a")" \
      "$(best3 "$build/bin/layerc" "$work/$m.lcm" --train -o "$work/$m.o")" \
      "$(best3 "$build/bin/layerc" "$work/$m.lcm" --train -O3 -o "$work/$m.a")"
  done
}

# `timed CMD...`: runs CMD under the time limit and prints "wall cpu" in
# seconds, or "timeout timeout".
timed() {
  local out
  out=$( { TIMEFORMAT='%R %U %S'; time timeout "$limit" "$@" > /dev/null 2>&1; } 2>&1) ||
    { echo "timeout timeout"; return; }
  echo "$out" | awk '{printf "%.2f %.2f\n", $1, $2 + $3}'
}

# One sample (1, 8) as .npy, without NumPy.
python3 - "$work/x.npy" <<'EOF'
import struct, sys
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8), }"
header += " " * (63 - len(header) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<8f", *[(-1) ** i * 0.5 * i for i in range(8)]))
EOF

# `sizes KIND TITLE N...`: the series' table and its slopes.
sizes() {
  local kind=$1 jit=0
  shift
  case $kind in width | depth) jit=1 ;; esac
  echo
  echo "$kind: $1"
  shift
  printf "%6s %8s %8s %8s %8s\n" N aot_s aot_cpu jit_s jit_cpu
  local points=""
  for n in "$@"; do
    python3 "$gen" "$kind" "$n" > "$work/g.mlir"
    read -r aot aot_cpu < <(timed "$build/bin/layerc" "$work/g.mlir" -o "$work/g.o" --name=g)
    jit_s=- jit_cpu=-
    if [ "$jit" = 1 ] && [ "$aot" != timeout ]; then
      read -r jit_s jit_cpu < <(timed "$build/bin/layerc-run" "$work/g.mlir" \
        --function=predict --input="$work/x.npy" --output="$work/out.npy")
    fi
    printf "%6d %8s %8s %8s %8s\n" "$n" "$aot" "$aot_cpu" "$jit_s" "$jit_cpu"
    [ "$aot" = timeout ] && break
    points="$points $n $aot"
  done
  python3 - $points <<'EOF'
import math, sys
v = sys.argv[1:]
pts = [(float(n), max(float(t), 1e-3)) for n, t in zip(v[::2], v[1::2])]

def slope(p):
    xs = [math.log(n) for n, _ in p]
    ys = [math.log(t) for _, t in p]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / sum((x - mx) ** 2 for x in xs))

if len(pts) >= 2:
    large = [p for p in pts if p[0] >= 250]
    print("slope of log(aot_s) vs log(N): %.2f fitted over all sizes, "
          "%s over N >= 250, %.2f over the last step"
          % (slope(pts), "%.2f" % slope(large) if len(large) >= 2 else "-",
             slope(pts[-2:])))
EOF
}

for part in $series; do
  case $part in
  guide) guide ;;
  train) train ;;
  width)
    sizes width "N relus of one input, one Concatenate" \
      16 64 125 250 500 1000 2000 ;;
  depth) sizes depth "a chain of N relus" 250 500 1000 2000 ;;
  depth-dense)
    sizes depth-dense "a chain of N layers, Dense(8) and relu alternating" \
      250 500 1000 2000 ;;
  width-dense)
    sizes width-dense "one input fanned out to N Dense(8), one Concatenate" \
      125 250 500 1000 ;;
  *) echo "unknown part $part (guide, train, width, depth, depth-dense, width-dense)" >&2; exit 2 ;;
  esac
done
