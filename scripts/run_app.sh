#!/usr/bin/env bash
# Install everything and start the app on the built-in Shiyan demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m ui.serve --server.headless true "$@"
