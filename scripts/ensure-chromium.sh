#!/usr/bin/env bash
# Installs Debian's headless Chromium when it is missing: the browser tests
# and the email previews drive it. Runs apt-get as root, or through sudo.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "Chromium is missing; installing Debian's chromium package (needed for browser tests and previews)..." >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "error: /usr/bin/chromium is missing and neither root nor sudo is available; install the 'chromium' package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-core fonts-noto-cjk >/dev/null
/usr/bin/chromium --version >&2
