/**
 * Fuzzing every route of a real server with hostile requests written as raw bytes: controls,
 * CR/LF and NUL, invalid UTF-8, non-Latin-1 text, over-long values, wrong types, path tricks,
 * broken bodies, forged or missing credentials. Whatever arrives, the server must answer within
 * the time limit with a status below 500 (and redirect only within the site), no exception may
 * escape its handlers, Object.prototype stays clean, /healthz keeps answering, and at the end
 * nothing is half-made: no temporary leftovers, no row without its blob, no blob without its row.
 *
 * Seeded and reproducible: FUZZ_SEED (base seed), FUZZ_RUNS (requests per route), FUZZ_ROUTE
 * (only the route with this exact pattern) and FUZZ_PATH (fast-check's counterexample path)
 * replay a reported failure. Replays regenerate the same request; ids and tokens are those of
 * the new server, and the exact bytes of the failing request are saved to a file as well.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { describeBytes, exchange, saveRequest, type Outcome } from './helpers/fuzz-http.ts';
import { halfMade, waitForIdleJobs } from './helpers/fuzz-leftovers.ts';
import { buildRequest } from './helpers/fuzz-build.ts';
import { requestArb, type RequestSpec } from './helpers/fuzz-requests.ts';
import { routeTable, type Route } from './helpers/fuzz-routes.ts';
import { hintFor } from './helpers/fuzz-vocabulary.ts';
import { buildWorld, ensureIdentities, ensureOwnFile, type World } from './helpers/fuzz-world.ts';
import { startServer } from './helpers/server.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
/**
 * Requests for the whole file when FUZZ_RUNS (per route) is not given: about 10 ms each, so about
 * 60 s however many routes there are (CI allows 90 s for this file).
 */
const TOTAL_REQUESTS = 5_000;
const ONLY_ROUTE = process.env.FUZZ_ROUTE;
// A counterexample path belongs to one route's property.
const REPLAY_PATH = ONLY_ROUTE === undefined ? undefined : process.env.FUZZ_PATH;
/** A request without a response head by then is a hang. */
const HANG_MS = 10_000;
/** Shrinking re-sends requests; past this much time after a route's first failure, keep what we have. */
const SHRINK_BUDGET_MS = 15_000;
/** …and once shrinking has taken this long in all, later failures are reported unshrunk. */
const TOTAL_SHRINK_BUDGET_MS = 60_000;
const HEALTH_EVERY = 25;

// Routes are read from the running server, so tests can only be declared once it is up.
const srv = await startServer({
  // Trust one proxy hop: X-Forwarded-For then feeds request.ip and the per-address limits.
  TRUST_PROXY: '1',
  // Small enough that the fuzz test can send an over-limit upload cheaply.
  MAX_UPLOAD_BYTES: String(256 * 1024),
});
const routes: Route[] = routeTable(srv.server);
const RUNS = Number(process.env.FUZZ_RUNS ?? Math.min(200, Math.max(40, Math.round(TOTAL_REQUESTS / routes.length))));

/** Seeds differ per route (so routes do not all see the same values) but follow FUZZ_SEED. */
const routeSeed = (route: Route) => (SEED ^ createHash('sha256').update(route.path).digest().readInt32LE(0)) | 0;

class FuzzFailure extends Error {}

