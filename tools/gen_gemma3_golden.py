#!/usr/bin/env python3
"""Regenerates tests/data/gemma3/tiny/ (a tiny random Gemma3ForCausalLM written by HF
transformers' own code: config.json + model.safetensors) and tests/golden/gemma3_tiny.json
(logits of that model from HF's Gemma3 modeling code), which tests/test_gemma3.cpp compares with.

Usage: .venv-torch2/bin/python tools/gen_gemma3_golden.py [BUILD/dkv]
(tools/setup-torch2-venv.sh: torch 2.5.1 + transformers 4.56.2; Gemma 3 needs torch 2.x).
With the dkv binary, a `dkv make-tiny-model --arch gemma3` checkpoint is also run through HF
(case dkv_tiny), so that the checkpoints dkv writes are what HF reads.

The model: 6 layers, layer_types sliding, sliding, full, sliding, sliding, full; window 4 (inputs
are 12-14 tokens); head_dim 16 != hidden/heads = 8; rope_theta 1e6 with linear scaling x2 on the
full layers, rope_local_base_freq 1e4 on the sliding ones; query_pre_attn_scalar 24; final logit
soft-capping 5; tied embeddings. Cases:
  plain          forward over ids at positions 0..n-1
  positions      the same ids at explicit positions 37..
  cut            cache of [BOS]+prefix+doc; keep BOS + doc; re-rotate the doc keys by
                 -len(prefix), each layer with its own rotary module (local or global, HF's
                 apply_rotary_pos_emb); continue with query ids at explicit positions after the doc
  cut_broken     the same cut without re-rotation (kept keys stay at their old positions)
  offset_cache   cache of BOS + doc prefilled at positions 100.., re-rotated by -100, continued
                 with the query at HF default positions
Attention is "eager"; the sliding window is HF's (masking_utils, entry ordinals).

It also writes tests/data/gemma3/tiny.gguf: the same weights as llama.cpp's convert_hf_to_gguf
stores a gemma3 model (F32, norms + 1, llama.cpp tensor names, gemma3.* metadata, a 64-token
SentencePiece vocabulary), in the layout llama.cpp's gemma3 graph implies (five sliding layers
then one full, local theta 1e4, q.k scaled by 1/sqrt(head_dim), no soft-capping). Its golden
case gguf_plain comes from transformers' own GGUF loader (from_pretrained(gguf_file=...)).
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from transformers import DynamicCache, Gemma3ForCausalLM, Gemma3TextConfig
from transformers.models.gemma3 import modeling_gemma3

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BOS = 2
PREFIX = [17, 42, 8, 7, 5]
DOC = [30, 31, 9, 44, 12, 3, 58, 45]
QUERY = [50, 6, 61, 33]
LAYER_TYPES = ["sliding_attention", "sliding_attention", "full_attention"] * 2
# dkv make-tiny-model arguments of the dkv_tiny case (same shapes, dkv's own weights).
DKV_ARGS = ["--arch", "gemma3", "--seed", "5", "--vocab", "64", "--hidden", "32", "--intermediate", "64",
            "--layers", "6", "--heads", "4", "--kv-heads", "2", "--head-dim", "16", "--sliding-window", "4",
            "--sliding-window-pattern", "3", "--rope-theta", "1000000", "--rope-local-theta", "10000",
            "--query-pre-attn-scalar", "24", "--rope-scaling-factor", "2", "--final-logit-softcapping", "5",
            "--init-scale", "0.15"]


def tiny_config():
    c = Gemma3TextConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=6,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512,
        rms_norm_eps=1e-6, rope_theta=1_000_000.0, rope_local_base_freq=10_000.0,
        rope_scaling={"rope_type": "linear", "factor": 2.0}, sliding_window=4,
        layer_types=LAYER_TYPES, query_pre_attn_scalar=24, final_logit_softcapping=5.0,
        tie_word_embeddings=True, torch_dtype="float32")
    c.architectures = ["Gemma3ForCausalLM"]
    return c


def make_model():
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(tiny_config())
    with torch.no_grad():
        for name, p in model.named_parameters():
            # HF initialises norms to 0 (applied as 1 + w) and weights with std 0.02, which makes
            # attention nearly uniform; larger random values make position errors visible.
            p.copy_(torch.randn_like(p) * (0.1 if "norm" in name else 0.15))
    return model.eval()


def load(path):
    model = Gemma3ForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def rotate_keys(model, layer, key, delta):
    """Rotates cached keys [1, Hkv, T, D] by per-entry deltas with the layer's rotary module."""
    inner = model.model
    sliding = model.config.layer_types[layer] == "sliding_attention"
    rotary = inner.rotary_emb_local if sliding else inner.rotary_emb
    cos, sin = rotary(key, torch.tensor([delta]))
    rotated, _ = modeling_gemma3.apply_rotary_pos_emb(key, key, cos, sin)
    return rotated


