import type { UploadMemory } from './memory.ts';
import { PEAKS_STEP, type Measured, type TranscodeRuns } from './transcode.ts';
import { median, round } from './util.ts';

const TARGET_VS_SINGLE = 1.05;
const TARGET_VS_SEPARATE = 1.0;
const TARGET_GROWTH_MIB = 64;

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const list = (ms: readonly number[]) => `[${ms.map((m) => (m / 1000).toFixed(2)).join(', ')}]`;
const rounded = (ms: readonly number[]) => ms.map((m) => round(m, 1));

/** Prints the transcode table; returns its numbers for the JSON line. */
export function reportTranscode(runs: TranscodeRuns, log: (line: string) => void) {
  const row = (label: string, m: Measured) =>
    log(`  ${label.padEnd(52)}${secs(median(m.wallMs)).padStart(10)}${secs(median(m.cpuMs)).padStart(11)}   ${list(m.wallMs)}`);
  const wall = { a: median(runs.single.wallMs), b: median(runs.separate.wallMs), c: median(runs.service.wallMs) };
  const cpu = { a: median(runs.single.cpuMs), b: median(runs.separate.cpuMs), c: median(runs.service.cpuMs) };
  const peaksWall = runs.separateSteps[PEAKS_STEP]?.wallMs ?? [];
  const presetsOnly = runs.separate.wallMs.map((ms, i) => ms - (peaksWall[i] ?? 0));
  const ratios = {
    serviceVsSingle: round(wall.c / wall.a, 4),
    serviceVsSeparate: round(wall.c / wall.b, 4),
    serviceVsSeparatePresetsOnly: round(wall.c / median(presetsOnly), 4),
    cpuServiceVsSingle: round(cpu.c / cpu.a, 4),
    cpuServiceVsSeparate: round(cpu.c / cpu.b, 4),
    // Round by round: how much of the spread is the machine rather than the service.
    perRound: runs.service.wallMs.map((ms, i) => ({
      serviceVsSingle: round(ms / (runs.single.wallMs[i] ?? Number.NaN), 3),
      serviceVsSeparate: round(ms / (runs.separate.wallMs[i] ?? Number.NaN), 3),
    })),
  };
  const pass = { serviceVsSingle: ratios.serviceVsSingle <= TARGET_VS_SINGLE, serviceVsSeparate: ratios.serviceVsSeparate < TARGET_VS_SEPARATE };

  log('');
  log(`Transcode: 10 min stereo 44.1 kHz 16-bit WAV -> wav-44k-16 + flac-cd + aac-256k + waveform peaks (median of ${runs.single.wallMs.length})`);
  log(`  ${'measurement'.padEnd(52)}${'wall'.padStart(10)}${'CPU'.padStart(11)}   wall per round (s)`);
  row('(a) bare ffmpeg, one process, the service\'s args', runs.single);
  row('(b) bare ffmpeg, one process per output, summed', runs.separate);
  for (const [id, m] of Object.entries(runs.separateSteps)) row(`      ${id}`, m);
  row('(c) service, upload 201 -> "completed" event', runs.service);
  log(`  service / (a) = ${ratios.serviceVsSingle.toFixed(3)} wall, ${ratios.cpuServiceVsSingle.toFixed(3)} CPU   (target <= ${TARGET_VS_SINGLE} wall)  ${verdict(pass.serviceVsSingle)}`);
  log(`  service / (b) = ${ratios.serviceVsSeparate.toFixed(3)} wall, ${ratios.cpuServiceVsSeparate.toFixed(3)} CPU   (target <  ${TARGET_VS_SEPARATE.toFixed(2)} wall)  ${verdict(pass.serviceVsSeparate)}`);
  log(`  service / (b without the peaks command) = ${ratios.serviceVsSeparatePresetsOnly.toFixed(3)} wall`);
  log(`  per round, service / (a): ${ratios.perRound.map((r) => r.serviceVsSingle.toFixed(3)).join(', ')};  service / (b): ${ratios.perRound.map((r) => r.serviceVsSeparate.toFixed(3)).join(', ')}`);
  const ph = runs.servicePhases;
  const ms = (v: readonly number[]) => `${Math.round(median(v))} ms`;
  if (ph.ffmpegMs.length > 0) {
    log(`  service phases (median): pickup ${ms(ph.pickupMs)}, its ffmpeg ${secs(median(ph.ffmpegMs))} (${(median(ph.ffmpegMs) / wall.a).toFixed(3)} x (a)), ` +
      `after ffmpeg ${ms(ph.afterMs)} (of which ffprobe of the outputs ${ms(ph.probesMs)}); server process CPU ${secs(median(ph.serverCpuMs))}`);
  }
  log(`  service outputs have the same sizes as bare ffmpeg's: ${runs.outputSizesMatch ? 'yes' : 'NO'}`);
  log('  (CPU = user + system time of ffmpeg; for the service, of the server process and its children)');
  return {
    medianWallMs: { single: round(wall.a, 1), separate: round(wall.b, 1), service: round(wall.c, 1) },
    medianCpuMs: { single: round(cpu.a, 1), separate: round(cpu.b, 1), service: round(cpu.c, 1) },
    runs: {
      single: { wallMs: rounded(runs.single.wallMs), cpuMs: rounded(runs.single.cpuMs) },
      separate: { wallMs: rounded(runs.separate.wallMs), cpuMs: rounded(runs.separate.cpuMs) },
      separateSteps: Object.fromEntries(
        Object.entries(runs.separateSteps).map(([id, m]) => [id, { wallMs: rounded(m.wallMs), cpuMs: rounded(m.cpuMs) }]),
      ),
      service: { wallMs: rounded(runs.service.wallMs), cpuMs: rounded(runs.service.cpuMs) },
      servicePhases: Object.fromEntries(Object.entries(ph).map(([k, v]) => [k, rounded(v)])),
    },
    ratios,
    pass,
    outputSizesMatch: runs.outputSizesMatch,
  };
}

