import path from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { DataStore, Locker } from '@tus/utils';
import type { Config } from '../config.ts';

/** Unfinished uploads are kept a day; housekeeping removes what is older. */
export const RESUMABLE_EXPIRY_MS = 24 * 3600_000;

export type ResumableDataStore = DataStore & { read(id: string): Readable | Promise<Readable> };

export interface ResumableBackend {
  datastore: ResumableDataStore;
  /** A locker shared by every web process; absent: tus's in-process one. */
  locker?: Locker;
}

/**
 * Where tus keeps the parts of unfinished uploads: a folder under DATA_DIR, in every mode.
 * Finished uploads move into blob storage (the bucket, in scale-out) and are removed from here.
 * @tus/s3-store was the plan for scale-out, but it lists an upload's parts with ListParts, which
 * the S3 server the tests run (s3rver) does not implement, so it could not be verified here; see
 * decision 0007. Until then a resume must reach the web process that started the upload.
 */
export function resumableStore(config: Config): ResumableDataStore {
  return new FileStore({ directory: path.join(config.dataDir, 'resumable'), expirationPeriodInMilliseconds: RESUMABLE_EXPIRY_MS });
}
