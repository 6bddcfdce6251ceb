/**
 * Turns a fuzz request description (fuzz-requests.ts) into HTTP/1.1 bytes, resolving what it
 * names — "an id of ours", "the CSRF token", "a field name the server uses" — against the live
 * world at the moment it is sent.
 */
import { PASSWORD, tinyWav } from './fuzz-browser.ts';
import type { Body, JsonNode, RequestSpec, Value } from './fuzz-requests.ts';
import type { Route } from './fuzz-routes.ts';
import { concat, encodeForHeader, encodeForUrl, percentEncode } from './fuzz-values.ts';
import type { World } from './fuzz-world.ts';

const enc = new TextEncoder();

function resolve(value: Value, world: World): Uint8Array {
  if ('bytes' in value) return value.bytes;
  const from = (list: readonly string[], fallback: string) => list[value.pick % Math.max(list.length, 1)] ?? fallback;
  const uuid = `00000000-0000-4000-8000-${value.pick.toString(16).padStart(12, '0')}`;
  switch (value.ref) {
    case 'ownId':
      return enc.encode(from(world.ownIds, uuid));
    case 'otherId':
      return enc.encode(from(world.otherIds, uuid));
    case 'uuid':
      return enc.encode(uuid);
    case 'preset':
      return enc.encode(from(world.presetIds, 'flac'));
    case 'static':
      return enc.encode(from(world.vocabulary.staticFiles, 'app.css'));
    case 'field':
      return enc.encode(from(world.vocabulary.fieldNames, 'name'));
    case 'header':
      return enc.encode(from(world.vocabulary.headerNames, 'X-Fuzz'));
    case 'username':
      return enc.encode(world.username);
    case 'password':
      return enc.encode(PASSWORD);
    case 'freshUsername':
      return enc.encode(`fz-${process.pid}-${++world.signups}`);
    case 'csrf':
      return enc.encode(world.browser.csrf);
    case 'foreignCsrf':
      return enc.encode(world.foreign.csrf);
    case 'bearer':
      return enc.encode(world.bearer);
  }
}

