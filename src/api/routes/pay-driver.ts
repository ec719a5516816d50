/**
 * The driver's side of an ad-hoc (QR code) payment and of a driver account, for the pages in web/:
 *
 * - GET /pay/sessions/:paymentId — the live status of one ad-hoc payment and its session (waiting for the hold,
 *   hold placed, starting, charging with live energy and running cost, finished with the receipt, or failed with a
 *   reason). No account: it is authorised by the driver secret that POST /pay/:evseToken/sessions returned, sent as
 *   the `x-pay-secret` header. The secret is an HMAC of the payment id under the blind-index key: not guessable,
 *   one per payment, the same on every node and after a restart, and it opens that one payment and nothing else.
 * - GET /pay/sessions/:paymentId/receipt.pdf — the receipt (the session's invoice) as PDF, same secret.
 * - GET /me/invoices, GET /me/payment-methods — a signed-in driver's own invoices and saved cards (the account page);
 *   staff use /invoices and /payments instead.
 *
 * The QR token is deliberately not needed here: it expires within minutes, a session lasts hours.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { formatMinor } from '../../billing/invoices/format-invoice-values.ts';
import { openInvoiceDocument } from '../../billing/invoices/invoice-buyer-cipher.ts';
import type { InvoiceDocument } from '../../billing/invoices/invoice-document.ts';
import { paymentStatus } from '../../billing/invoices/payment-status.ts';
import { renderInvoicePdf } from '../../billing/invoices/render-pdf.ts';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { Database, InvoiceRow, PaymentRow, SessionRow } from '../../db/schema.ts';
import type { PaymentsRuntime } from '../../payments/payments-runtime.ts';
import { parseScaled } from '../../shared/decimal.ts';
import { formatMoney } from '../../shared/money.ts';
import { parseTariff } from '../../tariff/parse-tariff.ts';
import { quoteSession } from '../../tariff/quote-session.ts';
import { createAuthenticateHook } from '../auth/authenticate-request.ts';
import { createPrincipalRateLimiter } from '../auth/principal-rate-limit.ts';
import { DEFAULT_SECURITY } from '../auth/register-security.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { driverCustomerId } from '../require-role.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The header that carries the driver secret (a header, so that it stays out of URLs, logs and referrers). */
export const PAY_SECRET_HEADER = 'x-pay-secret';
/** How often the pay page should ask again while the session runs. */
export const PAY_STATUS_POLL_MS = 2_000;
/** A session held for review waits for a person: asking every 30 s is enough. */
const HELD_POLL_MS = 30_000;
const SECRET_CONTEXT = 'pay-driver-secret';
const EMAIL_CONTEXT = 'pay_driver_links.receipt_email';

export type RemoteStartOutcome = 'Accepted' | 'Rejected' | 'Unavailable' | 'NotYet';

export type PayState = 'waiting_for_hold' | 'hold_placed' | 'starting' | 'charging' | 'finished' | 'failed';

/** The driver secret of one ad-hoc payment: 64 hex characters, an HMAC-SHA256 of its id. */
export function driverSecretFor(cipher: FieldCipher, paymentId: string): string {
  return cipher.blindIndex(SECRET_CONTEXT, paymentId);
}

/**
 * Records what the pay page needs besides the payment row (the remote start's answer, the optional receipt email,
 * sealed) and returns the driver secret. Repeating the start call keeps the first email unless a new one is given.
 */
export async function recordDriverLink(
  deps: { db: Kysely<Database>; cipher: FieldCipher },
  input: { paymentId: string; remoteStart: RemoteStartOutcome; receiptEmail?: string | undefined; now: Date },
): Promise<{ driverSecret: string; statusPath: string }> {
  const email = input.receiptEmail?.trim() ? deps.cipher.encrypt(EMAIL_CONTEXT, input.receiptEmail.trim()) : null;
  await deps.db
    .insertInto('pay_driver_links')
    .values({ payment_id: input.paymentId, remote_start: input.remoteStart, receipt_email_enc: email })
    .onConflict((oc) =>
      oc.column('payment_id').doUpdateSet((eb) => ({
        // A later call that did not reach the station does not overwrite an answer the station gave.
        remote_start:
          input.remoteStart === 'NotYet' ? eb.ref('pay_driver_links.remote_start') : eb.val(input.remoteStart),
        receipt_email_enc: email ?? eb.ref('pay_driver_links.receipt_email_enc'),
        updated_at: input.now,
      })),
    )
    .execute();
  return {
    driverSecret: driverSecretFor(deps.cipher, input.paymentId),
    statusPath: `/api/v1/pay/sessions/${input.paymentId}`,
  };
}

