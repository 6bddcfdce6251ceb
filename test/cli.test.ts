import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { openPostgres } from '../src/db/postgres.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { freshBackendEnv } from './helpers/backends.ts';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string>, input?: string) => {
  const child = run(process.execPath, ['bin/reprise.js', ...args], { env: { ...process.env, ...env } });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return child;
};

describe('the reprise CLI', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints help', async () => {
    const { stdout } = await cli(['--help'], {});
    assert.match(stdout, /Usage: reprise <command>/);
    assert.match(stdout, /serve/);
    assert.match(stdout, /user create/);
  });

  it('migrates, and creates users even when sign-up is closed', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-cli-'));
    dirs.push(dataDir);
    const env: Record<string, string> = { ...(await freshBackendEnv()), DATA_DIR: dataDir, SIGNUP_OPEN: 'false' };
    assert.match((await cli(['migrate'], env)).stdout, /up to date/);
    const made = await cli(['user', 'create', 'Admin'], env);
    // The first account on a fresh instance is its administrator.
    assert.match(made.stdout, /created administrator admin with password \S{12,}/);
    const piped = await cli(['user', 'create', 'second', '--password-stdin'], env, 'a long secret\n');
    assert.equal(piped.stdout.trim(), 'created user second');
    const db = env.DATABASE_URL ? openPostgres(env.DATABASE_URL).db : openSqlite(path.join(dataDir, 'reprise.sqlite'));
    const users = await db.selectFrom('users').select('username').orderBy('username').execute();
    await db.destroy();
    assert.deepEqual(users.map((u) => u.username), ['admin', 'second']);
    await assert.rejects(cli(['user', 'create', 'admin'], env), (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 1);
      assert.equal(err.stderr.trim(), 'reprise: That username is taken.');
      return true;
    });
  });

  it('stops on a bad setting with one clear line', async () => {
    await assert.rejects(cli(['migrate'], { PORT: 'eighty' }), (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr.trim(), /^reprise: invalid PORT: .+$/);
      assert.equal(err.stderr.trim().split('\n').length, 1);
      return true;
    });
  });
});
