/**
 * What one stop (or one review decision) has read already, handed from the billing decision to the billing hooks
 * and from hook to hook, so that no row is read twice in the stop's transaction: the session as an invoice prints
 * it, the invoice it is on, its id token, its EVSE context. Every field is filled by whoever reads it first, in the
 * same transaction; `undefined` means "not read yet", `null` means "read: there is none".
 */
import type { Kysely, Selectable } from 'kysely';
import { queryTemplate } from '../db/query-template.ts';
import type {
  Database,
  InvoiceBillingPlansTable,
  InvoiceSellersTable,
  PaymentProfilesTable,
  SessionRow,
} from '../db/schema.ts';
import { EVSE_CONTEXT_COLUMNS_BUT_CURRENCY, type EvseContext } from '../stations/station-store.ts';
import type { InvoiceSeller } from './invoices/invoice-document.ts';
import { type LoadedSession, loadSessionToInvoiceWithInvoiceId, sellerOf } from './invoices/load-invoice-inputs.ts';

/** The columns of the session's id token that pricing (CDR token) and invoicing (anonymous buyer) use. */
export type BillingIdToken = {
  readonly type: string;
  readonly contractId: string | null;
  readonly label: string | null;
  readonly anonymousBuyerName: string | null;
};

export type BillingShared = {
  /** The station's place and operator as billSession read it (acceptedOnly: false). */
  evse?: EvseContext | null;
  idToken?: BillingIdToken | null;
  /** The billed session as invoices and the ledger read it (load-invoice-inputs.ts). */
  loadedSession?: LoadedSession | null;
  /** The invoice the session is on; set by the invoice hook when it issues one. */
  invoiceId?: string | null;
  /**
   * The configured invoice seller (invoice_sellers) of the EVSE context's operator, read with the context by the
   * stop; null: none is configured (issueInvoice then derives one).
   */
  seller?: InvoiceSeller | null;
  /** The token's invoicing plan and payment profile, read with the token (both keyed by it). */
  billingPlan?: Selectable<InvoiceBillingPlansTable> | null;
  paymentProfile?: Selectable<PaymentProfilesTable> | null;
};

/**
 * The session's id token (the columns billing uses), read once, together with the token's invoicing plan and
 * payment profile (one row each at most: both are keyed by the token), which the hooks read next.
 */
export async function sharedIdToken(
  db: Kysely<Database>,
  shared: BillingShared,
  idTokenId: string,
): Promise<BillingIdToken | null> {
  if (shared.idToken === undefined) {
    const row = await db
      .selectFrom('id_tokens as t')
      .leftJoin('invoice_billing_plans as b', 'b.id_token_id', 't.id')
      .leftJoin('payment_profiles as p', 'p.id_token_id', 't.id')
      .select(ID_TOKEN_BILLING_COLUMNS)
      .where('t.id', '=', idTokenId)
      .executeTakeFirst();
    fillIdToken(shared, row);
  }
  return shared.idToken ?? null;
}

/** lockSessionForBilling's statement, built once (src/db/query-template.ts): it runs on every stop. */
const lockSessionQuery = queryTemplate(
  'lockSessionForBilling',
  ['stationId', 'transactionId'],
  (db, p: { stationId: string; transactionId: string }) =>
    db
      .selectFrom('sessions as x')
      .leftJoin('stations as s', 's.id', 'x.station_id')
      .leftJoin('operators as o', 'o.id', 's.operator_id')
      .leftJoin('locations as l', 'l.id', 's.location_id')
      .leftJoin('evses as e', (join) => join.onRef('e.station_id', '=', 's.id').onRef('e.evse_id', '=', 'x.evse_id'))
      .leftJoin('id_tokens as t', 't.id', 'x.id_token_id')
      .leftJoin('invoice_billing_plans as b', 'b.id_token_id', 't.id')
      .leftJoin('payment_profiles as p', 'p.id_token_id', 't.id')
      .leftJoin('invoice_sellers as sl', 'sl.operator_id', 'o.id')
      .selectAll('x')
      // The session has a currency of its own: the operator's comes as ctx_currency.
      .select([...EVSE_CONTEXT_COLUMNS_BUT_CURRENCY, 'o.currency as ctx_currency'])
      .select(ID_TOKEN_BILLING_COLUMNS)
      .select(SELLER_COLUMNS)
      .where('x.station_id', '=', p.stationId)
      .where('x.transaction_id', '=', p.transactionId)
      .forUpdate(['x']),
);

