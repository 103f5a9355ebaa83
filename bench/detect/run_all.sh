#!/usr/bin/env bash
# The whole detection benchmark in one go: mcpwarden and every baseline, same data, same run.
#   bash bench/detect/run_all.sh [extra quality.py args, e.g. --data FILE.jsonl]
# Creates the baselines' venv on first use. Exit status: non-zero if any part failed
# (e.g. `mcpwarden detect` not built yet); the other parts still run and print.
set -uo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -x bench/.venvs/cisco/bin/python ]]; then
  bash bench/detect/setup_baselines.sh || exit 2
fi

status=0
echo "######## quality"
python3 bench/detect/quality.py --baseline cisco --baseline keyword "$@" || status=1
echo
echo "######## speed"
python3 bench/detect/speed.py --baseline cisco --baseline keyword || status=1
exit "$status"
