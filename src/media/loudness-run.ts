import { meterArgs, trimFilter } from './ffmpeg-args.ts';
import { runTracked } from './ffmpeg-run.ts';
import { gainFilters, parseMeterSummary, planLoudness, type LoudnessMeasurement, type LoudnessPlan } from './loudness.ts';
import { MediaError, type LoudnessAnalysis, type LoudnessRequest } from './types.ts';

/** How close the limited audio must come to the target before the make-up gain stops moving. */
const MAKE_UP_TOLERANCE_LU = 0.2;
const MAKE_UP_ROUNDS = 2;

/** Decodes the input through `chain` into the meter. Writes nothing; stops on the job's limits. */
async function meter(opts: { ffmpegPath: string; stallTimeoutMs: number }, req: LoudnessRequest, chain: string, onProgress: (p: number) => void): Promise<LoudnessMeasurement> {
  const { stderr } = await runTracked({
    ...opts,
    // The trim comes first: what is measured is what the outputs are made from.
    args: meterArgs(req.inputPath, req.input, [trimFilter(req.trim, req.input.sampleRate), chain].filter(Boolean).join(',')),
    claimedMs: req.input.durationMs,
    written: [],
    signal: req.signal,
    limits: req.limits,
    onProgress,
  });
  const measured = parseMeterSummary(stderr);
  if (!measured) throw new MediaError('failed', 'The loudness of this recording could not be measured.');
  return measured;
}

/**
 * The first pass: measure the input; when plain gain would push its peaks over the ceiling, the
 * limiter decides. A limiter that takes peaks off also takes loudness off (sparse peaks: ~0.4 LU),
 * so the limited audio is measured and the missing loudness added back before it, at most twice.
 */
export async function analyzeLoudness(opts: { ffmpegPath: string; stallTimeoutMs: number }, req: LoudnessRequest): Promise<LoudnessAnalysis> {
  const before = await meter(opts, req, '', req.onProgress);
  let plan: LoudnessPlan = planLoudness(before, req.target, { lossy: req.lossy, sampleRate: req.input.sampleRate });
  for (let round = 0; plan.method === 'limiter' && round < MAKE_UP_ROUNDS; round++) {
    const limited = await meter(opts, req, gainFilters(plan), () => undefined);
    if (limited.integratedLufs === null) break;
    const missing = req.target.integratedLufs - limited.integratedLufs;
    if (Math.abs(missing) <= MAKE_UP_TOLERANCE_LU) break;
    plan = { ...plan, gainDb: Math.round((plan.gainDb + missing) * 100) / 100 };
  }
  return { before, plan };
}
