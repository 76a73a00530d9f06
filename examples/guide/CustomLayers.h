//===- CustomLayers.h - The functional-API guide's custom layers -*- C++
//-*-===//
//
// The custom layers of Keras's functional-API guide, written against
// layerc's Layer API: build() creates weights with addWeight(), call()
// composes ops:: primitives, weights (weight()) and other layers, and
// getConfig() / a factory let Model::fromConfig rebuild them. Shared by
// the guide's example programs and the tests.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_EXAMPLES_GUIDE_CUSTOMLAYERS_H
#define LAYERC_EXAMPLES_GUIDE_CUSTOMLAYERS_H

#include "layerc/layerc.h"

#include <functional>

namespace guide {

/// `tf.matmul(inputs, self.w) + self.b`.
class CustomDense : public layerc::Layer {
public:
  explicit CustomDense(int64_t units = 32, const std::string &name = "")
      : Layer("CustomDense", name), units_(units) {}
  std::string className() const override { return "CustomDense"; }
  layerc::Json getConfig() const override {
    return layerc::Json::object({{"name", name()}, {"units", units_}});
  }
  /// The factory Model::fromConfig needs for this class.
  static std::shared_ptr<layerc::Layer> fromConfig(const layerc::Json &c) {
    using layerc::Json;
    return std::make_shared<CustomDense>(
        layerc::configField(c, "CustomDense", "units", Json::Kind::Number)
            .asInt(),
        layerc::configField(c, "CustomDense", "name", Json::Kind::String)
            .asString());
  }

  std::vector<layerc::SymbolicTensor>
  call(const std::vector<layerc::SymbolicTensor> &inputs) override {
    return {layerc::ops::matmul(inputs[0], weight("w")) + weight("b")};
  }

protected:
  void build(const std::vector<std::vector<int64_t>> &shapes) override {
    addWeight("w", {shapes[0].back(), units_}, "random_normal");
    addWeight("b", {units_}, "random_normal");
  }

private:
  int64_t units_;
};

/// The guide's CustomRNN: a hand-unrolled recurrence of two tanh Dense
/// projections over the time axis, whose stacked outputs go through
/// `classifier` (a functional model in the guide's first version, a
/// Dense(1) in the second). The recurrent state starts as zeros of the
/// input's static batch size, so the input's shape must be fully known.
class CustomRNN : public layerc::Layer {
public:
  CustomRNN(int64_t units, std::shared_ptr<layerc::Layer> classifier,
            const std::string &name = "")
      : Layer("CustomRNN", name), units_(units),
        projection1_(units, {.activation = "tanh"}),
        projection2_(units, {.activation = "tanh"}),
        classifier_(std::move(classifier)) {}
  std::string className() const override { return "CustomRNN"; }
  /// {"name", "units", "classifier": {"class_name", "config"}}.
  layerc::Json getConfig() const override {
    using layerc::Json;
    return Json::object(
        {{"name", name()},
         {"units", units_},
         {"classifier", Json::object({{"class_name", classifier_->className()},
                                      {"config", classifier_->getConfig()}})}});
  }
  /// The factory for Model::fromConfig: the classifier is rebuilt from its
  /// own config (a built-in layer or a functional model).
  static std::shared_ptr<layerc::Layer> fromConfig(const layerc::Json &c) {
    using layerc::Json;
    const char *cls = "CustomRNN";
    const Json &classifier =
        layerc::configField(c, cls, "classifier", Json::Kind::Object);
    std::string kind =
        layerc::configField(classifier, cls, "class_name", Json::Kind::String)
            .asString();
    const Json &config =
        layerc::configField(classifier, cls, "config", Json::Kind::Object);
    std::shared_ptr<layerc::Layer> rebuilt;
    if (kind == "Functional") {
      rebuilt = layerc::Model::fromConfig(
                    Json::object({{"class_name", kind}, {"config", config}}))
                    .asLayer();
    } else {
      auto factory = layerc::builtinLayerFactories().find(kind);
      if (factory == layerc::builtinLayerFactories().end())
        throw layerc::Error("CustomRNN: unknown classifier class '" + kind +
                            "'");
      rebuilt = factory->second(config);
    }
    return std::make_shared<CustomRNN>(
        layerc::configField(c, cls, "units", Json::Kind::Number).asInt(),
        rebuilt,
        layerc::configField(c, cls, "name", Json::Kind::String).asString());
  }
  /// Called with the shape of the stacked features when traced (the guide
  /// prints it: (1, 10, 32)).
  std::function<void(const std::vector<int64_t> &)> onFeatures;

  std::vector<layerc::SymbolicTensor>
  call(const std::vector<layerc::SymbolicTensor> &inputs) override {
    namespace ops = layerc::ops;
    const layerc::SymbolicTensor &x = inputs[0];
    const std::vector<int64_t> &shape = x.shape();
    if (shape.size() != 3)
      throw layerc::Error("CustomRNN " + name() +
                          " expects (batch, timesteps, features), got " +
                          x.shapeString());
    layerc::SymbolicTensor state = ops::zeros({shape[0], units_});
    std::vector<layerc::SymbolicTensor> outputs;
    for (int64_t t = 0; t < shape[1]; ++t) {
      layerc::SymbolicTensor h = projection1_(ops::take(x, 1, t));
      layerc::SymbolicTensor y = h + projection2_(state);
      state = y;
      outputs.push_back(y);
    }
    layerc::SymbolicTensor features = ops::stack(outputs, 1);
    if (onFeatures)
      onFeatures(features.shape());
    return {(*classifier_)(features)};
  }

private:
  int64_t units_;
  layerc::layers::Dense projection1_, projection2_;
  std::shared_ptr<layerc::Layer> classifier_;
};

} // namespace guide

#endif // LAYERC_EXAMPLES_GUIDE_CUSTOMLAYERS_H
