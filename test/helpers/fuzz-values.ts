/**
 * Hostile values for the fuzz test, as bytes: a string cannot hold invalid UTF-8, and invalid
 * UTF-8 (overlong "/", encoded surrogates) is part of what a server must survive.
 */
import fc from 'fast-check';

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Values that have broken servers before, one concern each. */
const ATOMS: Uint8Array[] = [
  // Controls, line breaks, NUL — raw and already percent-encoded.
  ...['\0', '\r\n', '\n', '\r', '\t', '\x01', '\x08', '\x1b[31m', '\x7f', '%00', '%0d%0a', '%0a', '\\u0000', '\\x00'].map(utf8),
  // C1 controls and Latin-1 bytes that are not UTF-8.
  utf8('\u0085\u009b'), latin1('\x80'), latin1('\xff'), latin1('caf\xe9'),
  // Invalid UTF-8: an encoded lone surrogate, overlong "/" and NUL, a truncated sequence.
  new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0xc0, 0xaf]), new Uint8Array([0xc0, 0x80]), new Uint8Array([0xe2, 0x82]),
  ...['%ED%A0%80', '%C0%AF', '%C0%80', '%ff', '%', '%%', '%2', '%zz', '%u0000', '%252e%252e%252f'].map(utf8),
  // Non-Latin-1 text, emoji, bidi overrides and isolates, zero-width and BOM, a lone surrogate.
  ...['✓', '😀', '👩‍👩‍👧', 'Ω≈ç√', '日本語', '\u202eexe.mp3', '\u2066', '\u200b', '\ufeff', '\ud800', 'e\u0301', '\u2028'].map(utf8),
  // Path tricks.
  ...['..', '../', '..%2f', '..%2F..%2Fetc%2Fpasswd', '..\\', '..%5c', '%2e%2e%2f', '/', '//evil.example', '\\\\evil.example', '/\\evil.example', '%2f%2fevil.example', './', '.', ';', ';a=b', '#frag', '?', '&', '=', '+', '/etc/passwd', 'C:\\Windows\\win.ini', 'file:///etc/passwd'].map(utf8),
  // URLs and schemes for redirect targets.
  ...['https://evil.example/', 'http:evil.example', 'javascript:alert(1)', 'data:text/html,x', '/\t/evil.example', '/%09/evil.example', '/%2F/evil.example', '/.//evil.example', '/login', '/files', '/api/v1/files'].map(utf8),
  // Wrong types and numbers.
  ...['0', '-1', '1e999', 'NaN', 'Infinity', '9007199254740993', '0x10', 'true', 'null', 'undefined', '[]', '{}', '[object Object]', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'].map(utf8),
  // Plausible header values, so that headers also arrive well-formed now and then.
  ...['application/json', 'text/event-stream', 'text/html', '*/*', 'application/json;q=0.1, */*', 'bytes=0-99', 'bytes=-500', 'bytes=100-', 'bytes=5-1', 'gzip, deflate, br', '100-continue', 'websocket', '1.2.3.4', '127.0.0.1, 10.0.0.1', '::1', 'for=1.2.3.4;proto=https', 'https', 'W/"x"', 'application/offset+octet-stream', '1.0.0', 'filename dGVzdC53YXY=,filetype YXVkaW8vd2F2', 'final;/api/v1/uploads/x', 'Thu, 01 Jan 1970 00:00:00 GMT'].map(utf8),
  // Markup, templates, SQL, header-ish text.
  ...['<script>alert(1)</script>', '"><img src=x>', "'", '"', '`', '<%= it %>', '<%~ process.exit() %>', '{{7*7}}', '${7*7}', "' OR 1=1 --", '; DROP TABLE files; --', 'bytes=0-', 'bytes=-1', 'bytes=0-0,1-1', 'bytes=99999999999999999999-', 'Bearer ', 'rp_', 's%3Aabc.def', ' ', ''].map(utf8),
];

/** A hostile atom, a run of them, random bytes, random text, or something long. */
export function hostileBytes(): fc.Arbitrary<Uint8Array> {
  const atom = fc.constantFrom(...ATOMS);
  const text = fc.string({ unit: 'grapheme', maxLength: 20 }).map(utf8);
  const binary = fc.string({ unit: 'binary', maxLength: 20 }).map(utf8);
  const raw = fc.uint8Array({ maxLength: 24 });
  const piece = fc.oneof({ arbitrary: atom, weight: 6 }, { arbitrary: text, weight: 2 }, { arbitrary: binary, weight: 1 }, { arbitrary: raw, weight: 1 });
  const long = fc.tuple(fc.constantFrom('a', '✓', '/', '%', '..%2f', '\0', '😀'), fc.constantFrom(300, 2_000, 10_000, 70_000)).map(([s, n]) => utf8(s.repeat(Math.ceil(n / s.length))));
  return fc.oneof(
    { arbitrary: piece, weight: 30 },
    { arbitrary: fc.array(piece, { minLength: 2, maxLength: 4 }).map((parts) => concat(parts)), weight: 18 },
    // Rare: a request holds many values, and one over-long header already makes it a 431.
    { arbitrary: long, weight: 1 },
  );
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** RFC 3986 unreserved characters pass through; everything else becomes %XX. */
export function percentEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * How a value goes into a URL or a form: fully percent-encoded (reaches the handler decoded),
 * printable ASCII left raw — "/", "%", "?", "&", "=", "+" and friends — with only what the HTTP
 * parser refuses in a request-target encoded (reaches the router and the query parser as is),
 * or fully raw (the HTTP parser is the one to answer).
 */
export type Encoding = 'pct' | 'mostly-raw' | 'raw';

export function encodeForUrl(bytes: Uint8Array, encoding: Encoding): Buffer {
  if (encoding === 'pct') return Buffer.from(percentEncode(bytes), 'latin1');
  if (encoding === 'raw') return Buffer.from(bytes);
  const out = [...bytes].map((b) => (b <= 0x20 || b >= 0x7f || b === 0x23 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b)));
  return Buffer.from(out.join(''), 'latin1');
}

/**
 * A header value: raw bytes, or without the bytes Node's HTTP parser refuses in a value (CR, LF,
 * NUL and the other controls but tab), so that the value reaches the application. Bytes
 * 0x80–0xFF stay: HTTP allows them (obs-text) and Node hands them over as Latin-1.
 */
export function encodeForHeader(bytes: Uint8Array, raw: boolean): Buffer {
  return raw ? Buffer.from(bytes) : Buffer.from(bytes.filter((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f)));
}

export const encodingArb: fc.Arbitrary<Encoding> = fc.oneof({ arbitrary: fc.constant<Encoding>('pct'), weight: 6 }, { arbitrary: fc.constant<Encoding>('mostly-raw'), weight: 3 }, { arbitrary: fc.constant<Encoding>('raw'), weight: 1 });
