import { Api, HttpError } from '../api.ts';
import { parseCommandArgs } from '../args.ts';
import { credentialsPath, normalizeServer, readCredentials, removeCredentials, saveCredentials } from '../credentials.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { askTerminal, readAllStdin } from '../prompt.ts';

export const loginHelp = `Usage: reprise login --server URL [--username NAME] [--password-stdin]

Exchanges a username and password for an API token (POST /api/v1/tokens) and saves the server
and the token in a file only you can read (${'$'}XDG_CONFIG_HOME/reprise/credentials.json, or
~/.config/reprise/credentials.json), which later commands use when no --token is given.

Options:
  --server URL           the Reprise server (default: REPRISE_URL)
  --username NAME        the account (asked for on a terminal when missing)
  --password-stdin       read the password from standard input (otherwise it is asked for,
                         without echo; standard input must then be a terminal)
  -h, --help             show this help
`;

export const logoutHelp = `Usage: reprise logout

Revokes the saved token on its server (when it can be reached) and deletes the saved
credentials file. Tokens given with --token or REPRISE_TOKEN are not touched.

Options:
  -h, --help             show this help
`;

export async function login(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('login', args, {
    server: { type: 'string' },
    username: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(loginHelp);
    return EXIT.ok;
  }
  const given = values.server ?? process.env.REPRISE_URL;
  if (!given) throw new UsageError('say which server: --server URL (or set REPRISE_URL)', 'login');
  const server = normalizeServer(given);
  const stdinIsTerminal = Boolean(process.stdin.isTTY);
  let username = values.username?.trim();
  if (!username) {
    // With --password-stdin, standard input carries the password: the name cannot come from there too.
    if (values['password-stdin'] || !stdinIsTerminal) throw new UsageError('give the account with --username NAME', 'login');
    username = (await askTerminal('Username: ', true)).trim();
  }
  const password = values['password-stdin'] ? await readAllStdin() : await askTerminal(`Password for ${username}: `, false);
  if (!password) throw new CliError('no password given');

  // No Authorization header: this form of POST /tokens is the password exchange.
  const api = new Api(server);
  let token: string;
  try {
    ({ token } = await api.json<{ token: string }>('POST', '/api/v1/tokens', { body: { username, password }, what: 'signing in' }));
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) throw new CliError(`${server} did not accept that username and password`);
    throw err;
  }
  if (typeof token !== 'string' || !token) throw new CliError(`${server} answered without a token: is this a Reprise server?`);
  const file = await saveCredentials({ server, token, username });
  process.stderr.write(`signed in to ${server} as ${username}; token saved in ${file}\n`);
  return EXIT.ok;
}

export async function logout(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('logout', args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(logoutHelp);
    return EXIT.ok;
  }
  const saved = await readCredentials().catch(() => undefined);
  if (saved) {
    // Deleting the file alone would leave a working token behind; revoke it too when we can.
    // Only a prefix identifies a token in the list, so only an unambiguous match is revoked.
    const api = new Api(saved.server, saved.token);
    const note = await api
      .json<{ tokens: { id: string; prefix: string }[] }>('GET', '/api/v1/tokens')
      .then(async ({ tokens }) => {
        const mine = tokens.filter((t) => saved.token.startsWith(t.prefix));
        if (mine.length !== 1 || !mine[0]) return 'the token could not be told apart from others; revoke it on the settings page';
        await api.request('DELETE', `/api/v1/tokens/${encodeURIComponent(mine[0].id)}`);
        return 'token revoked';
      })
      .catch((err: unknown) => `the token was not revoked (${err instanceof Error ? err.message : String(err)})`);
    process.stderr.write(`${saved.server}: ${note}\n`);
  }
  const removed = await removeCredentials();
  process.stderr.write(removed ? `removed ${credentialsPath()}\n` : 'not logged in: nothing to remove\n');
  return EXIT.ok;
}
