#!/usr/bin/env bash
# Debian packages trialkit needs beyond Python, installed only when missing:
#   always: Pango and a font for WeasyPrint, which typesets the PDF report;
#   with --browser: Debian's Chromium, in which the tests open the HTML report through Playwright
#   (Playwright downloads no browser of its own).
set -euo pipefail
need=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "trialkit needs: ${need[*]} (Debian package names); install them with your package manager." >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}"
fi
