//===- Plot.cpp - Graphviz pictures of models -----------------------------===//
//
// The graph walk reuses the model's nodes: each layer is one Graphviz
// node (a record label), each inbound tensor one edge. An expanded nested
// model is a `subgraph cluster_...`; edges into it go to its input
// layers, edges out of it leave from the layers making its outputs.
//
//===----------------------------------------------------------------------===//

#include "frontend/Plot.h"
#include "frontend/Model.h"

#include "runtime/Error.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace layerc;

namespace {

/// Escapes the characters a record label gives meaning to.
std::string escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (std::strchr("{}|<>\"\\", c))
      out += '\\';
    out += c;
  }
  return out;
}

std::string shapesOf(const std::vector<std::vector<int64_t>> &shapes) {
  if (shapes.size() == 1)
    return formatShape(shapes[0]);
  std::string out = "[";
  for (size_t i = 0; i < shapes.size(); ++i)
    out += (i ? ", " : "") + formatShape(shapes[i]);
  return out + "]";
}

class DotWriter {
public:
  explicit DotWriter(const utils::PlotOptions &o) : options_(o) {}

  std::string write(const Model &model) {
    out_ << "digraph G {\n";
    out_ << "  graph [rankdir=" << options_.rankdir << ", dpi=" << options_.dpi
         << ", concentrate=true];\n";
    out_ << "  graph [fontname=\"Helvetica\"];\n";
    out_ << "  node [shape=record, fontname=\"Helvetica\"];\n";
    writeGraph(*model.asLayer()->graph(), "  ");
    out_ << "}\n";
    return out_.str();
  }

private:
  /// The Graphviz ids an edge into `layer`'s input `i` goes to, and the id
  /// its output `o` leaves from (different for an expanded model).
  std::string entry(const Layer *layer, size_t input) {
    auto it = entries_.find(layer);
    return it == entries_.end() ? idOf(layer) : it->second.at(input);
  }
  std::string exit(const Layer *layer, int output) {
    auto it = exits_.find(layer);
    return it == exits_.end() ? idOf(layer) : it->second.at(output);
  }
  std::string idOf(const Layer *layer) {
    auto [it, fresh] = ids_.emplace(layer, "");
    if (fresh)
      it->second = "layer" + std::to_string(ids_.size());
    return it->second;
  }

  void writeGraph(const Graph &graph, const std::string &indent) {
    for (const auto &layer : graph.layers) {
      auto *nested = dynamic_cast<const FunctionalLayer *>(layer.get());
      if (nested && options_.expand_nested && !expanded_.count(nested)) {
        expanded_.insert(nested);
        const Graph &inner = *nested->graph();
        out_ << indent << "subgraph cluster_" << idOf(nested) << " {\n";
        out_ << indent << "  label=\"" << escape(nested->name())
             << "\"; style=rounded; color=gray40;\n";
        writeGraph(inner, indent + "  ");
        out_ << indent << "}\n";
        for (const SymbolicTensor &in : inner.inputs)
          entries_[nested].push_back(idOf(in.node()->layer.get()));
        for (const SymbolicTensor &o : inner.outputs)
          exits_[nested].push_back(exit(o.node()->layer.get(), o.index()));
        continue;
      }
      writeNode(graph, *layer, indent);
    }
    for (const auto &node : graph.nodes)
      for (size_t i = 0; i < node->inputs.size(); ++i) {
        const SymbolicTensor &in = node->inputs[i];
        out_ << indent << exit(in.node()->layer.get(), in.index()) << " -> "
             << entry(node->layer.get(), i) << ";\n";
      }
  }

