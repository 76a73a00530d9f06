//===- FuzzReport.h - What a fuzz target tried, printed at exit -*- C++ -*-===//
//
// Each target counts its inputs and those refused with a clean error (a
// diagnostic or layerc::Error); the line it prints when libFuzzer exits
// fills the fuzzing report's "inputs tried | clean errors" columns.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_FUZZ_FUZZREPORT_H
#define LAYERC_TEST_FUZZ_FUZZREPORT_H

#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace layerc::fuzz {

struct Report {
  size_t inputs = 0, refused = 0;
};

/// The process's report; the first call registers the exit handler.
inline Report &report() {
  static Report *r = [] {
    std::atexit([] {
      std::fprintf(stderr, "layerc-fuzz: %zu inputs, %zu clean errors\n",
                   report().inputs, report().refused);
    });
    return new Report();
  }();
  return *r;
}

} // namespace layerc::fuzz

#endif // LAYERC_TEST_FUZZ_FUZZREPORT_H
