/** Fleets: companies paying for several drivers. Staff read; admins and finance create. Billing contact encrypted. */
import type { FastifyInstance } from 'fastify';
import { auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole, STAFF_ROLES } from '../require-role.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FIELDS = { email: 'fleets.billing_email', address: 'fleets.billing_address' } as const;

const fleetSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    billingEmail: { type: ['string', 'null'] },
    billingAddress: { type: ['string', 'null'] },
    customers: { type: 'integer' },
    createdAt: { type: 'string' },
  },
} as const;

export function registerFleetRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { db, cipher } = deps;

  const fleetJson = async (row: {
    id: string;
    name: string;
    billing_email_enc: string | null;
    billing_address_enc: string | null;
    created_at: Date;
  }) => {
    const count = await db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('fleet_id', '=', row.id)
      .executeTakeFirstOrThrow();
    return {
      id: row.id,
      name: row.name,
      billingEmail: await cipher.decryptOptional(FIELDS.email, row.billing_email_enc),
      billingAddress: await cipher.decryptOptional(FIELDS.address, row.billing_address_enc),
      customers: Number(count.n),
      createdAt: row.created_at.toISOString(),
    };
  };

  api.get(
    '/fleets',
    {
      schema: {
        summary: 'List fleets',
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: fleetSchema } } } },
      },
    },
    async (request) => {
      const principal = requireRole(request, STAFF_ROLES);
      const rows = await db
        .selectFrom('fleets')
        .selectAll()
        .where('operator_id', '=', principal.operatorId)
        .orderBy('name')
        .limit(10_000)
        .execute();
      return { data: await Promise.all(rows.map(fleetJson)) };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/fleets/:id',
    { schema: { summary: 'A fleet', response: { 200: fleetSchema } } },
    async (request) => {
      const principal = requireRole(request, STAFF_ROLES);
      if (!UUID.test(request.params.id)) throw new ApiError('NotFound', `no fleet ${request.params.id}`);
      const row = await db
        .selectFrom('fleets')
        .selectAll()
        .where('id', '=', request.params.id)
        .where('operator_id', '=', principal.operatorId)
        .executeTakeFirst();
      if (!row) throw new ApiError('NotFound', `no fleet ${request.params.id}`);
      return fleetJson(row);
    },
  );

  api.post<{ Body: { name: string; billingEmail?: string; billingAddress?: string } }>(
    '/fleets',
    {
      schema: {
        summary: 'Create a fleet',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            billingEmail: { type: 'string', maxLength: 320 },
            billingAddress: { type: 'string', maxLength: 500 },
          },
        },
        response: { 201: fleetSchema },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'finance']);
      const now = deps.clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('fleets')
          .values({
            operator_id: principal.operatorId,
            name: request.body.name,
            billing_email_enc: cipher.encryptOptional(FIELDS.email, request.body.billingEmail),
            billing_address_enc: cipher.encryptOptional(FIELDS.address, request.body.billingAddress),
            created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await auditRequest(trx, request, now, {
          action: 'fleet.create',
          subjectType: 'fleet',
          subjectId: created.id,
          after: { name: created.name },
        });
        return created;
      });
      return reply.status(201).send(await fleetJson(row));
    },
  );
}
