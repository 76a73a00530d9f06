// A saved model compiled ahead of time: mnist_mlp saves the guide's MLP
// (untrained, so the test is quick: --epochs=0), `layerc --embed-weights`
// makes a self-contained library, a C99 program runs it, and NumPy checks
// its numbers with the weights it reads from the .lcm file itself.
//
// RUN: rm -rf %t && mkdir -p %t/so
// RUN: %layerc_bin/mnist_mlp --epochs=0 --save=%t/m.lcm | FileCheck %s --check-prefix=SAVE
// SAVE: Total params: 55,050 (215.04 KB)
// SAVE: Saved the model to
// RUN: layerc %t/m.lcm --embed-weights -o %t/libfm.a --name=fm
// RUN: FileCheck %s --check-prefix=HEADER < %t/fm.h
// HEADER: static inline int fm_predict_raw(int64_t batch,
// HEADER-NEXT: const float *input_1, size_t input_1_count,
// HEADER-NEXT: float *dense_2, size_t dense_2_count) {
// HEADER: typedef struct fm_context {
// HEADER: static inline int fm_create(fm_context **ctx) {
// HEADER: static inline int fm_predict(const fm_context *ctx, int64_t batch,
// HEADER-NEXT: const float *input_1, size_t input_1_count,
// HEADER-NEXT: float *dense_2, size_t dense_2_count) {
// RUN: cc -std=c99 -Wall -Werror -I%t %S/Inputs/embedded_harness.c %t/libfm.a -lomp -lm -o %t/harness
// RUN: %python %S/Inputs/lcm.py gen %t 3
// RUN: %t/harness %t 3 | FileCheck %s --check-prefix=EXEC
// EXEC-NOT: error
// EXEC: weights: 6, first dense/kernel (50176)
// EXEC: get_weight: the weights are compiled into the library
// EXEC: predict: 0 ok
// RUN: %python %S/Inputs/lcm.py check %t 3 %t/m.lcm | FileCheck %s --check-prefix=NUMBERS
// NUMBERS: OK lcm 3 dense layers
//
// The same as a shared library: it depends on libc alone.
// RUN: layerc %t/m.lcm --embed-weights -o %t/libfm.so --name=fm --header=%t/so/fm.h
// RUN: cc -std=c99 -Wall -Werror -I%t/so %S/Inputs/embedded_harness.c -L%t -lfm -o %t/harness_so
// RUN: rm %t/embedded_out.bin
// RUN: env LD_LIBRARY_PATH=%t %t/harness_so %t 3 | FileCheck %s --check-prefix=EXEC
// RUN: %python %S/Inputs/lcm.py check %t 3 %t/m.lcm | FileCheck %s --check-prefix=NUMBERS
// RUN: ldd %t/libfm.so | FileCheck %s --check-prefix=LDD
// LDD-NOT: layerc
// LDD-NOT: LLVM
// LDD-NOT: MLIR
// A shared library is linked by the system's cc: without one, an error
// that says so (and what needs none).
// RUN: not env PATH=/nonexistent %layerc_bin/layerc %t/m.lcm --embed-weights \
// RUN:   -o %t/x.so --name=fx 2>&1 | FileCheck %s --check-prefix=NOCC
// NOCC: layerc: error: linking a shared library needs a C compiler driver (cc) on PATH; write a static library (-o lib.a) instead
//
// Without --embed-weights the weights stay arguments, named as in the file.
// RUN: layerc %t/m.lcm -o %t/libfw.a --name=fw
// RUN: FileCheck %s --check-prefix=ARGS < %t/fw.h
// ARGS: const float *dense_kernel, size_t dense_kernel_count,
//
// --train exports train_step and evaluate built from the saved compile
// config (RMSprop); a C program trains with them, owning every buffer.
// RUN: layerc %t/m.lcm --train -o %t/libt.a --name=t
// RUN: FileCheck %s --check-prefix=TRAIN < %t/t.h
// TRAIN-DAG: static inline int t_predict_raw(
// TRAIN-DAG: static inline int t_evaluate_raw(
// TRAIN-DAG: static inline int t_train_step(t_context *ctx, int64_t batch,
// TRAIN-DAG: float *dense_kernel_out, size_t dense_kernel_out_count,
// RUN: %python %S/Inputs/lcm.py dump %t 3 %t/m.lcm
// RUN: cc -std=c99 -Wall -Werror -I%t %S/Inputs/train_harness.c %t/libt.a -lomp -lm -o %t/train_harness
// RUN: %t/train_harness %t 3 30 | FileCheck %s --check-prefix=TRAINED
// TRAINED: trained 30 steps
// RUN: %python %S/Inputs/lcm.py train %t 3 %t/m.lcm | FileCheck %s --check-prefix=LOSS
// LOSS: OK train 30 steps
//
// The same training through the context API, linked with the runtime: the
// weights are loaded from the .lcm by name, and the losses are bit for bit
// those of the raw entry points above; the trained weights are saved.
// RUN: cc -std=c99 -Wall -Werror -DLAYERC_WITH_RUNTIME -I%t %S/Inputs/context_harness.c %t/libt.a %layerc_runtime_lib -lz -lstdc++ -lomp -lm -o %t/context_harness
// RUN: %t/context_harness %t 3 30 %t/m.lcm | FileCheck %s --check-prefix=CTX
// CTX: weights: 6, dense/kernel is 50176 floats
// CTX: missing file: a file could not be read or written
// CTX: message: {{.*}}/nonexistent.lcm
// CTX: unknown name: the model has no weight of that name
// CTX: wrong count: a buffer's element count does not match its shape
// CTX: evaluate: ok, loss below the first: 1
// CTX: save: ok
// CTX: trained 30 steps
// RUN: cmp %t/losses.bin %t/ctx_losses.bin
// RUN: %python %S/Inputs/lcm.py check-trained %t/trained.safetensors %t/m.lcm | FileCheck %s --check-prefix=SAVED
// SAVED: OK 6 trained weights, all changed
// RUN: not layerc %t/m.lcm --train --embed-weights -o %t/x.a 2>&1 | FileCheck %s --check-prefix=TRAINEMBED
// TRAINEMBED: --train and --embed-weights exclude each other
// RUN: %python %S/Inputs/evil_lcm.py %t/m.lcm %t/evil.lcm "sgd learning-rate=100"
// RUN: not layerc %t/evil.lcm --train -o %t/x.a 2>&1 | FileCheck %s --check-prefix=EVIL
// EVIL: layerc: error: unknown optimizer 'sgd learning-rate=100'
//
// Errors.
// RUN: not layerc %S/../../examples/mlir/mnist_mlp.mlir --embed-weights -o %t/x.o 2>&1 | FileCheck %s --check-prefix=EMBED
// EMBED: layerc: error: --embed-weights needs a model file (.lcm, .keras, .onnx)
// RUN: printf 'not a model' > %t/bad.lcm
// RUN: not layerc %t/bad.lcm -o %t/x.o 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: layerc: error: {{.*}}bad.lcm: header length {{[0-9]+}} exceeds the file