/**
 * The stop's session, locked (FOR UPDATE), and in the same statement what its billing reads first: the EVSE context
 * (as billSession reads it: acceptedOnly false), the id token's billing columns with its plan and profile, and the
 * operator's configured invoice seller, all left-joined to the session. One statement instead of four (the lock,
 * loadEvseContext, sharedIdToken, loadSeller). Undefined when there is no such session. Without the context (its
 * station, location or EVSE is gone) `shared.evse` is null and the token and seller are left to their own reads.
 */
export async function lockSessionForBilling(
  trx: Kysely<Database>,
  shared: BillingShared,
  stationId: string,
  transactionId: string,
): Promise<SessionRow | undefined> {
  const [row] = await lockSessionQuery.rows(trx, { stationId, transactionId });
  if (!row) return undefined;
  // The row's parts apart, each named by its key list; what is left is the session's row.
  const rest: Record<string, unknown> = { ...row };
  const take = (keys: readonly string[]) => {
    const part: Record<string, unknown> = {};
    for (const key of keys) {
      part[key] = rest[key];
      delete rest[key];
    }
    return part;
  };
  const { ctx_currency: currency, ...evse } = take([...EVSE_CONTEXT_KEYS, 'ctx_currency']);
  const token = take(ID_TOKEN_BILLING_KEYS);
  const seller = take(SELLER_KEYS);
  const session = rest as SessionRow;
  // Inner-join semantics, as loadEvseContext: a context only when its station, operator, location and EVSE exist.
  const complete = row.stationId !== null && row.operatorId !== null && row.locationId !== null && row.evseId !== null;
  shared.evse = complete ? ({ ...evse, currency } as EvseContext) : null;
  if (!complete) return session;
  if (session.id_token_id !== null && shared.idToken === undefined) {
    fillIdToken(shared, row.type === null ? undefined : (token as IdTokenBillingRow));
  }
  if (shared.seller === undefined) {
    shared.seller =
      row.sl_operator_id === null
        ? null
        : sellerOf(
            Object.fromEntries(
              Object.entries(seller).map(([key, value]) => [key.slice('sl_'.length), value]),
            ) as Selectable<InvoiceSellersTable>,
          );
  }
  return session;
}

/** The keys EVSE_CONTEXT_COLUMNS_BUT_CURRENCY gives its columns in a row (the alias, else the column's name). */
const EVSE_CONTEXT_KEYS = EVSE_CONTEXT_COLUMNS_BUT_CURRENCY.map(keyOfColumn);

function keyOfColumn(column: string): string {
  return column.split(' as ')[1] ?? column.split('.')[1]!;
}

/** The configured seller's columns, as sl_<column>. */
const SELLER_COLUMNS = [
  'sl.operator_id as sl_operator_id',
  'sl.legal_name as sl_legal_name',
  'sl.street as sl_street',
  'sl.city as sl_city',
  'sl.postal_code as sl_postal_code',
  'sl.country_code as sl_country_code',
  'sl.vat_id as sl_vat_id',
  'sl.email as sl_email',
  'sl.iban as sl_iban',
  'sl.payment_terms_days as sl_payment_terms_days',
] as const;

const SELLER_KEYS = SELLER_COLUMNS.map(keyOfColumn);

/** The id token's columns billing uses, with its invoicing plan (b_) and payment profile (p_), both keyed by it. */
const ID_TOKEN_BILLING_COLUMNS = [
  't.type',
  't.contract_id',
  't.label',
  't.anonymous_buyer_name',
  'b.id_token_id as b_id_token_id',
  'b.operator_id as b_operator_id',
  'b.mode as b_mode',
  'b.customer_id as b_customer_id',
  'b.buyer_name as b_buyer_name',
  'b.buyer_vat_id as b_buyer_vat_id',
  'b.buyer_street as b_buyer_street',
  'b.buyer_city as b_buyer_city',
  'b.buyer_postal_code as b_buyer_postal_code',
  'b.buyer_country_code as b_buyer_country_code',
  'p.id_token_id as p_id_token_id',
  'p.operator_id as p_operator_id',
  'p.method as p_method',
  'p.payment_method_id as p_payment_method_id',
  'p.wallet_id as p_wallet_id',
  'p.hold_minor as p_hold_minor',
] as const;

