//===- functional_guide.cpp - The functional-API guide's models ----------===//
//
// Keras's functional-API guide in C++: the encoder / decoder / autoencoder
// built from one graph, the multi-input, multi-output ticket model (title
// and body of any length), and the toy ResNet. Prints each summary (the
// guide's parameter counts: 18,672; 28,241; 9,569; 1,392,097; 223,242) and
// runs each model forward on random data.
//
//   functional_guide [--save-dir=DIR] [--compile]
//
// --save-dir writes, for each model M, DIR/M.lcm (layerc compiles it ahead
// of time), DIR/M_x.bin (a random float32 batch of 2) and DIR/M_y.bin (the
// in-process JIT's output for it), so the AOT library can be checked
// against the JIT; the ticket model writes DIR/ticket_{title,body,tags}.bin
// (inputs: 2 samples, titles of 7 words, bodies of 11) and
// DIR/ticket_{priority,department}.bin. --compile compiles each model
// before saving it, so that `layerc M.lcm --train` finds a loss and an
// optimizer: the toy ResNet and the ticket model as the guide compiles
// them (RMSprop(1e-3), cross-entropy from logits), the others with mean
// squared error and RMSprop.
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"
#include "layerc/layerc.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>

using namespace layerc;

namespace {

/// A batch of 2 random samples of shape `sample`.
Tensor randomBatch(std::vector<int64_t> sample, uint32_t seed) {
  sample.insert(sample.begin(), 2);
  return guide::randomUniform(sample, seed);
}

void writeRaw(const std::string &path, const Tensor &t) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char *>(t.rawData()),
            static_cast<std::streamsize>(t.nbytes()));
  if (!out)
    throw Error("cannot write " + path);
}

/// The compile options --compile gives a model (see the file comment).
std::optional<CompileOptions> trainWith;

void run(Model &model, const std::string &saveDir, uint32_t seed,
         const CompileOptions *options = nullptr) {
  model.summary();
  std::vector<int64_t> sample(model.inputs()[0].shape().begin() + 1,
                              model.inputs()[0].shape().end());
  Tensor x = randomBatch(sample, seed);
  Tensor y = model.predict(x);
  std::cout << "predict on " << x.shapeString() << " -> " << y.shapeString()
            << "\n\n";
  if (saveDir.empty())
    return;
  if (trainWith)
    model.compile(options ? *options : *trainWith);
  model.save(saveDir + "/" + model.name() + ".lcm");
  writeRaw(saveDir + "/" + model.name() + "_x.bin", x);
  writeRaw(saveDir + "/" + model.name() + "_y.bin", y);
}

} // namespace

int main(int argc, char **argv) {
  std::string saveDir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--save-dir=", 0) == 0) {
      saveDir = arg.substr(11);
    } else if (arg == "--compile") {
      trainWith =
          CompileOptions{.loss = "mse", .optimizer = optimizers::RMSprop()};
    } else {
      std::cerr << "usage: functional_guide [--save-dir=DIR] [--compile]\n";
      return 2;
    }
  }
  try {
    setRandomSeed(42);
    // "All models are callable, just like layers": one graph, two models.
    auto img = Input({28, 28, 1}, {.name = "img"});
    auto x = layers::Conv2D(16, 3, {.activation = "relu"})(img);
    x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
    x = layers::MaxPooling2D(3)(x);
    x = layers::Conv2D(32, 3, {.activation = "relu"})(x);
    x = layers::Conv2D(16, 3, {.activation = "relu"})(x);
    auto encoded = layers::GlobalMaxPooling2D()(x);
    Model encoder(img, encoded, "encoder");
    run(encoder, saveDir, 1);

    x = layers::Reshape({4, 4, 1})(encoded);
    x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
    x = layers::Conv2DTranspose(32, 3, {.activation = "relu"})(x);
    x = layers::UpSampling2D(3)(x);
    x = layers::Conv2DTranspose(16, 3, {.activation = "relu"})(x);
    auto decoded = layers::Conv2DTranspose(1, 3, {.activation = "relu"})(x);
    Model autoencoder(img, decoded, "autoencoder");
    run(autoencoder, saveDir, 2);

    // The decoder on its own input.
    Model decoder = guide::decoderModel();
    run(decoder, saveDir, 3);

    // "Models with multiple inputs and outputs": a ticket's title and body
    // (token sequences of any length) and tags give its priority and
    // department.
    Model ticket = guide::ticketModel();
    ticket.summary();
    {
      Tensor tt = guide::randomTokens(2, 7, 10000, 5),
             bt = guide::randomTokens(2, 11, 10000, 6);
      Tensor tagsIn = randomBatch({12}, 6);
      std::vector<Tensor> ys =
          ticket.predict(std::vector<Tensor>{tt, bt, tagsIn});
      std::cout << "predict -> priority " << ys[0].shapeString()
                << ", department " << ys[1].shapeString() << "\n\n";
      if (!saveDir.empty()) {
        if (trainWith) {
          CompileOptions options;
          options.losses_by_name = {
              {"priority", losses::BinaryCrossentropy({.from_logits = true})},
              {"department",
               losses::CategoricalCrossentropy({.from_logits = true})}};
          options.loss_weights_by_name = {{"priority", 1.0},
                                          {"department", 0.2}};
          options.optimizer = optimizers::RMSprop({.learning_rate = 1e-3});
          ticket.compile(options);
        }
        ticket.save(saveDir + "/ticket.lcm");
        writeRaw(saveDir + "/ticket_title.bin", tt);
        writeRaw(saveDir + "/ticket_body.bin", bt);
        writeRaw(saveDir + "/ticket_tags.bin", tagsIn);
        writeRaw(saveDir + "/ticket_priority.bin", ys[0]);
        writeRaw(saveDir + "/ticket_department.bin", ys[1]);
      }
    }

    // "A toy ResNet model".
    Model resnet = guide::toyResNet();
    CompileOptions resnetOptions{
        .loss = losses::CategoricalCrossentropy({.from_logits = true}),
        .optimizer = optimizers::RMSprop({.learning_rate = 1e-3})};
    run(resnet, saveDir, 4, &resnetOptions);
  } catch (const Error &e) {
    std::cerr << "functional_guide: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
