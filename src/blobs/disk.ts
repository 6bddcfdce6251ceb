import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../domain/ports.ts';
import { safeKey } from './keys.ts';

/**
 * Blobs as files under one directory. Writes go to a temporary name in the same directory tree
 * and are renamed into place, so a key is either absent or whole — never half written.
 */
export function createDiskBlobStore(root: string): BlobStore {
  const full = (key: string) => path.join(root, 'objects', safeKey(key));
  const tmpDir = path.join(root, 'incoming');

  async function publish(tmp: string, key: string): Promise<void> {
    const dest = full(key);
    await mkdir(path.dirname(dest), { recursive: true });
    await rename(tmp, dest);
  }

  return {
    local: true,

    async put(key, body: Readable) {
      await mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, `in-${process.pid}-${randomUUID()}`);
      try {
        await pipeline(body, createWriteStream(tmp, { flags: 'wx' }));
        const { size } = await stat(tmp);
        await publish(tmp, key);
        return size;
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async putFile(key, filePath) {
      await mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, `in-${process.pid}-${randomUUID()}`);
      try {
        // Rename when the scratch folder is on the same file system; copy across file systems.
        await rename(filePath, tmp).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EXDEV') throw err;
          await copyFile(filePath, tmp);
          await unlink(filePath);
        });
        const { size } = await stat(tmp);
        await publish(tmp, key);
        return size;
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async copy(fromKey, toKey) {
      await mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, `in-${process.pid}-${randomUUID()}`);
      try {
        // Objects are never written in place once published, so two names for one inode are
        // safe; a file system without hard links gets a real copy.
        await link(full(fromKey), tmp).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') throw err;
          await copyFile(full(fromKey), tmp);
        });
        const { size } = await stat(tmp);
        await publish(tmp, toKey);
        return size;
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async stat(key) {
      try {
        const s = await stat(full(key));
        return s.isFile() ? { size: s.size } : undefined;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },

    get(key, range) {
      const stream = createReadStream(full(key), range ? { start: range.start, end: range.end } : {});
      // Surface "missing" as a rejected promise rather than a later stream error.
      return new Promise((resolve, reject) => {
        stream.once('open', () => resolve(stream));
        stream.once('error', reject);
      });
    },

    async openLocal(key) {
      const file = full(key);
      await stat(file);
      return { path: file, release: () => Promise.resolve() };
    },

    async deletePrefix(prefix) {
      await rm(path.join(root, 'objects', safeKey(prefix)), { recursive: true, force: true });
    },
  };
}
