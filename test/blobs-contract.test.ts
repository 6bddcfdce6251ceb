import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { buffer, text } from 'node:stream/consumers';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createDiskBlobStore } from '../src/blobs/disk.ts';
import { createS3BlobStore, createS3Client } from '../src/blobs/s3.ts';
import type { BlobStore } from '../src/domain/ports.ts';
import { backend as services } from './helpers/backends.ts';

/** Every BlobStore backend must pass this suite: the disk always, S3 when the run has one (REPRISE_TEST_S3). */
const backends: { name: string; make(): Promise<{ store: BlobStore; cleanup(): Promise<void> }> }[] = [
  {
    name: 'disk',
    async make() {
      const root = await mkdtemp(path.join(os.tmpdir(), 'reprise-blobs-'));
      return { store: createDiskBlobStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
];

const s3Endpoint = services.s3Endpoint;
if (s3Endpoint) {
  backends.push({
    name: 's3',
    async make() {
      // s3rver takes any credentials, but the SDK wants some.
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });
      const bucket = `blobs-${randomBytes(5).toString('hex')}`;
      const client = createS3Client({ bucket, endpoint: s3Endpoint, forcePathStyle: true });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const store = createS3BlobStore(client, bucket);
      return { store, cleanup: () => store.deletePrefix('files') };
    },
  });
}

for (const backend of backends) {
  describe(`BlobStore contract: ${backend.name}`, () => {
    it('stores a stream, reports its size, and reads it back whole or by range', async () => {
      const { store, cleanup } = await backend.make();
      try {
        const size = await store.put('files/a/input', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
        assert.equal(size, 11);
        assert.deepEqual(await store.stat('files/a/input'), { size: 11 });
        assert.equal(await text(await store.get('files/a/input')), 'hello world');
        assert.equal(await text(await store.get('files/a/input', { start: 6, end: 10 })), 'world');
      } finally {
        await cleanup();
      }
    });

    it('publishes a finished file and deletes by prefix', async () => {
      const { store, cleanup } = await backend.make();
      const scratch = await mkdtemp(path.join(os.tmpdir(), 'reprise-scratch-'));
      try {
        const local = path.join(scratch, 'out.flac');
        await writeFile(local, 'flac bytes');
        assert.equal(await store.putFile('files/b/g1/flac-cd.flac', local), 10);
        const opened = await store.openLocal('files/b/g1/flac-cd.flac', scratch);
        assert.ok(opened.path.length > 0);
        await opened.release();
        await store.deletePrefix('files/b');
        assert.equal(await store.stat('files/b/g1/flac-cd.flac'), undefined);
        await assert.rejects(store.get('files/b/g1/flac-cd.flac'));
      } finally {
        await cleanup();
        await rm(scratch, { recursive: true, force: true });
      }
    });

    it('publishes a file larger than a multipart part byte for byte, and removes the local file', async () => {
      const { store, cleanup } = await backend.make();
      const scratch = await mkdtemp(path.join(os.tmpdir(), 'reprise-scratch-'));
      try {
        const local = path.join(scratch, 'out.wav');
        const bytes = randomBytes(12 * 1024 * 1024 + 17);
        await writeFile(local, bytes);
        assert.equal(await store.putFile('files/big/g1/wav-44k-16.wav', local), bytes.length);
        assert.deepEqual(await store.stat('files/big/g1/wav-44k-16.wav'), { size: bytes.length });
        assert.ok((await buffer(await store.get('files/big/g1/wav-44k-16.wav'))).equals(bytes));
        assert.ok((await buffer(await store.get('files/big/g1/wav-44k-16.wav', { start: 5 * 1024 * 1024, end: 5 * 1024 * 1024 + 99 }))).equals(bytes.subarray(5 * 1024 * 1024, 5 * 1024 * 1024 + 100)));
        await assert.rejects(stat(local), { code: 'ENOENT' });
      } finally {
        await cleanup();
        await rm(scratch, { recursive: true, force: true });
      }
    });

    it('copies an object under another key, leaving the source, and refuses a missing source', async () => {
      const { store, cleanup } = await backend.make();
      try {
        await store.put('files/c/segments/g1/p0/wav-44k-16.wav', Readable.from([Buffer.from('segment bytes')]));
        assert.equal(await store.copy('files/c/segments/g1/p0/wav-44k-16.wav', 'files/c/g1/wav.wav'), 13);
        assert.equal(await text(await store.get('files/c/g1/wav.wav')), 'segment bytes');
        // Removing the source (the join's scratch) leaves the copy whole.
        await store.deletePrefix('files/c/segments');
        assert.equal(await text(await store.get('files/c/g1/wav.wav')), 'segment bytes');
        await assert.rejects(store.copy('files/c/segments/g1/p0/wav-44k-16.wav', 'files/c/g1/other.wav'));
        assert.equal(await store.stat('files/c/g1/other.wav'), undefined);
      } finally {
        await cleanup();
      }
    });

    it('never shows a half-written object: a failed stream leaves no key and no temp file', async () => {
      const { store, cleanup } = await backend.make();
      try {
        const failing = new Readable({
          read() {
            this.push(Buffer.alloc(1024));
            this.destroy(new Error('client went away'));
          },
        });
        await assert.rejects(store.put('files/c/input', failing), /client went away/);
        assert.equal(await store.stat('files/c/input'), undefined);
      } finally {
        await cleanup();
      }
    });

    it('gives a URL for outside readers only where objects are not local files, signed for its host, ranges read', async () => {
      const { store, cleanup } = await backend.make();
      try {
        assert.equal(store.readUrl === undefined, store.local, 'a local store has files to read; a remote one, a URL');
        const switchedOff = createS3BlobStore(createS3Client({ bucket: 'unused' }), 'unused', { presignedReads: false });
        assert.equal(switchedOff.readUrl, undefined, 'S3_PRESIGNED_READS=false: no URLs, every byte through the SDK');
        if (!store.readUrl) return;
        await store.put('files/u/input', Readable.from([Buffer.from('hello world')]));
        const url = await store.readUrl('files/u/input', 60);
        assert.ok(!url.includes('S3RVER&') && new URL(url).searchParams.has('X-Amz-Signature'), 'signed, with no secret key in it');
        // Plain HTTP, no SDK: what ffmpeg does with it.
        const ranged = await fetch(url, { headers: { range: 'bytes=6-10' } });
        assert.equal(ranged.status, 206);
        assert.equal(await ranged.text(), 'world');
        // s3rver does not check query signatures, so what S3 checks is asserted on the URL itself:
        // it lives as long as asked, and signs the host alone, so a reader may add a Range.
        const query = new URL(url).searchParams;
        assert.equal(query.get('X-Amz-Expires'), '60');
        assert.equal(query.get('X-Amz-SignedHeaders'), 'host');
        assert.equal(query.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
      } finally {
        await cleanup();
      }
    });

    it('refuses keys that could escape its root', async () => {
      const { store, cleanup } = await backend.make();
      try {
        for (const key of ['../etc/passwd', '/abs', 'files/../../x', 'a//b']) {
          await assert.rejects(store.put(key, Readable.from(['x'])), /invalid blob key/, key);
        }
      } finally {
        await cleanup();
      }
    });
  });
}


if (s3Endpoint) {
  describe('BlobStore on S3: a finished file whose upload is cut', () => {
    it('sends it again from the start, so the object is whole', async () => {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });
      const target = new URL(s3Endpoint);
      // A TCP relay in front of the store that cuts the first PUT it sees after 1 MiB of it.
      let cut = 0;
      const relay = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname);
        let seen = 0;
        let isPut = false;
        client.on('data', (chunk: Buffer) => {
          if (seen === 0) isPut = chunk.subarray(0, 4).toString() === 'PUT ';
          seen += chunk.length;
          if (isPut && cut === 0 && seen > 1024 * 1024) {
            cut++;
            client.destroy();
            upstream.destroy();
            return;
          }
          upstream.write(chunk);
        });
        upstream.on('data', (chunk: Buffer) => client.write(chunk));
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const port = (relay.address() as net.AddressInfo).port;
      const bucket = `blobs-${randomBytes(5).toString('hex')}`;
      const direct = createS3Client({ bucket, endpoint: s3Endpoint, forcePathStyle: true });
      await direct.send(new CreateBucketCommand({ Bucket: bucket }));
      const store = createS3BlobStore(createS3Client({ bucket, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true }), bucket);
      const scratch = await mkdtemp(path.join(os.tmpdir(), 'reprise-scratch-'));
      try {
        const local = path.join(scratch, 'out.flac');
        const bytes = randomBytes(4 * 1024 * 1024);
        await writeFile(local, bytes);
        assert.equal(await store.putFile('files/cut/g1/flac-cd.flac', local), bytes.length);
        assert.equal(cut, 1, 'the relay cut one upload');
        assert.ok((await buffer(await store.get('files/cut/g1/flac-cd.flac'))).equals(bytes));
      } finally {
        await store.deletePrefix('files');
        await new Promise((resolve) => relay.close(resolve));
        await rm(scratch, { recursive: true, force: true });
      }
    });
  });
}
