import { formatBytes } from '../format.ts';

/** One file's live line: a label, a share done (undefined: no bar yet) and what to say after it. */
export interface Row {
  label: string;
  fraction?: number;
  detail: string;
}

const REDRAW_MS = 100;

/** Cuts to a terminal's width, so a long name can never wrap and throw off the redraw arithmetic. */
function fit(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/**
 * Progress on stderr. On a terminal: a bar per active file, redrawn in place below the lines
 * that stay (so finished files scroll up as a log). Elsewhere (a pipe, CI logs): only the lines
 * that stay, one per event — cursor movements would be garbage in a log file.
 */
export class Display {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    readonly live: boolean = Boolean(process.stderr.isTTY),
  ) {}

  /** A line that stays, in both modes. */
  event(text: string): void {
    if (!this.live) {
      this.out.write(`${text}\n`);
      return;
    }
    this.redraw([text]);
  }

  /** A line only for logs: on a terminal the bar already says it. */
  plain(text: string): void {
    if (!this.live) this.out.write(`${text}\n`);
  }

  progress(key: string, row: Row): void {
    if (!this.live) return;
    this.rows.set(key, row);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.redraw([]);
    }, REDRAW_MS);
  }

  /** Removes a file's bar, optionally leaving a line in its place. */
  done(key: string, text?: string): void {
    this.rows.delete(key);
    if (text !== undefined) this.event(text);
    else if (this.live) this.redraw([]);
  }

  /** Clears the bars, so what follows (the summary) starts on a clean line. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.rows.clear();
    if (this.live) this.redraw([]);
  }

  private redraw(lines: string[]): void {
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const height = Math.max(3, (this.out.rows || 24) - 2);
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '';
    for (const line of lines) text += `${fit(line, width)}\n`;
    const rows = [...this.rows.values()];
    const shown = rows.length > height ? rows.slice(0, height - 1) : rows;
    for (const row of shown) text += `${fit(renderRow(row, width), width)}\n`;
    if (shown.length < rows.length) text += `… and ${rows.length - shown.length} more\n`;
    this.drawn = shown.length + (shown.length < rows.length ? 1 : 0);
    this.out.write(text);
  }
}

function renderRow(row: Row, width: number): string {
  const labelWidth = Math.min(32, Math.max(12, Math.floor(width / 3)));
  const label = fit(row.label, labelWidth).padEnd(labelWidth);
  if (row.fraction === undefined) return `${label}  ${row.detail}`;
  const pct = `${Math.floor(row.fraction * 100)}%`.padStart(4);
  const barWidth = Math.max(10, Math.min(30, width - labelWidth - row.detail.length - 10));
  return `${label}  ${bar(row.fraction, barWidth)} ${pct}  ${row.detail}`;
}

/** Bytes per second over the last few seconds: steadier than since-start, quicker than an average. */
export class RateMeter {
  private samples: { at: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 3000) {}

  add(bytes: number, at = Date.now()): void {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && (this.samples[0]?.at ?? at) < at - this.windowMs) this.samples.shift();
  }

  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

/** "12.3 MB / 42 MB · 8.1 MB/s" */
export function transferDetail(sent: number, total: number, perSecond: number): string {
  const speed = perSecond > 0 ? ` · ${formatBytes(perSecond)}/s` : '';
  return `${formatBytes(sent)} / ${formatBytes(total)}${speed}`;
}
