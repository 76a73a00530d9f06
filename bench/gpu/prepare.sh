#!/usr/bin/env bash
# Builds, on this machine, everything bench/gpu/run.sh needs on the GPU
# machine (which has the NVIDIA driver, CUDA and PyTorch but no LLVM, MLIR
# or compiler of ours): into bench/gpu/out/ (git-ignored, about 35 MiB),
#   gpu_check_<model>  the guide's MLP, toy ResNet and autoencoder compiled
#                      by layerc twice (--embed-weights): for the CPU
#                      (x86-64-v3) and for cuda:sm_90, linked into one
#                      program that compares their predictions;
#   gpu_train          the MLP compiled with --train for both, trained on
#                      Fashion-MNIST through the CUDA train_step;
#   gpu_step_<model>   one train_step against the CPU's (toy ResNet,
#                      autoencoder), and its time;
#   gpu_ticket         the ticket model (tokens, Embedding, LSTM, two
#                      outputs): predict and one train_step;
#   data/              Fashion-MNIST (gzip), lib/ libomp for the CPU side.
# The programs need libc, -ldl and the driver only (libomp for the CPU
# libraries, carried). Then, through the device tool:
#   bash bench/gpu/prepare.sh          (here)
#   run: bash bench/gpu/run.sh, carry bench/gpu/out
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=$here/out
rm -rf "$out"
mkdir -p "$out/lib" "$out/data" "$out/work"
work=$out/work
quiet() {
  local log=$1
  shift
  if ! "$@" > "$log" 2>&1; then
    echo "failed: $*" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}
llvm_lib=${LLVM_LIB:-/usr/lib/llvm-22/lib}
cp -L "$llvm_lib/libomp.so.5" "$out/lib/" 2> /dev/null ||
  cp -L "$llvm_lib/libomp.so" "$out/lib/libomp.so.5"
