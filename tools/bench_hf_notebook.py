#!/usr/bin/env python3
"""dkv against HF transformers running the study notebook's call pattern, on the same model,
samples and thread count, side by side in one run; every HF NLL is also compared with dkv's.

Usage: .venv/bin/python tools/bench_hf_notebook.py BUILD/dkv [--config configs/demo.yaml]
           [--samples 4] [--threads 2]
1. `dkv run` of the config on the first N samples (--threads T, --dump-tokens) into a temp
   folder: its per-sample compute time is results.h5's /samples/seconds.
2. HF transformers (LlamaForCausalLM on the GGUF's weights, dequantized by gguf-py and
   un-permuted by transformers' reverse_permute_weights), one intra-op thread and T BLAS threads
   as dkv runs, replaying
   the notebook per sample: one generate() for the surrogate (sampling as the config says, as
   many new tokens as dkv generated), then per condition one prefill forward of that condition's
   ids and one forward of query + answer over its cache (cut caches sliced and their keys
   re-rotated with HF's apply_rotary_pos_emb), no sharing between conditions.
Prints the BLAS setup, both times, the ratio, and max |NLL_dkv - NLL_HF| over all rows.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_gguf_real import hf_model, hf_tokenizer, field  # noqa: E402


def blas_line():
    try:
        from threadpoolctl import threadpool_info
        info = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '?')} x{i.get('num_threads')}"
                for i in threadpool_info()]
    except Exception:
        info = ["threadpoolctl unavailable"]
    return (f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, BLAS: {'; '.join(info)}, "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")


def rerotate(model, key, old_pos, new_pos):
    """Rotate cached keys from positions old_pos to new_pos: RoPE by the difference (rotate_half)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    delta = torch.tensor([[n - o for o, n in zip(old_pos, new_pos)]])
    cos, sin = model.model.rotary_emb(key, delta)
    rotated, _ = apply_rotary_pos_emb(key, key, cos, sin)
    return rotated


def score_condition(model, cond, query_ids, answer_ids):
    from transformers import DynamicCache
    ids = cond["prefill_ids"]
    start = cond["prefill_positions"]
    pos = list(range(start, start + len(ids)))
    with torch.no_grad():
        out = model(torch.tensor([ids]), position_ids=torch.tensor([pos]), use_cache=True)
        cache = out.past_key_values
        legacy = cache.to_legacy_cache() if hasattr(cache, "to_legacy_cache") else cache
        kept = cond["kept_entries"]
        if kept != list(range(len(ids))) or cond["kept_positions"] != [pos[k] for k in kept]:
            new = DynamicCache()
            idx = torch.tensor(kept)
            for layer, (k, v) in enumerate(legacy):
                k, v = k[:, :, idx, :], v[:, :, idx, :]
                if cond["kept_positions"] != [pos[e] for e in kept]:
                    k = rerotate(model, k, [pos[e] for e in kept], cond["kept_positions"])
                new.update(k.contiguous(), v.contiguous(), layer)
            cache = new
        scored = query_ids + answer_ids
        n_cache = len(kept)
        s0 = cond["scored_positions"]
        logits = model(torch.tensor([scored]), position_ids=torch.tensor([list(range(s0, s0 + len(scored)))]),
                       attention_mask=torch.ones(1, n_cache + len(scored), dtype=torch.long),
                       past_key_values=cache, use_cache=True).logits[0]
        pred = logits[len(query_ids) - 1:len(scored) - 1]
        return torch.nn.functional.cross_entropy(pred, torch.tensor(answer_ids)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dkv")
    ap.add_argument("--config", default="configs/demo.yaml")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import h5py
    import yaml
    spec = yaml.safe_load(open(a.config))
    spec["dataset"]["num_samples"] = a.samples
    spec["name"] = "bench_hf_notebook"
    model_path = spec["model"]["path"]
    if not model_path.endswith(".gguf"):
        raise SystemExit("this benchmark reads the model from a GGUF file (configs/demo.yaml's SmolLM2)")
    surrogate = spec.get("surrogate", {})
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "config.yaml")
        yaml.safe_dump(spec, open(cfg, "w"))
        out = os.path.join(tmp, "out")
        t0 = time.perf_counter()
        subprocess.run([a.dkv, "run", cfg, "--out", out, "--threads", str(a.threads), "--dump-tokens", "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        dkv_wall = time.perf_counter() - t0
        with h5py.File(os.path.join(out, "results.h5")) as f:
            dkv_seconds = float(np.sum(f["samples/seconds"][:]))
            dkv_nll = f["nll"][:]
            passages = [p.decode() for p in f["samples/passage"][:]]
            surrogates = [p.decode() for p in f["samples/surrogate"][:]]
            cond_ids = [c.decode() for c in f["conditions/id"][:]]
        dump = [json.loads(l) for l in open(os.path.join(out, "tokens.jsonl"))]
    dump = {d["sample"]: d for d in dump}

    # As dkv runs: one LibTorch intra-op thread, the BLAS with T threads (raising both makes them fight).
    torch.set_num_threads(1)
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=a.threads, user_api="blas")
    from gguf import GGUFReader
    reader = GGUFReader(model_path)
    model = hf_model(reader)
    tk = hf_tokenizer(reader)
    from transformers import PreTrainedTokenizerFast
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tk)
    hf_tok.chat_template = field(reader, "tokenizer.chat_template")
    instruction = surrogate.get("instruction", "Read the following text and write ONE short search query (3-8 words) "
                                "that someone would type into Google to find this text. Output only the query with "
                                "no quotes, alternatives, or explanation.")
    block = surrogate.get("document_block", "\n\nText:\n{document}")
    eos = field(reader, "tokenizer.ggml.eos_token_id")
    worst, rows = 0.0, 0
    t0 = time.perf_counter()
    for i, sample in enumerate(sorted(dump)):
        d = dump[sample]
        prompt = hf_tok.apply_chat_template([{"role": "user", "content": instruction + block.replace("{document}", passages[i])}],
                                            tokenize=False, add_generation_prompt=True)
        ids = tk.encode(prompt).ids
        n_new = len(tk.encode(surrogates[i]).ids) + 1  # as many decode steps as dkv ran (EOS included)
        with torch.no_grad():
            model.generate(torch.tensor([ids]), do_sample=True, temperature=surrogate.get("temperature", 0.3),
                           top_k=surrogate.get("top_k", 50), max_new_tokens=n_new, min_new_tokens=n_new,
                           pad_token_id=eos)
        for c in d["conditions"]:
            nll = score_condition(model, c, d["query_ids"], d["answer_ids"])
            j = cond_ids.index(c["id"])
            worst = max(worst, abs(nll - float(dkv_nll[i, j])))
            rows += 1
    hf_seconds = time.perf_counter() - t0
    n = len(dump)
    print(blas_line())
    print(f"workload: {n} samples x {len(cond_ids)} conditions of {a.config}, {model_path}, fp32, {a.threads} threads")
    print(f"dkv run:                 {dkv_seconds:.1f} s compute ({n / dkv_seconds:.3f} samples/s; {dkv_wall:.1f} s wall with load and report)")
    print(f"HF notebook call pattern: {hf_seconds:.1f} s ({n / hf_seconds:.3f} samples/s; model load excluded)")
    print(f"speed ratio HF / dkv: {hf_seconds / dkv_seconds:.2f}")
    print(f"NLL agreement over {rows} rows: max |dkv - HF| = {worst:.2e} nats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
