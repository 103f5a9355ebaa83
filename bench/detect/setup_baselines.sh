#!/usr/bin/env bash
# Create the detection baselines' own virtual environments, outside mcpwarden's dependencies.
# Run once: bash bench/detect/setup_baselines.sh   (idempotent; re-run to upgrade)
#
# bench/.venvs/cisco  Cisco AI Defense mcp-scanner (PyPI cisco-ai-mcp-scanner) + yara-python.
#                     Only its packaged YARA rules are used (bench/detect/cisco_yara_detector.py);
#                     its LLM/API analyzers are never called.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
VENVS="bench/.venvs"
CISCO="$VENVS/cisco"

mkdir -p "$VENVS"
# Keep the venvs out of git even before the repo's .gitignore lists bench/.venvs/.
printf '*\n' > "$VENVS/.gitignore"
if [[ ! -x "$CISCO/bin/python" ]]; then
  echo "== creating $CISCO"
  "$PYTHON" -m venv "$CISCO"
fi
echo "== installing cisco-ai-mcp-scanner and yara-python into $CISCO"
"$CISCO/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$CISCO/bin/python" -m pip install --quiet --disable-pip-version-check cisco-ai-mcp-scanner yara-python

echo "== checking the baseline loads its rules offline"
# LiteLLM (a dependency of the scanner) fetches a model price list at import time unless told not to.
LITELLM_LOCAL_MODEL_COST_MAP=True "$CISCO/bin/python" bench/detect/cisco_yara_detector.py --list-rules
