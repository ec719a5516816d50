import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { driverCustomerId } from '../require-role.ts';
import { cdrJson } from '../serialize.ts';
import { pageOf, pageQuerySchema, withinPage } from './pagination.ts';

type ListQuery = { limit: number; cursor?: string; from?: string; to?: string; stationId?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function registerCdrRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get<{ Querystring: ListQuery }>(
    '/cdrs',
    {
      // Drivers see the CDRs of their own sessions only.
      config: { allowDrivers: true },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pageQuerySchema, stationId: { type: 'string', maxLength: 48 } },
        },
      },
    },
    async (request) => {
      const q = request.query;
      let query = deps.db
        .selectFrom('cdrs')
        .innerJoin('sessions', 'sessions.id', 'cdrs.session_id')
        .selectAll('cdrs')
        .where('cdrs.operator_id', '=', request.principal!.operatorId);
      const own = driverCustomerId(request);
      if (own) {
        query = query.where(
          'sessions.id_token_id',
          'in',
          deps.db.selectFrom('id_tokens').select('id').where('customer_id', '=', own),
        );
      }
      if (q.stationId) query = query.where('sessions.station_id', '=', q.stationId);
      const rows = await withinPage(query, { time: 'cdrs.created_at', id: 'cdrs.id' }, q).execute();
      const { page, nextCursor } = pageOf(rows, q.limit, (row) => ({ at: row.created_at, id: row.id }));
      return { data: page.map(cdrJson), nextCursor };
    },
  );

  api.get<{ Params: { id: string } }>('/cdrs/:id', { config: { allowDrivers: true } }, async (request) => {
    if (!UUID.test(request.params.id)) throw new ApiError('NotFound', `no CDR ${request.params.id}`);
    let byId = deps.db
      .selectFrom('cdrs')
      .selectAll()
      .where('operator_id', '=', request.principal!.operatorId)
      .where('id', '=', request.params.id);
    const own = driverCustomerId(request);
    if (own) {
      byId = byId.where('session_id', 'in', (eb) =>
        eb
          .selectFrom('sessions')
          .select('sessions.id')
          .where('sessions.id_token_id', 'in', eb.selectFrom('id_tokens').select('id').where('customer_id', '=', own)),
      );
    }
    const row = await byId.executeTakeFirst();
    if (!row) throw new ApiError('NotFound', `no CDR ${request.params.id}`);
    return cdrJson(row);
  });
}
