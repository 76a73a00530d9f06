//===- Signature.cpp - Signatures of exported functions
//--------------------===//
//
// Names come from `layer.name` argument/result attributes (MLIRGen and
// layer-autodiff set them), falling back to arg<i>/result<i>; roles from
// `layer.role` (layer-autodiff) or `layer.param`/`layer.buffer` (MLIRGen).
//
//===----------------------------------------------------------------------===//

#include "codegen/Signature.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
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

FailureOr<BufferSpec> specOf(Type type, std::string name, Role role) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return failure();
  std::optional<DType> dtype = dtypeOf(tensor.getElementType());
  if (!dtype)
    return failure();
  BufferSpec spec;
  spec.name = std::move(name);
  spec.role = role;
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

/// The role of an argument or result: its `layer.role`, or for an
/// inference function's argument `layer.param` / `layer.buffer` (a weight)
/// or else an input; a result without one is an output.
FailureOr<Role> roleOf(func::FuncOp fn, DictionaryAttr attrs, bool argument,
                       unsigned i) {
  if (attrs) {
    if (auto role = attrs.getAs<StringAttr>("layer.role")) {
      if (std::optional<Role> parsed = parseRole(role.str()))
        return *parsed;
      return fn.emitError() << (argument ? "argument" : "result") << " #" << i
                            << " of '" << fn.getName() << "' has the unknown "
                            << "layer.role '" << role.getValue() << "'";
    }
    if (argument && attrs.get("layer.param"))
      return Role::Param;
    if (argument && attrs.get("layer.buffer"))
      return Role::Buffer;
  }
  return argument ? Role::Input : Role::Output;
}

/// The specs of `fn`'s arguments (`argument`) or results, appended to `out`.
LogicalResult readSpecs(func::FuncOp fn, bool argument,
                        std::vector<BufferSpec> &out) {
  const char *kind = argument ? "argument" : "result";
  ArrayRef<Type> types = argument ? fn.getArgumentTypes() : fn.getResultTypes();
  for (unsigned i = 0; i < types.size(); ++i) {
    DictionaryAttr attrs =
        argument ? fn.getArgAttrDict(i) : fn.getResultAttrDict(i);
    FailureOr<Role> role = roleOf(fn, attrs, argument, i);
    if (failed(role))
      return failure();
    auto spec = specOf(types[i],
                       slotName(attrs, argument ? "arg" : "output", i), *role);
    if (failed(spec))
      return fn.emitError() << kind << " #" << i << " of '" << fn.getName()
                            << "' has an unsupported type " << types[i];
    if (failed(checkCount(fn, *spec, kind)))
      return failure();
    out.push_back(*spec);
  }
  return success();
}

LogicalResult readSignature(func::FuncOp fn, CompiledFunction &out) {
  out.name = fn.getName().str();
  return success(succeeded(readSpecs(fn, true, out.inputs)) &&
                 succeeded(readSpecs(fn, false, out.outputs)));
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

void layerc::readArenaSizes(
    ModuleOp module, std::vector<CompiledFunction> &functions,
    llvm::function_ref<std::string(const std::string &)> symbol) {
  for (CompiledFunction &f : functions) {
    Operation *fn = SymbolTable::lookupSymbolIn(module, symbol(f.name));
    auto read = [&](StringRef name) -> int64_t {
      auto attr = fn ? fn->getAttrOfType<IntegerAttr>(name) : IntegerAttr();
      return attr ? attr.getInt() : 0;
    };
    f.arenaBytes = read("layerc.arena_bytes");
    f.arenaBytesPerSample = read("layerc.arena_bytes_per_sample");
  }
}
