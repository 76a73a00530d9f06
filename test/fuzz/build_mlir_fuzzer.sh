#!/usr/bin/env bash
# Builds the libFuzzer target of the .mlir path (MlirFuzzer.cpp) into $3:
# the dialect and the layer passes -- the code a hostile .mlir file reaches
# first -- are compiled again with coverage, ASan and UBSan; code generation
# (libLayerCodegen.a) and MLIR itself come uninstrumented from the build
# tree. NDEBUG as Debian's libMLIR was built: without it llvm::Statistic
# has another layout (TrackingStatistic, not NoopStatistic), and a pass
# statistic (layer-autodiff's num-gradient-ops) constructed by libMLIR
# would be read uninitialized by the instrumented pass. NoAllocatorPoisoning.h
# is force-included for the same reason: libMLIR shares BumpPtrAllocator slabs
# with the instrumented code and does not unpoison what it hands out.
#   build_mlir_fuzzer.sh SRC_ROOT BUILD_ROOT OUT CLANGXX
set -euo pipefail
src=$1 build=$2 out=$3 cxx=$4
launcher=$(command -v ccache || true)
mkdir -p "$out/obj"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=all -fno-exceptions -I"$src" -I"$build"
       -isystem /usr/lib/llvm-22/include -D__STDC_CONSTANT_MACROS
       -D__STDC_FORMAT_MACROS -D__STDC_LIMIT_MACROS -DNDEBUG -w
       -include "$src/test/fuzz/NoAllocatorPoisoning.h")
sources=("$src"/dialect/*.cpp "$src"/passes/*.cpp
         "$src"/passes/autodiff/*.cpp "$src"/test/fuzz/MlirFuzzer.cpp)
printf '%s\n' "${sources[@]}" | xargs -P 2 -I{} sh -c \
  'f={}; o="$0/obj/$(echo "$f" | tr / _).o"; cxx=$1; shift;
   '"$launcher"' "$cxx" "$@" -c "$f" -o "$o"' "$out" "$cxx" "${flags[@]}"
"$cxx" -fsanitize=fuzzer,address,undefined "$out"/obj/*.o \
  "$build"/lib/libLayerCodegen.a "$build"/runtime/liblayerc_runtime.a \
  -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lMLIR -lLLVM -lz \
  -labsl_str_format_internal -labsl_strings -labsl_status -labsl_statusor \
  -labsl_raw_hash_set -labsl_hash -labsl_throw_delegate \
  -o "$out/mlir-fuzzer"
