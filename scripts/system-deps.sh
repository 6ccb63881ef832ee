#!/usr/bin/env bash
# Debian packages trialkit needs beyond Python, installed only when missing:
#   always: Pango and a font for WeasyPrint, which typesets the PDF report;
#   with --browser: Debian's Chromium, in which the tests open the HTML report through Playwright
#   (Playwright downloads no browser of its own).
# With --dry-run it says what it would install and runs nothing.
#
# Another package manager at work (unattended-upgrades, a second `make`) holds dpkg's and apt's
# locks; this script then waits for them, up to TRIALKIT_APT_LOCK_TIMEOUT seconds (default 600),
# instead of failing. apt-get waits for dpkg's lock itself (DPkg::Lock::Timeout, apt >= 1.9.11), but
# not for the package lists' lock of `apt-get update`, nor does an older apt-get: every apt-get call
# is retried while it reports a lock held by another process, until the deadline.
set -euo pipefail

browser=false
dry_run=false
for arg in "$@"; do
  case "$arg" in
    --browser) browser=true ;;
    --dry-run) dry_run=true ;;
    *)
      echo "usage: $0 [--browser] [--dry-run]" >&2
      exit 2
      ;;
  esac
done

timeout="${TRIALKIT_APT_LOCK_TIMEOUT:-600}"
poll="${TRIALKIT_APT_LOCK_POLL:-5}" # seconds between two attempts
case "$timeout$poll" in
  *[!0-9]*)
    echo "TRIALKIT_APT_LOCK_TIMEOUT and TRIALKIT_APT_LOCK_POLL must be whole numbers of seconds." >&2
    exit 2
    ;;
esac

need=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if $browser; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "trialkit needs: ${need[*]} (Debian package names); install them with your package manager." >&2
  exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

# Run one apt-get command; while it fails because another process holds a lock, wait and try again.
apt_get() {
  local command=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$timeout" "$@")
  if $dry_run; then
    echo "would run: ${command[*]}"
    return 0
  fi
  local deadline=$(($(date +%s) + timeout)) errors status
  errors="$(mktemp)"
  while true; do
    status=0
    "${command[@]}" 2>"$errors" || status=$?
    cat "$errors" >&2
    if [ "$status" -eq 0 ]; then
      rm -f "$errors"
      return 0
    fi
    if ! grep -qiE "could not get lock|unable to lock|unable to acquire the dpkg frontend lock" "$errors"; then
      rm -f "$errors"
      return "$status"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      rm -f "$errors"
      echo "system-deps.sh: the package manager's lock was still held after ${timeout} s; run the command" \
        "again when the other package manager has finished (or set TRIALKIT_APT_LOCK_TIMEOUT)." >&2
      return "$status"
    fi
    echo "system-deps.sh: another process holds the package manager's lock; trying again in ${poll} s" \
      "(giving up $((deadline - $(date +%s))) s from now)." >&2
    sleep "$poll"
  done
}

echo "system-deps.sh: installing ${need[*]}" >&2
apt_get update -q
apt_get install -y -q "${need[@]}"