def forward(model, ids, positions=None, cache=None):
    kwargs = {"input_ids": torch.tensor([ids]), "use_cache": cache is not None}
    if positions is not None:
        kwargs["position_ids"] = torch.tensor([positions])
    if cache is not None:
        kwargs["past_key_values"] = cache
    with torch.no_grad():
        return model(**kwargs)


def plain(model, positions):
    ids = [BOS] + PREFIX + DOC[:6]
    return {"ids": ids, "positions": positions, "logits": forward(model, ids, positions).logits[0].tolist()}


def cut_case(model, full, full_positions, keep, delta, query_positions, correct=True):
    out = forward(model, full, full_positions, DynamicCache())
    cut = DynamicCache()
    for layer, cached in enumerate(out.past_key_values.layers):
        k = cached.keys[:, :, keep, :]
        v = cached.values[:, :, keep, :]
        if correct:
            k = rotate_keys(model, layer, k, delta)
        cut.update(k.contiguous(), v.contiguous(), layer)
    logits = forward(model, QUERY, query_positions, cut).logits
    return {"full_ids": full, "full_positions": full_positions, "keep": keep, "delta": delta,
            "correct": correct, "continue_ids": QUERY, "continue_positions": query_positions,
            "logits": logits[0].tolist()}


def cases(model):
    n = 1 + len(PREFIX) + len(DOC[:6])
    full = [BOS] + PREFIX + DOC
    keep = [0] + list(range(1 + len(PREFIX), len(full)))
    delta = [0] + [-len(PREFIX)] * len(DOC)
    after = list(range(1 + len(DOC), 1 + len(DOC) + len(QUERY)))
    out = {
        "plain": plain(model, None),
        "positions": plain(model, list(range(37, 37 + n))),
        "cut": cut_case(model, full, None, keep, delta, after),
        "cut_broken": cut_case(model, full, None, keep, delta, after, correct=False),
    }
    doc = [BOS] + DOC
    out["offset_cache"] = cut_case(model, doc, list(range(100, 100 + len(doc))), list(range(len(doc))),
                                   [-100] * len(doc), None)
    return out


