/** Tariff management over the HTTP API: versions, validation with JSON paths, retirement, assignment, quotes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/api/api-keys.ts';
import type { RunningServer } from '../src/main.ts';
import { DEMO_TARIFF } from '../src/seed/seed-demo.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

const flatTariff = (id: string, energyPrice: number) => ({
  country_code: 'DE',
  party_id: 'VBL',
  id,
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: energyPrice, vat: 19, step_size: 1 }] }],
  last_updated: '2026-11-01T00:00:00Z',
});

describe.skipIf(skip)('tariff management API', () => {
  let server: RunningServer;
  let admin: string;
  let readOnly: string;
  const call = async (
    method: string,
    path: string,
    key: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  ): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${server.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = server.seeded!.adminApiKey;
    readOnly = (await createApiKey(server.database.db, server.seeded!.operatorId, 'viewer', 'read-only')).key;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('validates a tariff and names the JSON path of the problem', async () => {
    const good = await call('POST', '/tariffs/validate', readOnly, { tariff: DEMO_TARIFF });
    expect(good).toEqual({ status: 200, body: { valid: true, id: 'DEMO-STANDARD', currency: 'EUR', elements: 3 } });
    const broken = structuredClone(flatTariff('BROKEN', 0.3)) as Record<string, unknown>;
    (broken.elements as { price_components: { price: unknown }[] }[])[0]!.price_components[0]!.price = -1;
    const bad = await call('POST', '/tariffs/validate', readOnly, { tariff: broken });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('TariffInvalid');
    expect(bad.body.error.path).toBe('$.tariff.elements[0].price_components[0].price');
    const currency = await call('POST', '/tariffs/validate', readOnly, {
      tariff: { ...flatTariff('X', 0.3), currency: 'EURO' },
    });
    expect([currency.status, currency.body.error.code, currency.body.error.path]).toEqual([
      400,
      'UnknownCurrency',
      '$.tariff.currency',
    ]);
  });

  it('versions a tariff on every change and keeps the history; only admins may change tariffs', async () => {
    expect((await call('POST', '/tariffs', readOnly, { tariff: flatTariff('FLEET', 0.3) })).status).toBe(403);
    const v1 = await call('POST', '/tariffs', admin, {
      tariff: flatTariff('FLEET', 0.3),
      validFrom: '2026-01-01T00:00:00Z',
    });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ code: 'FLEET', version: 1, validFrom: '2026-01-01T00:00:00.000Z' });
    const v2 = await call('POST', '/tariffs', admin, {
      tariff: flatTariff('FLEET', 0.35),
      validFrom: '2026-06-01T00:00:00Z',
    });
    expect(v2.body).toMatchObject({ code: 'FLEET', version: 2 });
    const history = await call('GET', '/tariffs/FLEET', readOnly);
    expect(
      history.body.versions.map(
        (v: { version: number; tariff: { elements: { price_components: { price: number }[] }[] } }) => [
          v.version,
          v.tariff.elements[0]!.price_components[0]!.price,
        ],
      ),
    ).toEqual([
      [2, 0.35],
      [1, 0.3],
    ]);
    const list = await call('GET', '/tariffs', readOnly);
    expect(list.body.data.map((t: { code: string; latestVersion: number }) => [t.code, t.latestVersion])).toEqual([
      ['DEMO-STANDARD', 1],
      ['FLEET', 2],
    ]);
  });

  it('freezes the version in force at session start, by EVSE assignment before the operator default', async () => {
    const assigned = await call('PUT', '/tariff-assignments', admin, {
      tariffCode: 'FLEET',
      scope: 'evse',
      stationId: 'DEMO-0004',
      evseId: 1,
    });
    expect(assigned.status).toBe(200);
    const station = await connectStation(server, 'DEMO-0004');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const run = async (startIso: string, stopIso: string) => {
      const started = await station.call<{ transactionId: number }>('StartTransaction', {
        connectorId: 1,
        idTag: 'DEMO0004',
        meterStart: 0,
        timestamp: startIso,
      });
      await station.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: 10_000,
        timestamp: stopIso,
      });
      return server.database.db
        .selectFrom('sessions')
        .innerJoin('cdrs', 'cdrs.session_id', 'sessions.id')
        .select(['cdrs.total_excl_vat_minor'])
        .where('sessions.transaction_id', '=', String(started.transactionId))
        .where('sessions.station_id', '=', 'DEMO-0004')
        .executeTakeFirstOrThrow();
    };
    // Version 1 (0.30/kWh) is in force in March, version 2 (0.35/kWh) from June; a session spanning the change
    // keeps the version in force at its start.
    expect((await run('2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z')).total_excl_vat_minor).toBe(300n);
    expect((await run('2026-05-31T23:30:00Z', '2026-06-01T00:30:00Z')).total_excl_vat_minor).toBe(300n);
    expect((await run('2026-07-01T10:00:00Z', '2026-07-01T11:00:00Z')).total_excl_vat_minor).toBe(350n);
    await station.close({ force: true });
  });

  it('quotes before charging with the unit prices per kWh, per minute and per session (AFIR)', async () => {
    // 11:00 in Berlin: day energy 0.49, session fee 0.35. 20 kWh over 60 minutes, charging throughout.
    const quote = await call('POST', '/quotes', readOnly, {
      stationId: 'DEMO-0001',
      evseId: 1,
      energyKwh: 20,
      durationMinutes: 60,
      startAt: '2026-11-25T10:00:00Z',
    });
    expect(quote.status).toBe(200);
    expect(quote.body.tariff).toMatchObject({ code: 'DEMO-STANDARD', version: 1 });
    expect(quote.body.totalCost).toEqual({ exclVat: '10.15', inclVat: '12.08' });
    expect(quote.body.unitPrices).toEqual(
      expect.arrayContaining([
        { dimension: 'ENERGY', unit: 'kWh', exclVat: '0.49', inclVat: '0.5831', vatPercent: '19' },
        { dimension: 'FLAT', unit: 'session', exclVat: '0.35', inclVat: '0.4165', vatPercent: '19' },
      ]),
    );
    const timed = await call('POST', '/tariffs/DEMO-STANDARD/quote', readOnly, {
      energyKwh: 10,
      durationMinutes: 60,
      startAt: '2026-11-25T21:30:00Z',
      timeZone: 'Europe/Berlin',
    });
    // 22:30-23:30 local: night energy 0.39 x 10 = 3.90 + 0.35 = 4.25 excl.
    expect(timed.body.totalCost.exclVat).toBe('4.25');
    const noZone = await call('POST', '/tariffs/DEMO-STANDARD/quote', readOnly, {
      energyKwh: 10,
      durationMinutes: 60,
      timeZone: 'Mars/Olympus',
    });
    expect([noZone.status, noZone.body.error.code]).toEqual([422, 'PricingFailed']);
  });

  it('retires a tariff: sessions starting later fall back to the next assignment in precedence', async () => {
    expect((await call('POST', '/tariffs/FLEET/retire', admin)).status).toBe(200);
    const quote = await call('POST', '/quotes', readOnly, {
      stationId: 'DEMO-0004',
      evseId: 1,
      energyKwh: 1,
      durationMinutes: 10,
    });
    // FLEET is retired; the operator-wide DEMO-STANDARD applies again at that EVSE.
    expect(quote.body.tariff.code).toBe('DEMO-STANDARD');
  });
});
