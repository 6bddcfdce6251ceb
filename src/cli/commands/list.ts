import { Api } from '../api.ts';
import { connectionHelp, connectionOptions, parseCommandArgs } from '../args.ts';
import { requireToken, resolveConnection } from '../credentials.ts';
import { EXIT } from '../errors.ts';
import { statusText, table } from '../format.ts';

export const filesHelp = `Usage: reprise files [--json]

Lists your files on the server: id, status, outputs ready, name.

Options:
  --json                 print the server's JSON (the files as GET /api/v1/files gives them)
${connectionHelp}
`;

export const presetsHelp = `Usage: reprise presets [--json]

Lists the output presets the server offers; * marks the defaults used when --presets is not given.
When signed in, your own presets (made on the Presets page or with POST /api/v1/presets) follow,
marked (yours); --presets takes their ids like any other.

Options:
  --json                 print the server's JSON (as GET /api/v1/presets gives it)
${connectionHelp}
`;

const options = { ...connectionOptions, json: { type: 'boolean' } } as const;

export async function files(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('files', args, options);
  if (values.help) {
    process.stdout.write(filesHelp);
    return EXIT.ok;
  }
  const conn = requireToken(await resolveConnection(values));
  const list = await new Api(conn.server, conn.token).listFiles();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ files: list }, null, 2)}\n`);
    return EXIT.ok;
  }
  if (list.length === 0) {
    process.stdout.write('no files yet: reprise upload <files> sends some\n');
    return EXIT.ok;
  }
  const rows = list.map((f) => [f.id, statusText(f.status, f.progress), f.outputs.map((o) => o.preset).join(',') || '-', f.name]);
  process.stdout.write(table(['ID', 'STATUS', 'OUTPUTS', 'NAME'], rows));
  return EXIT.ok;
}

export async function presets(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('presets', args, options);
  if (values.help) {
    process.stdout.write(presetsHelp);
    return EXIT.ok;
  }
  // Presets need no account: a server address is enough.
  const conn = await resolveConnection(values);
  const list = await new Api(conn.server, conn.token).listPresets();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ presets: list }, null, 2)}\n`);
    return EXIT.ok;
  }
  const rows = list.map((p) => [`${p.id}${p.default ? ' *' : ''}`, p.extension, p.lossless ? 'lossless' : 'lossy', p.own ? `${p.label} (yours)` : p.label]);
  process.stdout.write(table(['ID', 'EXT', 'KIND', 'LABEL'], rows));
  return EXIT.ok;
}
