#!/usr/bin/env bash
# Data-parallel training on this machine: step time of the guide's MNIST
# MLP and toy ResNet (global batch 64, RMSprop) in one process and on two
# MPI ranks, over shared memory and over TCP on loopback, with the time of
# one all-reduce of the gradients; then the scaling efficiency
#   T(1 process, 1 thread) / (N * T(N ranks, 1 thread each)).
# Then the overlap of the gradients' all-reduce with the backward pass:
# two ranks with LAYERC_MPI_OVERLAP=0 (one all-reduce after grad_step) and
# with overlap in buckets of 1024 KB (the default) and 128 KB, each with
# its step time, its time in grad_step and the exposed communication: the
# gradients' all-reduce time left once every rank's grad_step returned
# (LAYERC_MPI_PROFILE=1 puts a barrier there, so the wait for the slowest
# rank is left out; median_ms is the median step's, which leaves out the
# steps in which a busy machine descheduled a rank).
# Needs openmpi-bin. Traffic stays on this machine (loopback).
#   bash bench/distributed.sh [build-dir] [mlp-steps] [resnet-steps]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
mlp_steps=${2:-400}
resnet_steps=${3:-20}
bin=$build/bin/distributed_fit
mpirun="mpirun --allow-run-as-root --oversubscribe -np 2 --bind-to core \
  -x LAYERC_DISTRIBUTE=mpi -x LAYERC_NUM_THREADS=1"
shm="--mca btl self,vader --mca btl_vader_single_copy_mechanism none"
tcp="--mca btl tcp,self --mca btl_tcp_if_include lo"

field() { awk -v k="$1=" '{for (i = 1; i <= NF; ++i) if (index($i, k) == 1) print substr($i, length(k) + 1)}'; }

echo "cores: $(nproc)"
"$bin" --volumes
printf "\n%-7s %-26s %9s %13s\n" model run step_ms allreduce_ms
summary=""
for model in mlp resnet; do
  steps=$mlp_steps
  [ "$model" = resnet ] && steps=$resnet_steps
  one=$(env -u LAYERC_DISTRIBUTE LAYERC_NUM_THREADS=1 "$bin" $model "$steps")
  all=$(env -u LAYERC_DISTRIBUTE LAYERC_NUM_THREADS=$(nproc) "$bin" $model "$steps")
  two_shm=$($mpirun $shm "$bin" $model "$steps" 2>/dev/null | grep step_ms)
  two_tcp=$($mpirun $tcp "$bin" $model "$steps" 2>/dev/null | grep step_ms)
  t1=$(echo "$one" | field step_ms)
  for run in "1 process, 1 thread|$one" "1 process, $(nproc) threads|$all" \
             "2 ranks, shared memory|$two_shm" "2 ranks, TCP loopback|$two_tcp"; do
    name=${run%%|*}
    line=${run#*|}
    printf "%-7s %-26s %9s %13s\n" $model "$name" "$(echo "$line" | field step_ms)" \
      "$(echo "$line" | field allreduce_ms)"
  done
  for pair in "shared memory|$two_shm" "TCP|$two_tcp"; do
    t2=$(echo "${pair#*|}" | field step_ms)
    summary+=$(awk -v m=$model -v n="${pair%%|*}" -v a="$t1" -v b="$t2" \
      'BEGIN { printf "%s, 2 ranks over %s: speedup %.2fx, scaling efficiency %.0f%%", m, n, a / b, 100 * a / (2 * b) }')$'\n'
  done
done
echo
printf "%s" "$summary"

echo
echo "Overlap of the gradients' all-reduce with the backward pass (2 ranks):"
printf "%-7s %-8s %-22s %9s %13s %11s %11s %8s\n" model link run step_ms grad_step_ms exposed_ms median_ms buckets
for model in mlp resnet; do
  steps=$mlp_steps
  [ "$model" = resnet ] && steps=$resnet_steps
  for link in "shm|$shm" "tcp|$tcp"; do
    for run in "no overlap|-x LAYERC_MPI_OVERLAP=0" \
               "overlap, 1024 KB|-x LAYERC_MPI_OVERLAP=1" \
               "overlap, 128 KB|-x LAYERC_MPI_BUCKET_KB=128"; do
      line=$($mpirun ${link#*|} -x LAYERC_MPI_PROFILE=1 ${run#*|} "$bin" $model "$steps" \
        2>/dev/null | grep step_ms)
      printf "%-7s %-8s %-22s %9s %13s %11s %11s %8s\n" $model "${link%%|*}" "${run%%|*}" \
        "$(echo "$line" | field step_ms)" "$(echo "$line" | field grad_step_ms)" \
        "$(echo "$line" | field exposed_ms)" "$(echo "$line" | field exposed_median_ms)" \
        "$(echo "$line" | field buckets)"
    done
  done
done
