import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../domain/ports.ts';
import { AppError, fromSystemError, titleFor } from '../errors.ts';
import { formatBytes } from '../format.ts';
import { renderPage } from './render.ts';
import { JSON_BODY_LIMIT } from './limits.ts';
import { fromValidationError } from './validation.ts';

/** Maps library errors (multipart limits, CSRF, rate limit, body parsing) onto AppError. */
function toAppError(err: unknown, deps: Deps, request: FastifyRequest): AppError {
  if (err instanceof AppError) return err;
  const system = fromSystemError(err);
  if (system) return system;
  const e = err as Partial<FastifyError>;
  switch (e.code) {
    case 'FST_ERR_VALIDATION':
      return fromValidationError(e, request);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large', 413, `The request body is larger than this server accepts for forms and JSON (${formatBytes(JSON_BODY_LIMIT)}). Files go to the upload route as multipart/form-data.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 415, 'This content type is not accepted here. Send JSON, a form, or (for uploads) multipart/form-data.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json', 400, 'The request body is not valid JSON.');
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('too_large', 413, `The file is larger than this server accepts (${formatBytes(deps.config.maxUploadBytes)}). Nothing was kept.`);
    case 'FST_CSRF_INVALID_TOKEN':
    case 'FST_CSRF_MISSING_SECRET':
      return new AppError('csrf', 403, 'The form expired or did not come from this site. Reload the page and try again.');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('not_multipart', 415, 'Send the file as multipart/form-data.');
    case 'FST_FILES_LIMIT':
      return new AppError('too_many_files', 413, 'Send one file per upload.');
  }
  const status = e.statusCode ?? 500;
  if (status === 404) return new AppError('not_found', 404, 'There is nothing at this address.');
  if (status === 429) return new AppError('rate_limited', 429, 'Too many attempts. Wait a minute and try again.');
  // Library messages can echo request bytes; keep them out of the answer unless printable.
  if (status >= 400 && status < 500) return new AppError('bad_request', status, printable(e.message) ?? 'Bad request.');
  return new AppError('internal', 500, 'Something went wrong on our side. It has been logged.');
}

const printable = (text: string | undefined) =>
  text && /^[\x20-\x7e]{1,300}$/.test(text) ? text : undefined;

export function errorHandler(deps: Deps) {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(err, deps, request);
    if (appError.status >= 500) request.log.error({ err }, 'request failed');
    if (request.url.startsWith('/api/') || request.url.split('?')[0] === '/metrics') {
      return sendProblem(request, reply, appError);
    }
    return renderPage(deps, request, reply, 'error', { title: titleFor(appError.status), error: appError }, appError.status);
  };
}

/** An AppError as problem+json (RFC 9457), naming the request. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, appError: AppError) {
  return reply
    .status(appError.status)
    .headers(appError.headers)
    .type('application/problem+json')
    .send({
      type: 'about:blank',
      title: titleFor(appError.status),
      status: appError.status,
      detail: appError.detail,
      code: appError.code,
      instance: request.url.split('?')[0],
      // The same id is in the X-Request-Id header and on every log line of this request.
      requestId: request.id,
      ...appError.extra,
    });
}
