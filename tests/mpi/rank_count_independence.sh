#!/usr/bin/env bash
# The NLL matrix from 1, 2 and 3 ranks is bitwise identical (CPU, fixed threads).
source "$(dirname "$0")/common.sh" "$@"
write_config ref 12
"$DKV" run "$T/ref.yaml" --quiet >/dev/null
for np in 2 3; do
  write_config np$np 12
  $MPIRUN -np $np "$DKV" run "$T/np$np.yaml" --quiet >/dev/null
  same_numbers "$T/out-ref/results.h5" "$T/out-np$np/results.h5"
  echo "np=$np: identical to the single-process run"
done
