import { FileUrlStorage, type PreviousUpload, type UrlStorage } from 'tus-js-client';

// tus-js-client's Node build exports FileUrlStorage, but its type definitions leave it out.
declare module 'tus-js-client' {
  export class FileUrlStorage implements UrlStorage {
    constructor(path: string);
    findAllUploads(): Promise<PreviousUpload[]>;
    findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]>;
    removeUpload(urlStorageKey: string): Promise<void>;
    addUpload(fingerprint: string, upload: PreviousUpload): Promise<string>;
  }
}

/**
 * FileUrlStorage, one operation at a time. It locks the file for writes only, and rewrites it in
 * place: with several uploads in flight, a lookup could read it half-written, find nothing, and
 * so start a file over instead of resuming it, or leave a finished upload's entry behind.
 */
class SerializedUrlStorage implements UrlStorage {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly inner: UrlStorage) {}

  private run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  findAllUploads() {
    return this.run(() => this.inner.findAllUploads());
  }
  findUploadsByFingerprint(fingerprint: string) {
    return this.run(() => this.inner.findUploadsByFingerprint(fingerprint));
  }
  removeUpload(urlStorageKey: string) {
    return this.run(() => this.inner.removeUpload(urlStorageKey));
  }
  addUpload(fingerprint: string, upload: PreviousUpload) {
    return this.run(() => this.inner.addUpload(fingerprint, upload));
  }
}

const byPath = new Map<string, UrlStorage>();

/** The one storage of this process for a file, so that every upload queues on the same line. */
export function urlStorage(file: string): UrlStorage {
  let storage = byPath.get(file);
  if (!storage) {
    storage = new SerializedUrlStorage(new FileUrlStorage(file));
    byPath.set(file, storage);
  }
  return storage;
}
