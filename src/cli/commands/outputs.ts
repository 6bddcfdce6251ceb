import { AuthedApi, type FileJson } from '../api.ts';
import { connectionHelp, connectionOptions, parseCommandArgs, splitList } from '../args.ts';
import { requireToken, resolveConnection } from '../credentials.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { onInterrupt } from '../interrupt.ts';
import { waitForFiles } from '../wait.ts';

export const help = `Usage: reprise outputs <id> --presets a,b [--wait] [--json]

Makes more outputs of a completed, failed or canceled file from the upload the server keeps (no
upload again), or one output again: only the presets named are made, with the file's trim and
loudness option; its other outputs stay as they are and downloadable.

Options:
  --presets a,b          preset ids (reprise presets lists them; your own ones too)
  --wait                 follow the job until it ends; exit 1 unless it completed
  --json                 print the file as the server shows it (after the job, with --wait)
${connectionHelp}
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('outputs', args, {
    ...connectionOptions,
    presets: { type: 'string' },
    wait: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(help);
    return EXIT.ok;
  }
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError('give exactly one file id (reprise files lists them)', 'outputs');
  const presets = splitList(values.presets);
  if (presets.length === 0) throw new UsageError('name the presets to make with --presets a,b (reprise presets lists them)', 'outputs');
  const conn = requireToken(await resolveConnection(values));
  const api = new AuthedApi(conn.server, conn.token);
  let file = await api.json<FileJson>('POST', `/api/v1/files/${encodeURIComponent(id)}/outputs`, { body: { presets }, what: `more outputs of ${id}` });
  if (!values.json) process.stdout.write(`queued: ${presets.join(', ')} of ${file.name} (${file.id})\n`);
  if (!values.wait) {
    if (values.json) process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
    return EXIT.ok;
  }
  const interrupt = onInterrupt();
  try {
    await waitForFiles(api, [file.id], {
      onUpdate: () => undefined,
      onEnd: (_id, _status, ended) => {
        if (ended) file = ended;
      },
    }, interrupt.signal);
  } finally {
    interrupt.dispose();
  }
  if (interrupt.signal.aborted) return EXIT.interrupted;
  if (values.json) process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
  else if (file.status === 'completed') process.stdout.write(`completed: ${file.outputs.map((o) => o.preset).join(', ')}\n`);
  if (file.status !== 'completed') throw new CliError(`${file.name} (${file.id}) ${file.status}${file.error ? `: ${file.error}` : ''}`);
  return EXIT.ok;
}
