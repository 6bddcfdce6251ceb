/**
 * Names inside a ZIP become paths on someone's disk when it is extracted. Each part of a path
 * is made harmless on its own (no separators, no "..", no controls, nothing Windows refuses),
 * and names that would land on the same file — also on case-insensitive disks — get " (2)",
 * " (3)", … before their extension.
 */
import { cleanText, cutKeepingExtension } from './names.ts';

/** Windows refuses these in names; "/" and "\" would make a folder, ":" a stream or a drive. */
const forbidden = /[/\\:*?"<>|]/g;
/** Device names Windows will not create as files, whatever the extension. */
const reserved = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** One path segment: never empty, never a separator, never "." or ".." or any run of dots. */
export function archiveSegment(raw: string, fallback: string): string {
  const cleaned = cleanText(raw.normalize('NFC'))
    .replace(forbidden, '_')
    .replace(/\.{2,}/g, '.')
    // Leading dots hide a file; trailing dots and spaces are dropped by Windows.
    .replace(/^[.\s]+|[.\s]+$/g, '');
  const cut = cutKeepingExtension(cleaned, 150);
  if (!cut) return fallback;
  return reserved.test(cut) ? `_${cut}` : cut;
}

/** Hands out names unique within one folder, comparing as a case-insensitive disk would. */
export class UniqueNames {
  private readonly taken = new Set<string>();

  /** A folder has no extension: "My.Song" becomes "My.Song (2)", not "My (2).Song". */
  claim(name: string, kind: 'file' | 'folder' = 'file'): string {
    const dot = kind === 'file' ? name.lastIndexOf('.') : -1;
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    let candidate = name;
    for (let n = 2; this.taken.has(keyOf(candidate)); n++) candidate = `${stem} (${n})${ext}`;
    this.taken.add(keyOf(candidate));
    return candidate;
  }
}

const keyOf = (name: string) => name.normalize('NFC').toLowerCase();
