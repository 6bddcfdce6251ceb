/**
 * Errors the client command line reports as one line on stderr, never as a stack trace: the
 * person running it needs to know what to fix (a token, an address, a path), not where in our
 * code it was noticed.
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** 1: something failed; 2: the command line itself was wrong. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake in how the command was called: exit code 2, with a pointer to --help. */
export class UsageError extends CliError {
  constructor(message: string, command: string) {
    super(`${message} (see: reprise ${command} --help)`, 2);
    this.name = 'UsageError';
  }
}

/** Exit codes in one place, so tests and scripts can rely on them. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
