/**
 * Signed meter values end to end: a real OCPP 1.6J client sends an OCMF record from the S.A.F.E. conformance set
 * (LEM DCBM, secp256r1) as sampledValue format SignedData; the meter registry, the verification at the session's
 * end, the CDR's OCPI signed_data, the review queue (release, void) and the audit trail are checked exactly.
 * Runs on embedded PGlite and on PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/api/api-keys.ts';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

type Sample = { file: string; index: number; ocmf: string; publicKey: string };
const samples = JSON.parse(
  readFileSync(new URL('./conformance/ocmf/safe-ev-transparenzsoftware/ocmf-samples.json', import.meta.url), 'utf8'),
) as Sample[];
const lem = samples.find((s) => s.file.endsWith('VW_OCMF_load.xml') && s.index === 0)!;
/** Signed: begin 57.584 kWh, end 58.685 kWh on register 1-0:1.8.0 of meter 1211751603. */
const OCMF = lem.ocmf;
const KEY = lem.publicKey;
const SPKI_HEX = KEY.toLowerCase();
const SERIAL = '1211751603';
const TAMPERED = OCMF.replace('"RV":58.685', '"RV":58.686');

describe.skipIf(skip)('signed meter values, meter registry and review queue', () => {
  let server: RunningServer;
  let admin: string;
  let readOnly: string;
  const stations: Station[] = [];
  const db = () => server.database.db;

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
    readOnly = (await createApiKey(db(), server.seeded!.operatorId, 'viewer', 'read-only')).key;
  });
  afterAll(async () => {
    for (const s of stations) await s.close({ force: true });
    await server?.close();
  });

  async function station(id: string): Promise<Station> {
    const client = await connectStation(server, id);
    stations.push(client);
    await client.call('BootNotification', { chargePointVendor: 'LEM', chargePointModel: 'DCBM' });
    return client;
  }

  /** One session from 10:00 to 11:00Z on the given day, the signed record in StopTransaction.transactionData. */
  async function signedSession(
    client: Station,
    options: {
      idTag: string;
      day: string;
      meterStart: number;
      meterStop: number;
      signed: string;
      viaMeterValues?: boolean;
    },
  ) {
    const started = await client.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: options.idTag,
      meterStart: options.meterStart,
      timestamp: `${options.day}T10:00:00.000Z`,
    });
    const signedValue = { value: options.signed, format: 'SignedData', context: 'Transaction.End' };
    if (options.viaMeterValues) {
      await client.call('MeterValues', {
        connectorId: 1,
        transactionId: started.transactionId,
        meterValue: [{ timestamp: `${options.day}T10:59:59.000Z`, sampledValue: [signedValue] }],
      });
    }
    await client.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: options.meterStop,
      timestamp: `${options.day}T11:00:00.000Z`,
      transactionData: [
        {
          timestamp: `${options.day}T11:00:00.000Z`,
          sampledValue: [
            { value: String(options.meterStop), context: 'Transaction.End', unit: 'Wh' },
            ...(options.viaMeterValues ? [] : [signedValue]),
          ],
        },
      ],
    });
    const session = await db()
      .selectFrom('sessions')
      .selectAll()
      .where('station_id', '=', (await stationOf(started.transactionId))!)
      .where('transaction_id', '=', String(started.transactionId))
      .executeTakeFirstOrThrow();
    const cdr = await db().selectFrom('cdrs').selectAll().where('session_id', '=', session.id).executeTakeFirst();
    const findings = (session.findings as { code: string; severity: string; message: string }[]).map(
      (f) => `${f.code}:${f.severity}`,
    );
    return { session, cdr, findings, raw: session.findings as { code: string; message: string }[] };
  }
  const stationOf = async (transactionId: number) =>
    (
      await db()
        .selectFrom('sessions')
        .select('station_id')
        .where('transaction_id', '=', String(transactionId))
        .executeTakeFirst()
    )?.station_id;

  const ids = {} as { meter: string; tampered: string; mismatch: string; lapsed: string };

  it('registers a meter (admin only) with a configured key and validates its fields', async () => {
    const body = {
      stationId: 'DEMO-0001',
      evseId: 1,
      serial: SERIAL,
      model: 'LEM DCBM 400/600',
      publicKey: KEY,
      calibrationCertificateRef: 'DE-M-21-PTB-0042',
      lastCalibratedOn: '2021-06-01',
      calibrationValidUntil: '2029-12-31',
    };
    expect((await call('POST', '/meters', readOnly, body)).status).toBe(403);
    const bad = await call('POST', '/meters', admin, { ...body, calibrationValidUntil: '2021-02-30' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'MeterInvalid', path: '$.calibrationValidUntil' });
    const badKey = await call('POST', '/meters', admin, { ...body, publicKey: 'not a key' });
    expect(badKey.body.error.code).toBe('MeterInvalid');
    const created = await call('POST', '/meters', admin, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      stationId: 'DEMO-0001',
      evseId: 1,
      serial: SERIAL,
      keySource: 'configured',
      calibrationValidUntil: '2029-12-31',
      calibrationStatus: 'valid',
    });
    ids.meter = created.body.id;
    const again = await call('POST', '/meters', admin, body);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('MeterExists');
    const unknownEvse = await call('POST', '/meters', admin, { ...body, stationId: 'NOBODY', evseId: 1 });
    expect(unknownEvse.status).toBe(404);
    const audit = await db()
      .selectFrom('audit_log')
      .select(['action', 'subject_id'])
      .where('subject_type', '=', 'meter')
      .execute();
    expect(audit).toEqual([{ action: 'meter.register', subject_id: ids.meter }]);
  });

  it('bills a session whose signed data verifies, and its CDR carries OCPI signed_data', async () => {
    const client = await station('DEMO-0001');
    const { session, cdr, findings } = await signedSession(client, {
      idTag: 'DEMO0001',
      day: '2026-11-20',
      meterStart: 57_584,
      meterStop: 58_685,
      signed: OCMF,
    });
    expect(session).toMatchObject({ billing_status: 'Billed', energy_wh: 1101n });
    expect(findings).toContain('SignedDataVerified:info');
    expect(findings.filter((f) => f.endsWith(':hold'))).toEqual([]);
    const stored = await db()
      .selectFrom('session_signed_values')
      .select(['source', 'context', 'raw'])
      .where('session_id', '=', session.id)
      .execute();
    expect(stored).toEqual([{ source: 'StopTransaction', context: 'Transaction.End', raw: OCMF }]);
    const ocpi = cdr!.cdr as Record<string, unknown>;
    expect(ocpi.meter_id).toBe(SERIAL);
    expect(ocpi.signed_data).toEqual({
      encoding_method: 'OCMF',
      public_key: SPKI_HEX,
      signed_values: [
        {
          nature: 'End',
          plain_data:
            // OCMF: a reading without TM/TX continues the previous reading's (inherited, as the parser reports).
            'meter 1211751603; B 2021-10-06T13:13:56,000+0200 R 57.584 kWh (1-0:1.8.0); B 2021-10-06T13:13:56,000+0200 R 4.405 kWh (1-0:2.8.0); E 2021-10-06T13:15:13,000+0200 R 58.685 kWh (1-0:1.8.0); E 2021-10-06T13:15:13,000+0200 R 4.405 kWh (1-0:2.8.0)',
          signed_data: Buffer.from(OCMF, 'utf8').toString('base64'),
        },
      ],
    });
    // The driver (or the eMSP) gets back the exact bytes the meter signed.
    const signedValues = (ocpi.signed_data as { signed_values: { signed_data: string }[] }).signed_values;
    expect(Buffer.from(signedValues[0]!.signed_data, 'base64').toString('utf8')).toBe(OCMF);
    // The invoice tells the driver the readings were signed and how to check them.
    const invoice = await db()
      .selectFrom('invoice_sessions as i')
      .innerJoin('invoices as v', 'v.id', 'i.invoice_id')
      .select('v.document')
      .where('i.session_id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(invoice.document)).toContain(
      'The meter signed this session\'s readings (OCMF); check them with \\"voltbill verify-meter\\"',
    );
  });

  it('also takes the signed value from MeterValues, hex-encoded as OCPP 1.6 describes SignedData', async () => {
    const client = await station('DEMO-0001');
    const hex = Buffer.from(OCMF, 'utf8').toString('hex');
    const { session, cdr, findings } = await signedSession(client, {
      idTag: 'DEMO0001',
      day: '2026-11-21',
      meterStart: 57_584,
      meterStop: 58_685,
      signed: hex,
      viaMeterValues: true,
    });
    expect(session.billing_status).toBe('Billed');
    expect(findings).toContain('SignedDataVerified:info');
    expect((cdr!.cdr as { signed_data: { signed_values: unknown[] } }).signed_data.signed_values).toHaveLength(1);
  });

  it('holds a session whose signed data was tampered with, and one whose billed energy is not the signed one', async () => {
    const client = await station('DEMO-0001');
    const tampered = await signedSession(client, {
      idTag: 'DEMO0001',
      day: '2026-11-22',
      meterStart: 57_584,
      meterStop: 58_686,
      signed: TAMPERED,
    });
    expect(tampered.session.billing_status).toBe('Held');
    expect(tampered.cdr).toBeUndefined();
    expect(tampered.findings.filter((f) => f.endsWith(':hold'))).toEqual(['SignedDataInvalid:hold']);
    expect(tampered.raw.find((f) => f.code === 'SignedDataInvalid')!.message).toContain('RecordInvalid');
    ids.tampered = tampered.session.id;

    const mismatch = await signedSession(client, {
      idTag: 'DEMO0001',
      day: '2026-11-23',
      meterStart: 57_584,
      meterStop: 58_700,
      signed: OCMF,
    });
    expect(mismatch.session.billing_status).toBe('Held');
    expect(mismatch.findings.filter((f) => f.endsWith(':hold'))).toEqual(['SignedEnergyMismatch:hold']);
    expect(mismatch.raw.find((f) => f.code === 'SignedEnergyMismatch')!.message).toBe(
      'billed 1116 Wh but the meter signed 1101 Wh (58685 − 57584)',
    );
    ids.mismatch = mismatch.session.id;
  });

  it('holds a session on a meter whose calibration lapsed, on the local calendar day', async () => {
    expect((await call('PATCH', `/meters/${ids.meter}`, admin, { calibrationValidUntil: '2026-11-23' })).status).toBe(
      200,
    );
    const client = await station('DEMO-0001');
    const lapsed = await signedSession(client, {
      idTag: 'DEMO0001',
      day: '2026-11-24',
      meterStart: 57_584,
      meterStop: 58_685,
      signed: OCMF,
    });
    expect(lapsed.session.billing_status).toBe('Held');
    expect(lapsed.findings.filter((f) => f.endsWith(':hold'))).toEqual(['CalibrationLapsed:hold']);
    expect(lapsed.raw.find((f) => f.code === 'CalibrationLapsed')!.message).toBe(
      'meter 1211751603 was calibrated until 2026-11-23; the session ended on 2026-11-24 (Europe/Berlin)',
    );
    ids.lapsed = lapsed.session.id;
  });

  it('lists meters due for calibration', async () => {
    const due = await call('GET', '/meters/due?days=30', readOnly);
    expect(due.status).toBe(200);
    expect(
      due.body.data.map((m: { serial: string; calibrationStatus: string }) => [m.serial, m.calibrationStatus]),
    ).toEqual([[SERIAL, 'lapsed']]);
    expect((await call('PATCH', `/meters/${ids.meter}`, admin, { calibrationValidUntil: '2029-12-31' })).status).toBe(
      200,
    );
    expect((await call('GET', '/meters/due?days=30', readOnly)).body.data).toEqual([]);
    expect((await call('GET', '/meters/due?days=99999', readOnly)).status).toBe(400);
    expect((await call('PATCH', `/meters/${ids.meter}`, readOnly, { model: 'x' })).status).toBe(403);
  });

  it('pins the key of a meter seen for the first time, flagged, and holds a key mismatch later', async () => {
    const client = await station('DEMO-0002');
    const first = await signedSession(client, {
      idTag: 'DEMO0002',
      day: '2026-11-20',
      meterStart: 57_584,
      meterStop: 58_685,
      signed: OCMF,
    });
    // The record carries no key itself over OCPP 1.6; without a registered one it cannot be verified.
    expect(first.session.billing_status).toBe('Held');
    expect(first.findings.filter((f) => f.endsWith(':hold'))).toEqual(['SignedDataUnverifiable:hold']);

    // OCPP 2.0.1-style SignedMeterValueType in the value string (OCA application note): the key travels along.
    const withKey = JSON.stringify({
      signedMeterData: Buffer.from(OCMF).toString('base64'),
      signingMethod: '',
      encodingMethod: 'OCMF',
      publicKey: Buffer.from(`oca:base16:asn1:${KEY}`).toString('base64'),
    });
    const pinned = await signedSession(client, {
      idTag: 'DEMO0002',
      day: '2026-11-21',
      meterStart: 57_584,
      meterStop: 58_685,
      signed: withKey,
    });
    expect(pinned.session.billing_status).toBe('Billed');
    expect(pinned.findings).toEqual(expect.arrayContaining(['SignedDataVerified:info', 'MeterKeyPinned:warn']));
    const meter = await db()
      .selectFrom('meters')
      .selectAll()
      .where('station_id', '=', 'DEMO-0002')
      .executeTakeFirstOrThrow();
    expect(meter).toMatchObject({ serial: SERIAL, key_source: 'pinned', public_key: expect.any(String) });

    // Another key now arrives with the data: held, whatever the data says.
    const otherKey = samples.find((s) => s.file.endsWith('chargepoint_3.xml'))!.publicKey;
    const mismatch = await signedSession(client, {
      idTag: 'DEMO0002',
      day: '2026-11-22',
      meterStart: 57_584,
      meterStop: 58_685,
      signed: JSON.stringify({
        signedMeterData: Buffer.from(OCMF).toString('base64'),
        encodingMethod: 'OCMF',
        publicKey: Buffer.from(`oca:base16:asn1:${otherKey}`).toString('base64'),
      }),
    });
    expect(mismatch.session.billing_status).toBe('Held');
    expect(mismatch.findings.filter((f) => f.endsWith(':hold'))).toEqual(['MeterKeyMismatch:hold']);
  });

  it('shows held sessions in the review queue (admin only), with the findings that hold them', async () => {
    expect((await call('GET', '/review-queue', readOnly)).status).toBe(403);
    const queue = await call('GET', '/review-queue?limit=100', admin);
    expect(queue.status).toBe(200);
    const byId = new Map(queue.body.data.map((item: { sessionId: string }) => [item.sessionId, item]));
    expect(byId.get(ids.tampered)).toMatchObject({
      stationId: 'DEMO-0001',
      energyWh: 1102,
      holds: [expect.objectContaining({ code: 'SignedDataInvalid', severity: 'hold' })],
    });
    expect(byId.has(ids.mismatch) && byId.has(ids.lapsed)).toBe(true);
  });

  it('releases a held session: priced, CDR created, decision and audit recorded; a second decision is refused', async () => {
    const tooShort = await call('POST', `/sessions/${ids.lapsed}/release`, admin, { reason: 'x' });
    expect(tooShort.status).toBe(400);
    expect((await call('POST', `/sessions/${ids.lapsed}/release`, readOnly, { reason: 'checked' })).status).toBe(403);
    const released = await call('POST', `/sessions/${ids.lapsed}/release`, admin, {
      reason: 'recalibrated on 2026-11-24 before the session, certificate pending',
    });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ decision: 'release', billingStatus: 'Billed', cdrId: ids.lapsed });
    const session = await db()
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', ids.lapsed)
      .executeTakeFirstOrThrow();
    expect(session.billing_status).toBe('Billed');
    const findings = session.findings as { code: string; severity: string }[];
    expect(findings.filter((f) => f.severity === 'hold')).toEqual([]);
    expect(findings.map((f) => `${f.code}:${f.severity}`)).toEqual(
      expect.arrayContaining(['CalibrationLapsed:warn', 'ReviewReleased:info']),
    );
    const cdr = await db()
      .selectFrom('cdrs')
      .selectAll()
      .where('session_id', '=', ids.lapsed)
      .executeTakeFirstOrThrow();
    expect(cdr.energy_wh).toBe(1101n);
    expect((cdr.cdr as { signed_data?: unknown }).signed_data).toBeDefined();
    const decision = await db()
      .selectFrom('review_decisions')
      .select(['decision', 'reason', 'actor'])
      .where('session_id', '=', ids.lapsed)
      .executeTakeFirstOrThrow();
    expect(decision).toMatchObject({ decision: 'release', actor: expect.stringMatching(/^api-key:/) });
    const audit = await db()
      .selectFrom('audit_log')
      .select(['action', 'actor', 'after'])
      .where('subject_id', '=', ids.lapsed)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'session.release',
      after: expect.objectContaining({ billingStatus: 'Billed', cdrId: ids.lapsed, currency: 'EUR' }),
    });
    const again = await call('POST', `/sessions/${ids.lapsed}/release`, admin, { reason: 'again please' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('SessionNotHeld');
  });

  it('voids a held session: never billed, decision and audit recorded', async () => {
    const voided = await call('POST', `/sessions/${ids.mismatch}/void`, admin, {
      reason: 'meterStop does not match the signed reading; driver refunded by phone',
    });
    expect(voided.status).toBe(200);
    expect(voided.body).toMatchObject({ decision: 'void', billingStatus: 'NotBillable' });
    const session = await db()
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', ids.mismatch)
      .executeTakeFirstOrThrow();
    expect(session.billing_status).toBe('NotBillable');
    expect(await db().selectFrom('cdrs').select('id').where('session_id', '=', ids.mismatch).executeTakeFirst()).toBe(
      undefined,
    );
    const audit = await db().selectFrom('audit_log').select('action').where('subject_id', '=', ids.mismatch).execute();
    expect(audit).toEqual([{ action: 'session.void' }]);
    const queue = await call('GET', '/review-queue?limit=100', admin);
    const queued = queue.body.data.map((item: { sessionId: string }) => item.sessionId);
    expect(queued).toContain(ids.tampered);
    expect(queued).not.toContain(ids.mismatch);
    expect(queued).not.toContain(ids.lapsed);
    const unknown = await call('POST', '/sessions/00000000-0000-4000-8000-000000000000/void', admin, {
      reason: 'none',
    });
    expect(unknown.status).toBe(404);
  });

  it('refuses to release a session that has no energy figure to bill', async () => {
    const client = await station('DEMO-0003');
    const started = await client.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0003',
      meterStart: 50_000,
      timestamp: '2026-11-25T15:00:00.000Z',
    });
    await client.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 40_000,
      timestamp: '2026-11-25T16:00:00.000Z',
    });
    const session = await db()
      .selectFrom('sessions')
      .select(['id', 'billing_status'])
      .where('station_id', '=', 'DEMO-0003')
      .where('transaction_id', '=', String(started.transactionId))
      .executeTakeFirstOrThrow();
    expect(session.billing_status).toBe('Held');
    const refused = await call('POST', `/sessions/${session.id}/release`, admin, { reason: 'looks fine to me' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toEqual({
      code: 'ReleaseNotPossible',
      message: `cannot bill session ${session.id}: the session has no energy figure to bill (meter readings unusable)`,
    });
    const after = await db()
      .selectFrom('sessions')
      .select('billing_status')
      .where('id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(after.billing_status).toBe('Held');
    expect(
      await db().selectFrom('review_decisions').select('id').where('session_id', '=', session.id).execute(),
    ).toEqual([]);
  });
});
