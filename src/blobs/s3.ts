import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from '../domain/ports.ts';
import { safeKey } from './keys.ts';

export interface S3Options {
  bucket: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/** 5 MiB parts, one in flight: a streamed upload holds about two parts in memory. */
const PART_SIZE = 5 * 1024 * 1024;
/**
 * Downloads are written in 1 MiB steps rather than the stream default of 16 KiB: measured on a
 * 16 MB input (bench/job-cost.ts's jobs), the worker's CPU for the download fell from ~65 to ~24 ms.
 */
const DOWNLOAD_BUFFER_BYTES = 1024 * 1024;
/** S3's limit for one CopyObject or one PutObject; larger objects need a multipart upload or copy. */
const MAX_SINGLE_REQUEST = 5 * 1024 ** 3;
/** Local files are read in 1 MiB steps on their way up, as downloads are written. */
const UPLOAD_BUFFER_BYTES = 1024 * 1024;
/** A finished file is sent again from its start this many times in all before the upload fails. */
const PUT_FILE_ATTEMPTS = 3;

export function createS3Client(opts: S3Options): S3Client {
  // The SDK warns on every start under Node 20 that its 2027 releases need Node 22. The version
  // is pinned (see DESIGN.md) until the machines move, so the warning only buries real messages.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle ?? false,
    // Checksums only where S3 requires them: S3-compatible stores (s3rver, older MinIO, Garage)
    // otherwise store the aws-chunked framing of streamed bodies as if it were data.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** A dropped connection, a throttle or a server error may pass on another try; a refusal will not. */
const mayPass = (err: unknown) => {
  const status = statusOf(err);
  return status === undefined || status === 429 || status >= 500;
};

const isMissing = (err: unknown) =>
  err instanceof NoSuchKey || err instanceof NotFound || statusOf(err) === 404;

/**
 * Blobs as objects in one private bucket. S3 makes an object visible only when its upload
 * completes, so a key is absent or whole, as on disk; a failed multipart upload is aborted.
 */
/**
 * `presignedReads`: whether the store hands out presigned GET URLs (`readUrl`) for ffmpeg to
 * read ranges itself (decision 0031); off, every byte passes through the SDK in this process.
 */
export function createS3BlobStore(client: S3Client, bucket: string, opts: { presignedReads?: boolean } = {}): BlobStore & { check(): Promise<void> } {
  async function upload(key: string, body: Readable): Promise<void> {
    const upload = new Upload({ client, params: { Bucket: bucket, Key: safeKey(key), Body: body }, partSize: PART_SIZE, queueSize: 1, leavePartsOnError: false });
    await upload.done();
  }

  /**
   * A file of known size goes up in one PutObject rather than as 5 MiB parts: measured with
   * s3rver on loopback (a 635 MB WAV), the parts cost ~4 s of this process's CPU and ~6–9 s of the
   * store's (it joins the parts again at the end) where one request costs 0.7 s and 2.2 s. The SDK
   * cannot resend a stream it has consumed, so a failed attempt is retried here from a fresh read.
   */
  async function putWhole(key: string, filePath: string, bytes: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const body = createReadStream(filePath, { highWaterMark: UPLOAD_BUFFER_BYTES });
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: safeKey(key), Body: body, ContentLength: bytes }));
        return;
      } catch (err) {
        body.destroy();
        if (attempt >= PUT_FILE_ATTEMPTS || !mayPass(err)) throw err;
      }
    }
  }

  async function size(key: string): Promise<number | undefined> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: safeKey(key) }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  return {
    local: false,

    async check() {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },

    async put(key, body) {
      await upload(key, body);
      return (await size(key)) ?? 0;
    },

    async putFile(key, filePath) {
      const { size: bytes } = await stat(filePath);
      if (bytes < MAX_SINGLE_REQUEST) await putWhole(key, filePath, bytes);
      else await upload(key, createReadStream(filePath, { highWaterMark: UPLOAD_BUFFER_BYTES }));
      await unlink(filePath);
      return bytes;
    },

    async copy(fromKey, toKey) {
      const bytes = await size(fromKey);
      if (bytes === undefined) throw Object.assign(new Error(`no object ${fromKey}`), { code: 'ENOENT' });
      if (bytes >= MAX_SINGLE_REQUEST) {
        // Rare (over 5 GiB): through this process, as a stream, rather than a multipart copy.
        await upload(toKey, (await client.send(new GetObjectCommand({ Bucket: bucket, Key: safeKey(fromKey) }))).Body as Readable);
        return bytes;
      }
      // The copy source is "bucket/key" with the key URL-encoded, as S3 documents it.
      const source = `${bucket}/${safeKey(fromKey).split('/').map(encodeURIComponent).join('/')}`;
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: safeKey(toKey), CopySource: source }));
      return bytes;
    },

    async stat(key) {
      const bytes = await size(key);
      return bytes === undefined ? undefined : { size: bytes };
    },

    async get(key, range) {
      const res = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: safeKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return res.Body as Readable;
    },

    // Signed for the host alone: the reader may add its own Range header.
    ...(opts.presignedReads === false ? {} : {
      readUrl: (key: string, seconds: number) => getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: safeKey(key) }), { expiresIn: seconds }),
    }),

    async openLocal(key, scratchDir) {
      const dir = await mkdtemp(path.join(scratchDir, 'in-'));
      const file = path.join(dir, 'input');
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: safeKey(key) }));
        await pipeline(res.Body as Readable, createWriteStream(file, { highWaterMark: DOWNLOAD_BUFFER_BYTES }));
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      return { path: file, release: () => rm(dir, { recursive: true, force: true }) };
    },

    async deletePrefix(prefix) {
      const Prefix = safeKey(prefix);
      for (;;) {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix }));
        // Only the key itself or keys below it: "files/a" must not take "files/ab".
        const keys = (listed.Contents ?? []).flatMap((o) => (o.Key && (o.Key === Prefix || o.Key.startsWith(`${Prefix}/`)) ? [{ Key: o.Key }] : []));
        if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        if (!listed.IsTruncated || keys.length === 0) return;
      }
    },
  };
}
