// MPI world, checked calls, thread configuration.
#include "dkv/dist/world.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
// The C bindings only (Open MPI would otherwise pull in its deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <unistd.h>

#include <cstdlib>

#include "dkv/core/error.h"

namespace dkv::dist {

namespace {
void check(int rc, const char* call) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(rc, text, &n);
    throw IoError(std::string(call) + " failed: " + std::string(text, n));
  }
}
}  // namespace

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

World::World() {
  if (!launched_by_mpi()) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_SERIALIZED)
    throw IoError("MPI_Init_thread: the MPI library does not provide MPI_THREAD_SERIALIZED");
  mpi_ = true;
  // Errors come back as codes (checked) instead of aborting inside MPI.
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
        "MPI_Comm_split_type");
  check(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank(node)");
  check(MPI_Comm_size(node, &local_size_), "MPI_Comm_size(node)");
  MPI_Comm_free(&node);
}

World::~World() {
  if (mpi_) MPI_Finalize();
}

bool World::agree(int status_on_root) const {
  if (!mpi_) return status_on_root == 0;
  int s = status_on_root;
  check(MPI_Bcast(&s, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast(status)");
  return s == 0;
}

void World::abort(int code) const {
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void World::send(int dest, int tag, const std::string& bytes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD),
        "MPI_Send");
}

std::string World::recv(int source, int tag, int* from, int* tag_out) const {
  // Poll with a short sleep instead of MPI_Probe: Open MPI's blocking probe spins a core, and
  // rank 0's service thread shares its node's cores with the ranks computing there. The lock
  // is held from the probe to the receive, so no other thread takes the probed message.
  MPI_Status st;
  std::unique_lock<std::mutex> lock(mutex_);
  for (int flag = 0;;) {
    check(MPI_Iprobe(source < 0 ? MPI_ANY_SOURCE : source, tag < 0 ? MPI_ANY_TAG : tag, MPI_COMM_WORLD, &flag, &st),
          "MPI_Iprobe");
    if (flag) break;
    lock.unlock();
    usleep(500);
    lock.lock();
  }
  int n = 0;
  check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count");
  std::string bytes(static_cast<size_t>(n), '\0');
  check(MPI_Recv(bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  if (from) *from = st.MPI_SOURCE;
  if (tag_out) *tag_out = st.MPI_TAG;
  return bytes;
}

int configure_threads(int threads, int local_size) {
  if (threads <= 0) {
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    threads = static_cast<int>(std::max(1L, cores / std::max(1, local_size)));
  }
  // LibTorch keeps one intra-op thread; the BLAS gets the rank's share of the cores (raising
  // both makes them compete for the same cores).
  using SetFn = void (*)(int);
  if (auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(threads);
    at::set_num_threads(1);
  } else {
    at::set_num_threads(threads);
  }
  return threads;
}

}  // namespace dkv::dist
