// Async-signal-safe stop flag.
#include "dkv/dist/stop_signal.h"

#include <csignal>

namespace dkv::dist {

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a stop arriving during a read or write resumes it instead of failing it.
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);
}

bool stop_requested() { return g_stop != 0; }

void request_stop() { g_stop = 1; }

}  // namespace dkv::dist
