/**
 * The media path under fuzzing: real audio files in six formats, mutated (bits flipped, cut
 * short, ranges zeroed, bytes inserted or repeated, one format's head on another's body) and
 * plain random bytes, uploaded as a person would. Every answer is 201 or a 4xx problem with a
 * reason, never a 5xx; every accepted job ends completed or failed with a reason; at the end
 * nothing is half-made and the server still answers.
 *
 * Seeded and reproducible: MEDIA_FUZZ_SEED and MEDIA_FUZZ_CASES. A failing case is saved to a
 * file, named in the assertion, so it can be uploaded again by hand.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { fixtures } from './helpers/audio.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { halfMade } from './helpers/fuzz-leftovers.ts';
import { waitFor, type TestServer } from './helpers/server.ts';
import { startServerWithUser } from './helpers/server-with-user.ts';

const run = promisify(execFile);
const SEED = Number(process.env.MEDIA_FUZZ_SEED ?? 20_261_203);
const CASES = Number(process.env.MEDIA_FUZZ_CASES ?? 120);
/** Uploads in flight at once: enough to overlap probing with transcoding. */
const PARALLEL = 4;
const PRESETS = ['wav-44k-16', 'mp3-128k', 'opus-96k', 'flac-cd', 'aac-256k'];

type Mutation =
  | { kind: 'flip'; at: number[]; bit: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'zero'; from: number; length: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'repeat'; from: number; length: number; times: number }
  | { kind: 'graft'; donor: number; head: number }
  | { kind: 'random'; bytes: number[] };

interface Case {
  source: number;
  mutation: Mutation;
  preset: string;
  name: string;
}

/** Positions are fractions of the file (0..1), so one case fits any source. */
const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fraction, { minLength: 1, maxLength: 40 }).map((a) => a.map((f) => Math.floor(f * 1e9))), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.integer({ min: 0, max: 1e9 }) }),
  fc.record({ kind: fc.constant('zero' as const), from: fc.integer({ min: 0, max: 1e9 }), length: fc.integer({ min: 1, max: 4096 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.integer({ min: 0, max: 1e9 }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 512 }) }),
  fc.record({ kind: fc.constant('repeat' as const), from: fc.integer({ min: 0, max: 1e9 }), length: fc.integer({ min: 1, max: 8192 }), times: fc.integer({ min: 2, max: 50 }) }),
  fc.record({ kind: fc.constant('graft' as const), donor: fc.integer({ min: 0, max: 100 }), head: fc.integer({ min: 4, max: 4096 }) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 20_000 }) }),
);
const caseArb: fc.Arbitrary<Case> = fc.record({
  source: fc.integer({ min: 0, max: 100 }),
  mutation: mutationArb,
  preset: fc.constantFrom(...PRESETS),
  name: fc.constantFrom('take.wav', 'song.mp3', 'voice.opus', 'album.flac', 'clip.m4a', 'noise.ogg', 'track', 'x.aac', 'weird.name.wav'),
});

function mutate(sources: Buffer[], c: Case): Buffer {
  const src = sources[c.source % sources.length] as Buffer;
  const at = (n: number, len = src.length) => (len === 0 ? 0 : n % len);
  const m = c.mutation;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(src);
      for (const p of m.at) out[at(p)] = (out[at(p)] as number) ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return src.subarray(0, at(m.keep));
    case 'zero': {
      const out = Buffer.from(src);
      out.fill(0, at(m.from), Math.min(src.length, at(m.from) + m.length));
      return out;
    }
    case 'insert':
      return Buffer.concat([src.subarray(0, at(m.at)), Buffer.from(m.bytes), src.subarray(at(m.at))]);
    case 'repeat': {
      const piece = src.subarray(at(m.from), at(m.from) + m.length);
      return Buffer.concat([src.subarray(0, at(m.from)), ...Array.from({ length: m.times }, () => piece), src.subarray(at(m.from))]);
    }
    case 'graft': {
      const donor = sources[m.donor % sources.length] as Buffer;
      return Buffer.concat([donor.subarray(0, m.head), src.subarray(Math.min(m.head, src.length))]);
    }
    case 'random':
      return Buffer.from(m.bytes);
  }
}

/** One second of real audio in each format people upload, beside the shared fixtures. */
async function sources(dir: string): Promise<Buffer[]> {
  const made: string[] = [await fixtures.wav(), await fixtures.mp3WithCover(), await fixtures.hiRes()];
  const tone = ['-f', 'lavfi', '-i', 'sine=frequency=523:duration=1:sample_rate=48000', '-ac', '2'];
  for (const [name, codec] of [['a.opus', ['-c:a', 'libopus']], ['a.ogg', ['-c:a', 'libvorbis']], ['a.m4a', ['-c:a', 'aac']], ['a.aac', ['-c:a', 'aac', '-f', 'adts']]] as const) {
    const out = path.join(dir, name);
    await run('ffmpeg', ['-v', 'error', '-y', ...tone, ...codec, out]);
    made.push(out);
  }
  return Promise.all(made.map((f) => readFile(f)));
}

