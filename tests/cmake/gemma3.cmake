# Gemma 3 on the real gemma-3-270m (Q4_K_M GGUF, tools/fetch-gemma3.sh) against HF transformers
# 4.56.2 in the torch 2.x venv (tools/setup-torch2-venv.sh): logits on fixed ids and greedy
# continuations. Exit 77 (skipped) without the venv or the model file.
add_test(NAME gemma3.real_270m_vs_hf
         COMMAND bash -c "[ -x \"$0\" ] || { echo 'SKIP: no .venv-torch2 (tools/setup-torch2-venv.sh)'; exit 77; }; exec \"$0\" \"$1\" \"$2\""
                 ${PROJECT_SOURCE_DIR}/.venv-torch2/bin/python ${PROJECT_SOURCE_DIR}/tools/check_gemma3_real.py $<TARGET_FILE:dkv>)
set_tests_properties(gemma3.real_270m_vs_hf PROPERTIES LABELS "cpu" SKIP_RETURN_CODE 77 TIMEOUT 900)

# The demo's 15 conditions (configs/gemma3_270m.yaml) on the real model, 4 samples: every
# condition's mean NLL must be finite. Skipped without the model file or all-MiniLM-L6-v2.
add_test(NAME gemma3.demo_conditions_finite
         COMMAND bash -c [=[
set -euo pipefail
cd "$1"
for f in results/demo/models/gemma-3-270m-q4_k_m.gguf results/demo/models/all-MiniLM-L6-v2/model.safetensors; do
  [ -f "$f" ] || { echo "SKIP: $f missing (tools/fetch-gemma3.sh, tools/fetch-demo-models.sh)"; exit 77; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed -e 's/num_samples: 24/num_samples: 4/' -e "s|^name: gemma3_270m|name: gemma3_270m_test\noutput: {dir: $tmp/out}|" \
  configs/gemma3_270m.yaml > "$tmp/c.yaml"
"$0" run "$tmp/c.yaml" 2>&1 | tee "$tmp/log"
n=$(grep -cE '^  [A-E][0-9] +[a-z_]+ +[0-9]+\.[0-9]+ +\(n=4\)$' "$tmp/log" || true)
[ "$n" = 15 ] || { echo "expected 15 finite condition means (n=4), found $n"; exit 1; }
]=] $<TARGET_FILE:dkv> ${PROJECT_SOURCE_DIR})
set_tests_properties(gemma3.demo_conditions_finite PROPERTIES LABELS "cpu" SKIP_RETURN_CODE 77 TIMEOUT 900)
