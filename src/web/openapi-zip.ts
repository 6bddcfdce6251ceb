/** The ZIP downloads in the API description (routes in routes/zip.ts). */
const problem = { $ref: '#/components/responses/Problem' };
const zipBody = { description: 'A ZIP archive, streamed; Content-Length is exact', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } };
const entryRules =
  'Outputs are stored, not recompressed, under the names their single downloads have; equal names get " (2)", " (3)", … and names are cleaned of path tricks. ZIP64 past 4 GiB or 65,535 entries. Only finished outputs are included; 409 nothing_to_download when there are none.';

export const zipPaths = {
  '/files/{id}/outputs.zip': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'File id' }],
    get: {
      summary: 'Every finished output of one file, as one ZIP',
      description: entryRules,
      responses: { 200: zipBody, 401: problem, 404: problem, 409: problem },
    },
  },
  '/zip': {
    post: {
      summary: 'The finished outputs of chosen files, as one ZIP with a folder per file',
      description: `${entryRules} Any id that is not one of the caller's files answers 404. Read-only tokens may use this route: it changes nothing. 400 no_files_chosen, too_many_files or invalid_ids for a bad list.`,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { type: 'object', required: ['ids'], properties: { ids: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000, description: 'File ids, in the order of their folders' } } },
          },
        },
      },
      responses: { 200: zipBody, 400: problem, 401: problem, 404: problem, 409: problem },
    },
  },
};
