//===- RandomGraphPrinter.h - Random graphs as C++ API code ---------------===//
//
// Prints a random graph as the C++ code that rebuilds it with the
// frontend API, so a failing seed becomes a reproducer one can paste.
// Part of RandomGraph.h.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHPRINTER_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHPRINTER_H

#include "RandomGraphShapes.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace layerc::randomgraph {

inline std::string cppList(const std::vector<int64_t> &v) {
  std::ostringstream os;
  os << "{";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << "}";
  return os.str();
}

/// An IntTuple argument: an integer when every axis has the same value.
inline std::string cppTuple(const std::vector<int64_t> &v,
                            bool braced = false) {
  bool uniform =
      std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; });
  if (uniform && !braced)
    return std::to_string(v[0]);
  return (braced ? "IntTuple" : "") + cppList(uniform ? std::vector{v[0]} : v);
}

inline std::string refName(const RandomGraph &g, Ref ref) {
  std::string name = "x" + std::to_string(ref.node);
  if (g.nodes[ref.node].returnState)
    name += "[" + std::to_string(ref.out) + "]";
  return name;
}

/// Designated initializers, in declaration order, skipping defaults.
class OptionList {
public:
  void add(const std::string &field, const std::string &value) {
    items_.push_back("." + field + " = " + value);
  }
  std::string str() const {
    if (items_.empty())
      return "";
    std::string s = "{";
    for (size_t i = 0; i < items_.size(); ++i)
      s += (i ? ", " : "") + items_[i];
    return s + "}";
  }
  bool empty() const { return items_.empty(); }

private:
  std::vector<std::string> items_;
};

inline std::string quoted(const std::string &s) { return "\"" + s + "\""; }

