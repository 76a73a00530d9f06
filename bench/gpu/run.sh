#!/usr/bin/env bash
# The GPU tests and benchmarks, run on the GPU machine with what
# bench/gpu/prepare.sh built here (bench/gpu/out, carried):
#   1. ptxas (when there) accepts the MLP's PTX for sm_90;
#   2. predict of the MLP, toy ResNet, autoencoder, encoder and decoder: CUDA library against
#      the CPU library on the same inputs (<= 1e-4 relative), with times;
#      then the CUDA library's entry point on device buffers
#      (predict_device_raw) against its predict, and its time;
#   3. one train_step of the toy ResNet and the autoencoder against the
#      CPU's, and its time at batch 256; the ticket model's predict and
#      train_step against the CPU's;
#   4. the MLP: one train_step against the CPU's, then 2 epochs of
#      Fashion-MNIST through the CUDA train_step (test accuracy >= 0.84);
#   5. PyTorch eager on the same GPU, same models (bench/gpu/pytorch_peer.py),
#      and the ratios (bench/gpu/ratios.py);
#   6. the toy ResNet's train_step kernel by kernel (LAYERC_CUDA_PROFILE;
#      its first line says whether the kernels came from the library's
#      cubin or the driver compiled its PTX).
# Output: stdout and $OUT/gpu-<date>.txt when $OUT is set (the device tool).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
log=${OUT:-/tmp}/gpu-$(date -u +%Y-%m-%d).txt
exec > >(tee "$log") 2>&1
status=0
echo "== $(date -u)  $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2> /dev/null)"
if [ -x /usr/local/cuda/bin/ptxas ]; then
  /usr/local/cuda/bin/ptxas -arch=sm_90 "$out/mlp_sm90.ptx" -o /tmp/mlp.cubin &&
    echo "ptxas -arch=sm_90: the MLP's PTX is accepted" || status=1
fi
mkdir -p /tmp/fmnist
for f in "$out"/data/*.gz; do gunzip -c "$f" > /tmp/fmnist/"$(basename "$f" .gz)"; done
for m in mlp toy_resnet autoencoder encoder decoder; do
  timeout 120 "$out/gpu_check_$m" 1 64 256 || { echo "gpu_check_$m: status $?"; status=1; }
done
# Halide's CUDA path (a naive schedule: a thread per output element).
for m in toy_resnet autoencoder; do
  timeout 120 "$out/gpu_check_${m}_halide" 1 64 256 ||
    { echo "gpu_check_${m}_halide: status $?"; status=1; }
done
for m in toy_resnet autoencoder; do
  timeout 120 "$out/gpu_step_$m" 256 || { echo "gpu_step_$m: status $?"; status=1; }
done
timeout 120 "$out/gpu_ticket" || { echo "gpu_ticket: status $?"; status=1; }
timeout 240 "$out/gpu_train" /tmp/fmnist 2 || { echo "gpu_train: status $?"; status=1; }
timeout 120 python3 "$here/pytorch_peer.py" || echo "pytorch_peer: status $?"
python3 "$here/ratios.py" "$log"
# Where the toy ResNet's train_step spends its time, kernel by kernel.
LAYERC_CUDA_PROFILE=1 timeout 60 "$out/gpu_step_toy_resnet" 256 2>&1 | tail -n 28
echo "== run.sh status $status"
exit $status
