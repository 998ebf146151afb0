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
echo "Serving on http://127.0.0.1:8000 (API docs at /docs). Ctrl-C stops it."
exec qa serve "$@"
