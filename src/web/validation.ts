import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { AppError, notFound } from '../errors.ts';

const CODE_KEYWORD = 'x-problem-code';

/** Lets route schemas carry the domain's code for a field (see schemas/common.ts withCode). */
export const problemCodeKeyword = <T extends KeywordHost>(ajv: T): T => {
  ajv.addKeyword(CODE_KEYWORD);
  return ajv;
};
/** The one Ajv method used (Fastify's Ajv 8 lives under its compiler, not at the top level). */
interface KeywordHost {
  addKeyword(keyword: string): unknown;
}

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The route's JSON body schema, following a reference to a shared schema. */
function bodySchemaOf(request: FastifyRequest): Schema | undefined {
  const body: unknown = request.routeOptions.schema?.body;
  if (!isSchema(body)) return undefined;
  const content = isSchema(body.content) ? body.content : undefined;
  const media = content && request.mediaType ? content[request.mediaType] : undefined;
  let schema: unknown = content ? (isSchema(media) ? media.schema : undefined) : body;
  if (isSchema(schema) && typeof schema.$ref === 'string') schema = request.server.getSchema(schema.$ref.replace(/#$/, ''));
  return isSchema(schema) ? schema : undefined;
}

/** "expiresInDays" from "/expiresInDays" or "/events/0"; a missing one from `required`. */
function fieldOf(error: FastifySchemaValidationError | undefined): string | undefined {
  if (!error) return undefined;
  const top = error.instancePath.split('/')[1];
  if (top) return top.replace(/~1/g, '/').replace(/~0/g, '~');
  const missing = (error.params as { missingProperty?: unknown }).missingProperty;
  return typeof missing === 'string' ? missing : undefined;
}

const printable = (text: string) => (/^[\x20-\x7e]{1,300}$/.test(text) ? text : 'is not accepted');

/**
 * A request that does not fit its route's schema. Ids that do not fit cannot name anything: 404,
 * as for any unknown id. A body field answers 422 with the domain's code for that field where the
 * schema names one (so clients see the same code whichever check caught it), else invalid_body;
 * query strings and headers answer 422 invalid_query / invalid_header. `field` names the culprit.
 */
export function fromValidationError(
  err: { validation?: FastifySchemaValidationError[]; validationContext?: string },
  request: FastifyRequest,
): AppError {
  const where = err.validationContext;
  if (where === 'params') return notFound();
  const first = err.validation?.[0];
  const field = fieldOf(first);
  const path = first?.instancePath.slice(1) || field;
  const what = path ? `"${path}"` : where === 'body' ? 'The body' : 'The request';
  const detail = `${printable(what)} ${printable(first?.message ?? 'is not accepted')}.`;
  const extra = field ? { field } : {};
  if (where === 'body') {
    const fieldSchema = field ? (bodySchemaOf(request)?.properties as Schema | undefined)?.[field] : undefined;
    const code = isSchema(fieldSchema) && typeof fieldSchema[CODE_KEYWORD] === 'string' ? fieldSchema[CODE_KEYWORD] : 'invalid_body';
    return new AppError(code, 422, detail, extra);
  }
  return new AppError(where === 'querystring' ? 'invalid_query' : 'invalid_header', 422, detail, extra);
}
