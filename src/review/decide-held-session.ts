/**
 * An operator's decision on a held session, in one transaction with its audit record: release (the session is
 * priced and billed now, its CDR created and the billing hooks run, exactly as at a normal stop) or void (never
 * billed to anyone). Only a Held session can be decided, once; the session row is locked so that two operators
 * deciding at the same time cannot both succeed.
 *
 * Release keeps the findings but turns their `hold` into `warn` (the operator accepted them). When billing still
 * cannot go ahead (no energy figure, no tariff, a pricing error) nothing changes and the reason is returned: such
 * a session can only be voided, or fixed (a tariff assigned) and released again.
 */
import type { Kysely, Transaction } from 'kysely';
import { appendAudit } from '../audit/append-audit.ts';
import { type BillingOutcome, billSession } from '../billing/bill-session.ts';
import { type BillingHook, runBillingHooks } from '../billing/billing-hooks.ts';
import type { Database, SessionRow } from '../db/schema.ts';
import type { Finding } from '../sessions/finding.ts';
import { err, ok, type Result } from '../shared/result.ts';

export type ReviewDecision = 'release' | 'void';

export type DecisionRequest = {
  readonly operatorId: string;
  readonly sessionId: string;
  readonly decision: ReviewDecision;
  readonly reason: string;
  /** Who decided, as the audit log names actors: `api-key:<id>`, `user:<id>`, `cli`. */
  readonly actor: string;
  readonly ip?: string | null;
  readonly requestId?: string | null;
  readonly now: Date;
};

export type DecisionError =
  | { readonly code: 'SessionNotFound'; readonly message: string }
  | { readonly code: 'SessionNotHeld'; readonly message: string }
  | { readonly code: 'ReleaseNotPossible'; readonly message: string; readonly holds: readonly Finding[] };

export type DecisionOutcome = {
  readonly sessionId: string;
  readonly decision: ReviewDecision;
  readonly billingStatus: 'Billed' | 'NotBillable';
  readonly billing: BillingOutcome;
};

/** Thrown inside the transaction to roll it back with a typed error; caught right outside. */
class Refused extends Error {
  constructor(readonly error: DecisionError) {
    super(error.message);
  }
}

export async function decideHeldSession(
  db: Kysely<Database>,
  request: DecisionRequest,
  hooks: readonly BillingHook[] = [],
): Promise<Result<DecisionOutcome, DecisionError>> {
  try {
    return ok(await db.transaction().execute((trx) => decide(trx, request, hooks)));
  } catch (error) {
    if (error instanceof Refused) return err(error.error);
    throw error;
  }
}

async function decide(
  trx: Transaction<Database>,
  request: DecisionRequest,
  hooks: readonly BillingHook[],
): Promise<DecisionOutcome> {
  const session = await trx
    .selectFrom('sessions')
    .selectAll()
    .where('operator_id', '=', request.operatorId)
    .where('id', '=', request.sessionId)
    .forUpdate()
    .executeTakeFirst();
  if (!session) throw new Refused({ code: 'SessionNotFound', message: `no session ${request.sessionId}` });
  if (session.billing_status !== 'Held' || session.status !== 'Completed') {
    throw new Refused({
      code: 'SessionNotHeld',
      message: `session ${session.id} is ${session.status}/${session.billing_status}, not a held session awaiting review`,
    });
  }
  const before = (session.findings ?? []) as Finding[];
  const billing =
    request.decision === 'release'
      ? await release(trx, session, before, request)
      : ({ status: 'NotBillable', findings: before } as const);
  const billingStatus = billing.status === 'Billed' ? 'Billed' : 'NotBillable';
  const decisionFinding: Finding = {
    code: request.decision === 'release' ? 'ReviewReleased' : 'ReviewVoided',
    severity: 'info',
    message: `${request.decision === 'release' ? 'released' : 'voided'} by ${request.actor} at ${request.now.toISOString()}: ${request.reason}`,
  };
  const findings = [...billing.findings, decisionFinding];
  await trx
    .updateTable('sessions')
    .set({ billing_status: billingStatus, findings: JSON.stringify(findings) })
    .where('id', '=', session.id)
    .execute();
  await trx
    .insertInto('review_decisions')
    .values({
      operator_id: request.operatorId,
      session_id: session.id,
      decision: request.decision,
      reason: request.reason,
      actor: request.actor,
      decided_at: request.now,
    })
    .execute();
  await appendAudit(trx, {
    operatorId: request.operatorId,
    actor: request.actor,
    action: request.decision === 'release' ? 'session.release' : 'session.void',
    subjectType: 'session',
    subjectId: session.id,
    before: { billingStatus: 'Held', holds: before.filter((finding) => finding.severity === 'hold') },
    after: {
      billingStatus,
      reason: request.reason,
      ...(billing.status === 'Billed' && {
        cdrId: billing.cdrId,
        totalExclVatMinor: billing.exclVat.minor.toString(),
        totalInclVatMinor: billing.inclVat.minor.toString(),
        currency: billing.inclVat.currency,
      }),
    },
    ip: request.ip ?? null,
    requestId: request.requestId ?? null,
    at: request.now,
  });
  const outcome: BillingOutcome = { ...billing, findings };
  await runBillingHooks(hooks, trx, {
    session: { ...session, billing_status: billingStatus, findings },
    outcome,
    now: request.now,
  });
  return { sessionId: session.id, decision: request.decision, billingStatus, billing: outcome };
}

async function release(
  trx: Transaction<Database>,
  session: SessionRow,
  findings: readonly Finding[],
  request: DecisionRequest,
): Promise<BillingOutcome> {
  const accepted = findings.map((finding) =>
    finding.severity === 'hold'
      ? { ...finding, severity: 'warn' as const, message: `${finding.message} (accepted on release)` }
      : finding,
  );
  const billing = await billSession(trx, session, accepted, request.now);
  if (billing.status === 'Billed') return { ...billing, findings: withoutRepeats(billing.findings) };
  const holds = billing.findings.filter((finding) => finding.severity === 'hold');
  const why =
    billing.status === 'NotBillable'
      ? 'the session was not authorized'
      : session.energy_wh === null
        ? 'the session has no energy figure to bill (meter readings unusable)'
        : holds.map((finding) => `${finding.code}: ${finding.message}`).join('; ');
  throw new Refused({ code: 'ReleaseNotPossible', message: `cannot bill session ${session.id}: ${why}`, holds });
}

/** Pricing adds the timeline's findings again; keep each finding once. */
function withoutRepeats(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.code}\u0000${finding.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
