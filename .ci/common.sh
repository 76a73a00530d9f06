# Shared by .ci/run (all tests) and .ci/main (the MNIST example): install
# Debian's packages when missing, then configure and build with Ninja and
# ccache on two cores. Source it; it defines `build_layerc`.
set -euo pipefail

LAYERC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$LAYERC_ROOT/build}
export CCACHE_DIR=${CCACHE_DIR:-/root/.cache/ccache}
# Hit the cache from any clone: paths under the checkout hash as relative.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$LAYERC_ROOT}

PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  cmake ninja-build ccache g++ zlib1g-dev
  libabsl-dev  # Abseil: the runtime's strings, hash maps and Status
  googletest libgtest-dev libgmock-dev
  python3-numpy dataset-fashion-mnist
  graphviz fonts-dejavu-core  # utils::plotModel renders with dot
  libonnx-testdata  # reference optimizer steps (OnnxOptimizerTest)
  clang-22 libclang-rt-22-dev  # libFuzzer for test/fuzz
  libomp-22-dev  # OpenMP runtime: the threads of compiled code
  libopenmpi-dev openmpi-bin  # data-parallel fit across processes (mpirun)
  python3-venv  # .ci/keras-venv.sh: Keras 3 from PyPI, the layer tests' oracle
  libonnx-dev libprotobuf-dev  # ONNX import (frontend/import): ONNX's protobuf classes
  libhdf5-dev  # .keras files: model.weights.h5
  python3-torch  # oracle: the guide's models exported to ONNX by PyTorch
  python3-onnx  # writes the malformed ONNX files of test/onnx/onnx-errors.test
  libhalide14-0-dev  # the Halide backend (codegen/halide)
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

build_layerc() {
  install_packages
  mkdir -p "$CCACHE_DIR"
  ccache --max-size=5G >/dev/null
  cmake -G Ninja -S "$LAYERC_ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
  ninja -C "$BUILD_DIR" -j2 "$@"
}
