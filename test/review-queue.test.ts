/**
 * The review queue over the real HTTP API and a real OCPP 1.6J client: sessions held by the plausibility rules,
 * released (priced, CDR, then the invoice and ledger billing hooks in the same transaction) or voided, concurrent
 * decisions, pagination. Runs on embedded PGlite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('review queue', () => {
  let server: RunningServer;
  let admin: string;
  const stations: Station[] = [];
  const db = () => server.database.db;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  ): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${server.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = server.seeded!.adminApiKey;
  });
  afterAll(async () => {
    for (const s of stations) await s.close({ force: true });
    await server?.close();
  });

  /** A 60-minute session on a 22 kW EVSE; `energyWh` above 24 200 Wh is more than it can deliver. */
  async function session(stationId: string, idTag: string, startIso: string, energyWh: number, stopIso?: string) {
    const client = await connectStation(server, stationId);
    stations.push(client);
    await client.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const started = await client.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag,
      meterStart: 0,
      timestamp: startIso,
    });
    await client.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: energyWh,
      timestamp: stopIso ?? new Date(Date.parse(startIso) + 3_600_000).toISOString(),
    });
    return db()
      .selectFrom('sessions')
      .selectAll()
      .where('station_id', '=', stationId)
      .where('transaction_id', '=', String(started.transactionId))
      .executeTakeFirstOrThrow();
  }
  const holdsOf = (findings: unknown) =>
    (findings as { code: string; severity: string }[]).filter((f) => f.severity === 'hold').map((f) => f.code);

  const held: Record<'power' | 'future' | 'race', string> = { power: '', future: '', race: '' };

  it('holds a session whose energy exceeds what the EVSE can deliver, and one stamped in the future', async () => {
    const power = await session('DEMO-0005', 'DEMO0005', '2026-11-24T10:00:00.000Z', 30_000);
    expect(power.billing_status).toBe('Held');
    expect(holdsOf(power.findings)).toEqual(['PowerAboveRated']);
    held.power = power.id;

    const tomorrow = new Date(Date.now() + 86_400_000);
    const future = await session(
      'DEMO-0006',
      'DEMO0006',
      new Date(tomorrow.getTime() - 3_600_000).toISOString(),
      5_000,
      tomorrow.toISOString(),
    );
    expect(future.billing_status).toBe('Held');
    expect(holdsOf(future.findings)).toEqual(['TimestampInFuture']);
    held.future = future.id;

    const race = await session('DEMO-0007', 'DEMO0007', '2026-11-24T12:00:00.000Z', 40_000);
    expect(holdsOf(race.findings)).toEqual(['PowerAboveRated']);
    held.race = race.id;
  });

  it('pages through the queue, oldest end first', async () => {
    const first = await call('GET', '/review-queue?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.data.map((item: { sessionId: string }) => item.sessionId)).toEqual([held.power, held.race]);
    expect(first.body.data[0]).toMatchObject({
      stationId: 'DEMO-0005',
      evseId: 1,
      meterStartWh: 0,
      meterStopWh: 30_000,
      energyWh: 30_000,
      holds: [{ code: 'PowerAboveRated', severity: 'hold' }],
    });
    const second = await call('GET', `/review-queue?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((item: { sessionId: string }) => item.sessionId)).toEqual([held.future]);
    expect(second.body.nextCursor).toBeNull();
  });

  it('releases a session: CDR, invoice and ledger transfer are created in the same transaction', async () => {
    const released = await call('POST', `/sessions/${held.power}/release`, {
      reason: 'DC booster on this EVSE; rating in the registry is outdated',
    });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({
      sessionId: held.power,
      decision: 'release',
      billingStatus: 'Billed',
      cdrId: held.power,
    });
    const cdr = await db()
      .selectFrom('cdrs')
      .selectAll()
      .where('session_id', '=', held.power)
      .executeTakeFirstOrThrow();
    expect(cdr.energy_wh).toBe(30_000n);
    expect(released.body.totalInclVat).toEqual({ minor: cdr.total_incl_vat_minor.toString(), currency: 'EUR' });
    const invoiced = await db()
      .selectFrom('invoice_sessions')
      .select(['cdr_id', 'total_incl_vat_minor'])
      .where('session_id', '=', held.power)
      .execute();
    expect(invoiced).toEqual([{ cdr_id: held.power, total_incl_vat_minor: cdr.total_incl_vat_minor }]);
    const transfers = await db()
      .selectFrom('ledger_transfers')
      .select('cause_id')
      .where('cause_id', '=', held.power)
      .execute();
    expect(transfers.length).toBeGreaterThan(0);
  });

  it('lets exactly one of two simultaneous decisions on the same session through', async () => {
    const [a, b] = await Promise.all([
      call('POST', `/sessions/${held.race}/release`, { reason: 'first operator' }),
      call('POST', `/sessions/${held.race}/void`, { reason: 'second operator' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const decisions = await db()
      .selectFrom('review_decisions')
      .select('decision')
      .where('session_id', '=', held.race)
      .execute();
    expect(decisions).toHaveLength(1);
    const audit = await db().selectFrom('audit_log').select('action').where('subject_id', '=', held.race).execute();
    expect(audit).toHaveLength(1);
  });

  it('voids a session: NotBillable, no CDR, no invoice; the queue is then empty', async () => {
    const voided = await call('POST', `/sessions/${held.future}/void`, { reason: 'station clock wrong by a day' });
    expect(voided.status).toBe(200);
    expect(voided.body.billingStatus).toBe('NotBillable');
    expect(await db().selectFrom('cdrs').select('id').where('session_id', '=', held.future).execute()).toEqual([]);
    expect(
      await db().selectFrom('invoice_sessions').select('invoice_id').where('session_id', '=', held.future).execute(),
    ).toEqual([]);
    const row = await db().selectFrom('sessions').selectAll().where('id', '=', held.future).executeTakeFirstOrThrow();
    expect((row.findings as { code: string; severity: string }[]).at(-1)).toMatchObject({
      code: 'ReviewVoided',
      severity: 'info',
    });
    expect((await call('GET', '/review-queue')).body).toEqual({ data: [], nextCursor: null });
  });
});
