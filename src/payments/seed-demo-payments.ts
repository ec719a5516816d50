/**
 * Demo payment data, created with the SANDBOX provider when the demo is seeded, so that `voltbill demo` exercises
 * every flow: saved cards (DEMO0001–0006), a card that fails when charged (DEMO0007: blocked, dunning), a prepaid
 * wallet topped up by card (DEMO0008), a contract customer paid by monthly statement (DEMO0009) and an ad-hoc
 * QR payment whose hold is placed before its session (DEMO0010's first session).
 */
import type { SeedReport } from '../seed/seed-demo.ts';
import { startAdHoc } from './flows/ad-hoc.ts';
import { saveCardForToken } from './flows/save-card.ts';
import { createWalletForToken, requestTopUp } from './flows/wallets.ts';
import type { PaymentsRuntime } from './payments-runtime.ts';

export async function seedDemoPayments(runtime: PaymentsRuntime, seeded: SeedReport): Promise<void> {
  const { sandbox, ctx } = runtime;
  if (!sandbox) return;
  const { db } = ctx;
  const tokens = await db
    .selectFrom('id_tokens')
    .select(['id', 'uid'])
    .where('operator_id', '=', seeded.operatorId)
    .execute();
  const tokenId = (uid: string) => tokens.find((t) => t.uid === uid)?.id;
  const card = (number: string) => {
    const ref = sandbox.tokenizeCard({ number, expMonth: 12, expYear: 2034, cvc: '123' });
    if (!ref.ok) throw new Error(`SANDBOX demo card refused: ${ref.error.message}`);
    return ref.value.paymentMethodRef;
  };
  const save = async (uid: string, number: string) => {
    const id = tokenId(uid);
    if (!id) return undefined;
    const saved = await saveCardForToken(
      { db, provider: sandbox, cipher: runtime.ctx.cipher },
      { operatorId: seeded.operatorId, idTokenId: id, paymentMethodRef: card(number) },
    );
    return saved.ok ? saved.value.paymentMethodId : undefined;
  };
  for (const uid of ['DEMO0001', 'DEMO0002', 'DEMO0003', 'DEMO0004', 'DEMO0005', 'DEMO0006']) {
    await save(uid, '4242424242424242');
  }
  await save('DEMO0007', '4000000000000341');
  const walletCard = await save('DEMO0008', '4242424242424242');
  const walletToken = tokenId('DEMO0008');
  if (walletCard && walletToken) {
    const walletId = await createWalletForToken(db, {
      operatorId: seeded.operatorId,
      idTokenId: walletToken,
      currency: 'EUR',
    });
    await requestTopUp(db, {
      operatorId: seeded.operatorId,
      walletId,
      paymentMethodId: walletCard,
      amountMinor: 5000n,
      requestKey: 'demo-seed',
      now: ctx.clock.now(),
    });
  }
  const contractToken = tokenId('DEMO0009');
  if (contractToken) {
    await db
      .insertInto('payment_profiles')
      .values({
        id_token_id: contractToken,
        operator_id: seeded.operatorId,
        method: 'invoice',
        payment_method_id: null,
        wallet_id: null,
        hold_minor: null,
      })
      .onConflict((oc) => oc.column('id_token_id').doNothing())
      .execute();
  }
  // Ad hoc: a hold placed through the QR flow, for DEMO0010's first session (the simulator starts it).
  const adHocToken = tokenId('DEMO0010');
  const station = seeded.stationIds[9];
  if (adHocToken && station) {
    const started = await startAdHoc(
      ctx,
      { stationId: station, evseId: 1, expiresAtS: Math.floor(ctx.clock.now().getTime() / 1000) + 600 },
      card('4242424242424242'),
    );
    if (started.ok) {
      await db
        .updateTable('payments')
        .set({ id_token_id: adHocToken })
        .where('id', '=', started.value.paymentId)
        .execute();
    }
  }
  await runtime.worker.runUntilIdle();
}

export type DemoPayment = {
  method: 'card' | 'wallet' | 'adhoc' | 'invoice' | 'none';
  status: string;
  capturedMinor: number;
};

/** The payment of each session for `voltbill demo --json`: method, status and what was captured (minor units). */
export async function loadDemoPayments(runtime: PaymentsRuntime): Promise<Map<string, DemoPayment>> {
  const { db } = runtime.ctx;
  const rows = await db
    .selectFrom('sessions as s')
    .leftJoin('payments as p', 'p.session_id', 's.id')
    .leftJoin('payment_profiles as pp', 'pp.id_token_id', 's.id_token_id')
    .select(['s.id as sessionId', 'p.kind', 'p.status', 'p.captured_minor', 'pp.method', 's.billing_status'])
    .orderBy('p.created_at')
    .execute();
  const result = new Map<string, DemoPayment>();
  for (const row of rows) {
    const method: DemoPayment['method'] =
      row.kind === 'adhoc'
        ? 'adhoc'
        : row.kind === 'wallet_debit'
          ? 'wallet'
          : row.kind
            ? 'card'
            : (row.method ?? 'none');
    const previous = result.get(row.sessionId);
    const captured = Number(row.captured_minor ?? 0n) + (previous?.capturedMinor ?? 0);
    // An 'extra' charge (what a hold did not cover) adds to the session's capture; its status is the latest.
    result.set(row.sessionId, {
      method: previous && method === 'card' ? previous.method : method,
      status:
        row.status ??
        (method === 'invoice' ? 'statement' : row.billing_status === 'NotBillable' ? 'not_billable' : 'none'),
      capturedMinor: captured,
    });
  }
  return result;
}
