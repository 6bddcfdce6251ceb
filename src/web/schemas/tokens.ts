import { Type } from 'typebox';
import type { NewToken, TokenView } from '../../domain/tokens.ts';
import { DateTime, IdParams, Nullable, empty, json, jsonBody, notFound, problem, readOnly, ref, unauthenticated, withCode } from './common.ts';

const username = withCode(Type.String({ description: '3–32 characters: letters, digits, and . _ - (not first)' }), 'invalid_username');
const password = withCode(Type.String({ minLength: 8, description: '8–256 characters' }), 'weak_password');

export const CredentialsSchema = Type.Object({ username, password }, { $id: 'Credentials', title: 'Credentials' });

export const TokenSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: "The token's first 10 characters ('' for tokens issued before prefixes were kept)" }),
    createdAt: DateTime(),
    lastUsedAt: Nullable(DateTime(), 'To the minute'),
    expiresAt: Nullable(DateTime(), 'null: never expires'),
    expired: Type.Boolean({ description: 'Expired tokens stay listed (and revocable) but answer 401' }),
    readOnly: Type.Boolean(),
  },
  { $id: 'Token', title: 'Token' },
);

export const createAccountSchema = {
  summary: 'Create an account (when sign-up is open)',
  security: [],
  body: jsonBody(ref<{ username: string; password: string }>('Credentials')),
  response: {
    201: json(Type.Object({ id: Type.String(), username: Type.String() }), 'Created'),
    403: problem('Sign-up is closed on this server (signup_closed)'),
    409: problem('That username is taken (username_taken)'),
    422: problem('invalid_username, weak_password or invalid_password'),
    429: problem('Too many sign-ups from this address (rate_limited)'),
  },
};

/**
 * One body, two meanings (see api.ts): with a bearer token, name/expiresInDays/readOnly make a
 * named token; without one, username/password are exchanged for a token. Nothing is required
 * here, so that each meaning's own check names what is missing (401 or invalid_token_name).
 */
const TokenRequest = Type.Object({
  name: Type.Optional(withCode(Type.String({ maxLength: 100, description: 'With a bearer token: 1–100 characters' }), 'invalid_token_name')),
  expiresInDays: Type.Optional(
    withCode(Nullable(Type.Integer({ minimum: 1, maximum: 3650 }), 'With a bearer token: days until it expires; absent or null: never'), 'invalid_expiry'),
  ),
  readOnly: Type.Optional(withCode(Type.Boolean({ description: 'With a bearer token: only GET/HEAD; anything else answers 403 read_only_token. Default false' }), 'invalid_read_only')),
  username: Type.Optional(Type.String({ description: 'Without a bearer token: the account to exchange a password for' })),
  password: Type.Optional(Type.String({ description: 'Without a bearer token: its password' })),
});
export type TokenRequestBody = {
  name?: unknown;
  expiresInDays?: unknown;
  readOnly?: unknown;
  username?: unknown;
  password?: unknown;
};

export const createTokenSchema = {
  summary: 'Create a named token (with a bearer token), or exchange username and password for one (without)',
  description:
    'With an Authorization header: a named token, optionally expiring and read-only; read-only tokens get 403 read_only_token here; 422 invalid_token_name, invalid_expiry or invalid_read_only. Without one: the username/password exchange, limited like sign-in (429), issuing a full-access token named "Password exchange". The token is in this answer only; only its hash is stored.',
  security: [{ bearer: [] }, {}] as Record<string, string[]>[],
  body: jsonBody(TokenRequest),
  response: {
    201: json(
      Type.Union([
        ref<NewToken>('NewToken'),
        Type.Object({ token: Type.String(), tokenType: Type.Literal('Bearer') }, { description: 'The password exchange' }),
      ]),
      'Token issued',
    ),
    401: problem('Wrong username or password (invalid_credentials), or a bad bearer token (invalid_token)'),
    403: readOnly,
    422: problem('invalid_token_name, invalid_expiry or invalid_read_only'),
    429: problem('Too many failed exchanges (rate_limited)'),
  },
};

export const NewTokenSchema = Type.Object(
  { ...TokenSchema.properties, token: Type.String({ description: 'Shown only in this answer' }) },
  { $id: 'NewToken', title: 'NewToken' },
);

export const listTokensSchema = {
  summary: "The caller's tokens, newest first (never the tokens themselves)",
  response: { 200: json(Type.Object({ tokens: Type.Array(ref<TokenView>('Token')) }), 'Tokens'), 401: unauthenticated },
};

export const revokeTokenSchema = {
  summary: 'Revoke a token: it answers 401 from the next request on',
  params: IdParams('Token'),
  response: { 204: empty('Revoked'), 401: unauthenticated, 403: readOnly, 404: notFound('token') },
};
