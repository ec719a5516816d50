/**
 * Unknown JSON body properties are refused with 400 InvalidRequest naming the property (never silently dropped),
 * on every route: schema'd bodies (closed by default in build-app.ts), nested objects, routes that take no body,
 * and the driver's /pay routes. Nothing is changed by a refused request. Unknown query parameters stay ignored.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeObjectSchemas } from '../src/api/auth/closed-body-schemas.ts';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

describe('closing object schemas', () => {
  it('adds additionalProperties: false where a schema with properties does not state it, recursively', () => {
    expect(
      closeObjectSchemas({
        type: 'object',
        properties: {
          a: { type: 'object', properties: { b: { type: 'string' } } },
          list: { type: 'array', items: { type: 'object', properties: { c: { type: 'integer' } } } },
          open: { type: 'object', additionalProperties: true, properties: { d: { type: 'string' } } },
          free: {},
          either: { anyOf: [{ type: 'object', properties: { e: {} } }] },
        },
      }),
    ).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { type: 'object', additionalProperties: false, properties: { b: { type: 'string' } } },
        list: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, properties: { c: { type: 'integer' } } },
        },
        open: { type: 'object', additionalProperties: true, properties: { d: { type: 'string' } } },
        free: {},
        either: { anyOf: [{ type: 'object', properties: { e: {} } }] },
      },
    });
  });
});

describe.skipIf(skip)('unknown body properties are refused', () => {
  let server: RunningServer;
  let admin: string;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    bearer: string | null = admin,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  ): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: {
        ...(bearer && { authorization: `Bearer ${bearer}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const countCustomers = async () => (await server.database.db.selectFrom('customers').select('id').execute()).length;

  beforeAll(async () => {
    server = await startTestServer();
    admin = server.seeded!.adminApiKey;
  }, 300_000);
  afterAll(async () => {
    await server?.close();
  }, 120_000);

  it('refuses an unknown top-level property with 400 InvalidRequest naming it, and creates nothing', async () => {
    const before = await countCustomers();
    const extra = await call('POST', '/api/v1/customers', { name: 'Mass Assign', operatorId: 'x' });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toEqual({
      code: 'InvalidRequest',
      message: 'unknown property $.operatorId; this route does not accept it',
      path: '$.operatorId',
    });
    expect(typeof extra.body.requestId).toBe('string');
    expect(await countCustomers()).toBe(before);
    // The same body without the stray property is accepted.
    expect((await call('POST', '/api/v1/customers', { name: 'Mass Assign' })).status).toBe(201);
    expect(await countCustomers()).toBe(before + 1);
  });

  it('refuses misspelt properties on updates and on routes whose schema never said additionalProperties', async () => {
    const token = await call('POST', '/api/v1/id-tokens', { uid: 'UNKNOWNPROP1' });
    expect(token.status).toBe(201);
    const patch = await call('PATCH', `/api/v1/id-tokens/${token.body.id}`, { stauts: 'Blocked' });
    expect([patch.status, patch.body.error.code, patch.body.error.path]).toEqual([400, 'InvalidRequest', '$.stauts']);
    const still = await call('GET', `/api/v1/id-tokens/${token.body.id}`);
    expect(still.body.status).toBe('Accepted');
    // /tariffs/validate's schema states no additionalProperties: closed by default.
    const validate = await call('POST', '/api/v1/tariffs/validate', { tariff: {}, strict: false });
    expect([validate.status, validate.body.error.path]).toEqual([400, '$.strict']);
  });

  it('refuses a body on a route that takes none, without acting', async () => {
    const code = server.seeded!.tariffCode;
    const retire = await call('POST', `/api/v1/tariffs/${code}/retire`, { force: true });
    expect(retire.status).toBe(400);
    expect(retire.body.error).toEqual({
      code: 'InvalidRequest',
      message: 'unknown property $.force; this route takes no body',
      path: '$.force',
    });
    const tariff = await server.database.db
      .selectFrom('tariffs')
      .select('retired_at')
      .where('code', '=', code)
      .executeTakeFirstOrThrow();
    expect(tariff.retired_at).toBeNull();
  });

  it('refuses unknown properties on the driver pay routes too', async () => {
    const qr = await call('POST', '/api/v1/payments/qr-tokens', {
      stationId: server.seeded!.stationIds[0],
      evseId: 1,
    });
    expect(qr.status).toBe(201);
    const before = (await server.database.db.selectFrom('payments').select('id').execute()).length;
    const start = await call(
      'POST',
      `/api/v1/pay/${qr.body.token}/sessions`,
      { paymentMethodRef: 'pm_x', email: 'driver@example.org' },
      null,
    );
    expect([start.status, start.body.error.code, start.body.error.path]).toEqual([400, 'InvalidRequest', '$.email']);
    expect((await server.database.db.selectFrom('payments').select('id').execute()).length).toBe(before);
  });

  it('still ignores unknown query parameters (only bodies are strict)', async () => {
    const list = await call('GET', '/api/v1/invoices?limit=5&utm_source=x');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
  });
});