function target(route: Route, spec: RequestSpec, world: World, csrfToken: Uint8Array | undefined): Buffer {
  const { style, params, encoding } = spec.target;
  if (style === 'asterisk') return Buffer.from('*');
  let i = 0;
  const path = route.path.split(/(:[A-Za-z0-9_]+|\*)/).map((piece) => {
    if (piece !== '*' && !piece.startsWith(':')) return Buffer.from(piece);
    const value = params[i++];
    return value ? encodeForUrl(resolve(value, world), encoding) : Buffer.alloc(0);
  });
  let bytes = Buffer.concat(path);
  if (style === 'dots') bytes = Buffer.concat([Buffer.from('/static/../x/./..'), bytes]);
  if (style === 'double-slash') bytes = Buffer.concat([Buffer.from('/'), bytes]);
  if (style === 'trailing-slash') bytes = Buffer.concat([bytes, Buffer.from('/')]);
  if (style === 'absolute') bytes = Buffer.concat([Buffer.from('http://evil.example'), bytes]);
  if (style === 'upper') bytes = Buffer.from(bytes.toString('latin1').toUpperCase(), 'latin1');
  if (style === 'encoded-letter') bytes = Buffer.from(bytes.toString('latin1').replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`), 'latin1');

  const pairs = spec.query.map(([k, v]): [Uint8Array, Uint8Array] => [resolve(k, world), resolve(v, world)]);
  if (csrfToken && spec.csrf.where === 'query') pairs.push([enc.encode('_csrf'), csrfToken]);
  if (pairs.length === 0) return bytes;
  const query = pairs.map(([k, v]) => Buffer.concat([encodeForUrl(k, spec.queryEncoding), Buffer.from('='), encodeForUrl(v, spec.queryEncoding)]));
  return Buffer.concat([bytes, Buffer.from('?'), Buffer.from(query.map((q) => q.toString('latin1')).join('&'), 'latin1')]);
}

function jsonText(node: JsonNode, world: World, rawStrings: boolean): string {
  if ('text' in node) return node.text;
  if ('deep' in node) return '['.repeat(node.deep) + ']'.repeat(node.deep);
  if ('arr' in node) return `[${node.arr.map((n) => jsonText(n, world, rawStrings)).join(',')}]`;
  const str = (v: Value) => {
    const bytes = resolve(v, world);
    // Raw: the bytes between quotes as they are (controls, invalid UTF-8); else proper JSON.
    return rawStrings ? `"${Buffer.from(bytes).toString('latin1')}"` : JSON.stringify(Buffer.from(bytes).toString('utf8'));
  };
  if ('str' in node) return str(node.str);
  return `{${node.obj.map(([k, v]) => `${str(k)}:${jsonText(v, world, rawStrings)}`).join(',')}}`;
}

/** Content-Disposition parameter text: raw bytes, or what a browser sends (CR/LF/" escaped). */
function dispositionParam(bytes: Uint8Array, raw: boolean): string {
  const text = Buffer.from(bytes).toString(raw ? 'latin1' : 'utf8');
  return raw ? text : text.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

function multipart(body: Extract<Body, { kind: 'multipart' }>, world: World, csrfToken: Uint8Array | undefined, boundary: string): Buffer {
  const chunks: Buffer[] = [];
  if (body.preamble) chunks.push(Buffer.from('preamble\r\n'));
  const parts = [...body.parts];
  if (csrfToken && body.parts.length > 0) parts.unshift({ field: { bytes: enc.encode('_csrf') }, value: { bytes: csrfToken }, raw: false });
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if ('bare' in part) {
      chunks.push(Buffer.from(part.bare), Buffer.from('\r\n'));
      continue;
    }
    if ('field' in part) {
      const name = dispositionParam(resolve(part.field, world), part.raw);
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${name}"\r\n\r\n`, 'latin1'), Buffer.from(resolve(part.value, world)), Buffer.from('\r\n'));
      continue;
    }
    const fieldname = part.fileField === 'file' ? 'file' : dispositionParam(resolve(part.fileField, world), part.raw);
    let disposition = `Content-Disposition: form-data; name="${fieldname}"`;
    if (part.filename) disposition += `; filename="${dispositionParam(resolve(part.filename, world), part.raw)}"`;
    if (part.filenameStar) disposition += `; filename*=UTF-8''${percentEncode(resolve(part.filenameStar, world))}`;
    const type = part.type ? `Content-Type: ${Buffer.from(resolve(part.type, world)).toString('latin1')}\r\n` : '';
    const content = part.content === 'wav' ? tinyWav() : part.content === 'empty' ? Buffer.alloc(0) : part.content === 'over-limit' ? Buffer.alloc(300 * 1024, 0x41) : Buffer.from(part.content.bytes);
    chunks.push(Buffer.from(`${disposition}\r\n${type}\r\n`, 'latin1'), content, Buffer.from('\r\n'));
  }
  if (body.closing) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function bodyBytes(spec: RequestSpec, world: World, csrfToken: Uint8Array | undefined, boundary: string): { bytes: Buffer; type: string | undefined } {
  const body = spec.body;
  const inBody = spec.csrf.where === 'body' ? csrfToken : undefined;
  switch (body.kind) {
    case 'none':
      return { bytes: Buffer.alloc(0), type: undefined };
    case 'form': {
      const pairs = body.fields.map(([k, v]) => [resolve(k, world), resolve(v, world)] as const);
      if (inBody) pairs.push([enc.encode('_csrf'), inBody]);
      const text = pairs.map(([k, v]) => `${encodeForUrl(k, body.encoding).toString('latin1')}=${encodeForUrl(v, body.encoding).toString('latin1')}`).join('&');
      return { bytes: Buffer.from(text, 'latin1'), type: 'application/x-www-form-urlencoded' };
    }
    case 'json': {
      let root = body.root;
      if (inBody) root = 'obj' in root ? { obj: [...root.obj, [{ bytes: enc.encode('_csrf') }, { str: { bytes: inBody } }]] } : root;
      return { bytes: Buffer.from(jsonText(root, world, body.rawStrings), body.rawStrings ? 'latin1' : 'utf8'), type: 'application/json' };
    }
    case 'broken-json':
      return { bytes: Buffer.concat([Buffer.from(body.prefix), Buffer.from(body.tail)]), type: 'application/json' };
    case 'multipart': {
      const type = body.boundary === 'missing' ? 'multipart/form-data' : `multipart/form-data; boundary=${body.boundary === 'ok' ? boundary : 'not-the-boundary'}`;
      return { bytes: multipart(body, world, inBody, boundary), type };
    }
    case 'raw':
      return { bytes: Buffer.from(body.bytes), type: 'application/octet-stream' };
  }
}

