//===- ErrorTestUtil.h - Checking layerc::Error messages --------*- C++ -*-===//
//
// Shared by every GoogleTest suite: user-facing errors are layerc::Error
// exceptions whose messages the tests inspect.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_ERRORTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_ERRORTESTUTIL_H

#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <string>

namespace layerc::test {

/// Runs `f` and returns the message of the layerc::Error it throws; records
/// a test failure when it throws nothing.
template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a layerc::Error";
  return "";
}

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_ERRORTESTUTIL_H
