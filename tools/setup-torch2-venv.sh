#!/usr/bin/env bash
# A second Python venv (.venv-torch2) for the Gemma 3 references: HF transformers' Gemma 3 code
# needs torch 2.x (transformers 4.50 on Debian's torch 1.13 fails to import it), so this venv does
# not use the system site packages. torch 2.5.1 from PyPI pulls its nvidia-* wheels (about 5.3 GB
# on disk); it imports and runs on CPU-only machines. transformers 4.56.2 is the version the
# goldens in tests/golden/gemma3*.json record; it reads gemma3 GGUF files (4.50 refuses them).
# The venv gets its own .gitignore ("*"), so git never sees it.
set -euo pipefail
cd "$(dirname "$0")/.."
V=.venv-torch2
[ -x $V/bin/python ] || /usr/bin/python3 -m venv $V
[ -f $V/.gitignore ] || echo '*' > $V/.gitignore
$V/bin/pip install -q 'torch==2.5.1' 'transformers==4.56.2' 'accelerate' 'safetensors' \
  'numpy<2.3' 'gguf==0.19.0' 'sentencepiece' 'protobuf' 'jinja2==3.1.6' 'tokenizers'
