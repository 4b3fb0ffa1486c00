// Graceful stop: SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (SLURM's --signal warning, a requeue's
// or scancel's SIGTERM, mpirun's forwarded USR1/USR2) set a flag. A worker rank that sees it
// tells rank 0 (World::kTagStop), so a signal to any one rank stops the whole run. Rank 0 then
// flushes every finished row at once, hands out no more work, waits for the chunks in flight
// at most the stop grace, flushes again and exits with kExitResubmit so a job script knows to
// requeue (runner.cpp).
#pragma once

namespace dkv::dist {

inline constexpr int kExitResubmit = 75;  // EX_TEMPFAIL: stopped early, resubmit to resume

void install_stop_handlers();
bool stop_requested();
// Sets the flag as a signal would (a stop relayed from another rank).
void request_stop();

}  // namespace dkv::dist
