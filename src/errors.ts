/**
 * The one error type that crosses layers. Domain code throws it; the web layer renders it as
 * application/problem+json (RFC 9457) for the API and as a friendly page for browsers.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    /** Response headers that belong with the answer (Retry-After on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function titleFor(status: number): string {
  return titles[status] ?? 'Error';
}

export const notFound = (what = 'resource'): AppError =>
  new AppError('not_found', 404, `No such ${what}.`);

export const badRequest = (detail: string, code = 'bad_request'): AppError =>
  new AppError(code, 400, detail);

export const conflict = (detail: string, code = 'conflict'): AppError =>
  new AppError(code, 409, detail);

/** Turns storage-layer failures (a full disk) into errors a person can act on. */
export function fromSystemError(err: unknown): AppError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError('storage_full', 507, 'The server is out of storage space; nothing was kept. Try again later.');
  }
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'ENOTFOUND'].includes(code)) {
    return new AppError('unavailable', 503, 'The server cannot reach its storage or database right now; nothing was kept. Try again shortly.');
  }
  return undefined;
}
