//===- OnnxOptimizerTest.cpp - Optimizer updates against ONNX's test data -===//
//
// ONNX's training operators come with reference data (Debian's
// libonnx-testdata: node/test_momentum, test_nesterov_momentum,
// test_adam). Their rules match Keras's once written in Keras's terms,
// which this test does explicitly:
//   - ONNX regularizes the gradient, g + norm_coefficient * x: that is the
//     gradient handed to our update op;
//   - ONNX's velocity v is Keras's -v / lr (Keras folds the learning rate
//     into the velocity); at T = 0 ONNX ignores beta, so standard momentum
//     is Keras's SGD(momentum = alpha, lr = R), and Nesterov likewise;
//   - at T = 0 ONNX's Adam skips the bias correction, which Keras's Adam
//     (always 1-based) reproduces at step 1 with
//     lr = R (1 - alpha) / sqrt(1 - beta).
// The attributes are read from each model.onnx, the tensors from the .pb
// files, with a minimal protobuf reader; the updates run JIT-compiled.
//
//===----------------------------------------------------------------------===//

#include "CompilerTestUtil.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace layerc;
using namespace layerc::test;

namespace {

#ifndef LAYERC_ONNX_TESTDATA
#define LAYERC_ONNX_TESTDATA "/usr/share/libonnx-testdata/data/node"
#endif

/// One protobuf field: number, wire type and payload.
struct Field {
  uint64_t number = 0;
  int wire = 0;
  uint64_t varint = 0;
  std::string bytes; // length-delimited, fixed32 and fixed64 payloads
};

bool readVarint(const std::string &b, size_t &i, uint64_t &out) {
  out = 0;
  for (int shift = 0; shift < 64 && i < b.size(); shift += 7) {
    uint8_t c = static_cast<uint8_t>(b[i++]);
    out |= uint64_t(c & 0x7f) << shift;
    if (c < 0x80)
      return true;
  }
  return false;
}

/// The fields of one message; empty on malformed input.
std::vector<Field> fieldsOf(const std::string &b) {
  std::vector<Field> out;
  size_t i = 0;
  while (i < b.size()) {
    uint64_t key;
    Field f;
    if (!readVarint(b, i, key))
      return {};
    f.number = key >> 3;
    f.wire = static_cast<int>(key & 7);
    size_t n = 0;
    if (f.wire == 0) {
      if (!readVarint(b, i, f.varint))
        return {};
    } else if (f.wire == 1 || f.wire == 5) {
      n = f.wire == 1 ? 8 : 4;
    } else if (f.wire == 2) {
      uint64_t len;
      if (!readVarint(b, i, len) || len > b.size() - i)
        return {};
      n = static_cast<size_t>(len);
    } else {
      return {};
    }
    if (n > b.size() - i)
      return {};
    f.bytes = b.substr(i, n);
    i += n;
    out.push_back(std::move(f));
  }
  return out;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A float32 or int64 TensorProto as doubles.
std::vector<double> tensorValues(const std::string &path) {
  std::vector<double> values;
  int64_t dtype = 0;
  std::string raw;
  for (const Field &f : fieldsOf(readFile(path))) {
    if (f.number == 2)
      dtype = static_cast<int64_t>(f.varint);
    else if (f.number == 9)
      raw = f.bytes;
    else if (f.number == 4 && f.wire == 2)
      for (size_t k = 0; k + 4 <= f.bytes.size(); k += 4) {
        float v;
        std::memcpy(&v, f.bytes.data() + k, 4);
        values.push_back(v);
      }
  }
  if (dtype == 1)
    for (size_t k = 0; k + 4 <= raw.size(); k += 4) {
      float v;
      std::memcpy(&v, raw.data() + k, 4);
      values.push_back(v);
    }
  else if (dtype == 7)
    for (size_t k = 0; k + 8 <= raw.size(); k += 8) {
      int64_t v;
      std::memcpy(&v, raw.data() + k, 8);
      values.push_back(static_cast<double>(v));
    }
  return values;
}

/// The float and string attributes of the model's (only) node:
/// ModelProto.graph(7).node(1).attribute(5) {name(1), f(2), s(4)}.
std::map<std::string, std::string>
attributes(const std::string &model, std::map<std::string, double> &f) {
  std::map<std::string, std::string> s;
  for (const Field &g : fieldsOf(readFile(model)))
    if (g.number == 7)
      for (const Field &n : fieldsOf(g.bytes))
        if (n.number == 1)
          for (const Field &a : fieldsOf(n.bytes))
            if (a.number == 5) {
              std::string name;
              for (const Field &x : fieldsOf(a.bytes)) {
                if (x.number == 1)
                  name = x.bytes;
                else if (x.number == 2 && x.bytes.size() == 4) {
                  float v;
                  std::memcpy(&v, x.bytes.data(), 4);
                  f[name] = v;
                } else if (x.number == 4)
                  s[name] = x.bytes;
              }
            }
  return s;
}

Tensor floats(const std::vector<double> &v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::fromFloats(f, {static_cast<int64_t>(f.size())});
}

void expectValues(const Tensor &t, const std::vector<double> &want,
                  const char *what) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size())) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(t.data<float>()[i], want[i], 2e-6 * (1 + std::fabs(want[i])))
        << what << "[" << i << "]";
}

