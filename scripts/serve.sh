#!/usr/bin/env bash
# Install, index the sample corpus named in config.toml, and answer on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
qa index
qa docs
# Until the HTTP service lands (`qa serve`), answer a sample question, then take questions from the terminal.
qa ask "What did we decide about Grangewaters?"
if [ -t 0 ]; then
    echo
    echo "Ask a question (Ctrl-D to stop):"
    while IFS= read -r -p "> " question; do
        [ -n "$question" ] && qa ask "$question"
    done
fi
