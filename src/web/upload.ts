import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import type { Deps, FileRecord } from '../domain/ports.ts';
import { acceptUpload, discard, storeUploadBody } from '../domain/uploads.ts';
import type { LocalCopy } from '../domain/upload-copy.ts';
import { admitUpload, MULTIPART_RESERVATION_MS, outOfStorage, releaseUpload, uploadTooLarge, type Admission } from '../domain/upload-admission.ts';
import { pickLoudnessFields } from '../domain/loudness.ts';
import { pickTrimFields } from '../domain/trim.ts';
import { AppError } from '../errors.ts';

/** Room for multipart boundaries and the small fields around the file. */
const MULTIPART_OVERHEAD = 1024 * 1024;
/** The whole body has arrived but the parser has said nothing for this long: it is stuck. */
const PARSER_STALL_MS = 2_000;

/**
 * The file part passed the admission's cap: only a body without a declared length gets there
 * (Node stops a declared one at its length). Which limit it crossed decides the answer.
 */
const overCap = (admission: Admission, size: number) =>
  admission.streamCap < admission.limits.maxUploadBytes
    ? outOfStorage(admission.limits, (admission.limits.quotaBytes ?? 0) - admission.bytes, size)
    : uploadTooLarge(admission.limits, size);
const isFileTooLarge = (err: unknown) => (err as { code?: unknown } | undefined)?.code === 'FST_REQ_FILE_TOO_LARGE';
const malformed = () =>
  new AppError('malformed_multipart', 400, 'The upload is not well-formed multipart/form-data (a missing or broken boundary, or a part header the server cannot read). Nothing was kept.');
const interrupted = () =>
  new AppError('upload_interrupted', 400, 'The upload was interrupted before it finished. Nothing was kept.');

/** busboy reports broken bodies as plain Errors; these are the client's fault, not ours. */
const isParserError = (err: unknown) =>
  err instanceof Error && !(err instanceof AppError) && !('code' in err) && /multipart|boundary|part header|terminated early/i.test(err.message);

/**
 * The multipart parser can stop emitting for good on some malformed bodies (a part whose
 * `filename*` holds CR or LF is skipped and the request never finishes). While we wait on it,
 * watch the request: once the body has fully arrived, a parser that stays silent is stuck.
 */
function nextPart(request: FastifyRequest, iterator: AsyncIterator<Multipart>): Promise<IteratorResult<Multipart>> {
  const raw = request.raw;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    let completeSince: number | undefined;
    timer = setInterval(() => {
      if (!raw.complete) return;
      completeSince ??= Date.now();
      if (Date.now() - completeSince >= PARSER_STALL_MS) reject(malformed());
    }, 250);
  });
  return Promise.race([iterator.next(), stuck]).finally(() => clearInterval(timer));
}

/**
 * Reads a multipart upload (fields in any order, one `file` part) straight into blob storage,
 * then hands it to the domain. Whatever goes wrong, the stored bytes are removed.
 */
export async function receiveUpload(deps: Deps, request: FastifyRequest, userId: string): Promise<FileRecord> {
  const length = request.headers['content-length'];
  // Every limit is checked, and the body's bytes reserved against the storage quota, before one
  // byte is stored; a refusal is answered before the body is read, as an over-size upload always was.
  const admission = await admitUpload(deps, userId, {
    id: deps.newId(),
    declaredBytes: length === undefined ? undefined : Number(length),
    sizeAllowance: MULTIPART_OVERHEAD,
    ttlMs: MULTIPART_RESERVATION_MS,
  });
  const fields: Record<string, string[]> = {};
  let stored: { fileId: string; size: number; filename: string; localCopy?: LocalCopy } | undefined;
  let reading: { bytesRead?: number } | undefined;
  try {
    const iterator = request.parts({ limits: { fileSize: admission.streamCap } })[Symbol.asyncIterator]();
    for (let step = await nextPart(request, iterator); !step.done; step = await nextPart(request, iterator)) {
      const part = step.value;
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || stored) {
          part.file.resume();
          continue;
        }
        // The parser's own count: a 'data' listener here would take the bytes from storage.
        reading = part.file;
        const result = await storeUploadBody(deps, part.file);
        stored = { ...result, filename: part.filename };
        if (part.file.truncated) throw overCap(admission, reading?.bytesRead ?? admission.streamCap);
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
      loudness: pickLoudnessFields((field) => fields[field]?.[0]),
      reservationId: admission.id,
      trim: pickTrimFields((field) => fields[field]?.[0]),
      ...(stored.localCopy ? { localCopy: stored.localCopy } : {}),
    });
  } catch (err) {
    if (stored) await discard(deps, stored.fileId);
    await releaseUpload(deps, admission.id);
    // A client that went away (or was cut for idling) is not a storage failure.
    if (request.bodyCut || (request.raw.destroyed && !request.raw.complete)) {
      request.log.info({ cut: request.bodyCut === true }, 'upload ended before its body did; nothing kept');
      throw interrupted();
    }
    await drain(request.raw);
    if (isFileTooLarge(err)) throw overCap(admission, reading?.bytesRead ?? admission.streamCap);
    throw isParserError(err) ? malformed() : err;
  } finally {
    await stored?.localCopy?.release();
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
