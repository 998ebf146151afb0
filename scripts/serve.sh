#!/usr/bin/env bash
# Install, index the sample corpus named in config.toml, and answer on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
qa index
qa docs
