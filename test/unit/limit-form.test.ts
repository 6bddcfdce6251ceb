import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limitFields, limitText, parseLimitField, readLimitForm, type LimitKey } from '../../src/web/limit-form.ts';

const field = (key: LimitKey) => limitFields.find((f) => f.key === key)!;
const value = (key: LimitKey, text: string) => {
  const parsed = parseLimitField(field(key), text);
  return 'value' in parsed ? parsed.value : parsed.error;
};

describe('the admin limits form', () => {
  it('reads sizes with or without a unit, 1024-based; a number alone is MB', () => {
    assert.equal(value('quotaBytes', '5 GB'), 5 * 1024 ** 3);
    assert.equal(value('quotaBytes', '5 GiB'), 5 * 1024 ** 3);
    assert.equal(value('quotaBytes', '5g'), 5 * 1024 ** 3);
    assert.equal(value('quotaBytes', '1.5 TB'), 1.5 * 1024 ** 4);
    assert.equal(value('quotaBytes', '500'), 500 * 1024 ** 2);
    assert.equal(value('maxUploadBytes', '1000 B'), 1000);
    assert.equal(value('maxOutputBytes', ' 64 KiB '), 65536);
  });

  it('reads lengths as h:mm:ss, with a unit, or seconds', () => {
    assert.equal(value('maxInputSeconds', '1:30:00'), 5400);
    assert.equal(value('maxInputSeconds', '90 min'), 5400);
    assert.equal(value('maxInputSeconds', '4 h'), 14400);
    assert.equal(value('maxInputSeconds', '2 hours'), 7200);
    assert.equal(value('maxInputSeconds', '45'), 45);
  });

  it('takes an empty field or "default" as the default', () => {
    assert.equal(value('queuedJobs', ''), null);
    assert.equal(value('queuedJobs', ' default '), null);
  });

  it('says what is wrong with a bad value, naming the field', () => {
    assert.match(String(value('quotaBytes', 'lots')), /^Storage: “lots” is not a size such as 5 GB/);
    assert.match(String(value('quotaBytes', '5 XB')), /is not a size/);
    assert.match(String(value('queuedJobs', '2.5')), /is not a whole number/);
    assert.match(String(value('queuedJobs', '0')), /must be at least 1; to stop an account, disable it instead/);
    assert.match(String(value('quotaBytes', '0 GB')), /at least 1 byte/);
    assert.match(String(value('quotaBytes', '99999999 TB')), /too large/);
    assert.match(String(value('maxInputSeconds', '1:75:00')), /is not a length/);
  });

  it('reads the whole form: all fields set or cleared, or the errors of each', () => {
    const ok = readLimitForm({ _csrf: 'x', quotaBytes: '2 GB', queuedJobs: '3', filesPerDay: '', maxUploadBytes: 'default', maxInputSeconds: '1:00:00' });
    assert.deepEqual(ok, { patch: { quotaBytes: 2 * 1024 ** 3, queuedJobs: 3, filesPerDay: null, maxUploadBytes: null, maxInputSeconds: 3600, maxOutputBytes: null }, errors: {} });
    const bad = readLimitForm({ quotaBytes: 'x', queuedJobs: '-1' });
    assert.deepEqual(Object.keys(bad.errors).sort(), ['queuedJobs', 'quotaBytes']);
  });

  it('writes a stored limit back so that it reads as the same number', () => {
    for (const [key, n] of [['quotaBytes', 5 * 1024 ** 3], ['quotaBytes', 1536 * 1024 ** 2], ['quotaBytes', 1000], ['maxInputSeconds', 5400], ['maxInputSeconds', 61], ['queuedJobs', 7]] as const) {
      assert.equal(value(key, limitText(field(key), n)), n, `${key} ${n} → "${limitText(field(key), n)}"`);
    }
    assert.equal(limitText(field('quotaBytes'), 5 * 1024 ** 3), '5 GB');
    assert.equal(limitText(field('maxInputSeconds'), 5400), '1:30:00');
    assert.equal(limitText(field('quotaBytes'), null), '');
  });
});