/**
 * Waits while jobs are still finishing. A busy machine may take long over a hundred jobs, so the limit
 * is on standing still: two minutes in which not one job ends is a hang, reported with the files.
 */
async function jobsSettle(srv: TestServer): Promise<void> {
  const busy = () => srv.app.db.selectFrom('files').select(['id', 'status', 'progress', 'name']).where('status', 'in', ['queued', 'running']).execute();
  let last = Number.POSITIVE_INFINITY;
  for (;;) {
    const now = (await busy()).length;
    if (now === 0) return;
    if (now >= last) {
      const stuck = await busy();
      assert.fail(`no job ended in two minutes; still busy: ${JSON.stringify(stuck.slice(0, 10))}`);
    }
    last = now;
    await waitFor('a job to end', async () => ((await busy()).length < now ? true : undefined), 120_000).catch(() => undefined);
  }
}

describe(`the media path, fuzzed (seed ${SEED}, ${CASES} cases)`, () => {
  let srv: TestServer;
  let api: ApiClient;
  let inputs: Buffer[] = [];
  let close: (() => Promise<void>) | undefined;

  before(async () => {
    // Limits low enough that a mutated header claiming hours is refused quickly, not transcoded.
    const started = await startServerWithUser('fuzzer', { MAX_INPUT_SECONDS: '60', MAX_UPLOAD_BYTES: String(4 * 1024 * 1024) });
    ({ srv, api, close } = started);
    inputs = await sources(started.dir);
  });
  after(() => close?.());

  it('answers 201 or a 4xx with a reason, ends every job with a reason, and leaves nothing half-made', async (t) => {
    const cases = fc.sample(caseArb, { seed: SEED, numRuns: CASES });
    const accepted: { index: number; id: string }[] = [];
    const refusedCodes = new Map<string, number>();
    const failures: string[] = [];
    const keep = async (index: number, bytes: Buffer, why: string) => {
      const saved = path.join(os.tmpdir(), `reprise-media-fuzz-${SEED}-${index}.bin`);
      await writeFile(saved, bytes);
      failures.push(`case ${index} (${JSON.stringify({ ...cases[index], mutation: { kind: cases[index]?.mutation.kind } })}, bytes in ${saved}): ${why}`);
    };

    let next = 0;
    const lane = async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const c = cases[i] as Case;
        const bytes = mutate(inputs, c);
        const form = new FormData();
        form.append('presets', c.preset);
        form.append('file', new Blob([new Uint8Array(bytes)]), c.name);
        const res = await api.request('POST', '/files', form);
        const text = await res.text();
        if (res.status === 201) {
          accepted.push({ index: i, id: (JSON.parse(text) as FileJson).id });
          continue;
        }
        if (res.status < 400 || res.status >= 500) {
          await keep(i, bytes, `answered ${res.status}: ${text.slice(0, 300)}`);
          continue;
        }
        const problem = (() => {
          try {
            return JSON.parse(text) as { code?: string; detail?: string };
          } catch {
            return {};
          }
        })();
        if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '') || !problem.code || !problem.detail) {
          await keep(i, bytes, `a ${res.status} without a problem, code and detail: ${text.slice(0, 300)}`);
          continue;
        }
        refusedCodes.set(problem.code, (refusedCodes.get(problem.code) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));

    await jobsSettle(srv);
    const ended = { completed: 0, failed: 0 };
    for (const { index, id } of accepted) {
      const { status, body } = await api.json<FileJson>('GET', `/files/${id}`);
      if (status !== 200) {
        failures.push(`case ${index}: its file answers ${status}`);
      } else if (body.status === 'completed') {
        ended.completed++;
        if (body.outputs.length !== 1) failures.push(`case ${index}: completed with ${body.outputs.length} outputs`);
      } else if (body.status === 'failed') {
        ended.failed++;
        if (!body.error?.trim()) failures.push(`case ${index}: failed without a reason`);
      } else {
        failures.push(`case ${index}: ended ${body.status}`);
      }
    }
    t.diagnostic(`outcomes: ${JSON.stringify({ ...ended, refused: Object.fromEntries(refusedCodes) })}`);
    assert.deepEqual(failures, []);
    // The fuzzing must have reached both a good end and a refusal, or it tested less than it
    // claims. Where refusals come is the storage's choice: local storage probes at upload (a 4xx),
    // remote storage in the job (a failed job).
    assert.ok(ended.completed > 0 && ended.failed + refusedCodes.size > 0, JSON.stringify({ ended, refused: Object.fromEntries(refusedCodes) }));
    assert.equal(accepted.length + [...refusedCodes.values()].reduce((a, b) => a + b, 0), CASES);
    assert.deepEqual(await halfMade(srv), []);
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  });
});
