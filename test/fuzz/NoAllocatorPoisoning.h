// Force-included into every translation unit of the .mlir fuzzer (see
// build_mlir_fuzzer.sh). The layer dialect and passes are built with ASan,
// but libMLIR is not, and both allocate from the same llvm::BumpPtrAllocator
// slabs (the context's attribute and type uniquers). The instrumented inline
// copy of BumpPtrAllocator poisons a whole new slab and unpoisons only what it
// hands out; the uninstrumented copy in libMLIR then hands out the rest of that
// slab without unpoisoning it, and ASan reports its first write (a StringAttr's
// characters) as a use-after-poison that is not a bug. Turning the allocator's
// poisoning off here keeps every other ASan check.
#ifndef LAYERC_TEST_FUZZ_NOALLOCATORPOISONING_H
#define LAYERC_TEST_FUZZ_NOALLOCATORPOISONING_H

#include <sanitizer/asan_interface.h>

#define __asan_poison_memory_region(p, size) ((void)(p), (void)(size))
#define __asan_unpoison_memory_region(p, size) ((void)(p), (void)(size))

#endif // LAYERC_TEST_FUZZ_NOALLOCATORPOISONING_H
