import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import S3rver from 's3rver';

const run = promisify(execFile);

export const freePort = (host = '127.0.0.1') =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

async function pgBinDir(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [])).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL is not installed (scripts/install-system-deps.sh --test installs it)');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

export interface Postgres {
  /** Connection URL of the `postgres` superuser database. */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * A throwaway PostgreSQL cluster: initdb (as the postgres user, which initdb insists on) into a
 * temporary folder, no fsync, listening on the given addresses only.
 */
export async function startPostgres(listen = ['127.0.0.1'], allowFrom: string[] = []): Promise<Postgres> {
  const bin = await pgBinDir();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-pg-'));
  await chmod(dir, 0o700);
  const { stdout } = await run('id', ['-u', 'postgres']);
  const uid = Number(stdout.trim());
  await chown(dir, uid, uid);
  const data = path.join(dir, 'data');
  await run('runuser', ['-u', 'postgres', '--', `${bin}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  if (allowFrom.length > 0) {
    // Test hosts in network namespaces connect from their own addresses.
    await appendFile(path.join(data, 'pg_hba.conf'), allowFrom.map((cidr) => `host all all ${cidr} trust\n`).join(''));
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('runuser', ['-u', 'postgres', '--', `${bin}/postgres`, '-D', data, '-p', String(port), '-k', dir,
      '-c', `listen_addresses=${listen.join(',')}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=400'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    for (let i = 0; i < 100; i++) {
      try {
        await run(`${bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port)]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`PostgreSQL did not start:\n${log}`);
  };
  const stopServer = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child?.once('exit', r));
    // SIGINT: PostgreSQL's "fast" shutdown — disconnects clients, as a restart in production does.
    await run('runuser', ['-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', data, '-m', 'fast', 'stop']).catch(() => child?.kill('SIGINT'));
    await exited;
  };
  await start();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: async () => {
      await stopServer();
      await start();
    },
    stop: async () => {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface S3Server {
  endpoint: string;
  /** Takes the server down (connections refused) and brings it back with its data. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** s3rver, an S3-compatible server from npm, on a loopback port with a temporary folder. */
export async function startS3(address = '127.0.0.1'): Promise<S3Server> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-s3-'));
  const port = await freePort();
  let server: S3rver | undefined = new S3rver({ port, address, silent: true, directory: dir });
  await server.run();
  return {
    endpoint: `http://${address}:${port}`,
    down: async () => {
      await server?.close();
      server = undefined;
    },
    up: async () => {
      server = new S3rver({ port, address, silent: true, directory: dir });
      await server.run();
    },
    stop: async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
