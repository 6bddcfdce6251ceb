/**
 * API bearer tokens: `rp_` and 43 random base64url characters. Only a SHA-256 hash is stored, so
 * the token is shown once, when it is made; afterwards people recognise it by its name and its
 * first characters (the prefix). Revoking deletes the row, so there is nothing left to match.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AppError, notFound } from '../errors.ts';
import { cleanText } from './names.ts';
import type { ApiToken, Deps } from './ports.ts';

export type TokenDeps = Pick<Deps, 'store' | 'now' | 'newId'>;

/** What GET /tokens and the settings page show: never the token or its hash. */
export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  /** Expired tokens stay listed (and revocable) but answer 401. */
  expired: boolean;
  readOnly: boolean;
}

/** A token just made: the only moment the token itself is known. */
export interface NewToken extends TokenView {
  token: string;
}

/** What the bearer of a token may do. */
export interface TokenGrant {
  tokenId: string;
  userId: string;
  readOnly: boolean;
}

/** Long enough to tell tokens apart at a glance ("rp_" and 7 of 43 random characters). */
export const PREFIX_LENGTH = 10;
export const MAX_NAME_LENGTH = 100;
export const MAX_EXPIRY_DAYS = 3650;
const DAY_MS = 86_400_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toView(t: ApiToken, now: number): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: new Date(t.createdAt).toISOString(),
    lastUsedAt: iso(t.lastUsedAt),
    expiresAt: iso(t.expiresAt),
    expired: t.expiresAt !== null && t.expiresAt <= now,
    readOnly: t.readOnly,
  };
}

export interface TokenInput {
  name?: unknown;
  expiresInDays?: unknown;
  readOnly?: unknown;
}

/** Checks what a person asked for; a 422 names the field that is wrong. */
export function parseTokenInput(input: TokenInput): { name: string; expiresInDays: number | null; readOnly: boolean } {
  const name = typeof input.name === 'string' ? cleanText(input.name) : '';
  // Code points, not UTF-16 units: an emoji counts once, as people count it.
  if (!name || Array.from(name).length > MAX_NAME_LENGTH) {
    throw new AppError('invalid_token_name', 422, `Give the token a name of 1–${MAX_NAME_LENGTH} characters, so you can tell it apart later.`);
  }
  const days = input.expiresInDays ?? null;
  if (days !== null && !(typeof days === 'number' && Number.isInteger(days) && days >= 1 && days <= MAX_EXPIRY_DAYS)) {
    throw new AppError('invalid_expiry', 422, `expiresInDays is a whole number of days from 1 to ${MAX_EXPIRY_DAYS}, or absent for a token that never expires.`);
  }
  const readOnly = input.readOnly ?? false;
  if (typeof readOnly !== 'boolean') throw new AppError('invalid_read_only', 422, 'readOnly is true or false.');
  return { name, expiresInDays: days, readOnly };
}

async function issue(deps: TokenDeps, userId: string, opts: { name: string; expiresInDays: number | null; readOnly: boolean }): Promise<NewToken> {
  const token = `rp_${randomBytes(32).toString('base64url')}`;
  const now = deps.now();
  const row: ApiToken = {
    id: deps.newId(),
    userId,
    name: opts.name,
    prefix: token.slice(0, PREFIX_LENGTH),
    createdAt: now,
    lastUsedAt: null,
    expiresAt: opts.expiresInDays === null ? null : now + opts.expiresInDays * DAY_MS,
    readOnly: opts.readOnly,
  };
  await deps.store.tokens.create({ ...row, tokenHash: hashToken(token) });
  return { ...toView(row, now), token };
}

/** A named token from the settings page or POST /tokens by a signed-in caller. */
export async function createToken(deps: TokenDeps, userId: string, input: TokenInput): Promise<NewToken> {
  return issue(deps, userId, parseTokenInput(input));
}

/** The token POST /tokens gives for a username and password: full access, never expires. */
export async function issuePasswordToken(deps: TokenDeps, userId: string): Promise<string> {
  return (await issue(deps, userId, { name: 'Password exchange', expiresInDays: null, readOnly: false })).token;
}

export async function listTokens(deps: Pick<Deps, 'store' | 'now'>, userId: string): Promise<TokenView[]> {
  const now = deps.now();
  return (await deps.store.tokens.listForUser(userId)).map((t) => toView(t, now));
}

/** Deletes the caller's token; another user's id is as unknown as a made-up one. */
export async function revokeToken(deps: Pick<Deps, 'store'>, userId: string, id: string): Promise<void> {
  if (!(await deps.store.tokens.deleteForUser(userId, id))) throw notFound('token');
}

/** Who a presented token acts for, or undefined for an unknown, revoked or expired one. */
export async function grantForToken(deps: Pick<Deps, 'store' | 'now'>, token: string): Promise<TokenGrant | undefined> {
  if (!token.startsWith('rp_')) return undefined;
  const found = await deps.store.tokens.findUsable(hashToken(token), deps.now());
  return found && { tokenId: found.id, userId: found.userId, readOnly: found.readOnly };
}
