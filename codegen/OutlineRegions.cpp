//===- OutlineRegions.cpp - Bound the size of the functions LLVM optimizes
//--===//
//
// See Target.h (outlineRegions).
//
// A model lowers to one LLVM function per entry point: one loop nest per
// layer (or fused group of layers), in sequence, with the allocations,
// frees and checks between them. Several of LLVM's passes (InstCombine,
// GVN, loop rotation) and its instruction selection and register
// allocation cost more than linearly in the size of the function they work
// on, so a chain of 1,000 Dense layers spent over two minutes in LLVM
// although each layer alone compiles in milliseconds.
//
// This splits a large function into consecutive regions of about
// `chunkInstructions` instructions each and moves every region into its
// own internal, never-inlined function, so that what LLVM optimizes at once
// is bounded and the compile time grows linearly with the number of layers.
//
// The regions are cut along the function's spine: the chain of dominators
// of its deepest block in the dominator tree. The code of a model is one
// long sequence (loop nests, allocations, checks), each step dominating
// the next, so that chain runs through all of it; the error returns and the
// shared return block hang off it. A cut block C, outside every loop,
// starts a region;
// the region is every block C dominates that the next cut block does not
// dominate. Every predecessor of such a block is dominated by C, and no
// loop crosses a cut (a loop reaching both sides would contain C), so the
// region has the single entry C that CodeExtractor needs. Blocks that
// return, and blocks reached from outside the region (the shared
// error-return blocks), stay in the caller; the outlined function returns
// which of its exits it took. Functions of ordinary size are left alone,
// and so are functions that save and restore the stack pointer.
//
//===----------------------------------------------------------------------===//

#include "codegen/Target.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/CFG.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/CodeExtractor.h"

using namespace layerc;

static size_t instructionCount(const llvm::Function &function) {
  size_t count = 0;
  for (const llvm::BasicBlock &block : function)
    count += block.size();
  return count;
}

/// Whether `function` saves and restores the stack pointer (an
/// alloca scope): a part holding one half of such a pair would restore a
/// pointer of another frame, so such functions are not split.
static bool movesStackPointer(const llvm::Function &function) {
  for (const llvm::BasicBlock &block : function)
    for (const llvm::Instruction &instruction : block)
      if (const auto *intrinsic =
              llvm::dyn_cast<llvm::IntrinsicInst>(&instruction))
        if (intrinsic->getIntrinsicID() == llvm::Intrinsic::stacksave ||
            intrinsic->getIntrinsicID() == llvm::Intrinsic::stackrestore)
          return true;
  return false;
}

/// The function's spine, from the entry down: the idom chain of the block
/// deepest in the dominator tree (in the last loop nest of the main path).
static llvm::SmallVector<llvm::BasicBlock *>
spine(llvm::Function &function, const llvm::DominatorTree &dominators) {
  llvm::DomTreeNode *deepest = nullptr;
  for (llvm::BasicBlock &block : function) {
    llvm::DomTreeNode *node = dominators.getNode(&block);
    if (node && (!deepest || node->getLevel() > deepest->getLevel()))
      deepest = node;
  }
  llvm::SmallVector<llvm::BasicBlock *> chain;
  for (llvm::DomTreeNode *node = deepest; node; node = node->getIDom())
    chain.push_back(node->getBlock());
  std::reverse(chain.begin(), chain.end());
  return chain;
}

/// The number of instructions in each block's dominator subtree.
static llvm::DenseMap<llvm::BasicBlock *, size_t>
subtreeSizes(const llvm::DominatorTree &dominators) {
  llvm::DenseMap<llvm::BasicBlock *, size_t> sizes;
  for (const llvm::DomTreeNode *node :
       llvm::post_order(dominators.getRootNode())) {
    size_t size = node->getBlock()->size();
    for (const llvm::DomTreeNode *child : node->children())
      size += sizes.lookup(child->getBlock());
    sizes[node->getBlock()] = size;
  }
  return sizes;
}

