import { Type } from 'typebox';
import type { FileView } from '../../domain/files.ts';
import { IdParams, json, notFound, problem, readOnly, ref, unauthenticated, withCode } from './common.ts';

/** Multipart fields of POST /files; the same names are tus Upload-Metadata keys. */
export const trimUploadFields = {
  start: Type.Optional(Type.String({ description: 'Trim: seconds into the input where every output starts (decimals allowed; default 0)' })),
  end: Type.Optional(Type.String({ description: 'Trim: seconds into the input where every output ends (after start, at most the duration; default: the end)' })),
};

export const addOutputsSchema = {
  summary: 'Make more outputs of a finished file from its stored source',
  description:
    'Adds presets to a completed, failed or canceled file, or makes one of its outputs again, without uploading again. Only the presets asked for are made, with the file\'s trim and loudness option; every other output stays downloadable throughout, and an output made again replaces the old one only once the new one is whole (if the run fails or is canceled, the old one stays). The run is a job like any other: states, progress, cancel, retry, one notification and one webhook.',
  params: IdParams('File'),
  body: Type.Object({
    presets: Type.Optional(withCode(Type.Array(Type.String({ maxLength: 64 }), { description: 'Preset ids: built-in or the caller\'s own (u-…)' }), 'invalid_presets')),
  }),
  response: {
    202: json(ref<FileView>('File'), 'Queued; the file resource, with `producing` naming the presets being made'),
    401: unauthenticated,
    403: readOnly,
    404: notFound('file'),
    409: problem('The file\'s job is queued or running (file_busy)'),
    422: problem('No presets (no_presets_chosen), not a list of ids (invalid_presets), or an unknown preset (unknown_preset)'),
  },
};