def write_tiny_gguf(model, path):
    import gguf
    import numpy as np
    c = model.config
    w = gguf.GGUFWriter(path, "gemma3")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_key_length(c.head_dim)
    w.add_value_length(c.head_dim)
    w.add_rope_freq_base(c.rope_theta)
    w.add_sliding_window(c.sliding_window)
    w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
    w.add_rope_scaling_factor(2.0)
    w.add_tokenizer_model("llama")
    tokens = ["<pad>", "<eos>", "<bos>", "<unk>"] + [f"\u2581t{i}" for i in range(4, c.vocab_size)]
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 4 + [-float(i) for i in range(4, c.vocab_size)])
    w.add_token_types([3, 3, 3, 2] + [1] * (c.vocab_size - 4))
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_add_bos_token(True)
    block = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
             "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "self_attn.q_norm": "attn_q_norm",
             "self_attn.k_norm": "attn_k_norm", "post_attention_layernorm": "post_attention_norm",
             "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for name, t in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied: llama.cpp writes no output.weight
        a = t.detach().numpy().astype(np.float32)
        if name.endswith("norm.weight"):
            a = a + 1  # Gemma3Model.modify_tensors: norm_shift
        if name == "model.embed_tokens.weight":
            g = "token_embd.weight"
        elif name == "model.norm.weight":
            g = "output_norm.weight"
        else:
            _, _, layer, rest = name.split(".", 3)
            g = f"blk.{layer}.{block[rest.rsplit('.', 1)[0]]}.weight"
        w.add_tensor(g, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_config():
    """What the tiny GGUF declares, as an HF config: llama.cpp's fixed gemma3 layout."""
    c = tiny_config()
    c.layer_types = ["sliding_attention"] * 5 + ["full_attention"]
    c.query_pre_attn_scalar = c.head_dim
    c.final_logit_softcapping = None
    return c


def main():
    dkv = sys.argv[1] if len(sys.argv) > 1 else None
    model = make_model()
    data_dir = os.path.join(ROOT, "tests", "data", "gemma3", "tiny")
    model.save_pretrained(data_dir, safe_serialization=True)
    model = load(data_dir)  # what the C++ test loads
    golden = {
        "generator": "tools/gen_gemma3_golden.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "model_dir": "tests/data/gemma3/tiny",
        "cases": cases(model),
    }
    # The window and both RoPE kinds must matter in these cases, or the test would not check them.
    base = torch.tensor(golden["cases"]["plain"]["logits"])
    for what, change in [("sliding window", lambda c: setattr(c, "sliding_window", 512)),
                         ("local theta", lambda c: setattr(c, "rope_local_base_freq", 1_000_000.0)),
                         ("rope scaling", lambda c: setattr(c, "rope_scaling", None))]:
        cfg = tiny_config()
        change(cfg)
        cfg._attn_implementation = "eager"
        other = Gemma3ForCausalLM(cfg).eval()
        other.load_state_dict(model.state_dict())
        diff = (torch.tensor(plain(other, None)["logits"]) - base).abs().max().item()
        assert diff > 1e-3, f"{what} has no effect on the golden case ({diff})"
        golden.setdefault("sensitivity", {})[what] = diff
    gguf_path = os.path.join(ROOT, "tests", "data", "gemma3", "tiny.gguf")
    write_tiny_gguf(model, gguf_path)
    # transformers' GGUF loader leaves query_pre_attn_scalar at Gemma3TextConfig's 256, where
    # llama.cpp scales by 1/sqrt(head_dim) (the same for every released size but 27B); the
    # tiny head_dim of 16 tells them apart, and dkv follows llama.cpp: passed explicitly here.
    # The loader also drops gemma3.rope.scaling.* (Gemma 3 4B-27B files carry linear x8, which
    # llama.cpp applies to the full layers, as HF's config does): passed explicitly too.
    from_gguf = Gemma3ForCausalLM.from_pretrained(os.path.dirname(gguf_path), gguf_file="tiny.gguf",
                                                  dtype=torch.float32, attn_implementation="eager",
                                                  query_pre_attn_scalar=model.config.head_dim,
                                                  rope_scaling={"rope_type": "linear", "factor": 2.0}).eval()
    for key in ("layer_types", "query_pre_attn_scalar", "final_logit_softcapping", "rope_local_base_freq",
                "rope_theta", "rope_scaling", "sliding_window", "head_dim", "tie_word_embeddings"):
        assert getattr(from_gguf.config, key) == getattr(gguf_config(), key), (key, getattr(from_gguf.config, key))
    golden["cases"]["gguf_plain"] = plain(from_gguf, None)
    golden["cases"]["gguf_positions"] = plain(from_gguf, list(range(37, 37 + len(golden["cases"]["plain"]["ids"]))))
    if dkv:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([dkv, "make-tiny-model", tmp] + DKV_ARGS, check=True)
            golden["dkv_tiny"] = {"make_tiny_model_args": DKV_ARGS, "cases": {"plain": plain(load(tmp), None)}}
    path = os.path.join(ROOT, "tests", "golden", "gemma3_tiny.json")
    with open(path, "w") as f:
        json.dump(golden, f)
        f.write("\n")
    print("wrote", path, "and", data_dir)


if __name__ == "__main__":
    main()