/** Why an ad-hoc payment failed, in words a driver at a charger understands (the code stays for support). */
const FAILURE_TEXT: Record<string, string> = {
  CardDeclined: 'Your card was declined. No money was taken. Try another card.',
  InsufficientFunds: 'Your card was declined for insufficient funds. No money was taken. Try another card.',
  ExpiredCard: 'Your card has expired. No money was taken. Try another card.',
  IncorrectCvc: 'The security code (CVC) is not correct. No money was taken.',
  AuthenticationRequired: 'Your bank asks for an extra confirmation this page cannot do. Try another card.',
  StationRefused: 'The charger did not start. Your reservation is released; no money was taken.',
  NotStarted: 'The charger was not started in time. Your reservation is released; no money was taken.',
};

function failure(code: string) {
  return { code, message: FAILURE_TEXT[code] ?? `The payment did not go through (${code}). No money was taken.` };
}

function amountJson(minor: bigint, currency: string) {
  return { amount: formatMinor(minor, currency), currency, minor: minor.toString() };
}

/** Integer Wh from a numeric(20,3) register text (truncated to whole Wh: this is for display only). */
function wholeWh(registerText: string): number | undefined {
  const milli = parseScaled(registerText, 3);
  return milli === undefined ? undefined : Number(milli / 1000n);
}

async function findSession(db: Kysely<Database>, payment: PaymentRow): Promise<SessionRow | undefined> {
  if (payment.session_id) {
    return db.selectFrom('sessions').selectAll().where('id', '=', payment.session_id).executeTakeFirst();
  }
  // The worker links an ad-hoc payment to its session a little later; the one-time id token already names it.
  if (!payment.id_token_id) return undefined;
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('id_token_id', '=', payment.id_token_id)
    .orderBy('started_at', 'desc')
    .executeTakeFirst();
}

