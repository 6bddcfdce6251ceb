/**
 * The route table, read from Fastify itself so that a route added tomorrow is fuzzed tomorrow.
 * Fastify 5 exposes no list of routes once a server is built, only `printRoutes()` — a tree
 * whose node labels, joined from the root, spell each path. Every path parsed here is checked
 * against `hasRoute()`, so a change in the tree's format fails loudly instead of fuzzing nothing.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify';

export interface Route {
  /** The pattern as registered: "/api/v1/files/:id", "/static/*". */
  path: string;
  methods: string[];
  /** Parameter names in order; "*" for a wildcard. */
  params: string[];
}

const NODE = /^((?:│ {3}| {4})*)[├└]── (.*)$/;
const LABEL = /^(.*?)(?: \(([A-Z]+(?:, [A-Z]+)*)\)(?: .*)?)?$/;

export function routeTable(server: FastifyInstance): Route[] {
  const byPath = new Map<string, Set<string>>();
  const prefixes: string[] = [];
  for (const line of server.printRoutes().split('\n')) {
    const node = NODE.exec(line);
    if (!node) continue;
    const depth = (node[1] ?? '').length / 4;
    const label = LABEL.exec(node[2] ?? '');
    prefixes.length = depth;
    prefixes.push(label?.[1] ?? '');
    const methods = label?.[2]?.split(', ');
    if (!methods) continue;
    const path = prefixes.join('');
    const set = byPath.get(path) ?? new Set<string>();
    methods.forEach((m) => set.add(m));
    byPath.set(path, set);
  }

  const routes = [...byPath].map(([path, methods]) => ({
    path,
    methods: [...methods].sort(),
    params: [...path.matchAll(/:([A-Za-z0-9_]+)|\*/g)].map((m) => m[1] ?? '*'),
  }));
  for (const route of routes) {
    for (const method of route.methods) {
      if (!server.hasRoute({ method: method as HTTPMethods, url: route.path })) {
        throw new Error(`route table parsed from printRoutes() is wrong: ${method} ${route.path} is not a route`);
      }
    }
  }
  if (!routes.some((r) => r.path === '/healthz')) throw new Error(`could not parse printRoutes():\n${server.printRoutes()}`);
  return routes;
}
