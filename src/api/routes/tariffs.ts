/**
 * Tariff management: create (each change is a new immutable version with its validity), list, fetch with
 * history, validate, retire, assign to a scope, and quote a price before charging (AFIR price transparency).
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { findIdToken } from '../../auth/id-token-store.ts';
import { parseScaled } from '../../shared/decimal.ts';
import { formatMoney } from '../../shared/money.ts';
import { loadEvseContext } from '../../stations/station-store.ts';
import { parseTariff } from '../../tariff/parse-tariff.ts';
import { quoteSession } from '../../tariff/quote-session.ts';
import type { Tariff } from '../../tariff/tariff.ts';
import { assignTariffReplacing, findTariffInForce, saveTariffVersion } from '../../tariff/tariff-store.ts';
import { auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';

const ANY_ROLE = ['admin', 'finance', 'support', 'read-only'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Longest session a quote may describe (a week), and the most energy (1 MWh). */
const MAX_QUOTE_MINUTES = 7 * 24 * 60;
const MAX_QUOTE_KWH = 1000;

/** Validates an OCPI tariff from a request body; errors name the JSON path inside the request. */
function parseBodyTariff(json: unknown, basePath: string): Tariff {
  const parsed = parseTariff(json);
  if (parsed.ok) return parsed.value;
  const path = parsed.error.path.replace(/^\$/, basePath);
  throw new ApiError(parsed.error.code, `${path}: ${parsed.error.message}`, path);
}

type QuoteBody = { energyKwh: number; durationMinutes: number; startAt?: string };
const quoteProperties = {
  energyKwh: { type: 'number', minimum: 0, maximum: MAX_QUOTE_KWH },
  durationMinutes: { type: 'number', exclusiveMinimum: 0, maximum: MAX_QUOTE_MINUTES },
  startAt: { type: 'string', format: 'date-time' },
} as const;

