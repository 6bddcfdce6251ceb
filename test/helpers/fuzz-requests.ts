/**
 * Requests for the fuzz test: fast-check generates a description (which method, which values
 * where, which identity), and `buildRequest` turns it into HTTP/1.1 bytes against the live world
 * (current session cookie and CSRF token, ids that exist right now). Descriptions stay small and
 * shrinkable; the bytes are what a failure prints.
 */
import fc from 'fast-check';
import type { Route } from './fuzz-routes.ts';
import { concat, encodeForHeader, encodeForUrl, encodingArb, hostileBytes, percentEncode, type Encoding } from './fuzz-values.ts';
import { PASSWORD, tinyWav, type BodyHint, type World } from './fuzz-world.ts';

/** Something the server knows, looked up when the request is built. */
type Ref = 'ownId' | 'otherId' | 'uuid' | 'preset' | 'static' | 'field' | 'header' | 'username' | 'password' | 'freshUsername' | 'csrf' | 'foreignCsrf' | 'bearer';
export type Value = { ref: Ref; pick: number } | { bytes: Uint8Array };

type JsonNode =
  | { str: Value }
  /** Verbatim JSON text: lone surrogates and NUL as \u escapes, odd numbers. */
  | { text: string }
  | { arr: JsonNode[] }
  | { obj: [Value, JsonNode][] }
  /** Arrays nested this deep. */
  | { deep: number };

type Content = 'wav' | 'empty' | 'over-limit' | { bytes: Uint8Array };
type Part =
  | { field: Value; value: Value; raw: boolean }
  | { fileField: Value | 'file'; filename?: Value; filenameStar?: Value; type?: Value; content: Content; raw: boolean }
  | { bare: Uint8Array };

type Body =
  | { kind: 'none' }
  | { kind: 'form'; fields: [Value, Value][]; encoding: Encoding }
  | { kind: 'json'; root: JsonNode; rawStrings: boolean }
  | { kind: 'broken-json'; prefix: string; tail: Uint8Array }
  | { kind: 'multipart'; parts: Part[]; boundary: 'ok' | 'missing' | 'other'; closing: boolean; preamble: boolean }
  | { kind: 'raw'; bytes: Uint8Array };

export interface RequestSpec {
  method: { known: number } | { other: string };
  version: string;
  target: { style: 'origin' | 'dots' | 'double-slash' | 'trailing-slash' | 'absolute' | 'asterisk' | 'upper' | 'encoded-letter'; params: Value[]; encoding: Encoding };
  query: [Value, Value][];
  queryEncoding: Encoding;
  cookie: 'none' | 'session' | 'tampered' | 'twice' | { hostile: Value };
  authorization: 'none' | 'bearer' | { scheme: string; value: Value; raw: boolean };
  csrf: { value: 'none' | 'valid' | 'foreign' | Value; where: 'header' | 'body' | 'query' };
  host: 'normal' | 'missing' | 'twice' | Value;
  headers: { name: string | Value; value: Value; raw: boolean }[];
  body: Body;
  contentType: 'matching' | 'none' | Value;
  chunked: false | number;
}

const REFS: Ref[] = ['ownId', 'ownId', 'otherId', 'uuid', 'preset', 'static', 'field', 'username', 'password', 'freshUsername', 'csrf', 'foreignCsrf', 'bearer'];
const HEADER_NAMES = [
  'Range', 'If-Range', 'Last-Event-ID', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Cookie', 'Authorization', 'X-CSRF-Token', 'CSRF-Token',
  'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'Forwarded', 'X-Real-IP', 'If-None-Match', 'If-Modified-Since', 'Origin', 'Referer',
  'User-Agent', 'Expect', 'Upgrade', 'TE', 'Content-Encoding', 'Content-Language', 'X-HTTP-Method-Override', 'X-Requested-With', 'Sec-Fetch-Site',
  // Resumable uploads (tus 1.0).
  'Tus-Resumable', 'Upload-Offset', 'Upload-Length', 'Upload-Metadata', 'Upload-Defer-Length', 'Upload-Concat',
];
const OTHER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY', 'PROPFIND', 'FOO', 'get', 'CONNECT'];

const refArb: fc.Arbitrary<Value> = fc.record({ ref: fc.constantFrom(...REFS), pick: fc.nat(1000) });
const bytesArb: fc.Arbitrary<Value> = hostileBytes().map((bytes) => ({ bytes }));
const valueArb = (refWeight: number): fc.Arbitrary<Value> => fc.oneof({ arbitrary: refArb, weight: refWeight }, { arbitrary: bytesArb, weight: 10 - refWeight });
/** Path parameters: mostly ids of real objects (own and foreign), else anything. */
const paramArb: fc.Arbitrary<Value> = fc.oneof(
  { arbitrary: fc.record({ ref: fc.constantFrom<Ref>('ownId', 'ownId', 'ownId', 'otherId', 'otherId', 'preset', 'preset', 'uuid', 'static'), pick: fc.nat(1000) }), weight: 1 },
  { arbitrary: valueArb(2), weight: 1 },
);
const fieldNameArb: fc.Arbitrary<Value> = fc.oneof(
  { arbitrary: fc.nat(1000).map((pick): Value => ({ ref: 'field', pick })), weight: 8 },
  { arbitrary: bytesArb, weight: 2 },
);
const fieldsArb = fc.array(fc.tuple(fieldNameArb, valueArb(3)), { maxLength: 6 });

