/**
 * Answers to the calls a CSMS makes to a station. Each answer is decided synchronously from the station's state;
 * whatever the answer promises (a session to start, a message to send) happens after the reply is on its way,
 * as real stations do.
 */
import { createRPCError, type RPCClient } from 'ocpp-rpc';
import type { ChangeConfigurationStatus, GetConfigurationResponse } from './station-configuration.ts';

export type TriggerableMessage =
  | 'BootNotification'
  | 'DiagnosticsStatusNotification'
  | 'FirmwareStatusNotification'
  | 'Heartbeat'
  | 'MeterValues'
  | 'StatusNotification';

/** What the handlers may ask of a station. */
export interface StationControl {
  remoteStart(idTag: string, connectorId: number | undefined): 'Accepted' | 'Rejected';
  /** May wait for the answer to a StartTransaction still in flight, to know the transaction's id. */
  remoteStop(transactionId: number): Promise<'Accepted' | 'Rejected'>;
  reset(type: 'Hard' | 'Soft'): 'Accepted' | 'Rejected';
  changeAvailability(connectorId: number, type: 'Inoperative' | 'Operative'): 'Accepted' | 'Rejected' | 'Scheduled';
  unlockConnector(connectorId: number): 'Unlocked' | 'UnlockFailed' | 'NotSupported';
  getConfiguration(keys: readonly string[] | undefined): GetConfigurationResponse;
  changeConfiguration(key: string, value: string): ChangeConfigurationStatus;
  trigger(message: TriggerableMessage, connectorId: number | undefined): 'Accepted' | 'Rejected' | 'NotImplemented';
  clearCache(): 'Accepted' | 'Rejected';
}

type Params = Record<string, unknown>;

/** Handlers by OCPP 1.6 action; ocpp-rpc has validated the params against the schema before they run. */
export function csmsCallHandlers(control: StationControl): Record<string, (params: Params) => unknown> {
  return {
    RemoteStartTransaction: (params) => ({
      status: control.remoteStart(String(params.idTag), optionalInteger(params.connectorId)),
    }),
    RemoteStopTransaction: async (params) => ({ status: await control.remoteStop(Number(params.transactionId)) }),
    Reset: (params) => ({ status: control.reset(params.type === 'Hard' ? 'Hard' : 'Soft') }),
    ChangeAvailability: (params) => ({
      status: control.changeAvailability(
        Number(params.connectorId),
        params.type === 'Inoperative' ? 'Inoperative' : 'Operative',
      ),
    }),
    UnlockConnector: (params) => ({ status: control.unlockConnector(Number(params.connectorId)) }),
    GetConfiguration: (params) =>
      control.getConfiguration(Array.isArray(params.key) ? params.key.map((key) => String(key)) : undefined),
    ChangeConfiguration: (params) => ({
      status: control.changeConfiguration(String(params.key), String(params.value)),
    }),
    TriggerMessage: (params) => ({
      status: control.trigger(params.requestedMessage as TriggerableMessage, optionalInteger(params.connectorId)),
    }),
    ClearCache: () => ({ status: control.clearCache() }),
    // The simulator knows no vendor extensions.
    DataTransfer: () => ({ status: 'UnknownVendorId' }),
  };
}

/** Registers the handlers on a client; any other action is answered with NotImplemented. */
export function registerCsmsHandlers(client: RPCClient, control: StationControl, onCall: () => void): void {
  for (const [method, handle] of Object.entries(csmsCallHandlers(control))) {
    client.handle(method, async ({ params }) => {
      onCall();
      return (await handle((params ?? {}) as Params)) as Record<string, unknown>;
    });
  }
  client.handle(async ({ method }) => {
    onCall();
    throw createRPCError('NotImplemented', `The simulator does not implement ${String(method)}`);
  });
}

function optionalInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
