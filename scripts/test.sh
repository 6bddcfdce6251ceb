#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to the whole test suite: types, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh --test
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run typecheck
npm run lint
echo "== Tests on the embedded default: SQLite + local disk"
npm test
echo "== The same tests on PostgreSQL + S3 (throwaway servers on loopback)"
npm run test:scale-out
