import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { driverCustomerId } from '../require-role.ts';
import { sessionJson } from '../serialize.ts';
import { pageOf, pageQuerySchema, withinPage } from './pagination.ts';

type ListQuery = {
  limit: number;
  cursor?: string;
  from?: string;
  to?: string;
  stationId?: string;
  status?: 'Active' | 'Completed';
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function registerSessionRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.get<{ Querystring: ListQuery }>(
    '/sessions',
    {
      // Drivers see their own sessions only (the sessions of their id tokens).
      config: { allowDrivers: true },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQuerySchema,
            stationId: { type: 'string', maxLength: 48 },
            status: { type: 'string', enum: ['Active', 'Completed'] },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      let query = deps.db.selectFrom('sessions').selectAll().where('operator_id', '=', request.principal!.operatorId);
      const own = driverCustomerId(request);
      if (own) {
        query = query.where(
          'id_token_id',
          'in',
          deps.db.selectFrom('id_tokens').select('id').where('customer_id', '=', own),
        );
      }
      if (q.stationId) query = query.where('station_id', '=', q.stationId);
      if (q.status) query = query.where('status', '=', q.status);
      const rows = await withinPage(query, { time: 'started_at', id: 'id' }, q).execute();
      const { page, nextCursor } = pageOf(rows, q.limit, (row) => ({ at: row.started_at, id: row.id }));
      return { data: page.map(sessionJson), nextCursor };
    },
  );

  api.get<{ Params: { id: string } }>('/sessions/:id', { config: { allowDrivers: true } }, async (request) => {
    if (!UUID.test(request.params.id)) throw new ApiError('NotFound', `no session ${request.params.id}`);
    let byId = deps.db
      .selectFrom('sessions')
      .selectAll()
      .where('operator_id', '=', request.principal!.operatorId)
      .where('id', '=', request.params.id);
    const own = driverCustomerId(request);
    if (own) {
      byId = byId.where(
        'id_token_id',
        'in',
        deps.db.selectFrom('id_tokens').select('id').where('customer_id', '=', own),
      );
    }
    const row = await byId.executeTakeFirst();
    if (!row) throw new ApiError('NotFound', `no session ${request.params.id}`);
    return sessionJson(row);
  });
}
