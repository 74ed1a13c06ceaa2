#!/usr/bin/env bash
# Writes the preview gallery of every template set x locale, with
# screenshots, and refreshes the two README pictures in docs/img.
#
#   scripts/previews.sh [OUT_DIR]      (default: build/previews)
#
# Needs headless Chromium: apt-get update && apt-get install -y chromium
# (and fonts-noto-cjk fonts-noto-core for the Japanese, Chinese and Arabic
# pages). Chromium runs with every host name unresolvable, so nothing is
# fetched; a logo URL shows as missing.
set -euo pipefail

cd "$(dirname "$0")/.."
out="${1:-build/previews}"

go run ./mailer/otpctl templates preview --out "$out" --screenshots
mkdir -p docs/img
cp "$out/acme/en.png" docs/img/email-acme-en.png
cp "$out/globex/ar.png" docs/img/email-globex-ar.png
echo "updated docs/img/email-acme-en.png and docs/img/email-globex-ar.png"
