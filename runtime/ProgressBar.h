//===- ProgressBar.h - Keras-style progress bar -----------------*- C++ -*-===//
//
// The progress display of fit / evaluate / predict, printed as tf.keras 2's
// Progbar does so that logs of layerc and Keras runs can be compared line by
// line. verbose=1 redraws one line with '\r' and ends it with
//   750/750 [==============================] - 1s 1ms/step - loss: 0.5123
// verbose=2 prints only the final line
//   750/750 - 1s - loss: 0.5123 - 1s/epoch - 2ms/step
// and verbose=0 prints nothing. Values are shown as given: the training loop
// passes running averages, as Keras's stateful metrics are.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_PROGRESSBAR_H
#define LAYERC_RUNTIME_PROGRESSBAR_H

#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace layerc {

/// One named value shown after the bar: {"loss", 0.5123}.
using LogValues = std::vector<std::pair<std::string, double>>;

class ProgressBar {
public:
  /// Seconds since an arbitrary origin; injectable so tests are exact.
  using Clock = std::function<double()>;

  /// A bar for `target` steps. An empty `clock` uses std::chrono's
  /// steady_clock.
  explicit ProgressBar(int64_t target, int verbose = 1,
                       std::ostream &os = std::cout, Clock clock = {});

  /// Reports that `current` steps are done. With verbose=1 the line is
  /// redrawn at most every 50 ms; `finalize` forces the last, complete line
  /// (with the time per step instead of the ETA) and ends it.
  void update(int64_t current, const LogValues &values, bool finalize = false);

  /// Formats a duration per unit as Keras does: "2s/epoch", "13ms/step",
  /// "640us/step".
  static std::string formatTimePerUnit(double seconds, const char *unit);

private:
  std::string barText(int64_t current) const;
  std::string etaText(int64_t current, double now) const;
  static std::string valuesText(const LogValues &values);
  void drawLine(int64_t current, const LogValues &values, bool finalize,
                double now);
  void drawSummary(int64_t current, const LogValues &values, double now);

  int64_t target;
  int verbose;
  std::ostream &os;
  Clock clock;
  double start;
  double lastUpdate = -1e300;
  size_t lastWidth = 0;
};

} // namespace layerc

#endif // LAYERC_RUNTIME_PROGRESSBAR_H
