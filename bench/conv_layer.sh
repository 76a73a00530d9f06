#!/usr/bin/env bash
# One convolution layer, forward and training step: layerc vs PyTorch in
# one script, one thread each, medians. The toy ResNet's heaviest layer
# (Conv2D 32 -> 64 on 30x30, batch 32) and its 64 -> 64 "same" layers on
# 9x9. The training step computes the kernel and bias gradients (the
# input is the model's; bench/train_step.sh times whole networks). Needs
# python3-torch.
#   bash bench/conv_layer.sh [build-dir] [repeats]
set -euo pipefail
# One thread on each side (the peer pins itself to one): compiled code
# would otherwise use every core.
export LAYERC_NUM_THREADS=${LAYERC_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
repeats=${2:-7}
ours=$("$build/bin/conv_layer" "$repeats")
theirs=$(/usr/bin/python3 "$here/conv_layer_pytorch.py" "$repeats")
echo "$ours"
echo "$theirs"
for m in conv30x32_forward conv30x32_step conv9x64_forward conv9x64_step; do
  a=$(echo "$ours" | awk -v k="${m}_ms" '$2 == k {print $3}')
  b=$(echo "$theirs" | awk -v k="${m}_ms" '$2 == k {print $3}')
  awk -v m="$m" -v a="$a" -v b="$b" \
    'BEGIN { printf "%s layerc/pytorch: %.2f (lower is better)\n", m, a / b }'
done
