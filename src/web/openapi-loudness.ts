/** The loudness option in the OpenAPI document: upload fields and the file resource's part. */

const measurement = {
  type: 'object',
  properties: {
    integratedLufs: { type: ['number', 'null'], description: 'Integrated loudness, LUFS (null: silence)' },
    truePeakDbtp: { type: ['number', 'null'], description: 'True peak, dBTP (null: silence)' },
    rangeLu: { type: 'number', description: 'Loudness range, LU' },
  },
};

const target = {
  type: 'object',
  properties: { integratedLufs: { type: 'number' }, truePeakDbtp: { type: 'number' }, rangeLu: { type: 'number' } },
};

/** Multipart fields of POST /files (the same names are tus Upload-Metadata keys). */
export const loudnessUploadFields = {
  loudness: {
    type: 'string',
    enum: ['off', 'podcast', 'streaming', 'broadcast', 'custom'],
    description: 'Loudness normalization: off (default), podcast (−16 LUFS, −1 dBTP), streaming (−14 LUFS, −1 dBTP), broadcast (EBU R128, −23 LUFS, −1 dBTP) or custom',
  },
  loudnessI: { type: 'string', description: 'With loudness=custom: integrated loudness target, −70 to −5 LUFS' },
  loudnessTP: { type: 'string', description: 'With loudness=custom: true-peak ceiling, −9 to 0 dBTP' },
  loudnessLRA: { type: 'string', description: 'With loudness=custom: loudness range, 1 to 50 LU (recorded; gain and limiter keep the dynamics)' },
};

/** `loudness` of the File schema. */
export const loudnessFileSchema = {
  type: 'object',
  description: 'The normalization the file was uploaded with and, once its job has run, what was measured',
  properties: {
    mode: { enum: ['off', 'podcast', 'streaming', 'broadcast', 'custom'] },
    target: { oneOf: [target, { type: 'null' }] },
    report: {
      oneOf: [
        {
          type: 'object',
          properties: {
            method: { enum: ['linear', 'limiter'], description: 'linear: plain gain; limiter: gain into a true-peak limiter, because plain gain would have pushed the peaks over the ceiling' },
            gainDb: { type: 'number' },
            before: measurement,
            after: { ...measurement, description: 'The normalized audio before encoding' },
            afterFrom: { enum: ['meter', 'gain'], description: 'meter: measured after the limiter; gain: the measurement moved by the plain gain (exact for BS.1770)' },
          },
        },
        { type: 'null' },
      ],
    },
  },
};
