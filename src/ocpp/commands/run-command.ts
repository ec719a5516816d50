/**
 * Runs a remote command on a station connected to this node (or, on a cluster, forwards it to the station's node):
 * translates it for the station's protocol, sends it and reports the station's answer. A station that is not connected fails at once (StationNotConnected), never
 * after a timeout. The local authorization list and password rotation also update Voltbill's records, but only
 * once the station accepted them.
 */
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Gateway } from '../gateway.ts';
import { generatePassword, passwordProblem } from '../security/password-hash.ts';
import { setStationCredentials } from '../station-registry.ts';
import { buildCommand, type CommandName, type OcppRequest } from './build-command.ts';
import { buildLocalList } from './local-list.ts';

export type CommandError = {
  readonly code:
    | 'StationNotFound'
    | 'StationNotConnected'
    | 'InvalidCommandInput'
    | 'StationTimeout'
    | 'StationCallFailed';
  readonly message: string;
};

export type CommandOutcome =
  | {
      readonly ok: true;
      readonly protocol: string;
      readonly method: string;
      /** The station's reply, as it sent it. */
      readonly reply: unknown;
      /** Whether the station accepted (status Accepted, or every variable Accepted). */
      readonly accepted: boolean;
      /** A password generated for set-password, shown once. */
      readonly password?: string;
      readonly localListVersion?: number;
    }
  | { readonly ok: false; readonly error: CommandError };

/**
 * The gateway a command goes through. With `forward` (a cluster node on PostgreSQL, src/cluster/), a station
 * connected to another node gets the command through that node and the caller gets the same outcome types.
 */
export type CommandGateway = Pick<Gateway, 'call' | 'protocolOf'> & {
  readonly forward?: (
    stationId: string,
    command: CommandName,
    input: Record<string, unknown>,
  ) => Promise<CommandOutcome>;
};

export type CommandDeps = {
  readonly db: Kysely<Database>;
  readonly gateway: CommandGateway;
};

export async function runCommand(
  deps: CommandDeps,
  stationId: string,
  command: CommandName,
  input: Record<string, unknown>,
): Promise<CommandOutcome> {
  const protocol = deps.gateway.protocolOf(stationId);
  if (!protocol && deps.gateway.forward) return deps.gateway.forward(stationId, command, input);
  if (!protocol) return fail('StationNotConnected', `station ${stationId} is not connected`);
  let request: OcppRequest;
  let password: string | undefined;
  let localListVersion: number | undefined;
  if (command === 'send-local-list') {
    const list = await buildLocalList(deps.db, stationId, protocol);
    if (!list.ok) return fail(list.error.code, list.error.message);
    request = list.request;
    localListVersion = list.version;
  } else if (command === 'set-password') {
    const given = input.password;
    if (given !== undefined && typeof given !== 'string') return fail('InvalidCommandInput', 'password is a string');
    password = given ?? generatePassword();
    const problem = passwordProblem(password);
    if (problem) return fail('InvalidCommandInput', problem);
    request =
      protocol === 'ocpp2.0.1'
        ? {
            method: 'SetVariables',
            params: {
              setVariableData: [
                {
                  component: { name: 'SecurityCtrlr' },
                  variable: { name: 'BasicAuthPassword' },
                  attributeValue: password,
                },
              ],
            },
          }
        : { method: 'ChangeConfiguration', params: { key: 'AuthorizationKey', value: password } };
  } else {
    const built = buildCommand(protocol, command, input, randomInt(1, 2 ** 31 - 1));
    if (!built.ok) return fail('InvalidCommandInput', built.error.message);
    request = built.request;
  }

  let reply: unknown;
  try {
    reply = await deps.gateway.call(stationId, request.method, request.params);
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'StationNotConnected') return fail('StationNotConnected', (error as Error).message);
    if (name === 'TimeoutError') return fail('StationTimeout', `station ${stationId} did not answer ${request.method}`);
    const code = (error as { rpcErrorCode?: string }).rpcErrorCode;
    return fail('StationCallFailed', `${request.method} failed: ${code ?? name}: ${(error as Error).message}`);
  }
  const accepted = isAccepted(reply);
  if (accepted && command === 'set-password' && password !== undefined) {
    await setStationCredentials(deps.db, stationId, { password });
  }
  if (accepted && localListVersion !== undefined) {
    await deps.db
      .updateTable('stations')
      .set({ local_list_version: localListVersion })
      .where('id', '=', stationId)
      .execute();
  }
  return {
    ok: true,
    protocol,
    method: request.method,
    reply,
    accepted,
    ...(command === 'set-password' && input.password === undefined && accepted && { password }),
    ...(localListVersion !== undefined && accepted && { localListVersion }),
  };
}

function isAccepted(reply: unknown): boolean {
  const r = reply as { status?: string; setVariableResult?: { attributeStatus: string }[] };
  if (Array.isArray(r?.setVariableResult)) {
    return r.setVariableResult.length > 0 && r.setVariableResult.every((v) => v.attributeStatus === 'Accepted');
  }
  return r?.status === 'Accepted';
}

function fail(code: CommandError['code'], message: string): CommandOutcome {
  return { ok: false, error: { code, message } };
}
