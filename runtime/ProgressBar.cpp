//===- ProgressBar.cpp - Keras-style progress bar -------------------------===//
//
// A transcription of tf.keras 2's Progbar.update for a known target: the
// same bar arithmetic (a '>' head while in progress), the same ETA and
// time-per-step formats, and the same number format (%.4f, or %.4e for
// values within 1e-3 of zero). The line is redrawn in place with '\r' and
// padded with spaces when it got shorter, so no stale characters remain.
//
//===----------------------------------------------------------------------===//

#include "runtime/ProgressBar.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace layerc;

namespace {

constexpr int kBarWidth = 30;
constexpr double kRedrawInterval = 0.05;

double steadySeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// "current/target" with current right-aligned to the target's width.
std::string countText(int64_t current, int64_t target) {
  int digits = static_cast<int>(absl::StrCat(target).size());
  return absl::StrFormat("%*d/%d", digits, current, target);
}

} // namespace

ProgressBar::ProgressBar(int64_t target, int verbose, std::ostream &os,
                         Clock clock)
    : target(target), verbose(verbose), os(os),
      clock(clock ? std::move(clock) : Clock(steadySeconds)),
      start(this->clock()) {}

std::string ProgressBar::formatTimePerUnit(double seconds, const char *unit) {
  if (seconds >= 1 || seconds == 0)
    return absl::StrFormat("%.0fs/%s", seconds, unit);
  if (seconds >= 1e-3)
    return absl::StrFormat("%.0fms/%s", seconds * 1e3, unit);
  return absl::StrFormat("%.0fus/%s", seconds * 1e6, unit);
}

std::string ProgressBar::barText(int64_t current) const {
  std::string bar = countText(current, target) + " [";
  double progress = target > 0 ? double(current) / double(target) : 1.0;
  int width = static_cast<int>(kBarWidth * progress);
  width = std::max(0, std::min(width, kBarWidth));
  if (width > 0) {
    bar.append(width - 1, '=');
    bar.push_back(current < target ? '>' : '=');
  }
  bar.append(kBarWidth - width, '.');
  bar.push_back(']');
  return bar;
}

std::string ProgressBar::etaText(int64_t current, double now) const {
  double perStep = current > 0 ? (now - start) / double(current) : 0.0;
  double eta = perStep * double(target - current);
  long long e = static_cast<long long>(eta);
  if (eta > 3600)
    return absl::StrFormat(" - ETA: %d:%02d:%02d", e / 3600, (e % 3600) / 60,
                           e % 60);
  if (eta > 60)
    return absl::StrFormat(" - ETA: %d:%02d", e / 60, e % 60);
  return absl::StrFormat(" - ETA: %ds", e);
}

std::string ProgressBar::valuesText(const LogValues &values) {
  std::string text;
  for (const auto &[name, value] : values)
    if (std::fabs(value) > 1e-3)
      absl::StrAppendFormat(&text, " - %s: %.4f", name, value);
    else
      absl::StrAppendFormat(&text, " - %s: %.4e", name, value);
  return text;
}

void ProgressBar::drawLine(int64_t current, const LogValues &values,
                           bool finalize, double now) {
  std::string line = barText(current);
  if (finalize) {
    double perStep = current > 0 ? (now - start) / double(current) : 0.0;
    line += absl::StrFormat(" - %.0fs ", now - start) +
            formatTimePerUnit(perStep, "step");
  } else {
    line += etaText(current, now);
  }
  line += valuesText(values);
  size_t width = line.size();
  if (width < lastWidth)
    line.append(lastWidth - width, ' ');
  lastWidth = width;
  os << '\r' << line;
  if (finalize)
    os << '\n';
  os.flush();
}

void ProgressBar::drawSummary(int64_t current, const LogValues &values,
                              double now) {
  double elapsed = now - start;
  double perStep = current > 0 ? elapsed / double(current) : 0.0;
  os << countText(current, target) << absl::StrFormat(" - %.0fs", elapsed)
     << valuesText(values) << " - " << formatTimePerUnit(elapsed, "epoch")
     << " - " << formatTimePerUnit(perStep, "step") << '\n';
  os.flush();
}

void ProgressBar::update(int64_t current, const LogValues &values,
                         bool finalize) {
  if (verbose <= 0)
    return;
  double now = clock();
  if (verbose == 2) {
    if (finalize)
      drawSummary(current, values, now);
    return;
  }
  if (!finalize && now - lastUpdate < kRedrawInterval)
    return;
  lastUpdate = now;
  drawLine(current, values, finalize, now);
}
