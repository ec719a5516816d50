/**
 * Registers a load run's stations in Voltbill's database before the run: station n (Accepted, one AC EVSE) and
 * its own RFID card, under the first operator and location (the demo seed's). A card per station, because one card
 * charging at two stations at once is refused (ConcurrentTx). Idempotent: rows that exist are left as they are.
 * With `card`, each card is also linked to a provider customer with a saved card (the real save-card flow against
 * the given provider), so its sessions pay by card: a hold at the start, a capture at the end.
 */
import type { Kysely } from 'kysely';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';
import { saveCardForToken } from '../payments/flows/save-card.ts';
import type { PaymentProvider } from '../payments/provider.ts';
import { loadIdTag, loadStationId } from './load-options.ts';

export interface FleetSpec {
  readonly stations: number;
  readonly firstStation: number;
  readonly stationPrefix: string;
  readonly idTagPrefix: string;
  /** Save this payment method (e.g. Stripe's test card `pm_card_visa`) for every card that has no payment profile. */
  readonly card?: {
    readonly provider: PaymentProvider;
    /** One ref for all (Stripe's test tokens make a new method each time), or a fresh one per card (the sandbox's). */
    readonly paymentMethodRef: string | (() => string);
    /** Seals the provider customer ids as a running server does; without it they are stored in clear (read as is). */
    readonly cipher?: FieldCipher;
  };
}

/** Rows per INSERT: keeps each statement well below PostgreSQL's 65,535 bind parameters. */
const ROWS_PER_INSERT = 1000;

export async function provisionFleet(db: Kysely<Database>, spec: FleetSpec): Promise<{ operatorId: string }> {
  const location = await db
    .selectFrom('locations')
    .select(['id', 'operator_id'])
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
  if (location === undefined) throw new Error('no location to put the load stations in: seed the database first');
  const numbers = Array.from({ length: spec.stations }, (_, index) => spec.firstStation + index);
  for (let offset = 0; offset < numbers.length; offset += ROWS_PER_INSERT) {
    const chunk = numbers.slice(offset, offset + ROWS_PER_INSERT);
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('stations')
        .values(
          chunk.map((n) => ({
            id: loadStationId(spec.stationPrefix, n),
            operator_id: location.operator_id,
            location_id: location.id,
            registration_status: 'Accepted' as const,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await trx
        .insertInto('evses')
        .values(
          chunk.map((n) => ({
            station_id: loadStationId(spec.stationPrefix, n),
            evse_id: 1,
            evse_uid: `DE*VBL*E${spec.stationPrefix.replace(/[^A-Za-z0-9]/g, '')}${n}*1`,
            power_type: 'AC_3_PHASE' as const,
            max_power_w: 22_000,
          })),
        )
        .onConflict((oc) => oc.columns(['station_id', 'evse_id']).doNothing())
        .execute();
      await trx
        .insertInto('id_tokens')
        .values(
          chunk.map((n) => ({
            operator_id: location.operator_id,
            uid: loadIdTag(spec.idTagPrefix, n),
            status: 'Accepted' as const,
            label: 'load test card',
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
  }
  if (spec.card) await saveCards(db, spec, spec.card, location.operator_id, numbers);
  return { operatorId: location.operator_id };
}

async function saveCards(
  db: Kysely<Database>,
  spec: FleetSpec,
  card: NonNullable<FleetSpec['card']>,
  operatorId: string,
  numbers: readonly number[],
): Promise<void> {
  for (let offset = 0; offset < numbers.length; offset += ROWS_PER_INSERT) {
    const uids = numbers.slice(offset, offset + ROWS_PER_INSERT).map((n) => loadIdTag(spec.idTagPrefix, n));
    const tokens = await db
      .selectFrom('id_tokens as t')
      .leftJoin('payment_profiles as pp', 'pp.id_token_id', 't.id')
      .select(['t.id', 't.uid'])
      .where('t.operator_id', '=', operatorId)
      .where('t.uid', 'in', uids)
      .where('pp.id_token_id', 'is', null)
      .execute();
    for (const token of tokens) {
      const saved = await saveCardForToken(
        { db, provider: card.provider, cipher: card.cipher },
        {
          operatorId,
          idTokenId: token.id,
          paymentMethodRef: typeof card.paymentMethodRef === 'string' ? card.paymentMethodRef : card.paymentMethodRef(),
        },
      );
      if (!saved.ok)
        throw new Error(`saving a card for ${token.uid} failed: ${saved.error.code} ${saved.error.message}`);
    }
  }
}
