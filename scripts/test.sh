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
echo "== The core flow on the mixed one-host set-ups: PostgreSQL + disk, then SQLite + S3"
for services in pg s3; do
  REPRISE_SERVICES=$services node --import tsx test/support/with-services.ts \
    node --import tsx --test --test-concurrency=1 --test-reporter=spec test/api-flow.test.ts test/jobs.test.ts test/events.test.ts
done
