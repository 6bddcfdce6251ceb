import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { createS3Client } from '../../src/blobs/s3.ts';

/** Which backends this test run uses: set by test/support/with-services.ts. */
export const backend = {
  get pgAdminUrl() {
    return process.env.REPRISE_TEST_PG;
  },
  get s3Endpoint() {
    return process.env.REPRISE_TEST_S3;
  },
  get name() {
    return `${this.pgAdminUrl ? 'postgresql' : 'sqlite'}+${this.s3Endpoint ? 's3' : 'disk'}`;
  },
};

const s3Credentials = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** A new, empty database on the test PostgreSQL; returns its URL. */
export async function freshPostgresDatabase(adminUrl: string, suffix = randomBytes(5).toString('hex')): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE t_${suffix}`);
  await admin.end();
  return adminUrl.replace(/\/postgres$/, `/t_${suffix}`);
}

/** Fresh, empty backends for one server: a new database and a new bucket, as env settings. */
export async function freshBackendEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const suffix = randomBytes(5).toString('hex');
  if (backend.pgAdminUrl) env.DATABASE_URL = await freshPostgresDatabase(backend.pgAdminUrl, suffix);
  if (backend.s3Endpoint) {
    Object.assign(process.env, s3Credentials);
    const bucket = `t-${suffix}`;
    await createS3Client({ bucket, endpoint: backend.s3Endpoint, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucket }));
    Object.assign(env, s3Credentials, { S3_BUCKET: bucket, S3_ENDPOINT: backend.s3Endpoint, S3_FORCE_PATH_STYLE: 'true' });
  }
  return env;
}

/** Every stored object or file of a server, wherever its blobs live. */
export async function listStoredBlobs(env: Record<string, string | undefined>, dataDir: string): Promise<string[]> {
  if (env.S3_BUCKET) {
    const client = createS3Client({ bucket: env.S3_BUCKET, endpoint: env.S3_ENDPOINT, forcePathStyle: true });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET }));
    return (listed.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
  }
  const entries = await readdir(path.join(dataDir, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => path.join(e.parentPath, e.name));
}

/**
 * Bytes an unfinished resumable upload holds so far, wherever the server keeps them: files under
 * DATA_DIR/resumable with local blobs, pieces under resumable/ in the bucket with S3 (not the
 * small metadata files either way).
 */
export async function resumableBytesHeld(env: Record<string, string | undefined>, dataDir: string): Promise<number> {
  if (env.S3_BUCKET) {
    const client = createS3Client({ bucket: env.S3_BUCKET, endpoint: env.S3_ENDPOINT, forcePathStyle: true });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, Prefix: 'resumable/' }));
    return (listed.Contents ?? []).filter((o) => !o.Key?.endsWith('.json')).reduce((sum, o) => sum + (o.Size ?? 0), 0);
  }
  const dir = path.join(dataDir, 'resumable');
  const names = await readdir(dir).catch(() => [] as string[]);
  let bytes = 0;
  for (const n of names.filter((n) => !n.endsWith('.json'))) bytes += (await stat(path.join(dir, n)).catch(() => ({ size: 0 }))).size;
  return bytes;
}
