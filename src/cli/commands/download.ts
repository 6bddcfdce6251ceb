import path from 'node:path';
import { Api } from '../api.ts';
import { connectionHelp, connectionOptions, parseCommandArgs } from '../args.ts';
import { requireToken, resolveConnection } from '../credentials.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { shortPath, statusText } from '../format.ts';
import { saveOutputs } from '../save-output.ts';

export const help = `Usage: reprise download <id> [--dir DIR] [--json]

Saves every output of a completed file into DIR (default: the current folder), under the names
the server gives them (e.g. song.flac); an existing file is never overwritten ("song (2).flac").

Options:
  --dir DIR              where to save (created when missing)
  --json                 print {id, saved: [paths]} on stdout
${connectionHelp}
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('download', args, { ...connectionOptions, dir: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(help);
    return EXIT.ok;
  }
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError('give exactly one file id (reprise files lists them)', 'download');
  const conn = requireToken(await resolveConnection(values));
  const api = new Api(conn.server, conn.token);
  const file = await api.getFile(id);
  if (file.status !== 'completed') {
    throw new CliError(`${file.name} (${id}) is ${statusText(file.status, file.progress)}${file.error ? `: ${file.error}` : ''}; only completed files have outputs`);
  }
  const saved = await saveOutputs(api, file, path.resolve(values.dir ?? '.'));
  process.stdout.write(values.json ? `${JSON.stringify({ id, saved }, null, 2)}\n` : `${saved.map((p) => `saved ${shortPath(p)}`).join('\n')}\n`);
  return EXIT.ok;
}
