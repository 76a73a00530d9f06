//===- Summary.cpp - Keras 3's model.summary() table ----------------------===//
//
// Model::summary() prints the text Keras 3 (keras/src/utils/summary_utils.py)
// prints when its output is not a terminal: `python script.py | cat`, a log
// file, or model.summary(print_fn=...) in a process without a terminal.
// There shutil.get_terminal_size() falls back to 80 columns, so the table is
// min(88, 80 - 4) = 76 characters wide for a sequential-like model and
// min(108, 80 - 4) = 76 for the others (a terminal's own width is not
// looked at: layerc's output is the same wherever it goes). Keras hands the
// table to rich, whose layout this file reproduces: the columns' widths
// (Keras's positions, then rich's ratio_reduce to fit the borders and
// padding), word wrapping of each cell with "…" where a word is longer than
// its column, "Param #" right-aligned, and the HEAVY_HEAD box with a rule
// between rows. Text is measured in code points (rich measures terminal
// cells: East Asian wide characters in a layer name would differ).
// test/reference/generate_keras_summary.py writes Keras's own output for
// SummaryParityTest.
//
//===----------------------------------------------------------------------===//

#include "frontend/CompiledModel.h"
#include "frontend/Model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

using namespace layerc;

namespace {

/// Keras's summary width where stdout is not a terminal (see above).
constexpr int kLineLength = 76;

/// 55050 -> "55,050" (Python's f"{n:,}").
std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

/// Keras's readable_memory_size: "198.79 KB".
std::string readableSize(double bytes) {
  static const char *units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  char buf[64];
  for (const char *unit : units) {
    if (bytes / 1024 < 1) {
      std::snprintf(buf, sizeof buf, "%.2f %s", bytes, unit);
      return buf;
    }
    bytes /= 1024;
  }
  std::snprintf(buf, sizeof buf, "%.2f PB", bytes);
  return buf;
}

/// UTF-8 <-> code points, so that widths count characters, not bytes.
std::u32string decode(const std::string &s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    char32_t cp = extra == 0   ? c
                  : extra == 1 ? c & 0x1F
                  : extra == 2 ? c & 0x0F
                               : c & 0x07;
    for (int k = 1; k <= extra && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += cp;
    i += extra + 1;
  }
  return out;
}

std::string encode(const std::u32string &s) {
  std::string out;
  for (char32_t cp : s)
    appendUtf8(out, cp);
  return out;
}

bool isSpace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'\f' ||
         c == U'\v';
}

/// rich's Text.wrap(width, justify, overflow="ellipsis") of one line: the
/// break offsets of _wrap.divide_line (fold=False: a word longer than the
/// width gets a line of its own and is cut), then each line's trailing
/// whitespace beyond the width dropped (rstrip_end), justified, and cut
/// with "…". Every returned line is exactly `width` characters.
std::vector<std::u32string> wrapCell(const std::u32string &text, size_t width,
                                     bool right) {
  std::vector<size_t> breaks;
  size_t offset = 0, pos = 0;
  while (true) {
    // A "word": \s*\S+\s*
    size_t start = pos, p = pos;
    while (p < text.size() && isSpace(text[p]))
      ++p;
    if (p == text.size())
      break;
    while (p < text.size() && !isSpace(text[p]))
      ++p;
    size_t stripped = p - start;
    while (p < text.size() && isSpace(text[p]))
      ++p;
    size_t length = p - start;
    pos = p;
    if (offset <= width && width - offset >= stripped) {
      offset += length;
    } else if (stripped > width) {
      if (start)
        breaks.push_back(start);
      offset = length;
    } else if (offset && start) {
      breaks.push_back(start);
      offset = length;
    }
  }
  std::vector<std::u32string> lines;
  size_t from = 0;
  breaks.push_back(text.size());
  for (size_t to : breaks) {
    lines.push_back(text.substr(from, to - from));
    from = to;
  }
  for (std::u32string &line : lines) {
    if (line.size() > width) { // rstrip_end
      size_t ws = 0;
      while (ws < line.size() && isSpace(line[line.size() - 1 - ws]))
        ++ws;
      line.resize(line.size() - std::min(ws, line.size() - width));
    }
    if (right)
      while (!line.empty() && isSpace(line.back()))
        line.pop_back();
    if (line.size() > width)
      line = line.substr(0, width - 1) + U"\u2026";
    if (right)
      line = std::u32string(width - line.size(), U' ') + line;
    else
      line.resize(width, U' ');
  }
  return lines;
}

