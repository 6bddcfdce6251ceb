/**
 * Runs a command with a throwaway PostgreSQL and an S3-compatible server on loopback, and passes
 * their addresses to it in REPRISE_TEST_PG and REPRISE_TEST_S3: `npm run test:scale-out` runs the
 * whole suite this way, so every test also runs against PostgreSQL + S3. REPRISE_SERVICES=pg or
 * =s3 starts only one of them, for the mixed set-ups (PostgreSQL + disk, SQLite + S3).
 */
import { spawn } from 'node:child_process';
import { startPostgres, startS3 } from './services.ts';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) throw new Error('usage: with-services <command> [args…]');
const wanted = (process.env.REPRISE_SERVICES ?? 'pg,s3').split(',');
const pg = wanted.includes('pg') ? await startPostgres() : undefined;
const s3 = wanted.includes('s3') ? await startS3() : undefined;
process.stdout.write(`PostgreSQL: ${pg?.adminUrl ?? 'no (SQLite)'}; S3: ${s3?.endpoint ?? 'no (local disk)'}\n`);
const env: NodeJS.ProcessEnv = { ...process.env };
if (pg) env.REPRISE_TEST_PG = pg.adminUrl;
if (s3) env.REPRISE_TEST_S3 = s3.endpoint;
const child = spawn(cmd, args, { stdio: 'inherit', env });
const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await s3?.stop();
await pg?.stop();
process.exit(code);