/// x, g, v -> (x, v) through layer.sgd_update on float32 vectors of n.
std::string sgdProgram(size_t n, double lr, double momentum, bool nesterov) {
  std::ostringstream os;
  os.precision(17);
  std::string t = "tensor<" + std::to_string(n) + "xf32>";
  os << "func.func @step(%x: " << t << ", %g: " << t << ", %v: " << t
     << ") -> (" << t << ", " << t << ") {\n"
     << "  %x1, %v1 = layer.sgd_update %x, %g, %v {learning_rate = " << lr
     << " : f64, momentum = " << momentum << " : f64"
     << (nesterov ? ", nesterov" : "") << "} : (" << t << ", " << t << ", " << t
     << ") -> (" << t << ", " << t << ")\n"
     << "  return %x1, %v1 : " << t << ", " << t << "\n}\n";
  return os.str();
}

class OnnxOptimizerTest : public CompilerTest {
protected:
  /// The test's directory; skips the test when the data is not installed.
  std::string caseDir(const std::string &name) {
    std::string dir = std::string(LAYERC_ONNX_TESTDATA) + "/" + name;
    if (!std::filesystem::exists(dir + "/model.onnx"))
      return "";
    return dir;
  }
  std::vector<double> input(const std::string &dir, int i) {
    return tensorValues(dir + "/test_data_set_0/input_" + std::to_string(i) +
                        ".pb");
  }
  std::vector<double> output(const std::string &dir, int i) {
    return tensorValues(dir + "/test_data_set_0/output_" + std::to_string(i) +
                        ".pb");
  }
  void momentumCase(const std::string &dir, bool nesterov) {
    std::map<std::string, double> f;
    std::map<std::string, std::string> s = attributes(dir + "/model.onnx", f);
    ASSERT_EQ(s["mode"], nesterov ? "nesterov" : "standard");
    double r = input(dir, 0).at(0), t = input(dir, 1).at(0);
    ASSERT_EQ(t, 0.0) << "the mapping below holds at T = 0";
    std::vector<double> x = input(dir, 2), g = input(dir, 3), v = input(dir, 4);
    std::vector<double> gReg(x.size()), vKeras(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      gReg[i] = g[i] + f.at("norm_coefficient") * x[i];
      vKeras[i] = -r * v[i];
    }
    auto jit = build(sgdProgram(x.size(), r, f.at("alpha"), nesterov));
    ASSERT_TRUE(jit);
    std::vector<Tensor> out =
        call(lookup(*jit, "step"), {floats(x), floats(gReg), floats(vKeras)});
    expectValues(out[0], output(dir, 0), "X_new");
    std::vector<double> vNew = output(dir, 1);
    for (double &value : vNew)
      value *= -r;
    expectValues(out[1], vNew, "V_new (as Keras's -lr v)");
  }
};

TEST_F(OnnxOptimizerTest, Momentum) {
  std::string dir = caseDir("test_momentum");
  if (dir.empty())
    GTEST_SKIP() << "libonnx-testdata is not installed";
  momentumCase(dir, /*nesterov=*/false);
}

TEST_F(OnnxOptimizerTest, NesterovMomentum) {
  std::string dir = caseDir("test_nesterov_momentum");
  if (dir.empty())
    GTEST_SKIP() << "libonnx-testdata is not installed";
  momentumCase(dir, /*nesterov=*/true);
}

TEST_F(OnnxOptimizerTest, Adam) {
  std::string dir = caseDir("test_adam");
  if (dir.empty())
    GTEST_SKIP() << "libonnx-testdata is not installed";
  std::map<std::string, double> f;
  attributes(dir + "/model.onnx", f);
  double r = input(dir, 0).at(0), t = input(dir, 1).at(0);
  ASSERT_EQ(t, 0.0) << "the mapping below holds at T = 0";
  double b1 = f.at("alpha"), b2 = f.at("beta"), eps = f.at("epsilon");
  std::vector<double> x = input(dir, 2), g = input(dir, 3), m = input(dir, 4),
                      v = input(dir, 5);
  for (size_t i = 0; i < x.size(); ++i)
    g[i] += f.at("norm_coefficient") * x[i];
  // Keras at step 1: alpha = lr sqrt(1 - b2) / (1 - b1) = R.
  double lr = r * (1 - b1) / std::sqrt(1 - b2);
  std::ostringstream ir;
  ir.precision(17);
  std::string ty = "tensor<" + std::to_string(x.size()) + "xf32>";
  ir << "func.func @step(%x: " << ty << ", %g: " << ty << ", %m: " << ty
     << ", %v: " << ty << ", %t: tensor<f32>) -> (" << ty << ", " << ty << ", "
     << ty << ") {\n"
     << "  %x1, %m1, %v1 = layer.adam_update %x, %g, %m, %v, %t "
     << "{learning_rate = " << lr << " : f64, beta_1 = " << b1
     << " : f64, beta_2 = " << b2 << " : f64, epsilon = " << eps
     << " : f64} : (" << ty << ", " << ty << ", " << ty << ", " << ty
     << ", tensor<f32>) -> (" << ty << ", " << ty << ", " << ty << ")\n"
     << "  return %x1, %m1, %v1 : " << ty << ", " << ty << ", " << ty
     << "\n}\n";
  auto jit = build(ir.str());
  ASSERT_TRUE(jit);
  std::vector<Tensor> out =
      call(lookup(*jit, "step"), {floats(x), floats(g), floats(m), floats(v),
                                  Tensor::fromFloats({1.0f}, {})});
  expectValues(out[0], output(dir, 0), "X_new");
  expectValues(out[1], output(dir, 1), "V_new (first moment)");
  expectValues(out[2], output(dir, 2), "H_new (second moment)");
}

} // namespace
