/**
 * One normalized meter reading, whatever protocol version it came in: the cumulative energy register in exact
 * milliwatt-hours (Wh with three decimals), and instantaneous power, current and state of charge.
 */
export type MeterSample = {
  readonly at: Date;
  /** OCPP reading context: Sample.Periodic, Transaction.Begin, Transaction.End, Sample.Clock, Trigger, ... */
  readonly context: string;
  /** Energy.Active.Import.Register (total over phases), in milliwatt-hours: exact, never a float. */
  readonly energyRegisterMilliWh?: bigint;
  readonly powerW?: number;
  readonly currentA?: number;
  readonly socPercent?: number;
};

export const MILLI_WH_PER_WH = 1000n;
