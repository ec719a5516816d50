/**
 * Least privilege: a route names the roles that may use it; everyone else gets 403. Drivers are refused on every
 * route that does not declare `config: { allowDrivers: true }` (checked in build-app.ts), and the routes that do
 * must narrow their queries to the driver's own customer (driverCustomerId).
 */
import type { FastifyRequest } from 'fastify';
import type { UserRole } from '../db/schema.ts';
import type { ApiPrincipal } from './auth/principal.ts';
import { ApiError } from './errors.ts';

/** Operator staff and machine keys (everyone but drivers). */
export const STAFF_ROLES = ['admin', 'finance', 'support', 'read-only'] as const satisfies readonly UserRole[];

export function requireRole(request: FastifyRequest, roles: readonly UserRole[]): ApiPrincipal {
  const principal = request.principal;
  if (!principal) throw new ApiError('Unauthenticated', 'send an API key or access token: Authorization: Bearer …');
  if (!roles.includes(principal.role)) {
    throw new ApiError('Forbidden', `this needs the role ${roles.join(' or ')}; the caller has ${principal.role}`);
  }
  return principal;
}

/** The customer a driver is limited to, or null for staff (who see the whole operator). */
export function driverCustomerId(request: FastifyRequest): string | null {
  const principal = request.principal;
  if (!principal) throw new ApiError('Unauthenticated', 'send an API key or access token: Authorization: Bearer …');
  if (principal.role !== 'driver') return null;
  if (!principal.customerId) throw new ApiError('Forbidden', 'driver account without a customer');
  return principal.customerId;
}