/** Energy so far (Wh) and the running cost of an active session: the tariff frozen at its start, quoted now. */
async function liveFigures(db: Kysely<Database>, session: SessionRow, now: Date) {
  const sample = await db
    .selectFrom('meter_samples')
    .select(['register_wh'])
    .where('session_id', '=', session.id)
    .where('register_wh', 'is not', null)
    .orderBy('sampled_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const registerWh = sample?.register_wh ? wholeWh(sample.register_wh) : undefined;
  const energyWh = registerWh === undefined ? 0 : Math.max(0, registerWh - Number(session.meter_start_wh));
  if (!session.tariff_version_id) return { energyWh, runningCost: null };
  const [version, operator] = await Promise.all([
    db.selectFrom('tariff_versions').select('body').where('id', '=', session.tariff_version_id).executeTakeFirst(),
    db.selectFrom('operators').select('rounding_mode').where('id', '=', session.operator_id).executeTakeFirst(),
  ]);
  const tariff = version ? parseTariff(version.body) : undefined;
  if (!tariff?.ok || !operator) return { energyWh, runningCost: null };
  // A quote needs a positive duration; a session seconds old is priced as one second.
  const durationMinutes = Math.max(now.getTime() - session.started_at.getTime(), 1000) / 60_000;
  const quote = quoteSession(tariff.value, {
    startAt: session.started_at,
    energyWh,
    durationMinutes,
    timeZone: session.time_zone,
    rounding: operator.rounding_mode,
  });
  if (!quote.ok) return { energyWh, runningCost: null };
  return {
    energyWh,
    runningCost: {
      exclVat: formatMoney(quote.value.totals.exclVat),
      inclVat: formatMoney(quote.value.totals.inclVat),
      currency: quote.value.totals.inclVat.currency,
    },
  };
}

async function findReceiptInvoice(db: Kysely<Database>, payment: PaymentRow, sessionId: string) {
  if (payment.invoice_id) {
    const byPayment = await db
      .selectFrom('invoices')
      .selectAll()
      .where('id', '=', payment.invoice_id)
      .executeTakeFirst();
    if (byPayment) return byPayment;
  }
  return db
    .selectFrom('invoices')
    .innerJoin('invoice_sessions', 'invoice_sessions.invoice_id', 'invoices.id')
    .selectAll('invoices')
    .where('invoice_sessions.session_id', '=', sessionId)
    .where('invoices.kind', '=', 'invoice')
    .orderBy('invoices.issued_at')
    .executeTakeFirst();
}

/** The status a driver's pay page shows; the state follows the payment first, then its session. */
export async function buildPayStatus(db: Kysely<Database>, payment: PaymentRow, sandbox: boolean, now: Date) {
  const link = await db
    .selectFrom('pay_driver_links')
    .select('remote_start')
    .where('payment_id', '=', payment.id)
    .executeTakeFirst();
  const session = await findSession(db, payment);
  let state: PayState;
  let failed: { code: string; message: string } | null = null;
  let live: Awaited<ReturnType<typeof liveFigures>> | null = null;
  let receipt = null;
  if (payment.status === 'pending') state = 'waiting_for_hold';
  else if (payment.status === 'failed') {
    state = 'failed';
    failed = failure(payment.failure_code ?? 'CardDeclined');
  } else if (payment.status === 'requires_authentication') {
    state = 'failed';
    failed = failure('AuthenticationRequired');
  } else if (session?.status === 'Active') {
    state = 'charging';
    live = await liveFigures(db, session, now);
  } else if (session) {
    state = 'finished';
    const invoice = await findReceiptInvoice(db, payment, session.id);
    if (invoice) receipt = receiptJson(invoice, payment);
  } else if (payment.status === 'authorized') {
    state = link?.remote_start === 'Accepted' ? 'starting' : 'hold_placed';
    if (link?.remote_start === 'Rejected') {
      state = 'failed';
      failed = failure('StationRefused');
    }
  } else {
    // Voided (or anything else) with no session: the hold was released before the charger started.
    state = 'failed';
    failed = failure(link?.remote_start === 'Rejected' ? 'StationRefused' : 'NotStarted');
  }
  return {
    paymentId: payment.id,
    state,
    sandbox,
    failure: failed,
    hold: amountJson(payment.requested_minor, payment.currency),
    paymentStatus: payment.status,
    session: session
      ? {
          stationId: session.station_id,
          evseId: session.evse_id,
          startedAt: session.started_at.toISOString(),
          endedAt: session.ended_at?.toISOString() ?? null,
          energyWh: live ? live.energyWh : session.energy_wh === null ? null : Number(session.energy_wh),
          billingStatus: session.billing_status,
        }
      : null,
    runningCost: live?.runningCost ?? null,
    receipt,
    // Finished without a receipt yet (billing runs right after the stop) or still running: ask again. A session not
    // billed at all never gets one; a session held for the operator's review gets one when released (much later).
    pollAfterMs:
      state === 'failed' || receipt || session?.billing_status === 'NotBillable'
        ? null
        : session?.billing_status === 'Held'
          ? HELD_POLL_MS
          : PAY_STATUS_POLL_MS,
  };
}

function receiptJson(invoice: InvoiceRow, payment: PaymentRow) {
  return {
    invoiceNumber: invoice.invoice_number,
    issuedAt: invoice.issued_at.toISOString(),
    currency: invoice.currency,
    totalExclVat: formatMinor(invoice.total_excl_vat_minor, invoice.currency),
    totalVat: formatMinor(invoice.total_vat_minor, invoice.currency),
    totalInclVat: formatMinor(invoice.total_incl_vat_minor, invoice.currency),
    // What the card was charged so far: the capture follows the invoice within seconds (payment worker).
    captured: amountJson(payment.captured_minor, payment.currency),
    pdfPath: `/api/v1/pay/sessions/${payment.id}/receipt.pdf`,
  };
}

/** The ad-hoc payment a driver secret opens; a wrong id or secret is the same 404 (no existence oracle). */
async function loadByDriverSecret(
  db: Kysely<Database>,
  cipher: FieldCipher,
  request: FastifyRequest<{ Params: { paymentId: string } }>,
): Promise<PaymentRow> {
  const given = request.headers[PAY_SECRET_HEADER];
  const id = request.params.paymentId;
  const notFound = new ApiError('NotFound', 'no such payment, or the link is not valid');
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given) || !UUID.test(id)) throw notFound;
  const expected = Buffer.from(driverSecretFor(cipher, id), 'hex');
  if (!timingSafeEqual(Buffer.from(given, 'hex'), expected)) throw notFound;
  const payment = await db
    .selectFrom('payments')
    .selectAll()
    .where('id', '=', id)
    .where('kind', '=', 'adhoc')
    .executeTakeFirst();
  if (!payment) throw notFound;
  return payment;
}

const paymentIdParams = {
  type: 'object',
  required: ['paymentId'],
  properties: { paymentId: { type: 'string', maxLength: 64 } },
} as const;

