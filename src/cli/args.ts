import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every client command takes: where the server is and who we are there. */
export const connectionOptions = {
  server: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const connectionHelp = `  --server URL           the Reprise server (default: REPRISE_URL, else the one saved by login)
  --token TOKEN          an API token (default: REPRISE_TOKEN, else the one saved by login)
  -h, --help             show this help`;

/**
 * node:util parseArgs in strict mode, with its TypeErrors ("Unknown option '--x'") turned into a
 * usage error that names the command, so a typo gets one line and a pointer to --help.
 */
export function parseCommandArgs<const T extends Options>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    throw new UsageError(message, command);
  }
}

/** "a, b,,c" → ["a", "b", "c"]: how --presets lists are written. */
export const splitList = (raw: string | undefined): string[] =>
  (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
