#!/bin/sh
# A stand-in for NVIDIA's ptxas, called by layerc as
# `ptxas -arch=sm_NN -o OUT.cubin IN.ptx`: writes a small "cubin" (an ELF
# magic, the arch and the PTX's first line), so that tests of the kernel
# bundle run where no CUDA toolkit is. With FAKE_PTXAS_FAIL set it fails as
# ptxas does on PTX it rejects.
arch=$1 out=$3 in=$4
if [ -n "$FAKE_PTXAS_FAIL" ]; then
  echo "ptxas fatal   : Unresolved extern function 'oops'" >&2
  exit 255
fi
printf '\177ELF fake cubin %s of %s\n' "${arch#-arch=}" "$(head -n 1 "$in")" > "$out"
