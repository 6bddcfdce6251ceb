/**
 * The server's vocabulary, read from the server itself so that new routes and fields are
 * picked up without edits here: field names and acceptable example values from its pages'
 * forms and from its OpenAPI document, header names, static assets, and per route the body it
 * takes ("hints"), so that most fuzzed bodies have the right shape and carry hostile values
 * where they matter.
 */
import { PASSWORD, type BrowserSession } from './fuzz-browser.ts';
import type { Route } from './fuzz-routes.ts';

export type BodyKind = 'form' | 'json' | 'multipart';
export interface BodyHint {
  kinds: BodyKind[];
  fields: string[];
  /** Values the server would accept for a field, so that hostile values elsewhere get further. */
  examples: Record<string, unknown[]>;
}

export interface Vocabulary {
  /** Form, JSON and query field names the server uses. */
  fieldNames: string[];
  /** Request headers its API description names. */
  headerNames: string[];
  /** Static assets its pages link to, relative to /static/. */
  staticFiles: string[];
  /** What each "METHOD /pattern" takes, from its form or its API description. */
  hints: Map<string, BodyHint>;
}

/** Never resolves (RFC 2606), so a webhook the fuzz test creates sends nothing anywhere. */
const EXAMPLE_URL = 'https://hooks.invalid/reprise';

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (isRecord(value)) {
    visit(value);
    Object.values(value).forEach((v) => walk(v, visit));
  }
}

/** The route pattern a concrete path belongs to ("/files/3f…/delete" → "/files/:id/delete"). */
function patternOf(routes: Route[], method: string, path: string): string | undefined {
  const escape = (t: string) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return routes.find((r) => r.methods.includes(method) && new RegExp(`^${r.path.split(/(:[A-Za-z0-9_]+|\*)/).map((p) => (p === '*' ? '.*' : p.startsWith(':') ? '[^/]+' : escape(p))).join('')}$`).test(path))?.path;
}

function addHint(hints: Map<string, BodyHint>, key: string, kind: BodyKind, examples: Record<string, unknown[]>): void {
  const hint = hints.get(key) ?? { kinds: [], fields: [], examples: {} };
  if (!hint.kinds.includes(kind)) hint.kinds.push(kind);
  for (const [field, values] of Object.entries(examples)) hint.examples[field] = [...(hint.examples[field] ?? []), ...values];
  hint.fields = Object.keys(hint.examples).sort();
  hints.set(key, hint);
}

/** Acceptable values for a form control, from its type, value, bounds and options. */
function formExamples(html: string): Record<string, unknown[]> {
  const examples: Record<string, unknown[]> = {};
  const add = (name: string, value: unknown) => (examples[name] ??= []).push(value);
  for (const m of html.matchAll(/<(input|textarea|button)\b([^>]*)>/g)) {
    const attrs = m[2] ?? '';
    const name = /\bname="([^"]+)"/.exec(attrs)?.[1];
    if (!name) continue;
    const type = /\btype="([^"]+)"/.exec(attrs)?.[1] ?? 'text';
    const value = /\bvalue="([^"]*)"/.exec(attrs)?.[1];
    if (name === '_csrf') continue; // sent separately, valid or not
    if (type === 'url') add(name, EXAMPLE_URL);
    else if (type === 'password') add(name, PASSWORD);
    else if (type === 'number') add(name, /\bmin="([^"]+)"/.exec(attrs)?.[1] ?? '1');
    else if (value) add(name, value);
    else add(name, 'fuzz');
  }
  for (const m of html.matchAll(/<select\b[^>]*\bname="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    for (const o of (m[2] ?? '').matchAll(/<option\b[^>]*\bvalue="([^"]*)"/g)) add(m[1] ?? '', o[1]);
  }
  return examples;
}

/** Acceptable values for a schema: its enum, a URL for a URI, both booleans, its bounds. */
function schemaExamples(schema: unknown): unknown[] {
  if (!isRecord(schema)) return [];
  if (Array.isArray(schema.enum)) return schema.enum;
  if (schema.const !== undefined) return [schema.const];
  if (schema.type === 'array') {
    const items = schemaExamples(schema.items);
    return [[], items.slice(0, 1), items];
  }
  if (schema.type === 'boolean') return [true, false];
  if (schema.type === 'integer' || schema.type === 'number') return [schema.minimum ?? 1, schema.maximum ?? 30];
  if (schema.format === 'uri' || schema.format === 'url') return [EXAMPLE_URL];
  if (schema.type === 'string') return ['fuzz', ...(typeof schema.minLength === 'number' ? ['f'.repeat(schema.minLength)] : [])];
  return [];
}

/**
 * The server's vocabulary. Pages: every page a signed-in browser can open (GET routes outside
 * the API, ":id" set to a real file) gives its forms — action, encoding and field names — and
 * static asset links. API: the OpenAPI document gives request bodies (media types, properties,
 * following $refs), query and header parameters.
 */
