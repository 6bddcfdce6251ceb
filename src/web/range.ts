/** What to do with a Range header (RFC 9110 §14): serve all, serve one part, or answer 416. */
export type RangeAnswer =
  | { kind: 'whole' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const whole: RangeAnswer = { kind: 'whole' };

/**
 * One byte range, read the way the RFC says: a header that is not a valid single bytes range
 * (another unit, garbage, "5-1", several ranges) is ignored and the whole file served; a valid
 * range that starts past the end is unsatisfiable; a suffix longer than the file means all of it.
 */
export function interpretRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return whole;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return whole;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return whole;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return whole;
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}
