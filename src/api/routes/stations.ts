import type { FastifyInstance } from 'fastify';
import type { StationRow } from '../../db/schema.ts';
import { addStation, removeStation, type StationRegistryError } from '../../ocpp/station-registry.ts';
import { auditRequest } from '../auth/audit-context.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError, type ApiErrorCode } from '../errors.ts';
import { requireRole } from '../require-role.ts';
import { stationJson } from '../serialize.ts';

/** Registry errors as API error codes (api/errors.ts holds the statuses). */
const REGISTRY_ERRORS: Record<StationRegistryError['code'], ApiErrorCode> = {
  InvalidStationId: 'InvalidRequest',
  InvalidSecurityProfile: 'InvalidRequest',
  InvalidPassword: 'InvalidRequest',
  StationExists: 'StationExists',
  StationNotFound: 'NotFound',
  LocationNotFound: 'NotFound',
  StationHasSessions: 'StationHasSessions',
};

/** The security fields of a station row (never the password hash). */
const securityJson = (row: { security_profile: number; password_hash: string | null }) => ({
  securityProfile: row.security_profile,
  hasPassword: row.password_hash !== null,
});

export function registerStationRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get('/stations', async (request) => {
    const rows = await deps.db
      .selectFrom('stations')
      .selectAll()
      .where('operator_id', '=', request.principal!.operatorId)
      .orderBy('id')
      .limit(10_000)
      .execute();
    const online = new Set(deps.connectedStations());
    return {
      data: rows.map((row) => ({ ...stationJson(row), ...securityJson(row), connected: online.has(row.id) })),
    };
  });

  api.get<{ Params: { id: string } }>('/stations/:id', async (request) => {
    const row = await deps.db
      .selectFrom('stations')
      .selectAll()
      .where('operator_id', '=', request.principal!.operatorId)
      .where('id', '=', request.params.id)
      .executeTakeFirst();
    if (!row) throw new ApiError('NotFound', `no station ${request.params.id}`);
    const evses = await deps.db
      .selectFrom('evses')
      .select(['evse_id', 'evse_uid', 'power_type', 'max_power_w', 'status', 'error_code', 'status_at'])
      .where('station_id', '=', row.id)
      .orderBy('evse_id')
      .execute();
    return {
      ...stationJson(row),
      ...securityJson(row),
      connected: deps.connectedStations().includes(row.id),
      evses: evses.map((e) => ({
        evseId: e.evse_id,
        evseUid: e.evse_uid,
        powerType: e.power_type,
        maxPowerW: e.max_power_w,
        status: e.status,
        errorCode: e.error_code,
        statusAt: e.status_at?.toISOString() ?? null,
      })),
    };
  });

  /**
   * Registers a station with its OCPP security profile; a generated password is in the reply, once. The station
   * and its audit entry (never the password, only whether one was set and by whom it was chosen) commit together.
   */
  api.post<{ Body: StationBody }>(
    '/stations',
    {
      schema: {
        summary: 'Register a station (admins); a generated password is returned once',
        body: STATION_BODY_SCHEMA,
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ['admin']);
      const body = request.body ?? {};
      // The schema checks the types; these checks keep the handler safe on its own and name the field.
      if (typeof body.id !== 'string') throw new ApiError('InvalidRequest', 'id is required', '$.id');
      const profile = body.securityProfile ?? 1;
      if (typeof profile !== 'number')
        throw new ApiError('InvalidRequest', 'securityProfile is 0-3', '$.securityProfile');
      const evses = body.evses ?? 1;
      if (!Number.isInteger(evses) || evses < 1 || evses > 100) {
        throw new ApiError('InvalidRequest', 'evses is 1 to 100', '$.evses');
      }
      const id = body.id;
      const added = await deps.db.transaction().execute(async (trx) => {
        const result = await addStation(trx, {
          id,
          operatorId: principal.operatorId,
          securityProfile: profile,
          evseCount: evses,
          ...(body.password !== undefined && { password: body.password }),
          ...(body.locationId !== undefined && { locationId: body.locationId }),
        });
        // Throwing rolls the transaction back (a failed registration writes nothing, and no audit entry).
        if (!result.ok) throw new ApiError(REGISTRY_ERRORS[result.error.code], result.error.message);
        const row = await trx.selectFrom('stations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'station.create',
          subjectType: 'station',
          subjectId: id,
          after: { ...stationAuditJson(row), evseCount: evses, passwordGenerated: result.value.password !== undefined },
        });
        return result.value;
      });
      return reply.status(201).send(added);
    },
  );

  /**
   * Removes a station without sessions; one with sessions is set to Rejected (409 StationHasSessions). Either
   * change is audited in its transaction, with the station as it was before.
   */
  api.delete<{ Params: { id: string } }>('/stations/:id', async (request) => {
    const principal = requireRole(request, ['admin']);
    const stationId = request.params.id;
    const outcome = await deps.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('stations')
        .selectAll()
        .where('id', '=', stationId)
        .where('operator_id', '=', principal.operatorId)
        .forUpdate()
        .executeTakeFirst();
      if (!before) throw new ApiError('NotFound', `no station ${stationId}`);
      const removed = await removeStation(trx, stationId);
      if (removed.ok) {
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'station.delete',
          subjectType: 'station',
          subjectId: stationId,
          before: stationAuditJson(before),
        });
      } else if (removed.error.code === 'StationHasSessions') {
        // The station stays (its sessions refer to it) but now refuses everything: that change is kept and audited.
        await auditRequest(trx, request, deps.clock.now(), {
          action: 'station.reject',
          subjectType: 'station',
          subjectId: stationId,
          before: stationAuditJson(before),
          after: stationAuditJson({ ...before, registration_status: 'Rejected' }),
        });
      } else {
        throw new ApiError(REGISTRY_ERRORS[removed.error.code], removed.error.message);
      }
      return removed;
    });
    if (!outcome.ok) throw new ApiError(REGISTRY_ERRORS[outcome.error.code], outcome.error.message);
    return outcome.value;
  });
}

type StationBody = {
  id?: string;
  securityProfile?: number;
  password?: string;
  locationId?: string;
  evses?: number;
};

/**
 * POST /stations: closed like every body schema (closed-body-schemas.ts), so an unknown property is a 400. The id
 * pattern and password strength stay with the registry, whose messages name the rule.
 */
const STATION_BODY_SCHEMA = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', maxLength: 100, description: '1 to 48 characters of A-Z a-z 0-9 * . _ : -' },
    securityProfile: { type: 'integer', minimum: 0, maximum: 3, description: 'OCPP security profile; default 1' },
    password: {
      type: 'string',
      maxLength: 100,
      description: 'profiles 1 and 2: the Basic auth password; absent: one is generated and returned once',
    },
    locationId: { type: 'string', maxLength: 100, description: "default: the operator's only location" },
    evses: { type: 'integer', minimum: 1, maximum: 100, description: 'EVSEs to create; default 1' },
  },
} as const;

/** What an audit entry records of a station: its settings, whether it has a password, never the hash. */
function stationAuditJson(row: StationRow) {
  return {
    id: row.id,
    locationId: row.location_id,
    registrationStatus: row.registration_status,
    securityProfile: row.security_profile,
    hasPassword: row.password_hash !== null,
  };
}
