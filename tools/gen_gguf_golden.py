#!/usr/bin/env python3
"""Goldens for dkv's GGUF reader, from the PyPI `gguf` package (llama.cpp's own Python reader
and writer) and HF transformers / tokenizers.

Usage: tools/setup-python.sh && .venv/bin/python tools/gen_gguf_golden.py
Writes:
  tests/golden/gguf_dequant_golden.json   fresh random blocks of every type dkv reads, with
                                          gguf.quants.dequantize's float32 output (hex bits)
  tests/data/gguf/tiny_llama_bpe.gguf     a tiny random Llama (mixed F32/F16/Q8_0/Q4_0/Q4_1/
                                          Q5_0/Q5_1/Q2_K..Q6_K tensors, q/k rows permuted as
                                          convert_hf_to_gguf.py permutes them, no output.weight)
                                          with the byte-level BPE tokenizer of
                                          tests/data/tokenizers/llama3_bl (pre = llama-bpe)
  tests/data/gguf/tiny_llama_spm.gguf     the same weights with the SentencePiece vocabulary of
                                          tests/data/tokenizers/mistral_sp (scores, no merges)
  tests/fuzz/corpus/gguf/*.gguf           small seeds for the GGUF fuzzer (tests/fuzz/fuzz_gguf.cpp)
  tests/golden/gguf_tiny.json             HF LlamaForCausalLM logits on the dequantized,
                                          un-permuted weights (plain and explicit positions);
                                          token ids of tests/data/tokenizers/train_corpus_seed.txt
                                          from HF tokenizers built from each file's metadata
The random K-quant blocks are written as raw bytes (gguf-py cannot quantize to K-quants);
their scales are drawn as sane fp16 values so that the weights stay finite.
"""
import json
import os
import sys

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import dequantize, quantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(20261201)

# Byte offsets of the fp16 scale fields inside one block, per type (ggml-common.h layouts).
HALF_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}
TYPES = [Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1,
         Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K]


def random_blocks(qtype, n_blocks, scale=0.05):
    """Random bytes for n_blocks of qtype, with every fp16 scale a finite value near `scale`."""
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    if qtype == Q.F32:
        return RNG.standard_normal(n_blocks * block_elems).astype(np.float32).view(np.uint8)
    if qtype == Q.F16:
        return RNG.standard_normal(n_blocks * block_elems).astype(np.float16).view(np.uint8)
    if qtype == Q.BF16:
        x = RNG.standard_normal(n_blocks * block_elems).astype(np.float32)
        return (x.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    raw = RNG.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for off in HALF_FIELDS[qtype]:
        h = (RNG.uniform(0.2, 1.0, n_blocks) * scale * RNG.choice([-1, 1], n_blocks)).astype(np.float16)
        if qtype in (Q.Q4_1, Q.Q5_1) and off == 2 or qtype in (Q.Q2_K, Q.Q4_K, Q.Q5_K) and off != HALF_FIELDS[qtype][0]:
            h = np.abs(h)  # minima are subtracted as given; any sign is valid, keep them modest
        raw[:, off:off + 2] = h.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(-1)


def dequant_golden():
    cases = []
    for t in TYPES:
        for n_blocks in (1, 3):
            raw = random_blocks(t, n_blocks)
            elems = gguf.GGML_QUANT_SIZES[t][0] * n_blocks
            out = dequantize(raw, t).astype(np.float32).reshape(-1)
            assert out.size == elems and np.all(np.isfinite(out)), t
            cases.append({"type": t.name, "type_id": int(t), "elements": int(elems),
                          "blocks_hex": raw.tobytes().hex(), "expected_f32_hex": out.tobytes().hex()})
    # Edge values of the plain types: subnormals, infinities, signed zero, NaN.
    edge = np.array([0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x7E01] * 4, dtype=np.uint16)
    cases.append({"type": "F16", "type_id": int(Q.F16), "elements": int(edge.size),
                  "blocks_hex": edge.view(np.uint8).tobytes().hex(),
                  "expected_f32_hex": dequantize(edge.view(np.uint8), Q.F16).astype(np.float32).tobytes().hex()})
    return {"generator": "tools/gen_gguf_golden.py", "gguf_version": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
            "cases": cases}


# --- tiny Llama -----------------------------------------------------------------------------
# K-quants need rows of 256, so the widths are multiples of 256.
HIDDEN, INTER, LAYERS, HEADS, KV_HEADS = 256, 256, 2, 4, 2
HEAD_DIM = HIDDEN // HEADS
SHAPES = {"attn_q": (HEADS * HEAD_DIM, HIDDEN), "attn_k": (KV_HEADS * HEAD_DIM, HIDDEN),
          "attn_v": (KV_HEADS * HEAD_DIM, HIDDEN), "attn_output": (HIDDEN, HEADS * HEAD_DIM),
          "ffn_gate": (INTER, HIDDEN), "ffn_up": (INTER, HIDDEN), "ffn_down": (HIDDEN, INTER)}
HF_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
            "ffn_down": "mlp.down_proj"}
