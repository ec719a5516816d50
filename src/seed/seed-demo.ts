/**
 * The demo data a first start creates, so that `npm start` plus `voltbill simulate` bill sessions with no setup:
 * one operator in Germany, a charging park in Berlin, ten 22 kW AC stations, RFID cards (including a blocked and
 * an expired one for trying out refusals), a day/night tariff with a session fee and parking fee, and an admin API key.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createUser } from '../accounts/user-store.ts';
import { createApiKey } from '../api/api-keys.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';

export const DEMO_STATION_COUNT = 10;
export const demoStationId = (i: number) => `DEMO-${String(i).padStart(4, '0')}`;
export const demoIdTag = (i: number) => `DEMO${String(i).padStart(4, '0')}`;

/** The demo tariff (OCPI 2.2.1): cheaper energy at night, a session fee, and a parking fee while not charging. */
export const DEMO_TARIFF = {
  country_code: 'DE',
  party_id: 'VBL',
  id: 'DEMO-STANDARD',
  currency: 'EUR',
  type: 'REGULAR',
  tariff_alt_text: [
    {
      language: 'en',
      text: '0.49 EUR/kWh (22:00-06:00: 0.39 EUR/kWh), 0.35 EUR per session, parking 6.00 EUR/h when not charging. Incl. 19% VAT on top.',
    },
  ],
  elements: [
    {
      price_components: [{ type: 'ENERGY', price: 0.39, vat: 19.0, step_size: 1 }],
      restrictions: { start_time: '22:00', end_time: '06:00' },
    },
    {
      price_components: [
        { type: 'FLAT', price: 0.35, vat: 19.0, step_size: 1 },
        { type: 'ENERGY', price: 0.49, vat: 19.0, step_size: 1 },
      ],
    },
    { price_components: [{ type: 'PARKING_TIME', price: 6.0, vat: 19.0, step_size: 300 }] },
  ],
  last_updated: '2026-01-01T00:00:00Z',
} as const;

export type SeedReport = {
  operatorId: string;
  locationId: string;
  stationIds: string[];
  idTags: { uid: string; status: string }[];
  tariffCode: string;
  adminApiKey: string;
  /** The demo admin user (sign in at POST /api/v1/auth/sign-in); present when the seed had the cipher. */
  adminUser?: { email: string; password: string };
};

export const DEMO_ADMIN_EMAIL = 'admin@demo.voltbill.invalid';

/** Seeds the demo data unless any operator exists already (so a restart never seeds twice). */
export async function seedDemo(
  db: Kysely<Database>,
  rounding: 'half-up' | 'half-even',
  accounts?: { cipher: FieldCipher; now: Date },
): Promise<SeedReport | undefined> {
  const report = await seedDemoData(db, rounding);
  if (!report || !accounts) return report;
  // A random password, printed once with the seed report (like the API key): never a fixed demo password.
  const password = randomBytes(12).toString('base64url');
  const created = await createUser(
    db,
    accounts.cipher,
    { operatorId: report.operatorId, email: DEMO_ADMIN_EMAIL, name: 'Demo Admin', password, role: 'admin' },
    { actor: 'seed', at: accounts.now },
  );
  return created.ok ? { ...report, adminUser: { email: DEMO_ADMIN_EMAIL, password } } : report;
}

async function seedDemoData(db: Kysely<Database>, rounding: 'half-up' | 'half-even'): Promise<SeedReport | undefined> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('operators').select('id').limit(1).executeTakeFirst();
    if (existing) return undefined;
    const operator = await trx
      .insertInto('operators')
      .values({
        name: 'Voltbill Demo CPO',
        country_code: 'DE',
        party_id: 'VBL',
        currency: 'EUR',
        rounding_mode: rounding,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // The seller as invoices print it (fictitious company, address and VAT id, for the demo only).
    await trx
      .insertInto('invoice_sellers')
      .values({
        operator_id: operator.id,
        legal_name: 'Voltbill Demo CPO GmbH',
        street: 'Invalidenstraße 117',
        city: 'Berlin',
        postal_code: '10115',
        country_code: 'DE',
        vat_id: 'DE123456789',
        email: 'billing@demo-cpo.example',
        iban: 'DE89370400440532013000',
      })
      .execute();
    const location = await trx
      .insertInto('locations')
      .values({
        operator_id: operator.id,
        name: 'Demo Charging Park',
        address: 'Invalidenstraße 117',
        city: 'Berlin',
        postal_code: '10115',
        country: 'DEU',
        time_zone: 'Europe/Berlin',
        latitude: '52.531800',
        longitude: '13.384200',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const stationIds: string[] = [];
    for (let i = 1; i <= DEMO_STATION_COUNT; i++) {
      const id = demoStationId(i);
      stationIds.push(id);
      await trx
        .insertInto('stations')
        .values({ id, operator_id: operator.id, location_id: location.id, registration_status: 'Accepted' })
        .execute();
      await trx
        .insertInto('evses')
        .values({
          station_id: id,
          evse_id: 1,
          evse_uid: `DE*VBL*E${String(i).padStart(4, '0')}*1`,
          power_type: 'AC_3_PHASE',
          max_power_w: 22_000,
        })
        .execute();
    }
    const idTags: { uid: string; status: 'Accepted' | 'Blocked' | 'Expired' }[] = [];
    for (let i = 1; i <= DEMO_STATION_COUNT; i++) idTags.push({ uid: demoIdTag(i), status: 'Accepted' });
    idTags.push({ uid: 'BLOCKED01', status: 'Blocked' }, { uid: 'EXPIRED01', status: 'Expired' });
    await trx
      .insertInto('id_tokens')
      .values(
        idTags.map((t) => ({ operator_id: operator.id, uid: t.uid, status: t.status, label: `demo card ${t.uid}` })),
      )
      .execute();
    const tariff = await trx
      .insertInto('tariffs')
      .values({ operator_id: operator.id, code: DEMO_TARIFF.id, type: DEMO_TARIFF.type })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('tariff_versions')
      .values({
        tariff_id: tariff.id,
        version: 1,
        valid_from: new Date('2020-01-01T00:00:00Z'),
        currency: DEMO_TARIFF.currency,
        body: JSON.stringify(DEMO_TARIFF),
      })
      .execute();
    await trx
      .insertInto('tariff_assignments')
      .values({ operator_id: operator.id, tariff_id: tariff.id, scope: 'operator' })
      .execute();
    const apiKey = await createApiKey(trx, operator.id, 'demo admin (created by the seed)', 'admin');
    return {
      operatorId: operator.id,
      locationId: location.id,
      stationIds,
      idTags,
      tariffCode: DEMO_TARIFF.id,
      adminApiKey: apiKey.key,
    };
  });
}
