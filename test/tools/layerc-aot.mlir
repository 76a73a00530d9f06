// The AOT driver used the way an application uses it: compile the MNIST MLP
// into a static library and header, build a C99 program against them with
// -Wall -Werror, and check its numbers against the JIT (bit for bit) and
// NumPy; then every --emit stage and the driver's errors.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/aot.py gen %t 5
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir -o %t/libmnist.a --name=mnist
// RUN: cc -std=c99 -Wall -Werror -I%t %S/Inputs/mnist_harness.c %t/libmnist.a -lomp -lm -o %t/harness
// RUN: %t/harness %t 5 | FileCheck %s --check-prefix=HARNESS
// HARNESS: short input: 2 a buffer's element count does not match its shape
// HARNESS: zero batch: 3 batch must be at least 1
// HARNESS: null kernel: 1 a buffer pointer is NULL
// HARNESS: long output: 2 a buffer's element count does not match its shape
// HARNESS: predict: 0 ok
// HARNESS: after release_memory: 0 ok
// RUN: layerc-run %S/../../examples/mlir/mnist_mlp.mlir --input=%t/x.npy \
// RUN:   --input=%t/w0.npy --input=%t/w1.npy --input=%t/w2.npy --input=%t/w3.npy \
// RUN:   --input=%t/w4.npy --input=%t/w5.npy --output=%t/jit_out.npy
// RUN: %python %S/Inputs/aot.py check %t 5 | FileCheck %s --check-prefix=NUMBERS
// NUMBERS: OK aot
//
// The object needs nothing but libc and libm.
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir -o %t/mnist.o --name=mnist
// RUN: nm -u %t/mnist.o | FileCheck %s --check-prefix=UNDEF
// UNDEF-NOT: mlir
// UNDEF-NOT: layerc
//
// Each stage's output is accepted by layerc-opt (MLIR stages) or is the
// expected kind of file.
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir --emit=layer | layerc-opt | FileCheck %s --check-prefix=LAYER
// LAYER: layer.dense {{.*}} -> tensor<?x10xf32>
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir --emit=linalg --name=m | layerc-opt | FileCheck %s --check-prefix=LINALG
// LINALG: func.func @layerc_m_predict
// LINALG-NOT: = layer.
// LINALG: linalg.generic
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir --emit=llvm --target=x86-64-v3 --name=m | FileCheck %s --check-prefix=LLVM
// LLVM-DAG: define {{.*}}i32 @_mlir_ciface_layerc_m_predict(
// LLVM-DAG: call <8 x float> @llvm.fmuladd.v8f32(
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir --emit=asm --target=x86-64-v3 --name=m | FileCheck %s --check-prefix=ASM
// ASM-DAG: _mlir_ciface_layerc_m_predict:
// ASM-DAG: vfmadd{{[0-9]+}}ps {{.*}}ymm
// AVX-512 targets get 512-bit kernels (zmm registers).
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir --emit=asm --target=x86-64-v4 --name=m | FileCheck %s --check-prefix=ASM512
// ASM512-DAG: _mlir_ciface_layerc_m_predict:
// ASM512-DAG: vfmadd{{[0-9]+}}ps {{.*}}zmm
//
// --batch specializes the code: the header's shapes are static.
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir -o %t/b.o --name=b --batch=64
// RUN: FileCheck %s --check-prefix=STATIC < %t/b.h
// STATIC: #define B_PREDICT_ARENA_BYTES {{[1-9][0-9]*}}
// STATIC: #define B_PREDICT_ARENA_BYTES_PER_SAMPLE 0
// STATIC: #define B_PREDICT_INPUT_DIM0 64
//
// Without --batch the scratch memory is per sample (layer-plan-buffers),
// but for the Dense(10)'s kernel padded to 16 columns (64 x 16 floats).
// RUN: FileCheck %s --check-prefix=ARENA < %t/mnist.h
// ARENA: #define MNIST_PREDICT_ARENA_BYTES 4096
// ARENA: #define MNIST_PREDICT_ARENA_BYTES_PER_SAMPLE {{[1-9][0-9]*}}
// STATIC: (void)batch;

// Errors.
// RUN: not layerc %S/../../examples/mlir/mnist_mlp.mlir --target=arm64 -o %t/x.o 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: layerc: error: unknown target 'arm64' (expected host, x86-64, x86-64-v3, x86-64-v4, cuda, cuda:sm_80 or cuda:sm_90)
// RUN: not layerc %t/missing.mlir -o %t/x.o 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: layerc: error: cannot open input file
// RUN: not layerc %t/model.lcm -o %t/x.o 2>&1 | FileCheck %s --check-prefix=LCM
// LCM: layerc: error: {{.*}}model.lcm: cannot open the file
// RUN: not layerc %S/../../examples/mlir/mnist_mlp.mlir --batch=-3 -o %t/x.o 2>&1 | FileCheck %s --check-prefix=NEGBATCH
// NEGBATCH: layerc: error: --batch must be at least 1 (or 0 for any batch), got -3
// RUN: not layerc %S/../../examples/mlir/mnist_mlp.mlir --emit=obj 2>&1 | FileCheck %s --check-prefix=NOOUT
// NOOUT: layerc: error: --emit=obj and --emit=lib need an output file (-o)
//
// The pass-manager flags, under their short names too.
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir -o %t/dump.o --print-ir-after-all 2>&1 | FileCheck %s --check-prefix=DUMP
// DUMP: IR Dump After LayerShapeInference
// DUMP: IR Dump After LayerToLinalg
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir -o %t/timed.o --mlir-timing 2>&1 | FileCheck %s --check-prefix=TIMING
// TIMING: Execution time report
// RUN: layerc %S/../../examples/mlir/mnist_mlp.mlir -o %t/repro.o --crash-reproducer=%t/repro.mlir