/** Prints the upload memory table; returns its numbers for the JSON line. */
export function reportUpload(service: UploadMemory, bare: UploadMemory, log: (line: string) => void) {
  log('');
  log(`Upload memory: ${(service.bodyBytes / 1024 ** 3).toFixed(3)} GiB multipart body, RSS sampled every 20 ms`);
  log('  (peak = max of the samples and the kernel peak mark VmHWM, reset at the baseline)');
  log(`  ${'server'.padEnd(18)}${'MiB/s'.padStart(8)}${'time'.padStart(10)}${'baseline'.padStart(12)}${'peak'.padStart(10)}${'growth'.padStart(10)}${'samples'.padStart(9)}${'max gap'.padStart(9)}${'sampled/kernel peak'.padStart(22)}`);
  for (const m of [service, bare]) {
    log(
      `  ${m.server.padEnd(18)}${m.mibPerSecond.toFixed(1).padStart(8)}${`${m.seconds.toFixed(2)} s`.padStart(10)}` +
        `${`${m.baselineMiB.toFixed(1)} MiB`.padStart(12)}${`${m.peakMiB.toFixed(1)} MiB`.padStart(10)}` +
        `${`${m.growthMiB.toFixed(1)} MiB`.padStart(10)}${String(m.samples).padStart(9)}${`${m.maxSampleGapMs} ms`.padStart(9)}` +
        `${`${m.sampledPeakMiB.toFixed(1)} / ${m.kernelPeakMiB?.toFixed(1) ?? 'n/a'} MiB`.padStart(22)}`,
    );
  }
  const growthRatio = bare.growthMiB > 0 ? service.growthMiB / bare.growthMiB : Number.POSITIVE_INFINITY;
  log(`  service peak growth = ${service.growthMiB.toFixed(1)} MiB (target <= ${TARGET_GROWTH_MIB} MiB)  ${verdict(service.growthMiB <= TARGET_GROWTH_MIB)}`);
  log(`  growth service / bare = ${Number.isFinite(growthRatio) ? growthRatio.toFixed(2) : 'n/a'};  throughput service / bare = ${(service.mibPerSecond / bare.mibPerSecond).toFixed(2)}`);
  return {
    service,
    bare,
    growthRatio: Number.isFinite(growthRatio) ? round(growthRatio, 3) : null,
    throughputRatio: round(service.mibPerSecond / bare.mibPerSecond, 3),
    pass: { growth: service.growthMiB <= TARGET_GROWTH_MIB },
  };
}

