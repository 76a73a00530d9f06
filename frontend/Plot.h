//===- Plot.h - Graphviz pictures of models ---------------------*- C++ -*-===//
//
// Keras's utils.plot_model / model_to_dot: one box per layer ("name:
// Class", and the input and output shapes when asked), one arrow per
// connection; with expand_nested, a nested model becomes a cluster holding
// its own layers. The picture is rendered by Graphviz's `dot` program.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_PLOT_H
#define LAYERC_FRONTEND_PLOT_H

#include <string>

namespace layerc {

class Model;

namespace utils {

struct PlotOptions {
  bool show_shapes = false;
  bool show_dtype = false;
  bool show_layer_names = true;
  /// "TB" (top to bottom) or "LR" (left to right).
  std::string rankdir = "TB";
  /// Draw nested models' layers inside a cluster instead of one box.
  bool expand_nested = false;
  int dpi = 96;
};

/// The Graphviz source of the picture.
std::string modelToDot(const Model &model, const PlotOptions &options = {});

/// Writes the picture to `path`: Graphviz source for a ".dot" file,
/// otherwise the format named by the extension (png, svg, pdf, ...)
/// rendered by `dot`. Throws layerc::Error when `dot` is missing (install
/// Debian's graphviz) or fails, with its message.
void plotModel(const Model &model, const std::string &path,
               const PlotOptions &options = {});

} // namespace utils
} // namespace layerc

#endif // LAYERC_FRONTEND_PLOT_H
