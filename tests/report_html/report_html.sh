#!/bin/bash
# report.html in headless Chromium (check_report_html.py) for a report with every analysis and
# for exp 01's plain report. Usage: report_html.sh DKV_BINARY SOURCE_DIR [SCREENSHOT_DIR]
# Exit 77 (skipped) without chromium; tools/setup.sh installs it.
set -euo pipefail
dkv=$1 src=$2 shots=${3:-}
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { echo "SKIP: no chromium"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dkv" bench report --samples 600 --out "$tmp" >"$tmp/bench.log"
cat "$tmp/bench.log"
python3 "$src/tests/report_html/check_report_html.py" "$tmp/analyses/report.html" ${shots:+"$shots"}
python3 "$src/tests/report_html/check_report_html.py" "$tmp/exp01/report.html"
