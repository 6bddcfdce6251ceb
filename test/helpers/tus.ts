import type { Readable } from 'node:stream';
import { Upload } from 'tus-js-client';

export interface TusOutcome { fileId?: string; status?: number; body?: string; url?: string | null }

/** A real tus client. `abortAt` stops it once that share of the bytes is acknowledged. */
export function tusUpload(base: string, data: Buffer, opts: { headers?: Record<string, string>; metadata?: Record<string, string>; uploadUrl?: string; abortAt?: number; chunkSize?: number }) {
  return new Promise<TusOutcome>((resolve) => {
    const upload: Upload = new Upload(data, {
      endpoint: `${base}/api/v1/uploads`,
      uploadUrl: opts.uploadUrl ?? null,
      headers: opts.headers ?? {},
      metadata: opts.metadata ?? {},
      chunkSize: opts.chunkSize ?? 64 * 1024,
      retryDelays: [],
      onChunkComplete: (_chunk, accepted, total) => {
        if (opts.abortAt !== undefined && accepted / total >= opts.abortAt) {
          void upload.abort().then(() => resolve({ url: upload.url }));
        }
      },
      onSuccess: ({ lastResponse }) => resolve({ fileId: lastResponse.getHeader('reprise-file-id') ?? undefined, url: upload.url }),
      onError: (err) => {
        const res = (err as { originalResponse?: { getStatus(): number; getBody(): string } }).originalResponse;
        resolve({ status: res?.getStatus(), body: res?.getBody(), url: upload.url });
      },
    });
    upload.start();
  });
}

export const readAll = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};
