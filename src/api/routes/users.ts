/** Staff and driver accounts of the operator (admins only). Creating and disabling a user is audited. */
import type { FastifyInstance } from 'fastify';
import { createUser, USER_ROLES, userView } from '../../accounts/user-store.ts';
import type { UserRole } from '../../db/schema.ts';
import { auditContext, auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    role: { type: 'string', enum: [...USER_ROLES] },
    customerId: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    disabledAt: { type: ['string', 'null'] },
    lastSignInAt: { type: ['string', 'null'] },
  },
} as const;

export function registerUserRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { db, cipher } = deps;

  api.get(
    '/users',
    {
      schema: {
        summary: 'List users',
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: userSchema } } } },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      const rows = await db
        .selectFrom('users')
        .selectAll()
        .where('operator_id', '=', principal.operatorId)
        .orderBy('created_at')
        .limit(10_000)
        .execute();
      return { data: await Promise.all(rows.map((row) => userView(cipher, row))) };
    },
  );

  api.post<{ Body: { email: string; password: string; name?: string; role: UserRole; customerId?: string } }>(
    '/users',
    {
      schema: {
        summary: 'Create a user (staff role, or driver tied to a customer)',
        body: {
          type: 'object',
          required: ['email', 'password', 'role'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 320 },
            password: { type: 'string', minLength: 12, maxLength: 256 },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', enum: [...USER_ROLES] },
            customerId: { type: 'string', pattern: UUID_PATTERN },
          },
        },
        response: { 201: userSchema },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const result = await createUser(
        db,
        cipher,
        { operatorId: principal.operatorId, ...request.body },
        auditContext(request, deps.clock.now()),
      );
      if (!result.ok) throw new ApiError(result.error.code, result.error.message);
      return reply.status(201).send(result.user);
    },
  );

  api.post<{ Params: { id: string } }>(
    '/users/:id/disable',
    {
      schema: {
        summary: 'Disable a user and end all their sign-in sessions',
        params: { type: 'object', properties: { id: { type: 'string', pattern: UUID_PATTERN } } },
        response: { 200: userSchema },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      const now = deps.clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('users')
          .set({ disabled_at: now })
          .where('id', '=', request.params.id)
          .where('operator_id', '=', principal.operatorId)
          .where('disabled_at', 'is', null)
          .returningAll()
          .executeTakeFirst();
        if (!updated) return undefined;
        await trx
          .updateTable('auth_sessions')
          .set({ revoked_at: now, revoked_reason: 'user-disabled' })
          .where('user_id', '=', updated.id)
          .where('revoked_at', 'is', null)
          .execute();
        await auditRequest(trx, request, now, {
          action: 'user.disable',
          subjectType: 'user',
          subjectId: updated.id,
          before: { disabledAt: null },
          after: { disabledAt: now.toISOString() },
        });
        return updated;
      });
      if (!row) throw new ApiError('NotFound', `no active user ${request.params.id}`);
      return userView(cipher, row);
    },
  );
}
