import type { FastifyInstance } from 'fastify';
import { addStation, removeStation, type StationRegistryError } from '../../ocpp/station-registry.ts';
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

  /** Registers a station with its OCPP security profile; a generated password is in the reply, once. */
  api.post<{
    Body: { id?: unknown; securityProfile?: unknown; password?: unknown; locationId?: unknown; evses?: unknown };
  }>('/stations', async (request, reply) => {
    const principal = requireRole(request, ['admin']);
    const body = request.body ?? {};
    if (typeof body.id !== 'string') throw new ApiError('InvalidRequest', 'id is required', '$.id');
    const profile = body.securityProfile ?? 1;
    if (typeof profile !== 'number')
      throw new ApiError('InvalidRequest', 'securityProfile is 0-3', '$.securityProfile');
    if (body.password !== undefined && typeof body.password !== 'string') {
      throw new ApiError('InvalidRequest', 'password is a string', '$.password');
    }
    if (body.locationId !== undefined && typeof body.locationId !== 'string') {
      throw new ApiError('InvalidRequest', 'locationId is a string', '$.locationId');
    }
    const evses = body.evses ?? 1;
    if (typeof evses !== 'number' || !Number.isInteger(evses) || evses < 1 || evses > 100) {
      throw new ApiError('InvalidRequest', 'evses is 1 to 100', '$.evses');
    }
    const added = await addStation(deps.db, {
      id: body.id,
      operatorId: principal.operatorId,
      securityProfile: profile,
      evseCount: evses,
      ...(typeof body.password === 'string' && { password: body.password }),
      ...(typeof body.locationId === 'string' && { locationId: body.locationId }),
    });
    if (!added.ok) throw new ApiError(REGISTRY_ERRORS[added.error.code], added.error.message);
    return reply.status(201).send(added.value);
  });

  /** Removes a station without sessions; one with sessions is set to Rejected (409 StationHasSessions). */
  api.delete<{ Params: { id: string } }>('/stations/:id', async (request) => {
    const principal = requireRole(request, ['admin']);
    const owned = await deps.db
      .selectFrom('stations')
      .select('id')
      .where('id', '=', request.params.id)
      .where('operator_id', '=', principal.operatorId)
      .executeTakeFirst();
    if (!owned) throw new ApiError('NotFound', `no station ${request.params.id}`);
    const removed = await removeStation(deps.db, request.params.id);
    if (!removed.ok) throw new ApiError(REGISTRY_ERRORS[removed.error.code], removed.error.message);
    return removed.value;
  });
}
