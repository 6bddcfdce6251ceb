import { CliError } from './errors.ts';

/** Everything piped to standard input, minus one trailing newline (what `echo` adds). */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Keys typed ahead of the question that reads them (a pasted "name⏎password⏎"). */
let typedAhead = '';

/**
 * One line from the terminal in raw mode, which hands us every key press: Enter ends, Backspace
 * deletes, Ctrl-C and Ctrl-D give up. Without echo nothing is printed but the question — how a
 * password is asked for. One reader for both questions, so a line typed ahead is not lost the
 * way it would be when a readline interface closes.
 */
export function askTerminal(question: string, echo: boolean): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new CliError('standard input is not a terminal: pipe the password with --password-stdin', 2));
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onKeys = (keys: string): boolean => {
      const chars = Array.from(keys);
      for (const [i, ch] of chars.entries()) {
        if (ch === '\r' || ch === '\n') {
          typedAhead = chars.slice(i + 1).join('').replace(/^\n/, '');
          finish();
          return true;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish(new CliError('cancelled', 130));
          return true;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (typed && echo) process.stderr.write('\b \b');
          typed = Array.from(typed).slice(0, -1).join('');
        } else if (ch >= ' ') {
          typed += ch;
          if (echo) process.stderr.write(ch);
        }
      }
      return false;
    };
    const onData = (data: Buffer) => void onKeys(data.toString('utf8'));
    const ahead = typedAhead;
    typedAhead = '';
    if (onKeys(ahead)) return;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
