import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { stationJson } from '../serialize.ts';

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
    return { data: rows.map((row) => ({ ...stationJson(row), connected: online.has(row.id) })) };
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
}
