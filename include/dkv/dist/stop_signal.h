// Graceful stop: SIGTERM, SIGINT and SIGUSR1 (what SLURM sends before a time limit with
// --signal) set a flag; the run loop stops handing out work, finishes what is in flight,
// flushes and exits with kExitResubmit so a job script knows to requeue.
#pragma once

namespace dkv::dist {

inline constexpr int kExitResubmit = 75;  // EX_TEMPFAIL: stopped early, resubmit to resume

void install_stop_handlers();
bool stop_requested();

}  // namespace dkv::dist
