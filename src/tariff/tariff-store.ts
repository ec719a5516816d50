/**
 * Tariffs in the database: immutable versions, assignments, and which version applies to a session. The
 * assignment with the narrowest scope that matches wins (driver group, EVSE, location, operator); an ad-hoc payer
 * gets an ad_hoc assignment where one exists at any scope before the contract tariffs; of the tariff found, the
 * newest version valid at the session's start is frozen into the session. A retired tariff applies to no session
 * that starts after its retirement.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { TARIFF_SCOPE } from '../db/partial-index-literals.ts';
import { queryTemplate } from '../db/query-template.ts';
import type { Database, TariffAudience, TariffScopeKind } from '../db/schema.ts';

/**
 * Runs `work` in the caller's transaction when given one (so that the caller can append the audit entry in the
 * same transaction as the change), else in a new one.
 */
function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}

export type TariffVersionRecord = {
  readonly tariffVersionId: string;
  readonly tariffId: string;
  readonly code: string;
  readonly version: number;
  readonly validFrom: Date;
  readonly currency: string;
  readonly body: unknown;
};

export type TariffScope = {
  readonly operatorId: string;
  readonly locationId: string;
  readonly stationId: string;
  readonly evseId: number;
  readonly at: Date;
  /** The driver's group (id_tokens.group_id), when the token has one. */
  readonly groupId?: string | null;
  readonly audience?: TariffAudience;
};

const versionColumns = [
  'v.id as tariffVersionId',
  't.id as tariffId',
  't.code',
  'v.version',
  'v.valid_from as validFrom',
  'v.currency',
  'v.body',
] as const;

export async function findTariffInForce(
  db: Kysely<Database>,
  scope: TariffScope,
): Promise<TariffVersionRecord | undefined> {
  const [found] = await tariffInForceQuery(scope.audience === 'ad_hoc', Boolean(scope.groupId)).rows(db, {
    operatorId: scope.operatorId,
    locationId: scope.locationId,
    stationId: scope.stationId,
    evseId: scope.evseId,
    groupId: scope.groupId ?? null,
    at: scope.at,
  });
  return found;
}

type TariffInForceParams = {
  operatorId: string;
  locationId: string;
  stationId: string;
  evseId: number;
  groupId: string | null;
  at: Date;
};

/**
 * findTariffInForce's statement, built once per variant (src/db/query-template.ts): every start runs it. The
 * variants: an ad-hoc payer or not (which audiences), and whether the driver has a group (the group's branch).
 */
const tariffInForceTemplates = new Map<string, ReturnType<typeof buildTariffInForceTemplate>>();

function tariffInForceQuery(adHoc: boolean, withGroup: boolean) {
  const key = `${adHoc}/${withGroup}`;
  let template = tariffInForceTemplates.get(key);
  if (template === undefined) {
    template = buildTariffInForceTemplate(adHoc, withGroup);
    tariffInForceTemplates.set(key, template);
  }
  return template;
}

function buildTariffInForceTemplate(adHoc: boolean, withGroup: boolean) {
  const audiences: TariffAudience[] = adHoc ? ['ad_hoc', 'contract'] : ['contract'];
  const keys: (keyof TariffInForceParams)[] = ['operatorId', 'locationId', 'stationId', 'evseId', 'at'];
  return queryTemplate(
    `findTariffInForce ${adHoc ? 'ad hoc' : 'contract'}${withGroup ? ', group' : ''}`,
    withGroup ? [...keys, 'groupId'] : keys,
    (db, p: TariffInForceParams) =>
      db
        .selectFrom('tariff_assignments as a')
        .innerJoin('tariffs as t', 't.id', 'a.tariff_id')
        .innerJoin('tariff_versions as v', 'v.tariff_id', 't.id')
        .select(versionColumns)
        .where('a.operator_id', '=', p.operatorId)
        .where('a.audience', 'in', audiences)
        .where((eb) =>
          eb.or([
            // Scopes as literals: each branch can then read its scope's partial index in the generic plan (every
            // start runs this), instead of every assignment of the operator.
            eb.and([eb('a.scope', '=', TARIFF_SCOPE.operator), eb('a.operator_id', '=', p.operatorId)]),
            eb.and([eb('a.scope', '=', TARIFF_SCOPE.location), eb('a.location_id', '=', p.locationId)]),
            eb.and([
              eb('a.scope', '=', TARIFF_SCOPE.evse),
              eb('a.station_id', '=', p.stationId),
              eb('a.evse_id', '=', p.evseId),
            ]),
            ...(withGroup
              ? [
                  eb.and([
                    eb('a.scope', '=', TARIFF_SCOPE.group),
                    eb('a.operator_id', '=', p.operatorId),
                    eb('a.group_id', '=', p.groupId),
                  ]),
                ]
              : []),
          ]),
        )
        .where('v.valid_from', '<=', p.at)
        .where((eb) => eb.or([eb('t.retired_at', 'is', null), eb('t.retired_at', '>', p.at)]))
        .orderBy(sql`case a.audience when 'ad_hoc' then 0 else 1 end`)
        .orderBy(sql`case a.scope when 'group' then 0 when 'evse' then 1 when 'location' then 2 else 3 end`)
        .orderBy('v.valid_from', 'desc')
        .orderBy('v.version', 'desc')
        .limit(1),
  );
}

