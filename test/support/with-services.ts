/**
 * Runs a command with a throwaway PostgreSQL and an S3-compatible server on loopback, and passes
 * their addresses to it in REPRISE_TEST_PG and REPRISE_TEST_S3: `npm run test:scale-out` runs the
 * whole suite this way, so every test also runs against PostgreSQL + S3.
 */
import { spawn } from 'node:child_process';
import { startPostgres, startS3 } from './services.ts';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) throw new Error('usage: with-services <command> [args…]');
const pg = await startPostgres();
const s3 = await startS3();
process.stdout.write(`PostgreSQL on ${pg.adminUrl}, S3 on ${s3.endpoint}\n`);
const child = spawn(cmd, args, {
  stdio: 'inherit',
  env: { ...process.env, REPRISE_TEST_PG: pg.adminUrl, REPRISE_TEST_S3: s3.endpoint },
});
const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await s3.stop();
await pg.stop();
process.exit(code);
