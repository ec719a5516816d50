/**
 * The configuration keys a simulated station reports (GetConfiguration) and the one it lets the CSMS change
 * (ChangeConfiguration). Pure functions over the station's current values.
 */
import { MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR, TRANSACTION_RETRY_INTERVAL_MS } from './outbox.ts';

export interface ConfigurationKey {
  readonly key: string;
  readonly readonly: boolean;
  readonly value: string;
}

export interface ConfigurationState {
  readonly heartbeatIntervalS: number;
  readonly meterIntervalS: number;
}

export interface GetConfigurationResponse {
  readonly configurationKey: readonly ConfigurationKey[];
  readonly unknownKey: readonly string[];
}

export type ChangeConfigurationStatus = 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported';

/** Bounds of a HeartbeatInterval the CSMS may set, in seconds. */
export const MIN_HEARTBEAT_INTERVAL_S = 1;
export const MAX_HEARTBEAT_INTERVAL_S = 86_400;
/** GetConfiguration answers at most this many keys (OCPP's GetConfigurationMaxKeys). */
export const GET_CONFIGURATION_MAX_KEYS = 20;

const MEASURANDS = 'Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC';

export function configurationKeys(state: ConfigurationState): ConfigurationKey[] {
  return [
    { key: 'HeartbeatInterval', readonly: false, value: String(state.heartbeatIntervalS) },
    // The plan places every session's events on this interval, so the simulator cannot change it mid-run.
    { key: 'MeterValueSampleInterval', readonly: true, value: String(state.meterIntervalS) },
    { key: 'MeterValuesSampledData', readonly: true, value: MEASURANDS },
    { key: 'StopTxnSampledData', readonly: true, value: 'Energy.Active.Import.Register' },
    { key: 'NumberOfConnectors', readonly: true, value: '1' },
    { key: 'AuthorizeRemoteTxRequests', readonly: true, value: 'false' },
    { key: 'LocalAuthorizeOffline', readonly: true, value: 'true' },
    { key: 'AuthorizationCacheEnabled', readonly: true, value: 'true' },
    { key: 'TransactionMessageAttempts', readonly: true, value: String(MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR) },
    {
      key: 'TransactionMessageRetryInterval',
      readonly: true,
      value: String(Math.ceil(TRANSACTION_RETRY_INTERVAL_MS / 1000)),
    },
    { key: 'SupportedFeatureProfiles', readonly: true, value: 'Core,RemoteTrigger' },
    { key: 'GetConfigurationMaxKeys', readonly: true, value: String(GET_CONFIGURATION_MAX_KEYS) },
  ];
}

export function getConfiguration(
  state: ConfigurationState,
  requestedKeys: readonly string[] | undefined,
): GetConfigurationResponse {
  const all = configurationKeys(state);
  if (requestedKeys === undefined || requestedKeys.length === 0) return { configurationKey: all, unknownKey: [] };
  const known = new Map(all.map((entry) => [entry.key.toLowerCase(), entry]));
  const configurationKey: ConfigurationKey[] = [];
  const unknownKey: string[] = [];
  for (const key of requestedKeys.slice(0, GET_CONFIGURATION_MAX_KEYS)) {
    // OCPP 1.6 configuration keys are case-insensitive.
    const entry = known.get(key.toLowerCase());
    if (entry === undefined) unknownKey.push(key);
    else configurationKey.push(entry);
  }
  return { configurationKey, unknownKey };
}

/** Decides a ChangeConfiguration; `heartbeatIntervalS` is set when the new value is to be applied. */
export function changeConfiguration(
  state: ConfigurationState,
  key: string,
  value: string,
): { status: ChangeConfigurationStatus; heartbeatIntervalS?: number } {
  const entry = configurationKeys(state).find((candidate) => candidate.key.toLowerCase() === key.toLowerCase());
  if (entry === undefined) return { status: 'NotSupported' };
  if (entry.readonly) return { status: 'Rejected' };
  const intervalS = Number(value);
  if (!/^\d+$/.test(value.trim()) || intervalS < MIN_HEARTBEAT_INTERVAL_S || intervalS > MAX_HEARTBEAT_INTERVAL_S) {
    return { status: 'Rejected' };
  }
  return { status: 'Accepted', heartbeatIntervalS: intervalS };
}
