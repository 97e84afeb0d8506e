#!/usr/bin/env bash
# Set up everything the app (and, with --test, the test suite) needs on a fresh Linux machine.
#   bash scripts/setup.sh          # virtual environment, Python packages, CJK font, demo data
#   bash scripts/setup.sh --test   # the same plus test packages, Debian's Chromium, poppler-utils
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

# --- Debian packages: a freely licensed CJK font (WenQuanYi Micro Hei, Apache-2.0/GPLv3) for
# Chinese text in PDF and image exports, and for tests Chromium, pdftotext, PostGIS and nginx.
debs=(fonts-wqy-microhei)
# PostgreSQL 15 + PostGIS 3 for the PostGIS store tests, nginx for the replica cluster test.
[ $want_test = 1 ] && debs+=(chromium poppler-utils postgresql-15-postgis-3 nginx-light openssl curl)
missing=()
for d in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  if [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "!! cannot install ${missing[*]} (not root, no sudo): install them with your package manager" >&2
    [ $want_test = 1 ] && exit 1
  fi
fi

# --- Python virtual environment
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
fi
req=requirements.txt
[ $want_test = 1 ] && req=requirements-test.txt
stamp=".venv/.installed-$(cat requirements.txt requirements-test.txt | sha256sum | cut -c1-12)-$want_test"
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages from $req"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi

# --- Leaflet/jQuery files for offline maps, copied from the installed packages
.venv/bin/python -m maps.assets

# --- the Shiyan demo store (synthetic data)
if [ ! -f data/demo/shiyan_demo.gpkg ]; then
  echo "==> generating the Shiyan demo store"
  .venv/bin/python cli.py demo --out data/demo/shiyan_demo.gpkg
fi
