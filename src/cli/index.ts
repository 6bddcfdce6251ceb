import * as download from './commands/download.ts';
import { files, presets } from './commands/list.ts';
import { login, logout } from './commands/login.ts';
import * as outputs from './commands/outputs.ts';
import * as upload from './commands/upload.ts';
import { CliError } from './errors.ts';

/** The client commands: they talk to a server over HTTP and never open its database or storage. */
const commands: Record<string, (args: string[]) => Promise<number>> = {
  upload: upload.run,
  files,
  presets,
  download: download.run,
  outputs: outputs.run,
  login,
  logout,
};

export const isClientCommand = (name: string | undefined): name is string => name !== undefined && Object.hasOwn(commands, name);

export const clientHelp = `Client commands (talk to a server over HTTP; each has --help):
  upload <files|folders…>  resumable upload; --presets a,b --name N --wait --download DIR --json
                         (run it again after an interruption: it continues where it stopped)
  files                  your files: id, status, outputs, name (--json)
  presets                the output presets (--json)
  download <id>          save a completed file's outputs (--dir DIR)
  outputs <id>           make more outputs (or one again) from the stored upload: --presets a,b
                         (--wait, --json)
  login --server URL     exchange username and password for a token, saved for later commands
                         (--username NAME, --password-stdin)
  logout                 revoke and forget the saved token
  Server and token: --server/--token, else REPRISE_URL/REPRISE_TOKEN, else what login saved.`;

/**
 * Runs a client command and turns every expected failure (a wrong token, an unreachable server,
 * a missing file) into one line on stderr and an exit code. Only a bug reaches the caller's
 * stack-trace handler.
 */
export async function runClient(name: string, args: string[]): Promise<number> {
  const command = commands[name];
  if (!command) throw new Error(`not a client command: ${name}`);
  try {
    return await command(args);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`reprise ${name}: ${err.message}\n`);
    return err.exitCode;
  }
}
