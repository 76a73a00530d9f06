// The CUDA target end to end on a small model, stage by stage: linalg
// without vector kernels and with the parallel loops outside the
// reduction; the host code of the LLVM dialect (device allocations,
// copies, entry points on host and device buffers, one embedded kernel
// module) and the kernels' NVVM.
// RUN: layerc %s --target=cuda:sm_90 --emit=linalg -o - | FileCheck %s --check-prefix=LINALG
// RUN: layerc %s --target=cuda:sm_90 --emit=llvm-dialect -o - | FileCheck %s --check-prefix=HOST
// RUN: layerc %s --target=cuda:sm_90 --emit=llvm-dialect -o /dev/null \
// RUN:   --mlir-print-ir-after=convert-gpu-to-nvvm 2>&1 | FileCheck %s --check-prefix=NVVM

// LINALG-LABEL: func.func @layerc_cuda_stages_predict
// LINALG-NOT: vector.
// LINALG: linalg.matmul

// The function on device buffers, then its two entry points: on host
// buffers (device copies) and on the caller's device buffers.
// HOST-NOT: llvm.call @malloc
// HOST: llvm.func internal @layerc_cuda_stages_predict(
// HOST: gpu.launch_func @layerc_cuda_stages_kernels::@layerc_cuda_stages_predict_kernel
// HOST: llvm.func @layerc_cuda_stages_predict_host(
// HOST: llvm.call @layerc_cuda_malloc
// HOST: llvm.call @layerc_cuda_memcpy
// HOST: llvm.call @layerc_cuda_stages_predict(
// HOST: llvm.call @layerc_cuda_memcpy
// HOST: llvm.call @layerc_cuda_status
// HOST: llvm.func @layerc_cuda_stages_predict_device(
// HOST-NOT: llvm.call @layerc_cuda_m
// HOST: llvm.call @layerc_cuda_stages_predict(
// HOST-NEXT: llvm.call @layerc_cuda_status
// HOST: llvm.func @_mlir_ciface_layerc_cuda_stages_predict_device(
// HOST: gpu.binary @layerc_cuda_stages_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.*}}assembly = "
// HOST-NOT: gpu.binary

// NVVM: gpu.module @layerc_cuda_stages_kernels [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]
// NVVM: nvvm.read.ptx.sreg.ctaid.x
// NVVM: nvvm.read.ptx.sreg.tid.x
// NVVM-NOT: math.
func.func @predict(%x: tensor<?x8xf32>, %k: tensor<8x4xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<tanh>} : (tensor<?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
