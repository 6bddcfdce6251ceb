import { Type } from 'typebox';
import { Nullable } from './common.ts';

/** The loudness option's schemas: upload fields, and the `loudness` part of the File resource. */

const modes = ['off', 'podcast', 'streaming', 'broadcast', 'custom'] as const;
const Mode = Type.Union(modes.map((m) => Type.Literal(m)));

const Measurement = Type.Object({
  integratedLufs: Nullable(Type.Number(), 'Integrated loudness, LUFS (null: silence)'),
  truePeakDbtp: Nullable(Type.Number(), 'True peak, dBTP (null: silence)'),
  rangeLu: Type.Number({ description: 'Loudness range, LU' }),
});

const Target = Type.Object({ integratedLufs: Type.Number(), truePeakDbtp: Type.Number(), rangeLu: Type.Number() });

const Report = Type.Object({
  method: Type.Union([Type.Literal('linear'), Type.Literal('limiter')], {
    description: 'linear: plain gain; limiter: gain into a true-peak limiter, because plain gain would have pushed the peaks over the ceiling',
  }),
  gainDb: Type.Number(),
  before: Measurement,
  after: Measurement,
  afterFrom: Type.Union([Type.Literal('meter'), Type.Literal('gain')], {
    description: "meter: measured after the limiter; gain: the 'before' figures moved by the plain gain (exact for BS.1770)",
  }),
});

export const LoudnessSchema = Type.Object(
  { mode: Mode, target: Nullable(Target), report: Nullable(Report, 'Once the job has run with normalization') },
  { description: 'The normalization the file was uploaded with and, once its job has run, what was measured' },
);

/** Multipart fields of POST /files; the same names are tus Upload-Metadata keys. */
export const loudnessUploadFields = {
  loudness: Type.Optional(
    Type.Union(modes.map((m) => Type.Literal(m)), {
      description: 'Loudness normalization: off (default), podcast (−16 LUFS, −1 dBTP), streaming (−14 LUFS, −1 dBTP), broadcast (EBU R128, −23 LUFS, −1 dBTP) or custom',
    }),
  ),
  loudnessI: Type.Optional(Type.String({ description: 'With loudness=custom: integrated loudness target, −70 to −5 LUFS' })),
  loudnessTP: Type.Optional(Type.String({ description: 'With loudness=custom: true-peak ceiling, −9 to 0 dBTP' })),
  loudnessLRA: Type.Optional(Type.String({ description: 'With loudness=custom: loudness range, 1 to 50 LU (recorded; gain and limiter keep the dynamics)' })),
};