# Per layer, the storage type of each projection: every type dkv reads appears at least once.
LAYER_TYPES = [
    {"attn_q": Q.F16, "attn_k": Q.F32, "attn_v": Q.Q8_0, "attn_output": Q.Q4_0,
     "ffn_gate": Q.Q4_1, "ffn_up": Q.Q5_0, "ffn_down": Q.Q5_1},
    {"attn_q": Q.Q4_K, "attn_k": Q.Q8_0, "attn_v": Q.Q2_K, "attn_output": Q.Q3_K,
     "ffn_gate": Q.Q5_K, "ffn_up": Q.Q6_K, "ffn_down": Q.BF16},
]


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: HF rotate_half rows -> llama.cpp's pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def stored(w, qtype):
    """(bytes to write, the float32 weights they dequantize to), for a [rows, cols] weight."""
    if qtype in (Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1):
        data = w.astype(np.float32) if qtype == Q.F32 else (w.astype(np.float16) if qtype == Q.F16 else quantize(w.astype(np.float32), qtype))
    else:  # K-quants: random blocks with scales of the weights' size
        rows, cols = w.shape
        blk_e, blk_b = gguf.GGML_QUANT_SIZES[qtype]
        data = random_blocks(qtype, rows * cols // blk_e, scale=0.02).reshape(rows, cols // blk_e * blk_b)
    deq = dequantize(np.asarray(data).view(np.uint8) if qtype not in (Q.F32, Q.F16) else data, qtype)
    return data, np.asarray(deq, dtype=np.float32).reshape(w.shape)


def tiny_weights(vocab):
    rs = np.random.default_rng(7)
    normal = lambda *s: (rs.standard_normal(s) * 0.1).astype(np.float32)
    hf, ggufw = {}, []  # HF name -> float32 weights HF uses; (gguf name, data, storage type)
    data, deq = stored(normal(vocab, HIDDEN), Q.Q8_0)
    ggufw.append(("token_embd.weight", data, Q.Q8_0)); hf["model.embed_tokens.weight"] = deq
    for i, types in enumerate(LAYER_TYPES):
        for key, qtype in types.items():
            w = normal(*SHAPES[key])
            heads = HEADS if key == "attn_q" else KV_HEADS if key == "attn_k" else 0
            data, deq = stored(permute(w, heads) if heads else w, qtype)
            ggufw.append((f"blk.{i}.{key}.weight", data, qtype))
            hf[f"model.layers.{i}.{HF_NAMES[key]}.weight"] = unpermute(deq, heads) if heads else deq
        for key, name in (("attn_norm", "input_layernorm"), ("ffn_norm", "post_attention_layernorm")):
            w = (1.0 + normal(HIDDEN)).astype(np.float32)
            ggufw.append((f"blk.{i}.{key}.weight", w, Q.F32)); hf[f"model.layers.{i}.{name}.weight"] = w
    w = (1.0 + normal(HIDDEN)).astype(np.float32)
    ggufw.append(("output_norm.weight", w, Q.F32)); hf["model.norm.weight"] = w
    return hf, ggufw


def write_tiny(path, tokenizer_fields, vocab, ggufw, bos, eos):
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("dkv tiny llama")
    w.add_block_count(LAYERS); w.add_context_length(512); w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(INTER); w.add_head_count(HEADS); w.add_head_count_kv(KV_HEADS)
    w.add_rope_freq_base(10000.0); w.add_layer_norm_rms_eps(1e-5); w.add_rope_dimension_count(HEAD_DIM)
    w.add_vocab_size(vocab)
    tokenizer_fields(w)
    w.add_bos_token_id(bos); w.add_eos_token_id(eos)
    for name, data, qtype in ggufw:
        if qtype in (Q.F32, Q.F16):
            w.add_tensor(name, np.ascontiguousarray(data))
        else:
            w.add_tensor(name, np.ascontiguousarray(data).view(np.uint8), raw_dtype=qtype)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


def bpe_fields(tok_json):
    vocab = tok_json["model"]["vocab"]
    tokens = [None] * (max(list(vocab.values()) + [a["id"] for a in tok_json["added_tokens"]]) + 1)
    for t, i in vocab.items():
        tokens[i] = t
    for a in tok_json["added_tokens"]:
        tokens[a["id"]] = a["content"]
    types = [3 if any(a["id"] == i and a["special"] for a in tok_json["added_tokens"]) else
             4 if any(a["id"] == i for a in tok_json["added_tokens"]) else 1 for i in range(len(tokens))]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok_json["model"]["merges"]]

    def fields(w):
        w.add_tokenizer_model("gpt2"); w.add_tokenizer_pre("llama-bpe")
        w.add_token_list(tokens); w.add_token_types(types); w.add_token_merges(merges)
        w.add_add_bos_token(True)
    return fields, tokens, types, merges


