//===- MpiCommunicator.cpp - layerc's collectives on MPI ------------------===//
//
// Every collective is MPI's non-blocking form (MPI_Iallreduce, MPI_Ibcast,
// MPI_Ibarrier) completed by an MPI_Testall loop with a deadline (the
// buckets of gradients started during the backward pass too, by waitAll), on a
// duplicate of MPI_COMM_WORLD whose error handler returns codes instead of
// aborting silently: a peer that dies or hangs becomes a message naming
// this rank, the collective and the step, never a hang.
//
//===----------------------------------------------------------------------===//

#include "runtime/mpi/MpiCommunicator.h"
#include "runtime/Error.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace layerc;

namespace {

/// What the SIGTERM handler prints: set once, read in the handler.
std::atomic<long long> currentStep{0};
static_assert(std::atomic<long long>::is_always_lock_free,
              "the SIGTERM handler reads the step without locking");
int signalRank = 0, signalSize = 1;

/// Writes `value` in decimal into `out` (async-signal-safe); returns the end.
char *formatInt(char *out, long long value) {
  char digits[24];
  int n = 0;
  do
    digits[n++] = char('0' + value % 10);
  while ((value /= 10) > 0);
  while (n > 0)
    *out++ = digits[--n];
  return out;
}

char *append(char *out, const char *text) {
  size_t n = std::strlen(text);
  std::memcpy(out, text, n);
  return out + n;
}

/// mpirun sends SIGTERM to every rank once one fails; say so, then stop.
extern "C" void onTerminate(int) {
  char message[512], *p = message;
  p = append(p, "layerc: MPI rank ");
  p = formatInt(p, signalRank);
  p = append(p, " of ");
  p = formatInt(p, signalSize);
  p = append(p, ": stopped by the launcher (SIGTERM) at training step ");
  p = formatInt(p, currentStep.load());
  p = append(p, ": another rank failed or the job was cancelled. Training "
                "stopped; resume it from the last checkpoint.\n");
  ssize_t ignored = write(STDERR_FILENO, message, size_t(p - message));
  (void)ignored;
  _exit(143);
}

void finalizeAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized)
    MPI_Finalize();
}

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, length);
}

double timeoutSeconds() {
  const char *text = std::getenv("LAYERC_MPI_TIMEOUT");
  if (!text || !*text)
    return 300.0;
  char *end = nullptr;
  double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds > 0))
    throw Error(std::string("LAYERC_MPI_TIMEOUT must be a positive number "
                            "of seconds, got '") +
                text + "'");
  return seconds;
}

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) !=
          MPI_SUCCESS)
        throw Error("distribute=mpi: MPI_Init failed (is this process "
                    "started by mpirun?)");
      std::atexit(finalizeAtExit);
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    timeout_ = timeoutSeconds();
    setThreadsPerRank();
    // One process alone has no peers to lose: it keeps the application's
    // own SIGTERM handling.
    if (size_ > 1) {
      signalRank = rank_;
      signalSize = size_;
      struct sigaction action = {};
      action.sa_handler = onTerminate;
      sigemptyset(&action.sa_mask);
      sigaction(SIGTERM, &action, nullptr);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduceSum(float *data, size_t count) override {
    reduce(data, count, MPI_FLOAT, "all-reduce of the gradients");
  }
  void allreduceSum(double *data, size_t count) override {
    reduce(data, count, MPI_DOUBLE, "all-reduce of the losses and metrics");
  }

  void iallreduceSum(float *data, size_t count) override {
    constexpr size_t chunk = size_t(1) << 28;
    for (size_t done = 0; done < count; done += chunk) {
      MPI_Request request;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + done,
                           int(std::min(chunk, count - done)), MPI_FLOAT,
                           MPI_SUM, comm_, &request),
            kBucketsWhat);
      started_.push_back(request);
    }
  }

  void progress() override {
    if (started_.empty())
      return;
    int done = 0;
    check(MPI_Testall(int(started_.size()), started_.data(), &done,
                      MPI_STATUSES_IGNORE),
          kBucketsWhat);
    if (done)
      started_.clear();
  }

  void waitAll() override {
    if (started_.empty())
      return;
    waitRequests(started_.data(), int(started_.size()), kBucketsWhat);
    started_.clear();
  }

  void broadcast(void *data, size_t bytes, int root) override {
    // MPI counts are ints: large weights go in chunks.
    constexpr size_t chunk = size_t(1) << 30;
    for (size_t done = 0; done < bytes; done += chunk) {
      MPI_Request request;
      check(MPI_Ibcast(static_cast<char *>(data) + done,
                       int(std::min(chunk, bytes - done)), MPI_BYTE, root,
                       comm_, &request),
            "broadcast of the weights");
      wait(request, "broadcast of the weights");
    }
  }

  void barrier() override {
    MPI_Request request;
    check(MPI_Ibarrier(comm_, &request), "barrier");
    wait(request, "barrier");
  }

  [[noreturn]] void abort(const std::string &message) override {
    std::cerr << "layerc: " << describe() << ": " << message
              << "\nlayerc: stopping every rank of the job; resume training "
                 "from the last checkpoint."
              << std::endl;
    MPI_Abort(comm_, 1);
    std::_Exit(1);
  }

  std::string describe() const override {
    return "MPI rank " + std::to_string(rank_) + " of " + std::to_string(size_);
  }

  void setStep(long long step) override { currentStep = step; }

