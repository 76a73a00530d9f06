//===- GradientBucketsTest.cpp - The overlapped all-reduce's buckets ------===//
//
// GradientBuckets against a Communicator that records each all-reduce it
// is asked to start (where, how long, and the data at that moment): how
// the gradients are cut into buckets, that buckets start in order once
// complete, that the copies are scaled as the non-overlapped path scales,
// and what finish() does for unannounced gradients and empty shards.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/GradientReady.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace layerc;
using namespace layerc::detail;

namespace {

struct Started {
  size_t begin, count;
  std::vector<float> data;
};

class RecordingCommunicator final : public Communicator {
public:
  explicit RecordingCommunicator(const float *base) : base(base) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void allreduceSum(float *, size_t) override {}
  void allreduceSum(double *, size_t) override {}
  void iallreduceSum(float *data, size_t count) override {
    started.push_back(
        {size_t(data - base), count, std::vector<float>(data, data + count)});
  }
  void progress() override { ++progressCalls; }
  void broadcast(void *, size_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string &message) override {
    throw Error(message);
  }
  std::string describe() const override { return "test rank"; }

  const float *base;
  std::vector<Started> started;
  int progressCalls = 0;
};

// Gradients of 100, 50, 200 and 10 floats in buckets of 256 floats: from
// the end, {3, 2} (210 floats) and {1, 0} (150 floats).
const std::vector<int64_t> kCounts = {100, 50, 200, 10};
constexpr size_t kBucketBytes = 256 * sizeof(float);

std::vector<float> values(int64_t count, float first) {
  std::vector<float> v(static_cast<size_t>(count), 0.0f);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = first + 0.37f * float(i);
  return v;
}

TEST(GradientBucketsTest, BucketsStartInBackwardOrderOnceComplete) {
  std::vector<float> fused(360, 0.0f);
  RecordingCommunicator comm(fused.data());
  GradientBuckets buckets(comm, kCounts, kBucketBytes);
  ASSERT_EQ(buckets.size(), 2u);
  const float scale = 0.3f;
  buckets.begin(fused.data(), scale);
  std::vector<std::vector<float>> grads;
  for (size_t i = 0; i < kCounts.size(); ++i)
    grads.push_back(values(kCounts[i], float(i) + 0.5f));

  buckets.gradientReady(3, grads[3].data(), 10);
  EXPECT_TRUE(comm.started.empty());
  buckets.gradientReady(2, grads[2].data(), 200);
  ASSERT_EQ(comm.started.size(), 1u);
  EXPECT_EQ(comm.started[0].begin, 150u);
  EXPECT_EQ(comm.started[0].count, 210u);
  // The same float products as the non-overlapped path's packing.
  for (size_t k = 0; k < 200; ++k)
    EXPECT_EQ(comm.started[0].data[k], grads[2][k] * scale);
  buckets.gradientReady(1, grads[1].data(), 50);
  EXPECT_EQ(comm.started.size(), 1u);
  buckets.gradientReady(0, grads[0].data(), 100);
  ASSERT_EQ(comm.started.size(), 2u);
  EXPECT_EQ(comm.started[1].begin, 0u);
  EXPECT_EQ(comm.started[1].count, 150u);
  // Every call lets the started all-reduces advance.
  EXPECT_EQ(comm.progressCalls, 4);
  EXPECT_EQ(buckets.finish(nullptr), 2);
  EXPECT_EQ(comm.started.size(), 2u);
}

TEST(GradientBucketsTest, AnEarlyBucketWaitsForTheOnesBefore) {
  std::vector<float> fused(360, 0.0f);
  RecordingCommunicator comm(fused.data());
  GradientBuckets buckets(comm, kCounts, kBucketBytes);
  buckets.begin(fused.data(), 1.0f);
  std::vector<float> g0 = values(100, 1), g1 = values(50, 2),
                     g2 = values(200, 3), g3 = values(10, 4);
  // The first layers' bucket is complete first: it still starts second,
  // as on every other rank.
  buckets.gradientReady(1, g1.data(), 50);
  buckets.gradientReady(0, g0.data(), 100);
  buckets.gradientReady(2, g2.data(), 200);
  EXPECT_TRUE(comm.started.empty());
  buckets.gradientReady(3, g3.data(), 10);
  ASSERT_EQ(comm.started.size(), 2u);
  EXPECT_EQ(comm.started[0].begin, 150u);
  EXPECT_EQ(comm.started[1].begin, 0u);
}

TEST(GradientBucketsTest, FinishCopiesWhatWasNotAnnounced) {
  std::vector<float> fused(360, 0.0f);
  RecordingCommunicator comm(fused.data());
  GradientBuckets buckets(comm, kCounts, kBucketBytes);
  buckets.begin(fused.data(), 0.5f);
  std::vector<Tensor> results;
  for (size_t i = 0; i < kCounts.size(); ++i) {
    results.emplace_back(std::vector<int64_t>{kCounts[i]});
    std::vector<float> v = values(kCounts[i], float(i));
    std::memcpy(results.back().rawData(), v.data(), v.size() * sizeof(float));
  }
  buckets.gradientReady(3, results[3].data<float>(), 10);
  buckets.gradientReady(2, results[2].data<float>(), 200);
  EXPECT_EQ(buckets.finish(&results), 1);
  ASSERT_EQ(comm.started.size(), 2u);
  for (size_t k = 0; k < 100; ++k)
    EXPECT_EQ(comm.started[1].data[k], results[0].data<float>()[k] * 0.5f);

  // The next step starts afresh; a rank without rows sends zeros.
  comm.started.clear();
  std::fill(fused.begin(), fused.end(), 0.0f);
  buckets.begin(fused.data(), 0.0f);
  EXPECT_EQ(buckets.finish(nullptr), 0);
  ASSERT_EQ(comm.started.size(), 2u);
  for (const Started &s : comm.started)
    for (float v : s.data)
      EXPECT_EQ(v, 0.0f);
}

TEST(GradientBucketsTest, AWrongAnnouncementStopsTheJob) {
  std::vector<float> fused(360, 0.0f);
  RecordingCommunicator comm(fused.data());
  GradientBuckets buckets(comm, kCounts, kBucketBytes);
  buckets.begin(fused.data(), 1.0f);
  std::vector<float> g = values(200, 0);
  buckets.gradientReady(2, g.data(), 199);
  try {
    buckets.finish(nullptr);
    FAIL() << "finish() accepted a gradient of the wrong size";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "grad_step announced gradient 2 of 199 elements"),
              std::string::npos)
        << e.what();
  }
}

TEST(GradientBucketsTest, TheCallbackReachesOnlyThisThreadsSink) {
  std::vector<float> fused(360, 0.0f);
  RecordingCommunicator comm(fused.data());
  GradientBuckets buckets(comm, {4}, kBucketBytes);
  buckets.begin(fused.data(), 2.0f);
  float g[4] = {1, 2, 3, 4};
  layerc_gradient_ready(0, g, 4); // no sink: ignored
  EXPECT_TRUE(comm.started.empty());
  {
    ScopedGradientSink sink(&buckets);
    layerc_gradient_ready(0, g, 4);
  }
  ASSERT_EQ(comm.started.size(), 1u);
  EXPECT_EQ(comm.started[0].data, (std::vector<float>{2, 4, 6, 8}));
  layerc_gradient_ready(0, g, 4); // the sink is gone again
  EXPECT_EQ(comm.started.size(), 1u);
}

} // namespace
