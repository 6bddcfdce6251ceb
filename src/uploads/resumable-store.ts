import { rm } from 'node:fs/promises';
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
  /** Where a finished upload's bytes are on this host, when they are (so they can be moved, not copied). */
  localPath?: (id: string) => string;
  /** Removes what is left of an upload (its bytes, if not moved away, and its tus metadata). */
  forget(id: string): Promise<void>;
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
export function resumableBackend(config: Config): ResumableBackend {
  const directory = path.join(config.dataDir, 'resumable');
  const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: RESUMABLE_EXPIRY_MS });
  return {
    datastore,
    // FileStore.remove gives up before the metadata when the bytes were already moved away.
    async forget(id) {
      await rm(path.join(directory, id), { force: true });
      await datastore.configstore.delete(id);
    },
    // FileStore keeps an upload's bytes in a file named by its id (ids are ours: 32 hex digits).
    localPath: (id) => path.join(directory, id),
  };
}
