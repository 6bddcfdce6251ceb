import contentDisposition from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { downloadName } from '../domain/names.ts';
import { filePreset } from '../domain/preset-catalog.ts';
import type { Deps } from '../domain/ports.ts';
import { notFound } from '../errors.ts';
import { interpretRange } from './range.ts';

// Archives name their entries the same way; the rule now lives with the other name rules.
export { downloadName };

/** Streams an output to its owner, honouring a single byte range (206) for players and resumes. */
export async function sendOutput(
  deps: Deps,
  request: FastifyRequest<{ Params: { id: string; preset: string }; Querystring: { inline?: string } }>,
  reply: FastifyReply,
  userId: string,
) {
  const { id, preset } = request.params;
  const file = await deps.store.files.findForUser(userId, id);
  if (!file) throw notFound('file');
  const output = await deps.store.outputs.find(id, preset);
  const p = filePreset(file, preset);
  const stat = output ? await deps.blobs.stat(output.blob_key) : undefined;
  if (!output || !p || !stat) throw notFound('output');

  const name = downloadName(file.original_filename, preset, file.presets, (id) => filePreset(file, id));
  reply.header('Accept-Ranges', 'bytes');
  reply.header('Content-Type', p.mimeType);
  reply.header('Content-Disposition', contentDisposition(name, { type: request.query.inline ? 'inline' : 'attachment' }));
  reply.header('Cache-Control', 'private, max-age=3600');
  reply.header('ETag', `"${output.file_id}-${output.created_at}-${stat.size}"`);

  const range = interpretRange(request.headers.range, stat.size);
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${stat.size}`);
    return reply.status(416).send();
  }
  if (range.kind === 'partial') {
    const { start, end } = range;
    reply.header('Content-Range', `bytes ${start}-${end}/${stat.size}`);
    reply.header('Content-Length', end - start + 1);
    return reply.status(206).send(request.method === 'HEAD' ? undefined : await deps.blobs.get(output.blob_key, { start, end }));
  }
  reply.header('Content-Length', stat.size);
  return reply.status(200).send(request.method === 'HEAD' ? undefined : await deps.blobs.get(output.blob_key));
}
