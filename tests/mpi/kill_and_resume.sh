#!/usr/bin/env bash
# Fault injection: kill -9 one rank, or every process, at random moments, several times; the
# file stays readable after each kill, and resuming ends with the uninterrupted run's numbers.
export DKV_TEST_HIDDEN=256  # slow enough to be interrupted mid-run
source "$(dirname "$0")/common.sh" "$@"
N=24
write_config ref $N 60
"$DKV" run "$T/ref.yaml" --quiet >/dev/null
write_config faulty $N 60
R=$T/out-faulty/results.h5
RANDOM=7  # reproducible kill schedule
for attempt in 1 2 3 4; do
  $MPIRUN -np 2 "$DKV" run "$T/faulty.yaml" --quiet >/dev/null 2>&1 &
  launcher=$!
  # Model loading takes ~1 s and the whole run a few more: kill somewhere in between.
  sleep "$(( RANDOM % 2 + 1 )).$(( RANDOM % 10 ))"
  ranks=$(pgrep -f "dkv run $T/faulty.yaml" | grep -v "^$launcher$" || true)
  if [ $((attempt % 2)) = 1 ] && [ -n "$ranks" ]; then
    victim=$(echo "$ranks" | shuf -n 1 --random-source=<(yes))
    kill -9 "$victim" 2>/dev/null || true; what="one rank ($victim)"
  else
    kill -9 "$launcher" $ranks 2>/dev/null || true; what="every process"
  fi
  wait "$launcher" 2>/dev/null || true
  pkill -9 -f "dkv run $T/faulty.yaml" 2>/dev/null || true
  sleep 0.5
  if [ -f "$R" ]; then
    h5ls "$R" >/dev/null                # readable by HDF5 tools
    echo "attempt $attempt: killed $what; $(done_count "$R")/$N samples saved"
    [ "$(done_count "$R")" = "$N" ] && break
  else
    echo "attempt $attempt: killed $what before the first flush"
  fi
done
$MPIRUN -np 2 "$DKV" run "$T/faulty.yaml" --quiet >/dev/null
[ "$(done_count "$R")" = "$N" ] || { echo "FAIL: resume did not finish"; exit 1; }
same_numbers "$T/out-ref/results.h5" "$R"
echo "resumed run equals the uninterrupted one"
