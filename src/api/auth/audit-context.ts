/** Who, from where and which request, for an audit entry written by a route handler. */
import type { FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { appendAudit } from '../../audit/append-audit.ts';
import type { Database } from '../../db/schema.ts';
import { ApiError } from '../errors.ts';

export type AuditContext = { actor: string; at: Date; ip: string | null; requestId: string };

export function auditContext(request: FastifyRequest, at: Date): AuditContext {
  const principal = request.principal;
  if (!principal) throw new ApiError('Unauthenticated', 'no caller');
  return { actor: principal.actor, at, ip: request.sealedIp, requestId: request.id };
}

/**
 * Appends an audit entry for the calling principal's operator, inside the transaction that makes the change (a
 * Transaction only, by type: a route cannot audit "right after" its change, where a crash would lose the entry).
 */
export async function auditRequest(
  db: Transaction<Database>,
  request: FastifyRequest,
  at: Date,
  entry: { action: string; subjectType: string; subjectId: string; before?: unknown; after?: unknown },
): Promise<void> {
  const context = auditContext(request, at);
  await appendAudit(db, { operatorId: request.principal!.operatorId, ...context, ...entry });
}
