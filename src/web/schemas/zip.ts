import { Type } from 'typebox';
import { IdParams, notFound, problem, unauthenticated, withCode } from './common.ts';

const archive = (description: string) => ({ description, content: { 'application/zip': { schema: Type.String({ format: 'binary' }) } } });
const entries =
  'Outputs are stored, not recompressed, under the names their single downloads have; equal names get " (2)", " (3)", … and names are cleaned of path tricks. ZIP64 past 4 GiB or 65,535 entries. Streamed while it is built, with an exact Content-Length.';
const nothing = problem('None of the files has a finished output yet (nothing_to_download)');

export const fileArchiveSchema = {
  summary: 'Every finished output of one file, as one ZIP',
  description: entries,
  params: IdParams('File'),
  response: { 200: archive('A ZIP archive'), 401: unauthenticated, 404: notFound('file'), 409: nothing },
};

export const selectionArchiveSchema = {
  summary: 'The finished outputs of chosen files, as one ZIP with a folder per file',
  description: `${entries} Files not completed add the outputs they have (none, until they complete). Read-only tokens may use this route: it changes nothing.`,
  // Not required, and no bounds here: the domain answers an empty or oversized list with its own
  // codes (no_files_chosen, too_many_files), the same ones the files page gets.
  body: Type.Object({
    ids: Type.Optional(withCode(Type.Array(Type.String(), { description: 'File ids (1 to 1,000), in the order of their folders' }), 'invalid_ids')),
  }),
  response: {
    200: archive('A ZIP archive'),
    401: unauthenticated,
    404: notFound('file (any id that is not one of the caller\'s files)'),
    409: nothing,
    422: problem('Not a list of ids (invalid_ids), an empty one (no_files_chosen) or over 1,000 (too_many_files)'),
  },
};
