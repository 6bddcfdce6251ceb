import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { partCostsOf, presetFits } from '../../bench/segmented-parts.ts';
import { SCENARIOS, simulate } from '../../bench/segmented-model.ts';
import { repoRoot } from '../../bench/util.ts';

const F = 'file-1';
/** Log lines as the service writes them: the split with its layout, then each job's start and end. */
function lines() {
  const layout = [
    { kind: 'whole', presetIds: ['wav-44k-16'] },
    { kind: 'segment', presetId: 'aac-256k', index: 0, encodeFrom: 0, encodeTo: 44_100 * 60 },
    { kind: 'segment', presetId: 'aac-256k', index: 1, encodeFrom: 44_100 * 58, encodeTo: null },
  ];
  const job = (id: string, name: string, part: number | undefined, start: number, end: number, worker = 'pool-a') => [
    { msg: 'job started', jobId: id, job: name, workerId: worker, time: start, payload: { fileId: F, ...(part === undefined ? {} : { part }) } },
    { msg: 'job finished', jobId: id, job: name, workerId: worker, time: end },
  ];
  return [
    ...job('t', 'transcode', undefined, 900, 1_000),
    { msg: 'transcode split into parts', fileId: F, time: 1_000, layout },
    ...job('p0', 'segment', 0, 1_010, 3_000),
    ...job('p1', 'segment', 1, 1_020, 8_000, 'pool-b'),
    // A first attempt of part 2 handed back without finishing, then the run that counted.
    { msg: 'job started', jobId: 'p2', job: 'segment', workerId: 'pool-a', time: 3_000, payload: { fileId: F, part: 2 } },
    ...job('p2', 'segment', 2, 8_100, 20_000, 'pool-b'),
    ...job('j', 'segment.join', undefined, 20_050, 24_000),
    { msg: 'segmented output published', fileId: F, presetId: 'aac-256k', joined: true, ms: 3_000 },
    { msg: 'job started', jobId: 'x', job: 'segment', workerId: 'pool-a', time: 1_000, payload: { fileId: 'other', part: 0 } },
  ];
}

test('part costs pair each part with its layout, take the run that finished and time the queue and the join', () => {
  const costs = partCostsOf(lines(), F, 120);
  assert.deepEqual(costs.parts.map((p) => [p.part, p.kind, p.presets, p.index, p.wallMs, p.worker]), [
    [0, 'whole', 'peaks+wav-44k-16', -1, 1_990, 'w1'],
    [1, 'segment', 'aac-256k', 0, 6_980, 'w2'],
    [2, 'segment', 'aac-256k', 1, 11_900, 'w2'],
  ]);
  assert.equal(costs.parts[2]?.fromSeconds, 58);
  assert.equal(costs.parts[2]?.audioSeconds, 62); // the last segment runs to the input's end
  assert.equal(costs.splitJobMs, 100);
  assert.equal(costs.firstPickupMs, 10);
  assert.equal(costs.joinPickupMs, 50);
  assert.equal(costs.joinJobMs, 3_950);
  assert.deepEqual(costs.joins, [{ presetId: 'aac-256k', joined: true, ms: 3_000 }]);
  const fit = presetFits(costs)['aac-256k'];
  assert.equal(fit?.segments, 2);
});

test('part costs refuse a run whose split was not logged', () => {
  assert.throws(() => partCostsOf(lines(), 'missing', 120), /no part layout logged/);
});

test('the model reproduces the measured 60-minute, 2-slot run and never slows down with more workers', () => {
  const costs = JSON.parse(readFileSync(path.join(repoRoot, 'bench', 'segmented-costs.json'), 'utf8')) as Parameters<typeof simulate>[0];
  const [today] = SCENARIOS;
  assert.ok(today);
  const check = simulate(costs, today, 60, 2).wall;
  assert.ok(Math.abs(check - 92.4) / 92.4 < 0.05, `model ${check} s against 92.4 s measured`);
  for (const sc of SCENARIOS) {
    const walls = [1, 2, 4, 16, 64].map((w) => simulate(costs, sc, 180, w));
    for (let i = 1; i < walls.length; i++) assert.ok((walls[i]?.wall ?? 0) <= (walls[i - 1]?.wall ?? 0), `${sc.label}: slower with more workers`);
    // One slot runs everything back to back: its wall is at least the CPU of every part and join.
    assert.ok((walls[0]?.wall ?? 0) >= (walls[0]?.cpu ?? 0), sc.label);
  }
});
