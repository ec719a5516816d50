/**
 * Customers (drivers). Staff of the operator list and read them; admins and support create and change them;
 * a driver reads only their own record. Personal fields are encrypted at rest; changes are audited by field
 * name only, so the audit log never holds personal data in clear text.
 */
import type { FastifyInstance } from 'fastify';
import { CUSTOMER_FIELDS, customerJson } from '../../accounts/customer-json.ts';
import { EMAIL_INDEX_CONTEXT, isEmail, normalizeEmail } from '../../accounts/email.ts';
import { auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { driverCustomerId, requireRole, STAFF_ROLES } from '../require-role.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const customerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    fleetId: { type: ['string', 'null'] },
    name: { type: 'string' },
    email: { type: ['string', 'null'] },
    address: { type: ['string', 'null'] },
    hasProviderCustomer: { type: 'boolean' },
    createdAt: { type: 'string' },
  },
} as const;

type CustomerBody = {
  name?: string;
  email?: string | null;
  address?: string | null;
  fleetId?: string | null;
  providerCustomerId?: string | null;
};

const bodyProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  email: { type: ['string', 'null'], maxLength: 320 },
  address: { type: ['string', 'null'], maxLength: 500 },
  fleetId: { type: ['string', 'null'], pattern: UUID.source },
  providerCustomerId: { type: ['string', 'null'], maxLength: 200 },
} as const;

export function registerCustomerRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { db, cipher } = deps;

  const checkFleet = async (operatorId: string, fleetId: string | null | undefined) => {
    if (!fleetId) return;
    const fleet = await db
      .selectFrom('fleets')
      .select('id')
      .where('id', '=', fleetId)
      .where('operator_id', '=', operatorId)
      .executeTakeFirst();
    if (!fleet) throw new ApiError('NotFound', `no fleet ${fleetId}`);
  };
  const emailColumns = (email: string | null | undefined) => {
    if (email === undefined) return {};
    if (email === null) return { email_enc: null, email_index: null };
    if (!isEmail(email)) throw new ApiError('InvalidRequest', 'email is not valid', '$.email');
    const normalized = normalizeEmail(email);
    return {
      email_enc: cipher.encrypt(CUSTOMER_FIELDS.email, normalized),
      email_index: cipher.blindIndex(EMAIL_INDEX_CONTEXT, normalized),
    };
  };

  api.get<{ Querystring: { limit: number; fleetId?: string } }>(
    '/customers',
    {
      schema: {
        summary: 'List customers',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            fleetId: { type: 'string', pattern: UUID.source },
          },
        },
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: customerSchema } } } },
      },
    },
    async (request) => {
      const principal = requireRole(request, STAFF_ROLES);
      let query = db.selectFrom('customers').selectAll().where('operator_id', '=', principal.operatorId);
      if (request.query.fleetId) query = query.where('fleet_id', '=', request.query.fleetId);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(request.query.limit).execute();
      return { data: await Promise.all(rows.map((row) => customerJson(cipher, row))) };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/customers/:id',
    {
      config: { allowDrivers: true },
      schema: { summary: 'A customer (drivers: only their own)', response: { 200: customerSchema } },
    },
    async (request) => {
      const principal = request.principal!;
      const own = driverCustomerId(request);
      const id = request.params.id;
      if (!UUID.test(id) || (own && own !== id)) throw new ApiError('NotFound', `no customer ${id}`);
      const row = await db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', id)
        .where('operator_id', '=', principal.operatorId)
        .executeTakeFirst();
      if (!row) throw new ApiError('NotFound', `no customer ${id}`);
      return customerJson(cipher, row);
    },
  );

  api.post<{ Body: CustomerBody & { name: string } }>(
    '/customers',
    {
      schema: {
        summary: 'Create a customer (driver account holder)',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: bodyProperties },
        response: { 201: customerSchema },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin', 'support']);
      const body = request.body;
      await checkFleet(principal.operatorId, body.fleetId);
      const now = deps.clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('customers')
          .values({
            operator_id: principal.operatorId,
            fleet_id: body.fleetId ?? null,
            name_enc: cipher.encrypt(CUSTOMER_FIELDS.name, body.name),
            ...emailColumns(body.email),
            address_enc: cipher.encryptOptional(CUSTOMER_FIELDS.address, body.address),
            provider_customer_id_enc: cipher.encryptOptional(
              CUSTOMER_FIELDS.providerCustomerId,
              body.providerCustomerId,
            ),
            created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch((error: unknown) => {
            if (String(error).includes('customers_email'))
              throw new ApiError('Conflict', 'a customer with this email exists');
            throw error;
          });
        await auditRequest(trx, request, now, {
          action: 'customer.create',
          subjectType: 'customer',
          subjectId: created.id,
          after: { fields: Object.keys(body).sort(), fleetId: created.fleet_id },
        });
        return created;
      });
      return reply.status(201).send(await customerJson(cipher, row));
    },
  );

  api.patch<{ Params: { id: string }; Body: CustomerBody }>(
    '/customers/:id',
    {
      schema: {
        summary: 'Change a customer',
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: bodyProperties },
        response: { 200: customerSchema },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin', 'support']);
      const id = request.params.id;
      if (!UUID.test(id)) throw new ApiError('NotFound', `no customer ${id}`);
      const body = request.body;
      await checkFleet(principal.operatorId, body.fleetId);
      const now = deps.clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('customers')
          .select(['id', 'fleet_id'])
          .where('id', '=', id)
          .where('operator_id', '=', principal.operatorId)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw new ApiError('NotFound', `no customer ${id}`);
        const updated = await trx
          .updateTable('customers')
          .set({
            ...(body.name !== undefined && { name_enc: cipher.encrypt(CUSTOMER_FIELDS.name, body.name) }),
            ...emailColumns(body.email),
            ...(body.address !== undefined && {
              address_enc: cipher.encryptOptional(CUSTOMER_FIELDS.address, body.address),
            }),
            ...(body.fleetId !== undefined && { fleet_id: body.fleetId }),
            ...(body.providerCustomerId !== undefined && {
              provider_customer_id_enc: cipher.encryptOptional(
                CUSTOMER_FIELDS.providerCustomerId,
                body.providerCustomerId,
              ),
            }),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await auditRequest(trx, request, now, {
          action: 'customer.update',
          subjectType: 'customer',
          subjectId: id,
          before: { fleetId: before.fleet_id },
          after: { fields: Object.keys(body).sort(), fleetId: updated.fleet_id },
        });
        return updated;
      });
      return customerJson(cipher, row);
    },
  );
}