cp /usr/share/datasets/fashion-mnist/*.gz "$out/data/"

quiet "$work/guide.log" "$build/bin/functional_guide" --save-dir="$work" --compile
quiet "$work/mlp.log" "$build/bin/mnist_mlp" --epochs=0 --save="$work/mlp.lcm"

# name, elements of one input sample, of one output sample
for spec in mlp:784:10 toy_resnet:3072:10 autoencoder:784:784 encoder:784:16 \
    decoder:16:784; do
  IFS=: read -r name nin nout <<< "$spec"
  echo "== $name: layerc for x86-64-v3 and cuda:sm_90"
  quiet "$work/${name}_cpu.log" "$build/bin/layerc" "$work/$name.lcm" \
    --embed-weights --target=x86-64-v3 --name="${name}_cpu" -o "$work/lib${name}_cpu.a"
  quiet "$work/${name}_gpu.log" "$build/bin/layerc" "$work/$name.lcm" \
    --embed-weights --target=cuda:sm_90 --name="${name}_gpu" -o "$work/lib${name}_gpu.a"
  quiet "$work/cc_$name.log" cc -O2 -std=c99 -Wall -Werror -I"$work" \
    -DMODEL="$name" -DCPU="${name}_cpu" -DGPU="${name}_gpu" \
    -DCPU_HEADER="${name}_cpu.h" -DGPU_HEADER="${name}_gpu.h" \
    -DIN_COUNT="$nin" -DOUT_COUNT="$nout" -D_POSIX_C_SOURCE=199309L \
    "$here/gpu_check.c" "$work/lib${name}_cpu.a" "$work/lib${name}_gpu.a" \
    -L"$out/lib" -l:libomp.so.5 -Wl,-rpath,'$ORIGIN/lib' -ldl -lpthread -lm \
    -o "$out/gpu_check_$name"
done

# The second GPU path (issue 16): the same models through Halide's CUDA
# runtime (`--backend=halide --target=cuda`), against the CPU libraries.
for spec in toy_resnet:3072:10 autoencoder:784:784; do
  IFS=: read -r name nin nout <<< "$spec"
  echo "== $name: layerc --backend=halide for cuda:sm_90"
  quiet "$work/${name}_hgpu.log" "$build/bin/layerc" "$work/$name.lcm" \
    --embed-weights --backend=halide --target=cuda:sm_90 --name="${name}_hgpu" \
    -o "$work/lib${name}_hgpu.a"
  quiet "$work/cc_h_$name.log" cc -O2 -std=c99 -Wall -Werror -I"$work" \
    -DMODEL="${name}_halide" -DCPU="${name}_cpu" -DGPU="${name}_hgpu" \
    -DCPU_HEADER="${name}_cpu.h" -DGPU_HEADER="${name}_hgpu.h" -DHOST_ONLY \
    -DIN_COUNT="$nin" -DOUT_COUNT="$nout" -D_POSIX_C_SOURCE=199309L \
    "$here/gpu_check.c" "$work/lib${name}_cpu.a" "$work/lib${name}_hgpu.a" \
    -L"$out/lib" -l:libomp.so.5 -Wl,-rpath,'$ORIGIN/lib' -ldl -lpthread -lm \
    -o "$out/gpu_check_${name}_halide"
done

echo "== mlp --train: layerc for x86-64-v3 and cuda:sm_90"
quiet "$work/mlp_t_cpu.log" "$build/bin/layerc" "$work/mlp.lcm" --train \
  --target=x86-64-v3 --name=mlp_t_cpu -o "$work/libmlp_t_cpu.a"
quiet "$work/mlp_t_gpu.log" "$build/bin/layerc" "$work/mlp.lcm" --train \
  --target=cuda:sm_90 --name=mlp_t_gpu -o "$work/libmlp_t_gpu.a"
quiet "$work/cc_train.log" cc -O2 -std=c99 -Wall -Werror -I"$work" \
  -DCPU=mlp_t_cpu -DGPU=mlp_t_gpu -DCPU_HEADER=mlp_t_cpu.h \
  -DGPU_HEADER=mlp_t_gpu.h -D_POSIX_C_SOURCE=199309L \
  "$here/gpu_train.c" "$work/libmlp_t_cpu.a" "$work/libmlp_t_gpu.a" \
  -L"$out/lib" -l:libomp.so.5 -Wl,-rpath,'$ORIGIN/lib' -ldl -lpthread -lm \
  -o "$out/gpu_train"
# One train_step against the CPU's, and its time at batch 256.
for spec in toy_resnet:3072:10:-DONE_HOT autoencoder:784:784:-DMSE; do
  IFS=: read -r name nin nout flag <<< "$spec"
  echo "== $name --train: layerc for x86-64-v3 and cuda:sm_90"
  quiet "$work/${name}_t_cpu.log" "$build/bin/layerc" "$work/$name.lcm" --train \
    --target=x86-64-v3 --name="${name}_t_cpu" -o "$work/lib${name}_t_cpu.a"
  quiet "$work/${name}_t_gpu.log" "$build/bin/layerc" "$work/$name.lcm" --train \
    --target=cuda:sm_90 --name="${name}_t_gpu" -o "$work/lib${name}_t_gpu.a"
  quiet "$work/cc_step_$name.log" cc -O2 -std=c99 -Wall -Werror -I"$work" \
    -DMODEL="$name" -DCPU="${name}_t_cpu" -DGPU="${name}_t_gpu" "$flag" \
    -DCPU_HEADER="${name}_t_cpu.h" -DGPU_HEADER="${name}_t_gpu.h" \
    -DIN_COUNT="$nin" -DOUT_COUNT="$nout" -D_POSIX_C_SOURCE=199309L \
    "$here/gpu_step.c" "$work/lib${name}_t_cpu.a" "$work/lib${name}_t_gpu.a" \
    -L"$out/lib" -l:libomp.so.5 -Wl,-rpath,'$ORIGIN/lib' -ldl -lpthread -lm \
    -o "$out/gpu_step_$name"
done
# The ticket model: token inputs of any length, Embedding, LSTM, two outputs.
echo "== ticket --train: layerc for x86-64-v3 and cuda:sm_90"
for side in cpu:x86-64-v3 gpu:cuda:sm_90; do
  quiet "$work/ticket_t_${side%%:*}.log" "$build/bin/layerc" "$work/ticket.lcm" \
    --train --target="${side#*:}" --name="ticket_t_${side%%:*}" \
    -o "$work/libticket_t_${side%%:*}.a"
done
quiet "$work/cc_ticket.log" cc -O2 -std=c99 -Wall -Werror -I"$work" \
  -DCPU=ticket_t_cpu -DGPU=ticket_t_gpu -DCPU_HEADER=ticket_t_cpu.h \
  -DGPU_HEADER=ticket_t_gpu.h -D_POSIX_C_SOURCE=199309L \
  "$here/gpu_ticket.c" "$work/libticket_t_cpu.a" "$work/libticket_t_gpu.a" \
  -L"$out/lib" -l:libomp.so.5 -Wl,-rpath,'$ORIGIN/lib' -ldl -lpthread -lm \
  -o "$out/gpu_ticket"
# The PTX, for ptxas on the GPU machine too.
"$build/bin/layerc" "$work/mlp.lcm" --embed-weights --target=cuda:sm_90 \
  --emit=ptx -o "$out/mlp_sm90.ptx"
rm -rf "$work"
du -sh "$out"