function chunk(bytes: Buffer, size: number): Buffer {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, i + size);
    pieces.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(pieces);
}

/** The request as bytes, with the world's current session, token and ids. */
export function buildRequest(route: Route, spec: RequestSpec, world: World): Buffer {
  const method = 'known' in spec.method ? (route.methods[spec.method.known] ?? 'GET') : spec.method.other;
  const csrfToken = spec.csrf.value === 'none' ? undefined : spec.csrf.value === 'valid' ? enc.encode(world.browser.csrf) : spec.csrf.value === 'foreign' ? enc.encode(world.foreign.csrf) : resolve(spec.csrf.value, world);
  const boundary = '----fuzzBoundary7MA4YWxkTrZu0gW';
  const body = bodyBytes(spec, world, csrfToken, boundary);

  const lines: Buffer[] = [Buffer.concat([Buffer.from(`${method} `), target(route, spec, world, csrfToken), Buffer.from(` ${spec.version}`)])];
  const header = (name: string | Uint8Array, value: Uint8Array | string) => lines.push(Buffer.concat([Buffer.from(name), Buffer.from(': '), Buffer.from(value)]));

  const host = `127.0.0.1:${world.port}`;
  if (spec.host === 'normal' || spec.host === 'twice') header('Host', host);
  if (spec.host === 'twice') header('Host', 'evil.example');
  if (typeof spec.host === 'object') header('Host', encodeForHeader(resolve(spec.host, world), false));
  header('Connection', 'close');

  const session = world.browser.cookieHeader;
  if (spec.cookie === 'session') header('Cookie', session);
  if (spec.cookie === 'twice') header('Cookie', `${session}; ${session.replace(/=([^;]*)/, '=x$1')}`);
  if (spec.cookie === 'tampered') header('Cookie', session.replace(/.(;|$)/, (m, end: string) => `${m[0] === 'A' ? 'B' : 'A'}${end}`));
  if (typeof spec.cookie === 'object') header('Cookie', concat([enc.encode('reprise_session='), encodeForHeader(resolve(spec.cookie.hostile, world), false)]));

  if (spec.authorization === 'bearer') header('Authorization', `Bearer ${world.bearer}`);
  if (typeof spec.authorization === 'object') header('Authorization', concat([enc.encode(spec.authorization.scheme), encodeForHeader(resolve(spec.authorization.value, world), spec.authorization.raw)]));

  if (csrfToken && spec.csrf.where === 'header') header('X-CSRF-Token', encodeForHeader(csrfToken, false));
  for (const h of spec.headers) header(typeof h.name === 'string' ? h.name : resolve(h.name, world), encodeForHeader(resolve(h.value, world), h.raw));

  const type = spec.contentType === 'matching' ? body.type : spec.contentType === 'none' ? undefined : encodeForHeader(resolve(spec.contentType, world), false);
  if (type !== undefined) header('Content-Type', type);
  let payload = body.bytes;
  if (spec.chunked !== false && payload.length > 0) {
    header('Transfer-Encoding', 'chunked');
    payload = chunk(payload, spec.chunked);
  } else if (payload.length > 0 || method === 'POST') {
    header('Content-Length', String(payload.length));
  }
  return Buffer.concat([...lines.flatMap((l) => [l, Buffer.from('\r\n')]), Buffer.from('\r\n'), payload]);
}