const jsonArb: fc.Arbitrary<JsonNode> = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
    { arbitrary: valueArb(3).map((str): JsonNode => ({ str })), weight: 5 },
    { arbitrary: fc.constantFrom('0', '-0', '1e999', '-1e999', '1.5', '12345678901234567890', 'true', 'false', 'null', '"\\ud800"', '"\\udc00x\\ud800"', '"a\\u0000b"', '"\\u202e"', '[]', '{}').map((text): JsonNode => ({ text })), weight: 3 },
    { arbitrary: fc.array(tie('node'), { maxLength: 4 }).map((arr): JsonNode => ({ arr })), weight: 1 },
    { arbitrary: fc.array(fc.tuple(fc.oneof(fieldNameArb, fc.constantFrom<Value>({ bytes: new TextEncoder().encode('__proto__') }, { bytes: new TextEncoder().encode('constructor') })), tie('node')), { maxLength: 5 }).map((obj): JsonNode => ({ obj })), weight: 3 },
    { arbitrary: fc.constantFrom(100, 5_000, 100_000).map((deep): JsonNode => ({ deep })), weight: 1 },
  ),
})).node;

const contentArb: fc.Arbitrary<Content> = fc.oneof(
  { arbitrary: fc.constant<Content>('wav'), weight: 4 },
  { arbitrary: fc.constantFrom<Content>('empty', 'over-limit'), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Content => ({ bytes })), weight: 2 },
);
const partArb: fc.Arbitrary<Part> = fc.oneof(
  { arbitrary: fc.record({ field: fieldNameArb, value: valueArb(3), raw: fc.boolean() }), weight: 5 },
  {
    arbitrary: fc.record(
      { fileField: fc.oneof({ arbitrary: fc.constant<'file'>('file'), weight: 4 }, { arbitrary: fieldNameArb, weight: 1 }), filename: valueArb(1), filenameStar: valueArb(1), type: valueArb(1), content: contentArb, raw: fc.boolean() },
      { requiredKeys: ['fileField', 'content', 'raw'] },
    ),
    weight: 4,
  },
  { arbitrary: fc.uint8Array({ maxLength: 40 }).map((bare): Part => ({ bare })), weight: 1 },
);

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { arbitrary: fc.constant<Body>({ kind: 'none' }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('form' as const), fields: fieldsArb, encoding: encodingArb }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('json' as const), root: jsonArb, rawStrings: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('broken-json' as const), prefix: fc.constantFrom('', '{', '{"username":', '["', '\ufeff{}', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}"), tail: fc.uint8Array({ maxLength: 16 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('multipart' as const),
      parts: fc.array(partArb, { maxLength: 5 }),
      boundary: fc.constantFrom<'ok' | 'missing' | 'other'>('ok', 'ok', 'ok', 'ok', 'missing', 'other'),
      closing: fc.constantFrom(true, true, true, false),
      preamble: fc.boolean(),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: hostileBytes() }), weight: 1 },
);

/**
 * Bodies shaped like what the route takes (its form's or its API description's fields, in its
 * media type), with hostile values: these get past "wrong media type" and "missing field" into
 * the code that uses the values.
 */
function hintedBodyArb(hint: BodyHint): fc.Arbitrary<Body> {
  const fields = hint.fields.filter((f) => f !== 'file' && f !== '_csrf');
  const name = fields.length > 0 ? fc.constantFrom(...fields).map((f): Value => ({ bytes: enc.encode(f) })) : fieldNameArb;
  const pairs = fc.array(fc.tuple(name, valueArb(5)), { maxLength: fields.length + 2 });
  const shapes: fc.Arbitrary<Body>[] = hint.kinds.map((kind) => {
    if (kind === 'form') return fc.record({ kind: fc.constant('form' as const), fields: pairs, encoding: fc.constant<Encoding>('pct') });
    if (kind === 'json') {
      const node = fc.oneof({ arbitrary: valueArb(5).map((str): JsonNode => ({ str })), weight: 4 }, { arbitrary: jsonArb, weight: 1 });
      const obj = fc.array(fc.tuple(name, node), { maxLength: fields.length + 2 }).map((entries): JsonNode => ({ obj: entries }));
      return fc.record({ kind: fc.constant('json' as const), root: obj, rawStrings: fc.constant(false) });
    }
    const file = fc.record({ fileField: fc.constant('file' as const), filename: valueArb(3), content: contentArb, raw: fc.constant(false) });
    return fc
      .tuple(pairs, fc.array(file, { minLength: 1, maxLength: 2 }))
      .map(([fieldPairs, files]): Body => ({
        kind: 'multipart',
        parts: [...fieldPairs.map(([field, value]): Part => ({ field, value, raw: false })), ...files],
        boundary: 'ok',
        closing: true,
        preamble: false,
      }));
  });
  return fc.oneof(...shapes);
}

