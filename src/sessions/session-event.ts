/**
 * Version-neutral events of a charging session. The OCPP 1.6 and 2.0.1 adapters translate protocol messages into
 * these, so that sessions, metering, pricing and billing never know which protocol a station speaks.
 */
import type { MeterSample } from '../metering/meter-sample.ts';

/** What the vehicle is doing; decides TIME versus PARKING_TIME (docs/specs/tariffs.md). */
export type ChargingState = 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'EVConnected' | 'Idle';

export type TransactionStarted = {
  readonly kind: 'TransactionStarted';
  readonly stationId: string;
  readonly evseId: number;
  readonly connectorId: number;
  readonly idTag: string;
  readonly meterStartWh: bigint;
  readonly startedAt: Date;
  /** OCPP 2.0.1 stations name their own transactions; OCPP 1.6 ones get an id from Voltbill (undefined here). */
  readonly transactionId?: string;
  readonly reservationId?: number;
};

export type MeterSampled = {
  readonly kind: 'MeterSampled';
  readonly stationId: string;
  readonly transactionId: string;
  readonly samples: readonly MeterSample[];
};

export type ChargingStateChanged = {
  readonly kind: 'ChargingStateChanged';
  readonly stationId: string;
  readonly evseId: number;
  readonly state: ChargingState;
  readonly at: Date;
};

export type TransactionEnded = {
  readonly kind: 'TransactionEnded';
  readonly stationId: string;
  readonly transactionId: string;
  readonly meterStopWh: bigint;
  readonly endedAt: Date;
  readonly reason?: string;
  readonly idTag?: string;
  /** Readings the station sends with the end (OCPP 1.6 transactionData). */
  readonly samples: readonly MeterSample[];
};

export type SessionEvent = TransactionStarted | MeterSampled | ChargingStateChanged | TransactionEnded;
