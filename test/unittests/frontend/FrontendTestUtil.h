//===- FrontendTestUtil.h - Helpers of the frontend's tests -----*- C++ -*-===//

#ifndef LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTUTIL_H

#include "ErrorTestUtil.h"
#include "layerc/layerc.h"

#include <sstream>
#include <string>

namespace layerc::test {

/// The text Model::summary() prints.
inline std::string summaryOf(const Model &model) {
  std::ostringstream os;
  model.summary(os);
  return os.str();
}

} // namespace layerc::test

/// Expects `piece` in `text`, printing the whole text when it is missing.
#define EXPECT_CONTAINS(text, piece)                                           \
  EXPECT_NE((text).find(piece), std::string::npos)                             \
      << "missing \"" << (piece) << "\" in:\n"                                 \
      << (text)

#endif // LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTUTIL_H