  void writeNode(const Graph &graph, const Layer &layer,
                 const std::string &indent) {
    std::string title = options_.show_layer_names
                            ? layer.name() + ": " + layer.className()
                            : layer.className();
    std::string label = escape(title);
    if (options_.show_shapes || options_.show_dtype) {
      const Node *call = nullptr;
      for (const auto &node : graph.nodes)
        if (node->layer.get() == &layer)
          call = node.get();
      std::vector<std::vector<int64_t>> inShapes;
      std::string inTypes, outTypes;
      if (call) {
        for (const SymbolicTensor &in : call->inputs) {
          inShapes.push_back(in.shape());
          inTypes +=
              std::string(inTypes.empty() ? "" : ", ") + dtypeName(in.dtype());
        }
        outTypes = dtypeName(call->dtype);
      }
      bool isInput = dynamic_cast<const InputLayer *>(&layer) != nullptr;
      std::string ins =
          isInput ? shapesOf(call->outputShapes) : shapesOf(inShapes);
      std::string outs = call ? shapesOf(call->outputShapes) : "?";
      if (options_.show_dtype && call) {
        ins += " " + (isInput ? outTypes : inTypes);
        outs += " " + outTypes;
      }
      label = "{" + escape(title) + "|{{input:|output:}|{" + escape(ins) + "|" +
              escape(outs) + "}}}";
    }
    out_ << indent << idOf(&layer) << " [label=\"" << label << "\"];\n";
  }

  const utils::PlotOptions &options_;
  std::ostringstream out_;
  std::map<const Layer *, std::string> ids_;
  std::map<const Layer *, std::vector<std::string>> entries_, exits_;
  std::set<const Layer *> expanded_;
};

} // namespace

std::string utils::modelToDot(const Model &model, const PlotOptions &options) {
  if (options.rankdir != "TB" && options.rankdir != "LR" &&
      options.rankdir != "BT" && options.rankdir != "RL")
    throw Error("plotModel: rankdir must be TB, LR, BT or RL, got '" +
                options.rankdir + "'");
  if (options.dpi < 1 || options.dpi > 1200)
    throw Error("plotModel: dpi must be between 1 and 1200, got " +
                std::to_string(options.dpi));
  return DotWriter(options).write(model);
}

void utils::plotModel(const Model &model, const std::string &path,
                      const PlotOptions &options) {
  std::string dot = modelToDot(model, options);
  size_t dotPos = path.rfind('.');
  std::string format = dotPos == std::string::npos || dotPos + 1 == path.size()
                           ? "png"
                           : path.substr(dotPos + 1);
  if (format == "dot" || format == "gv") {
    std::ofstream file(path);
    if (!(file << dot) || !(file.flush()))
      throw Error("plotModel: cannot write " + path + ": " +
                  std::strerror(errno));
    return;
  }
  for (char c : format)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      throw Error("plotModel: unsupported file extension '." + format + "'");

  // dot reads the source from a pipe and writes `path` itself.
  int in[2], err[2];
  if (pipe(in) != 0 || pipe(err) != 0)
    throw Error(std::string("plotModel: pipe failed: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addclose(&actions, in[1]);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  std::string typeArg = "-T" + format;
  std::vector<char *> argv{const_cast<char *>("dot"), typeArg.data(),
                           const_cast<char *>("-o"),
                           const_cast<char *>(path.c_str()), nullptr};
  pid_t pid;
  int rc = posix_spawnp(&pid, "dot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(err[0]);
    if (rc == ENOENT)
      throw Error("plotModel: the Graphviz program 'dot' was not found on "
                  "PATH; install it (apt install graphviz) to render " +
                  path + ", or give a .dot path to write the source alone");
    throw Error("plotModel: cannot run 'dot': " + std::string(strerror(rc)));
  }
  size_t done = 0;
  while (done < dot.size()) {
    ssize_t n = write(in[1], dot.data() + done, dot.size() - done);
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  close(in[1]);
  std::string message;
  char buffer[512];
  ssize_t n;
  while ((n = read(err[0], buffer, sizeof buffer)) > 0)
    if (message.size() < 4096)
      message.append(buffer, static_cast<size_t>(n));
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // posix_spawnp reports a missing program as exit status 127 on glibc.
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && message.empty())
      throw Error("plotModel: the Graphviz program 'dot' was not found on "
                  "PATH; install it (apt install graphviz) to render " +
                  path + ", or give a .dot path to write the source alone");
    throw Error("plotModel: 'dot' failed to render " + path +
                (message.empty() ? std::string() : ": " + message));
  }
}
