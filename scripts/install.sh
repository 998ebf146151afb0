#!/usr/bin/env bash
# Create .venv and install the project with the CPU build of torch (never a CUDA one); --browser adds chromium.
# The installers' own output goes to .qa-install.log; it is shown (its last lines) only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
LOG=.qa-install.log
: >"$LOG"

# Runs one step with its output in the log; on failure prints the log's tail, says what failed, and exits 1.
step() {
    local what=$1
    shift
    echo "== $what: $*" >>"$LOG"
    if ! "$@" >>"$LOG" 2>&1; then
        echo >&2
        echo "---- last lines of $LOG ----" >&2
        tail -n 25 "$LOG" >&2
        echo "----" >&2
        echo "Installation failed while $what (the whole output is in $LOG)." >&2
        exit 1
    fi
}

start=$SECONDS
if [ -x .venv/bin/python ]; then
    echo "Installing into .venv (log: $LOG)…"
else
    echo "Installing into a new .venv: the first time takes a few minutes (log: $LOG)…"
    step "creating the virtual environment" "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
step "upgrading pip" pip install --upgrade pip
# torch first, pinned: the local CPU build satisfies the project's range, so nothing pulls a CUDA build.
step "installing the CPU build of torch" pip install "torch==2.13.0"
step "installing the project and its test tools" pip install -e ".[test]"
echo "Installed in $((SECONDS - start)) s."

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