export async function loadTariffVersion(
  db: Kysely<Database>,
  tariffVersionId: string,
): Promise<TariffVersionRecord | undefined> {
  return db
    .selectFrom('tariff_versions as v')
    .innerJoin('tariffs as t', 't.id', 'v.tariff_id')
    .select(versionColumns)
    .where('v.id', '=', tariffVersionId)
    .executeTakeFirst();
}

/**
 * Stores a validated OCPI tariff as the next version of the operator's tariff with the same id (the first version
 * creates the tariff). Versions are never changed afterwards; history is kept.
 */
export async function saveTariffVersion(
  db: Kysely<Database>,
  input: { operatorId: string; code: string; type: string; currency: string; body: unknown; validFrom: Date },
): Promise<TariffVersionRecord> {
  return inTransaction(db, async (trx) => {
    await trx
      .insertInto('tariffs')
      .values({ operator_id: input.operatorId, code: input.code, type: input.type })
      .onConflict((oc) => oc.columns(['operator_id', 'code']).doNothing())
      .execute();
    // The row lock serializes concurrent new versions of one tariff, so that version numbers never collide.
    const tariff = await trx
      .selectFrom('tariffs')
      .select(['id', 'retired_at'])
      .where('operator_id', '=', input.operatorId)
      .where('code', '=', input.code)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const last = await trx
      .selectFrom('tariff_versions')
      .select(sql<number>`coalesce(max(version), 0)`.as('version'))
      .where('tariff_id', '=', tariff.id)
      .executeTakeFirstOrThrow();
    const version = Number(last.version) + 1;
    const row = await trx
      .insertInto('tariff_versions')
      .values({
        tariff_id: tariff.id,
        version,
        valid_from: input.validFrom,
        currency: input.currency,
        body: JSON.stringify(input.body),
      })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    // A new version brings a retired tariff back into force; the type follows the newest version.
    await trx.updateTable('tariffs').set({ retired_at: null, type: input.type }).where('id', '=', tariff.id).execute();
    return {
      tariffVersionId: row.id,
      tariffId: tariff.id,
      code: input.code,
      version,
      validFrom: input.validFrom,
      currency: input.currency,
      body: input.body,
    };
  });
}

export type TariffAssignmentInput = {
  readonly operatorId: string;
  readonly tariffId: string;
  readonly audience: TariffAudience;
  readonly scope: TariffScopeKind;
  readonly locationId?: string;
  readonly stationId?: string;
  readonly evseId?: number;
  readonly groupId?: string;
};

/** Puts a tariff at a scope, replacing whatever was assigned at exactly that scope and audience. */
export async function assignTariff(db: Kysely<Database>, input: TariffAssignmentInput): Promise<string> {
  return (await assignTariffReplacing(db, input)).id;
}

/** As assignTariff, and also names the tariff(s) the assignment replaced (for the audit entry's `before`). */
export async function assignTariffReplacing(
  db: Kysely<Database>,
  input: TariffAssignmentInput,
): Promise<{ id: string; replacedTariffIds: string[] }> {
  return inTransaction(db, async (trx) => {
    let existing = trx
      .deleteFrom('tariff_assignments')
      .where('operator_id', '=', input.operatorId)
      .where('audience', '=', input.audience)
      .where('scope', '=', input.scope);
    if (input.scope === 'location') existing = existing.where('location_id', '=', input.locationId ?? null);
    if (input.scope === 'evse')
      existing = existing.where('station_id', '=', input.stationId ?? null).where('evse_id', '=', input.evseId ?? null);
    if (input.scope === 'group') existing = existing.where('group_id', '=', input.groupId ?? null);
    const replaced = await existing.returning('tariff_id').execute();
    const row = await trx
      .insertInto('tariff_assignments')
      .values({
        operator_id: input.operatorId,
        tariff_id: input.tariffId,
        audience: input.audience,
        scope: input.scope,
        location_id: input.locationId ?? null,
        station_id: input.stationId ?? null,
        evse_id: input.evseId ?? null,
        group_id: input.groupId ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, replacedTariffIds: replaced.map((r) => r.tariff_id) };
  });
}
