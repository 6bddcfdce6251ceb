import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { ffmetadataWithPicture, flacPictureBlock } from '../src/media/ogg-cover.ts';
import { presets, type Preset } from '../src/media/presets.ts';
import { canSegment, joinSegments } from '../src/media/segments/index.ts';
import type { JoinCost, JoinJob } from './helpers/join-in-child.ts';
import { legacyJoinSegments } from './helpers/legacy-joins/index.ts';
import { encodeSegmentOutputs, type SegmentOutputs } from './helpers/segment-outputs.ts';

const run = promisify(execFile);
const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const preset = (id: string): Preset => presets.find((p) => p.id === id)!;
const MiB = 1024 * 1024;

/** A tone under quiet noise, stereo 44.1 kHz, as FLAC: cheap to make for any length. */
async function makeInput(file: string, seconds: number, extra: string[] = []): Promise<void> {
  const graph = `sine=f=440:r=44100:d=${seconds},volume=0.3[t];anoisesrc=r=44100:a=0.02:d=${seconds}[n];[t][n]amix=normalize=0,pan=stereo|c0=c0|c1=0.8*c0[a]`;
  await run('ffmpeg', ['-v', 'error', '-filter_complex', graph, ...extra, '-map', '[a]', '-c:a', 'flac', '-sample_fmt', 's16', '-y', file]);
}

/** Joins in a child process of its own, so its peak RSS is the join's alone. */
async function joinInChild(which: 'new' | 'legacy', job: JoinJob, dir: string): Promise<JoinCost> {
  const jobPath = path.join(dir, `job-${which}-${job.presetId}-${path.basename(job.outPath)}.json`);
  await writeFile(jobPath, JSON.stringify(job));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'helpers', 'join-in-child.ts'), which, jobPath], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as JoinCost;
}

