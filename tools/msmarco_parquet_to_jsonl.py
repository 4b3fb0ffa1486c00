#!/usr/bin/env python3
"""Converts the HuggingFace MS MARCO parquet files (microsoft/ms_marco, v1.1 or v2.1, any
split) to the JSONL dkv reads: one object per line with query, query_id, query_type, answers,
wellFormedAnswers and passages {is_selected: [...], passage_text: [...], url: [...]}.

Usage: tools/msmarco_parquet_to_jsonl.py OUT.jsonl[.gz] IN.parquet [IN2.parquet ...]
Needs pyarrow (tools/setup-python.sh installs it into .venv). Rows keep the files' order.
"""
import gzip
import json
import sys

import pyarrow.parquet as pq

COLUMNS = ["query", "query_id", "query_type", "answers", "wellFormedAnswers", "passages"]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_path, inputs = sys.argv[1], sys.argv[2:]
    opener = gzip.open if out_path.endswith(".gz") else open
    rows = 0
    with opener(out_path, "wt", encoding="utf-8") as out:
        for path in inputs:
            table = pq.read_table(path)
            missing = [c for c in COLUMNS if c not in table.column_names]
            if missing:
                sys.exit(f"{path}: not an MS MARCO parquet file: missing columns {missing} "
                         f"(found {table.column_names})")
            for batch in table.to_batches():
                for record in batch.to_pylist():
                    out.write(json.dumps({c: record[c] for c in COLUMNS}, ensure_ascii=False) + "\n")
                    rows += 1
    print(f"wrote {rows} rows to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
