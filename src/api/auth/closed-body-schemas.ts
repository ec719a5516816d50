/**
 * Unknown body properties are refused, never silently dropped: a client that misspells a field (`emial`) or
 * tries to mass-assign one it may not set (`operatorId`, `role`) gets a 400 naming the property, instead of a
 * success that quietly ignored part of its request.
 *
 * Fastify's ajv is configured with removeAdditional: false (build-app.ts); this module closes every object body
 * schema that does not say otherwise (additionalProperties: false by default), leaves query strings as they
 * were (an unknown query parameter is ignored, as before), and turns ajv's error into the API's error body.
 */
import type { FastifySchema, RouteOptions } from 'fastify';

type JsonSchema = Record<string, unknown>;

const COMPOSITION = ['allOf', 'anyOf', 'oneOf', 'not', '$ref', 'if', 'patternProperties'] as const;

/**
 * A copy of `schema` where each object schema with declared `properties` and no `additionalProperties` of its
 * own gets `additionalProperties: false`, recursively (nested objects, array items). Free-form objects (no
 * `properties`, like a tariff passed through to the OCPI parser) and composed schemas are left open.
 */
export function closeObjectSchemas(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  if (COMPOSITION.some((key) => key in schema)) return schema;
  const copy: JsonSchema = { ...schema };
  if (isObject(copy.properties)) {
    const properties: JsonSchema = {};
    for (const [name, value] of Object.entries(copy.properties)) properties[name] = closeObjectSchemas(value);
    copy.properties = properties;
    if (!('additionalProperties' in copy)) copy.additionalProperties = false;
  }
  if (isObject(copy.items)) copy.items = closeObjectSchemas(copy.items);
  return copy;
}

/** Query strings keep their old leniency: `additionalProperties: false` there no longer strips, so drop it. */
function openQuerySchema(schema: unknown): unknown {
  if (!isObject(schema) || schema.additionalProperties !== false) return schema;
  const { additionalProperties: _ignored, ...rest } = schema;
  return rest;
}

/** The onRoute hook: rewrites the route's body and query schemas before Fastify compiles them. */
export function closeRouteSchemas(route: RouteOptions): void {
  const schema = route.schema as (FastifySchema & JsonSchema) | undefined;
  if (!schema) return;
  route.schema = {
    ...schema,
    ...(schema.body !== undefined && { body: closeObjectSchemas(schema.body) }),
    ...(schema.querystring !== undefined && { querystring: openQuerySchema(schema.querystring) }),
  };
}

type AjvError = { keyword?: string; instancePath?: string; params?: Record<string, unknown> };

/** For a body validation error caused by an unknown property: the message and JSON path that name it. */
export function unknownPropertyProblem(
  validation: unknown,
  context: unknown,
): { message: string; path: string } | undefined {
  if (context !== 'body' || !Array.isArray(validation)) return undefined;
  const error = (validation as AjvError[]).find((e) => e.keyword === 'additionalProperties');
  const property = error?.params?.additionalProperty;
  if (typeof property !== 'string') return undefined;
  const parent = (error?.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
  const path = `$${parent}.${property}`;
  return { message: `unknown property ${path}; this route does not accept it`, path };
}

/**
 * Routes without a body schema take no JSON object body: a non-empty one is refused rather than ignored, except
 * on the routes listed here, whose handlers validate the body themselves.
 */
export function schemaLessBodyProblem(
  method: string,
  url: string,
  hasBodySchema: boolean,
  body: unknown,
  handlerValidated: ReadonlySet<string>,
): { message: string; path: string } | undefined {
  if (hasBodySchema || handlerValidated.has(`${method} ${url}`)) return undefined;
  if (!isObject(body) || Buffer.isBuffer(body)) return undefined;
  const [first] = Object.keys(body);
  if (first === undefined) return undefined;
  return { message: `unknown property $.${first}; this route takes no body`, path: `$.${first}` };
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
