/**
 * Remote commands in one version-neutral vocabulary, translated to the request of the station's protocol:
 *
 *   remote-start          RemoteStartTransaction (1.6)   RequestStartTransaction (2.0.1)
 *   remote-stop           RemoteStopTransaction          RequestStopTransaction
 *   reset                 Reset (Soft|Hard)              Reset (OnIdle|Immediate)
 *   change-availability   ChangeAvailability             ChangeAvailability
 *   unlock-connector      UnlockConnector                UnlockConnector
 *   trigger-message       TriggerMessage                 TriggerMessage
 *   get-configuration     GetConfiguration               GetVariables (keys "Component.Variable")
 *   change-configuration  ChangeConfiguration            SetVariables
 *   get-local-list-version GetLocalListVersion           GetLocalListVersion
 *
 * Pure: the input is checked here (typed error, never a guess), the request is validated once more against the
 * official schema by ocpp-rpc's strict mode when it is sent. send-local-list and set-password need the database
 * and live in run-command.ts.
 */
export const COMMAND_NAMES = [
  'remote-start',
  'remote-stop',
  'reset',
  'change-availability',
  'unlock-connector',
  'trigger-message',
  'get-configuration',
  'change-configuration',
  'get-local-list-version',
  'send-local-list',
  'set-password',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type OcppRequest = { readonly method: string; readonly params: Record<string, unknown> };
export type CommandInputError = { readonly code: 'InvalidCommandInput'; readonly message: string };
export type BuildResult = { ok: true; request: OcppRequest } | { ok: false; error: CommandInputError };

type Input = Record<string, unknown>;

const V201 = 'ocpp2.0.1';

export function buildCommand(protocol: string, command: CommandName, input: Input, remoteStartId = 1): BuildResult {
  const v201 = protocol === V201;
  try {
    switch (command) {
      case 'remote-start': {
        const evseId = positiveInt(input, 'evseId');
        const idTag = text(input, 'idTag', 36);
        return v201
          ? ok('RequestStartTransaction', { evseId, remoteStartId, idToken: { idToken: idTag, type: 'Central' } })
          : ok('RemoteStartTransaction', { connectorId: evseId, idTag: limit(idTag, 20, 'idTag') });
      }
      case 'remote-stop': {
        const transactionId = text(input, 'transactionId', 36);
        if (v201) return ok('RequestStopTransaction', { transactionId });
        if (!/^-?\d{1,10}$/.test(transactionId))
          throw new InputError('transactionId of an OCPP 1.6 station is an integer');
        return ok('RemoteStopTransaction', { transactionId: Number(transactionId) });
      }
      case 'reset': {
        const type = oneOf(input, 'type', ['Soft', 'Hard', 'OnIdle', 'Immediate'], 'Soft');
        if (v201) return ok('Reset', { type: type === 'Soft' || type === 'OnIdle' ? 'OnIdle' : 'Immediate' });
        return ok('Reset', { type: type === 'Soft' || type === 'OnIdle' ? 'Soft' : 'Hard' });
      }
      case 'change-availability': {
        const evseId = optionalInt(input, 'evseId') ?? 0;
        const operative = input.operative;
        if (typeof operative !== 'boolean') throw new InputError('operative must be true or false');
        const status = operative ? 'Operative' : 'Inoperative';
        return v201
          ? ok('ChangeAvailability', { operationalStatus: status, ...(evseId > 0 && { evse: { id: evseId } }) })
          : ok('ChangeAvailability', { connectorId: evseId, type: status });
      }
      case 'unlock-connector': {
        const evseId = positiveInt(input, 'evseId');
        return v201
          ? ok('UnlockConnector', { evseId, connectorId: optionalInt(input, 'connectorId') ?? 1 })
          : ok('UnlockConnector', { connectorId: evseId });
      }
      case 'trigger-message': {
        const requestedMessage = text(input, 'message', 64);
        const evseId = optionalInt(input, 'evseId');
        return v201
          ? ok('TriggerMessage', { requestedMessage, ...(evseId !== undefined && { evse: { id: evseId } }) })
          : ok('TriggerMessage', { requestedMessage, ...(evseId !== undefined && { connectorId: evseId }) });
      }
      case 'get-configuration': {
        const keys = input.keys === undefined ? [] : stringList(input, 'keys');
        if (!v201) return ok('GetConfiguration', keys.length > 0 ? { key: keys } : {});
        if (keys.length === 0)
          throw new InputError('keys: name at least one "Component.Variable" of an OCPP 2.0.1 station');
        return ok('GetVariables', { getVariableData: keys.map((key) => componentVariable(key)) });
      }
      case 'change-configuration': {
        const key = text(input, 'key', 100);
        const value = text(input, 'value', 1000, true);
        return v201
          ? ok('SetVariables', { setVariableData: [{ ...componentVariable(key), attributeValue: value }] })
          : ok('ChangeConfiguration', { key, value: limit(value, 500, 'value') });
      }
      case 'get-local-list-version':
        return ok('GetLocalListVersion', {});
      case 'send-local-list':
      case 'set-password':
        throw new InputError(`${command} is run by runCommand (it needs the station's records)`);
    }
  } catch (error) {
    if (error instanceof InputError)
      return { ok: false, error: { code: 'InvalidCommandInput', message: error.message } };
    throw error;
  }
}

/** "OCPPCommCtrlr.HeartbeatInterval" → component OCPPCommCtrlr, variable HeartbeatInterval. */
function componentVariable(key: string) {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) throw new InputError(`'${key}' is not "Component.Variable"`);
  return { component: { name: key.slice(0, dot) }, variable: { name: key.slice(dot + 1) } };
}

class InputError extends Error {}

function ok(method: string, params: Record<string, unknown>): BuildResult {
  return { ok: true, request: { method, params } };
}

function positiveInt(input: Input, name: string): number {
  const value = optionalInt(input, name);
  if (value === undefined || value < 1) throw new InputError(`${name} must be a positive integer`);
  return value;
}

function optionalInt(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new InputError(`${name} must be a non-negative integer`);
  }
  return value;
}

function text(input: Input, name: string, maxChars: number, allowEmpty = false): string {
  const value = input[name];
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) throw new InputError(`${name} is required`);
  return limit(value, maxChars, name);
}

function limit(value: string, maxChars: number, name: string): string {
  if (value.length > maxChars) throw new InputError(`${name} has at most ${maxChars} characters`);
  return value;
}

function oneOf<T extends string>(input: Input, name: string, values: readonly T[], fallback: T): T {
  const value = input[name] ?? fallback;
  if (!values.includes(value as T)) throw new InputError(`${name} is one of ${values.join(', ')}`);
  return value as T;
}

function stringList(input: Input, name: string): string[] {
  const value = input[name];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 100)) {
    throw new InputError(`${name} must be a list of names`);
  }
  if (value.length > 100) throw new InputError(`${name} has at most 100 entries`);
  return value as string[];
}
