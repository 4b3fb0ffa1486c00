// The MPI world of a run (RAII): initialised only when dkv was started by a launcher (mpirun,
// srun), so plain `dkv run` needs no MPI runtime. Every MPI call goes through a checked helper.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dkv::dist {

class World {
 public:
  // Initialises MPI (thread level SERIALIZED: rank 0 talks from a service thread while its
  // main thread computes) when a launcher's environment is present; otherwise a world of one.
  World();
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  bool mpi() const { return mpi_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // among the ranks on this node
  int local_size() const { return local_size_; }

  // Rank 0's status broadcast to all (0 = go on); false on ranks told to stop.
  bool agree(int status_on_root) const;
  // Ends every rank with `code` (MPI_Abort), so no rank hangs in a collective.
  [[noreturn]] void abort(int code) const;

  // Point-to-point byte messages (tags below). Safe to call from several threads of a rank:
  // each MPI call is serialized by a mutex, as MPI_THREAD_SERIALIZED requires.
  void send(int dest, int tag, const std::string& bytes) const;
  // source -1 = any; tag -1 = any, the tag received is stored in *tag_out when given.
  std::string recv(int source, int tag, int* from, int* tag_out = nullptr) const;

  static constexpr int kTagRows = 11;   // worker -> rank 0: finished rows (possibly none)
  static constexpr int kTagWork = 12;   // rank 0 -> worker: next chunk (empty = stop)
  static constexpr int kTagStop = 13;   // worker -> rank 0: this rank received a stop signal

 private:
  mutable std::mutex mutex_;
  bool mpi_ = false;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

// True when a launcher started this process (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK set).
bool launched_by_mpi();

// Sets the BLAS threads of this rank (OpenBLAS when present, else LibTorch's intra-op threads).
// threads <= 0: the node's cores divided by the ranks on it, at least 1.
int configure_threads(int threads, int local_size);

}  // namespace dkv::dist