describe(`fuzz: hostile requests on every route (FUZZ_SEED=${SEED}, ${RUNS} runs per route)`, () => {
  let world: World;
  let sent = 0;
  let shrinkingMs = 0;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).join();
  // An exception that escapes every handler would end a real server: here it is recorded and
  // blamed on the request in flight.
  const escaped: unknown[] = [];
  const record = (err: unknown) => escaped.push(err);

  before(async () => {
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    world = await buildWorld(srv, routes);
  });
  after(async () => {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
    await srv.close();
  });

  async function healthy(): Promise<string | undefined> {
    const outcome = await exchange(world.port, Buffer.from(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`), HANG_MS);
    return outcome.kind === 'response' && outcome.status === 200 ? undefined : `GET /healthz did not answer 200 (${summary(outcome)})`;
  }

  /** Sends one request and throws a FuzzFailure that says how to reproduce it if anything is wrong. */
  async function probe(route: Route, spec: RequestSpec, saveAs: string): Promise<void> {
    const bytes = buildRequest(route, spec, world);
    const escapedBefore = escaped.length;
    const outcome = await exchange(world.port, bytes, HANG_MS);
    let problem: string | undefined;
    if (outcome.kind !== 'response') problem = `no response: ${summary(outcome)}`;
    // 503/507 mean "storage or database unavailable/full": neither is true here, so they are bugs too.
    else if (outcome.status >= 500) problem = `answered ${outcome.statusLine}`;
    else if (offSite(outcome)) problem = `answered ${outcome.statusLine} redirecting off the site: Location: ${offSite(outcome)}`;
    if (escaped.length > escapedBefore) problem = `an exception escaped every handler (the process would exit): ${String(escaped[escapedBefore])}`;
    if (Object.getOwnPropertyNames(Object.prototype).join() !== prototypeKeys) problem = `Object.prototype was polluted: ${Object.getOwnPropertyNames(Object.prototype).join()}`;
    if (!problem && ++sent % HEALTH_EVERY === 0) problem = await healthy();
    // Only a request that succeeded can have signed us out or revoked our token.
    const changed = outcome.kind === 'response' && outcome.status < 400 && !/^(GET|HEAD) /.test(bytes.toString('latin1', 0, 5));
    await ensureIdentities(srv, world, changed).catch((err: unknown) => {
      problem ??= `afterwards the test could not sign in again: ${String(err)}`;
    });
    if (!problem) return;
    const file = saveRequest(saveAs, bytes);
    throw new FuzzFailure(
      `${problem}\nrequest (${bytes.length} bytes; exact bytes in ${file}, replay with: nc 127.0.0.1 ${world.port} < ${file}):\n${describeBytes(bytes)}`,
    );
  }

  for (const route of routes) {
    const name = `${route.methods.join(',')} ${route.path}`;
    it(name, { skip: ONLY_ROUTE !== undefined && ONLY_ROUTE !== route.path }, async () => {
      await ensureOwnFile(srv, world);
      const saveAs = path.join(os.tmpdir(), `reprise-fuzz-${route.path.replace(/[^A-Za-z0-9]+/g, '_')}.http`);
      let firstFailureAt: number | undefined;
      const property = fc.asyncProperty(requestArb(route, hintFor(world.vocabulary, route)), async (spec) => {
        // Out of shrinking time: report every further candidate as passing, so fast-check stops
        // with the smallest failing request found so far.
        if (firstFailureAt !== undefined && Date.now() - firstFailureAt > SHRINK_BUDGET_MS) return;
        try {
          await probe(route, spec, saveAs);
        } catch (err) {
          firstFailureAt ??= Date.now();
          throw err;
        }
      });
      const seed = routeSeed(route);
      const details = await fc.check(property, {
        seed,
        numRuns: RUNS,
        endOnFailure: shrinkingMs > TOTAL_SHRINK_BUDGET_MS,
        ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}),
      });
      if (firstFailureAt !== undefined) shrinkingMs += Date.now() - firstFailureAt;
      if (details.failed) {
        const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        assert.fail(
          `${name}: ${error}\n` +
            `(failed after ${details.numRuns} requests, shrunk ${details.numShrinks} times)\n` +
            `replay: FUZZ_SEED=${SEED} FUZZ_ROUTE='${route.path}' FUZZ_PATH='${details.counterexamplePath}' node --import tsx --test test/fuzz.test.ts`,
        );
      }
      assert.equal(await healthy(), undefined);
    });
  }

  it('leaves nothing half-made, and the foreign file untouched', { skip: ONLY_ROUTE !== undefined }, async () => {
    await waitForIdleJobs(srv);
    assert.deepEqual(await halfMade(srv), []);
    const foreign = await srv.app.deps.store.files.findForUser(world.foreign.userId, world.foreign.fileId);
    assert.equal(foreign?.status, 'completed', 'the other user\'s file must survive every request of the fuzzed user');
    assert.equal(await healthy(), undefined);
  });
});

/** A redirect must stay on this site: hostile next= values are what open redirects are made of. */
function offSite(outcome: Extract<Outcome, { kind: 'response' }>): string | undefined {
  if (outcome.status < 300 || outcome.status > 399) return undefined;
  const location = outcome.headers.find(([name]) => name === 'location')?.[1];
  // One leading "/" and then not a second "/" or "\" (protocol-relative), no controls or spaces.
  return location === undefined || /^\/(?![/\\])[\x21-\x7e]*$/.test(location) ? undefined : location;
}

function summary(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'response':
      return `${outcome.statusLine} after ${outcome.ms} ms`;
    case 'hang':
      return `nothing within ${outcome.ms} ms (hang)${outcome.received.length ? `; got ${JSON.stringify(outcome.received.subarray(0, 200).toString('latin1'))}` : ''}`;
    case 'reset':
      return `connection ${outcome.error} after ${outcome.ms} ms${outcome.received.length ? `; got ${JSON.stringify(outcome.received.subarray(0, 200).toString('latin1'))}` : ' before any byte'}`;
    case 'malformed':
      return `not an HTTP response: ${JSON.stringify(outcome.received.subarray(0, 200).toString('latin1'))}`;
  }
}
