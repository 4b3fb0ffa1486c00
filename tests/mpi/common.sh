# Shared set-up of the MPI/SLURM integration tests (sourced). Usage in a test:
#   source common.sh DKV_BINARY SOURCE_DIR
# Makes tiny models and a deterministic config (runtime.threads: 1, so rows are bitwise
# identical whatever the rank count) in a fresh folder $T, removed on exit.
set -euo pipefail
DKV=$1
SRC=$2
T=$(mktemp -d /tmp/dkv-mpi-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root
MPIRUN="mpirun --oversubscribe --mca btl self,vader"

"$DKV" make-tiny-model "$T/decoder" --arch mistral --seed 5 --init-scale 0.1 --hidden ${DKV_TEST_HIDDEN:-96} \
  --intermediate 192 --layers 2 --heads 4 --kv-heads 2 \
  --tokenizer "$SRC/tests/data/tokenizers/mistral_sp" 2>/dev/null
"$DKV" make-tiny-model "$T/embedding" --arch bert --seed 6 2>/dev/null

# write_config NAME NUM_SAMPLES [MAX_NEW_TOKENS] -> $T/NAME.yaml writing to $T/out-NAME
# (more generated tokens make a run long enough to be interrupted mid-way)
write_config() {
  cat > "$T/$1.yaml" <<YAML
name: $1
model: {path: $T/decoder}
embedding: {path: $T/embedding}
dataset: {path: $SRC/configs/data/demo_msmarco.jsonl, num_samples: $2}
surrogate: {max_new_tokens: ${3:-6}}
runtime: {threads: 1, checkpoint_every: 2}
output: {dir: $T/out-$1}
YAML
}

# same_numbers A.h5 B.h5: bitwise-equal NLL matrices, first-token NLLs and surrogates.
same_numbers() {
  for d in /nll /first_token_nll /answer_tokens /samples/surrogate /samples/done; do
    h5diff -d 0 "$1" "$2" "$d" >/dev/null 2>&1 || h5diff "$1" "$2" "$d" >/dev/null || {
      echo "FAIL: $d differs between $1 and $2"; h5diff "$1" "$2" "$d" | head -5; return 1; }
  done
}

done_count() { "$DKV" status "$1" | head -1 | sed -E 's/.*: ([0-9]+)\/([0-9]+) samples done.*/\1/'; }
