/** Least privilege: a route names the roles that may use it; everyone else gets 403. */
import type { FastifyRequest } from 'fastify';
import type { ApiRole } from '../db/schema.ts';
import type { ApiPrincipal } from './api-keys.ts';
import { ApiError } from './errors.ts';

export function requireRole(request: FastifyRequest, roles: readonly ApiRole[]): ApiPrincipal {
  const principal = request.principal;
  if (!principal) throw new ApiError('Unauthenticated', 'send an API key: Authorization: Bearer <key>');
  if (!roles.includes(principal.role)) {
    throw new ApiError('Forbidden', `this needs the role ${roles.join(' or ')}; the key has ${principal.role}`);
  }
  return principal;
}
