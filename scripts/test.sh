#!/usr/bin/env bash
# Install, check formatting, lint and types, run the whole test suite (unit, fixture PDFs, sample corpus,
# browsers), then the release gate: the evaluation suite on the sample corpus, failing if any metric falls below
# config.toml [eval.gate]. Arguments go to pytest, e.g. `scripts/test.sh -m "not model and not browser"` for the
# fast lane.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --browser
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
ruff format --check .
ruff check .
mypy
python -m pytest "$@"
qa eval --gate   # indexes the configured papers first (incrementally)
