#!/usr/bin/env bash
# Builds the libFuzzer target of the ONNX importer (OnnxFuzzer.cpp) into $3:
# frontend/import -- the code a hostile .onnx file reaches -- is compiled
# again with coverage, ASan and UBSan; the rest of the frontend, MLIR and
# libonnx come uninstrumented from the build tree, linked as the build
# links onnx_check (the library list is read from build.ninja, so the build
# must use Ninja, as .ci does). NoAllocatorPoisoning.h is force-included as
# in build_mlir_fuzzer.sh: LLVM's allocators are shared with uninstrumented code.
#   build_onnx_fuzzer.sh SRC_ROOT BUILD_ROOT OUT CLANGXX
set -euo pipefail
src=$1 build=$2 out=$3 cxx=$4
launcher=$(command -v ccache || true)
mkdir -p "$out/obj"
libs=$(awk '/^build bin\/onnx_check:/ { f = 1 }
            f && /LINK_LIBRARIES/ { sub(/.*LINK_LIBRARIES = /, ""); print; exit }' \
       "$build/build.ninja")
if [ -z "$libs" ]; then
  echo "build_onnx_fuzzer.sh: no link line of onnx_check in $build/build.ninja" >&2
  exit 1
fi
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=all -I"$src" -I"$src/frontend/include" -I"$build"
       -isystem /usr/lib/llvm-22/include -DONNX_NAMESPACE=onnx -DONNX_ML=1
       -DNDEBUG -w -include "$src/test/fuzz/NoAllocatorPoisoning.h")
sources=("$src"/frontend/import/*.cpp "$src"/test/fuzz/OnnxFuzzer.cpp)
printf '%s\n' "${sources[@]}" | xargs -P 2 -I{} sh -c \
  'f={}; o="$0/obj/$(echo "$f" | tr / _).o"; cxx=$1; shift;
   '"$launcher"' "$cxx" "$@" -c "$f" -o "$o"' "$out" "$cxx" "${flags[@]}"
cd "$build"
# shellcheck disable=SC2086
"$cxx" -fsanitize=fuzzer,address,undefined "$out"/obj/*.o $libs \
  -o "$out/onnx-fuzzer"