export async function learnVocabulary(base: string, routes: Route[], browser: BrowserSession, fileId: string): Promise<Vocabulary> {
  const hints = new Map<string, BodyHint>();
  const names = new Set<string>(['_csrf']);
  const headers = new Set<string>();
  const statics = new Set<string>();
  const pages = routes.filter((r) => r.methods.includes('GET') && !r.path.startsWith('/api/') && !r.params.includes('*') && r.params.every((p) => p === 'id'));
  for (const page of pages) {
    const { text } = await browser.request(page.path.replace(':id', fileId));
    for (const m of text.matchAll(/(?:href|src)="\/static\/([^"?#]+)"/g)) statics.add(m[1] ?? '');
    for (const form of text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
      const attrs = form[1] ?? '';
      const examples = formExamples(form[2] ?? '');
      Object.keys(examples).forEach((f) => names.add(f));
      const method = (/\bmethod="([^"]+)"/.exec(attrs)?.[1] ?? 'get').toUpperCase();
      const action = (/\baction="([^"]*)"/.exec(attrs)?.[1] ?? page.path).split('?')[0] ?? '';
      const pattern = patternOf(routes, method, action);
      if (pattern) addHint(hints, `${method} ${pattern}`, /multipart\/form-data/.test(attrs) ? 'multipart' : 'form', examples);
    }
  }

  const openapi = routes.find((r) => r.path.endsWith('/openapi.json'));
  if (openapi) {
    const doc: unknown = await (await fetch(`${base}${openapi.path}`)).json();
    const resolve = (node: unknown, seen = new Set<string>()): unknown => {
      if (!isRecord(node) || typeof node.$ref !== 'string' || seen.has(node.$ref)) return node;
      seen.add(node.$ref);
      let target: unknown = doc;
      for (const key of node.$ref.replace(/^#\//, '').split('/')) target = isRecord(target) ? target[key] : undefined;
      return resolve(target, seen);
    };
    /** A schema's properties with example values, following $refs and allOf/oneOf/anyOf. */
    const properties = (schema: unknown): [string, unknown[]][] => {
      const s = resolve(schema);
      if (!isRecord(s)) return [];
      const own = isRecord(s.properties) ? Object.entries(s.properties).map(([k, v]): [string, unknown[]] => [k, schemaExamples(resolve(v))]) : [];
      const combined = ['allOf', 'oneOf', 'anyOf'].flatMap((k) => (Array.isArray(s[k]) ? (s[k] as unknown[]).flatMap(properties) : []));
      return [...own, ...combined];
    };
    const prefix = isRecord(doc) && Array.isArray(doc.servers) && isRecord(doc.servers[0]) && typeof doc.servers[0].url === 'string' ? doc.servers[0].url : '';
    const paths = isRecord(doc) && isRecord(doc.paths) ? doc.paths : {};
    for (const [apiPath, item] of Object.entries(paths)) {
      if (!isRecord(item)) continue;
      const pattern = `${prefix}${apiPath.replace(/\{([^}]+)\}/g, ':$1')}`;
      const parameters = [item.parameters, ...Object.values(item).map((op) => (isRecord(op) ? op.parameters : undefined))].flatMap((p) => (Array.isArray(p) ? p : [])).map((p) => resolve(p));
      for (const p of parameters) {
        if (isRecord(p) && typeof p.name === 'string' && p.in === 'query') names.add(p.name);
        if (isRecord(p) && typeof p.name === 'string' && p.in === 'header') headers.add(p.name);
      }
      for (const [method, op] of Object.entries(item)) {
        const body = isRecord(op) ? resolve(op.requestBody) : undefined;
        const content = isRecord(body) && isRecord(body.content) ? body.content : {};
        for (const [type, media] of Object.entries(content)) {
          const kind: BodyKind | undefined = type.includes('json') ? 'json' : type.includes('multipart') ? 'multipart' : type.includes('urlencoded') ? 'form' : undefined;
          const fields = properties(isRecord(media) ? media.schema : undefined);
          fields.forEach(([f]) => names.add(f));
          if (kind) addHint(hints, `${method.toUpperCase()} ${pattern}`, kind, Object.fromEntries(fields));
        }
      }
    }
  }
  // Read by the event stream but not in the API description.
  names.add('lastEventId');
  names.delete('');
  return { fieldNames: [...names].sort(), headerNames: [...headers].sort(), staticFiles: [...statics].sort(), hints };
}

/** What the route's methods take, merged: most routes take a body on one method only. */
export function hintFor(vocabulary: Vocabulary, route: Route): BodyHint | undefined {
  const hints = route.methods.flatMap((m) => vocabulary.hints.get(`${m} ${route.path}`) ?? []);
  if (hints.length === 0) return undefined;
  const merged: BodyHint = { kinds: [], fields: [], examples: {} };
  for (const h of hints) {
    merged.kinds = [...new Set([...merged.kinds, ...h.kinds])];
    for (const [f, values] of Object.entries(h.examples)) merged.examples[f] = [...(merged.examples[f] ?? []), ...values];
  }
  merged.fields = Object.keys(merged.examples).sort();
  return merged;
}
