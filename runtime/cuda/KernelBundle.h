/* KernelBundle.h - how a library for a CUDA target carries its kernels.
 *
 * layerc (codegen/GpuBundle.cpp) embeds the kernel module of a library as
 * one `gpu.binary` object in this layout; the runtime (CudaDriver.c, its
 * mgpuModuleLoad) picks what the device runs: the cubin built for the
 * device's compute capability when there is one, else the PTX, which the
 * driver compiles. All numbers little-endian:
 *
 *   LayercCudaBundleHeader              magic, entry count, JIT -O level
 *   LayercCudaBundleEntry[count]        kind, sm_NN, where, how long
 *   payloads                            8-byte aligned from the bundle start
 *
 * A PTX payload ends with its NUL (the driver reads PTX as a C string).
 * Shared by C (the runtime) and C++ (layerc): plain C99.
 */
#ifndef LAYERC_RUNTIME_CUDA_KERNELBUNDLE_H
#define LAYERC_RUNTIME_CUDA_KERNELBUNDLE_H

#include <stdint.h>

/* The first 8 bytes; the version is part of the magic. */
#define LAYERC_CUDA_BUNDLE_MAGIC "LCKBNDL1"

enum { LAYERC_CUDA_BUNDLE_PTX = 1, LAYERC_CUDA_BUNDLE_CUBIN = 2 };

typedef struct {
  char magic[8];
  uint32_t count;       /* entries */
  uint32_t jitOptLevel; /* CU_JIT_OPTIMIZATION_LEVEL for the PTX */
} LayercCudaBundleHeader;

typedef struct {
  uint32_t kind;   /* LAYERC_CUDA_BUNDLE_PTX or _CUBIN */
  uint32_t arch;   /* 90 for sm_90: the compute capability it is for */
  uint64_t offset; /* from the start of the bundle */
  uint64_t size;   /* bytes (a PTX payload's NUL included) */
} LayercCudaBundleEntry;

#endif
