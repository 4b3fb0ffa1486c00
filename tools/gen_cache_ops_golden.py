#!/usr/bin/env python3
"""Regenerates tests/golden/cache_ops_llama.json: answer NLLs of cache operations (matched cut +
re-rotation, a values-only hybrid on a layer range, a value interpolation with alpha = 0.5, the
BOS-only cache, a build-time attention bias on the prefix columns) computed with HF transformers' own Llama code on a tiny checkpoint written by
`dkv make-tiny-model`; tests/test_cache_ops_golden.cpp builds the same caches with dkv's planner
and executor and compares.

Usage: tools/gen_cache_ops_golden.py BUILD/dkv [OUT_DIR]   (transformers 4.42-4.43 + torch; the
venv of tools/setup-python.sh). The caches are edited with DynamicCache's key/value lists and
keys re-rotated with the model module's apply_rotary_pos_emb (half-split rotate_half).
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from transformers import AutoModelForCausalLM, DynamicCache

ARGS = ["--arch", "llama", "--seed", "21", "--vocab", "96", "--hidden", "64", "--intermediate", "112",
        "--layers", "4", "--heads", "4", "--kv-heads", "2", "--init-scale", "0.1"]
BOS = 1
PREFIX = [17, 42, 8, 77, 5, 66]
DOC = [30, 31, 9, 64, 12, 3, 88, 45, 21, 60, 14]
QUERY = [50, 6, 71, 33]
ANSWER = [19, 4, 60, 27]
VALUE_LAYERS = [1, 2]
BIAS = -2.0


def rotate_keys(model, key, delta):
    from importlib import import_module
    mod = import_module(type(model).__module__)
    cos, sin = model.model.rotary_emb(key, torch.tensor([delta]))
    rotated, _ = mod.apply_rotary_pos_emb(key, key, cos, sin)
    return rotated


def prefill(model, ids):
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=True, past_key_values=DynamicCache())
    return out.past_key_values


def answer_nll(model, cache):
    """Mean NLL of ANSWER after QUERY, continuing `cache` at HF's default positions."""
    ids = QUERY + ANSWER
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), past_key_values=cache, use_cache=True).logits[0]
    logp = torch.log_softmax(logits.double(), -1)
    rows = range(len(QUERY) - 1, len(ids) - 1)
    return float(-sum(logp[r, ids[r + 1]] for r in rows) / len(ANSWER))


def biased_prefill(model, ids, bias_columns, bias):
    """Prefill with HF's 4-D additive mask (transformers 4.43 takes a 4-D mask as given): causal,
    plus `bias` on every row that is not a bias column, at the bias columns."""
    n = len(ids)
    low = torch.finfo(torch.float32).min
    mask = torch.full((n, n), low).triu(1)
    rows = [r for r in range(n) if r not in bias_columns]
    for r in rows:
        for c in bias_columns:
            if c <= r:
                mask[r, c] += bias
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), attention_mask=mask.view(1, 1, n, n), use_cache=True,
                    past_key_values=DynamicCache())
    return out.past_key_values


def build(keys, values):
    c = DynamicCache()
    for layer, (k, v) in enumerate(zip(keys, values)):
        c.update(k.contiguous(), v.contiguous(), layer)
    return c


def main():
    dkv = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([dkv, "make-tiny-model", tmp] + ARGS, check=True)
        model = AutoModelForCausalLM.from_pretrained(tmp, torch_dtype=torch.float32, attn_implementation="eager")
        model.eval()
        layers = model.config.num_hidden_layers
        bare = prefill(model, [BOS] + DOC)
        primed_full = prefill(model, [BOS] + PREFIX + DOC)
        keep = [0] + list(range(1 + len(PREFIX), 1 + len(PREFIX) + len(DOC)))
        delta = [0] + [-len(PREFIX)] * len(DOC)
        pk = [rotate_keys(model, primed_full.key_cache[l][:, :, keep, :], delta) for l in range(layers)]
        pv = [primed_full.value_cache[l][:, :, keep, :] for l in range(layers)]
        bk = [bare.key_cache[l] for l in range(layers)]
        bv = [bare.value_cache[l] for l in range(layers)]
        # Values replaced on the document entries (1..D); BOS keeps the bare value (equal anyway).
        def doc_mix(alpha, layer_set):
            out = []
            for l in range(layers):
                v = bv[l].clone()
                if l in layer_set:
                    v[:, :, 1:, :] = bv[l][:, :, 1:, :] + alpha * (pv[l][:, :, 1:, :] - bv[l][:, :, 1:, :])
                out.append(v)
            return out
        # The build-time bias on the prefix columns (BOS excluded), then the same cut.
        biased = biased_prefill(model, [BOS] + PREFIX + DOC, list(range(1, 1 + len(PREFIX))), BIAS)
        bk2 = [rotate_keys(model, biased.key_cache[l][:, :, keep, :], delta) for l in range(layers)]
        bv2 = [biased.value_cache[l][:, :, keep, :] for l in range(layers)]
        cases = {
            "prefix_bias_cut_rerotated": answer_nll(model, build(bk2, bv2)),
            "bare": answer_nll(model, build(bk, bv)),
            "matched_cut_rerotated": answer_nll(model, build(pk, pv)),
            "values_only_layers_1_2": answer_nll(model, build(bk, doc_mix(1.0, VALUE_LAYERS))),
            "interpolation_alpha_0.5": answer_nll(model, build(bk, doc_mix(0.5, range(layers)))),
            "bos_only": answer_nll(model, prefill(model, [BOS])),
        }
        # The operations must matter, or the comparison checks nothing.
        assert abs(cases["prefix_bias_cut_rerotated"] - cases["matched_cut_rerotated"]) > 1e-3
        for name in ("matched_cut_rerotated", "values_only_layers_1_2", "interpolation_alpha_0.5", "bos_only"):
            assert abs(cases[name] - cases["bare"]) > 1e-3, name
    golden = {
        "generator": "tools/gen_cache_ops_golden.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "make_tiny_model_args": ARGS,
        "ids": {"bos": BOS, "prefix": PREFIX, "document": DOC, "query": QUERY, "answer": ANSWER},
        "value_layers": VALUE_LAYERS,
        "prefix_bias": BIAS,
        "nll": cases,
    }
    path = os.path.join(out_dir, "cache_ops_llama.json")
    with open(path, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