/// The shortest text that reads back as `v` ("0.1", "1e-3" as "0.001").
inline std::string formatDouble(double v) {
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

inline bool anyNot(const std::vector<int64_t> &v, int64_t value) {
  return std::any_of(v.begin(), v.end(), [&](int64_t x) { return x != value; });
}

/// The expression that constructs node `n`'s layer (a handle), e.g.
/// `layers::Conv2D(4, 3, {.padding = "same"})`; empty for inputs and the
/// merge functions.
inline std::string cppLayer(const GraphNode &n) {
  std::string suffix = n.rank ? std::to_string(n.rank) + "D" : "";
  OptionList o;
  auto ctor = [&](const std::string &name, const std::string &args = "") {
    std::string a = args;
    if (!o.empty())
      a += (a.empty() ? "" : ", ") + o.str();
    return "layers::" + name + "(" + a + ")";
  };
  switch (n.op) {
  case Op::Input:
  case Op::Add:
  case Op::Subtract:
  case Op::Multiply:
  case Op::Average:
  case Op::Maximum:
  case Op::Concatenate:
    return "";
  case Op::Dense:
    if (n.activation != "linear")
      o.add("activation", quoted(n.activation));
    if (!n.useBias)
      o.add("use_bias", "false");
    return ctor("Dense", std::to_string(n.units));
  case Op::Activation:
    return ctor("Activation", quoted(n.activation));
  case Op::Dropout:
    return ctor("Dropout", formatDouble(n.rate));
  case Op::Reshape:
    return ctor("Reshape", cppList(n.target));
  case Op::Flatten:
    return ctor("Flatten");
  case Op::Embedding:
    return ctor("Embedding",
                std::to_string(n.inputDim) + ", " + std::to_string(n.units));
  case Op::BatchNormalization:
    if (n.epsilon != 1e-3)
      o.add("epsilon", formatDouble(n.epsilon));
    if (!n.center)
      o.add("center", "false");
    if (!n.scale)
      o.add("scale", "false");
    return ctor("BatchNormalization");
  case Op::Conv:
  case Op::ConvTranspose: {
    bool t = n.op == Op::ConvTranspose;
    if (anyNot(n.strides, 1))
      o.add("strides", cppTuple(n.strides));
    if (n.padding != "valid")
      o.add("padding", quoted(n.padding));
    if (t && !n.outputPadding.empty())
      o.add("output_padding", cppTuple(n.outputPadding, /*braced=*/true));
    if (anyNot(n.dilation, 1))
      o.add("dilation_rate", cppTuple(n.dilation));
    if (!t && n.groups != 1)
      o.add("groups", std::to_string(n.groups));
    if (n.activation != "linear")
      o.add("activation", quoted(n.activation));
    if (!n.useBias)
      o.add("use_bias", "false");
    return ctor("Conv" + suffix + (t ? "Transpose" : ""),
                std::to_string(n.units) + ", " + cppTuple(n.kernel));
  }
  case Op::MaxPool:
  case Op::AveragePool:
    if (n.explicitStrides)
      o.add("strides", cppTuple(n.strides, /*braced=*/true));
    if (n.padding != "valid")
      o.add("padding", quoted(n.padding));
    return ctor(std::string(opName(n.op)) + suffix, cppTuple(n.kernel));
  case Op::GlobalMaxPool:
  case Op::GlobalAveragePool:
    if (n.keepdims)
      o.add("keepdims", "true");
    return ctor(std::string(opName(n.op)) + suffix);
  case Op::UpSampling:
    if (n.interpolation != "nearest")
      o.add("interpolation", quoted(n.interpolation));
    return ctor("UpSampling" + suffix, cppTuple(n.size));
  case Op::SimpleRNN:
  case Op::LSTM:
  case Op::GRU:
    if (n.activation != "tanh")
      o.add("activation", quoted(n.activation));
    if (n.op != Op::SimpleRNN && n.recurrentActivation != "sigmoid")
      o.add("recurrent_activation", quoted(n.recurrentActivation));
    if (!n.useBias)
      o.add("use_bias", "false");
    if (n.returnSequences)
      o.add("return_sequences", "true");
    if (n.returnState)
      o.add("return_state", "true");
    if (n.goBackwards)
      o.add("go_backwards", "true");
    if (n.op == Op::GRU && !n.resetAfter)
      o.add("reset_after", "false");
    return ctor(opName(n.op), std::to_string(n.units));
  case Op::ConvLSTM:
    if (anyNot(n.strides, 1))
      o.add("strides", cppTuple(n.strides));
    if (n.padding != "valid")
      o.add("padding", quoted(n.padding));
    if (anyNot(n.dilation, 1))
      o.add("dilation_rate", cppTuple(n.dilation));
    if (n.activation != "tanh")
      o.add("activation", quoted(n.activation));
    if (n.recurrentActivation != "hard_sigmoid")
      o.add("recurrent_activation", quoted(n.recurrentActivation));
    if (!n.useBias)
      o.add("use_bias", "false");
    if (n.returnSequences)
      o.add("return_sequences", "true");
    if (n.returnState)
      o.add("return_state", "true");
    if (n.goBackwards)
      o.add("go_backwards", "true");
    return ctor("ConvLSTM" + suffix,
                std::to_string(n.units) + ", " + cppTuple(n.kernel));
  }
  return "/* ? */";
}

/// The statements that build node `i`: a layer called once is constructed
/// and called in one expression; a layer that later nodes call again is
/// first named `l<i>`.
inline std::string cppStatement(const RandomGraph &g, int i) {
  const GraphNode &n = g.nodes[size_t(i)];
  std::string lhs = "auto x" + std::to_string(i) + " = ";
  std::string list;
  for (size_t k = 0; k < n.inputs.size(); ++k)
    list += (k ? ", " : "") + refName(g, n.inputs[k]);
  switch (n.op) {
  case Op::Input: {
    OptionList o;
    if (n.intInput)
      o.add("dtype", "DType::Int32");
    return lhs + "Input(" + cppList(n.shapes[0]) +
           (o.empty() ? "" : ", " + o.str()) + ");";
  }
  case Op::Add:
  case Op::Subtract:
  case Op::Multiply:
  case Op::Average:
  case Op::Maximum:
    return lhs + "layers::" + opName(n.op) + "({" + list + "});";
  case Op::Concatenate:
    return lhs + "layers::concatenate({" + list + "}" +
           (n.axis != -1 ? ", " + std::to_string(n.axis) : "") + ");";
  default:
    break;
  }
  bool sharedLater =
      std::any_of(g.nodes.begin(), g.nodes.end(),
                  [&](const GraphNode &m) { return m.shareWith == i; });
  std::string prefix, callee = cppLayer(n);
  if (n.shareWith >= 0) {
    callee = "l" + std::to_string(n.shareWith);
  } else if (sharedLater) {
    prefix = "auto l" + std::to_string(i) + " = " + callee + ";\n";
    callee = "l" + std::to_string(i);
  }
  return prefix + lhs + callee + (n.returnState ? ".call(" : "(") + list + ");";
}

/// The graph as a C++ program (the body of a function) that rebuilds it
/// with the frontend API.
inline std::string toCpp(const RandomGraph &g) {
  std::ostringstream os;
  for (int i = 0; i < int(g.nodes.size()); ++i)
    os << cppStatement(g, i) << "\n";
  os << "Model model({";
  for (size_t k = 0; k < g.inputs.size(); ++k)
    os << (k ? ", " : "") << "x" << g.inputs[k];
  os << "}, {";
  for (size_t k = 0; k < g.outputs.size(); ++k)
    os << (k ? ", " : "") << refName(g, g.outputs[k]);
  os << "});\n";
  return os.str();
}

} // namespace layerc::randomgraph

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHPRINTER_H
