#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser tests (tests/test_dashboard_browser.py), driven
# by Playwright with executablePath /usr/bin/chromium: never a browser downloaded by a test tool.
# `make test` runs this; it does nothing when Chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "Cần Chromium của Debian cho các kiểm thử trình duyệt: chạy 'apt-get install chromium chromium-driver' với quyền root." >&2
    echo "The browser tests need Debian's Chromium: run 'apt-get install chromium chromium-driver' as root." >&2
    exit 1
fi
echo "Cài Chromium của Debian / installing Debian's Chromium (apt-get)…" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
