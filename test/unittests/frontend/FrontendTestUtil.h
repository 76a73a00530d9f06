//===- FrontendTestUtil.h - Helpers of the frontend's tests -----*- C++ -*-===//

#ifndef LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTUTIL_H

#include "ErrorTestUtil.h"
#include "layerc/layerc.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <random>
#include <sstream>
#include <string>

namespace layerc::test {

/// The text Model::summary() prints.
inline std::string summaryOf(const Model &model) {
  std::ostringstream os;
  model.summary(os);
  return os.str();
}

/// A float32 tensor of `shape`, elements uniform in [-1, 1) from `seed`.
inline Tensor uniformTensor(std::vector<int64_t> shape, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = u(gen);
  return t;
}

/// Expects fit()'s last epoch loss below `factor` times its first.
inline void expectLossFalls(const History &h, double factor) {
  const std::vector<double> &loss = h.history.at("loss");
  EXPECT_LT(loss.back(), factor * loss.front());
}

/// Saves `model` to a temporary `file`, loads it back and expects the same
/// config and exactly the same predictions on `x`.
inline void expectSaveLoadRoundTrip(Model &model, const Tensor &x,
                                    const std::string &file) {
  std::string path = (std::filesystem::temp_directory_path() / file).string();
  model.save(path);
  Model again = loadModel(path);
  std::filesystem::remove(path);
  EXPECT_EQ(again.getConfig().dump(), model.getConfig().dump());
  Tensor want = model.predict(x), got = again.predict(x);
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_EQ(got.data<float>()[i], want.data<float>()[i]) << i;
}

} // namespace layerc::test

/// Expects `piece` in `text`, printing the whole text when it is missing.
#define EXPECT_CONTAINS(text, piece)                                           \
  EXPECT_NE((text).find(piece), std::string::npos)                             \
      << "missing \"" << (piece) << "\" in:\n"                                 \
      << (text)

#endif // LAYERC_TEST_UNITTESTS_FRONTEND_FRONTENDTESTUTIL_H
