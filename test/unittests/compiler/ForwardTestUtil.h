//===- ForwardTestUtil.h - Fixture of the forward tests ---------*- C++ -*-===//
//
// Shared by ForwardTest.cpp and ForwardLossTest.cpp: the tolerances against
// the float64 references and the ForwardTest fixture (a seeded generator).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_FORWARDTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_COMPILER_FORWARDTESTUTIL_H

#include "CompilerTestUtil.h"

#include <random>

namespace layerc::test {

constexpr double kRtol = 1e-10;
constexpr double kAtol = 1e-12;

class ForwardTest : public CompilerTest {
protected:
  std::mt19937 rng{20240611u};
};

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_COMPILER_FORWARDTESTUTIL_H
