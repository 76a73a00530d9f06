//===- Passes.td - layerc code generation passes ---------*- tablegen -*-===//

#ifndef LAYERC_CODEGEN_PASSES_TD
#define LAYERC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LayerToLinalg : Pass<"layer-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower layer ops to linalg, tensor, arith and math";
  let description = [{
    A dialect conversion (every `layer` op is illegal afterwards) with one
    pattern per op, grouped by layer family in codegen/LayerToLinalg/.
    Results stay on tensors, so linalg's element-wise fusion and one-shot
    bufferization apply afterwards. Requires inferred shapes.

    The register-blocked matmul and convolution kernels use vectors of
    `vector-bits` (the target description's width: 256 for AVX2, 512 for
    AVX-512) and as many accumulators as that register file holds. With
    `vector-bits=0` (the GPU targets) no register-blocked kernel is built:
    every op stays a plain linalg op, which layer-gpu-map spreads over
    threads.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "256",
           "Widest vector of the kernels, in bits (128, 256 or 512; 0: none)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"];
}

def LayerTile : Pass<"layer-tile", "::mlir::func::FuncOp"> {
  let summary = "Choose the tiling of every register-blocked CPU kernel from "
                "the target";
  let description = [{
    Gives every Dense, MatMul and convolution op (forward, transposed, and
    the input and filter gradients) whose output's last axis fills whole
    vectors a `layer.tile` attribute (`#layer.tile<...>`, LayerEnums.td):
    the vector lanes and the vectors per register block (the widest of at
    most `vector-bits` that divide the axis), the rows or columns of a
    register block (as many accumulators as the register file holds beside
    a block's operands: 12 of AVX2's 16 registers, 24 of AVX-512's 32), and
    a matmul's cache tiles: B's slice of a panel of columns in a quarter of
    `l2-bytes`, square, in powers of two (256 x 256 floats for 1 MiB and
    2 MiB), a register block's slice of A in half of `l1-bytes`, B packed
    from 64 rows and two panels of columns. `layer-to-linalg` builds the
    kernels as the attribute says (and chooses the same itself, with the
    default caches, for an op without one).

    A 2-D convolution, transposed convolution or input gradient with a
    3 x 3 kernel, stride 1, dilation 1 and one group, summing over at least
    8 channels into an output of at least 2 x 2, gets Winograd: `winograd
    = 4`, F(4 x 4, 3 x 3) (4x fewer multiply-adds than the direct kernel),
    where one image's 4 x 4 tiles fill a register block of tiles, else
    `winograd = 2`, F(2 x 2, 3 x 3) (2.25x fewer, for transforms that are
    additions). `winograd-tile=2` or `=4` takes that one everywhere;
    `winograd=false` keeps the direct kernel everywhere.

    An op that already has a `layer.tile` keeps it, so a tiling written by
    hand survives the rest of the pipeline. With `vector-bits=0` (a GPU
    target) no op is tiled.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "256",
           "Widest vector of the kernels, in bits (128, 256 or 512; 0: none)">,
    Option<"l1Bytes", "l1-bytes", "int64_t", "::layerc::kDefaultL1Bytes",
           "The L1 data cache of a core, in bytes">,
    Option<"l2Bytes", "l2-bytes", "int64_t", "::layerc::kDefaultL2Bytes",
           "The L2 cache of a core, in bytes">,
    Option<"winograd", "winograd", "bool", "true",
           "Compute 3 x 3 stride-1 convolutions by Winograd's F(m x m, 3x3)">,
    Option<"winogradTile", "winograd-tile", "int64_t", "0",
           "Winograd's output tile m: 2 or 4 everywhere, or 0: chosen per "
           "convolution from its output's size">
  ];
}

def LayerPrefixSymbols : Pass<"layer-prefix-symbols", "::mlir::ModuleOp"> {
  let summary = "Rename public functions to the C symbols of a library";
  let description = [{
    Renames every public function `f` to `layerc_<prefix>_f`, made a C
    identifier, and updates every use, so that two compiled models link
    into one program. The AOT driver runs it after reading the signatures
    (the header names functions by their own names).
  }];
  let options = [
    Option<"prefix", "prefix", "std::string", "\"\"",
           "The library's name (a C identifier); empty: keep the names">,
  ];
}

def LayerExportFunctions : Pass<"layer-export-functions", "::mlir::ModuleOp"> {
  let summary = "Make public functions destination-passing C entry points";
  let description = [{
    Rewrites every public function `f(tensor...) -> (tensor...)` into
    `f(memref... inputs, memref... outputs)` with
    `bufferization.to_tensor ... restrict` for the inputs and
    `bufferization.materialize_in_destination` into the outputs, and marks
    it `llvm.emit_c_interface`. Callers own every buffer (no allocation
    escapes a call) and must not pass one buffer as both input and output.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LayerLowerChecks : Pass<"layer-lower-checks", "::mlir::ModuleOp"> {
  let summary = "Turn failed checks and failed allocations into error codes";
  let description = [{
    Runs on the flat control flow of exported functions (after
    convert-scf-to-cf). Each `cf.assert` becomes a branch that returns the
    status 100 + k, where k indexes its message in the module attribute
    `layer.check_messages` (which the JIT and the C header read), and each
    `memref.alloc` is followed by a null check that returns 4 (out of
    memory). Nothing after a failed check runs; buffers allocated before it
    are not freed on that path. Functions that are not exported keep their
    asserts (which abort).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LayerSplitSharedInits
    : Pass<"layer-split-shared-inits", "::mlir::func::FuncOp"> {
  let summary = "Give every use of a shared fresh tensor (a fill or a "
                "tensor.empty) its own";
  let description = [{
    CSE merges identical `linalg.fill`s of `tensor.empty`s and identical
    `tensor.empty`s, so many ops of one result shape start from one shared
    tensor. A shared fill (two matmuls' zeros, two max pools' -inf) made
    eliminate-empty-tensors write both results into the first op's output
    buffer: the second output came back equal to the first. A shared
    `tensor.empty` puts every op writing into it in one alias set, which
    One-Shot Bufferize analyzes in time quadratic in their number. Each
    later use gets its own `tensor.empty` (and fill); no value changes.
    Runs right before eliminate-empty-tensors.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LayerContractionLoopOrder
    : Pass<"layer-contraction-loop-order", "::mlir::func::FuncOp"> {
  let summary = "Put the reduction loop of matmuls outside the column loop";
  let description = [{
    A matmul-like contraction iterates (m, n, k); as loops, the innermost k
    is a serial floating-point reduction that LLVM cannot vectorize. This
    pass generalizes each such contraction and interchanges it to
    (m, k, n), so the innermost loop streams contiguous rows of the
    right-hand side and the result, and LLVM's loop vectorizer turns it into
    SIMD code. A stop-gap until a tiled and vectorized CPU pipeline
    replaces naive loops.

    With `parallel-outer` (the GPU targets), every linalg op instead gets
    its parallel loops outside its reductions, so that one scf.parallel
    covers them all (one GPU thread per output element).
  }];
  let options = [
    Option<"parallelOuter", "parallel-outer", "bool", "false",
           "Put every op's parallel loops outside its reductions (GPU)">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LayerCopyToLinalg : Pass<"layer-copy-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy as linalg.copy (loops, no runtime call)";
  let description = [{
    Bufferization copies buffers with `memref.copy`, which the LLVM lowering
    turns into a call to `memrefCopy` from MLIR's C runner utilities
    whenever a side is strided (a padded or sliced window). layerc's
    libraries must need nothing but libc and libm, so this pass rewrites
    every `memref.copy` into a `linalg.copy`, which later becomes plain
    loops.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LayerParallelLoops
    : Pass<"layer-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Choose the loops that run on several threads";
  let description = [{
    Runs on loops over buffers (after bufferization and
    convert-linalg-to-parallel-loops). Candidates are `scf.parallel` loops
    and `scf.for` loops marked `layerc.parallel` by the kernels of
    layer-to-linalg (their iterations write disjoint parts of the result).
    The outermost candidate of a loop nest whose estimated work is at least
    `min-work` operations becomes an `scf.parallel`, which
    convert-scf-to-openmp turns into an OpenMP parallel loop; a marked loop
    of one iteration (a batch of 1) passes the choice to the loops inside
    it. Every other `scf.parallel` becomes a nest of `scf.for`: one level of
    threads per loop nest, and none for loops too small to pay for waking
    the threads. A chosen `scf.parallel` keeps at most its two leading
    dimensions, never its last (unless it has one): OpenMP would collapse
    them all into one loop that divides to recover every element's indices,
    and the innermost loop would not vectorize.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "32768",
           "Fewest estimated operations of a loop nest run on threads">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def LayerThreadCount : Pass<"layer-thread-count", "::mlir::ModuleOp"> {
  let summary = "Give every OpenMP parallel region the library's thread count";
  let description = [{
    Before each outermost `omp.parallel`, asks the module's thread policy
    how many threads to use, and after it, says the region is done. The
    policy (LLVM dialect functions this pass adds):
      * `<prefix>set_num_threads(int n)` sets the count (n <= 0: default);
      * otherwise the environment variable LAYERC_NUM_THREADS, read once;
      * otherwise OpenMP's default (all cores, or OMP_NUM_THREADS);
      * a region that starts while another region of the same module runs
        (a caller calling from several threads) gets one thread, so the
        library never multiplies the caller's threads.
  }];
  let options = [
    Option<"prefix", "prefix", "std::string", "\"layerc_\"",
           "Prefix of the exported set_num_threads function">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::omp::OpenMPDialect"];
}

def LayerPlanBuffers : Pass<"layer-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Place a function's intermediate buffers in one cached arena";
  let description = [{
    Runs after bufferization (explicit memref.alloc/dealloc). For each
    function: the live range of every allocation of the entry block (from
    its alloc to the last use of it or of a view of it), offsets assigned
    greedily (largest first, 64-byte aligned) so that buffers live at the
    same time never overlap. Buffers are grouped by their one dynamic size
    value (static buffers form a group of their own) and planned in bytes
    per unit of it, so the plan holds for every batch; the function records
    `layerc.arena_bytes` (static) and `layerc.arena_bytes_per_sample`. Each
    allocation becomes a memref.view of its group's arena, its dealloc
    disappears. Each arena is taken from a one-slot cache of its own with
    an atomic exchange before its first buffer and given back at the end of
    the call (grown when too small), so steady-state calls do not allocate
    and the pages stay mapped. A failed arena
    allocation returns the out-of-memory status. `<prefix>release_memory()`
    (exported) frees the arenas held in the slots.
  }];
  let options = [
    Option<"prefix", "prefix", "std::string", "\"layerc_\"",
           "Prefix of the exported release_memory function">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LayerInternalizePrivate
    : Pass<"layer-internalize-private", "::mlir::ModuleOp"> {
  let summary = "Give private functions internal linkage";
  let description = [{
    Every private func.func with a body gets `llvm.linkage = internal`, which
    func-to-llvm honours: a function the pipeline creates (the buffer
    deallocation pipeline's `dealloc_helper`) would otherwise be an external
    symbol of every library, and two libraries linked into one program
    would clash.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LayerGpuMap : Pass<"layer-gpu-map", "::mlir::ModuleOp"> {
  let summary = "Put every buffer on the GPU and every loop nest in a kernel";
  let description = [{
    The CUDA target's first pass, on bufferized loops (after
    convert-linalg-to-parallel-loops). An exported function copies its
    inputs (the first `layer.num_inputs` arguments) into device buffers on
    entry and its outputs back before it returns, and then returns the
    device's status (`layerc_cuda_status`) when its own is 0. Each outermost
    `scf.parallel` becomes a `gpu.launch` of 256-thread blocks, one thread
    per iteration (the last index fastest); any other op that reads or
    writes buffer elements runs in a one-thread launch. The module records
    the memref globals the host hands to kernels (`layer.device_globals`)
    for layer-gpu-host-alloc.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def LayerGpuMergeKernels : Pass<"layer-gpu-merge-kernels",
                                "::mlir::ModuleOp"> {
  let summary = "Move every outlined kernel into one gpu.module";
  let description = [{
    gpu-kernel-outlining makes one gpu.module per kernel; this pass moves
    their functions into one module named `name` (and retargets the
    launches), so the library holds one PTX module, loaded once, and
    `layerc --emit=ptx` writes one file.
  }];
  let options = [
    Option<"moduleName", "name", "std::string", "\"layerc_kernels\"",
           "Name of the merged gpu.module (unique per library)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def LayerGpuMath : Pass<"layer-gpu-math"> {
  let summary = "Math functions as polynomials, for kernels without libdevice";
  let description = [{
    Expands math ops into simpler ones (pow into exp and log, ...) and
    replaces exp, log, tanh, erf, ... by MLIR's polynomial approximations,
    so that convert-gpu-to-nvvm leaves no call to CUDA's libdevice and the
    PTX needs no CUDA toolkit to build. Run it on each gpu.module.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def LayerGpuLibdevice : Pass<"layer-gpu-libdevice", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Define the libdevice functions that math lowering calls";
  let description = [{
    After convert-gpu-to-nvvm, which calls CUDA's libdevice (`__nv_floorf`,
    `__nv_sqrtf`, ...) for math ops even where LLVM has an intrinsic: each
    such declaration gets a body that calls the intrinsic, which the NVPTX
    backend selects. Any other `__nv_` function is an error naming it (the
    kernels must build without a CUDA toolkit; layer-gpu-math removes the
    transcendental functions before).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LayerGpuHostAlloc : Pass<"layer-gpu-host-alloc", "::mlir::ModuleOp"> {
  let summary = "Device memory for the host code of the CUDA target";
  let description = [{
    On the LLVM dialect: in the host functions (not in gpu.modules), calls
    to malloc and free become `layerc_cuda_malloc` and `layerc_cuda_free`
    (device memory from the driver's pool), and the address of each global
    that layer-gpu-map listed becomes `layerc_cuda_global(address, bytes)`,
    its device copy (made once).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // LAYERC_CODEGEN_PASSES_TD
