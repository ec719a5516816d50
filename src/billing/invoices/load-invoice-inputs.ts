/**
 * Reads what an invoice prints from the database: the priced session with its place, the seller and the buyer.
 * Used inside the issuing transaction, so the document matches the rows it was built from.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, InvoiceBillingPlansTable, InvoiceSellersTable, SessionRow } from '../../db/schema.ts';
import type { EvseContext } from '../../stations/station-store.ts';
import type { SessionToInvoice, StoredInvoiceLine } from './build-invoice-document.ts';
import { alpha2FromAlpha3 } from './country-codes.ts';
import { isSealed } from './invoice-buyer-cipher.ts';
import type { InvoiceParty, InvoiceSeller } from './invoice-document.ts';

export type LoadedSession = SessionToInvoice & {
  readonly operatorId: string;
  readonly currency: string;
  readonly idTokenId: string | null;
  /** ISO 3166-1 alpha-3 of the station's location (the country of supply, for VAT). */
  readonly countryAlpha3: string;
};

/** The billed sessions (with a CDR) among `sessionIds`, in the order of their start. */
export async function loadSessionsToInvoice(
  db: Kysely<Database>,
  sessionIds: readonly string[],
): Promise<LoadedSession[]> {
  if (sessionIds.length === 0) return [];
  const rows = await selectSessionsToInvoice(db)
    .where('s.id', 'in', sessionIds)
    .orderBy('s.started_at')
    .orderBy('s.id')
    .execute();
  return rows.map(toLoadedSession);
}

/**
 * One billed session (with a CDR) and the invoice it is on (null: none), in one read: what a stop's invoice hook
 * and ledger posting need. Undefined when the session has no CDR.
 */
export async function loadSessionToInvoiceWithInvoiceId(
  db: Kysely<Database>,
  sessionId: string,
): Promise<{ readonly loaded: LoadedSession; readonly invoiceId: string | null } | undefined> {
  const row = await selectSessionsToInvoice(db)
    .select((eb) =>
      eb
        .selectFrom('invoice_sessions as i')
        .select('i.invoice_id')
        .whereRef('i.session_id', '=', 's.id')
        .as('invoice_id'),
    )
    .where('s.id', '=', sessionId)
    .executeTakeFirst();
  return row && { loaded: toLoadedSession(row), invoiceId: row.invoice_id ?? null };
}

function selectSessionsToInvoice(db: Kysely<Database>) {
  return db
    .selectFrom('sessions as s')
    .innerJoin('cdrs as c', 'c.session_id', 's.id')
    .innerJoin('stations as st', 'st.id', 's.station_id')
    .leftJoin('locations as l', 'l.id', 'st.location_id')
    .leftJoin('evses as e', (join) =>
      join.onRef('e.station_id', '=', 's.station_id').onRef('e.evse_id', '=', 's.evse_id'),
    )
    .select([
      's.id',
      's.operator_id',
      's.station_id',
      's.evse_id',
      's.id_tag',
      's.id_token_id',
      's.time_zone',
      's.started_at',
      's.ended_at',
      's.meter_start_wh',
      's.meter_stop_wh',
      'c.id as cdr_id',
      'c.currency',
      'c.energy_wh',
      'c.lines',
      // The CDR carries OCPI signed_data only when the session's signed meter values were verified.
      sql<boolean>`coalesce(jsonb_typeof(c.cdr -> 'signed_data') = 'object', false)`.as('signed'),
      'e.evse_uid',
      'l.name as location_name',
      'l.address',
      'l.postal_code',
      'l.city',
      'l.country',
    ]);
}

type SessionToInvoiceRow = Awaited<ReturnType<ReturnType<typeof selectSessionsToInvoice>['executeTakeFirstOrThrow']>>;

/** The CDR columns an invoice reads, as billSession has just written them. */
export type WrittenCdr = {
  readonly id: string;
  readonly currency: string;
  readonly energyWh: bigint;
  /** cdrs.lines as read back: the stored JSON text parsed (bigints are strings in it). */
  readonly lines: unknown;
  /** Whether the CDR carries OCPI signed_data (an object), as the read's jsonb_typeof test says. */
  readonly signed: boolean;
};

/**
 * What loadSessionToInvoiceWithInvoiceId would read for a session whose CDR this transaction has just inserted,
 * built from the rows in hand instead: `session` as it is stored (the stop writes exactly these columns), the CDR
 * as written, and the EVSE context the price was computed with (the same station, location and EVSE rows the read
 * joins; an EvseContext exists only when all of them do, so the read's fallbacks for missing ones do not apply).
 * test/stop-shared-reads.test.ts compares the two.
 */
export function loadedSessionOfWrittenCdr(session: SessionRow, cdr: WrittenCdr, where: EvseContext): LoadedSession {
  return toLoadedSession({
    id: session.id,
    operator_id: session.operator_id,
    station_id: session.station_id,
    evse_id: session.evse_id,
    id_tag: session.id_tag,
    id_token_id: session.id_token_id,
    time_zone: session.time_zone,
    started_at: session.started_at,
    ended_at: session.ended_at,
    meter_start_wh: session.meter_start_wh,
    meter_stop_wh: session.meter_stop_wh,
    cdr_id: cdr.id,
    currency: cdr.currency,
    energy_wh: cdr.energyWh,
    lines: cdr.lines,
    signed: cdr.signed,
    evse_uid: where.evseUid,
    location_name: where.locationName,
    address: where.address,
    postal_code: where.postalCode,
    city: where.city,
    country: where.country,
  });
}

