import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

/**
 * Worker "hosts" on one machine: each in its own network namespace, joined to the test machine
 * by a veth pair on a private bridge, so it reaches PostgreSQL and S3 only through the bridge
 * address, with its own mount namespace and a private /tmp. Only these addresses are used.
 */
export class TestNetwork {
  readonly tag = randomBytes(2).toString('hex');
  readonly subnet = `10.213.${1 + (parseInt(this.tag, 16) % 250)}`;
  readonly hostAddress = `${this.subnet}.1`;
  readonly bridge = `rpbr-${this.tag}`;
  private namespaces: string[] = [];

  static async available(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'needs root for network namespaces';
    try {
      await run('ip', ['-V']);
      await run('unshare', ['--version']);
    } catch {
      return 'needs iproute2 and util-linux (unshare)';
    }
    return undefined;
  }

  async up(): Promise<void> {
    await ip('link', 'add', this.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${this.hostAddress}/24`, 'dev', this.bridge);
    await ip('link', 'set', this.bridge, 'up');
  }

  /** Creates host number `n` (address .10+n) and returns its namespace name. */
  async addHost(n: number): Promise<{ ns: string; address: string }> {
    const ns = `rpw${n}-${this.tag}`;
    const hostSide = `rpv${n}-${this.tag}`;
    await ip('netns', 'add', ns);
    this.namespaces.push(ns);
    await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('link', 'set', hostSide, 'master', this.bridge);
    await ip('link', 'set', hostSide, 'up');
    const address = `${this.subnet}.${10 + n}`;
    await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    return { ns, address };
  }

  /** Every process inside a namespace: what `kill -9` takes down when the "machine" dies. */
  async pids(ns: string): Promise<number[]> {
    const { stdout } = await ip('netns', 'pids', ns);
    return stdout.split('\n').filter(Boolean).map(Number);
  }

  async commandsIn(ns: string): Promise<string[]> {
    const out: string[] = [];
    for (const pid of await this.pids(ns)) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      out.push(cmd.replaceAll('\0', ' ').trim());
    }
    return out;
  }

  async powerOff(ns: string): Promise<void> {
    for (const pid of await this.pids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  async down(): Promise<void> {
    for (const ns of this.namespaces) {
      await this.powerOff(ns);
      await ip('netns', 'del', ns).catch(() => undefined);
    }
    await ip('link', 'del', this.bridge).catch(() => undefined);
  }
}

export interface HostProcess {
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

/**
 * Runs `command` (a shell line from docs/deploy.md) inside a namespace, in a fresh mount
 * namespace whose /tmp is a private tmpfs. If the repository itself lives under /tmp (a CI clone),
 * it is bind-mounted back in at the same path so the worker can still run it.
 */
export async function runOnHost(ns: string, repo: string, command: string, env: Record<string, string>): Promise<HostProcess> {
  const stage = `/run/reprise-stage-${ns}`;
  await mkdir(stage, { recursive: true });
  const underTmp = repo === '/tmp' || repo.startsWith('/tmp/');
  const script = [
    'set -e',
    underTmp ? `mount --bind ${JSON.stringify(repo)} ${stage}` : ':',
    'mount -t tmpfs -o size=512m tmpfs /tmp',
    underTmp ? `mkdir -p ${JSON.stringify(repo)} && mount --bind ${stage} ${JSON.stringify(repo)}` : ':',
    `cd ${JSON.stringify(repo)}`,
    `exec ${command}`,
  ].join('\n');
  const child = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => rm(stage, { recursive: true, force: true }));
  return { child, log: () => log, exited };
}
