import { Type, type TSchema } from 'typebox';

/**
 * Building blocks of the API's route schemas. The schemas validate requests, serialize answers
 * and are what @fastify/swagger turns into /api/v1/openapi.json, so the description is the code.
 */

/** Our ids are UUIDs we generated (lower-case hex); see safety.ts, which 404s anything else. */
export const ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const Id = (description: string) => Type.String({ pattern: ID_PATTERN, description });
export const IdParams = (what: string) => Type.Object({ id: Id(`${what} id`) });

/**
 * A request body field whose refusal answers with the domain's own code (the same one the domain
 * validator gives), so a client sees `invalid_expiry` whether the schema or the domain caught it.
 * errors.ts reads it; OpenAPI keeps `x-` keys as documentation.
 */
export const withCode = <T extends TSchema>(schema: T, code: string): T => Object.assign(schema, { 'x-problem-code': code });

export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
export const Nullable = <T extends TSchema>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], description ? { description } : {});

/** RFC 9457 problem details: every error the API gives. Shared as components/schemas/Problem. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable reason, e.g. not_found, invalid_token, too_large' }),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String({ description: 'This request\'s id, also in the X-Request-Id header and the server\'s log' })),
    field: Type.Optional(Type.String({ description: 'The request field that was refused, for schema validation errors' })),
  },
  { $id: 'Problem', title: 'Problem', description: 'Problem details (RFC 9457)', additionalProperties: true },
);

interface ProblemShape {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** An error answer: a problem+json body, described by what the status means on this route. */
export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Type.Unsafe<ProblemShape>({ $ref: 'Problem#' }) } },
});

export const unauthenticated = problem('No valid bearer token (invalid_token, unauthenticated); a browser session counts for GET only');
export const notFound = (what: string) => problem(`No such ${what}, or not the caller's (not_found)`);
export const readOnly = problem('A read-only token tried to change something (read_only_token)');

/** A JSON answer. */
export const json = <T extends TSchema>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
/** An answer with no body. */
export const empty = (description: string) => Type.Unsafe<undefined>({ type: 'null', description });

/** A JSON request body; other content types are refused by the parser, not validated here. */
export const jsonBody = <T extends TSchema>(schema: T) => ({ content: { 'application/json': { schema } } });

/** A reference to a shared schema (registered with addSchema, listed under components/schemas). */
export const ref = <T>(id: string) => Type.Unsafe<T>({ $ref: `${id}#` });
