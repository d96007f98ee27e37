#!/usr/bin/env bash
# Debian packages the test suite uses, installed by `make test` when missing:
# headless Chromium for the HTML report test (tests/unit/insights/test_html_chromium.py, which
# skips with a message when chromium is absent, and fails instead under CI=true).
# Installs only as root or with password-less sudo; otherwise says what to install.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "note: chromium is not installed; the HTML report test will skip" \
             "(install it with: apt-get install chromium)" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: no apt-get here; install chromium yourself for the HTML report test" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
