#!/usr/bin/env bash
# Create .venv and install the project with the CPU build of torch (never a CUDA one); --browser adds chromium.
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

# With --browser (the test command): Debian's chromium (driven through Playwright; `playwright install` cannot
# download a browser here) and firefox-esr (driven through its own Marionette protocol).
if [ "${1:-}" = "--browser" ]; then
    missing=""
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || missing="$missing firefox-esr"
    if [ -n "$missing" ]; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
        if command -v apt-get >/dev/null 2>&1; then
            echo "installing Debian's$missing for the browser tests (apt-get)"
            $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null \
                || echo "warning: could not install$missing; the browser tests will fail until it is installed" >&2
        else
            echo "warning: no apt-get; install$missing yourself for the browser tests" >&2
        fi
    fi
fi
