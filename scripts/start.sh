#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running Reprise on http://localhost:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
exec npm start
