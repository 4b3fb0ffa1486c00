#!/usr/bin/env bash
# The body every dkv job script runs inside its allocation: start the ranks, forward SLURM's
# warning signal (or the SIGTERM of a requeue/cancel) to them as SIGUSR1 so they stop cleanly,
# and requeue the job when dkv says it stopped early (exit code 75). Rerunning resumes from
# results.h5. Usage: jobs/run-dkv.sh LAUNCHER... -- CONFIG [dkv run options]
set -u
launcher=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do launcher+=("$1"); shift; done
shift  # the --
DKV=${DKV:-build/dkv}

echo "dkv job ${SLURM_JOB_ID:-?} restart ${SLURM_RESTART_COUNT:-0} on $(hostname): ${launcher[*]} $DKV run $*"
"${launcher[@]}" "$DKV" run "$@" &
pid=$!
stop() { kill -USR1 "$pid" 2>/dev/null; }
trap stop USR1 TERM
# `wait` returns early when a trapped signal arrives: keep waiting for the real exit status.
rc=0
while :; do
  wait "$pid"; rc=$?
  kill -0 "$pid" 2>/dev/null || break
done
if [ "$rc" = 75 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "dkv stopped early; requeueing job $SLURM_JOB_ID to resume"
  scontrol requeue "$SLURM_JOB_ID" || true
fi
exit "$rc"
