//===- RandomGraphBuilder.h - Random graphs through the frontend ----------===//
//
// Builds the layerc Model of a random graph with the frontend API, one
// layer object per node (shared where a node calls a layer again). Part
// of RandomGraph.h.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHBUILDER_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHBUILDER_H

#include "RandomGraphShapes.h"

#include "layerc/layerc.h"

#include <memory>
#include <vector>

namespace layerc::randomgraph {

struct BuiltGraph {
  std::unique_ptr<Model> model;
  /// The layer of each node (null for inputs).
  std::vector<std::shared_ptr<Layer>> layers;
};

inline RecurrentOptions recurrentOptions(const GraphNode &n) {
  RecurrentOptions o;
  o.activation = n.activation;
  o.recurrent_activation = n.recurrentActivation;
  o.use_bias = n.useBias;
  o.return_sequences = n.returnSequences;
  o.return_state = n.returnState;
  o.go_backwards = n.goBackwards;
  o.reset_after = n.resetAfter;
  return o;
}

/// Builds the Model; throws layerc::Error when the frontend refuses it.
inline BuiltGraph buildModel(const RandomGraph &g) {
  BuiltGraph built;
  std::vector<std::vector<SymbolicTensor>> values(g.nodes.size());
  auto ref = [&](Ref r) { return values.at(r.node).at(r.out); };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode &n = g.nodes[i];
    std::vector<SymbolicTensor> ins;
    for (const Ref &r : n.inputs)
      ins.push_back(ref(r));
    std::shared_ptr<Layer> layer;
    auto apply = [&](auto handle) {
      layer = handle.get();
      return layer->apply(ins);
    };
    std::vector<SymbolicTensor> out;
    if (n.shareWith >= 0) {
      layer = built.layers.at(size_t(n.shareWith));
      built.layers.push_back(layer);
      values[i] = layer->apply(ins);
      continue;
    }
    auto ints = [](const std::vector<int64_t> &v) { return IntTuple(v); };
    switch (n.op) {
    case Op::Input:
      out = {Input(n.shapes[0],
                   {.dtype = n.intInput ? DType::Int32 : DType::Float32})};
      break;
    case Op::Dense:
      out = apply(layers::Dense(
          n.units, {.activation = n.activation, .use_bias = n.useBias}));
      break;
    case Op::Activation:
      out = apply(layers::Activation(n.activation));
      break;
    case Op::Dropout:
      out = apply(layers::Dropout(n.rate));
      break;
    case Op::Reshape:
      out = apply(layers::Reshape(n.target));
      break;
    case Op::Flatten:
      out = apply(layers::Flatten());
      break;
    case Op::Embedding:
      out = apply(layers::Embedding(n.inputDim, n.units));
      break;
    case Op::BatchNormalization:
      out = apply(layers::BatchNormalization(
          {.epsilon = n.epsilon, .center = n.center, .scale = n.scale}));
      break;
    case Op::Conv: {
      ConvOptions o{.strides = ints(n.strides),
                    .padding = n.padding,
                    .dilation_rate = ints(n.dilation),
                    .groups = n.groups,
                    .activation = n.activation,
                    .use_bias = n.useBias};
      if (n.rank == 1)
        out = apply(layers::Conv1D(n.units, ints(n.kernel), o));
      else if (n.rank == 2)
        out = apply(layers::Conv2D(n.units, ints(n.kernel), o));
      else
        out = apply(layers::Conv3D(n.units, ints(n.kernel), o));
      break;
    }
    case Op::ConvTranspose: {
      ConvTransposeOptions o{.strides = ints(n.strides),
                             .padding = n.padding,
                             .output_padding = std::nullopt,
                             .dilation_rate = ints(n.dilation),
                             .activation = n.activation,
                             .use_bias = n.useBias};
      if (!n.outputPadding.empty())
        o.output_padding = ints(n.outputPadding);
      if (n.rank == 1)
        out = apply(layers::Conv1DTranspose(n.units, ints(n.kernel), o));
      else if (n.rank == 2)
        out = apply(layers::Conv2DTranspose(n.units, ints(n.kernel), o));
      else
        out = apply(layers::Conv3DTranspose(n.units, ints(n.kernel), o));
      break;
    }
    case Op::MaxPool:
    case Op::AveragePool: {
      PoolingOptions o{.strides = std::nullopt, .padding = n.padding};
      if (n.explicitStrides)
        o.strides = ints(n.strides);
      bool max = n.op == Op::MaxPool;
      if (n.rank == 1)
        out = max ? apply(layers::MaxPooling1D(ints(n.kernel), o))
                  : apply(layers::AveragePooling1D(ints(n.kernel), o));
      else if (n.rank == 2)
        out = max ? apply(layers::MaxPooling2D(ints(n.kernel), o))
                  : apply(layers::AveragePooling2D(ints(n.kernel), o));
      else
        out = max ? apply(layers::MaxPooling3D(ints(n.kernel), o))
                  : apply(layers::AveragePooling3D(ints(n.kernel), o));
      break;
    }
    case Op::GlobalMaxPool:
    case Op::GlobalAveragePool: {
      GlobalPoolingOptions o{.keepdims = n.keepdims};
      bool max = n.op == Op::GlobalMaxPool;
      if (n.rank == 1)
        out = max ? apply(layers::GlobalMaxPooling1D(o))
                  : apply(layers::GlobalAveragePooling1D(o));
      else if (n.rank == 2)
        out = max ? apply(layers::GlobalMaxPooling2D(o))
                  : apply(layers::GlobalAveragePooling2D(o));
      else
        out = max ? apply(layers::GlobalMaxPooling3D(o))
                  : apply(layers::GlobalAveragePooling3D(o));
      break;
    }
    case Op::UpSampling: {
      UpSamplingOptions o{.interpolation = n.interpolation};
      if (n.rank == 1)
        out = apply(layers::UpSampling1D(ints(n.size), o));
      else if (n.rank == 2)
        out = apply(layers::UpSampling2D(ints(n.size), o));
      else
        out = apply(layers::UpSampling3D(ints(n.size), o));
      break;
    }
    case Op::Add:
      out = {layers::add(ins)};
      break;
    case Op::Subtract:
      out = {layers::subtract(ins)};
      break;
    case Op::Multiply:
      out = {layers::multiply(ins)};
      break;
    case Op::Average:
      out = {layers::average(ins)};
      break;
    case Op::Maximum:
      out = {layers::maximum(ins)};
      break;
    case Op::Concatenate:
      out = {layers::concatenate(ins, n.axis)};
      break;
    case Op::SimpleRNN:
      out = apply(layers::SimpleRNN(n.units, recurrentOptions(n)));
      break;
    case Op::LSTM:
      out = apply(layers::LSTM(n.units, recurrentOptions(n)));
      break;
    case Op::GRU:
      out = apply(layers::GRU(n.units, recurrentOptions(n)));
      break;
    case Op::ConvLSTM: {
      ConvLSTMOptions o{.strides = ints(n.strides),
                        .padding = n.padding,
                        .dilation_rate = ints(n.dilation),
                        .activation = n.activation,
                        .recurrent_activation = n.recurrentActivation,
                        .use_bias = n.useBias,
                        .return_sequences = n.returnSequences,
                        .return_state = n.returnState,
                        .go_backwards = n.goBackwards};
      if (n.rank == 1)
        out = apply(layers::ConvLSTM1D(n.units, ints(n.kernel), o));
      else
        out = apply(layers::ConvLSTM2D(n.units, ints(n.kernel), o));
      break;
    }
    }
    if (!layer && n.op != Op::Input)
      layer = out.at(0).node()->layer;
    built.layers.push_back(layer);
    values[i] = out;
  }
  std::vector<SymbolicTensor> ins, outs;
  for (int i : g.inputs)
    ins.push_back(values[size_t(i)][0]);
  for (const Ref &r : g.outputs)
    outs.push_back(ref(r));
  built.model = std::make_unique<Model>(ins, outs);
  return built;
}

} // namespace layerc::randomgraph

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPHBUILDER_H