/** The keys ID_TOKEN_BILLING_COLUMNS gives its columns in a row (the alias, else the column's name). */
const ID_TOKEN_BILLING_KEYS = ID_TOKEN_BILLING_COLUMNS.map(keyOfColumn);

type IdTokenBillingRow = {
  readonly type: string;
  readonly contract_id: string | null;
  readonly label: string | null;
  readonly anonymous_buyer_name: string | null;
  readonly b_id_token_id: string | null;
  readonly b_operator_id: string | null;
  readonly b_mode: Selectable<InvoiceBillingPlansTable>['mode'] | null;
  readonly b_customer_id: string | null;
  readonly b_buyer_name: string | null;
  readonly b_buyer_vat_id: string | null;
  readonly b_buyer_street: string | null;
  readonly b_buyer_city: string | null;
  readonly b_buyer_postal_code: string | null;
  readonly b_buyer_country_code: string | null;
  readonly p_id_token_id: string | null;
  readonly p_operator_id: string | null;
  readonly p_method: Selectable<PaymentProfilesTable>['method'] | null;
  readonly p_payment_method_id: string | null;
  readonly p_wallet_id: string | null;
  readonly p_hold_minor: Selectable<PaymentProfilesTable>['hold_minor'] | null;
};

/** Sets the token (null: no such token), and its plan and profile unless known already, from one read's row. */
function fillIdToken(shared: BillingShared, row: IdTokenBillingRow | undefined): void {
  if (!row) {
    shared.idToken = null;
    return;
  }
  shared.idToken = {
    type: row.type,
    contractId: row.contract_id,
    label: row.label,
    anonymousBuyerName: row.anonymous_buyer_name,
  };
  if (shared.billingPlan === undefined) {
    shared.billingPlan =
      row.b_id_token_id === null || row.b_operator_id === null || row.b_mode === null
        ? null
        : {
            id_token_id: row.b_id_token_id,
            operator_id: row.b_operator_id,
            mode: row.b_mode,
            customer_id: row.b_customer_id,
            buyer_name: row.b_buyer_name,
            buyer_vat_id: row.b_buyer_vat_id,
            buyer_street: row.b_buyer_street,
            buyer_city: row.b_buyer_city,
            buyer_postal_code: row.b_buyer_postal_code,
            buyer_country_code: row.b_buyer_country_code,
          };
  }
  if (shared.paymentProfile === undefined) {
    shared.paymentProfile =
      row.p_id_token_id === null || row.p_operator_id === null || row.p_method === null
        ? null
        : {
            id_token_id: row.p_id_token_id,
            operator_id: row.p_operator_id,
            method: row.p_method,
            payment_method_id: row.p_payment_method_id,
            wallet_id: row.p_wallet_id,
            hold_minor: row.p_hold_minor,
          };
  }
}

/**
 * The session as an invoice and the ledger read it (null: no CDR), read once; the same read learns the invoice the
 * session is on, unless that is known already.
 */
export async function sharedLoadedSession(
  db: Kysely<Database>,
  shared: BillingShared,
  sessionId: string,
): Promise<LoadedSession | null> {
  if (shared.loadedSession === undefined) {
    const found = await loadSessionToInvoiceWithInvoiceId(db, sessionId);
    shared.loadedSession = found?.loaded ?? null;
    if (found && shared.invoiceId === undefined) shared.invoiceId = found.invoiceId;
  }
  return shared.loadedSession;
}

/** The id of the invoice the session is on (null: none yet), read once. */
export async function sharedInvoiceId(
  db: Kysely<Database>,
  shared: BillingShared,
  sessionId: string,
): Promise<string | null> {
  if (shared.invoiceId === undefined) {
    const row = await db
      .selectFrom('invoice_sessions')
      .select('invoice_id')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    shared.invoiceId = row?.invoice_id ?? null;
  }
  return shared.invoiceId;
}
