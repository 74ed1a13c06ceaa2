#!/usr/bin/env bash
# Writes the preview gallery of every template set x locale, with
# screenshots, and refreshes the two README pictures in docs/img.
#
#   scripts/previews.sh [OUT_DIR [PREVIEW FLAGS...]]   (default: build/previews)
#
# Flags after OUT_DIR go to otpctl templates preview, e.g.
#   scripts/previews.sh build/previews --ttl 5m --locale ar,ja
# (docs/img is refreshed only from a gallery that has both pictures).
#
# Needs headless Chromium: apt-get update && apt-get install -y chromium
# (and fonts-noto-cjk fonts-noto-core for the Japanese, Chinese and Arabic
# pages). Chromium runs with every host name unresolvable, so nothing is
# fetched; a logo URL shows as missing.
set -euo pipefail

cd "$(dirname "$0")/.."
out="${1:-build/previews}"
shift || true

# Stale pictures from an earlier, wider run must not reach docs/img.
rm -f "$out/acme/en.png" "$out/globex/ar.png"
go run ./mailer/otpctl templates preview --out "$out" --screenshots "$@"
if [[ -f "$out/acme/en.png" && -f "$out/globex/ar.png" ]]; then
  mkdir -p docs/img
  cp "$out/acme/en.png" docs/img/email-acme-en.png
  cp "$out/globex/ar.png" docs/img/email-globex-ar.png
  echo "updated docs/img/email-acme-en.png and docs/img/email-globex-ar.png"
fi