def spm_fields(tok_json):
    vocab = tok_json["model"]["vocab"]
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    # SentencePiece BPE scores: later merges score lower (the merged piece's rank), bytes 0.
    scores = [0.0 if t.startswith("<0x") else -float(i) for i, t in enumerate(tokens)]
    types = [2 if i == 0 else 3 if i in (1, 2) else 6 if t.startswith("<0x") else 1 for i, t in enumerate(tokens)]

    def fields(w):
        w.add_tokenizer_model("llama"); w.add_token_list(tokens); w.add_token_scores(scores)
        w.add_token_types(types); w.add_unk_token_id(0); w.add_add_bos_token(True); w.add_add_eos_token(False)
    return fields, tokens


def hf_logits(hf, vocab, cases):
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=INTER, num_hidden_layers=LAYERS,
                      num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, rms_norm_eps=float(np.float32(1e-5)),
                      rope_theta=10000.0, max_position_embeddings=512, tie_word_embeddings=True,
                      torch_dtype=torch.float32)
    m = LlamaForCausalLM(cfg).eval()
    sd = {k: torch.from_numpy(np.array(v)) for k, v in hf.items()}
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert not unexpected and all("rotary" in k for k in missing), (missing, unexpected)
    out = {}
    with torch.no_grad():
        for name, (ids, pos) in cases.items():
            kw = {} if pos is None else {"position_ids": torch.tensor([pos])}
            logits = m(torch.tensor([ids]), **kw).logits[0]
            out[name] = {"ids": ids, "positions": pos, "logits": logits.tolist()}
    return out


