#!/usr/bin/env bash
# Real chat templates from installed PyPI packages (tools/check_chat_templates.py renders them
# with transformers into a temporary JSON), then dkv_tests' JinjaRealTemplates.* renders the same
# cases with dkv's Jinja interpreter. Exit 77 (skipped) without the venv's packages.
set -euo pipefail
TESTS=$1
SRC=$2
PY=${DKV_PYTHON:-$SRC/.venv/bin/python}
[ -x "$PY" ] || { echo "SKIP: no $PY (tools/setup-python.sh)"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
rc=0
"$PY" "$SRC/tools/check_chat_templates.py" "$T/cases.json" || rc=$?
[ "$rc" = 0 ] || exit "$rc"
DKV_REAL_CHAT_TEMPLATES="$T/cases.json" "$TESTS" --gtest_filter='JinjaRealTemplates.*' | tee "$T/log"
grep -q '\[  PASSED  \] 1 test' "$T/log"
