import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { clientHelp, isClientCommand, runClient } from './cli/index.ts';
import { buildApp, StartupError } from './deps.ts';
import { grantAdmin, signUp } from './domain/accounts.ts';
import { AppError } from './errors.ts';
import { createLogger } from './log.ts';
import { createServer } from './web/server.ts';
import { createMetricsServer } from './web/metrics-server.ts';
import { userQuotaCommand } from './operator/user-quota.ts';

const HELP = `reprise — self-hosted audio transcoding

Usage: reprise <command> [options]

Commands:
  serve                  Run the web server (and WORKER_CONCURRENCY job slots). Migrates first.
  worker                 Run job slots only, no HTTP (WORKER_CONCURRENCY, default: cores).
  migrate                Bring the database schema up to date, then exit.
  user create <name>     Create an account (works when sign-up is closed).
                         --password-stdin   read the password from standard input
                         (otherwise a random password is generated and printed)
                         --admin            make it an administrator (the first
                         account on a fresh instance always is one)
  user admin <name>      Make an existing account an administrator.
  user quota <name>      Show or change a user's limits: --bytes N, --queued-jobs N,
                         --files-per-day N, --max-upload-bytes N, --max-input-seconds N,
                         --max-output-bytes N (N or "default"), --clear; see --help

${clientHelp}

Options:
  -h, --help             Show this help.

Configuration comes from environment variables; see README.md (PORT, DATA_DIR, ...).
`;

/** A stable secret makes sessions survive restarts without asking people to configure one. */
async function sessionSecret(config: Config): Promise<string> {
  if (config.sessionSecret) return config.sessionSecret;
  const file = path.join(config.dataDir, 'session-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(48).toString('base64url');
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(file, 'utf8')).trim();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      stop().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

/**
 * The last line of defence: an error that escapes every handler (a library callback throwing
 * outside any request's promise chain) is logged and the process keeps serving, rather than
 * dropping every upload in flight and orphaning running jobs. See decision 0005.
 */
function keepServingOnStrayErrors(log: ReturnType<typeof createLogger>): void {
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception; kept running'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection; kept running'));
}

async function serve(config: Config, withHttp: boolean): Promise<void> {
  const log = createLogger(config.logLevel);
  keepServingOnStrayErrors(log);
  const app = await buildApp(config, log);
  const stopHousekeeping = app.startHousekeeping();
  const pool = await app.startWorkers(config.workerConcurrency);
  const server = withHttp ? await createServer(app, await sessionSecret(config)) : undefined;
  // A worker has no pages or API, but with METRICS_TOKEN it serves its own /metrics on PORT.
  const metricsServer = !server && app.metrics ? await createMetricsServer(app.metrics, config, log) : undefined;
  if (server) await server.listen({ port: config.port, host: config.host });
  else if (metricsServer) await metricsServer.listen({ port: config.port, host: config.host });
  else log.info({ concurrency: config.workerConcurrency }, 'worker running (no HTTP)');
  onShutdown(async () => {
    log.info('shutting down');
    stopHousekeeping();
    await server?.close();
    await metricsServer?.close();
    // Running jobs get a grace period, then are handed back to the queue for the next start.
    await pool?.stop(10_000);
    await app.close();
  });
}

export async function main(argv: string[]): Promise<number> {
  // Client commands have options of their own and run where no server is configured: they are
  // dispatched before the server's argument parsing and before loadConfig() reads its settings.
  if (isClientCommand(argv[0])) return runClient(argv[0], argv.slice(1));
  // Its options are its own too; it opens the database only once they parse.
  if (argv[0] === 'user' && argv[1] === 'quota') {
    return userQuotaCommand(argv.slice(2), async (fn) => {
      const app = await buildApp(loadConfig(), createLogger('warn'));
      try {
        return await fn(app.deps);
      } finally {
        await app.close();
      }
    });
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, 'password-stdin': { type: 'boolean' }, admin: { type: 'boolean' } },
  });
  const [command, sub, name] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 1;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await serve(config, true);
      return -1;
    case 'worker':
      await serve({ ...config, workerConcurrency: Math.max(config.workerConcurrency, 1) }, false);
      return -1;
    case 'migrate': {
      const app = await buildApp(config, createLogger('warn'));
      await app.close();
      process.stdout.write(`${config.databaseUrl ? 'PostgreSQL database' : `SQLite database in ${config.dataDir}`} is up to date\n`);
      return 0;
    }
    case 'user': {
      if ((sub !== 'create' && sub !== 'admin') || !name) {
        process.stderr.write('usage: reprise user create <username> [--password-stdin] [--admin]\n       reprise user admin <username>\n');
        return 2;
      }
      if (sub === 'admin') {
        const app = await buildApp(config, createLogger('warn'));
        try {
          const user = await grantAdmin(app.deps, name);
          process.stdout.write(`${user.username} is an administrator\n`);
        } finally {
          await app.close();
        }
        return 0;
      }
      const generated = values['password-stdin'] ? undefined : randomBytes(12).toString('base64url');
      const password = generated ?? (await readStdin());
      const app = await buildApp(config, createLogger('warn'));
      try {
        const user = await signUp(app.accountDeps, { username: name, password }, { force: true, admin: values.admin === true });
        process.stdout.write(`created ${user.isAdmin ? 'administrator' : 'user'} ${user.username}${generated ? ` with password ${generated}` : ''}\n`);
      } finally {
        await app.close();
      }
      return 0;
    }
    default:
      process.stderr.write(`unknown command: ${command}\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    // Configuration and user errors are one clear line, not a stack trace.
    if (err instanceof ConfigError || err instanceof AppError || err instanceof StartupError) process.stderr.write(`reprise: ${err.message}\n`);
    else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') process.stderr.write(`reprise: port already in use (set PORT)\n`);
    else process.stderr.write(`reprise: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
