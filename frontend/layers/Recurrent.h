//===- Recurrent.h - SimpleRNN, LSTM and GRU ---------------------*- C++
//-*-===//
//
// Keras's recurrent layers over (batch, timesteps, features) inputs, with
// Keras's weights (kernel, recurrent_kernel, bias) in Keras's layouts and
// gate orders (LSTM i, f, c, o; GRU z, r, h with a (2, 3 units) bias when
// reset_after), defaults and outputs: the last output or the whole sequence
// (return_sequences), followed by the final states (return_state).
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_LAYERS_RECURRENT_H
#define LAYERC_FRONTEND_LAYERS_RECURRENT_H

#include "frontend/Layer.h"
#include "frontend/layers/Convolution.h"

namespace layerc {

struct RecurrentOptions {
  std::string activation = "tanh";
  /// LSTM and GRU only.
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  /// GRU only (Keras 2's default: true).
  bool reset_after = true;
  std::string name{};
};

class RecurrentLayer : public Layer {
public:
  enum class Cell { SimpleRNN, LSTM, GRU };
  RecurrentLayer(Cell cell, int64_t units, RecurrentOptions options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t gates() const;
  Cell cell_;
  int64_t units_;
  RecurrentOptions options_;
};

struct ConvLSTMOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  IntTuple dilation_rate = 1;
  std::string activation = "tanh";
  /// Keras 3's default (Keras 2's was "hard_sigmoid").
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  std::string name{};
};

/// ConvLSTM1D/2D/3D over (batch, time, spatial..., channels).
class ConvLSTMLayer : public Layer {
public:
  ConvLSTMLayer(int64_t rank, int64_t filters, const IntTuple &kernelSize,
                ConvLSTMOptions options);
  std::string className() const override;
  void emit(MLIRGenState &state, const Node &node) const override;
  Json getConfig() const override;

protected:
  std::vector<std::vector<int64_t>>
  computeOutputShapes(const std::vector<std::vector<int64_t>> &in) override;
  void build(const std::vector<std::vector<int64_t>> &in) override;

private:
  int64_t rank_, filters_;
  std::vector<int64_t> kernel_, strides_, dilation_;
  ConvLSTMOptions options_;
};

void addRecurrentLayerFactories(std::map<std::string, LayerFactory> &out);

namespace layers {

/// Handles of the recurrent layers. `operator()` gives the first output;
/// with return_state, `call(x)` gives every output: [output, h] or, for an
/// LSTM, [output, h, c].
#define LAYERC_RNN_HANDLE(NAME, CELL)                                          \
  class NAME : public LayerHandle<RecurrentLayer> {                            \
  public:                                                                      \
    explicit NAME(int64_t units, RecurrentOptions options = {})                \
        : LayerHandle(std::make_shared<RecurrentLayer>(                        \
              RecurrentLayer::Cell::CELL, units, std::move(options))) {}       \
    std::vector<SymbolicTensor> call(const SymbolicTensor &x) const {          \
      return get()->apply({x});                                                \
    }                                                                          \
  };
LAYERC_RNN_HANDLE(SimpleRNN, SimpleRNN)
LAYERC_RNN_HANDLE(LSTM, LSTM)
LAYERC_RNN_HANDLE(GRU, GRU)
#undef LAYERC_RNN_HANDLE

#define LAYERC_CONVLSTM_HANDLE(NAME, RANK)                                     \
  class NAME : public LayerHandle<ConvLSTMLayer> {                             \
  public:                                                                      \
    NAME(int64_t filters, const IntTuple &kernel_size,                         \
         ConvLSTMOptions options = {})                                         \
        : LayerHandle(std::make_shared<ConvLSTMLayer>(                         \
              RANK, filters, kernel_size, std::move(options))) {}              \
    std::vector<SymbolicTensor> call(const SymbolicTensor &x) const {          \
      return get()->apply({x});                                                \
    }                                                                          \
  };
LAYERC_CONVLSTM_HANDLE(ConvLSTM1D, 1)
LAYERC_CONVLSTM_HANDLE(ConvLSTM2D, 2)
LAYERC_CONVLSTM_HANDLE(ConvLSTM3D, 3)
#undef LAYERC_CONVLSTM_HANDLE

} // namespace layers
} // namespace layerc

#endif // LAYERC_FRONTEND_LAYERS_RECURRENT_H
