/**
 * Requests for the fuzz test, as fast-check generates them: a description (which method, which
 * values where, which identity) that fuzz-build.ts turns into bytes against the live server
 * (current session cookie and CSRF token, ids that exist right now). Descriptions stay small
 * and shrinkable; the bytes are what a failure prints.
 */
import fc from 'fast-check';
import type { Route } from './fuzz-routes.ts';
import { encodingArb, hostileBytes, type Encoding } from './fuzz-values.ts';
import type { BodyHint } from './fuzz-vocabulary.ts';

const enc = new TextEncoder();

/** Something the server knows, looked up when the request is built. */
export type Ref = 'ownId' | 'otherId' | 'uuid' | 'preset' | 'static' | 'field' | 'header' | 'username' | 'password' | 'freshUsername' | 'csrf' | 'foreignCsrf' | 'bearer';
export type Value = { ref: Ref; pick: number } | { bytes: Uint8Array };

export type JsonNode =
  | { str: Value }
  /** Verbatim JSON text: lone surrogates and NUL as \u escapes, odd numbers. */
  | { text: string }
  | { arr: JsonNode[] }
  | { obj: [Value, JsonNode][] }
  /** Arrays nested this deep. */
  | { deep: number };

export type Content = 'wav' | 'empty' | 'over-limit' | { bytes: Uint8Array };
export type Part =
  | { field: Value; value: Value; raw: boolean }
  | { fileField: Value | 'file'; filename?: Value; filenameStar?: Value; type?: Value; content: Content; raw: boolean }
  | { bare: Uint8Array };

export type Body =
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
    { arbitrary: fc.array(fc.tuple(fc.oneof(fieldNameArb, fc.constantFrom<Value>({ bytes: enc.encode('__proto__') }, { bytes: enc.encode('constructor') })), tie('node')), { maxLength: 5 }).map((obj): JsonNode => ({ obj })), weight: 3 },
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
  const fields = hint.fields.filter((f) => f !== 'file');
  const asText = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));
  /** A field of the route with an acceptable value or a hostile one. */
  const entry = <T>(accepted: (v: unknown) => T, hostile: fc.Arbitrary<T>): fc.Arbitrary<[Value, T]> =>
    fields.length === 0
      ? fc.tuple(fieldNameArb, hostile)
      : fc.constantFrom(...fields).chain((f) => {
          const examples = hint.examples[f] ?? [];
          const value = examples.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...examples).map(accepted), weight: 3 }, { arbitrary: hostile, weight: 2 }) : hostile;
          return fc.tuple(fc.constant<Value>({ bytes: enc.encode(f) }), value);
        });
  const textEntries = fc.array(entry((v): Value => ({ bytes: enc.encode(asText(v)) }), valueArb(5)), { maxLength: fields.length + 2 });
  const shapes: fc.Arbitrary<Body>[] = hint.kinds.map((kind) => {
    if (kind === 'form') return fc.record({ kind: fc.constant('form' as const), fields: textEntries, encoding: fc.constant<Encoding>('pct') });
    if (kind === 'json') {
      const hostile = fc.oneof({ arbitrary: valueArb(5).map((str): JsonNode => ({ str })), weight: 4 }, { arbitrary: jsonArb, weight: 1 });
      const obj = fc.array(entry((v): JsonNode => ({ text: JSON.stringify(v) }), hostile), { maxLength: fields.length + 2 }).map((entries): JsonNode => ({ obj: entries }));
      return fc.record({ kind: fc.constant('json' as const), root: obj, rawStrings: fc.constant(false) });
    }
    const file = fc.record({ fileField: fc.constant('file' as const), filename: valueArb(3), content: contentArb, raw: fc.constant(false) });
    return fc
      .tuple(textEntries, fc.array(file, { minLength: 1, maxLength: 2 }))
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
