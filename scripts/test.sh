#!/usr/bin/env bash
# Install and run the whole test suite (unit, fixture PDFs, sample corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
python -m pytest "$@"
