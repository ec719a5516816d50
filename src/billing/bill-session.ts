/**
 * Prices a finished session with the tariff version frozen at its start and stores its CDR, inside the caller's
 * transaction (so a session is never Completed without its billing decision). A session with a `hold` finding,
 * no tariff or a pricing error is Held for review instead: nothing is billed on a guess.
 */
import type { Transaction } from 'kysely';
import { queryTemplate } from '../db/query-template.ts';
import type { Database, SessionRow } from '../db/schema.ts';
import type { LoadedMetering } from '../meters/assess-session-metering.ts';
import { loadCdrMetering } from '../meters/load-cdr-signed-data.ts';
import { buildTimeline } from '../sessions/build-timeline.ts';
import { type Finding, hasHold } from '../sessions/finding.ts';
import { loadSamples, loadStateChanges } from '../sessions/session-store.ts';
import type { Money } from '../shared/money.ts';
import { loadEvseContext } from '../stations/station-store.ts';
import { parseTariff } from '../tariff/parse-tariff.ts';
import { priceSession } from '../tariff/price-session.ts';
import { loadTariffVersion } from '../tariff/tariff-store.ts';
import { type BillingShared, sharedIdToken } from './billing-shared.ts';
import { buildCdr } from './build-cdr.ts';
import { loadedSessionOfWrittenCdr } from './invoices/load-invoice-inputs.ts';
import type { TariffVersionCache } from './tariff-version-cache.ts';

export type BillingOutcome =
  | {
      readonly status: 'Billed';
      readonly cdrId: string;
      readonly exclVat: Money;
      readonly inclVat: Money;
      readonly findings: Finding[];
    }
  | { readonly status: 'Held'; readonly findings: Finding[] }
  | { readonly status: 'NotBillable'; readonly findings: Finding[] };

export type BillOptions = {
  /** Read by the stop already in this transaction (assess-session-metering.ts): not read again. */
  readonly metering?: LoadedMetering;
  /** Parsed tariff versions kept across stops (versions never change); without it the version is read. */
  readonly tariffs?: TariffVersionCache;
  /** Filled with what is read here (EVSE context, id token) for the billing hooks; may hold some already. */
  readonly shared?: BillingShared;
};

/** The CDR's insert, built once (src/db/query-template.ts): every billed stop runs it. */
const insertCdrQuery = queryTemplate(
  'insert cdr',
  [
    'id',
    'operatorId',
    'sessionId',
    'currency',
    'energyWh',
    'totalExclVatMinor',
    'totalInclVatMinor',
    'tariffVersionId',
    'cdr',
    'lines',
    'createdAt',
  ],
  (
    db,
    p: {
      id: string;
      operatorId: string;
      sessionId: string;
      currency: string;
      energyWh: bigint;
      totalExclVatMinor: bigint;
      totalInclVatMinor: bigint;
      tariffVersionId: string;
      cdr: string;
      lines: string;
      createdAt: Date;
    },
  ) =>
    db
      .insertInto('cdrs')
      .values({
        id: p.id,
        operator_id: p.operatorId,
        session_id: p.sessionId,
        currency: p.currency,
        energy_wh: p.energyWh,
        total_excl_vat_minor: p.totalExclVatMinor,
        total_incl_vat_minor: p.totalInclVatMinor,
        tariff_version_id: p.tariffVersionId,
        cdr: p.cdr,
        lines: p.lines,
        created_at: p.createdAt,
      })
      .onConflict((oc) => oc.column('session_id').doNothing())
      .returning('id'),
);

/**
 * `session` must be the row as the caller stores it after this (the stop writes exactly its columns): with
 * `options.shared`, the invoice's view of the billed session is built from it (loadedSessionOfWrittenCdr).
 */