/**
 * Requests for one route. Most are well-formed HTTP carrying hostile values, so that they get
 * past the HTTP parser and the router into the handlers; one in five also breaks the transport
 * (other methods and versions, raw bytes in the request line and headers, odd Host headers,
 * absolute and asterisk request-targets, hostile header names), which the parser or the
 * framework must refuse cleanly. `hint` (what the route's form or API description says it
 * takes) shapes most bodies.
 */
export function requestArb(route: Route, hint: BodyHint | undefined): fc.Arbitrary<RequestSpec> {
  const body = hint ? fc.oneof({ arbitrary: hintedBodyArb(hint), weight: 3 }, { arbitrary: bodyArb, weight: 1 }) : bodyArb;
  return fc.oneof({ arbitrary: specArb(route, false, body), weight: 4 }, { arbitrary: specArb(route, true, body), weight: 1 });
}

function specArb(route: Route, transport: boolean, body: fc.Arbitrary<Body>): fc.Arbitrary<RequestSpec> {
  const plain = <T>(value: T, weight: number) => ({ arbitrary: fc.constant(value), weight });
  const knownMethod = fc.nat(route.methods.length - 1).map((known) => ({ known }));
  const appStyles = fc.constantFrom('dots' as const, 'double-slash' as const, 'trailing-slash' as const, 'upper' as const, 'encoded-letter' as const);
  const urlEncoding: fc.Arbitrary<Encoding> = transport ? encodingArb : fc.oneof(plain<Encoding>('pct', 3), plain<Encoding>('mostly-raw', 1));
  return fc.record({
    method: transport ? fc.oneof({ arbitrary: knownMethod, weight: 1 }, { arbitrary: fc.constantFrom(...OTHER_METHODS).map((other) => ({ other })), weight: 1 }) : knownMethod,
    version: transport ? fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', 'http/1.1', 'HTTP/1.1 ') : fc.constant('HTTP/1.1'),
    target: fc.record({
      style: transport
        ? fc.constantFrom('origin' as const, 'absolute' as const, 'asterisk' as const)
        : fc.oneof(plain('origin' as const, 20), { arbitrary: appStyles, weight: 2 }),
      params: fc.array(paramArb, { minLength: route.params.length, maxLength: route.params.length }),
      encoding: urlEncoding,
    }),
    query: fc.array(fc.tuple(fieldNameArb, valueArb(3)), { maxLength: 4 }).chain((pairs) =>
      // Repeat a name now and then: a=1&a=2 turns a string field into an array.
      fc.boolean().map((dup) => (dup && pairs[0] ? [...pairs, pairs[0]] : pairs)),
    ),
    queryEncoding: urlEncoding,
    cookie: fc.oneof(plain('session' as const, 5), plain('none' as const, 3), plain('tampered' as const, 1), plain('twice' as const, 1), { arbitrary: valueArb(2).map((hostile) => ({ hostile })), weight: 1 }),
    authorization: fc.oneof(
      plain('none' as const, 4),
      plain('bearer' as const, 5),
      { arbitrary: fc.record({ scheme: fc.constantFrom('Bearer ', 'bearer ', 'Bearer  ', 'Basic ', '', 'Bearer\t', 'Bearer rp_'), value: valueArb(2), raw: fc.constant(transport) }), weight: 1 },
    ),
    csrf: fc.record({
      value: fc.oneof(plain('valid' as const, 6), plain('none' as const, 2), plain('foreign' as const, 1), { arbitrary: valueArb(2), weight: 1 }),
      where: fc.constantFrom('header' as const, 'body' as const, 'query' as const),
    }),
    host: transport ? fc.oneof(plain('normal' as const, 1), plain('missing' as const, 1), plain('twice' as const, 1), { arbitrary: valueArb(0), weight: 2 }) : fc.constant('normal' as const),
    headers: fc.array(
      fc.record({
        name: fc.oneof(
          { arbitrary: fc.constantFrom(...HEADER_NAMES), weight: 8 },
          { arbitrary: fc.nat(1000).map((pick): Value => ({ ref: 'header', pick })), weight: 2 },
          ...(transport ? [{ arbitrary: bytesArb, weight: 10 }] : []),
        ),
        value: valueArb(1),
        raw: fc.constant(transport),
      }),
      { maxLength: 4 },
    ),
    body,
    contentType: fc.oneof(plain('matching' as const, 16), plain('none' as const, 1), { arbitrary: valueArb(0), weight: 1 }),
    chunked: fc.oneof(plain(false as const, 9), { arbitrary: fc.integer({ min: 1, max: 4096 }), weight: 1 }),
  });
}

// ——— building the bytes ———

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
      return enc.encode(from(world.staticFiles, 'app.css'));
    case 'field':
      return enc.encode(from(world.fieldNames, 'name'));
    case 'header':
      return enc.encode(from(world.headerNames, 'X-Fuzz'));
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