/// rich's Table._calculate_column_widths for Keras's fixed-width columns:
/// each is its width plus 2 of padding, and the excess over the table's
/// width less its borders comes off evenly (ratio_reduce, Python's
/// round-half-even). Widths include the padding.
std::vector<size_t> columnWidths(const std::vector<double> &positions) {
  std::vector<long> widths;
  long current = 0;
  for (double pos : positions) {
    long width = static_cast<long>(pos * kLineLength) - current;
    widths.push_back(width + 2);
    current += width;
  }
  long maxWidth = kLineLength - static_cast<long>(positions.size() + 1);
  long total = 0;
  for (long w : widths)
    total += w;
  if (total > maxWidth) {
    long remaining = total - maxWidth;
    long ratios = static_cast<long>(widths.size());
    for (long &w : widths) {
      long distributed = std::min(
          w, static_cast<long>(std::nearbyint(double(remaining) / ratios)));
      w -= distributed;
      remaining -= distributed;
      --ratios;
    }
  }
  return std::vector<size_t>(widths.begin(), widths.end());
}

/// Keras's format_shape: "(None, 784)", and "(None)" for rank 1.
std::string shapeText(const std::vector<int64_t> &shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") +
           (shape[i] < 0 ? std::string("None") : std::to_string(shape[i]));
  return out + ")";
}

/// Keras's format_layer_shape: the shapes of the layer's last call (in any
/// model), a list for several outputs.
std::string layerShape(const Layer &layer) {
  for (size_t i = layer.numNodes(); i-- > 0;) {
    std::vector<SymbolicTensor> outs;
    try {
      outs = layer.outputAt(i);
    } catch (const Error &) {
      continue; // a node nothing refers to any more
    }
    if (outs.size() == 1)
      return shapeText(outs[0].shape());
    std::string text = "[";
    for (size_t k = 0; k < outs.size(); ++k)
      text += (k ? ", " : "") + shapeText(outs[k].shape());
    return text + "]";
  }
  return "?";
}

/// What Keras's map_graph gives a summary: the layers in Keras's order (by
/// decreasing depth, the distance to the outputs; ties in the order a
/// depth-first walk from the outputs first meets them) and whether the
/// model is "sequential-like" (every depth holds one node reading at most
/// one tensor, and no layer is called twice), which drops "Connected to".
struct KerasGraph {
  std::vector<const Layer *> layers;
  bool sequential = true;
};

KerasGraph kerasGraph(const std::vector<SymbolicTensor> &inputs,
                      const std::vector<SymbolicTensor> &outputs) {
  // _build_map: post-order of the nodes, pre-order index of the layers.
  std::vector<const Node *> postOrder;
  std::map<const Layer *, int> layerIndex;
  std::set<const Node *> done;
  for (const SymbolicTensor &out : outputs) {
    std::vector<std::pair<const Node *, size_t>> stack;
    auto enter = [&](const Node *node) {
      if (done.count(node))
        return;
      for (const auto &entry : stack)
        if (entry.first == node)
          return; // a cycle cannot happen; be safe
      layerIndex.emplace(node->layer.get(), int(layerIndex.size()));
      stack.emplace_back(node, 0);
    };
    enter(out.node().get());
    while (!stack.empty()) {
      auto &[node, next] = stack.back();
      bool isInput = dynamic_cast<const InputLayer *>(node->layer.get());
      if (!isInput && next < node->inputs.size()) {
        enter(node->inputs[next++].node().get());
        continue;
      }
      done.insert(node);
      postOrder.push_back(node);
      stack.pop_back();
    }
  }
  // map_graph's depths: a node is one deeper than the deepest node reading
  // it; a shared layer's calls no shallower than its deepest so far.
  std::map<const Node *, int> depth;
  std::map<const Layer *, int> layerDepth;
  for (auto it = postOrder.rbegin(); it != postOrder.rend(); ++it) {
    const Node *node = *it;
    int d = depth.emplace(node, 0).first->second;
    auto prev = layerDepth.find(node->layer.get());
    if (prev != layerDepth.end())
      d = std::max(d, prev->second);
    layerDepth[node->layer.get()] = d;
    depth[node] = d;
    for (const SymbolicTensor &in : node->inputs)
      if (done.count(in.node().get())) {
        int &di = depth[in.node().get()];
        di = std::max(di, d + 1);
      }
  }
  // Inputs no output depends on: depth 0, first among their depth.
  for (const SymbolicTensor &in : inputs)
    if (!layerDepth.count(in.node()->layer.get())) {
      layerDepth[in.node()->layer.get()] = 0;
      layerIndex[in.node()->layer.get()] = -1;
      depth[in.node().get()] = 0;
    }
  KerasGraph graph;
  for (const auto &entry : layerDepth)
    graph.layers.push_back(entry.first);
  std::sort(graph.layers.begin(), graph.layers.end(),
            [&](const Layer *a, const Layer *b) {
              if (layerDepth[a] != layerDepth[b])
                return layerDepth[a] > layerDepth[b];
              return layerIndex[a] < layerIndex[b];
            });
  std::map<int, std::vector<const Node *>> byDepth;
  for (const auto &[node, d] : depth)
    byDepth[d].push_back(node);
  std::set<const Layer *> called;
  for (const auto &[d, group] : byDepth)
    if (group.size() > 1 || group[0]->inputs.size() > 1 ||
        !called.insert(group[0]->layer.get()).second)
      graph.sequential = false;
  return graph;
}

