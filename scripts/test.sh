#!/usr/bin/env bash
# Set up (idempotently) and run the whole test suite: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest "$@"