export async function billSession(
  trx: Transaction<Database>,
  session: SessionRow,
  findings: readonly Finding[],
  now: Date,
  options: BillOptions = {},
): Promise<BillingOutcome> {
  const shared = options.shared ?? {};
  const all = [...findings];
  if (session.authorization_status !== 'Accepted') return { status: 'NotBillable', findings: all };
  if (session.energy_wh === null || session.ended_at === null || hasHold(all)) return { status: 'Held', findings: all };
  const held = (code: Finding['code'], message: string): BillingOutcome => ({
    status: 'Held',
    findings: [...all, { code, severity: 'hold', message }],
  });
  if (session.tariff_version_id === null) return held('TariffNotFound', 'no tariff applied at the session start');
  const [parsed, where] = await Promise.all([
    options.tariffs
      ? options.tariffs.get(trx, session.tariff_version_id)
      : loadTariffVersion(trx, session.tariff_version_id).then(
          (record) => record && { record, tariff: parseTariff(record.body) },
        ),
    shared.evse !== undefined
      ? shared.evse
      : loadEvseContext(trx, session.station_id, session.evse_id, { acceptedOnly: false }),
  ]);
  shared.evse = where ?? null;
  if (!parsed) return held('TariffNotFound', `tariff version ${session.tariff_version_id} not found`);
  const { record: version, tariff } = parsed;
  if (!where) return held('PricingFailed', 'the station, its location or its EVSE no longer exists');
  if (!tariff.ok) return held('PricingFailed', `stored tariff is invalid: ${tariff.error.message}`);

  const [samples, states] = await Promise.all([
    options.metering?.samples ?? loadSamples(trx, session.id),
    options.metering?.states ?? loadStateChanges(trx, session.id),
  ]);
  const timeline = buildTimeline(
    {
      startedAt: session.started_at,
      endedAt: session.ended_at,
      meterStartWh: session.meter_start_wh,
      energyWh: session.energy_wh,
    },
    samples,
    states,
  );
  all.push(...timeline.findings);
  const priced = priceSession(
    {
      kind: 'timeline',
      timeline: { startedAt: timeline.startedAt, endedAt: timeline.endedAt, samples: timeline.samples },
    },
    tariff.value,
    { timeZone: session.time_zone, rounding: where.roundingMode },
  );
  if (!priced.ok) return held('PricingFailed', `${priced.error.code}: ${priced.error.message}`);

  const token = session.id_token_id ? await sharedIdToken(trx, shared, session.id_token_id) : null;
  const metering = await loadCdrMetering(trx, session, options.metering ?? {});
  const cdrId = session.id;
  const cdr = buildCdr(
    {
      cdrId,
      sessionId: session.id,
      idTag: session.id_tag,
      tokenType: token?.type ?? 'RFID',
      contractId: token?.contractId ?? null,
      meterId: metering.meterId,
      lastUpdated: now,
      signedData: metering.signedData,
    },
    where,
    priced.value.ocpi as Record<string, unknown>,
  );
  const { exclVat, inclVat } = priced.value.totals;
  const lines = JSON.stringify(priced.value.lines, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  const [inserted] = await insertCdrQuery.rows(trx, {
    id: cdrId,
    operatorId: session.operator_id,
    sessionId: session.id,
    currency: priced.value.currency,
    energyWh: session.energy_wh,
    totalExclVatMinor: exclVat.minor,
    totalInclVatMinor: inclVat.minor,
    tariffVersionId: version.tariffVersionId,
    cdr: JSON.stringify(cdr),
    lines,
    createdAt: now,
  });
  if (inserted && options.shared && shared.loadedSession === undefined) {
    // The invoice hook and the ledger posting read the session with its CDR next; all of it is in hand, so that
    // read (one round trip per stop) is not made. A CDR this statement inserted is on no invoice yet: invoices take
    // sessions with a CDR, and this one was not there before the statement. (A CDR that existed already, which
    // the stop of an Active session never meets, is left to the read.)
    shared.loadedSession = loadedSessionOfWrittenCdr(
      session,
      {
        id: cdrId,
        currency: priced.value.currency,
        energyWh: session.energy_wh,
        lines: JSON.parse(lines),
        signed: isJsonObject(cdr.signed_data),
      },
      where,
    );
    if (shared.invoiceId === undefined) shared.invoiceId = null;
  }
  return { status: 'Billed', cdrId, exclVat, inclVat, findings: all };
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
