#!/usr/bin/env python3
"""Regenerates tests/golden/hf_<arch>.json: logits from HF transformers' own modeling code for
tiny checkpoints written by `dkv make-tiny-model`, which tests/test_hf_golden.cpp compares with.

Usage: tools/gen_hf_golden.py BUILD/dkv [OUT_DIR]   (needs transformers 4.42-4.43 + torch;
tools/setup-python.sh makes such a venv). Cases:
  plain       forward over ids at positions 0..n-1
  positions   the same ids at explicit positions starting at 20
  cut         cache of [BOS]+prefix+doc, keep BOS + doc, re-rotate doc keys by -(len(prefix))
              with HF's apply_rotary_pos_emb, then continue with query ids (HF default positions)
  cut_broken  the same cut without re-rotation (kept keys stay at their old positions)
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from transformers import AutoModelForCausalLM, DynamicCache

# Same shapes as the C++ test builds; init_scale 0.1 so that position errors show.
MODELS = {
    "llama": ["--arch", "llama", "--seed", "11"],
    "mistral": ["--arch", "mistral", "--seed", "12", "--sliding-window", "9"],
    "qwen2": ["--arch", "qwen2", "--seed", "13"],
}
COMMON = ["--vocab", "96", "--hidden", "64", "--intermediate", "112", "--layers", "2",
          "--heads", "4", "--kv-heads", "2", "--init-scale", "0.1"]
BOS = 1
PREFIX = [17, 42, 8, 77, 5]
DOC = [30, 31, 9, 64, 12, 3, 88, 45, 21, 60, 14]
QUERY = [50, 6, 71, 33, 19]


def rotary_module(model):
    inner = model.model
    if hasattr(inner, "rotary_emb"):
        return inner.rotary_emb
    return inner.layers[0].self_attn.rotary_emb


def rotate_keys(model, key, delta):
    """Rotates cached keys [1, Hkv, T, D] by per-entry deltas [T] with HF's own RoPE code."""
    from importlib import import_module
    mod = import_module(type(model).__module__)
    cos, sin = rotary_module(model)(key, torch.tensor([delta]))
    rotated, _ = mod.apply_rotary_pos_emb(key, key, cos, sin)
    return rotated


def run_cut(model, correct):
    full = [BOS] + PREFIX + DOC
    with torch.no_grad():
        out = model(input_ids=torch.tensor([full]), use_cache=True,
                    past_key_values=DynamicCache())
    keep = [0] + list(range(1 + len(PREFIX), len(full)))
    delta = [0] + [-len(PREFIX)] * len(DOC)
    cut = DynamicCache()
    for layer in range(len(out.past_key_values.key_cache)):
        k = out.past_key_values.key_cache[layer][:, :, keep, :]
        v = out.past_key_values.value_cache[layer][:, :, keep, :]
        if correct:
            k = rotate_keys(model, k, delta)
        cut.update(k.contiguous(), v.contiguous(), layer)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([QUERY]), past_key_values=cut, use_cache=True).logits
    return {"full_ids": full, "keep": keep, "delta": delta, "continue_ids": QUERY,
            "logits": logits[0].tolist()}


def plain(model, positions):
    ids = [BOS] + PREFIX + DOC
    kwargs = {"input_ids": torch.tensor([ids])}
    if positions is not None:
        kwargs["position_ids"] = torch.tensor([positions])
    with torch.no_grad():
        logits = model(**kwargs).logits
    return {"ids": ids, "positions": positions, "logits": logits[0].tolist()}


def main():
    dkv = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
    torch.manual_seed(0)
    for arch, args in MODELS.items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([dkv, "make-tiny-model", tmp] + args + COMMON, check=True)
            model = AutoModelForCausalLM.from_pretrained(tmp, torch_dtype=torch.float32,
                                                         attn_implementation="eager")
            model.eval()
            n = 1 + len(PREFIX) + len(DOC)
            cases = {"plain": plain(model, None)}
            # transformers 4.43's Qwen2 still indexes a cos/sin table sized by the sequence
            # length, so explicit positions past it fail there: Qwen2 gets the plain case only.
            if arch != "qwen2":
                cases["positions"] = plain(model, list(range(20, 20 + n)))
                cases["cut"] = run_cut(model, correct=True)
                cases["cut_broken"] = run_cut(model, correct=False)
            golden = {
                "generator": "tools/gen_hf_golden.py",
                "transformers": transformers.__version__,
                "torch": torch.__version__,
                "make_tiny_model_args": args + COMMON,
                "cases": cases,
            }
            if arch == "mistral":
                # The window must matter in these cases, or the test would not check it.
                model.config.sliding_window = None
                wide = plain(model, None)["logits"]
                diff = (torch.tensor(wide) - torch.tensor(golden["cases"]["plain"]["logits"])).abs().max()
                assert diff > 1e-3, "sliding window has no effect on the golden case"
        path = os.path.join(out_dir, f"hf_{arch}.json")
        with open(path, "w") as f:
            json.dump(golden, f)
            f.write("\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
