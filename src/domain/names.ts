/**
 * Names people give files reach pages, JSON, headers and the database. They are cleaned once, on
 * the way in: no control characters (NUL breaks PostgreSQL text, CR/LF breaks headers), no bidi
 * overrides (they make "evil\u202Eexe.mp3" display as something else), cut on code points so an
 * emoji is never split in half, and a cut keeps the extension people recognise the file by.
 */
import path from 'node:path';
import { findPreset, type Preset } from '../media/presets.ts';

// C0/C1 controls, DEL, bidi embeddings/overrides/isolates and marks, the Arabic letter mark,
// line/paragraph separators, BOM, and unpaired surrogates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Removes what must never be displayed or stored, and folds runs of whitespace. */
export function cleanText(raw: string): string {
  return raw.replace(unsafe, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts to at most `max` code points; a trailing ".ext" (up to 10 characters) survives the cut. */
export function cutKeepingExtension(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  const ext = /\.[^.\s]{1,10}$/u.exec(text)?.[0];
  const extPoints = ext ? Array.from(ext) : [];
  if (ext && extPoints.length < max) {
    return points.slice(0, max - extPoints.length).join('').trimEnd() + ext;
  }
  return points.slice(0, max).join('');
}

/** The display name: what was typed, else the file name; cleaned and at most 200 code points. */
export function displayName(rawName: unknown, originalFilename: string): string {
  const typed = typeof rawName === 'string' ? cleanText(rawName) : '';
  const fallback = cleanText(baseName(originalFilename)) || 'Untitled';
  return cutKeepingExtension(typed || fallback, 200);
}

/** The uploaded file's own name, kept for downloads: last path segment, cleaned, ≤ 255 code points. */
export function originalName(raw: string): string {
  return cutKeepingExtension(cleanText(baseName(raw)), 255) || 'upload';
}

/** Browsers send bare names, but other clients may send "C:\\dir\\x.wav" or "../x.wav". */
function baseName(raw: string): string {
  const last = raw.split(/[/\\]/).pop() ?? '';
  return last === '.' || last === '..' ? '' : last;
}

/** "song.flac" from "song.wav"; "song-mp3-320k.mp3" when two chosen presets share an extension. */
export function downloadName(
  originalFilename: string,
  presetId: string,
  chosen: readonly string[],
  // Own presets are looked up in the file's snapshot of them (preset-catalog.ts filePreset).
  lookup: (id: string) => Preset | undefined = findPreset,
): string {
  const preset = lookup(presetId);
  const ext = preset?.extension ?? 'bin';
  const stem = path.parse(originalFilename).name || 'audio';
  const shared = chosen.filter((id) => lookup(id)?.extension === ext).length > 1;
  return shared ? `${stem}-${presetId}.${ext}` : `${stem}.${ext}`;
}
