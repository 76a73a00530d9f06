//===- SplitCodegen.cpp - Optimize and emit a module in parts, in parallel ===//
//
// See Target.h (emitObjects).
//
// LLVM optimizes and generates one module on one thread. A model's module
// is many independent functions: each entry point, and the parallel
// regions OpenMP's lowering moved out of it (`..omp_par.N`, most of the
// code). This splits a large module into parts, one thread per part:
//   - every function definition goes into one part: the largest first,
//     each into the part with the fewest instructions so far;
//   - a small internal function (a helper such as __layerc_arena_take) is
//     copied into every part that calls it, so that it is still inlined;
//     so is a small internal constant (OpenMP's location strings);
//   - any other function or global that more than one part uses becomes an
//     external symbol, defined in one part, declared in the others: hidden
//     in a library (internal to it, but seen by its other objects), and
//     renamed after the library (`__layerc_<name>_...`) so that two
//     libraries never clash.
// The module is serialized once; each thread parses its own copy in its
// own LLVMContext, deletes what other parts define, optimizes what is left
// and emits one object. Which part holds what depends on the module only,
// never on the number of threads, so the objects are the same on every
// machine.
//
//===----------------------------------------------------------------------===//

#include "codegen/Target.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Instruction.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

using namespace layerc;

namespace {

/// Parts are bitmasks: at most this many.
constexpr unsigned kMaxParts = 8;
/// About this many instructions (before optimization) per part; a module
/// of fewer than twice as many is compiled whole.
constexpr unsigned kInstructionsPerPart = 4000;
/// Internal functions up to this many instructions are copied into every
/// part that calls them.
constexpr unsigned kCopyFunctionsUpTo = 64;
/// Internal constants up to this many bytes are copied likewise.
constexpr uint64_t kCopyConstantsUpTo = 4096;

using PartMask = uint32_t;

/// Every global value whose definition or code refers to `value`, through
/// constant expressions and the initializers of other globals.
void collectUsers(const llvm::Value *value,
                  llvm::SmallVectorImpl<const llvm::GlobalValue *> &users) {
  for (const llvm::User *user : value->users()) {
    if (auto *inst = llvm::dyn_cast<llvm::Instruction>(user))
      users.push_back(inst->getFunction());
    else if (auto *global = llvm::dyn_cast<llvm::GlobalValue>(user))
      users.push_back(global);
    else if (llvm::isa<llvm::Constant>(user))
      collectUsers(user, users);
  }
}

/// Which part defines each global value of `module` (a bitmask: copies
/// are in several), with the shared ones made external.
class Partition {
public:
  Partition(llvm::Module &module, unsigned parts, llvm::StringRef prefix,
            bool hidden)
      : module(module), parts(parts) {
    placeFunctions();
    placeCopies();
    promoteShared(prefix, hidden);
  }

  /// The parts that define `name`, by name: the copies each thread parses
  /// are other modules.
  const llvm::StringMap<PartMask> &byName() const { return names; }

private:
  PartMask usersMask(const llvm::GlobalValue &value) const {
    llvm::SmallVector<const llvm::GlobalValue *> users;
    collectUsers(&value, users);
    PartMask mask = 0;
    for (const llvm::GlobalValue *user : users)
      mask |= where.lookup(user);
    return mask;
  }

  static bool isCopiedFunction(const llvm::Function &f) {
    return f.hasLocalLinkage() && f.getInstructionCount() <= kCopyFunctionsUpTo;
  }

  bool isCopiedVariable(const llvm::GlobalVariable &v) const {
    return v.hasLocalLinkage() && v.isConstant() &&
           module.getDataLayout().getTypeAllocSize(v.getValueType()) <=
               kCopyConstantsUpTo;
  }

  /// Every other function definition in one part: the largest first, each
  /// into the part with the fewest instructions so far.
  void placeFunctions() {
    llvm::SmallVector<llvm::Function *> functions;
    for (llvm::Function &f : module)
      if (!f.isDeclaration() && !isCopiedFunction(f))
        functions.push_back(&f);
    std::stable_sort(functions.begin(), functions.end(),
                     [](llvm::Function *a, llvm::Function *b) {
                       return a->getInstructionCount() >
                              b->getInstructionCount();
                     });
    llvm::SmallVector<uint64_t> load(parts, 0);
    for (llvm::Function *f : functions) {
      unsigned least =
          std::min_element(load.begin(), load.end()) - load.begin();
      load[least] += f->getInstructionCount();
      where[f] = PartMask(1) << least;
    }
  }

  /// Copied functions and variables where they are used; every other
  /// variable in the first part that uses it. Copies may use copies, so
  /// this runs to a fixed point.
  void placeCopies() {
    bool changed = true;
    while (changed) {
      changed = false;
      auto place = [&](llvm::GlobalValue &value, bool copied) {
        PartMask used = usersMask(value);
        PartMask mask = copied ? used : used & -used;
        if (mask != where.lookup(&value)) {
          where[&value] = mask;
          changed = true;
        }
      };
      for (llvm::Function &f : module)
        if (!f.isDeclaration() && isCopiedFunction(f))
          place(f, true);
      for (llvm::GlobalVariable &v : module.globals())
        if (!v.isDeclaration() && !v.hasAppendingLinkage())
          place(v, isCopiedVariable(v));
    }
    // Unused ones, and the appending arrays (llvm.used, global
    // constructors), in the first part.
    for (llvm::GlobalValue *value : definitions())
      if (!where.lookup(value))
        where[value] = 1;
  }

  llvm::SmallVector<llvm::GlobalValue *> definitions() {
    llvm::SmallVector<llvm::GlobalValue *> values;
    for (llvm::GlobalValue &value : module.global_values())
      if (!value.isDeclaration())
        values.push_back(&value);
    return values;
  }

