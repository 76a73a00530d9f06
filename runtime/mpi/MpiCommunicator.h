//===- MpiCommunicator.h - layerc's collectives on MPI ----------*- C++ -*-===//
//
// The Communicator of data-parallel fit() on MPI (Open MPI from Debian,
// launched with mpirun). A separate library, layerc_mpi, so that only
// programs that train across processes link libmpi.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_MPI_MPICOMMUNICATOR_H
#define LAYERC_RUNTIME_MPI_MPICOMMUNICATOR_H

#include "runtime/Communicator.h"

#include <memory>

namespace layerc {

/// The process's MPI communicator, initializing MPI on first use (and
/// finalizing it at exit). On first use it also:
///  - sets LAYERC_NUM_THREADS, when unset, to the cores of this machine
///    divided by the ranks on it, so ranks sharing a machine do not
///    oversubscribe its cores;
///  - installs a SIGTERM handler that prints which rank stopped and at
///    which step (mpirun sends SIGTERM to every rank when one fails).
/// Every collective waits at most LAYERC_MPI_TIMEOUT seconds (300 by
/// default); past that, the rank prints which collective timed out and
/// aborts the whole job (MPI_Abort) instead of hanging.
/// Throws layerc::Error if MPI cannot start.
std::shared_ptr<Communicator> mpiCommunicator();

} // namespace layerc

#endif // LAYERC_RUNTIME_MPI_MPICOMMUNICATOR_H
