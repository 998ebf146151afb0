#!/usr/bin/env bash
# Install, index the sample corpus named in config.toml, answer a sample question, then serve the API.
# Arguments go on to `qa serve`: `scripts/serve.sh --port 8080` serves on port 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
# Few malloc arenas: each new index generation is opened by whichever request thread gets there first, and with
# glibc's default (8 arenas a core) the service's memory grew ~10% over minutes of uploads; with 2 it stays flat
# (bench/load_bench.py --soak). An operator's own setting wins.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
echo
echo "Indexing the sample corpus (the papers config.toml names; files indexed before are skipped)…"
qa index
echo
echo "Indexed papers (qa docs):"
qa docs
echo
question="What did we decide about Grangewaters?"
echo "A sample question, qa ask \"$question\" (a cold qa ask loads the embedding model first: several seconds):"
qa ask "$question"
echo
echo "Starting the service (qa serve${*:+ $*}): loading the model…"
exec qa serve "$@"
