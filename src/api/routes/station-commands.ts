/**
 * POST /api/v1/stations/{id}/commands/{command}: remote commands for both OCPP versions (see
 * src/ocpp/commands/build-command.ts for the vocabulary and the body of each). Staff with the admin or support
 * role only. A station that is not connected to this node is answered at once with 409 StationNotConnected.
 */
import type { FastifyInstance } from 'fastify';
import { COMMAND_NAMES, type CommandName } from '../../ocpp/commands/build-command.ts';
import { runCommand } from '../../ocpp/commands/run-command.ts';
import type { Gateway } from '../../ocpp/gateway.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../require-role.ts';

export type StationCommandGateway = Pick<Gateway, 'call' | 'protocolOf'>;

export function registerStationCommandRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.post<{ Params: { id: string; command: string }; Body: Record<string, unknown> | undefined }>(
    '/stations/:id/commands/:command',
    async (request) => {
      const principal = requireRole(request, ['admin', 'support']);
      const { id, command } = request.params;
      if (!(COMMAND_NAMES as readonly string[]).includes(command)) {
        throw new ApiError('NotFound', `no command ${command}; commands: ${COMMAND_NAMES.join(', ')}`);
      }
      const station = await deps.db
        .selectFrom('stations')
        .select('id')
        .where('id', '=', id)
        .where('operator_id', '=', principal.operatorId)
        .executeTakeFirst();
      if (!station) throw new ApiError('NotFound', `no station ${id}`);
      if (!deps.stationGateway) throw new ApiError('StationNotConnected', `station ${id} is not connected`);
      const body = request.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError('InvalidRequest', 'send a JSON object');
      const outcome = await runCommand({ db: deps.db, gateway: deps.stationGateway }, id, command as CommandName, body);
      if (!outcome.ok) {
        const code = outcome.error.code === 'InvalidCommandInput' ? 'InvalidRequest' : outcome.error.code;
        throw new ApiError(code === 'StationNotFound' ? 'NotFound' : code, outcome.error.message);
      }
      return outcome;
    },
  );
}
