/**
 * Builders of the OCPP 1.6J requests the simulated station sends. Pure: each takes the values it reports, with
 * their units in their names, and returns the message exactly as it goes on the wire.
 */
import type {
  BootNotificationRequest,
  ChargePointStatus,
  MeterValue,
  MeterValuesRequest,
  ReadingContext,
  SampledValue,
  StartTransactionRequest,
  StatusNotificationRequest,
  StopReason,
  StopTransactionRequest,
} from './ocpp16-types.ts';

export const CHARGE_POINT_VENDOR = 'Voltbill';
export const CHARGE_POINT_MODEL = 'Simulator';
export const SIMULATOR_FIRMWARE_VERSION = 'voltbill-sim-1.0';
export const METER_TYPE = 'Simulated AC meter';
/** The simulated station is three-phase AC at 230 V per phase; current is reported as the per-phase value. */
export const NOMINAL_PHASE_VOLTAGE_V = 230;
export const PHASE_COUNT = 3;
/** The one connector of a simulated station (OCPP 1.6 numbers connectors from 1; 0 is the station itself). */
export const CONNECTOR_ID = 1;

/** A reading of the connector's meter and the car at one simulated instant. */
export interface MeterReading {
  readonly atMs: number;
  /** The cumulative energy register, in whole Wh. */
  readonly registerWh: number;
  readonly powerW: number;
  /** The car's state of charge, whole percent; null when no car is connected. */
  readonly socPercent: number | null;
}

export function isoTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Current drawn per phase for a three-phase power, in A with one decimal. */
export function currentAFor(powerW: number): string {
  return (powerW / (NOMINAL_PHASE_VOLTAGE_V * PHASE_COUNT)).toFixed(1);
}

export function bootNotificationRequest(serialNumber: string): BootNotificationRequest {
  return {
    chargePointVendor: CHARGE_POINT_VENDOR,
    chargePointModel: CHARGE_POINT_MODEL,
    chargePointSerialNumber: serialNumber,
    firmwareVersion: SIMULATOR_FIRMWARE_VERSION,
    meterType: METER_TYPE,
    meterSerialNumber: `M-${serialNumber}`.slice(0, 25),
  };
}

export function statusNotificationRequest(
  connectorId: number,
  status: ChargePointStatus,
  atMs: number,
): StatusNotificationRequest {
  return { connectorId, errorCode: 'NoError', status, timestamp: isoTimestamp(atMs) };
}

export function startTransactionRequest(idTag: string, meterStartWh: number, atMs: number): StartTransactionRequest {
  return { connectorId: CONNECTOR_ID, idTag, meterStart: meterStartWh, timestamp: isoTimestamp(atMs) };
}

/** The four values every sample carries: energy register, power, current and the car's state of charge. */
export function meterValue(reading: MeterReading, context: ReadingContext): MeterValue {
  const sampledValue: SampledValue[] = [
    {
      value: String(reading.registerWh),
      context,
      measurand: 'Energy.Active.Import.Register',
      unit: 'Wh',
      location: 'Outlet',
    },
    { value: String(reading.powerW), context, measurand: 'Power.Active.Import', unit: 'W', location: 'Outlet' },
    { value: currentAFor(reading.powerW), context, measurand: 'Current.Import', unit: 'A', location: 'Outlet' },
  ];
  if (reading.socPercent !== null) {
    sampledValue.push({
      value: String(reading.socPercent),
      context,
      measurand: 'SoC',
      unit: 'Percent',
      location: 'EV',
    });
  }
  return { timestamp: isoTimestamp(reading.atMs), sampledValue };
}

export function meterValuesRequest(
  transactionId: number | null,
  reading: MeterReading,
  context: ReadingContext,
): MeterValuesRequest {
  return {
    connectorId: CONNECTOR_ID,
    ...(transactionId !== null && { transactionId }),
    meterValue: [meterValue(reading, context)],
  };
}

export interface StopTransactionInput {
  readonly transactionId: number;
  readonly idTag: string;
  readonly reason: StopReason;
  readonly begin: MeterReading;
  readonly end: MeterReading;
}

/** StopTransaction with the readings at the start and the end of the transaction as its transactionData. */
export function stopTransactionRequest(input: StopTransactionInput): StopTransactionRequest {
  return {
    transactionId: input.transactionId,
    idTag: input.idTag,
    meterStop: input.end.registerWh,
    timestamp: isoTimestamp(input.end.atMs),
    reason: input.reason,
    transactionData: [meterValue(input.begin, 'Transaction.Begin'), meterValue(input.end, 'Transaction.End')],
  };
}
