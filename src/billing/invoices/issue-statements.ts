/**
 * Monthly statements for contract customers and fleets: one statement per id token with a monthly plan, listing
 * the month's billed sessions not yet on any invoice (a session's month is its end in the station's time zone).
 * Each statement is issued in its own transaction; running the same month again issues only what is missing.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { DateTime } from 'luxon';
import type { Database } from '../../db/schema.ts';
import { type IssuedInvoice, issueInvoice } from './issue-invoice.ts';
import { anonymousBuyer, loadSessionsToInvoice } from './load-invoice-inputs.ts';

/** `month` is 'YYYY-MM'. Returns the statements issued now. */
export async function issueMonthlyStatements(
  db: Kysely<Database>,
  request: {
    operatorId: string;
    month: string;
    now: Date;
    /**
     * Records the issued statement (the audit entry) in the statement's own transaction, so that a statement is
     * never issued without its record, nor recorded without being issued.
     */
    audit?: (trx: Transaction<Database>, statement: IssuedInvoice) => Promise<void>;
  },
): Promise<IssuedInvoice[]> {
  const [year, month] = request.month.split('-').map(Number) as [number, number];
  const plans = await db
    .selectFrom('invoice_billing_plans as p')
    .innerJoin('id_tokens as t', 't.id', 'p.id_token_id')
    .select(['p.id_token_id', 'p.customer_id', 'p.buyer_name', 'p.buyer_vat_id', 'p.buyer_street', 'p.buyer_city'])
    .select(['p.buyer_postal_code', 'p.buyer_country_code', 't.uid', 't.label', 't.anonymous_buyer_name'])
    .where('p.operator_id', '=', request.operatorId)
    .where('p.mode', '=', 'monthly')
    .execute();
  const issued: IssuedInvoice[] = [];
  const operator = await db
    .selectFrom('operators')
    .select('country_code')
    .where('id', '=', request.operatorId)
    .executeTakeFirstOrThrow();
  for (const plan of plans) {
    const statement = await db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('sessions as s')
        .innerJoin('cdrs as c', 'c.session_id', 's.id')
        .select('s.id')
        .where('s.operator_id', '=', request.operatorId)
        .where('s.id_token_id', '=', plan.id_token_id)
        .where('s.billing_status', '=', 'Billed')
        .where(sql<string>`to_char(s.ended_at at time zone s.time_zone, 'YYYY-MM')`, '=', request.month)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('invoice_sessions as i').select('i.session_id').whereRef('i.session_id', '=', 's.id'))),
        )
        .execute();
      const sessions = await loadSessionsToInvoice(
        trx,
        due.map((d) => d.id),
      );
      if (sessions.length === 0) return undefined;
      // The period is the calendar month at the stations (the zone of the first session).
      const zone = sessions[0]!.timeZone;
      const start = DateTime.fromObject({ year, month, day: 1 }, { zone });
      const periodStart = start.toJSDate();
      const periodEnd = start.plus({ months: 1 }).toJSDate();
      const buyer =
        plan.buyer_name && plan.buyer_country_code
          ? {
              name: plan.buyer_name,
              street: plan.buyer_street,
              city: plan.buyer_city,
              postalCode: plan.buyer_postal_code,
              countryCode: plan.buyer_country_code,
              vatId: plan.buyer_vat_id,
            }
          : anonymousBuyer(
              plan.uid,
              plan.label,
              sessions[0]!.countryAlpha3,
              operator.country_code,
              plan.anonymous_buyer_name,
            );
      const result = await issueInvoice(trx, {
        operatorId: request.operatorId,
        kind: 'statement',
        sessions,
        buyer,
        idTokenId: plan.id_token_id,
        idTag: plan.uid,
        customerId: plan.customer_id,
        period: { start: periodStart, end: periodEnd },
        now: request.now,
      });
      // The sessions were booked when they ended; their transfers keep their cause, the statement links them here.
      if (request.audit) await request.audit(trx, result);
      return result;
    });
    if (statement) issued.push(statement);
  }
  return issued;
}
