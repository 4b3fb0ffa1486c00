#!/usr/bin/env bash
# The body every dkv job script runs inside its allocation: start the ranks, turn SLURM's
# warning signal and a requeue's or scancel's SIGTERM into dkv's graceful stop, and requeue the
# job when dkv says it stopped early (exit code 75). Rerunning resumes from results.h5.
# Usage: jobs/run-dkv.sh LAUNCHER... -- CONFIG [dkv run options]
# What happens when is described in jobs/README.md ("Stops, requeues and time limits").
set -u
launcher=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do launcher+=("$1"); shift; done
shift  # the --
DKV=${DKV:-build/dkv}
# Seconds the work in flight may take after a stop (dkv run --stop-grace); below SLURM's
# KillWait (30 s by default), after which SLURM sends SIGKILL to everything.
GRACE=${DKV_STOP_GRACE:-20}
# mpirun cannot forward SIGTERM (Open MPI refuses it in ess_base_forward_signals): on SIGTERM it
# waits odls_base_sigkill_timeout, sends the ranks SIGTERM, waits as long again, then SIGKILL.
# SLURM signals every process of the job at once, so the ranks already stop at once; this
# keeps mpirun from killing them before their grace is over.
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-$GRACE}

echo "dkv job ${SLURM_JOB_ID:-?} restart ${SLURM_RESTART_COUNT:-0} on $(hostname): ${launcher[*]} $DKV run $*"
"${launcher[@]}" "$DKV" run --stop-grace "$GRACE" "$@" &
pid=$!
# USR1 is forwarded by mpirun (and srun) to every rank; the ranks treat it like SIGTERM. When
# SLURM itself sends SIGTERM (requeue, scancel, time limit) mpirun gets it too and, aborting,
# forwards nothing: so the ranks that are mpirun's children here (rank 0 among them) are also
# signalled directly. Rank 0 then flushes at once and hands out no more work, which stops
# ranks on other nodes when their chunk in flight returns.
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
stop() {
  echo "dkv job: stop signal at $(date -u +%H:%M:%S), asking the ranks to stop"
  [ -z "${DKV_JOB_DEBUG:-}" ] || ps -o pid,ppid,args --forest -g "$(ps -o sid= $$ | tr -d ' ')"
  kill -USR1 "$pid" 2>/dev/null
  for c in $(descendants "$pid"); do kill -USR1 "$c" 2>/dev/null; done
}
trap stop USR1 TERM INT
# `wait` returns early when a trapped signal arrives: keep waiting for the real exit status.
rc=0
while :; do
  wait "$pid"; rc=$?
  kill -0 "$pid" 2>/dev/null || break
done
echo "dkv job: dkv exited with code $rc"
if [ "$rc" = 75 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "dkv stopped early; requeueing job $SLURM_JOB_ID to resume"
  scontrol requeue "$SLURM_JOB_ID" || true
fi
exit "$rc"
