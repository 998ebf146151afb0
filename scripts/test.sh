#!/usr/bin/env bash
# Install, run the whole test suite (unit, fixture PDFs, sample corpus), then the release gate:
# the evaluation suite on the sample corpus, failing if any metric falls below config.toml [eval.gate].
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --browser
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
python -m pytest "$@"
qa eval --gate   # indexes the configured papers first (incrementally)