  /// Makes external every local definition that a part other than its own
  /// uses (never a copy: those are wherever they are used).
  void promoteShared(llvm::StringRef prefix, bool hidden) {
    unsigned unnamed = 0;
    for (llvm::GlobalValue *value : definitions()) {
      PartMask mask = where.lookup(value);
      if (!value->hasName())
        value->setName("__layerc_unnamed." + llvm::Twine(unnamed++));
      if (value->hasLocalLinkage() && (usersMask(*value) & ~mask) != 0) {
        value->setName("__layerc_" + prefix + "_" + value->getName());
        value->setLinkage(llvm::GlobalValue::ExternalLinkage);
        value->setVisibility(hidden ? llvm::GlobalValue::HiddenVisibility
                                    : llvm::GlobalValue::DefaultVisibility);
        value->setDSOLocal(hidden);
      }
      names[value->getName()] = mask;
    }
  }

  llvm::Module &module;
  unsigned parts;
  llvm::DenseMap<const llvm::GlobalValue *, PartMask> where;
  llvm::StringMap<PartMask> names;
};

/// Keeps in `module` (a copy of the whole) only what part `part` defines:
/// the rest becomes declarations, and local definitions of other parts
/// (unused here) are erased.
llvm::Error keepPart(llvm::Module &module, unsigned part,
                     const llvm::StringMap<PartMask> &where) {
  PartMask bit = PartMask(1) << part;
  llvm::SmallVector<llvm::GlobalValue *> others;
  for (llvm::GlobalValue &value : module.global_values())
    if (!value.isDeclaration() && !(where.lookup(value.getName()) & bit))
      others.push_back(&value);
  llvm::SmallVector<llvm::GlobalValue *> local;
  for (llvm::GlobalValue *value : others) {
    if (value->hasLocalLinkage() || value->hasAppendingLinkage())
      local.push_back(value);
    if (auto *f = llvm::dyn_cast<llvm::Function>(value)) {
      f->deleteBody();
      f->setComdat(nullptr);
    } else if (auto *v = llvm::dyn_cast<llvm::GlobalVariable>(value)) {
      v->setInitializer(nullptr);
      v->setLinkage(llvm::GlobalValue::ExternalLinkage);
      v->setComdat(nullptr);
    } else {
      return llvm::createStringError("cannot split a module with alias " +
                                     value->getName().str());
    }
  }
  // Local values of other parts (and the appending arrays, which the first
  // part holds): only other parts' code used them. Erase them in reverse,
  // so that one used by another goes after its user.
  for (llvm::GlobalValue *value : llvm::reverse(local)) {
    value->removeDeadConstantUsers();
    if (!value->use_empty())
      return llvm::createStringError("part " + std::to_string(part) + " uses " +
                                     value->getName().str() +
                                     ", which another part holds");
    value->eraseFromParent();
  }
  return llvm::Error::success();
}

} // namespace

unsigned layerc::compileThreads() {
  if (const char *text = std::getenv("LAYERC_COMPILE_THREADS")) {
    int n = std::atoi(text);
    if (n >= 1)
      return std::min(n, 64);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

llvm::Expected<std::vector<std::string>>
layerc::emitObjects(llvm::Module &module, const TargetDescription &target,
                    bool forJit, unsigned optLevel, OutlineOptions outline,
                    llvm::StringRef symbolPrefix, unsigned threads) {
  if (optLevel > 0)
    outlineRegions(module, outline.above, outline.chunk);
  uint64_t instructions = 0;
  for (const llvm::Function &f : module)
    instructions += f.getInstructionCount();
  unsigned parts =
      std::clamp<uint64_t>(instructions / kInstructionsPerPart, 1, kMaxParts);
  if (parts == 1) {
    auto tm = createTargetMachine(target, forJit);
    if (!tm)
      return tm.takeError();
    optimizeModule(module, optLevel, tm->get());
    auto code = emitMachineCode(module, **tm, /*assembly=*/false);
    if (!code)
      return code.takeError();
    return std::vector<std::string>{std::move(*code)};
  }

  Partition partition(module, parts, symbolPrefix, /*hidden=*/!forJit);
  llvm::SmallVector<char, 0> bitcode;
  {
    llvm::raw_svector_ostream os(bitcode);
    llvm::WriteBitcodeToFile(module, os);
  }
  llvm::StringRef moduleName = module.getModuleIdentifier();
  std::vector<llvm::Expected<std::string>> objects;
  for (unsigned i = 0; i < parts; ++i)
    objects.emplace_back(std::string());
  std::atomic<unsigned> next{0};
  auto work = [&] {
    for (unsigned part = next++; part < parts; part = next++) {
      objects[part] = [&]() -> llvm::Expected<std::string> {
        llvm::LLVMContext context;
        auto copy = llvm::parseBitcodeFile(
            llvm::MemoryBufferRef(
                llvm::StringRef(bitcode.data(), bitcode.size()), moduleName),
            context);
        if (!copy)
          return copy.takeError();
        if (llvm::Error err = keepPart(**copy, part, partition.byName()))
          return std::move(err);
        auto tm = createTargetMachine(target, forJit);
        if (!tm)
          return tm.takeError();
        optimizeModule(**copy, optLevel, tm->get());
        return emitMachineCode(**copy, **tm, /*assembly=*/false);
      }();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < std::min(threads, parts); ++i)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  std::vector<std::string> result;
  for (auto &object : objects) {
    if (!object)
      return object.takeError();
    result.push_back(std::move(*object));
  }
  return result;
}
