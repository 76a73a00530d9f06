//===- multi_io.cpp - "Manipulate complex graph topologies" ---------------===//
//
// Sections of Keras's functional-API guide:
//  - "Models with multiple inputs and outputs": the ticket model (title
//    and body token sequences of any length, tags) with its priority and
//    department heads; inputs and outputs addressed by name; its picture;
//    two epochs of fit() on the guide's random data, given as dicts.
//  - "A toy ResNet model": the summary with its "Connected to" column,
//    the picture, forward on random images and a short fit().
//
//   guide_multi_io [--plot-dir=DIR] [--small]
//
// --small trains on fewer samples (the guide's are 1280 tickets).
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"

#include <iostream>

using namespace layerc;

int main(int argc, char **argv) {
  guide::ExampleArgs args =
      guide::parseExampleArgs(argc, argv, "guide_multi_io");
  try {
    setRandomSeed(2);
    Model ticket = guide::ticketModel();
    ticket.summary();
    if (!args.plotDir.empty())
      utils::plotModel(ticket,
                       args.plotDir + "/multi_input_and_output_model.png",
                       {.show_shapes = true});

    // Inputs by name; titles of 7 words, bodies of 11.
    NamedTensors x{{"title", guide::randomTokens(2, 7, 10000, 3)},
                   {"body", guide::randomTokens(2, 11, 10000, 4)},
                   {"tags", guide::randomUniform({2, 12}, 5)}};
    NamedTensors y = ticket.predict(x);
    std::cout << "predict -> priority " << y["priority"].shapeString()
              << ", department " << y["department"].shapeString() << "\n\n";

    // Training needs every size but the batch: the guide's data has
    // titles of 10 words and bodies of 100.
    Model trainable =
        guide::ticketModel({.titleLength = 10, .bodyLength = 100});
    // One loss per head, weighted as in the guide; fit reports each.
    CompileOptions options;
    options.losses_by_name = {
        {"priority", losses::BinaryCrossentropy({.from_logits = true})},
        {"department", losses::CategoricalCrossentropy({.from_logits = true})}};
    options.loss_weights_by_name = {{"priority", 1.0}, {"department", 0.2}};
    options.optimizer = optimizers::RMSprop({.learning_rate = 1e-3});
    trainable.compile(options);
    const int64_t n = args.small ? 128 : 1280;
    Tensor tags = guide::randomUniform({n, 12}, 7);
    for (int64_t i = 0; i < tags.numel(); ++i)
      tags.data<float>()[i] = tags.data<float>()[i] < 0.5f ? 0.0f : 1.0f;
    Tensor departments = guide::randomUniform({n, 4}, 8);
    for (int64_t i = 0; i < departments.numel(); ++i)
      departments.data<float>()[i] =
          departments.data<float>()[i] < 0.5f ? 0.0f : 1.0f;
    History history = trainable.fit(
        NamedTensors{{"title", guide::randomTokens(n, 10, 10000, 9)},
                     {"body", guide::randomTokens(n, 100, 10000, 10)},
                     {"tags", tags}},
        NamedTensors{{"priority", guide::randomUniform({n, 1}, 11)},
                     {"department", departments}},
        {.batch_size = 32, .epochs = 2});
    std::cout << "History: loss " << history.history.at("loss").back()
              << ", priority_loss "
              << history.history.at("priority_loss").back()
              << ", department_loss "
              << history.history.at("department_loss").back() << "\n\n";

    Model resnet = guide::toyResNet();
    resnet.summary();
    if (!args.plotDir.empty()) {
      utils::plotModel(resnet, args.plotDir + "/mini_resnet.png",
                       {.show_shapes = true});
      std::cout << "wrote " << args.plotDir
                << "/multi_input_and_output_model.png and " << args.plotDir
                << "/mini_resnet.png\n";
    }
    Tensor images = guide::randomUniform({64, 32, 32, 3}, 12);
    Tensor logits = resnet.predict(images);
    std::cout << "toy_resnet on " << images.shapeString() << " -> "
              << logits.shapeString() << "\n";
    CompileOptions resnetOptions;
    resnetOptions.loss =
        losses::SparseCategoricalCrossentropy({.from_logits = true});
    resnetOptions.optimizer = optimizers::RMSprop({.learning_rate = 1e-3});
    resnetOptions.metrics = {"acc"};
    resnet.compile(resnetOptions);
    Tensor labels({64}, DType::Int32);
    for (int64_t i = 0; i < 64; ++i)
      labels.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
    resnet.fit(images, labels, {.batch_size = 64, .epochs = 1});
  } catch (const Error &e) {
    std::cerr << "guide_multi_io: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
