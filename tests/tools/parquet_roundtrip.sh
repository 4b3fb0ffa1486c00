#!/usr/bin/env bash
# tools/msmarco_parquet_to_jsonl.py: a parquet file in the HF MS MARCO schema, made from the demo
# dataset, converts back to the same records (gzipped JSONL), and `dkv run` reads that file.
# Exit 77 (skipped) without pyarrow.
set -euo pipefail
DKV=$1
SRC=$2
PY=${DKV_PYTHON:-$SRC/.venv/bin/python}
"$PY" -c "import pyarrow" 2>/dev/null || { echo "SKIP: pyarrow not installed (tools/setup-python.sh)"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$PY" - "$SRC/configs/data/demo_msmarco.jsonl" "$T/in.parquet" <<'PY'
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
rows = []
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except json.JSONDecodeError:
        continue  # the demo's deliberately malformed line
    p = r["passages"]
    if isinstance(p, list):  # Microsoft layout -> HF layout
        r["passages"] = {k: [x[k] for x in p] for k in ("is_selected", "passage_text", "url")}
    r["query_id"] = int(r["query_id"])
    rows.append(r)
schema = pa.schema([("answers", pa.list_(pa.string())),
                    ("passages", pa.struct([("is_selected", pa.list_(pa.int32())),
                                            ("passage_text", pa.list_(pa.string())),
                                            ("url", pa.list_(pa.string()))])),
                    ("query", pa.string()), ("query_id", pa.int32()), ("query_type", pa.string()),
                    ("wellFormedAnswers", pa.list_(pa.string()))])
pq.write_table(pa.Table.from_pylist(rows, schema=schema), sys.argv[2])
json.dump(rows, open(sys.argv[2] + ".expected.json", "w"))
PY
"$PY" "$SRC/tools/msmarco_parquet_to_jsonl.py" "$T/out.jsonl.gz" "$T/in.parquet"
"$PY" - "$T/out.jsonl.gz" "$T/in.parquet.expected.json" <<'PY'
import gzip, json, sys
got = [json.loads(l) for l in gzip.open(sys.argv[1], "rt")]
want = json.load(open(sys.argv[2]))
assert got == want, "converted rows differ from the parquet's"
print(f"{len(got)} rows round-trip")
PY
"$DKV" make-tiny-model "$T/decoder" --arch llama --seed 1 --tokenizer "$SRC/tests/data/tokenizers/mistral_sp" 2>/dev/null
"$DKV" make-tiny-model "$T/embedding" --arch bert --seed 2 2>/dev/null
cat > "$T/run.yaml" <<YAML
name: parquet
model: {path: $T/decoder}
embedding: {path: $T/embedding}
dataset: {path: $T/out.jsonl.gz, num_samples: 2}
surrogate: {max_new_tokens: 3}
output: {dir: $T/out}
YAML
"$DKV" run "$T/run.yaml" --quiet >/dev/null
"$DKV" status "$T/out/results.h5" | head -1
