# -*- Python -*-
# The layerc lit suite: FileCheck tests of the layer dialect, its passes and
# code generation, and executed tests of layerc-run. The GoogleTest binaries
# are a separate suite (unittests/lit.cfg.py) that lit discovers through
# build/test/unittests/lit.site.cfg.py.

import os

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "layerc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.layerc_obj_root, "test")
# Inputs holds helpers, not tests. 'unittests' must NOT be excluded: lit
# checks excludes before it looks for a nested suite, and it is by walking
# into unittests/ that it finds build/test/unittests/lit.site.cfg.py and runs
# the GoogleTest suite (unittests/lit.cfg.py) from `lit build/test`.
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in", "CMakeLists.txt",
                   "Inputs"]

llvm_config.use_default_substitutions()
# FileCheck, not and count come with the default substitutions; split-file
# and mlir-translate (LLVM IR from the LLVM dialect) are LLVM's too.
llvm_config.add_tool_substitutions(["split-file", "mlir-translate"],
                                   [config.llvm_tools_dir])


def timed_tool(name, seconds):
    """`name` from the build tree, run under a timeout: some pattern
    combinations make a pass loop forever instead of failing (TOOLCHAIN.md),
    and a hung test must fail rather than stall the suite."""
    path = lit.util.which(name, config.layerc_tools_dir)
    if not path:
        lit_config.note("did not find %s in %s; build it first"
                        % (name, config.layerc_tools_dir))
        path = os.path.join(config.layerc_tools_dir, name)
    return ToolSubst(name, command="timeout %d %s" % (seconds, path))


llvm_config.add_tool_substitutions(
    [timed_tool("layerc-opt", 60), timed_tool("layerc-run", 300),
     timed_tool("layerc", 300)],
    [config.layerc_tools_dir],
)

# `not` and `count` are substituted only after a pipe; at the start of a
# command they, like FileCheck and split-file, come from LLVM's tools.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# numpy lives in Debian's python3, not in the python3 first on PATH. Replace
# the default %python (lit's own interpreter) so the choice is explicit.
config.substitutions = [(k, v) for (k, v) in config.substitutions
                        if k != "%python"]
config.substitutions.append(("%python", config.python_executable))
# Programs of the build tree that are not tools (examples).
config.substitutions.append(("%layerc_bin", config.layerc_tools_dir))
config.substitutions.append(("%layerc_obj_root", config.layerc_obj_root))
config.substitutions.append(("%layerc_src_root", config.layerc_src_root))
config.substitutions.append(("%cxx", config.cxx_compiler))
# The runtime archive and the Abseil libraries it uses (libabsl-dev's shared
# libraries; runtime/CMakeLists.txt), for programs linked by hand.
layerc_runtime_absl_libs = ("-labsl_str_format_internal -labsl_strings "
                            "-labsl_status -labsl_statusor "
                            "-labsl_raw_hash_set -labsl_hash "
                            "-labsl_throw_delegate")
# Runtime sources compiled into a test program (the fuzzers) link these.
config.substitutions.append(("%absl_libs", layerc_runtime_absl_libs + " -lz"))
config.substitutions.append(
    ("%layerc_runtime_lib",
     os.path.join(config.layerc_obj_root, "runtime", "liblayerc_runtime.a")
     + " " + layerc_runtime_absl_libs))
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"
# The fuzz targets' build (test/fuzz/build_mlir_fuzzer.sh) goes through
# ccache when it is there: keep its cache where the main build's is.
for var in ("HOME", "CCACHE_DIR", "CCACHE_BASEDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# libFuzzer needs clang and its runtime (Debian's clang-22 and
# libclang-rt-22-dev); without them the fuzz test is skipped.
clangxx = lit.util.which("clang++-22")
fuzzer_rt = "/usr/lib/llvm-22/lib/clang/22/lib/linux/libclang_rt.fuzzer-x86_64.a"
if clangxx and os.path.exists(fuzzer_rt):
    config.available_features.add("libfuzzer")
    config.substitutions.append(("%clangxx", clangxx))

# The CUDA target's PTX is checked by NVIDIA's assembler where the CUDA
# toolkit is installed (not a Debian package: skipped elsewhere).
ptxas = lit.util.which("ptxas") or lit.util.which("ptxas", "/usr/local/cuda/bin")
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# Data-parallel training runs under Open MPI's mpirun (libopenmpi-dev and
# openmpi-bin); as root it needs --allow-run-as-root, on 2 cores
# --oversubscribe, and in containers shared memory without the
# single-copy (ptrace) mechanism.
mpirun = lit.util.which("mpirun")
if mpirun:
    config.available_features.add("mpi")
    config.substitutions.append(
        ("%mpirun", "timeout 300 %s --allow-run-as-root --oversubscribe "
         "--mca btl_vader_single_copy_mechanism none" % mpirun))

# PyTorch (Debian's python3-torch) exports the models the ONNX importer is
# checked on; without it those tests are skipped.
import subprocess
if subprocess.run([config.python_executable, "-c", "import torch"],
                  stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("torch")
# ONNX's Python package (python3-onnx) writes the malformed ONNX files.
if subprocess.run([config.python_executable, "-c", "import onnx"],
                  stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("python-onnx")
# ONNX's backend test data (Debian's libonnx-testdata).
onnx_testdata = "/usr/share/libonnx-testdata/data"
if os.path.isdir(os.path.join(onnx_testdata, "node")):
    config.available_features.add("onnx-testdata")
    config.substitutions.append(("%onnx_testdata", onnx_testdata))
# The Halide backend is built where Halide 14 (libhalide14-0-dev) is.
if os.path.exists(os.path.join(config.layerc_tools_dir, "halide_check")):
    config.available_features.add("halide")
