#!/bin/sh
# Install Debian's Chromium for the browser tests (tests/test_report.py), only when it is missing.
# Playwright drives this system browser; its own browser download is never used.
# Without root or apt-get this prints why and exits 0: the browser tests then skip with that reason.
set -u
CHROMIUM=${MOVENET_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser_setup: no apt-get here; install Chromium yourself to run the browser tests" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "browser_setup: not root and no password-less sudo; the browser tests will be skipped" >&2
        exit 0
    fi
fi
echo "browser_setup: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt-get may hold the lock for a while: wait for it rather than fail.
$SUDO apt-get -o DPkg::Lock::Timeout=300 -qq update >/dev/null \
    && $SUDO apt-get -o DPkg::Lock::Timeout=300 -qq install -y --no-install-recommends chromium >/dev/null \
    || echo "browser_setup: apt-get could not install chromium; the browser tests will be skipped" >&2
exit 0
