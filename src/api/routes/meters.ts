/**
 * The meter registry: list, meters due for calibration, register and update (admin). Registering a key makes it
 * `configured` (trusted); a key pinned from signed data stays flagged until an operator confirms it by sending it
 * here. Changes are recorded in the audit log in the same transaction.
 */
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/append-audit.ts';
import { localDate } from '../../meters/calibration-status.ts';
import { dueWindowEnd, meterJson } from '../../meters/meter-json.ts';
import { findMeter, findMeterOfEvse, listMeters, listMetersDue, type MeterRow } from '../../meters/meter-store.ts';
import { type MeterInput, validateMeterInput } from '../../meters/validate-meter-input.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Largest due window: ten years. */
const MAX_DUE_DAYS = 3650;
const DEFAULT_DUE_DAYS = 30;

const nullableString = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const;
const dateOrNull = { type: ['string', 'null'], maxLength: 10 } as const;
const meterFields = {
  model: nullableString(100),
  publicKey: nullableString(1024),
  calibrationCertificateRef: nullableString(200),
  lastCalibratedOn: dateOrNull,
  calibrationValidUntil: dateOrNull,
  signedDataRequired: { type: 'boolean' },
} as const;

type RegisterBody = MeterInput & { stationId: string; evseId: number; serial: string };

export function registerMeterRoutes(api: FastifyInstance, deps: AppDeps): void {
  const today = () => localDate(deps.clock.now(), 'UTC');

  api.get<{ Querystring: { stationId?: string } }>(
    '/meters',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { stationId: { type: 'string', maxLength: 48 } },
        },
      },
    },
    async (request) => {
      const rows = await listMeters(deps.db, {
        operatorId: request.principal!.operatorId,
        ...(request.query.stationId && { stationId: request.query.stationId }),
      });
      return { data: rows.map((row) => meterJson(row, today(), DEFAULT_DUE_DAYS)) };
    },
  );

  api.get<{ Querystring: { days: number } }>(
    '/meters/due',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { days: { type: 'integer', minimum: 0, maximum: MAX_DUE_DAYS, default: DEFAULT_DUE_DAYS } },
        },
      },
    },
    async (request) => {
      const day = today();
      const until = dueWindowEnd(day, request.query.days);
      const rows = await listMetersDue(deps.db, until, { operatorId: request.principal!.operatorId });
      return { today: day, dueUntil: until, data: rows.map((row) => meterJson(row, day, request.query.days)) };
    },
  );

  api.post<{ Body: RegisterBody }>(
    '/meters',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['stationId', 'evseId', 'serial'],
          properties: {
            stationId: { type: 'string', minLength: 1, maxLength: 48 },
            evseId: { type: 'integer', minimum: 1, maximum: 1000 },
            serial: { type: 'string', minLength: 1, maxLength: 64 },
            ...meterFields,
          },
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const body = request.body;
      const valid = validateMeterInput(body);
      if (!valid.ok) throw new ApiError('MeterInvalid', valid.error.message, valid.error.path);
      const evse = await deps.db
        .selectFrom('evses')
        .innerJoin('stations', 'stations.id', 'evses.station_id')
        .select(['evses.station_id'])
        .where('evses.station_id', '=', body.stationId)
        .where('evses.evse_id', '=', body.evseId)
        .where('stations.operator_id', '=', principal.operatorId)
        .executeTakeFirst();
      if (!evse) throw new ApiError('NotFound', `no EVSE ${body.stationId}/${body.evseId}`);
      const now = deps.clock.now();
      const row = await deps.db.transaction().execute(async (trx) => {
        if (await findMeterOfEvse(trx, body.stationId, body.evseId)) return undefined;
        const inserted = await trx
          .insertInto('meters')
          .values({
            operator_id: principal.operatorId,
            station_id: body.stationId,
            evse_id: body.evseId,
            serial: body.serial.trim(),
            model: body.model ?? null,
            public_key: body.publicKey ?? null,
            key_source: body.publicKey ? 'configured' : null,
            calibration_certificate_ref: body.calibrationCertificateRef ?? null,
            last_calibrated_on: body.lastCalibratedOn ?? null,
            calibration_valid_until: body.calibrationValidUntil ?? null,
            signed_data_required: body.signedDataRequired ?? false,
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) => oc.columns(['station_id', 'evse_id']).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (inserted) await audit(trx, 'meter.register', inserted, undefined);
        return inserted;
      });
      if (!row) {
        throw new ApiError(
          'MeterExists',
          `EVSE ${body.stationId}/${body.evseId} already has a meter; PATCH it instead`,
        );
      }
      return reply.status(201).send(meterJson(row, today(), DEFAULT_DUE_DAYS));

      async function audit(
        trx: Parameters<typeof appendAudit>[0],
        action: string,
        after: MeterRow,
        before: MeterRow | undefined,
      ) {
        await appendAudit(trx, {
          operatorId: principal.operatorId,
          actor: principal.actor,
          action,
          subjectType: 'meter',
          subjectId: after.id,
          ...(before && { before: meterJson(before, today(), DEFAULT_DUE_DAYS) }),
          after: meterJson(after, today(), DEFAULT_DUE_DAYS),
          ip: request.ip,
          requestId: request.id,
          at: now,
        });
      }
    },
  );

  api.patch<{ Params: { id: string }; Body: MeterInput }>(
    '/meters/:id',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { serial: { type: 'string', minLength: 1, maxLength: 64 }, ...meterFields },
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ['admin']);
      if (!UUID.test(request.params.id)) throw new ApiError('NotFound', `no meter ${request.params.id}`);
      const now = deps.clock.now();
      const body = request.body;
      const updated = await deps.db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('meters')
          .selectAll()
          .where('operator_id', '=', principal.operatorId)
          .where('id', '=', request.params.id)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw new ApiError('NotFound', `no meter ${request.params.id}`);
        const valid = validateMeterInput(body, {
          lastCalibratedOn: before.last_calibrated_on,
          calibrationValidUntil: before.calibration_valid_until,
        });
        if (!valid.ok) throw new ApiError('MeterInvalid', valid.error.message, valid.error.path);
        await trx
          .updateTable('meters')
          .set({
            ...(body.serial !== undefined && { serial: body.serial.trim() }),
            ...(body.model !== undefined && { model: body.model }),
            // A key sent by an operator is configured (trusted), also when it confirms a pinned one.
            ...(body.publicKey !== undefined && {
              public_key: body.publicKey,
              key_source: body.publicKey === null ? null : 'configured',
              key_pinned_at: null,
            }),
            ...(body.calibrationCertificateRef !== undefined && {
              calibration_certificate_ref: body.calibrationCertificateRef,
            }),
            ...(body.lastCalibratedOn !== undefined && { last_calibrated_on: body.lastCalibratedOn }),
            ...(body.calibrationValidUntil !== undefined && { calibration_valid_until: body.calibrationValidUntil }),
            ...(body.signedDataRequired !== undefined && { signed_data_required: body.signedDataRequired }),
            updated_at: now,
          })
          .where('id', '=', before.id)
          .execute();
        const after = (await findMeter(trx, principal.operatorId, before.id))!;
        await appendAudit(trx, {
          operatorId: principal.operatorId,
          actor: principal.actor,
          action: 'meter.update',
          subjectType: 'meter',
          subjectId: before.id,
          before: meterJson(before, today(), DEFAULT_DUE_DAYS),
          after: meterJson(after, today(), DEFAULT_DUE_DAYS),
          ip: request.ip,
          requestId: request.id,
          at: now,
        });
        return after;
      });
      return meterJson(updated, today(), DEFAULT_DUE_DAYS);
    },
  );
}
