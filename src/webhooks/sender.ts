import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { WebhookSender, WebhookSendResult } from '../domain/ports.ts';
import { isForbiddenAddress } from './address-guard.ts';

/** Receivers answer with a status; their bodies are not ours to keep. Read at most this much. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class WebhookRefused extends Error {}

/**
 * A resolver that refuses forbidden addresses after resolution, so the check applies to the
 * address the socket actually connects to (a hostname that later resolves to 127.0.0.1 —
 * DNS rebinding — is caught here, not only at creation).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = allowPrivate ? addresses : addresses.filter((a) => !isForbiddenAddress(a.address));
      const first = allowed[0];
      if (!first) return callback(new WebhookRefused(`${hostname} resolves only to addresses webhooks may not reach`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * POSTs webhook bodies with node:http/https (Node's fetch cannot take a lookup hook): no
 * redirects followed, a whole-request timeout, only http and https, and the SSRF guard.
 */
export function createWebhookSender(opts: { allowPrivate: boolean }): WebhookSender {
  const lookup = guardedLookup(opts.allowPrivate);
  return {
    send({ url, headers, body, timeoutMs }) {
      return new Promise<WebhookSendResult>((resolve, reject) => {
        const target = new URL(url);
        if (target.protocol !== 'http:' && target.protocol !== 'https:') return reject(new WebhookRefused('only http and https URLs are delivered'));
        const host = target.hostname.replace(/^\[|\]$/g, '');
        // A literal address never goes through `lookup`, so it is checked here.
        if (isIP(host) && !opts.allowPrivate && isForbiddenAddress(host)) return reject(new WebhookRefused(`${host} is an address webhooks may not reach`));
        const started = Date.now();
        const client = target.protocol === 'https:' ? https : http;
        const request = client.request(target, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Reprise-Webhooks/1' },
          lookup,
          agent: false,
          timeout: timeoutMs,
        });
        const timer = setTimeout(() => request.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
        request.on('timeout', () => request.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
        request.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        request.on('response', (response) => {
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) response.destroy();
          });
          const done = () => {
            clearTimeout(timer);
            const retryAfter = Number(response.headers['retry-after']);
            resolve({
              status: response.statusCode ?? 0,
              retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
              durationMs: Date.now() - started,
            });
          };
          response.on('end', done);
          response.on('close', done);
        });
        request.end(body);
      });
    },
  };
}
