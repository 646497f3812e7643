#!/usr/bin/env bash
# Set up (idempotently) and start the app: bash scripts/start.sh [--host H --port P --model ID]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python app.py "$@"
