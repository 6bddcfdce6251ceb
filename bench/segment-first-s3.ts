/**
 * What the first segment of a preset costs in scale-out, before and after it read only its byte
 * range (decision 0027, "the first segment"): before, the part downloads the whole input from the
 * bucket (BlobStore.openLocal) and ffmpeg decodes the file; after, it streams the stored header
 * and its bytes from a ranged GET into ffmpeg. Wall time of the whole step, CPU of ffmpeg (from
 * /usr/bin/time), of this process (the S3 client) and of s3rver (it runs inside with-services,
 * this process's parent).
 *
 *   REPRISE_SERVICES=s3 node --import tsx test/support/with-services.ts \
 *     node --import tsx bench/segment-first-s3.ts <input.wav>
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createS3BlobStore, createS3Client } from '../src/blobs/s3.ts';
import { partInput } from '../src/domain/segmented/part-input.ts';
import { segmentSecondsFor } from '../src/domain/segmented/plan.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { findPreset, outputSampleRate } from '../src/media/presets.ts';
import { planRangeInput } from '../src/media/segment-range-input.ts';
import { segmentEncodeArgs } from '../src/media/segments/encode-args.ts';
import { planSegments, segmentCodec } from '../src/media/segments/index.ts';
import { prependHeader } from '../src/media/segments/wav-piped-header.ts';
import { ffmpegCpu } from './proc.ts';

/** CPU seconds a process has used so far, from /proc (s3rver runs in our parent). */
async function procCpu(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime, in clock ticks: 100 a second on Linux (getconf CLK_TCK).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const file = process.argv[2];
const endpoint = process.env.REPRISE_TEST_S3;
if (!file || !endpoint) throw new Error('usage: REPRISE_SERVICES=s3 with-services node --import tsx bench/segment-first-s3.ts <input.wav>');
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });
const bucket = 'bench-first';
const client = createS3Client({ bucket, endpoint, forcePathStyle: true });
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const blobs = createS3BlobStore(client, bucket);
const key = 'bench/first-segment.wav';
await blobs.put(key, createReadStream(file));
const input = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(file);
const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-seg-first-'));
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
console.log(`input ${file}: ${(input.durationMs / 60000).toFixed(1)} min; load ${load()}`);

async function measure(step: () => Promise<number>) {
  const [wall0, self0, s3rver0] = [performance.now(), process.cpuUsage(), await procCpu(process.ppid)];
  const ffmpeg = await step();
  const self = process.cpuUsage(self0);
  return { wall: (performance.now() - wall0) / 1000, ffmpeg, client: (self.user + self.system) / 1e6, s3rver: (await procCpu(process.ppid)) - s3rver0 };
}
const show = (m: Awaited<ReturnType<typeof measure>>) =>
  `${m.wall.toFixed(1)} s wall, CPU ffmpeg ${m.ffmpeg.toFixed(2)} s + S3 client ${m.client.toFixed(2)} s + s3rver ${m.s3rver.toFixed(2)} s`;

try {
  for (const id of ['aac-256k', 'mp3-320k', 'opus-96k']) {
    const preset = findPreset(id)!;
    const rate = outputSampleRate(preset, input.sampleRate);
    const seconds = input.durationMs / 1000;
    const segment = planSegments({ totalSamples: Math.round(seconds * rate), segmentSamples: Math.round(segmentSecondsFor(300, seconds) * rate), codec: segmentCodec(preset)!, sampleRate: rate })[0]!;
    const out = path.join(dir, `out.${preset.extension}`);
    const scratch = await mkdtemp(path.join(dir, 'part-'));
    const wholeFile = await measure(async () => {
      const part = await partInput({ blobs }, key, scratch);
      try {
        return (await ffmpegCpu(segmentEncodeArgs(await part.source.localPath(), input, preset, segment, out))).cpu;
      } finally {
        await part.release();
      }
    });
    let bytes = 0;
    const ranged = await measure(async () => {
      const part = await partInput({ blobs }, key, scratch);
      const plan = await planRangeInput(part.source, input, preset, segment);
      if (!('read' in plan) || !plan.wavHeader) throw new Error(`no range for the first segment: ${'reason' in plan ? plan.reason : 'no header'}`);
      bytes = plan.read.end - plan.read.start + 1;
      const args = segmentEncodeArgs({ container: 'wav' }, input, preset, { ...segment, encodeFrom: plan.read.encodeFrom, encodeTo: plan.read.encodeTo }, out);
      return (await ffmpegCpu(args, prependHeader(plan.wavHeader, await part.source.read({ start: plan.read.start, end: plan.read.end })))).cpu;
    });
    console.log(`${id} segment 0: whole file ${show(wholeFile)}; range (${(bytes / 1e6).toFixed(0)} MB) ${show(ranged)}; load ${load()}`);
  }
} finally {
  await blobs.deletePrefix(key);
  client.destroy();
  await rm(dir, { recursive: true, force: true });
}
