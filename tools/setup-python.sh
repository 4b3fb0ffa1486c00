#!/usr/bin/env bash
# A Python venv (.venv) with HF transformers 4.43 on Debian's python3-torch, for the golden
# generators in tools/. transformers 4.42 is the first whose Mistral honours explicit
# position ids; 4.43 is the last that runs on Debian's torch 1.13.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
.venv/bin/pip install -q 'transformers==4.43.4' 'tokenizers' 'safetensors' 'numpy<2'
