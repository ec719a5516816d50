/**
 * POST /api/v1/stations/{id}/commands/{command}: remote commands for both OCPP versions (see
 * src/ocpp/commands/build-command.ts for the vocabulary and the body of each). Staff with the admin or support
 * role only. A station that is not connected to this node is answered at once with 409 StationNotConnected.
 */
import type { FastifyInstance } from 'fastify';
import { COMMAND_NAMES, type CommandName } from '../../ocpp/commands/build-command.ts';
import { type CommandOutcome, runCommand } from '../../ocpp/commands/run-command.ts';
import type { Gateway } from '../../ocpp/gateway.ts';
import { auditRequest } from '../auth/audit-context.ts';
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
      const at = deps.clock.now();
      const requested = { command, input: redactCommandInput(body) };
      // The intent is on record before the command leaves, so that a crash between sending and answering cannot
      // hide that it was sent. The command itself runs outside any transaction (a network call), so its outcome
      // is appended in a transaction of its own once known.
      await deps.db.transaction().execute((trx) =>
        auditRequest(trx, request, at, {
          action: 'station.command-request',
          subjectType: 'station',
          subjectId: id,
          after: requested,
        }),
      );
      const auditOutcome = (after: unknown) =>
        deps.db.transaction().execute((trx) =>
          auditRequest(trx, request, deps.clock.now(), {
            action: 'station.command-result',
            subjectType: 'station',
            subjectId: id,
            before: requested,
            after,
          }),
        );
      let outcome: CommandOutcome;
      try {
        outcome = await runCommand({ db: deps.db, gateway: deps.stationGateway }, id, command as CommandName, body);
      } catch (error) {
        await auditOutcome({ ok: false, errorCode: 'InternalError', message: 'the command failed unexpectedly' });
        throw error;
      }
      await auditOutcome(outcomeAuditJson(command, outcome));
      if (!outcome.ok) {
        const code = outcome.error.code === 'InvalidCommandInput' ? 'InvalidRequest' : outcome.error.code;
        throw new ApiError(code === 'StationNotFound' ? 'NotFound' : code, outcome.error.message);
      }
      return outcome;
    },
  );
}

/** A command's input as audited: a password (set-password) is replaced by whether one was given. */
function redactCommandInput(input: Record<string, unknown>): Record<string, unknown> {
  if (!('password' in input)) return input;
  const { password: _secret, ...rest } = input;
  return { ...rest, passwordGiven: true };
}

/**
 * A command's outcome as audited: accepted or not, the station's status word and the error; not the whole reply
 * (configuration values can be long or sensitive) and never a generated password.
 */
function outcomeAuditJson(command: string, outcome: CommandOutcome) {
  if (!outcome.ok) return { ok: false, errorCode: outcome.error.code, message: outcome.error.message };
  const status = (outcome.reply as { status?: unknown } | null)?.status;
  return {
    ok: true,
    method: outcome.method,
    protocol: outcome.protocol,
    accepted: outcome.accepted,
    status: typeof status === 'string' ? status : null,
    ...(command === 'set-password' && { passwordChanged: outcome.accepted }),
    ...(outcome.localListVersion !== undefined && { localListVersion: outcome.localListVersion }),
  };
}