describe('streaming joins', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-join-stream-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('write the same bytes as the in-memory joins they replace, for every joinable preset, with tags and cover', async () => {
    const cover = path.join(dir, 'cover.jpg');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=s=96x96:d=1', '-frames:v', '1', '-c:v', 'mjpeg', cover]);
    const tagged = path.join(dir, 'tagged.flac');
    await makeInput(path.join(dir, 'plain.flac'), 40);
    await run('ffmpeg', ['-v', 'error', '-i', path.join(dir, 'plain.flac'), '-i', cover, '-map', '0:a', '-map', '1:v', '-c:v', 'copy', '-disposition:v', 'attached_pic', '-c:a', 'copy', '-metadata', 'title=Streams', tagged]);
    const oggCover = path.join(dir, 'cover.ffmetadata');
    await writeFile(oggCover, ffmetadataWithPicture(flacPictureBlock(await readFile(cover), 'image/jpeg', 96, 96)));
    const hires = path.join(dir, 'hires.flac');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'aevalsrc=0.3*sin(2*PI*440*t)+0.05*(random(0)-0.5):s=48000:d=12', '-ac', '1', '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24', hires]);
    const cases = [
      ...presets.filter(canSegment).map((p) => ({ input: tagged, preset: p, seconds: 11 })),
      { input: hires, preset: preset('flac-cd'), seconds: 3 },
      { input: hires, preset: preset('wav-44k-16'), seconds: 3 },
    ];
    for (const [n, c] of cases.entries()) {
      const probe = await media.probe(c.input);
      const sub = await mkdtemp(path.join(dir, `same-${n}-`));
      const { segments, paths } = await encodeSegmentOutputs(c.input, probe, c.preset, sub, c.seconds, { oggCoverMetadataPath: oggCover });
      assert.ok(segments.length >= 3, `${c.preset.id}: ${segments.length} segments`);
      const [before, now] = [path.join(sub, `legacy.${c.preset.extension}`), path.join(sub, `streamed.${c.preset.extension}`)];
      await legacyJoinSegments(c.preset, segments, paths, before);
      await joinSegments(c.preset, segments, paths, now);
      const [a, b] = [await readFile(before), await readFile(now)];
      assert.ok(a.length > 10_000, `${c.preset.id}: the legacy join wrote ${a.length} bytes`);
      assert.ok(a.equals(b), `${c.preset.id} (${path.basename(c.input)}): streamed join differs from the in-memory one (${b.length} vs ${a.length} bytes)`);
      await rm(sub, { recursive: true, force: true });
    }
  });

  it('refuses a segment that is not what the plan says and leaves no partial output', async () => {
    const input = path.join(dir, 'short.flac');
    await makeInput(input, 30);
    const mp3 = preset('mp3-192k');
    const { segments, paths } = await encodeSegmentOutputs(input, await media.probe(input), mp3, dir, 10);
    const out = path.join(dir, 'refused.mp3');
    // Segment 0's file in segment 1's place: it has no pre-roll, so 8 of its frames are missing.
    const wrong = [paths[0]!, paths[0]!, ...paths.slice(2)];
    await assert.rejects(joinSegments(mp3, segments, wrong, out), /MP3 segment 1 has \d+ frames where \d+ were planned/);
    await assert.rejects(stat(out), { code: 'ENOENT' });
  });

  describe('on a 20-minute input against a 2.5-minute one', () => {
    let short: SegmentOutputs;
    let long: SegmentOutputs;
    let longFlac: SegmentOutputs;
    before(async () => {
      const shortInput = path.join(dir, 'input-150s.flac');
      const longInput = path.join(dir, 'input-1200s.flac');
      await Promise.all([makeInput(shortInput, 150), makeInput(longInput, 1200)]);
      short = await encodeSegmentOutputs(shortInput, await media.probe(shortInput), preset('mp3-320k'), dir, 40);
      const longProbe = await media.probe(longInput);
      long = await encodeSegmentOutputs(longInput, longProbe, preset('mp3-320k'), dir, 300);
      longFlac = await encodeSegmentOutputs(longInput, longProbe, preset('flac-cd'), dir, 300);
    });

    it('an MP3 join’s peak memory does not grow with the input, where the in-memory join’s grew with it', async () => {
      const job = (o: SegmentOutputs, name: string): JoinJob => ({ presetId: 'mp3-320k', segments: o.segments, paths: o.paths, outPath: path.join(dir, name) });
      const shortCost = await joinInChild('new', job(short, 'short.mp3'), dir);
      const longCost = await joinInChild('new', job(long, 'long.mp3'), dir);
      const legacyCost = await joinInChild('legacy', job(long, 'long-legacy.mp3'), dir);
      const outMiB = (await stat(path.join(dir, 'long.mp3'))).size / MiB;
      const report = `output ${outMiB.toFixed(1)} MiB; peak RSS above baseline: 2.5 min ${shortCost.peakRssMiB.toFixed(1)} MiB, 20 min ${longCost.peakRssMiB.toFixed(1)} MiB, 20 min in memory ${legacyCost.peakRssMiB.toFixed(1)} MiB; peak arrayBuffers ${shortCost.peakArrayBuffersMiB.toFixed(1)} / ${longCost.peakArrayBuffersMiB.toFixed(1)} / ${legacyCost.peakArrayBuffersMiB.toFixed(1)} MiB`;
      console.log(report);
      assert.ok(outMiB > 40, report);
      // The probe sees whole files where they are held: the old join held the output and its segments.
      assert.ok(legacyCost.peakArrayBuffersMiB > outMiB, report);
      assert.ok(longCost.peakArrayBuffersMiB < 16, report);
      assert.ok(longCost.peakArrayBuffersMiB < shortCost.peakArrayBuffersMiB + 8, report);
      assert.ok(longCost.peakRssMiB < shortCost.peakRssMiB + 24, report);
    });

    // Generous: with a turn every 10 ms of work, the OS alone stalled the loop 538 ms once on this
    // crowded 2-core machine (the joins bench, load average 10); the in-memory joins held it for
    // seconds: 60 minutes of MP3 5–14 s, of FLAC 27–51 s.
    it('the event loop stays responsive while MP3 and FLAC joins of 20 minutes run (longest delay under 1 s), where the in-memory FLAC join held it', async () => {
      const job = (presetId: string, o: SegmentOutputs, name: string): JoinJob => ({ presetId, segments: o.segments, paths: o.paths, outPath: path.join(dir, name) });
      const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');
      for (const [presetId, o] of [['mp3-320k', long], ['flac-cd', longFlac]] as const) {
        const cost = await joinInChild('new', job(presetId, o, `loop-${presetId}`), dir);
        console.log(`${presetId}: join ${(cost.ms / 1000).toFixed(1)} s, event-loop delay longest ${cost.maxLoopDelayMs.toFixed(0)} ms, 99th percentile ${cost.p99LoopDelayMs.toFixed(0)} ms, load average ${load()}`);
        // The FLAC join (CRC-16 over every byte) is the one that takes seconds, even on an idle machine.
        if (presetId === 'flac-cd') assert.ok(cost.ms > 1000, `${presetId}: the join should take long enough to block (${cost.ms.toFixed(0)} ms)`);
        assert.ok(cost.maxLoopDelayMs < 1000, `${presetId}: the event loop waited ${cost.maxLoopDelayMs.toFixed(0)} ms`);
      }
      const legacy = await joinInChild('legacy', job('flac-cd', longFlac, 'loop-legacy-flac'), dir);
      console.log(`flac-cd in memory: join ${(legacy.ms / 1000).toFixed(1)} s, event-loop delay longest ${legacy.maxLoopDelayMs.toFixed(0)} ms, load average ${load()}`);
      assert.ok(legacy.maxLoopDelayMs > 1000, `the check can fail: the in-memory FLAC join held the loop ${legacy.maxLoopDelayMs.toFixed(0)} ms`);
    });
  });
});
