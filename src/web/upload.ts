import type { FastifyRequest } from 'fastify';
import type { Deps, FileRow } from '../domain/ports.ts';
import { acceptUpload, discard, storeUploadBody } from '../domain/uploads.ts';
import { AppError } from '../errors.ts';
import { formatBytes } from './render.ts';

/** Room for multipart boundaries and the small fields around the file. */
const MULTIPART_OVERHEAD = 1024 * 1024;

/**
 * Reads a multipart upload (fields in any order, one `file` part) straight into blob storage,
 * then hands it to the domain. Whatever goes wrong, the stored bytes are removed.
 */
export async function receiveUpload(deps: Deps, request: FastifyRequest, userId: string): Promise<FileRow> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > deps.config.maxUploadBytes + MULTIPART_OVERHEAD) {
    throw new AppError('too_large', 413, `The file is larger than this server accepts (${formatBytes(deps.config.maxUploadBytes)}). Nothing was kept.`);
  }
  const fields: Record<string, string[]> = {};
  let stored: { fileId: string; size: number; filename: string } | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || stored) {
          part.file.resume();
          continue;
        }
        const result = await storeUploadBody(deps, part.file);
        stored = { ...result, filename: part.filename };
        if (part.file.truncated) {
          throw new AppError('too_large', 413, `The file is larger than this server accepts (${formatBytes(deps.config.maxUploadBytes)}). Nothing was kept.`);
        }
      } else {
        (fields[part.fieldname] ??= []).push(String(part.value));
      }
    }
    if (!stored) throw new AppError('missing_file', 422, 'Choose a file to upload (multipart field "file").');
    const presets = fields.presets ?? [];
    return await acceptUpload(deps, {
      userId,
      fileId: stored.fileId,
      size: stored.size,
      originalFilename: stored.filename,
      name: fields.name?.[0],
      presets: presets.length === 1 ? presets[0] : presets,
    });
  } catch (err) {
    if (stored) await discard(deps, stored.fileId);
    await drain(request.raw);
    throw err;
  }
}

/**
 * Reads and discards what is left of a refused upload, so the client (which is still sending)
 * receives our error response instead of a connection reset. Bounded: the size was checked above.
 */
function drain(raw: FastifyRequest['raw'], timeoutMs = 60_000): Promise<void> {
  if (raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      raw.destroy();
      resolve();
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    raw.on('data', () => undefined);
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
    raw.resume();
  });
}
