/** Who, from where and which request, for an audit entry written by a route handler. */
import type { FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import { appendAudit } from '../../audit/append-audit.ts';
import type { Database } from '../../db/schema.ts';
import { ApiError } from '../errors.ts';

export type AuditContext = { actor: string; at: Date; ip: string | null; requestId: string };

export function auditContext(request: FastifyRequest, at: Date): AuditContext {
  const principal = request.principal;
  if (!principal) throw new ApiError('Unauthenticated', 'no caller');
  return { actor: principal.actor, at, ip: request.ip ?? null, requestId: request.id };
}

/** Appends an audit entry for the calling principal's operator. */
export async function auditRequest(
  db: Kysely<Database> | Transaction<Database>,
  request: FastifyRequest,
  at: Date,
  entry: { action: string; subjectType: string; subjectId: string; before?: unknown; after?: unknown },
): Promise<void> {
  const context = auditContext(request, at);
  await appendAudit(db, { operatorId: request.principal!.operatorId, ...context, ...entry });
}
