import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Display } from '../src/cli/display.ts';
import { safeFileName } from '../src/cli/save-output.ts';
import { parseSse } from '../src/cli/sse.ts';
import { inputKey } from '../src/domain/uploads.ts';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { resumableBytesHeld } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { fileRecord } from './helpers/records.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const ESC = '\u001b';
const bin = path.join(import.meta.dirname, '..', 'bin', 'reprise.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a person runs it: a child process with its own environment, cwd and stdin. */
function cli(args: string[], opts: { env: Record<string, string>; cwd?: string; input?: string; onSpawn?: (pid: number) => void }): Promise<Run> {
  // Nothing from the shell running the tests may leak in: the test decides server and token.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REPRISE_'))) as Record<string, string>;
  const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd ?? os.tmpdir(), env: { ...base, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid && opts.onSpawn) opts.onSpawn(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const readAll = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 1;
}

/** What the client keeps for resuming: tus upload URLs by fingerprint. */
const rememberedUploads = async (env: Record<string, string>) =>
  JSON.parse(await readFile(path.join(env.XDG_CONFIG_HOME ?? '', 'reprise', 'uploads.json'), 'utf8')) as object;

interface Summary {
  ok: boolean;
  files: { path: string; fileId: string | null; status: string; error: string | null; outputs: { preset: string; url: string; savedAs?: string }[] }[];
}

describe('the reprise client commands', () => {
  let srv: TestServer;
  let api: ApiClient;
  let work: string;
  let env: Record<string, string>;
  const temps: string[] = [];
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };

  before(async () => {
    srv = await startServer();
    api = await ApiClient.signUp(srv.url, 'clienteer');
    work = await tempDir('reprise-cli-work-');
    env = { REPRISE_URL: srv.url, REPRISE_TOKEN: api.token, XDG_CONFIG_HOME: await tempDir('reprise-cli-config-') };
  });
  after(async () => {
    await srv?.close();
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  it('uploads two files and a folder, waits, and saves every output under its real name', async () => {
    await copyFile(await fixtures.wav(), path.join(work, 'first.wav'));
    await copyFile(await fixtures.mp3WithCover(), path.join(work, 'second.mp3'));
    await mkdir(path.join(work, 'album', 'disc 2'), { recursive: true });
    await copyFile(await fixtures.hiRes(), path.join(work, 'album', 'third.flac'));
    await copyFile(await fixtures.wav(), path.join(work, 'album', 'disc 2', 'fourth.wav'));
    // Skipped inside a folder: hidden files, and names that are not audio.
    await copyFile(await fixtures.wav(), path.join(work, 'album', '.hidden.wav'));
    await writeFile(path.join(work, 'album', 'cover-notes.txt'), 'liner notes\n');

    const run = await cli(['upload', 'first.wav', 'second.mp3', 'album', '--presets', 'flac-cd,mp3-192k', '--wait', '--download', 'out'], { env, cwd: work });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /4 of 4 files completed/);
    for (const name of ['first.wav', 'second.mp3', path.join('album', 'third.flac'), path.join('album', 'disc 2', 'fourth.wav')]) {
      assert.match(run.stdout, new RegExp(`^completed\\s+${name.replace(/[.]/g, '\\.')}\\s+[0-9a-f-]{36}\\s+saved `, 'm'));
    }
    // stderr is not a terminal here: plain lines, one per event, and no cursor movements.
    assert.match(run.stderr, /^uploaded {2}first\.wav → [0-9a-f-]{36}$/m);
    assert.match(run.stderr, /^completed album\/third\.flac$/m);
    assert.ok(!run.stderr.includes(`${ESC}[`), 'no escape sequences in a log');

    const saved = (await readdir(path.join(work, 'out'))).sort();
    const stems = ['first', 'fourth', 'second', 'third'];
    assert.deepEqual(saved, stems.flatMap((s) => [`${s}.flac`, `${s}.mp3`]).sort());
    for (const name of saved) {
      const info = await ffprobe(path.join(work, 'out', name));
      assert.equal(info.format, name.endsWith('.flac') ? 'flac' : 'mp3', name);
      assert.ok(info.durationMs > 2500, `${name} lasts ${info.durationMs} ms`);
    }
    const listed = (await api.json<{ files: FileJson[] }>('GET', '/files')).body.files;
    assert.deepEqual(listed.map((f) => f.name).sort(), ['first.wav', 'fourth.wav', 'second.mp3', 'third.flac']);
    // Parallel uploads share the file of upload URLs: every finished one is gone from it.
    assert.deepEqual(await rememberedUploads(env), {});
  });

  it('reports a non-audio file with its reason and a non-zero exit, while the good ones still succeed', async () => {
    const dir = await tempDir('reprise-cli-mixed-');
    await copyFile(await fixtures.wav(), path.join(dir, 'good.wav'));
    await copyFile(await fixtures.text(), path.join(dir, 'notes.txt'));
    await copyFile(await fixtures.mp3WithCover(), path.join(dir, 'fine.mp3'));
    // Local storage refuses it at upload; with S3 the probe runs in the job, which then fails.
    const reason = /not audio|cannot be decoded|could not be read|unknown or unsupported/i;

    const text = await cli(['upload', 'good.wav', 'notes.txt', 'fine.mp3', '--presets', 'flac-cd', '--wait'], { env, cwd: dir });
    assert.equal(text.code, 1, text.stderr + text.stdout);
    const line = text.stdout.split('\n').find((l) => l.includes('notes.txt') && !l.includes('did not')) ?? '';
    assert.match(line, /^(refused|failed)\s+notes\.txt\s/);
    assert.match(line, reason);
    assert.match(text.stdout, /^completed\s+good\.wav\s/m);
    assert.match(text.stdout, /^completed\s+fine\.mp3\s/m);
    assert.match(text.stdout, /2 of 3 files completed; 1 did not: notes\.txt/);

    const json = await cli(['upload', 'good.wav', 'notes.txt', '--presets', 'mp3-128k', '--wait', '--json'], { env, cwd: dir });
    assert.equal(json.code, 1, json.stderr);
    const summary = JSON.parse(json.stdout) as Summary;
    assert.equal(summary.ok, false);
    const [good, bad] = summary.files;
    assert.equal(good?.path, 'good.wav');
    assert.equal(good?.status, 'completed');
    assert.equal(good?.error, null);
    assert.deepEqual(good?.outputs.map((o) => o.preset), ['mp3-128k']);
    assert.match(good?.outputs[0]?.url ?? '', new RegExp(`^${srv.url}/api/v1/files/${good?.fileId}/outputs/mp3-128k$`));
    assert.equal(bad?.path, 'notes.txt');
    assert.equal(bad?.status, 'refused', JSON.stringify(bad));
    assert.match(bad?.error ?? '', reason);
  });

  it('prints JSON and nothing else on stdout with --json; a re-run skips what was sent, unless --again', async () => {
    const args = ['upload', path.join(work, 'first.wav'), '--name', 'Just uploaded', '--json'];
    const run = await cli(args, { env });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as Summary;
    assert.equal(summary.ok, true);
    assert.equal(summary.files[0]?.status, 'queued');
    const fileId = summary.files[0]?.fileId;
    const file = await api.json<FileJson>('GET', `/files/${fileId}`);
    assert.equal(file.body.name, 'Just uploaded');

    const rerun = await cli(args, { env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal((JSON.parse(rerun.stdout) as Summary).files[0]?.fileId, fileId);
    assert.match(rerun.stderr, /^sent {6}.*first\.wav → [0-9a-f-]{36} by an earlier run/m);
    const again = await cli([...args, '--again'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.notEqual((JSON.parse(again.stdout) as Summary).files[0]?.fileId, fileId);
    const named = (await api.json<{ files: FileJson[] }>('GET', '/files')).body.files.filter((f) => f.name === 'Just uploaded');
    assert.equal(named.length, 2);
  });

  it('lists files and presets, as tables and as JSON', async () => {
    const own = await api.json<{ id: string }>('POST', '/presets', { label: 'Speech Opus', codec: 'opus', bitRate: 32000, channels: 1 });
    assert.equal(own.status, 201);
    const [files, filesJson, presets, presetsJson] = await Promise.all([
      cli(['files'], { env }),
      cli(['files', '--json'], { env }),
      // Presets need no token.
      cli(['presets'], { env: { REPRISE_URL: srv.url, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME ?? '' } }),
      cli(['presets', '--json'], { env }),
    ]);
    for (const run of [files, filesJson, presets, presetsJson]) assert.equal(run.code, 0, run.stderr);
    const listed = (JSON.parse(filesJson.stdout) as { files: FileJson[] }).files;
    assert.ok(listed.length >= 4);
    assert.match(files.stdout, /^ID\s+STATUS\s+OUTPUTS\s+NAME$/m);
    const done = listed.find((f) => f.name === 'third.flac');
    assert.match(files.stdout, new RegExp(`^${done?.id}\\s+completed\\s+flac-cd,mp3-192k\\s+third\\.flac$`, 'm'));
    assert.match(presets.stdout, /^flac-cd \*\s+flac\s+lossless\s+FLAC/m);
    assert.match(presets.stdout, /^mp3-320k\s+mp3\s+lossy/m);
    assert.doesNotMatch(presets.stdout, /Speech Opus/, 'without a token: built-in presets only');
    const mine = await cli(['presets'], { env });
    assert.match(mine.stdout, new RegExp(`^${own.body.id}\\s+opus\\s+lossy\\s+Speech Opus \\(yours\\)$`, 'm'));
    const ids = (JSON.parse(presetsJson.stdout) as { presets: { id: string }[] }).presets.map((p) => p.id);
    assert.ok(ids.includes('opus-96k'));
  });

  it('downloads a completed file by id, never overwriting what is there', async () => {
    const listed = (await api.json<{ files: FileJson[] }>('GET', '/files')).body.files;
    const second = listed.find((f) => f.name === 'second.mp3');
    assert.ok(second);
    const dir = path.join(await tempDir('reprise-cli-dl-'), 'new folder');
    const first = await cli(['download', second.id, '--dir', dir], { env });
    assert.equal(first.code, 0, first.stderr);
    const again = await cli(['download', second.id, '--dir', dir, '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { saved: string[] }).saved, [path.join(dir, 'second (2).flac'), path.join(dir, 'second (2).mp3')]);
    assert.deepEqual((await readdir(dir)).sort(), ['second (2).flac', 'second (2).mp3', 'second.flac', 'second.mp3']);
    const served = Buffer.from(await (await api.request('GET', `/files/${second.id}/outputs/flac-cd`)).arrayBuffer());
    assert.equal(Buffer.compare(await readFile(path.join(dir, 'second.flac')), served), 0);
    assert.equal((await ffprobe(path.join(dir, 'second.mp3'))).format, 'mp3');

    const missing = await cli(['download', '00000000-0000-4000-8000-000000000000', '--dir', dir], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^reprise download: .*404.*\n$/);
  });

  it('logs in with --password-stdin into a 0600 file that later commands use, and logs out', async () => {
    const home = await tempDir('reprise-cli-login-');
    const noToken = { XDG_CONFIG_HOME: home };
    const wrong = await cli(['login', '--server', srv.url, '--username', 'clienteer', '--password-stdin'], { env: noToken, input: 'not the password\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^reprise login: .* did not accept that username and password\n$/);

    const login = await cli(['login', '--server', `${srv.url}/`, '--username', 'clienteer', '--password-stdin'], { env: noToken, input: 'correct horse battery\n' });
    assert.equal(login.code, 0, login.stderr);
    const file = path.join(home, 'reprise', 'credentials.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { server: string; token: string };
    assert.equal(saved.server, srv.url);
    assert.match(saved.token, /^rp_/);

    // Neither REPRISE_URL nor a token: both come from the saved file.
    const files = await cli(['files', '--json'], { env: noToken });
    assert.equal(files.code, 0, files.stderr);
    assert.ok((JSON.parse(files.stdout) as { files: unknown[] }).files.length >= 4);
    // The saved token is never sent to another server.
    const elsewhere = await cli(['files', '--server', 'http://127.0.0.1:1'], { env: noToken });
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /no token for http:\/\/127\.0\.0\.1:1/);

    const logout = await cli(['logout'], { env: noToken });
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stderr, /token revoked/);
    await assert.rejects(stat(file));
    const revoked = new ApiClient(srv.url);
    revoked.token = saved.token;
    assert.equal((await revoked.request('GET', '/files')).status, 401);
  });

  it('stops with one clear line on a wrong token, an unreachable server or a missing file', async () => {
    const port = await closedPort();
    const [badToken, badUpload, down, missing, typo] = await Promise.all([
      cli(['files'], { env: { ...env, REPRISE_TOKEN: 'rp_not-a-real-token' } }),
      cli(['upload', path.join(work, 'first.wav')], { env: { ...env, REPRISE_TOKEN: 'rp_not-a-real-token' } }),
      cli(['files', '--server', `http://127.0.0.1:${port}`], { env }),
      cli(['upload', 'no-such-file.wav'], { env, cwd: work }),
      cli(['upload', '--wiat', 'first.wav'], { env, cwd: work }),
    ]);
    for (const [run, pattern, code] of [
      [badToken, /^reprise files: .* refused the token \(401: .*\) — run reprise login, or pass another --token$/, 1],
      [badUpload, /^reprise upload: .* refused the token \(401/, 1],
      [down, new RegExp(`^reprise files: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`), 1],
      [missing, /^reprise upload: no such file or folder: no-such-file\.wav$/, 1],
      [typo, /^reprise upload: Unknown option '--wiat' \(see: reprise upload --help\)$/, 2],
    ] as const) {
      assert.equal(run.code, code, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr.trim(), pattern);
      assert.equal(run.stdout, '');
    }
  });

  it('explains every command with --help', async () => {
    const expected: Record<string, string[]> = {
      upload: ['--presets', '--name', '--wait', '--download', '--json', '--again', '--chunk-size', '--server', '--token'],
      files: ['--json', '--server', '--token'],
      presets: ['--json'],
      download: ['--dir', '--json'],
      outputs: ['--presets', '--wait', '--json'],
      login: ['--server', '--username', '--password-stdin'],
      logout: ['--help'],
    };
    const runs = await Promise.all(Object.keys(expected).map((command) => cli([command, '--help'], { env: {} })));
    Object.entries(expected).forEach(([command, options], i) => {
      const run = runs[i];
      assert.equal(run?.code, 0, run?.stderr);
      assert.match(run?.stdout ?? '', new RegExp(`^Usage: reprise ${command}`));
      for (const option of options) assert.ok(run?.stdout.includes(option), `${command} --help names ${option}`);
    });
    const top = await cli(['--help'], { env: {} });
    for (const command of Object.keys(expected)) assert.match(top.stdout, new RegExp(`^ {2}${command}\\b`, 'm'));
  });

  it('resumes an interrupted upload where the server stopped, and stores the source byte for byte', async () => {
    const source = await fixtures.long();
    const held = () => resumableBytesHeld(srv.env, srv.dataDir);
    const args = ['upload', source, '--presets', 'mp3-128k', '--json'];
    let pid = 0;
    const first = cli(args, { env, onSpawn: (p) => (pid = p) });
    // Killed outright, as a crash or a closed laptop would: no chance to tidy up. Polled tightly,
    // since on loopback the whole file takes a second or two.
    let killedAt = 0;
    const deadline = Date.now() + 60_000;
    while ((killedAt = await held()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    process.kill(pid, 'SIGKILL');
    const killed = await first;
    assert.equal(killed.signal, 'SIGKILL', `the first run ended on its own: ${killed.stderr}`);
    const size = (await stat(source)).size;
    assert.ok(killedAt < size, `interrupted at ${killedAt} of ${size}`);

    const second = await cli(args, { env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming .*long\.flac at \d/);
    const fileId = (JSON.parse(second.stdout) as Summary).files[0]?.fileId ?? '';
    const stored = await readAll(await srv.app.deps.blobs.get(inputKey(fileId)));
    assert.equal(Buffer.compare(stored, await readFile(source)), 0, 'the stored input is the source, byte for byte');
    // A finished upload is forgotten, so the same file sent again is a new upload.
    assert.deepEqual(await rememberedUploads(env), {});
  });

  it('lists every file, however many pages the server cuts them into', async () => {
    const many = await ApiClient.signUp(srv.url, 'hoarder');
    const owner = await srv.app.deps.store.users.findByUsername('hoarder');
    assert.ok(owner);
    // 230 rows: more than one page of the largest size (200) the server gives out.
    const ids = Array.from({ length: 230 }, (_, i) => fileRecord(randomUUID(), owner.id, { name: `Take ${i}.wav`, created_at: 1_700_000_000_000 + i }));
    for (const f of ids) await srv.app.deps.store.files.insert(f);
    const manyEnv = { ...env, REPRISE_TOKEN: many.token };
    const [json, text] = await Promise.all([cli(['files', '--json'], { env: manyEnv }), cli(['files'], { env: manyEnv })]);
    assert.equal(json.code, 0, json.stderr);
    const listed = (JSON.parse(json.stdout) as { files: FileJson[] }).files.map((f) => f.id);
    assert.deepEqual(listed, ids.map((f) => f.id).reverse(), 'all 230, newest first, none twice');
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.trim().split('\n').length, 231, 'a header and one line per file');
    assert.match(text.stdout, /Take 0\.wav$/m);
  });
});

describe('client command line pieces', () => {
  it('reads Server-Sent Events split anywhere, with any line ending', async () => {
    const text = 'retry: 2000\r\n\r\nid: 7\nevent: ready\ndata: {}\n\n: heartbeat\n\nid: 8\revent: file.updated\rdata: {"id":"a",\rdata: "status":"running"}\r\r';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 5) controller.enqueue(bytes.subarray(i, i + 5));
        controller.close();
      },
    });
    const messages = [];
    for await (const m of parseSse(body)) messages.push(m);
    assert.deepEqual(messages, [
      { id: '7', event: 'ready', data: '{}' },
      { id: '8', event: 'file.updated', data: '{"id":"a",\n"status":"running"}' },
    ]);
  });

  it('keeps names from the server to a plain base name', () => {
    assert.equal(safeFileName('../../etc/passwd', 'x'), 'passwd');
    assert.equal(safeFileName('..\\..\\boot.ini', 'x'), 'boot.ini');
    assert.equal(safeFileName('.bashrc', 'x'), 'bashrc');
    assert.equal(safeFileName('so\u0000ng\u202e.flac', 'x'), 'song.flac');
    assert.equal(safeFileName('..', 'fallback.flac'), 'fallback.flac');
    assert.equal(safeFileName(undefined, 'fallback.flac'), 'fallback.flac');
  });

  it('draws bars in place on a terminal and plain lines elsewhere', () => {
    const sink = (columns: number) => {
      const chunks: string[] = [];
      return { chunks, stream: { columns, rows: 24, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream };
    };
    const tty = sink(100);
    const live = new Display(tty.stream, true);
    live.progress('a', { label: 'a-rather-long-folder-name/and-a-long-file-name.flac', fraction: 0.5, detail: '21 MB / 42 MB · 8 MB/s' });
    live.event('resuming b.flac at 1 MB of 2 MB');
    live.done('a', 'uploaded  a.flac → 1234');
    live.close();
    const drawn = tty.chunks.join('');
    // The line that stays, then the bar below it; then the bar is erased (cursor up, clear) for the next line.
    assert.match(drawn, new RegExp(`^resuming b\\.flac at 1 MB of 2 MB\na-rather-long.*█+░+ +50% {2}21 MB / 42 MB · 8 MB/s\n${ESC}\\[1F${ESC}\\[Juploaded {2}a\\.flac → 1234\n`));
    // Never wider than the terminal, or a wrapped line would throw off the next redraw.
    for (const line of drawn.split('\n')) assert.ok(Array.from(line.split(ESC).map((part, i) => (i === 0 ? part : part.replace(/^\[\d*[A-Za-z]/, ''))).join('')).length <= 99, line);

    const log = sink(80);
    const plain = new Display(log.stream, false);
    plain.progress('a', { label: 'a.flac', fraction: 0.5, detail: 'x' });
    plain.plain('uploading a.flac 50%');
    plain.done('a', 'uploaded  a.flac → 1234');
    assert.deepEqual(log.chunks, ['uploading a.flac 50%\n', 'uploaded  a.flac → 1234\n']);
  });
});
