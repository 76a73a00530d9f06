//===- GpuBundle.cpp - PTX and cubin in one kernel bundle -----------------===//
//
// gpu-module-to-binary{format=isa} leaves each gpu.binary with the PTX that
// LLVM's NVPTX backend wrote. Building layerc needs nothing of CUDA, so the
// cubin comes from NVIDIA's ptxas when the machine that compiles a model has
// one, run as a program. Both then travel in one object of MLIR's format
// `bin`, whose translation embeds the bytes and loads them at start-up with
// mgpuModuleLoad(bytes, size): the runtime (CudaDriver.c) picks the cubin on
// a GPU of the cubin's compute capability and hands the PTX to the driver's
// compiler on any other, so a library keeps running on newer GPUs.
//
//===----------------------------------------------------------------------===//

#include "codegen/GpuBundle.h"

#include "runtime/cuda/KernelBundle.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;

namespace layerc {

std::optional<std::string> findPtxas() {
  if (const char *given = std::getenv("LAYERC_PTXAS")) {
    llvm::StringRef path(given);
    if (path.empty() || path == "none")
      return std::nullopt;
    return path.str();
  }
  if (llvm::ErrorOr<std::string> onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  if (llvm::ErrorOr<std::string> toolkit =
          llvm::sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"}))
    return *toolkit;
  return std::nullopt;
}

namespace {

/// What running ptxas gave: the cubin, or why there is none.
struct Assembled {
  std::optional<std::string> cubin;
  std::string why;
  bool couldNotRun = false;
};

/// `ptxas -arch=<chip> -o <cubin> <ptx>`, in temporary files.
Assembled assemble(llvm::StringRef ptxas, llvm::StringRef ptx,
                   llvm::StringRef chip) {
  Assembled result;
  llvm::SmallString<128> input, output, log;
  for (auto [path, ext] :
       {std::pair{&input, "ptx"}, {&output, "cubin"}, {&log, "log"}})
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("layerc-kernels", ext, *path)) {
      result.why = "cannot create a temporary file: " + ec.message();
      return result;
    }
  llvm::scope_exit cleanup([&] {
    for (auto *path : {&input, &output, &log})
      llvm::sys::fs::remove(*path);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(input, ec);
    if (ec) {
      result.why = "cannot write " + input.str().str() + ": " + ec.message();
      return result;
    }
    os << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  llvm::StringRef args[] = {ptxas, arch, "-o", output, input};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(),
                                                log.str()};
  std::string message;
  bool failedToRun = false;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0, 0,
                                     &message, &failedToRun);
  if (failedToRun) {
    result.couldNotRun = true;
    result.why = message;
    return result;
  }
  if (rc != 0) {
    result.why = "exit status " + std::to_string(rc);
    if (auto text = llvm::MemoryBuffer::getFile(log))
      result.why += ": " + (*text)->getBuffer().trim().take_front(600).str();
    return result;
  }
  auto cubin = llvm::MemoryBuffer::getFile(output, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
  if (!cubin) {
    result.why = "it wrote no cubin";
    return result;
  }
  result.cubin = (*cubin)->getBuffer().str();
  return result;
}

/// The bundle of `ptx` (with its NUL) and `cubin`, for compute capability
/// `arch` (KernelBundle.h).
std::string bundle(llvm::StringRef ptx, const std::optional<std::string> &cubin,
                   uint32_t arch, uint32_t jitOptLevel) {
  using namespace llvm::support;
  struct Payload {
    uint32_t kind;
    std::string bytes;
  };
  SmallVector<Payload> payloads{{LAYERC_CUDA_BUNDLE_PTX, ptx.str() + '\0'}};
  if (cubin)
    payloads.push_back({LAYERC_CUDA_BUNDLE_CUBIN, *cubin});
  std::string out;
  llvm::raw_string_ostream os(out);
  os.write(LAYERC_CUDA_BUNDLE_MAGIC, 8);
  endian::write<uint32_t>(os, payloads.size(), llvm::endianness::little);
  endian::write<uint32_t>(os, jitOptLevel, llvm::endianness::little);
  auto aligned = [](uint64_t n) { return (n + 7) & ~uint64_t(7); };
  uint64_t offset = sizeof(LayercCudaBundleHeader) +
                    payloads.size() * sizeof(LayercCudaBundleEntry);
  for (const Payload &p : payloads) {
    endian::write<uint32_t>(os, p.kind, llvm::endianness::little);
    endian::write<uint32_t>(os, arch, llvm::endianness::little);
    endian::write<uint64_t>(os, offset, llvm::endianness::little);
    endian::write<uint64_t>(os, p.bytes.size(), llvm::endianness::little);
    offset = aligned(offset + p.bytes.size());
  }
  for (const Payload &p : payloads) {
    os << p.bytes;
    os.write_zeros(aligned(p.bytes.size()) - p.bytes.size());
  }
  return out;
}

} // namespace

llvm::Error bundleGpuKernels(ModuleOp module,
                             const std::optional<std::string> &ptxas) {
  // Errors name the tool, not the op: its diagnostic would print the PTX.
  std::string error;
  module.walk([&](gpu::BinaryOp binary) {
    SmallVector<Attribute> objects;
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly) {
        objects.push_back(object);
        continue;
      }
      llvm::StringRef chip = target.getChip();
      uint32_t arch = 0;
      if (!chip.starts_with("sm_") ||
          chip.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, arch)) {
        error = ("unknown CUDA chip '" + chip + "'").str();
        return WalkResult::interrupt();
      }
      uint32_t jitOptLevel = 3;
      if (DictionaryAttr props = object.getProperties())
        if (auto o = props.getAs<IntegerAttr>("O"))
          jitOptLevel = static_cast<uint32_t>(o.getInt());
      llvm::StringRef ptx = object.getObject().getValue();
      Assembled assembled;
      if (ptxas) {
        assembled = assemble(*ptxas, ptx, chip);
        if (assembled.couldNotRun) {
          error = "cannot run ptxas ('" + *ptxas +
                  "', from $LAYERC_PTXAS or PATH): " + assembled.why;
          return WalkResult::interrupt();
        }
        if (!assembled.cubin)
          llvm::WithColor::warning(llvm::errs(), "layerc")
              << "'" << *ptxas << " -arch=" << chip
              << "' failed, so the library has PTX only (" << assembled.why
              << ")\n";
      }
      std::string bytes = bundle(ptx, assembled.cubin, arch, jitOptLevel);
      objects.push_back(gpu::ObjectAttr::get(
          module.getContext(), target, gpu::CompilationTarget::Binary,
          StringAttr::get(module.getContext(), bytes), object.getProperties(),
          object.getKernels()));
    }
    binary.setObjectsAttr(ArrayAttr::get(module.getContext(), objects));
    return WalkResult::advance();
  });
  if (!error.empty())
    return llvm::createStringError(error);
  return llvm::Error::success();
}

} // namespace layerc
