import { Type } from 'typebox';
import { json } from './common.ts';

export const PresetSchema = Type.Object(
  {
    id: Type.String(),
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
  },
  { $id: 'Preset', title: 'Preset' },
);

export const listPresetsSchema = {
  summary: 'List output presets',
  security: [],
  response: { 200: json(Type.Object({ presets: Type.Array(PresetSchema) }), 'Presets') },
};