def hf_bpe_tokenizer(tokens, types, merges):
    """An HF tokenizers Tokenizer built with its own Python API from the GGUF fields."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, processors, Regex, AddedToken
    vocab = {t: i for i, t in enumerate(tokens)}
    tk = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges], ignore_merges=True))
    regex = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
             "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(regex), "isolated"),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    tk.add_tokens([AddedToken(tokens[i], special=(t == 3), normalized=False) for i, t in enumerate(types) if t in (3, 4)])
    tk.post_processor = processors.TemplateProcessing(single=f"{tokens[0]} $A", special_tokens=[(tokens[0], 0)])
    return tk


def fuzz_seeds(out_dir):
    """A few small, valid files that reach every reader path: metadata of both tokenizer kinds,
    each block family, a tied llama with one layer."""
    os.makedirs(out_dir, exist_ok=True)
    rs = np.random.default_rng(11)

    def llama(w, vocab):
        w.add_name("seed"); w.add_block_count(1); w.add_context_length(64); w.add_embedding_length(32)
        w.add_feed_forward_length(32); w.add_head_count(2); w.add_head_count_kv(1)
        w.add_layer_norm_rms_eps(1e-5); w.add_rope_freq_base(10000.0); w.add_vocab_size(vocab)

    def finish(w):
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()

    tokens = ["<s>", "</s>", "a", "b", "ab", "Ġ", "Ġa"]
    w = gguf.GGUFWriter(os.path.join(out_dir, "llama_bpe.gguf"), "llama")
    llama(w, len(tokens))
    w.add_tokenizer_model("gpt2"); w.add_tokenizer_pre("smollm"); w.add_token_list(tokens)
    w.add_token_types([3, 3, 1, 1, 1, 1, 1]); w.add_token_merges(["a b", "Ġ a"]); w.add_bos_token_id(0)
    w.add_eos_token_id(1); w.add_chat_template("{{ messages[0]['content'] }}")
    w.add_tensor("token_embd.weight", rs.standard_normal((len(tokens), 32)).astype(np.float32))
    for name, shape in (("attn_q", (32, 32)), ("attn_k", (16, 32)), ("attn_v", (16, 32)), ("attn_output", (32, 32)),
                        ("ffn_gate", (32, 32)), ("ffn_up", (32, 32)), ("ffn_down", (32, 32))):
        w.add_tensor(f"blk.0.{name}.weight", quantize(rs.standard_normal(shape).astype(np.float32), Q.Q8_0), raw_dtype=Q.Q8_0)
    for name in ("blk.0.attn_norm.weight", "blk.0.ffn_norm.weight", "output_norm.weight"):
        w.add_tensor(name, np.ones(32, dtype=np.float32))
    finish(w)

    sp = ["<unk>", "<s>", "</s>", "<0x41>", "\u2581", "a", "\u2581a"]
    w = gguf.GGUFWriter(os.path.join(out_dir, "llama_spm.gguf"), "llama")
    llama(w, len(sp))
    w.add_tokenizer_model("llama"); w.add_token_list(sp); w.add_token_scores([0, 0, 0, 0, -1, -2, -3])
    w.add_token_types([2, 3, 3, 6, 1, 1, 1]); w.add_bos_token_id(1); w.add_eos_token_id(2); w.add_unk_token_id(0)
    finish(w)

    w = gguf.GGUFWriter(os.path.join(out_dir, "blocks.gguf"), "llama")
    for t in (Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.BF16, Q.F16):
        raw = random_blocks(t, 1)
        w.add_tensor(f"t_{t.name}", raw.reshape(1, -1), raw_dtype=t)
    finish(w)


def main():
    golden_dir = os.path.join(ROOT, "tests", "golden")
    data_dir = os.path.join(ROOT, "tests", "data", "gguf")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(golden_dir, "gguf_dequant_golden.json"), "w") as f:
        json.dump(dequant_golden(), f)

    bl = json.load(open(os.path.join(ROOT, "tests/data/tokenizers/llama3_bl/tokenizer.json")))
    sp = json.load(open(os.path.join(ROOT, "tests/data/tokenizers/mistral_sp/tokenizer.json")))
    fields_bpe, tokens_bpe, types_bpe, merges_bpe = bpe_fields(bl)
    fields_spm, tokens_spm = spm_fields(sp)
    vocab = max(len(tokens_bpe), len(tokens_spm))
    hf, ggufw = tiny_weights(vocab)
    bpe_path = os.path.join(data_dir, "tiny_llama_bpe.gguf")
    spm_path = os.path.join(data_dir, "tiny_llama_spm.gguf")
    # One embedding table for both files: the larger vocabulary; the other file's tokenizer
    # simply leaves the last rows unused.
    write_tiny(bpe_path, fields_bpe, vocab, ggufw, bos=0, eos=1)
    write_tiny(spm_path, fields_spm, vocab, ggufw, bos=1, eos=2)

    rs = np.random.default_rng(3)
    ids = [int(x) for x in rs.integers(0, vocab, 9)]
    cases = {"plain": (ids, None), "positions": (ids, list(range(37, 37 + len(ids)))),
             "short": (ids[:3], None)}
    corpus = [l for l in open(os.path.join(ROOT, "tests/data/tokenizers/train_corpus_seed.txt"), encoding="utf-8").read().splitlines() if l.strip()][:200]
    corpus += ["Hello world! 123", "  multiple   spaces\n\n tabs\there", "Café déjà vu.", "<|begin_of_text|>x"]
    for line in open(os.path.join(ROOT, "configs/data/demo_msmarco.jsonl"), encoding="utf-8"):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # the demo file keeps a few malformed lines on purpose (dataset-reader tests)
        passages = row["passages"]  # Microsoft's layout (a list) or the HF export's (columns)
        first = passages[0]["passage_text"] if isinstance(passages, list) else passages["passage_text"][0]
        corpus += [row["query"], first] + row["answers"][:1]
    tk_bpe = hf_bpe_tokenizer(tokens_bpe, types_bpe, merges_bpe)
    # transformers' own GGUF tokenizer path (LlamaTokenizerFast, BOS added as add_bos_token says).
    from transformers import AutoTokenizer
    tk_spm = AutoTokenizer.from_pretrained(data_dir, gguf_file=os.path.basename(spm_path))
    golden = {
        "generator": "tools/gen_gguf_golden.py",
        "hidden": HIDDEN, "layers": LAYERS, "vocab": vocab,
        "logits": hf_logits(hf, vocab, cases),
        "tokenizer_bpe": [{"text": t, "ids": tk_bpe.encode(t).ids} for t in corpus],
        "tokenizer_spm": [{"text": t, "ids": tk_spm(t).input_ids} for t in corpus],
    }
    with open(os.path.join(golden_dir, "gguf_tiny.json"), "w") as f:
        json.dump(golden, f)
    fuzz_seeds(os.path.join(ROOT, "tests", "fuzz", "corpus", "gguf"))  # last: the RNG stream above stays as it was
    print("wrote", bpe_path, spm_path, "the goldens and the fuzz seeds")


if __name__ == "__main__":
    sys.exit(main())