export function registerTariffRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { db } = deps;

  const findTariffRow = async (operatorId: string, code: string) => {
    const row = await db
      .selectFrom('tariffs')
      .selectAll()
      .where('operator_id', '=', operatorId)
      .where('code', '=', code)
      .executeTakeFirst();
    if (!row) throw new ApiError('TariffNotFound', `no tariff ${code}`);
    return row;
  };

  api.get('/tariffs', async (request) => {
    const principal = requireRole(request, ANY_ROLE);
    const rows = await db
      .selectFrom('tariffs as t')
      .innerJoin('tariff_versions as v', 'v.tariff_id', 't.id')
      .select([
        't.code',
        't.type',
        't.retired_at',
        sql<number>`max(v.version)`.as('latest_version'),
        sql<Date>`max(v.valid_from)`.as('latest_valid_from'),
      ])
      .where('t.operator_id', '=', principal.operatorId)
      .groupBy(['t.code', 't.type', 't.retired_at'])
      .orderBy('t.code')
      .execute();
    return {
      data: rows.map((r) => ({
        code: r.code,
        type: r.type,
        latestVersion: Number(r.latest_version),
        latestValidFrom: new Date(r.latest_valid_from).toISOString(),
        retiredAt: r.retired_at?.toISOString() ?? null,
      })),
    };
  });

  api.get<{ Params: { code: string } }>('/tariffs/:code', async (request) => {
    const principal = requireRole(request, ANY_ROLE);
    const tariff = await findTariffRow(principal.operatorId, request.params.code);
    const versions = await db
      .selectFrom('tariff_versions')
      .select(['id', 'version', 'valid_from', 'created_at', 'currency', 'body'])
      .where('tariff_id', '=', tariff.id)
      .orderBy('version', 'desc')
      .execute();
    return {
      code: tariff.code,
      type: tariff.type,
      retiredAt: tariff.retired_at?.toISOString() ?? null,
      versions: versions.map((v) => ({
        id: v.id,
        version: v.version,
        validFrom: v.valid_from.toISOString(),
        createdAt: v.created_at.toISOString(),
        currency: v.currency,
        tariff: v.body,
      })),
    };
  });

  api.post<{ Body: { tariff: unknown } }>(
    '/tariffs/validate',
    { schema: { body: { type: 'object', required: ['tariff'], properties: { tariff: {} } } } },
    async (request) => {
      requireRole(request, ANY_ROLE);
      const tariff = parseBodyTariff(request.body.tariff, '$.tariff');
      return { valid: true, id: tariff.id, currency: tariff.currency, elements: tariff.elements.length };
    },
  );

  api.post<{ Body: { tariff: unknown; validFrom?: string } }>(
    '/tariffs',
    {
      schema: {
        body: {
          type: 'object',
          required: ['tariff'],
          additionalProperties: false,
          properties: { tariff: {}, validFrom: { type: 'string', format: 'date-time' } },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const tariff = parseBodyTariff(request.body.tariff, '$.tariff');
      // The version and its audit entry commit together: a crash cannot leave one without the other.
      const saved = await db.transaction().execute(async (trx) => {
        const version = await saveTariffVersion(trx, {
          operatorId: principal.operatorId,
          code: tariff.id,
          type: tariff.type ?? 'REGULAR',
          currency: tariff.currency,
          body: request.body.tariff,
          validFrom: request.body.validFrom ? new Date(request.body.validFrom) : deps.clock.now(),
        });
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'tariff.create-version',
          subjectType: 'tariff',
          subjectId: version.code,
          after: {
            version: version.version,
            tariffVersionId: version.tariffVersionId,
            validFrom: version.validFrom,
            tariff: request.body.tariff,
          },
        });
        return version;
      });
      return reply.status(201).send({
        code: saved.code,
        version: saved.version,
        tariffVersionId: saved.tariffVersionId,
        validFrom: saved.validFrom.toISOString(),
      });
    },
  );

  api.post<{ Params: { code: string } }>('/tariffs/:code/retire', async (request) => {
    const principal = requireRole(request, ['admin']);
    const tariff = await findTariffRow(principal.operatorId, request.params.code);
    const retiredAt = tariff.retired_at ?? deps.clock.now();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('tariffs').set({ retired_at: retiredAt }).where('id', '=', tariff.id).execute();
      if (!tariff.retired_at) {
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'tariff.retire',
          subjectType: 'tariff',
          subjectId: tariff.code,
          before: { retiredAt: null },
          after: { retiredAt },
        });
      }
    });
    return { code: tariff.code, retiredAt: retiredAt.toISOString() };
  });

  api.get('/tariff-assignments', async (request) => {
    const principal = requireRole(request, ANY_ROLE);
    const rows = await db
      .selectFrom('tariff_assignments as a')
      .innerJoin('tariffs as t', 't.id', 'a.tariff_id')
      .select(['a.id', 't.code', 'a.audience', 'a.scope', 'a.location_id', 'a.station_id', 'a.evse_id', 'a.group_id'])
      .where('a.operator_id', '=', principal.operatorId)
      .orderBy('a.scope')
      .orderBy('a.created_at')
      .execute();
    return {
      data: rows.map((r) => ({
        id: r.id,
        tariffCode: r.code,
        audience: r.audience,
        scope: r.scope,
        locationId: r.location_id,
        stationId: r.station_id,
        evseId: r.evse_id,
        groupId: r.group_id,
      })),
    };
  });

  api.put<{
    Body: {
      tariffCode: string;
      scope: 'operator' | 'location' | 'evse' | 'group';
      audience?: 'contract' | 'ad_hoc';
      locationId?: string;
      stationId?: string;
      evseId?: number;
      groupId?: string;
    };
  }>(
    '/tariff-assignments',
    {
      schema: {
        body: {
          type: 'object',
          required: ['tariffCode', 'scope'],
          additionalProperties: false,
          properties: {
            tariffCode: { type: 'string', maxLength: 36 },
            scope: { type: 'string', enum: ['operator', 'location', 'evse', 'group'] },
            audience: { type: 'string', enum: ['contract', 'ad_hoc'] },
            locationId: { type: 'string', pattern: UUID.source },
            stationId: { type: 'string', maxLength: 48 },
            evseId: { type: 'integer', minimum: 1, maximum: 1000 },
            groupId: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      const body = request.body;
      const tariff = await findTariffRow(principal.operatorId, body.tariffCode);
      const need = (value: unknown, name: string) => {
        if (value === undefined) throw new ApiError('InvalidRequest', `scope ${body.scope} needs ${name}`);
      };
      if (body.scope === 'location') {
        need(body.locationId, 'locationId');
        const location = await db
          .selectFrom('locations')
          .select('id')
          .where('id', '=', body.locationId!)
          .where('operator_id', '=', principal.operatorId)
          .executeTakeFirst();
        if (!location) throw new ApiError('NotFound', `no location ${body.locationId}`);
      }
      if (body.scope === 'evse') {
        need(body.stationId, 'stationId');
        need(body.evseId, 'evseId');
        const evse = await loadEvseContext(db, body.stationId!, body.evseId!, { acceptedOnly: false });
        if (!evse || evse.operatorId !== principal.operatorId) {
          throw new ApiError('NotFound', `no EVSE ${body.stationId}/${body.evseId}`);
        }
      }
      if (body.scope === 'group') need(body.groupId, 'groupId');
      // The assignment and its audit entry commit together.
      const id = await db.transaction().execute(async (trx) => {
        const { id: assignmentId, replacedTariffIds } = await assignTariffReplacing(trx, {
          operatorId: principal.operatorId,
          tariffId: tariff.id,
          audience: body.audience ?? 'contract',
          scope: body.scope,
          ...(body.scope === 'location' && { locationId: body.locationId! }),
          ...(body.scope === 'evse' && { stationId: body.stationId!, evseId: body.evseId! }),
          ...(body.scope === 'group' && { groupId: body.groupId! }),
        });
        const replaced =
          replacedTariffIds.length === 0
            ? []
            : await trx.selectFrom('tariffs').select('code').where('id', 'in', replacedTariffIds).execute();
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'tariff.assign',
          subjectType: 'tariff-assignment',
          subjectId: assignmentId,
          // What was assigned at exactly this scope and audience before (replaced), if anything.
          before: replaced.length > 0 ? { tariffCodes: replaced.map((r) => r.code) } : null,
          after: { ...body, tariffCode: tariff.code, audience: body.audience ?? 'contract' },
        });
        return assignmentId;
      });
      return { id, tariffCode: tariff.code, scope: body.scope, audience: body.audience ?? 'contract' };
    },
  );

  /** A quote for one EVSE: the tariff a session starting there would get, priced for the planned charge. */
  api.post<{ Body: QuoteBody & { stationId: string; evseId: number; idTag?: string } }>(
    '/quotes',
    {
      schema: {
        body: {
          type: 'object',
          required: ['stationId', 'evseId', 'energyKwh', 'durationMinutes'],
          additionalProperties: false,
          properties: {
            ...quoteProperties,
            stationId: { type: 'string', maxLength: 48 },
            evseId: { type: 'integer', minimum: 1, maximum: 1000 },
            idTag: { type: 'string', maxLength: 36 },
          },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ANY_ROLE);
      const body = request.body;
      const where = await loadEvseContext(db, body.stationId, body.evseId);
      if (!where || where.operatorId !== principal.operatorId) {
        throw new ApiError('NotFound', `no EVSE ${body.stationId}/${body.evseId}`);
      }
      const startAt = body.startAt ? new Date(body.startAt) : deps.clock.now();
      const token = body.idTag ? await findIdToken(db, principal.operatorId, body.idTag) : undefined;
      const version = await findTariffInForce(db, {
        operatorId: principal.operatorId,
        locationId: where.locationId,
        stationId: body.stationId,
        evseId: body.evseId,
        at: startAt,
        groupId: token?.groupId ?? null,
        audience: !token || token.type === 'AD_HOC_USER' ? 'ad_hoc' : 'contract',
      });
      if (!version) throw new ApiError('TariffNotFound', `no tariff applies at ${body.stationId}/${body.evseId}`);
      const tariff = parseBodyTariff(version.body, '$.storedTariff');
      return {
        tariff: { code: version.code, version: version.version, altText: tariff.tariff_alt_text ?? [] },
        timeZone: where.timeZone,
        ...quoteOrFail(tariff, body, startAt, where.timeZone, where.roundingMode),
      };
    },
  );

  api.post<{ Params: { code: string }; Body: QuoteBody & { timeZone: string } }>(
    '/tariffs/:code/quote',
    {
      schema: {
        body: {
          type: 'object',
          required: ['energyKwh', 'durationMinutes', 'timeZone'],
          additionalProperties: false,
          properties: { ...quoteProperties, timeZone: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ANY_ROLE);
      const row = await findTariffRow(principal.operatorId, request.params.code);
      const startAt = request.body.startAt ? new Date(request.body.startAt) : deps.clock.now();
      const version = await db
        .selectFrom('tariff_versions')
        .select(['version', 'body'])
        .where('tariff_id', '=', row.id)
        .where('valid_from', '<=', startAt)
        .orderBy('valid_from', 'desc')
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!version)
        throw new ApiError('TariffNotFound', `tariff ${row.code} has no version valid at ${startAt.toISOString()}`);
      const operator = await db
        .selectFrom('operators')
        .select('rounding_mode')
        .where('id', '=', principal.operatorId)
        .executeTakeFirstOrThrow();
      const tariff = parseBodyTariff(version.body, '$.storedTariff');
      return {
        tariff: { code: row.code, version: version.version, altText: tariff.tariff_alt_text ?? [] },
        timeZone: request.body.timeZone,
        ...quoteOrFail(tariff, request.body, startAt, request.body.timeZone, operator.rounding_mode),
      };
    },
  );
}

function quoteOrFail(
  tariff: Tariff,
  body: QuoteBody,
  startAt: Date,
  timeZone: string,
  rounding: 'half-up' | 'half-even',
) {
  // kWh with up to 6 decimals is exact milliwatt-hours; more precision than a meter has is refused, not rounded.
  const energyMilliWh = parseScaled(body.energyKwh, 6);
  if (energyMilliWh === undefined)
    throw new ApiError('InvalidRequest', 'energyKwh has more than 6 decimals', '$.energyKwh');
  const energyWh = Number(energyMilliWh) / 1000;
  const quote = quoteSession(tariff, { startAt, energyWh, durationMinutes: body.durationMinutes, timeZone, rounding });
  if (!quote.ok) throw new ApiError('PricingFailed', `${quote.error.code}: ${quote.error.message}`);
  return {
    startAt: startAt.toISOString(),
    energyKwh: body.energyKwh,
    durationMinutes: body.durationMinutes,
    currency: quote.value.priced.currency,
    unitPrices: quote.value.unitPrices,
    totalCost: { exclVat: formatMoney(quote.value.totals.exclVat), inclVat: formatMoney(quote.value.totals.inclVat) },
    lines: quote.value.priced.lines.map((line) => ({
      dimension: line.dimension,
      unitPriceExclVat: line.unitPriceExclVat,
      priceUnit: line.priceUnit,
      volume: line.volume,
      volumeUnit: line.volumeUnit,
      vatPercent: line.vatPercent,
      exclVat: formatMoney(line.exclVat),
      inclVat: formatMoney(line.inclVat),
    })),
  };
}