/// The blocks dominated by `start` and not by `next` (none when null), less
/// those that return or can be reached from outside; `start` first.
static llvm::SmallVector<llvm::BasicBlock *>
regionBlocks(llvm::BasicBlock *start, llvm::BasicBlock *next,
             const llvm::DominatorTree &dominators) {
  llvm::SetVector<llvm::BasicBlock *> region;
  llvm::SmallVector<llvm::DomTreeNode *> stack{dominators.getNode(start)};
  while (!stack.empty()) {
    llvm::DomTreeNode *node = stack.pop_back_val();
    if (next && node->getBlock() == next)
      continue;
    region.insert(node->getBlock());
    stack.append(node->begin(), node->end());
  }
  // Drop blocks that leave the function or are entered from outside the
  // region, until none is left (dropping one may expose its successors).
  bool changed = true;
  while (changed) {
    changed = false;
    for (llvm::BasicBlock *block : region.getArrayRef().drop_front()) {
      bool entered = llvm::any_of(llvm::predecessors(block),
                                  [&](llvm::BasicBlock *predecessor) {
                                    return !region.contains(predecessor);
                                  });
      if (entered || llvm::isa<llvm::ReturnInst>(block->getTerminator())) {
        region.remove(block);
        changed = true;
        break;
      }
    }
  }
  return region.takeVector();
}

static unsigned outlineFunction(llvm::Function &function,
                                size_t chunkInstructions) {
  llvm::SmallVector<llvm::BasicBlock *> starts;
  {
    llvm::DominatorTree dominators(function);
    llvm::LoopInfo loops(dominators);
    llvm::DenseMap<llvm::BasicBlock *, size_t> sizes = subtreeSizes(dominators);
    llvm::SmallVector<llvm::BasicBlock *> chain = spine(function, dominators);
    // Instructions since the last cut: the subtree of the last cut block
    // minus the subtree of the current one.
    size_t lastCut = sizes.lookup(&function.getEntryBlock());
    for (llvm::BasicBlock *block : llvm::drop_begin(chain)) {
      if (loops.getLoopFor(block) ||
          lastCut - sizes.lookup(block) < chunkInstructions)
        continue;
      starts.push_back(block);
      lastCut = sizes.lookup(block);
    }
  }
  // One analysis cache for every extraction (CodeExtractor keeps it valid);
  // building one per region would make outlining quadratic.
  llvm::CodeExtractorAnalysisCache cache(function);
  unsigned outlined = 0;
  // In program order: outlining a region replaces its blocks by one call
  // block and leaves the start of the next region in place (outlining from
  // the end would move the next start into the outlined function).
  for (size_t i = 0; i < starts.size(); ++i) {
    llvm::DominatorTree dominators(function);
    llvm::BasicBlock *next = i + 1 < starts.size() ? starts[i + 1] : nullptr;
    llvm::SmallVector<llvm::BasicBlock *> blocks =
        regionBlocks(starts[i], next, dominators);
    llvm::CodeExtractor extractor(blocks, &dominators,
                                  /*AggregateArgs=*/false, /*BFI=*/nullptr,
                                  /*BPI=*/nullptr, /*AC=*/nullptr,
                                  /*AllowVarArgs=*/false,
                                  /*AllowAlloca=*/false,
                                  /*AllocationBlock=*/nullptr, "part");
    if (!extractor.isEligible())
      continue;
    llvm::Function *part = extractor.extractCodeRegion(cache);
    if (!part)
      continue;
    // Inlining would rebuild the large function that this split.
    part->addFnAttr(llvm::Attribute::NoInline);
    part->setLinkage(llvm::GlobalValue::InternalLinkage);
    ++outlined;
  }
  return outlined;
}

/// Most rounds of splitting per function; each divides the size of what
/// stays behind by about the number of blocks per part.
static constexpr unsigned kMaxLevels = 4;

unsigned layerc::outlineRegions(llvm::Module &module, size_t maxInstructions,
                                size_t chunkInstructions) {
  llvm::SmallVector<llvm::Function *> large;
  for (llvm::Function &function : module)
    if (!function.isDeclaration() &&
        instructionCount(function) > maxInstructions &&
        !movesStackPointer(function))
      large.push_back(&function);
  unsigned outlined = 0;
  for (llvm::Function *function : large) {
    // What stays behind (the calls of the parts, and the arguments they
    // pass on) can still be large: split it again, into parts that call
    // parts, until it is small or no region can be cut.
    for (unsigned level = 0; level < kMaxLevels; ++level) {
      unsigned parts = outlineFunction(*function, chunkInstructions);
      outlined += parts;
      if (!parts || instructionCount(*function) <= maxInstructions)
        break;
    }
  }
  return outlined;
}
