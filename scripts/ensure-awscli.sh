#!/usr/bin/env bash
# Installs Debian's awscli (2.9 on Debian 12) when /usr/bin/aws is missing:
# its bundled botocore speaks SQS's Query protocol, which sqslocal's CLI
# test drives. An aws elsewhere on PATH does not count: newer ones speak
# JSON. Runs apt-get as root, or through sudo.
set -euo pipefail
if [ -x /usr/bin/aws ]; then
  exit 0
fi
echo "/usr/bin/aws is missing; installing Debian's awscli package (needed for the SQS Query-protocol test)..." >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "error: /usr/bin/aws is missing and neither root nor sudo is available; install the 'awscli' package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends awscli >/dev/null
/usr/bin/aws --version >&2
