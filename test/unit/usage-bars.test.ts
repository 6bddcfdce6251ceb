import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Usage } from '../../src/domain/quotas.ts';
import { usageBars } from '../../src/web/usage-view.ts';

const usage = (usedBytes: number, quotaBytes: number | null): Usage => ({
  storage: { usedBytes, reservedBytes: 0, quotaBytes },
  filesToday: { count: 0, quota: null, resetAt: '2026-12-04T00:00:00.000Z' },
  queuedJobs: { count: 0, quota: 5 },
  limits: { quotaBytes, queuedJobs: 5, filesPerDay: null, maxUploadBytes: 1, maxInputSeconds: 1, maxOutputBytes: 1 },
  overrides: { quotaBytes: null, queuedJobs: null, filesPerDay: null, maxUploadBytes: null, maxInputSeconds: null, maxOutputBytes: null },
});

describe('usage bars', () => {
  it('warns from 80 % and says when the limit is reached', () => {
    assert.deepEqual(usageBars(usage(79, 100)).map((b) => [b.percent, b.warn, b.full])[0], [79, false, false]);
    assert.deepEqual(usageBars(usage(80, 100)).map((b) => [b.percent, b.warn, b.full])[0], [80, true, false]);
    assert.deepEqual(usageBars(usage(130, 100)).map((b) => [b.percent, b.warn, b.full])[0], [100, true, true]);
  });

  it('rounds down, so a bar shows 100 % only at the limit', () => {
    assert.deepEqual(usageBars(usage(999, 1000)).map((b) => [b.percent, b.full])[0], [99, false]);
    assert.deepEqual(usageBars(usage(7999, 10000)).map((b) => [b.percent, b.warn])[0], [79, false]);
  });

  it('says what is refused at each limit', () => {
    const [storage, today, waiting] = usageBars(usage(100, 100));
    assert.match(storage?.alerts.full ?? '', /uploads are refused until files are deleted/);
    assert.match(today?.alerts.full ?? '', /until 00:00 UTC/);
    assert.match(waiting?.alerts.full ?? '', /until one finishes/);
    assert.match(storage?.alerts.warn ?? '', /Over 80% used/);
  });

  it('draws no bar without a limit', () => {
    const [storage, today, waiting] = usageBars(usage(5 * 1024 * 1024, null));
    assert.equal(storage?.percent, null);
    assert.equal(storage?.text, '5.0 MB (no limit)');
    assert.equal(today?.percent, null);
    assert.equal(waiting?.text, '0 of 5');
  });
});