export function payDriverRoutes(deps: AppDeps, payments: PaymentsRuntime): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { paymentId: string } }>(
      '/pay/sessions/:paymentId',
      { schema: { summary: 'Status of an ad-hoc payment and its session (driver secret)', params: paymentIdParams } },
      async (request, reply) => {
        const payment = await loadByDriverSecret(deps.db, deps.cipher, request);
        reply.header('cache-control', 'no-store');
        return buildPayStatus(deps.db, payment, payments.provider.isSandbox, deps.clock.now());
      },
    );

    app.get<{ Params: { paymentId: string } }>(
      '/pay/sessions/:paymentId/receipt.pdf',
      { schema: { summary: 'The receipt of an ad-hoc session as PDF (driver secret)', params: paymentIdParams } },
      async (request, reply) => {
        const payment = await loadByDriverSecret(deps.db, deps.cipher, request);
        const session = await findSession(deps.db, payment);
        const invoice = session ? await findReceiptInvoice(deps.db, payment, session.id) : undefined;
        if (!invoice) throw new ApiError('NotFound', 'the receipt is not issued yet');
        // The buyer's personal fields are stored sealed (invoice-buyer-cipher.ts); the PDF shows the opened copy.
        const document = await openInvoiceDocument(deps.cipher, invoice.document as InvoiceDocument);
        const pdf = await renderInvoicePdf(document, await paymentStatus(deps.db, invoice));
        return reply
          .header('cache-control', 'no-store')
          .header('content-type', 'application/pdf')
          .header('content-disposition', `attachment; filename="${invoice.invoice_number}.pdf"`)
          .send(pdf);
      },
    );

    await app.register(async (api) => {
      api.addHook(
        'preParsing',
        createAuthenticateHook({
          db: deps.db,
          clock: deps.clock,
          tokenSigningKey: deps.cipher.tokenSigningKey,
          limiter: createPrincipalRateLimiter((deps.security ?? DEFAULT_SECURITY).rateLimitPerKey),
        }),
      );
      registerAccountRoutes(api, deps);
    });
  };
}

/** The signed-in driver's customer; staff have their own, operator-wide lists. */
function ownCustomer(request: FastifyRequest): string {
  const own = driverCustomerId(request);
  if (!own) throw new ApiError('Forbidden', 'this list is for driver accounts; staff use /invoices and /payments');
  return own;
}

function registerAccountRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { db } = deps;
  api.get(
    '/me/invoices',
    { config: { allowDrivers: true }, schema: { summary: "A driver's own invoices and credit notes" } },
    async (request) => {
      const own = ownCustomer(request);
      const operatorId = request.principal!.operatorId;
      // Issued to the customer, or for a session of one of the customer's tokens.
      const rows = await db
        .selectFrom('invoices')
        .selectAll()
        .where('operator_id', '=', operatorId)
        .where((eb) =>
          eb.or([
            eb('customer_id', '=', own),
            eb('id_token_id', 'in', eb.selectFrom('id_tokens').select('id').where('customer_id', '=', own)),
          ]),
        )
        .orderBy('issued_at', 'desc')
        .limit(100)
        .execute();
      return {
        data: rows.map((r) => ({
          id: r.id,
          invoiceNumber: r.invoice_number,
          kind: r.kind,
          issuedAt: r.issued_at.toISOString(),
          currency: r.currency,
          totalExclVat: formatMinor(r.total_excl_vat_minor, r.currency),
          totalVat: formatMinor(r.total_vat_minor, r.currency),
          totalInclVat: formatMinor(r.total_incl_vat_minor, r.currency),
        })),
      };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/me/invoices/:id/pdf',
    { config: { allowDrivers: true }, schema: { summary: "One of a driver's own invoices as PDF" } },
    async (request, reply) => {
      const own = ownCustomer(request);
      const id = request.params.id;
      const row = UUID.test(id)
        ? await db
            .selectFrom('invoices')
            .selectAll()
            .where('operator_id', '=', request.principal!.operatorId)
            .where('id', '=', id)
            .where((eb) =>
              eb.or([
                eb('customer_id', '=', own),
                eb('id_token_id', 'in', eb.selectFrom('id_tokens').select('id').where('customer_id', '=', own)),
              ]),
            )
            .executeTakeFirst()
        : undefined;
      // Another driver's invoice is "not found", never "forbidden" (no existence oracle).
      if (!row) throw new ApiError('NotFound', `no invoice ${id}`);
      const document = await openInvoiceDocument(deps.cipher, row.document as InvoiceDocument);
      const pdf = await renderInvoicePdf(document, await paymentStatus(db, row));
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', `attachment; filename="${row.invoice_number}.pdf"`)
        .send(pdf);
    },
  );

  api.get(
    '/me/payment-methods',
    { config: { allowDrivers: true }, schema: { summary: "A driver's own saved cards (brand, last four, expiry)" } },
    async (request) => {
      const own = ownCustomer(request);
      const rows = await db
        .selectFrom('payment_methods')
        .select(['id', 'brand', 'last4', 'exp_month', 'exp_year', 'status', 'provider', 'created_at'])
        .where('operator_id', '=', request.principal!.operatorId)
        .where((eb) =>
          eb.or([
            eb('customer_id', '=', own),
            eb('id_token_id', 'in', eb.selectFrom('id_tokens').select('id').where('customer_id', '=', own)),
          ]),
        )
        .orderBy('created_at', 'desc')
        .limit(20)
        .execute();
      return {
        data: rows.map((r) => ({
          id: r.id,
          brand: r.brand,
          last4: r.last4,
          expires: `${String(r.exp_month).padStart(2, '0')}/${r.exp_year}`,
          status: r.status,
          provider: r.provider,
          addedAt: r.created_at.toISOString(),
        })),
      };
    },
  );
}
