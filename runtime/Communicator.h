//===- Communicator.h - The collectives of data-parallel training -*- C++
//-*-===//
//
// Data-parallel fit() (runtime/DistributedTraining.cpp) needs these
// collectives from whatever engine connects its processes: an all-reduce
// (sum) of one fused float buffer of gradients per step (or of its buckets,
// started without waiting while the backward pass runs), an all-reduce of
// a few doubles (losses and metrics) and a broadcast of the weights from
// rank 0; a barrier is there for applications. This interface is
// all the training loop knows of that engine, so the runtime depends on no
// MPI header; runtime/mpi/ implements it on MPI (Open MPI under mpirun).
//
// Every call is collective: all ranks make it, in the same order, with the
// same sizes. A call that cannot complete (a peer died or hangs) throws
// layerc::Error or ends the process with a message; it never blocks forever.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_COMMUNICATOR_H
#define LAYERC_RUNTIME_COMMUNICATOR_H

#include <cstddef>
#include <string>

namespace layerc {

class Communicator {
public:
  virtual ~Communicator();
  /// This process's rank in [0, size()).
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// In place: data[i] becomes the sum of data[i] over all ranks.
  virtual void allreduceSum(float *data, size_t count) = 0;
  virtual void allreduceSum(double *data, size_t count) = 0;
  /// Starts the in-place sum of data[0, count) over all ranks and returns
  /// at once; the data must stay untouched until waitAll(). Used for the
  /// buckets of gradients started during the backward pass. The default
  /// sums at once.
  virtual void iallreduceSum(float *data, size_t count) {
    allreduceSum(data, count);
  }
  /// Lets the started all-reduces advance without blocking (MPI advances
  /// them only inside its calls).
  virtual void progress() {}
  /// Completes every started all-reduce, within the same deadline as the
  /// blocking collectives.
  virtual void waitAll() {}
  /// In place: every rank receives root's `bytes` bytes.
  virtual void broadcast(void *data, size_t bytes, int root) = 0;
  virtual void barrier() = 0;
  /// Ends every rank of the job after printing `message` on this one; for
  /// an error one rank hit in the middle of a collective phase, which its
  /// peers would otherwise wait on.
  [[noreturn]] virtual void abort(const std::string &message) = 0;
  /// "MPI rank 1 of 2" for messages.
  virtual std::string describe() const = 0;
  /// The training step under way (1-based), for the messages of a rank
  /// that stops or times out.
  virtual void setStep(long long /*step*/) {}
};

} // namespace layerc

#endif // LAYERC_RUNTIME_COMMUNICATOR_H
