import { Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import type { BlobStore } from '../domain/ports.ts';

/** Bytes of one stored piece: what a dropped connection can cost, and what one PATCH holds in memory. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** What is known of an unfinished upload, kept beside its pieces. */
interface UploadInfo {
  id: string;
  size?: number;
  metadata?: Record<string, string | null>;
  creation_date?: string;
  /** The byte count of each stored piece, in order: the offset is their sum. */
  chunks: number[];
}

const prefixOf = (id: string) => `resumable/${id}`;
const infoKey = (id: string) => `${prefixOf(id)}/info.json`;
const chunkKey = (id: string, index: number) => `${prefixOf(id)}/${String(index).padStart(6, '0')}`;
const offsetOf = (info: UploadInfo) => info.chunks.reduce((sum, n) => sum + n, 0);

/**
 * A tus store that keeps an unfinished upload in blob storage as numbered pieces plus a small
 * info object, so that any web process can take the next request (with a shared locker). It needs
 * only put, get, stat and delete-by-prefix, which every S3-compatible server has: @tus/s3-store
 * also needs ListParts, which the S3 server our tests run does not implement (decision 0007).
 *
 * A request's body is cut into pieces of CHUNK_BYTES; the bytes that arrived before a connection
 * dropped are stored as a last, shorter piece, so a resume loses nothing that was received. A
 * piece is stored before the info that counts it: a crash in between leaves a piece that the next
 * write to the same index replaces.
 */
export class BlobChunkStore extends DataStore {
  constructor(private readonly blobs: BlobStore, private readonly expiryMs: number) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration'];
  }

  private async readInfo(id: string): Promise<UploadInfo> {
    if (!(await this.blobs.stat(infoKey(id)))) throw ERRORS.FILE_NOT_FOUND;
    const chunks: Buffer[] = [];
    for await (const c of await this.blobs.get(infoKey(id))) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as UploadInfo;
  }

  private async writeInfo(info: UploadInfo): Promise<void> {
    await this.blobs.put(infoKey(info.id), Readable.from([Buffer.from(JSON.stringify(info))]));
  }

  override async create(upload: Upload): Promise<Upload> {
    upload.creation_date ??= new Date().toISOString();
    upload.offset = 0;
    await this.writeInfo({ id: upload.id, size: upload.size, metadata: upload.metadata, creation_date: upload.creation_date, chunks: [] });
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const info = await this.readInfo(id);
    return new Upload({ id, size: info.size, offset: offsetOf(info), metadata: info.metadata, creation_date: info.creation_date });
  }

  override async write(body: Readable, id: string, offset: number): Promise<number> {
    const info = await this.readInfo(id);
    if (offsetOf(info) !== offset) throw ERRORS.INVALID_OFFSET;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const piece = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await this.blobs.put(chunkKey(id, info.chunks.length), Readable.from([piece]));
      info.chunks.push(piece.length);
      await this.writeInfo(info);
    };
    try {
      for await (const data of body) {
        let buf = data as Buffer;
        while (buf.length > 0) {
          const take = Math.min(buf.length, CHUNK_BYTES - pendingBytes);
          pending.push(buf.subarray(0, take));
          pendingBytes += take;
          buf = buf.subarray(take);
          if (pendingBytes === CHUNK_BYTES) await flush();
        }
      }
    } finally {
      // Whatever arrived is kept, also when the connection dropped: the client resumes after it.
      await flush();
    }
    return offsetOf(info);
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    const info = await this.readInfo(id);
    info.size = length;
    await this.writeInfo(info);
  }

  override async remove(id: string): Promise<void> {
    await this.blobs.deletePrefix(prefixOf(id));
  }

  /** The whole upload, its pieces one after another. */
  read(id: string): Readable {
    const { blobs } = this;
    const pieces = async function* (self: BlobChunkStore) {
      const info = await self.readInfo(id);
      for (let i = 0; i < info.chunks.length; i++) yield* await blobs.get(chunkKey(id, i));
    };
    return Readable.from(pieces(this), { objectMode: false });
  }

  /** Expiry is driven by our own table of unfinished uploads (see housekeeping), not by listing. */
  override async deleteExpired(): Promise<number> {
    return 0;
  }

  override getExpiration(): number {
    return this.expiryMs;
  }
}
