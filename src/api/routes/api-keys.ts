/** API keys of the operator (admins only): create (the key is in this one response only), list, revoke. */
import type { FastifyInstance } from 'fastify';
import type { ApiRole } from '../../db/schema.ts';
import { API_ROLES, createApiKey, listApiKeys, revokeApiKey } from '../api-keys.ts';
import { auditContext } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const keySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...API_ROLES] },
    prefix: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    createdBy: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
  },
} as const;

export function registerApiKeyRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get(
    '/api-keys',
    {
      schema: {
        summary: 'List API keys (never the keys themselves)',
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: keySchema } } } },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      return { data: await listApiKeys(deps.db, principal.operatorId) };
    },
  );

  api.post<{ Body: { name: string; role: ApiRole } }>(
    '/api-keys',
    {
      schema: {
        summary: 'Create an API key; the key is shown in this response only',
        body: {
          type: 'object',
          required: ['name', 'role'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            role: { type: 'string', enum: [...API_ROLES] },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              key: { type: 'string' },
              prefix: { type: 'string' },
              role: { type: 'string' },
              name: { type: 'string' },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const created = await createApiKey(
        deps.db,
        principal.operatorId,
        request.body.name,
        request.body.role,
        auditContext(request, deps.clock.now()),
      );
      return reply.status(201).send({ ...created, role: request.body.role, name: request.body.name });
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/api-keys/:id',
    {
      schema: {
        summary: 'Revoke an API key (effective at once)',
        params: { type: 'object', properties: { id: { type: 'string', pattern: UUID_PATTERN } } },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const revoked = await revokeApiKey(
        deps.db,
        principal.operatorId,
        request.params.id,
        auditContext(request, deps.clock.now()),
      );
      if (!revoked) throw new ApiError('NotFound', `no active API key ${request.params.id}`);
      return reply.status(204).send();
    },
  );
}
