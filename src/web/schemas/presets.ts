import { Type } from 'typebox';
import { MAX_USER_PRESETS, userCodecs } from '../../domain/user-presets.ts';
import { empty, json, jsonBody, notFound, Nullable, problem, readOnly, ref, unauthenticated, withCode } from './common.ts';

/** What an own preset's owner asked for; absent fields follow the input or the codec's default. */
const specFields = {
  label: Type.String({ minLength: 1, maxLength: 80, description: '1–80 characters' }),
  codec: Type.Union(userCodecs.map((c) => Type.Literal(c)), { description: 'The container follows from it: wav, flac, m4a (alac, aac), mp3, opus, ogg (vorbis)' }),
  bitRate: Type.Integer({ description: 'bit/s. aac 32000–320000; mp3 an MPEG Layer III rate 32000–320000 (at most 160000 at 24 kHz or less); opus 6000–510000; not for lossless codecs or vorbis' }),
  quality: Type.Number({ description: 'mp3 0–9 (VBR, 0 best), vorbis −1–10; not together with bitRate' }),
  sampleRate: Type.Integer({ description: 'Hz. opus only 48000; mp3 8000–48000 (MPEG rates); aac up to 96000; vorbis up to 48000; wav, flac, alac up to 192000. Absent: the input\'s, clamped to what the codec takes' }),
  channels: Type.Integer({ description: '1 or 2. Absent: the input\'s, up to 2' }),
  bitDepth: Type.Integer({ description: '16 or 24, lossless codecs only. Absent: the input\'s, as 16 or 24' }),
};
const coded = <T extends Record<string, import('typebox').TSchema>>(fields: T): T => {
  for (const schema of Object.values(fields)) withCode(schema, 'invalid_preset');
  return fields;
};

const SpecSchema = Type.Object({
  label: specFields.label,
  codec: specFields.codec,
  bitRate: Type.Optional(specFields.bitRate),
  quality: Type.Optional(specFields.quality),
  sampleRate: Type.Optional(specFields.sampleRate),
  channels: Type.Optional(specFields.channels),
  bitDepth: Type.Optional(specFields.bitDepth),
});

export const PresetSchema = Type.Object(
  {
    id: Type.String({ description: 'Built-in ids are names (flac-cd); own presets are u-<uuid>' }),
    label: Type.String(),
    container: Type.String(),
    codec: Type.String(),
    bitRate: Type.Union([Type.Integer(), Type.Null()]),
    quality: Type.Union([Type.Number(), Type.Null()]),
    sampleRate: Type.Union([Type.Integer(), Type.Null()]),
    maxChannels: Type.Integer(),
    extension: Type.String(),
    mimeType: Type.String(),
    lossless: Type.Boolean(),
    depthAndRate: Type.String({
      description: 'What the preset does to sample rate and bit depth, in words: "always 44.1 kHz 16-bit", or "keeps the input\'s bit depth and sample rate, up to 24-bit/192 kHz"',
    }),
    default: Type.Boolean({ description: 'Used when an upload names no presets' }),
    own: Type.Boolean({ description: "The caller's own preset (only listed to its owner)" }),
    spec: Type.Optional(Type.Object(SpecSchema.properties, { description: 'Own presets: what was asked for' })),
  },
  { $id: 'Preset', title: 'Preset' },
);

const presetParams = Type.Object({ preset: Type.String({ maxLength: 64, pattern: '^[a-z0-9-]+$', description: 'Preset id' }) });
const invalidPreset = problem('A field does not fit the codec (invalid_preset, with `field` naming it)');

export const listPresetsSchema = {
  summary: 'List output presets: the built-in ones, and with a token (or a browser session) the caller\'s own',
  security: [],
  response: { 200: json(Type.Object({ presets: Type.Array(ref<unknown>('Preset')) }), 'Presets'), 401: unauthenticated },
};

export const getPresetSchema = {
  summary: 'Get a built-in preset or one of the caller\'s own',
  params: presetParams,
  response: { 200: json(ref<unknown>('Preset'), 'The preset'), 401: unauthenticated, 404: notFound('preset') },
};

export const createPresetSchema = {
  summary: 'Create a preset of one\'s own',
  description: `Every combination is checked against what the codec allows before it is stored. At most ${MAX_USER_PRESETS} per user.`,
  body: jsonBody(Type.Object(coded({ ...SpecSchema.properties }))),
  response: {
    201: json(ref<unknown>('Preset'), 'Created'),
    401: unauthenticated,
    403: readOnly,
    409: problem(`Already ${MAX_USER_PRESETS} own presets (too_many_presets)`),
    422: invalidPreset,
  },
};

export const updatePresetSchema = {
  summary: 'Change a preset of one\'s own',
  description: 'Fields not sent keep their values; null returns a field to its default. Files already made with it keep what they were made with.',
  params: presetParams,
  body: jsonBody(Type.Object(coded({
    label: Type.Optional(specFields.label),
    codec: Type.Optional(specFields.codec),
    bitRate: Type.Optional(Nullable(specFields.bitRate)),
    quality: Type.Optional(Nullable(specFields.quality)),
    sampleRate: Type.Optional(Nullable(specFields.sampleRate)),
    channels: Type.Optional(Nullable(specFields.channels)),
    bitDepth: Type.Optional(Nullable(specFields.bitDepth)),
  }))),
  response: { 200: json(ref<unknown>('Preset'), 'The preset as changed'), 401: unauthenticated, 403: readOnly, 404: notFound('preset'), 422: invalidPreset },
};

export const deletePresetSchema = {
  summary: 'Delete a preset of one\'s own',
  description: 'Outputs already made with it stay downloadable, with their names and types.',
  params: presetParams,
  response: { 204: empty('Deleted'), 401: unauthenticated, 403: readOnly, 404: notFound('preset') },
};
