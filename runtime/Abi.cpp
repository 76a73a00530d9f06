//===- Abi.cpp - Calling compiled functions through the memref ABI --------===//
//
// A compiled function trusts its descriptors completely: a wrong size or a
// buffer that is too small means an out-of-bounds access in generated code.
// So every argument is checked against the function's signature here, the
// one place all calls pass through, and only then are the descriptors built.
//
//===----------------------------------------------------------------------===//

#include "runtime/Abi.h"
#include "runtime/Error.h"

#include <optional>

using namespace layerc;

std::vector<int64_t> BufferSpec::resolve(int64_t batch) const {
  std::vector<int64_t> out = shape;
  for (int64_t &d : out)
    if (d < 0)
      d = batch;
  return out;
}

const char *layerc::roleName(Role role) {
  switch (role) {
  case Role::Input:
    return "input";
  case Role::Target:
    return "target";
  case Role::Param:
    return "param";
  case Role::Buffer:
    return "buffer";
  case Role::State:
    return "state";
  case Role::Step:
    return "step";
  case Role::Output:
    return "output";
  case Role::Loss:
    return "loss";
  case Role::Gradient:
    return "grad";
  case Role::Offset:
    return "offset";
  case Role::LearningRate:
    return "learning_rate";
  case Role::SampleWeight:
    return "sample_weight";
  }
  return "input";
}

std::optional<Role> layerc::parseRole(const std::string &name) {
  for (Role role :
       {Role::Input, Role::Target, Role::Param, Role::Buffer, Role::State,
        Role::Step, Role::Output, Role::Loss, Role::Gradient, Role::Offset,
        Role::LearningRate, Role::SampleWeight})
    if (name == roleName(role))
      return role;
  return std::nullopt;
}

int layerc::countRole(const std::vector<BufferSpec> &specs, Role role) {
  int n = 0;
  for (const BufferSpec &spec : specs)
    n += spec.role == role;
  return n;
}

std::string BufferSpec::str() const {
  return formatShape(shape) + " " + dtypeName(dtype);
}

namespace {

/// The batch size shared by all dynamic dimensions of one call, and the
/// argument that fixed it (for messages).
struct BatchBinding {
  std::optional<int64_t> size;
  std::string boundBy;
};

std::string argName(const BufferSpec &spec, size_t index) {
  return spec.name.empty() ? "#" + std::to_string(index) : spec.name;
}

/// Checks `t` against `spec` and binds or checks its dynamic dimensions.
void checkArgument(const std::string &fn, const char *kind,
                   const BufferSpec &spec, size_t index, const Tensor *t,
                   BatchBinding &batch) {
  std::string name = argName(spec, index);
  if (!t)
    throw Error(fn + ": " + kind + " '" + name + "' is null");
  auto mismatch = [&] {
    return Error(fn + ": " + kind + " '" + name + "' expects " + spec.str() +
                 " but got " + t->shapeString() + " " + dtypeName(t->dtype()));
  };
  if (t->dtype() != spec.dtype || t->rank() != (int64_t)spec.shape.size())
    throw mismatch();
  for (size_t d = 0; d < spec.shape.size(); ++d) {
    int64_t actual = t->shape()[d];
    if (spec.shape[d] >= 0 && spec.shape[d] != actual)
      throw mismatch();
    if (spec.shape[d] >= 0)
      continue;
    // Only the batch (dimension 0) is shared by every argument. Any other
    // unknown size (a sequence length, a feature count the module leaves
    // open) is the caller's: the compiled function checks at run time
    // every relation the compiler could not prove (layer-shape-checks).
    if (d > 0)
      continue;
    if (!batch.size) {
      batch.size = actual;
      batch.boundBy = name;
    } else if (*batch.size != actual) {
      throw Error(fn + ": " + kind + " '" + name + "' has batch size " +
                  std::to_string(actual) + " but argument '" + batch.boundBy +
                  "' has batch size " + std::to_string(*batch.size) + " (" +
                  name + " is " + t->shapeString() + ")");
    }
  }
}

void checkCount(const std::string &fn, const char *kind, size_t expected,
                size_t actual) {
  if (expected != actual)
    throw Error(fn + ": expects " + std::to_string(expected) + " " + kind +
                "s but got " + std::to_string(actual));
}

/// A strided memref descriptor: {allocated, aligned, offset, sizes[R],
/// strides[R]}, every field one 64-bit word.
std::vector<int64_t> makeDescriptor(const Tensor &t) {
  int64_t rank = t.rank();
  std::vector<int64_t> desc(3 + 2 * rank);
  auto ptr = reinterpret_cast<intptr_t>(t.rawData());
  desc[0] = ptr;
  desc[1] = ptr;
  desc[2] = 0;
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc[3 + d] = t.shape()[d];
    desc[3 + rank + d] = stride;
    stride *= t.shape()[d];
  }
  return desc;
}

void invoke(const CompiledFunction &f, const std::vector<const Tensor *> &in,
            const std::vector<Tensor *> &out) {
  if (!f.fn)
    throw Error(f.name + ": the function has no compiled code");
  std::vector<std::vector<int64_t>> descs;
  descs.reserve(in.size() + out.size());
  for (const Tensor *t : in)
    descs.push_back(makeDescriptor(*t));
  for (Tensor *t : out)
    descs.push_back(makeDescriptor(*t));
  std::vector<void *> descPtrs;
  for (auto &d : descs)
    descPtrs.push_back(d.data());
  std::vector<void *> args;
  for (void *&p : descPtrs)
    args.push_back(&p);
  int32_t status = kStatusOk;
  args.push_back(&status);
  f.fn(args.data());
  if (status == kStatusOk)
    return;
  if (status == kStatusOutOfMemory)
    throw Error(f.name + ": out of memory");
  size_t check = static_cast<size_t>(status - kStatusCheckBase);
  if (status >= kStatusCheckBase && f.checkMessages &&
      check < f.checkMessages->size())
    throw Error(f.name + ": " + (*f.checkMessages)[check]);
  throw Error(f.name + ": failed with status " + std::to_string(status));
}

BatchBinding checkInputs(const CompiledFunction &f,
                         const std::vector<const Tensor *> &in) {
  checkCount(f.name, "input", f.inputs.size(), in.size());
  BatchBinding batch;
  for (size_t i = 0; i < in.size(); ++i)
    checkArgument(f.name, "argument", f.inputs[i], i, in[i], batch);
  return batch;
}

} // namespace

std::vector<Tensor>
CompiledFunction::operator()(const std::vector<const Tensor *> &in) const {
  BatchBinding batch = checkInputs(*this, in);
  std::vector<Tensor> results;
  results.reserve(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const BufferSpec &spec = outputs[i];
    bool dynamic = false;
    for (int64_t d : spec.shape)
      dynamic |= d < 0;
    if (dynamic && !batch.size)
      throw Error(name + ": output '" + argName(spec, i) + "' has shape " +
                  spec.str() +
                  " with a dynamic dimension, but no input has one to "
                  "resolve it from");
    results.emplace_back(spec.resolve(batch.size.value_or(0)), spec.dtype);
  }
  std::vector<Tensor *> out;
  for (Tensor &t : results)
    out.push_back(&t);
  invoke(*this, in, out);
  return results;
}

void CompiledFunction::call(const std::vector<const Tensor *> &in,
                            const std::vector<Tensor *> &out) const {
  BatchBinding batch = checkInputs(*this, in);
  checkCount(name, "output", outputs.size(), out.size());
  for (size_t i = 0; i < out.size(); ++i)
    checkArgument(name, "output", outputs[i], i, out[i], batch);
  invoke(*this, in, out);
}
