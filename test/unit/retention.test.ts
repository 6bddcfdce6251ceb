import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { AppError } from '../../src/errors.ts';
import { DAY_MS, effectiveDays, expiresAt, parseRetentionChoice, retentionStep, sweepCutoff } from '../../src/domain/retention.ts';

const created = Date.UTC(2026, 0, 1);
const file = (warnedAt: number | null = null) => ({ id: 'f1', created_at: created, expiry_warned_at: warnedAt });

describe('retention rules', () => {
  it('caps a choice by the instance, and allows one when the instance sets none', () => {
    assert.equal(effectiveDays(null, undefined), undefined);
    assert.equal(effectiveDays(null, 30), 30);
    assert.equal(effectiveDays(7, 30), 7);
    assert.equal(effectiveDays(60, 30), 30, 'RETENTION_DAYS lowered after the choice was made');
    assert.equal(effectiveDays(400, undefined), 400);
  });

  it('deletes at upload plus the days, but never sooner than a day after the notice', () => {
    assert.equal(expiresAt(file(), undefined, created), null);
    assert.equal(expiresAt(file(), 30, created), created + 30 * DAY_MS);
    const lateNotice = created + 40 * DAY_MS;
    assert.equal(expiresAt(file(lateNotice), 30, lateNotice), lateNotice + DAY_MS);
    // Overdue without a notice yet: a day after now at the earliest.
    assert.equal(expiresAt(file(), 30, created + 50 * DAY_MS), created + 51 * DAY_MS);
  });

  it('notifies a day before, once per due time; deletes only after both the due time and a day of notice', () => {
    const due = created + 30 * DAY_MS;
    assert.deepEqual(retentionStep(file(), 30, due - DAY_MS - 1), { action: 'wait' });
    assert.deepEqual(retentionStep(file(), 30, due - DAY_MS), { action: 'notify', dedupeKey: `retention:f1:${due}`, deleteAt: due });
    const warned = due - DAY_MS + 3_600_000;
    assert.deepEqual(retentionStep(file(warned), 30, due), { action: 'wait' }, 'due, but the notice is not a day old');
    assert.deepEqual(retentionStep(file(warned), 30, warned + DAY_MS), { action: 'delete' });
    // A notice for an earlier, shorter choice does not cover a longer one made since.
    const step = retentionStep(file(created + 6 * DAY_MS), 30, due - DAY_MS);
    assert.equal(step.action, 'notify');
    assert.equal(retentionStep(file(), undefined, due * 2).action, 'wait');
  });

  it('looks at files old enough to be due within a day', () => {
    assert.equal(sweepCutoff(30, created + 29 * DAY_MS), created);
  });

  it('takes null, or whole days from 1 to RETENTION_DAYS (36,500 without it); refuses the rest with 422', () => {
    assert.equal(parseRetentionChoice(null, 30), null);
    assert.equal(parseRetentionChoice('', 30), null);
    assert.equal(parseRetentionChoice(30, 30), 30);
    assert.equal(parseRetentionChoice('12', 30), 12);
    assert.equal(parseRetentionChoice(900, undefined), 900);
    for (const bad of [31, 0, -1, 1.5, 'x', true, {}, [], 36_501]) {
      assert.throws(() => parseRetentionChoice(bad, bad === 36_501 ? undefined : 30), (e: unknown) => e instanceof AppError && e.status === 422 && e.code === 'invalid_retention', String(bad));
    }
  });

  it('reads RETENTION_DAYS: unset is off, a whole number of days from 1, anything else stops start-up', () => {
    assert.equal(loadConfig({}).retentionDays, undefined);
    assert.equal(loadConfig({ RETENTION_DAYS: '' }).retentionDays, undefined);
    assert.equal(loadConfig({ RETENTION_DAYS: '90' }).retentionDays, 90);
    for (const bad of ['0', '-3', '1.5', 'month']) assert.throws(() => loadConfig({ RETENTION_DAYS: bad }), /RETENTION_DAYS/);
  });
});
