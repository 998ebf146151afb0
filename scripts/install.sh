#!/usr/bin/env bash
# Create .venv and install the project with the CPU build of torch (never a CUDA one).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip install -q --upgrade pip
# torch first, pinned: the local CPU build satisfies the project's range, so nothing pulls a CUDA build.
pip install -q "torch==2.13.0"
pip install -q -e ".[test]"
