#!/usr/bin/env bash
# Stops: SIGUSR1 to mpirun (SLURM's --signal, forwarded by Open MPI), SIGTERM to rank 1 alone
# (relayed to rank 0), SIGTERM to rank 0 alone, SIGTERM to a plain `dkv run` all end with exit
# 75 (resubmit) within bounded time, keep every finished sample, and a rerun completes the run.
# With --stop-grace 1 the work in flight is abandoned after a second (still 75, rows kept).
# SIGTERM to mpirun itself: Open MPI cannot forward it (ess_base_forward_signals refuses
# SIGTERM); it sends the ranks SIGTERM after odls_base_sigkill_timeout (1 s), SIGKILL a second
# later, and exits 1 whatever they return. The ranks' stop still saves every finished sample.
export DKV_TEST_HIDDEN=${DKV_TEST_HIDDEN:-1024}  # slow enough to be interrupted mid-run on an idle machine
source "$(dirname "$0")/common.sh" "$@"
N=24
write_config stop $N 60
R=$T/out-stop/results.h5

# stop_case WHAT SIGNAL EXPECTED_RC MAX_SECONDS [dkv run options]
#   WHAT: mpirun | rank0 | rank1 | single
stop_case() {
  # A signal that lands when every remaining chunk is already in flight lets the run finish
  # (exit 0, all rows): that says nothing about stopping, so such a try is repeated.
  local try
  for try in 1 2 3; do
    stop_try "$@" && return 0
    [ "$?" = 2 ] || exit 1
    echo "  note: the run finished before the stop could take effect; trying again"
  done
  echo "FAIL: $1 SIG$2: the run finished before every one of 3 signals"; exit 1
}

stop_try() {
  local what=$1 sig=$2 want=$3 bound=$4; shift 4
  rm -rf "$T/out-stop"
  if [ "$what" = single ]; then
    "$DKV" run "$T/stop.yaml" --quiet "$@" >/dev/null 2>"$T/err" &
  else
    $MPIRUN -np 2 "$DKV" run "$T/stop.yaml" --quiet "$@" >/dev/null 2>"$T/err" &
  fi
  local launcher=$!
  # WAIT_DONE rows saved before the signal (0: as soon as both ranks hold the run, plus a second)
  local wait_done=${WAIT_DONE:-2}
  if [ "$wait_done" = 0 ]; then
    for _ in $(seq 1 300); do [ -f "$T/out-stop/.dkv-run.lock" ] && [ "$(pgrep -fc "$DKV run $T/stop.yaml")" -ge 2 ] && break; sleep 0.1; done
    sleep 1
  else
    for _ in $(seq 1 300); do [ -f "$R" ] && [ "$(done_count "$R")" -ge "$wait_done" ] && break; sleep 0.1; done
  fi
  local before=0 target
  [ -f "$R" ] && before=$(done_count "$R")
  # Ranks are the dkv processes other than a plain run's launcher pid, oldest first (rank order
  # is not guaranteed by pid, so rank 0 is found by its results-file lock).
  case $what in
    mpirun|single) target=$launcher ;;
    rank0) target=$(sed -nE 's/^pid ([0-9]+) .*/\1/p' "$T/out-stop/.dkv-run.lock") ;;
    rank1) target=$(pgrep -f "$DKV run $T/stop.yaml" | grep -vx "$launcher" |
                    grep -vx "$(sed -nE 's/^pid ([0-9]+) .*/\1/p' "$T/out-stop/.dkv-run.lock")" | head -1) ;;
  esac
  [ -n "$target" ] || { echo "FAIL: $what: no process to signal"; exit 1; }
  [ -z "${DEBUG:-}" ] || { echo "launcher $launcher target $target"; ps -o pid,ppid,args -p "$(pgrep -d, -f "$T/stop.yaml")"; }
  local start rc=0 took after
  start=$(date +%s.%N)
  kill -"$sig" "$target"
  wait "$launcher" || rc=$?
  took=$(echo "$(date +%s.%N) - $start" | bc)
  after=0
  [ -f "$R" ] && after=$(done_count "$R")
  echo "$what SIG$sig: exit $rc after ${took} s; $before/$N saved before the signal, $after/$N after"
  [ "$rc" = 0 ] && [ "$after" = "$N" ] && [ "$want" != 0 ] && return 2
  [ "$rc" = "$want" ] || { echo "FAIL: $what SIG$sig: expected exit code $want"; cat "$T/err"; exit 1; }
  [ "$(echo "$took <= $bound" | bc)" = 1 ] || { echo "FAIL: $what SIG$sig: took more than $bound s"; exit 1; }
  [ "$after" -ge "$before" ] || { echo "FAIL: $what SIG$sig: lost samples"; exit 1; }
  [ "$after" -lt "$N" ] || echo "note: the run had finished before the signal"
  if [ -n "${RESUME:-}" ]; then
    $MPIRUN -np 2 "$DKV" run "$T/stop.yaml" --quiet "$@" >/dev/null 2>"$T/rerun.err" || {
      echo "FAIL: rerun exited $?"; cat "$T/rerun.err"; exit 1; }
    [ "$(done_count "$R")" = "$N" ] || { echo "FAIL: rerun did not finish"; cat "$T/rerun.err"; "$DKV" status "$R"; exit 1; }
    echo "  rerun completed the run"
  fi
}

RESUME=1 stop_case mpirun USR1 75 30
stop_case rank1 TERM 75 30
stop_case rank0 TERM 75 30
stop_case single TERM 75 30
# One work unit per rank and a 1 s grace: the chunk in flight is abandoned, not waited for.
WAIT_DONE=0 stop_case rank1 TERM 75 10 --chunk 12 --stop-grace 1
stop_case mpirun TERM 1 10
