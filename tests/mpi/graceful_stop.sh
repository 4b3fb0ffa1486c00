#!/usr/bin/env bash
# SIGUSR1 (SLURM's --signal) to mpirun reaches every rank: the run stops within bounded time,
# keeps what finished, exits 75 (resubmit), and a rerun completes it.
export DKV_TEST_HIDDEN=256  # slow enough to be interrupted mid-run
source "$(dirname "$0")/common.sh" "$@"
N=24
write_config stop $N 60
R=$T/out-stop/results.h5
$MPIRUN -np 2 "$DKV" run "$T/stop.yaml" --quiet >/dev/null 2>&1 &
launcher=$!
for _ in $(seq 1 100); do [ -f "$R" ] && break; sleep 0.1; done
sleep 1
start=$(date +%s)
kill -USR1 "$launcher"
rc=0; wait "$launcher" || rc=$?
echo "stopped after $(( $(date +%s) - start )) s with exit code $rc; $(done_count "$R")/$N saved"
[ "$rc" = 75 ] || { echo "FAIL: expected exit code 75"; exit 1; }
[ "$(done_count "$R")" -lt "$N" ] || echo "note: the run had finished before the signal"
$MPIRUN -np 2 "$DKV" run "$T/stop.yaml" --quiet >/dev/null
[ "$(done_count "$R")" = "$N" ] || { echo "FAIL: rerun did not finish"; exit 1; }
echo "rerun completed the run"
