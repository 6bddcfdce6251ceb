import path from 'node:path';
import { formatBytes } from '../../format.ts';
import { AuthedApi, type Api } from '../api.ts';
import { connectionHelp, connectionOptions, parseCommandArgs, splitList } from '../args.ts';
import { ensureConfigDir, requireToken, resolveConnection } from '../credentials.ts';
import { Display } from '../display.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { expandInputs, type LocalFile } from '../expand.ts';
import { onInterrupt } from '../interrupt.ts';
import { succeeded, summaryJson, summaryText, type FileResult } from '../summary.ts';
import { sendFiles } from '../send-files.ts';
import { SentLog } from '../sent-log.ts';
import { followJobs } from '../follow-jobs.ts';
import { TERMINAL_STATUSES } from '../wait.ts';

export const help = `Usage: reprise upload <files or folders…> [options]

Uploads audio to Reprise. Resumable: after an interruption, run the same command again — files
already sent are skipped and the one cut off continues where the server stopped. Folders are
searched recursively for audio files (.wav .flac .mp3 .m4a .aac .ogg .opus .aif .aiff .wv .ape
.caf .w64 .mka; hidden files skipped); files named one by one are sent whatever they are called.

Options:
  --presets a,b          output presets (default: the server's defaults; see reprise presets)
  --name NAME            the name to show for the file (one file only)
  --wait                 follow the jobs until every file is completed or failed
  --download DIR         save each completed file's outputs into DIR (implies --wait)
  --json                 print a JSON summary on stdout, and nothing else there
  --again                send files again that an earlier run already sent (within a day)
  --chunk-size MB        send at most this many MB per request (behind proxies with a body limit)
${connectionHelp}

Exit status: 0 when every file was accepted (and, with --wait, completed); 1 when any was refused
or failed (the summary says which and why); 2 for a usage error; 130 when interrupted.
`;

const options = {
  ...connectionOptions,
  presets: { type: 'string' },
  name: { type: 'string' },
  wait: { type: 'boolean' },
  download: { type: 'string' },
  json: { type: 'boolean' },
  'chunk-size': { type: 'string' },
  again: { type: 'boolean' },
} as const;

function chunkBytes(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 1) throw new UsageError(`--chunk-size must be a number of MB, at least 1: ${raw}`, 'upload');
  return Math.round(mb * 1024 * 1024);
}

/** Refuses unknown presets once, up front, with the list of known ones, instead of once per file. */
async function checkPresets(api: Api, wanted: readonly string[]): Promise<void> {
  if (wanted.length === 0) return;
  const known = (await api.listPresets()).map((p) => p.id);
  const unknown = wanted.filter((id) => !known.includes(id));
  if (unknown.length > 0) throw new UsageError(`unknown preset: ${unknown.join(', ')} (known: ${known.join(', ')})`, 'upload');
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('upload', args, options);
  if (values.help) {
    process.stdout.write(help);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or folder to upload', 'upload');
  const chunkSize = chunkBytes(values['chunk-size']);
  const presets = splitList(values.presets);
  const downloadDir = values.download === undefined ? undefined : path.resolve(values.download);
  const waiting = Boolean(values.wait) || downloadDir !== undefined;

  const conn = requireToken(await resolveConnection(values));
  const api = new AuthedApi(conn.server, conn.token);
  const { files, notes } = await expandInputs(positionals);
  if (values.name !== undefined && files.length !== 1) throw new UsageError(`--name names one file, but there are ${files.length}`, 'upload');
  if (files.length === 0) throw new CliError(`nothing to upload: ${notes.join('; ')}`);
  await api.checkToken();
  await checkPresets(api, presets);
  const dir = await ensureConfigDir();
  const storagePath = path.join(dir, 'uploads.json');
  const sent = new SentLog(path.join(dir, 'sent.json'));

  const display = new Display();
  for (const note of notes) display.event(note);
  const total = files.reduce((n, f) => n + f.size, 0);
  display.plain(`uploading ${files.length} file${files.length === 1 ? '' : 's'} (${formatBytes(total)}) to ${conn.server}`);

  const results: FileResult[] = files.map((f: LocalFile) => ({ path: f.display, fileId: null, status: 'pending', error: null, outputs: [] }));
  const interrupt = onInterrupt();
  let stoppedWaiting: string | undefined;
  try {
    await sendFiles({ api, files, results, presets, name: values.name, chunkSize, storagePath, sent, again: Boolean(values.again), display, signal: interrupt.signal });
    if (waiting && !interrupt.signal.aborted) {
      // The uploads are done whatever happens to the event stream: a lost stream still ends in
      // the summary, so nobody has to guess which files made it.
      await followJobs({ api, results, downloadDir, display, signal: interrupt.signal }).catch((err: unknown) => {
        if (!(err instanceof CliError)) throw err;
        stoppedWaiting = err.message;
      });
    }
  } finally {
    interrupt.dispose();
    display.close();
  }

  const interrupted = interrupt.signal.aborted;
  if (interrupted) stoppedWaiting ??= 'interrupted';
  if (stoppedWaiting !== undefined) {
    // Files whose jobs we stopped watching still run on the server: say so, not "failed".
    for (const r of results) {
      if (r.fileId && waiting && !TERMINAL_STATUSES.has(r.status)) r.error ??= `stopped waiting (${stoppedWaiting}); the job carries on on the server: see reprise files`;
    }
  }
  if (stoppedWaiting !== undefined && !interrupted) process.stderr.write(`reprise upload: ${stoppedWaiting}\n`);
  if (results.some((r) => r.status === 'interrupted')) {
    process.stderr.write('interrupted: run the same command again to continue the uploads where they stopped\n');
  }
  process.stdout.write(values.json ? summaryJson(results, waiting) : summaryText(results, waiting));
  if (interrupted) return EXIT.interrupted;
  return results.every((r) => succeeded(r, waiting)) ? EXIT.ok : EXIT.failed;
}
