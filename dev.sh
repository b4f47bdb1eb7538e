#!/usr/bin/env bash
# Set up the project in ./.venv (once; again only when the dependency files change) and run it.
#   ./dev.sh run     set up, then start the main job
#   ./dev.sh test    set up with the test extra, then run the whole test suite
# Everything installed comes from this repository's own files: pyproject.toml, constraints.txt
# and scripts/setup-system.sh (Debian packages the browser tests need).
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PY=${PYTHON:-python3}

ensure_env() {  # $1: the pip extra to install ("" for none)
  local extra=$1 spec=. stamp hash
  if [ -n "$extra" ]; then spec=".[$extra]"; fi
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  stamp="$VENV/.installed${extra:+-$extra}"
  hash=$( { cat pyproject.toml; cat constraints.txt 2>/dev/null || true; } | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
    echo "setting up $VENV ($spec)…" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    if [ -f constraints.txt ]; then
      "$VENV/bin/python" -m pip install -q -c constraints.txt -e "$spec" >&2
    else
      "$VENV/bin/python" -m pip install -q -e "$spec" >&2
    fi
    echo "$hash" >"$stamp"
  fi
}

cmd=${1:-run}
shift || true
case "$cmd" in
  run)
    ensure_env ""
    if [ "$#" -gt 0 ]; then exec "$VENV/bin/iliopsoas" "$@"; fi
    exec "$VENV/bin/iliopsoas" serve --host 127.0.0.1 --port 8000
    ;;
  test)
    ensure_env test
    [ -x scripts/setup-system.sh ] && scripts/setup-system.sh >&2
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh run [iliopsoas args…] | ./dev.sh test [pytest args…]" >&2
    exit 2
    ;;
esac
