//===- Signature.cpp - Signatures of exported functions
//--------------------===//
//
// Names come from `layer.name` argument/result attributes (MLIRGen and
// layer-autodiff set them), falling back to arg<i>/result<i>.
//
//===----------------------------------------------------------------------===//

#include "codegen/Signature.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace layerc;

namespace {

std::optional<DType> dtypeOf(Type t) {
  if (t.isF32())
    return DType::Float32;
  if (t.isF64())
    return DType::Float64;
  if (t.isSignlessInteger(32))
    return DType::Int32;
  if (t.isSignlessInteger(64))
    return DType::Int64;
  return std::nullopt;
}

FailureOr<BufferSpec> specOf(Type type, std::string name) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return failure();
  std::optional<DType> dtype = dtypeOf(tensor.getElementType());
  if (!dtype)
    return failure();
  BufferSpec spec;
  spec.name = std::move(name);
  spec.dtype = *dtype;
  for (int64_t d : tensor.getShape())
    spec.shape.push_back(ShapedType::isDynamic(d) ? kDynamic : d);
  return spec;
}

/// The name of argument/result i: its `layer.name` attribute or a default.
std::string slotName(DictionaryAttr attrs, const char *prefix, unsigned i) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>("layer.name"))
      return name.str();
  return prefix + std::to_string(i);
}

/// Whether the bytes of one sample-or-batch of `spec`'s static dimensions
/// can be counted in int64: every size computation of the generated code
/// and of the C header is then free of overflow (a dynamic dimension is
/// checked against the same bound at run time).
bool countFits(const BufferSpec &spec) {
  int64_t bytes = static_cast<int64_t>(dtypeSize(spec.dtype));
  for (int64_t d : spec.shape)
    if (d != kDynamic && llvm::MulOverflow(bytes, d, bytes))
      return false;
  return true;
}

LogicalResult checkCount(func::FuncOp fn, const BufferSpec &spec,
                         const char *kind) {
  if (countFits(spec))
    return success();
  return fn.emitError() << kind << " '" << spec.name << "' of '" << fn.getName()
                        << "' has shape " << spec.str()
                        << ", more bytes than a 64-bit size can count";
}

LogicalResult readSignature(func::FuncOp fn, CompiledFunction &out) {
  out.name = fn.getName().str();
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto spec = specOf(fn.getArgumentTypes()[i],
                       slotName(fn.getArgAttrDict(i), "arg", i));
    if (failed(spec))
      return fn.emitError()
             << "argument #" << i << " of '" << fn.getName()
             << "' has an unsupported type " << fn.getArgumentTypes()[i];
    if (failed(checkCount(fn, *spec, "argument")))
      return failure();
    out.inputs.push_back(*spec);
  }
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    auto spec = specOf(fn.getResultTypes()[i],
                       slotName(fn.getResultAttrDict(i), "result", i));
    if (failed(spec))
      return fn.emitError()
             << "result #" << i << " of '" << fn.getName()
             << "' has an unsupported type " << fn.getResultTypes()[i];
    if (failed(checkCount(fn, *spec, "result")))
      return failure();
    out.outputs.push_back(*spec);
  }
  return success();
}

} // namespace

FailureOr<std::vector<CompiledFunction>>
layerc::readSignatures(ModuleOp module) {
  std::vector<CompiledFunction> out;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (!fn.isPublic() || fn.isExternal())
      continue;
    CompiledFunction f;
    if (failed(readSignature(fn, f)))
      return failure();
    out.push_back(std::move(f));
  }
  return out;
}