private:
  void reduce(void *data, size_t count, MPI_Datatype type, const char *what) {
    constexpr size_t chunk = size_t(1) << 28;
    size_t elementBytes = type == MPI_DOUBLE ? 8 : 4;
    for (size_t done = 0; done < count; done += chunk) {
      size_t n = std::min(chunk, count - done);
      MPI_Request request;
      check(MPI_Iallreduce(MPI_IN_PLACE,
                           static_cast<char *>(data) + done * elementBytes,
                           int(n), type, MPI_SUM, comm_, &request),
            what);
      wait(request, what);
    }
  }

  void check(int code, const char *what) {
    if (code != MPI_SUCCESS)
      abort(std::string(what) + " at training step " +
            std::to_string(currentStep.load()) +
            " failed: " + mpiErrorText(code));
  }

  /// Completes `request` or aborts the job past the deadline. Spins for
  /// the first 2 ms (a step's collective usually completes in that time
  /// over shared memory or a fast network), then sleeps between tests so
  /// that a rank waiting for a slow peer leaves its core to others.
  void wait(MPI_Request &request, const char *what) {
    waitRequests(&request, 1, what);
  }

  /// Completes `n` requests (MPI_Testall) or aborts past the deadline.
  void waitRequests(MPI_Request *requests, int n, const char *what) {
    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration<double>(timeout_);
    auto spinUntil = start + std::chrono::milliseconds(2);
    for (;;) {
      int done = 0;
      check(MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE), what);
      if (done)
        return;
      auto now = Clock::now();
      if (now > deadline)
        abort(std::string("no answer from the other ranks for ") +
              std::to_string(int(timeout_)) +
              " s (LAYERC_MPI_TIMEOUT) in the " + what + " at training step " +
              std::to_string(currentStep.load()) + ": a rank died or hangs");
      if (now > spinUntil)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  /// Ranks that share a machine split its cores.
  void setThreadsPerRank() {
    MPI_Comm local;
    MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL,
                        &local);
    int localSize = 1;
    MPI_Comm_size(local, &localSize);
    MPI_Comm_free(&local);
    if (std::getenv("LAYERC_NUM_THREADS"))
      return;
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    unsigned threads = std::max(1u, cores / unsigned(std::max(localSize, 1)));
    setenv("LAYERC_NUM_THREADS", std::to_string(threads).c_str(), 0);
  }

  static constexpr const char *kBucketsWhat =
      "overlapped all-reduce of the gradients";
  /// The all-reduces iallreduceSum started, completed by waitAll.
  std::vector<MPI_Request> started_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  double timeout_ = 300.0;
};

} // namespace

std::shared_ptr<Communicator> layerc::mpiCommunicator() {
  static std::mutex mutex;
  static std::shared_ptr<Communicator> instance;
  std::lock_guard<std::mutex> lock(mutex);
  if (!instance)
    instance = std::make_shared<MpiCommunicator>();
  return instance;
}