function toLoadedSession(row: SessionToInvoiceRow): LoadedSession {
  return {
    sessionId: row.id,
    cdrId: row.cdr_id,
    operatorId: row.operator_id,
    currency: row.currency,
    idTokenId: row.id_token_id,
    countryAlpha3: row.country ?? '',
    stationId: row.station_id,
    evseUid: row.evse_uid ?? `${row.station_id}/${row.evse_id}`,
    locationName: row.location_name ?? row.station_id,
    locationAddress: [row.address, [row.postal_code, row.city].filter(Boolean).join(' '), row.country]
      .filter(Boolean)
      .join(', '),
    timeZone: row.time_zone,
    startedAt: row.started_at,
    endedAt: row.ended_at ?? row.started_at,
    meterStartWh: row.meter_start_wh,
    meterStopWh: row.meter_stop_wh ?? row.meter_start_wh + row.energy_wh,
    energyWh: row.energy_wh,
    idTag: row.id_tag,
    signedData: row.signed === true,
    lines: row.lines as StoredInvoiceLine[],
  };
}

/** The seller as configured (invoice_sellers), or derived from the operator and its first location. */
export async function loadSeller(db: Kysely<Database>, operatorId: string): Promise<InvoiceSeller> {
  const configured = await db
    .selectFrom('invoice_sellers')
    .selectAll()
    .where('operator_id', '=', operatorId)
    .executeTakeFirst();
  return configured ? sellerOf(configured) : derivedSeller(db, operatorId);
}

/** A configured seller (an invoice_sellers row) as the invoice prints it. */
export function sellerOf(configured: Selectable<InvoiceSellersTable>): InvoiceSeller {
  return {
    name: configured.legal_name,
    street: configured.street,
    city: configured.city,
    postalCode: configured.postal_code,
    countryCode: configured.country_code,
    vatId: configured.vat_id,
    email: configured.email,
    iban: configured.iban,
    paymentTermsDays: configured.payment_terms_days,
  };
}

/** The seller of an operator without a configured one: its name and country, and its first location's address. */
export async function derivedSeller(db: Kysely<Database>, operatorId: string): Promise<InvoiceSeller> {
  const operator = await db
    .selectFrom('operators')
    .select(['name', 'country_code'])
    .where('id', '=', operatorId)
    .executeTakeFirstOrThrow();
  const location = await db
    .selectFrom('locations')
    .select(['address', 'city', 'postal_code'])
    .where('operator_id', '=', operatorId)
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
  return {
    name: operator.name,
    street: location?.address || null,
    city: location?.city || null,
    postalCode: location?.postal_code || null,
    countryCode: operator.country_code,
    vatId: null,
    email: null,
    iban: null,
    paymentTermsDays: 14,
  };
}

export type BillingPlan = {
  readonly mode: 'per_session' | 'monthly';
  readonly customerId: string | null;
  readonly buyer: InvoiceParty | null;
};

/** How a token's sessions are invoiced: per session unless a plan says monthly. */
export async function loadBillingPlan(db: Kysely<Database>, idTokenId: string | null): Promise<BillingPlan> {
  if (!idTokenId) return { mode: 'per_session', customerId: null, buyer: null };
  const plan = await db
    .selectFrom('invoice_billing_plans')
    .selectAll()
    .where('id_token_id', '=', idTokenId)
    .executeTakeFirst();
  return billingPlanOf(plan ?? null);
}

/** The plan a stored row (or none) says. */
export function billingPlanOf(plan: Selectable<InvoiceBillingPlansTable> | null): BillingPlan {
  if (!plan) return { mode: 'per_session', customerId: null, buyer: null };
  return {
    mode: plan.mode,
    customerId: plan.customer_id,
    buyer:
      plan.buyer_name && plan.buyer_country_code
        ? {
            name: plan.buyer_name,
            street: plan.buyer_street,
            city: plan.buyer_city,
            postalCode: plan.buyer_postal_code,
            countryCode: plan.buyer_country_code,
            vatId: plan.buyer_vat_id,
          }
        : null,
  };
}

/**
 * A driver without a known name or address (ad-hoc, card-on-file): named by the card, located in the country of
 * supply. EN 16931 requires a buyer name and country; the invoice is then a simplified (B2C) invoice.
 *
 * The card's label can be a name, so it is stored sealed (migration 0012) together with `sealedName`, the sealed
 * `<label> (<uid>)` that is copied into the document as it is (issuing holds no key). A label in clear text
 * (written before 0012) still names the buyer in clear, as before; a sealed label without a sealed name never
 * puts a ciphertext into the name.
 */
export function anonymousBuyer(
  idTag: string,
  label: string | null,
  countryAlpha3: string,
  fallbackCountry: string,
  sealedName: string | null = null,
): InvoiceParty {
  const name = isSealed(sealedName)
    ? sealedName
    : label && !isSealed(label)
      ? `${label} (${idTag})`
      : `Card holder ${idTag}`;
  return {
    name,
    street: null,
    city: null,
    postalCode: null,
    countryCode: alpha2FromAlpha3(countryAlpha3) ?? fallbackCountry,
    vatId: null,
  };
}
