#!/usr/bin/env python3
"""HF `tokenizers` side of `dkv bench tokenize` (src/cli/cmd_bench_tokenize.cpp).

  bench_tokenize_hf.py write-text OUT.jsonl [--mb 10]
      ~MB megabytes of web-passage-like JSONL {"text": ...} documents (seeded; built from the
      sentence generator in tools/gen_tokenizer_golden.py)
  bench_tokenize_hf.py measure --tokenizer DIR --text IN.jsonl [--threads N] [--repeats R]
      Tokenizer.encode_batch over all documents with add_special_tokens=True: prints one JSON
      line {"docs", "tokens", "seconds" (median of R after one warm-up), "checksum", "threads"}.
      Set RAYON_NUM_THREADS / RAYON_RS_NUM_CPUS before starting for the thread count.
"""
import argparse
import importlib.util
import json
import os
import random
import statistics
import sys
import time


def checksum(batch):
    # Same as cmd_bench_tokenize.cpp: sum of id * (position + 1), modulo 2^64.
    total = 0
    for ids in batch:
        for i, t in enumerate(ids):
            total += t * (i + 1)
    return total % (1 << 64)


def write_text(out, mb):
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("gen", os.path.join(here, "gen_tokenizer_golden.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    lines = gen.training_text() + gen.CASES + gen.stress_cases()
    rng = random.Random(0)
    size = 0
    with open(out, "w", encoding="utf-8") as f:
        while size < mb * 1_000_000:
            doc = " ".join(rng.choice(lines) for _ in range(8))
            f.write(json.dumps({"text": doc}, ensure_ascii=False) + "\n")
            size += len(doc.encode("utf-8")) + 1


def measure(tokenizer_dir, text, threads, repeats):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    with open(text, encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f if line.strip()]
    enc = tok.encode_batch(docs)  # warm-up, and the ids for the checksum
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tok.encode_batch(docs)
        times.append(time.perf_counter() - t0)
    ids = [e.ids for e in enc]
    print(json.dumps({"docs": len(docs), "tokens": sum(len(i) for i in ids),
                      "seconds": statistics.median(times), "checksum": checksum(ids),
                      "threads": threads}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["write-text", "measure"])
    p.add_argument("path", nargs="?")
    p.add_argument("--mb", type=float, default=10)
    p.add_argument("--tokenizer")
    p.add_argument("--text")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    if a.cmd == "write-text":
        write_text(a.path, a.mb)
    else:
        measure(a.tokenizer, a.text, a.threads, a.repeats)


if __name__ == "__main__":
    sys.exit(main())
