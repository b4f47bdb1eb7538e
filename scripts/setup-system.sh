#!/usr/bin/env bash
# System packages the browser tests need: Debian's chromium (Playwright drives it; no browser download).
# Idempotent: does nothing when chromium is already installed. Needs root (apt-get); without it the
# browser tests skip with a reason (and fail under CI=true).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: chromium is missing and apt-get as root is unavailable; browser tests will skip" >&2
  exit 0
fi
echo "setup-system: installing Debian's chromium for the browser tests…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
