/**
 * Id tokens (RFID cards, app tokens) of the operator: staff read, admins and support issue, block and assign
 * them to customers; a driver lists only their own. Every change is audited with before and after.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { openTokenLabel, sealTokenLabel } from '../../billing/invoices/id-token-label-cipher.ts';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { IdTokenStatus } from '../../db/schema.ts';
import { auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { driverCustomerId, requireRole } from '../require-role.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATUSES = ['Accepted', 'Blocked', 'Expired', 'Invalid'] as const;
const TYPES = ['RFID', 'APP_USER', 'AD_HOC_USER', 'OTHER'] as const;

const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    customerId: { type: ['string', 'null'] },
    groupId: { type: ['string', 'null'] },
    contractId: { type: ['string', 'null'] },
    label: { type: ['string', 'null'] },
    expiresAt: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
  },
} as const;

type TokenRow = {
  id: string;
  uid: string;
  type: string;
  status: string;
  customer_id: string | null;
  group_id: string | null;
  contract_id: string | null;
  label: string | null;
  expires_at: Date | null;
  created_at: Date;
};

/** A token as the API shows it: the label opened (a label written before migration 0012 is clear text). */
const tokenJson = async (cipher: FieldCipher, r: TokenRow) => ({
  ...tokenAuditJson(r),
  label: await openTokenLabel(cipher, r.label),
});

/** A token as its audit entry records it: whether it has a label, never the label (it can be a driver's name). */
const tokenAuditJson = (r: TokenRow) => ({
  id: r.id,
  uid: r.uid,
  type: r.type,
  status: r.status,
  customerId: r.customer_id,
  groupId: r.group_id,
  contractId: r.contract_id,
  hasLabel: r.label !== null,
  expiresAt: r.expires_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
});

type TokenChange = {
  status?: IdTokenStatus;
  customerId?: string | null;
  groupId?: string | null;
  label?: string | null;
  expiresAt?: string | null;
};

const changeProperties = {
  status: { type: 'string', enum: [...STATUSES] },
  customerId: { type: ['string', 'null'], pattern: UUID.source },
  groupId: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
  label: { type: ['string', 'null'], maxLength: 200 },
  expiresAt: { type: ['string', 'null'], format: 'date-time' },
} as const;

export function registerIdTokenRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { db, cipher } = deps;

  const checkCustomer = async (operatorId: string, customerId: string | null | undefined) => {
    if (!customerId) return;
    const row = await db
      .selectFrom('customers')
      .select('id')
      .where('id', '=', customerId)
      .where('operator_id', '=', operatorId)
      .executeTakeFirst();
    if (!row) throw new ApiError('NotFound', `no customer ${customerId}`);
  };

  api.get<{ Querystring: { limit: number; customerId?: string } }>(
    '/id-tokens',
    {
      config: { allowDrivers: true },
      schema: {
        summary: 'List id tokens (drivers: their own)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            customerId: { type: 'string', pattern: UUID.source },
          },
        },
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: tokenSchema } } } },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const own = driverCustomerId(request);
      let query = db.selectFrom('id_tokens').selectAll().where('operator_id', '=', principal.operatorId);
      const customerId = own ?? request.query.customerId;
      if (customerId) query = query.where('customer_id', '=', customerId);
      const rows = await query.orderBy('created_at').orderBy('id').limit(request.query.limit).execute();
      return { data: await Promise.all(rows.map((row) => tokenJson(cipher, row))) };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/id-tokens/:id',
    {
      config: { allowDrivers: true },
      schema: { summary: 'An id token (drivers: only their own)', response: { 200: tokenSchema } },
    },
    async (request) => {
      const principal = request.principal!;
      const own = driverCustomerId(request);
      if (!UUID.test(request.params.id)) throw new ApiError('NotFound', `no id token ${request.params.id}`);
      let query = db
        .selectFrom('id_tokens')
        .selectAll()
        .where('id', '=', request.params.id)
        .where('operator_id', '=', principal.operatorId);
      if (own) query = query.where('customer_id', '=', own);
      const row = await query.executeTakeFirst();
      if (!row) throw new ApiError('NotFound', `no id token ${request.params.id}`);
      return tokenJson(cipher, row);
    },
  );

  api.post<{ Body: TokenChange & { uid: string; type?: (typeof TYPES)[number]; contractId?: string } }>(
    '/id-tokens',
    {
      schema: {
        summary: 'Issue an id token',
        body: {
          type: 'object',
          required: ['uid'],
          additionalProperties: false,
          properties: {
            ...changeProperties,
            uid: { type: 'string', minLength: 1, maxLength: 36, pattern: '^[\\x21-\\x7e]+$' },
            type: { type: 'string', enum: [...TYPES] },
            contractId: { type: 'string', maxLength: 64 },
          },
        },
        response: { 201: tokenSchema },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'support']);
      const body = request.body;
      await checkCustomer(principal.operatorId, body.customerId);
      const now = deps.clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('id_tokens')
          .select('id')
          .where('operator_id', '=', principal.operatorId)
          .where(sql`upper(uid)`, '=', body.uid.toUpperCase())
          .executeTakeFirst();
        if (existing) throw new ApiError('Conflict', `id token ${body.uid} exists`);
        const created = await trx
          .insertInto('id_tokens')
          .values({
            operator_id: principal.operatorId,
            uid: body.uid,
            type: body.type ?? 'RFID',
            status: body.status ?? 'Accepted',
            customer_id: body.customerId ?? null,
            group_id: body.groupId ?? null,
            contract_id: body.contractId ?? null,
            ...sealTokenLabel(cipher, body.uid, body.label ?? null),
            expires_at: body.expiresAt ? new Date(body.expiresAt) : null,
            created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await auditRequest(trx, request, now, {
          action: 'id-token.create',
          subjectType: 'id-token',
          subjectId: created.id,
          after: tokenAuditJson(created),
        });
        return created;
      });
      return reply.status(201).send(await tokenJson(cipher, row));
    },
  );

  api.patch<{ Params: { id: string }; Body: TokenChange }>(
    '/id-tokens/:id',
    {
      schema: {
        summary: 'Block, unblock, relabel or assign an id token',
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: changeProperties },
        response: { 200: tokenSchema },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin', 'support']);
      const id = request.params.id;
      if (!UUID.test(id)) throw new ApiError('NotFound', `no id token ${id}`);
      const body = request.body;
      await checkCustomer(principal.operatorId, body.customerId);
      const now = deps.clock.now();
      const updated = await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('id_tokens')
          .selectAll()
          .where('id', '=', id)
          .where('operator_id', '=', principal.operatorId)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw new ApiError('NotFound', `no id token ${id}`);
        const after = await trx
          .updateTable('id_tokens')
          .set({
            ...(body.status !== undefined && { status: body.status }),
            ...(body.customerId !== undefined && { customer_id: body.customerId }),
            ...(body.groupId !== undefined && { group_id: body.groupId }),
            ...(body.label !== undefined && sealTokenLabel(cipher, before.uid, body.label)),
            ...(body.expiresAt !== undefined && { expires_at: body.expiresAt ? new Date(body.expiresAt) : null }),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await auditRequest(trx, request, now, {
          action: 'id-token.update',
          subjectType: 'id-token',
          subjectId: id,
          before: tokenAuditJson(before),
          // A relabel shows as labelChanged (the label itself stays out of the log).
          after: { ...tokenAuditJson(after), ...(body.label !== undefined && { labelChanged: true }) },
        });
        return after;
      });
      return tokenJson(cipher, updated);
    },
  );
}