/// Prints one table row: each cell wrapped to its column, top-aligned.
void printRow(std::ostream &os, const std::vector<std::string> &cells,
              const std::vector<size_t> &widths,
              const std::vector<bool> &rightAligned, const char *bar) {
  std::vector<std::vector<std::u32string>> lines;
  size_t height = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    lines.push_back(wrapCell(decode(cells[i]), widths[i] - 2, rightAligned[i]));
    height = std::max(height, lines.back().size());
  }
  for (size_t row = 0; row < height; ++row) {
    os << bar;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::u32string text = row < lines[i].size()
                                ? lines[i][row]
                                : std::u32string(widths[i] - 2, U' ');
      os << ' ' << encode(text) << ' ' << bar;
    }
    os << "\n";
  }
}

/// A horizontal rule of the box: `left`, `fill` per column, `cross` between.
void printRule(std::ostream &os, const std::vector<size_t> &widths,
               const char *left, const char *fill, const char *cross,
               const char *right) {
  os << left;
  for (size_t i = 0; i < widths.size(); ++i) {
    for (size_t k = 0; k < widths[i]; ++k)
      os << fill;
    os << (i + 1 < widths.size() ? cross : right);
  }
  os << "\n";
}

} // namespace

void Model::summary(std::ostream &os) const {
  KerasGraph graph = kerasGraph(inputs_, outputs_);
  bool sequential = graph.sequential;
  std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
  std::vector<bool> right{false, false, true};
  std::vector<double> positions{0.45, 0.80, 1.0};
  if (!sequential) {
    header.push_back("Connected to");
    right.push_back(false);
    positions = {0.3, 0.56, 0.74, 1.0};
  }
  std::vector<size_t> widths = columnWidths(positions);

  os << "Model: \"" << name_ << "\"\n";
  printRule(os, widths, "┏", "━", "┳", "┓");
  printRow(os, header, widths, right, "┃");
  printRule(os, widths, "┡", "━", "╇", "┩");
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer &layer = *graph.layers[i];
    std::vector<std::string> cells{
        layer.name() + " (" + layer.className() + ")", layerShape(layer),
        thousands(layer.countParams())};
    if (!sequential) {
      // Every call of the layer in this model, in call order.
      std::string connected;
      for (size_t n = 0; n < layer.numNodes(); ++n) {
        std::shared_ptr<Node> node;
        for (const auto &candidate : nodes_)
          if (candidate->layer.get() == &layer &&
              layer.nodeIndex(candidate.get()) == static_cast<int>(n))
            node = candidate;
        if (!node)
          continue;
        for (const SymbolicTensor &in : node->inputs) {
          const Layer &from = *in.node()->layer;
          connected += (connected.empty() ? "" : ", ") + from.name() + "[" +
                       std::to_string(from.nodeIndex(in.node().get())) + "][" +
                       std::to_string(in.index()) + "]";
        }
      }
      cells.push_back(connected.empty() ? "-" : connected);
    }
    printRow(os, cells, widths, right, "│");
    if (i + 1 < graph.layers.size())
      printRule(os, widths, "├", "─", "┼", "┤");
  }
  printRule(os, widths, "└", "─", "┴", "┘");

  // Parameters are float32: 4 bytes each.
  int64_t total = layer_->countParams();
  int64_t trainable = layer_->countTrainableParams();
  int64_t optimizer = 0;
  double optimizerBytes = 0;
  // Keras counts the optimizer's variables once it is built (by the first
  // training step): the int32 iteration count, the learning rate unless a
  // schedule gives it, and every slot.
  bool optimizerBuilt = compiled_ && compiled_->state.iterations > 0;
  if (optimizerBuilt) {
    optimizer = compiled_->state.learning_rate.isConstant() ? 2 : 1;
    optimizerBytes = 4.0 * optimizer;
    for (const Tensor &slot : compiled_->state.states) {
      optimizer += slot.numel();
      optimizerBytes += 4.0 * slot.numel();
    }
  }
  os << " Total params: " << thousands(total + optimizer) << " ("
     << readableSize(4.0 * total + optimizerBytes) << ")\n";
  os << " Trainable params: " << thousands(trainable) << " ("
     << readableSize(4.0 * trainable) << ")\n";
  os << " Non-trainable params: " << thousands(total - trainable) << " ("
     << readableSize(4.0 * (total - trainable)) << ")\n";
  if (optimizerBuilt)
    os << " Optimizer params: " << thousands(optimizer) << " ("
       << readableSize(optimizerBytes) << ")\n";
}

void Model::summary() const { summary(std::cout); }
