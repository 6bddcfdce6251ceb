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
  it('warns from 90 % and says when the limit is reached', () => {
    assert.deepEqual(usageBars(usage(89, 100)).map((b) => [b.percent, b.warn, b.full])[0], [89, false, false]);
    assert.deepEqual(usageBars(usage(90, 100)).map((b) => [b.percent, b.warn, b.full])[0], [90, true, false]);
    assert.deepEqual(usageBars(usage(130, 100)).map((b) => [b.percent, b.warn, b.full])[0], [100, true, true]);
  });

  it('draws no bar without a limit', () => {
    const [storage, today, waiting] = usageBars(usage(5 * 1024 * 1024, null));
    assert.equal(storage?.percent, null);
    assert.equal(storage?.text, '5.0 MB (no limit)');
    assert.equal(today?.percent, null);
    assert.equal(waiting?.text, '0 of 5');
  });
});
