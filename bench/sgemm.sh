#!/usr/bin/env bash
# The matmul kernel alone, against oneDNN's SGEMM (issue 20): layerc's
# Dense(1024, use_bias=False) on 1024 features, compiled ahead of time
# (`layerc dense.mlir`, raw C entry point), and dnnl_sgemm on the same
# buffers in the same process (bench/sgemm.c), at batch 1024 and 64, with
# 1 and 2 threads (LAYERC_NUM_THREADS for layerc, OMP_NUM_THREADS for
# oneDNN). Prints GFLOP/s (median of REPS calls) and layerc / oneDNN.
#   bash bench/sgemm.sh [build-dir]        # needs libdnnl-dev
#   REPS=21 THREADS="1" bash bench/sgemm.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
reps=${REPS:-15}
threads=${THREADS:-1 2}
if [ ! -e /usr/include/dnnl.h ]; then
  echo "bench/sgemm.sh needs oneDNN: apt-get install libdnnl-dev" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/dense.mlir" <<'MLIR'
func.func @predict(%x: tensor<?x1024xf32> {layer.name = "input"},
                   %k: tensor<1024x1024xf32> {layer.param, layer.name = "dense/kernel"})
    -> tensor<*xf32> {
  %0 = layer.dense %x, %k : (tensor<?x1024xf32>, tensor<1024x1024xf32>) -> tensor<*xf32> loc("dense")
  return %0 : tensor<*xf32>
}
MLIR
"$build/bin/layerc" "$work/dense.mlir" -o "$work/libdense.a" --name=dense --api=raw
cc -O2 -std=c99 -I"$work" "$here/sgemm.c" "$work/libdense.a" -ldnnl -lomp -lm \
  -o "$work/sgemm"
echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
     "load average (1 min): $(cut -d' ' -f1 /proc/loadavg)"
for t in $threads; do
  for m in 1024 64; do
    printf 'M=%-5s K=1024 N=1024, %s thread(s): ' "$m" "$t"
    LAYERC_NUM_THREADS=$t OMP_NUM_THREADS=$t "$work/sgemm" "$m" 1024 1024 "$reps"
  done
done
