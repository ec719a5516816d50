/**
 * The subset of OCPP 1.6J message shapes the simulator sends and receives. ocpp-rpc validates every message against
 * the official JSON schemas in strict mode; these types keep the builders honest at compile time.
 */
export type ChargePointStatus =
  | 'Available'
  | 'Preparing'
  | 'Charging'
  | 'SuspendedEVSE'
  | 'SuspendedEV'
  | 'Finishing'
  | 'Reserved'
  | 'Unavailable'
  | 'Faulted';

export type StopReason =
  | 'EmergencyStop'
  | 'EVDisconnected'
  | 'HardReset'
  | 'Local'
  | 'Other'
  | 'PowerLoss'
  | 'Reboot'
  | 'Remote'
  | 'SoftReset'
  | 'UnlockCommand'
  | 'DeAuthorized';

export type ReadingContext = 'Sample.Periodic' | 'Transaction.Begin' | 'Transaction.End' | 'Trigger' | 'Other';

export type AuthorizationStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';

export type RegistrationStatus = 'Accepted' | 'Pending' | 'Rejected';

export interface SampledValue {
  readonly value: string;
  readonly context: ReadingContext;
  readonly measurand: 'Energy.Active.Import.Register' | 'Power.Active.Import' | 'Current.Import' | 'SoC';
  readonly unit: 'Wh' | 'W' | 'A' | 'Percent';
  readonly location: 'Outlet' | 'EV';
}

export interface MeterValue {
  readonly timestamp: string;
  readonly sampledValue: readonly SampledValue[];
}

export interface BootNotificationRequest {
  readonly chargePointVendor: string;
  readonly chargePointModel: string;
  readonly chargePointSerialNumber: string;
  readonly firmwareVersion: string;
  readonly meterType: string;
  readonly meterSerialNumber: string;
}

export interface BootNotificationResponse {
  readonly status: RegistrationStatus;
  readonly currentTime: string;
  readonly interval: number;
}

export interface StatusNotificationRequest {
  readonly connectorId: number;
  readonly errorCode: 'NoError';
  readonly status: ChargePointStatus;
  readonly timestamp: string;
}

export interface IdTagInfo {
  readonly status: AuthorizationStatus;
  readonly expiryDate?: string;
  readonly parentIdTag?: string;
}

export interface AuthorizeRequest {
  readonly idTag: string;
}

export interface AuthorizeResponse {
  readonly idTagInfo: IdTagInfo;
}

export interface StartTransactionRequest {
  readonly connectorId: number;
  readonly idTag: string;
  readonly meterStart: number;
  readonly timestamp: string;
}

export interface StartTransactionResponse {
  readonly idTagInfo: IdTagInfo;
  readonly transactionId: number;
}

export interface MeterValuesRequest {
  readonly connectorId: number;
  readonly transactionId?: number;
  readonly meterValue: readonly MeterValue[];
}

export interface StopTransactionRequest {
  readonly transactionId: number;
  readonly idTag: string;
  readonly meterStop: number;
  readonly timestamp: string;
  readonly reason: StopReason;
  readonly transactionData: readonly MeterValue[];
}

export interface HeartbeatResponse {
  readonly currentTime: string;
}

/** The station-to-CSMS calls the simulator makes. */
export type OutgoingMethod =
  | 'BootNotification'
  | 'Heartbeat'
  | 'StatusNotification'
  | 'Authorize'
  | 'StartTransaction'
  | 'MeterValues'
  | 'StopTransaction'
  | 'DiagnosticsStatusNotification'
  | 'FirmwareStatusNotification';

/** The calls OCPP 1.6 says a station must deliver in order and retry until the CSMS has them. */
export const TRANSACTION_METHODS: ReadonlySet<OutgoingMethod> = new Set([
  'StartTransaction',
  'MeterValues',
  'StopTransaction',
]);
