#!/usr/bin/env bash
# train_step time of the guide's MLP (batch 64) and toy ResNet (batch 32):
# layerc vs PyTorch in one script, one thread each, medians. Needs
# python3-torch and libopenblas0-pthread (PyTorch's BLAS).
#   bash bench/train_step.sh [build-dir] [mlp-steps] [resnet-steps]
set -euo pipefail
# One thread on each side (the peer pins itself to one): compiled code
# would otherwise use every core.
export LAYERC_NUM_THREADS=${LAYERC_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
mlp=${2:-200}
resnet=${3:-4}
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas; then
  echo "warning: libblas.so.3 is not OpenBLAS; PyTorch will be far slower" \
       "than usual (apt-get install libopenblas0-pthread)" >&2
fi
ours=$("$build/bin/train_step" "$mlp" "$resnet")
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \
  "$here/train_step_pytorch.py" "$mlp" "$resnet")
echo "$ours"
echo "$theirs"
for m in mlp resnet; do
  a=$(echo "$ours" | awk -v k="${m}_step_ms" '$2 == k {print $3}')
  b=$(echo "$theirs" | awk -v k="${m}_step_ms" '$2 == k {print $3}')
  awk -v m="$m" -v a="$a" -v b="$b" \
    'BEGIN { printf "%s train_step layerc/pytorch: %.2f (lower is better)\n", m, a / b }'
done
