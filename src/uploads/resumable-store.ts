import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { DataStore, Locker } from '@tus/utils';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { BlobStore } from '../domain/ports.ts';
import type { Logger } from '../log.ts';
import { BlobChunkStore } from './blob-chunk-store.ts';
import { createPgLocker } from './pg-locker.ts';

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
  close(): Promise<void>;
}

export interface ResumableOptions {
  blobs: BlobStore;
  log: Logger;
  /** With PostgreSQL: a new connection of its own, for the shared locker. */
  newPgClient?: () => pg.Client;
}

/**
 * Where tus keeps the parts of unfinished uploads. With blobs on this disk: a folder under
 * DATA_DIR (a finished upload is moved into storage, not copied). With remote blobs: the bucket
 * itself, so any web process can take the next request. With PostgreSQL, one upload's requests
 * are serialized by a locker shared through the database; otherwise by tus's in-process one.
 */
export async function resumableBackend(config: Config, opts: ResumableOptions): Promise<ResumableBackend> {
  const locker = opts.newPgClient ? createPgLocker({ newClient: opts.newPgClient, log: opts.log }) : undefined;
  await locker?.start();
  const close = async () => locker?.stop();
  if (!opts.blobs.local) {
    const datastore = new BlobChunkStore(opts.blobs, RESUMABLE_EXPIRY_MS);
    return { datastore, locker, close, forget: (id) => datastore.remove(id) };
  }
  const directory = path.join(config.dataDir, 'resumable');
  const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: RESUMABLE_EXPIRY_MS });
  return {
    datastore,
    locker,
    close,
    // FileStore.remove gives up before the metadata when the bytes were already moved away.
    async forget(id) {
      await rm(path.join(directory, id), { force: true });
      await datastore.configstore.delete(id);
    },
    // FileStore keeps an upload's bytes in a file named by its id (ids are ours: 32 hex digits).
    localPath: (id) => path.join(directory, id),
  };
}
