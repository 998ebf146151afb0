#!/usr/bin/env bash
# Install, index the sample corpus named in config.toml, answer a sample question, then serve the API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
qa index
qa docs
qa ask "What did we decide about Grangewaters?"
echo
exec qa serve "$@"
