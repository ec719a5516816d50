/**
 * `voltbill payments outbox|retry|dunning`: what the payment worker still has to do or gave up on, a retry of one
 * failed item (a running node's worker picks it up under the same idempotency key, so nothing moves twice), and
 * the dunning state. Reads and writes the configured database directly (no node needs to run for the lists).
 */
import { parseArgs } from 'node:util';
import { withConfiguredDatabase } from '../accounts/open-configured-database.ts';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';

const USAGE = `usage: voltbill payments outbox [--failed] [--json]
       voltbill payments retry OUTBOX_ID
       voltbill payments dunning [--open] [--json]`;

const LIST_LIMIT = 200;

export async function runPaymentsCommand(
  argv: string[],
  io: CommandIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed: { values: { failed?: boolean; open?: boolean; json?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        failed: { type: 'boolean', default: false },
        open: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (sub !== 'outbox' && sub !== 'retry' && sub !== 'dunning') throw new Error('unknown subcommand');
    if (sub === 'retry' && !/^\d{1,18}$/.test(parsed.positionals[0] ?? '')) throw new Error('give the outbox id');
  } catch (error) {
    io.stderr(`voltbill payments: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const config = loadConfig(env);
  return withConfiguredDatabase(config, 'payments', async (db) => {
    if (sub === 'outbox') {
      const rows = await db
        .selectFrom('payment_outbox as o')
        .innerJoin('payments as p', 'p.id', 'o.payment_id')
        .select([
          'o.id',
          'o.action',
          'o.status',
          'o.attempts',
          'o.next_attempt_at',
          'o.last_error',
          'o.amount_minor',
          'p.id as payment_id',
          'p.kind',
          'p.currency',
        ])
        .where('o.status', '=', values.failed ? 'failed' : 'pending')
        .orderBy('o.id')
        .limit(LIST_LIMIT)
        .execute();
      const items = rows.map((r) => ({
        id: String(r.id),
        action: r.action,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at.toISOString(),
        amountMinor: r.amount_minor === null ? null : String(r.amount_minor),
        currency: r.currency,
        paymentId: r.payment_id,
        kind: r.kind,
        lastError: r.last_error,
      }));
      if (values.json) io.stdout(`${JSON.stringify(items, null, 2)}\n`);
      else {
        io.stdout(`${items.length} ${values.failed ? 'failed' : 'pending'} outbox item(s)\n`);
        for (const i of items) {
          io.stdout(
            `  #${i.id} ${i.action} ${i.kind} payment ${i.paymentId} ${i.amountMinor ?? '-'} ${i.currency} attempts ${i.attempts}${i.lastError ? ` last error: ${i.lastError}` : ''}\n`,
          );
        }
      }
      return 0;
    }
    if (sub === 'retry') {
      const id = BigInt(positionals[0]!);
      const row = await db
        .updateTable('payment_outbox')
        .set({ status: 'pending', attempts: 0, next_attempt_at: new Date(), locked_until: null })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .returning(['id', 'action', 'idempotency_key'])
        .executeTakeFirst();
      if (!row) {
        io.stderr(`voltbill payments: no failed outbox item #${id}\n`);
        return 1;
      }
      io.stdout(`outbox item #${row.id} (${row.action}, key ${row.idempotency_key}) is pending again\n`);
      return 0;
    }
    let query = db
      .selectFrom('payment_dunning as d')
      .innerJoin('payments as p', 'p.id', 'd.payment_id')
      .select([
        'd.payment_id',
        'd.failure_code',
        'd.notified_at',
        'd.resolved_at',
        'd.amount_minor',
        'd.paid_by_payment_id',
        'p.currency',
        'p.invoice_id',
      ]);
    if (values.open) query = query.where('d.resolved_at', 'is', null);
    const rows = await query.orderBy('d.notified_at').limit(LIST_LIMIT).execute();
    const items = rows.map((r) => ({
      paymentId: r.payment_id,
      status: r.resolved_at ? 'paid' : 'open',
      amountDueMinor: r.amount_minor === null ? null : String(r.amount_minor),
      currency: r.currency,
      failureCode: r.failure_code,
      invoiceId: r.invoice_id,
      notifiedAt: r.notified_at.toISOString(),
      paidAt: r.resolved_at?.toISOString() ?? null,
      paidByPaymentId: r.paid_by_payment_id,
    }));
    if (values.json) io.stdout(`${JSON.stringify(items, null, 2)}\n`);
    else {
      io.stdout(`${items.length} dunning case(s)\n`);
      for (const i of items) {
        io.stdout(
          `  ${i.status.padEnd(4)} payment ${i.paymentId} ${i.amountDueMinor ?? '?'} ${i.currency} (${i.failureCode}) notified ${i.notifiedAt}${i.paidAt ? ` paid ${i.paidAt}` : ''}\n`,
        );
      }
    }
    return 0;
  });
}
